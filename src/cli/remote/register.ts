// `noetl register playbook --file F | --dir D` and `noetl register credential --file F`:
// send local files to the server's catalog or credential store.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { load as loadYaml, YAMLException } from "js-yaml";
import type { RegisterResult } from "../../client";
import { NoetlError } from "../../errors";
import { connect, printJson, type RemoteOptions } from "./common";

export interface RegisterOptions extends RemoteOptions {
  file?: string;
  dir?: string;
}

const USAGE = "noetl register playbook --file F | --dir D, or noetl register credential --file F";

export async function registerCommand(kind: string | undefined, opts: RegisterOptions): Promise<number> {
  if (kind === "playbook") return registerPlaybooks(opts);
  if (kind === "credential") return registerCredential(opts);
  throw new NoetlError(
    "USAGE",
    `${kind ? `cannot register "${kind}"` : "say what to register"}; usage: ${USAGE}`,
  );
}

interface Problem {
  line?: number;
  col?: number;
  message: string;
}

async function registerPlaybooks(opts: RegisterOptions): Promise<number> {
  if ((opts.file === undefined) === (opts.dir === undefined))
    throw new NoetlError("USAGE", `give either --file or --dir; usage: ${USAGE}`);
  const files = opts.file !== undefined ? [String(opts.file)] : await yamlFiles(String(opts.dir));
  if (files.length === 0) throw new NoetlError("USAGE", `no *.yaml or *.yml files under ${opts.dir}`);
  const client = connect(opts);
  const registered: Array<RegisterResult & { file: string }> = [];
  const invalid: Array<{ file: string; problems: Array<Problem & { text: string }> }> = [];
  for (const file of files) {
    const content = await readText(file);
    try {
      const r = await client.registerPlaybook(content);
      registered.push({ file, ...r });
      if (!opts.json) process.stdout.write(`registered ${r.path}@${r.version}  ${file}\n`);
    } catch (err) {
      if (!(err instanceof NoetlError) || err.code !== "VALIDATION") throw err;
      // The server names the file "playbook.yaml"; the user knows it by its own name.
      const problems = problemsOf(err).map((p) => ({
        ...p,
        text: `${file}${p.line ? `:${p.line}:${p.col ?? 1}` : ""}: ${p.message}`,
      }));
      invalid.push({ file, problems });
      for (const p of problems) process.stderr.write(`${p.text}\n`);
    }
  }
  if (opts.json) printJson({ registered, invalid });
  if (invalid.length === 0) return 0;
  throw new NoetlError(
    "VALIDATION",
    invalid.length === 1 && files.length === 1
      ? `${invalid[0]!.file} is not a valid playbook; nothing was registered`
      : `${invalid.length} of ${files.length} files are not valid playbooks and were not registered`,
  );
}

function problemsOf(err: NoetlError): Problem[] {
  const details = err.details as { problems?: Problem[] } | undefined;
  if (Array.isArray(details?.problems) && details.problems.length > 0)
    return details.problems.map(({ line, col, message }) => ({ line, col, message }));
  return [{ message: err.message }];
}

async function registerCredential(opts: RegisterOptions): Promise<number> {
  if (opts.file === undefined || opts.dir !== undefined)
    throw new NoetlError("USAGE", "register credential takes one --file (YAML or JSON {name, type, data})");
  const file = String(opts.file);
  const text = await readText(file);
  let doc: unknown;
  try {
    doc = loadYaml(text);
  } catch (err) {
    // js-yaml's message quotes the offending line, which may hold the secret: position only.
    if (err instanceof YAMLException)
      throw new NoetlError(
        "VALIDATION",
        `${file}:${err.mark.line + 1}:${err.mark.column + 1}: ${err.reason || "invalid YAML"}`,
      );
    throw err;
  }
  const body = checkCredential(doc, file);
  const r = await connect(opts).registerCredential({
    name: body.name,
    type: body.type,
    data: body.data,
    ...(body.description !== undefined ? { description: body.description } : {}),
  });
  // Only the name and type: the data never leaves this process except to the server.
  if (opts.json) printJson(r);
  else process.stdout.write(`${r.created ? "registered" : "updated"} credential ${r.name} (${r.type})\n`);
  return 0;
}

type CredentialDoc = {
  name: string;
  type: string;
  data: Record<string, unknown> | string;
  description?: string;
};

// Checked here so the server never has to describe (and so echo) a wrong value.
function checkCredential(doc: unknown, file: string): CredentialDoc {
  const isObj = (x: unknown): x is Record<string, unknown> =>
    typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObj(doc))
    throw new NoetlError("VALIDATION", `${file} must be a mapping {name, type, data, description?}`);
  const problems = [
    typeof doc.name === "string" ? "" : "needs a name (a string)",
    typeof doc.type === "string" ? "" : "needs a type (a string, e.g. postgres)",
    isObj(doc.data) || (typeof doc.data === "string" && doc.data !== "")
      ? ""
      : "needs data (a mapping or a non-empty string)",
    doc.description === undefined || typeof doc.description === "string"
      ? ""
      : "has a non-string description",
    ...Object.keys(doc)
      .filter((k) => !["name", "type", "data", "description"].includes(k))
      .map((k) => `has an unknown key "${k}" (allowed: name, type, data, description)`),
  ].filter(Boolean);
  if (problems.length > 0) throw new NoetlError("VALIDATION", `${file} ${problems.join("; ")}`);
  return doc as CredentialDoc;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NoetlError(
      "USAGE",
      code === "ENOENT" ? `${file} does not exist` : `${file} cannot be read (${code ?? "error"})`,
    );
  }
}

/** Every *.yaml / *.yml under dir, recursively, in a stable order; hidden folders are skipped. */
async function yamlFiles(dir: string): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    throw new NoetlError("USAGE", `${dir} is not a readable directory`);
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, e.name);
    if (e.isDirectory() && !e.name.startsWith(".")) out.push(...(await yamlFiles(full)));
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(full);
  }
  return out;
}
