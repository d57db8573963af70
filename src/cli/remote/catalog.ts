// `noetl catalog list [playbooks|credentials]` and `noetl catalog get PATH [--version V]`.
import { NoetlError } from "../../errors";
import { connect, printJson, type RemoteOptions, required, table, versionOption } from "./common";

export interface CatalogOptions extends RemoteOptions {
  version?: unknown;
}

const USAGE = "noetl catalog list [playbooks|credentials] | noetl catalog get PATH [--version V]";

export async function catalogCommand(
  action: string | undefined,
  arg: string | undefined,
  opts: CatalogOptions,
): Promise<number> {
  if (action === "list") return list(arg, opts);
  if (action === "get") return get(required(arg, "the catalog path", USAGE), opts);
  throw new NoetlError(
    "USAGE",
    `${action ? `unknown catalog action "${action}"` : "missing catalog action"}; usage: ${USAGE}`,
  );
}

async function list(what: string | undefined, opts: CatalogOptions): Promise<number> {
  const kind = (what ?? "playbooks").toLowerCase();
  const client = connect(opts);
  if (/^credentials?$/.test(kind)) {
    const items = await client.listCredentials();
    if (opts.json) printJson({ items });
    else if (items.length === 0) process.stdout.write("no credentials\n");
    else
      process.stdout.write(
        table(
          ["NAME", "TYPE"],
          items.map((c) => [c.name, c.type]),
        ),
      );
    return 0;
  }
  if (!/^playbooks?$/.test(kind))
    throw new NoetlError("USAGE", `catalog list shows playbooks or credentials, not "${what}"`);
  const items = await client.listCatalog({ kind: "Playbook" });
  if (opts.json) printJson({ items });
  else if (items.length === 0)
    process.stdout.write("no playbooks (register one: noetl register playbook --file F)\n");
  else
    process.stdout.write(
      table(
        ["PATH", "VERSION", "KIND", "DESCRIPTION"],
        items.map((e) => [e.path, String(e.version), e.kind, oneLine(e.description ?? "")]),
      ),
    );
  return 0;
}

async function get(path: string, opts: CatalogOptions): Promise<number> {
  const entry = await connect(opts).getCatalog(path, versionOption(opts.version));
  if (opts.json) printJson(entry);
  else process.stdout.write(entry.content.endsWith("\n") ? entry.content : `${entry.content}\n`);
  return 0;
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > 60 ? `${t.slice(0, 59)}…` : t;
}
