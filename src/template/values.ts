// Python/Jinja value semantics over plain JS data: truthiness, equality, ordering, text, attribute access.
import { nj } from "./nunjucks";

export type Dict = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Dict {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isSafeString(v: unknown): boolean {
  return v instanceof nj.runtime.SafeString;
}

/** Jinja truthiness: empty containers are false, unlike in JS. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return v !== 0 && !Number.isNaN(v);
    case "string":
      return v.length > 0;
    case "object":
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof Map || v instanceof Set) return v.size > 0;
      if (isSafeString(v)) return String(v).length > 0;
      if (isPlainObject(v)) {
        for (const _ in v) return true;
        return false;
      }
      return true;
    default:
      return true;
  }
}

/** How a value reads inside text: containers as JSON (not JS's "[object Object]"), null as "". */
export function toText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v) || isPlainObject(v)) {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Python `==`: deep for lists and dicts, no string/number coercion (JS `"1" == 1` is true, Jinja's is not). */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isSafeString(a)) a = String(a);
  if (isSafeString(b)) b = String(b);
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === "number" && tb === "boolean") || (ta === "boolean" && tb === "number"))
    return Number(a) === Number(b);
  if (ta !== "object" || tb !== "object" || a === null || b === null) return a === b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => pyEquals(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && pyEquals(a[k], b[k]));
  }
  return false;
}

/** Ordering for sort/min/max; strings compare case-insensitively unless asked (Jinja's default). */
export function compareValues(a: unknown, b: unknown, caseSensitive = false): number {
  if (!caseSensitive) {
    if (typeof a === "string") a = a.toLowerCase();
    if (typeof b === "string") b = b.toLowerCase();
  }
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

const OBJECT_PROTO = Object.prototype as unknown as Dict;

/**
 * `obj.key` / `obj[key]` as Jinja sees it: own data (plus inherited non-function data, so prototype-chained
 * contexts and getters work), negative indices on sequences, and nothing reachable from Object.prototype
 * (`x.constructor` is undefined, not a way out of the template).
 */
export function member(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return undefined;
  if (typeof obj === "string" || Array.isArray(obj)) {
    if (key === "length") return obj.length;
    let i =
      typeof key === "number" ? key : typeof key === "string" && /^-?\d+$/.test(key) ? Number(key) : NaN;
    if (!Number.isInteger(i)) return typeof obj === "string" ? undefined : own(obj, key);
    if (i < 0) i += obj.length;
    return obj[i];
  }
  if (typeof obj !== "object") return undefined;
  if (obj instanceof Map) return obj.get(key);
  return own(obj, key);
}

function own(obj: object, key: unknown): unknown {
  const k = String(key);
  const o = obj as Dict;
  if (Object.hasOwn(o, k)) return o[k];
  if (!(k in o) || k in OBJECT_PROTO) return undefined;
  const v = o[k];
  return typeof v === "function" ? undefined : v;
}

/** Jinja's attribute getter: "a.b.0" walks nested keys and indices. */
export function attrPath(obj: unknown, path: unknown): unknown {
  if (typeof path !== "string") return member(obj, path);
  if (!path.includes(".")) return member(obj, path);
  let v = obj;
  for (const part of path.split(".")) {
    v = member(v, part);
    if (v === undefined) return undefined;
  }
  return v;
}

export type Filter = (this: unknown, value: any, ...args: any[]) => unknown;

/** Wrap a filter so keyword arguments (`sort(attribute='x')`) bind by name like Jinja's. */
export function withParams(name: string, params: readonly string[], fn: Filter): Filter {
  return function (this: unknown, value: unknown, ...args: unknown[]) {
    return fn.call(this, value, ...bindArgs(name, args, params));
  };
}

/** The trailing `name=value` object nunjucks passes for keyword arguments. */
export function isKwargs(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && Object.hasOwn(v, "__keywords");
}

/**
 * Python-style parameter binding: positional args, then keyword args by name. `names` are the parameters
 * after the value. Unknown keywords are an error, as in Jinja.
 */
export function bindArgs(what: string, args: unknown[], names: readonly string[]): unknown[] {
  const last = args[args.length - 1];
  if (!isKwargs(last)) return args;
  const out = args.slice(0, -1);
  for (const [k, v] of Object.entries(last)) {
    if (k === "__keywords") continue;
    const i = names.indexOf(k);
    if (i < 0) throw new Error(`${what}() got an unexpected keyword argument "${k}"`);
    while (out.length < i) out.push(undefined);
    out[i] = v;
  }
  return out;
}

export function asArray(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return [...v];
  if (v instanceof Set || v instanceof Map) return [...v.keys()];
  if (isPlainObject(v)) return Object.keys(v);
  if (v === null || v === undefined) return [];
  throw new Error(`${what}: expected a list, got ${typeof v}`);
}
