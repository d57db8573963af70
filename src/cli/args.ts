// Turns --set k=v and --payload into a workload: YAML scalars, dotted keys, deep merge.
import { readFile } from "node:fs/promises";
import { CORE_SCHEMA, load as loadYaml } from "js-yaml";
import { deepMerge } from "../engine/workload";
import { NoetlError } from "../errors";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** The workload a command line asks for: `--payload` with every `--set` laid over it. */
export async function requestedWorkload(opts: { payload?: string; set?: unknown }): Promise<Obj> {
  return deepMerge(await parsePayload(opts.payload), parseSets(asList(opts.set)));
}

/** `a.b=3` → {a: {b: 3}}; the value is read as a YAML scalar or flow collection. */
export function parseSets(sets: string[]): Obj {
  let out: Obj = {};
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new NoetlError("USAGE", `--set expects key=value, got "${s}"`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    let value: unknown;
    try {
      value = raw === "" ? "" : loadYaml(raw, { schema: CORE_SCHEMA });
    } catch {
      value = raw;
    }
    const nested = key
      .split(".")
      .reverse()
      .reduce<unknown>((acc, part) => ({ [part]: acc }), value) as Obj;
    out = deepMerge(out, nested);
  }
  return out;
}

async function parsePayload(payload: string | undefined): Promise<Obj> {
  if (payload === undefined) return {};
  let text = payload;
  if (payload.startsWith("@")) {
    try {
      text = await readFile(payload.slice(1), "utf8");
    } catch {
      throw new NoetlError("USAGE", `--payload file ${payload.slice(1)} cannot be read`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new NoetlError("USAGE", `--payload is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObj(value)) throw new NoetlError("USAGE", "--payload must be a JSON object");
  return value;
}

/** cac gives a string for one occurrence and an array for several. */
export function asList(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}
