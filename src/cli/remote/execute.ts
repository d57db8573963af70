// `noetl execute playbook PATH [--version V] [--set k=v]… [--payload …] [--wait]` and
// `noetl execute status ID [--follow]`: start an execution on the server, or look at one.
import { NoetlError } from "../../errors";
import { requestedWorkload } from "../args";
import { connect, printJson, type RemoteOptions, required, versionOption } from "./common";
import { followExecution } from "./follow";
import { type StatusOptions, statusCommand } from "./status";

export interface ExecuteOptions extends StatusOptions {
  version?: unknown;
  set?: string | string[];
  payload?: string;
  wait?: boolean;
}

const USAGE =
  "noetl execute playbook PATH [--version V] [--set k=v]… [--payload JSON|@file] [--wait], or noetl execute status ID";

export async function executeCommand(
  action: string | undefined,
  arg: string | undefined,
  opts: ExecuteOptions,
): Promise<number> {
  if (action === "status") return statusCommand(arg, opts);
  if (action !== "playbook")
    throw new NoetlError(
      "USAGE",
      `${action ? `unknown execute action "${action}"` : "missing execute action"}; usage: ${USAGE}`,
    );
  const path = required(arg, "the playbook's catalog path", USAGE);
  // Here PATH is already a catalog path, so only the explicit catalog:// form is unwrapped.
  const ref = path.startsWith("catalog://") ? parseCatalogRef(path) : { path, version: undefined };
  const version = versionOption(opts.version) ?? ref.version;
  const workload = await requestedWorkload(opts);
  return startExecution({ path: ref.path, version, workload }, opts);
}

/** Submits an execution, then either reports its id or (with wait) follows it like `noetl run`. */
export async function startExecution(
  req: { path: string; version?: number | "latest"; workload: Record<string, unknown> },
  opts: RemoteOptions & { wait?: boolean },
): Promise<number> {
  const client = connect(opts);
  const started = await client.execute(req);
  if (opts.wait) {
    // On stderr, so stdout holds exactly what a local run prints.
    process.stderr.write(
      `execution ${started.execution_id}: ${started.path} v${started.version} on ${client.baseUrl}\n`,
    );
    return followExecution(client, started.execution_id, opts);
  }
  if (opts.json) printJson(started);
  else
    process.stdout.write(
      `started execution ${started.execution_id} (${started.path} v${started.version}); follow it with: noetl status ${started.execution_id} --follow\n`,
    );
  return 0;
}

/**
 * `catalog://path@version` or `catalog/path` (SPEC §2) or a bare catalog path. Only the
 * `catalog://` form carries a version, since `@` is allowed inside catalog paths.
 */
export function parseCatalogRef(ref: string): { path: string; version?: number | "latest" } {
  if (ref.startsWith("catalog://")) {
    const rest = ref.slice("catalog://".length);
    const at = rest.lastIndexOf("@");
    if (at < 0) return { path: rest };
    return { path: rest.slice(0, at), version: versionOption(rest.slice(at + 1)) };
  }
  if (ref.startsWith("catalog/")) return { path: ref.slice("catalog/".length) };
  return { path: ref };
}

export function isCatalogRef(ref: string): boolean {
  return ref.startsWith("catalog://") || ref.startsWith("catalog/");
}
