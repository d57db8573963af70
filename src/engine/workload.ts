// An execution's workload: the playbook's defaults with the request laid over them (SPEC §7:
// playbook workload ← --payload ← --set). Objects merge key by key at every depth, so
// `--set db.host=x` keeps the other `db` keys; anything else (lists too) is replaced.
type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

export function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

/** The playbook's `workload` defaults under the request's values. */
export function executionWorkload(defaults: Obj | undefined, request: Obj | undefined): Obj {
  return deepMerge(defaults ?? {}, request ?? {});
}
