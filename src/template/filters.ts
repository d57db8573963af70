// Scalar and text filters with Jinja2's behaviour where nunjucks lacks them or differs (each note says how).
import { listFilters } from "./filters-lists";
import {
  asArray,
  type Filter,
  isPlainObject,
  isSafeString,
  withParams as jinja,
  toText,
  truthy,
} from "./values";

// Jinja's htmlsafe_json_dumps: the JSON stays valid but can sit inside HTML, or a quoted SQL/shell string.
const JSON_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "'": "\\u0027",
};

function tojson(value: unknown, indent?: unknown): string {
  const text = JSON.stringify(value, null, typeof indent === "number" ? indent : undefined) ?? "null";
  return text.replace(/[<>&']/g, (c) => JSON_ESCAPES[c]!);
}

function fromjson(value: unknown): unknown {
  // Data that was already parsed upstream passes through: playbooks often apply fromjson defensively.
  if (typeof value !== "string" && !isSafeString(value)) return value;
  try {
    return JSON.parse(String(value));
  } catch (err) {
    throw new Error(`fromjson: invalid JSON (${(err as Error).message})`);
  }
}

function toInt(value: unknown, fallback: unknown = 0, base: unknown = 10): unknown {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : fallback;
  const s = toText(value).trim().replace(/_/g, "");
  const b = Number(base);
  if (b === 10) {
    // Jinja falls back to int(float(s)), so "3.7" is 3.
    if (/^[-+]?\d+$/.test(s)) return Number.parseInt(s, 10);
    const f = Number(s);
    return s !== "" && Number.isFinite(f) ? Math.trunc(f) : fallback;
  }
  const digits = s.replace(/^([-+]?)0[xob]/i, "$1");
  const n = Number.parseInt(digits, b);
  return Number.isNaN(n) ? fallback : n;
}

function toFloat(value: unknown, fallback: unknown = 0): unknown {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return value;
  const s = toText(value).trim();
  const f = Number(s);
  return s !== "" && !Number.isNaN(f) ? f : fallback;
}

/** Ansible's `bool`: yes/on/1/true (any case) are true, everything else false. */
function toBool(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value === 1;
  return ["true", "yes", "on", "1", "y", "t"].includes(toText(value).trim().toLowerCase());
}

function trim(value: unknown, chars?: unknown): string {
  const s = toText(value);
  if (chars === undefined || chars === null) return s.trim();
  const set = new Set(toText(chars));
  let a = 0;
  let b = s.length;
  while (a < b && set.has(s[a]!)) a++;
  while (b > a && set.has(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** Python's str.replace: literal, all occurrences unless `count` (nunjucks treats some inputs as regexes). */
export function replaceText(value: unknown, old: unknown, replacement: unknown, count?: unknown): string {
  const s = toText(value);
  const parts = s.split(toText(old));
  const n = typeof count === "number" && count >= 0 ? count : parts.length;
  const rep = toText(replacement);
  if (n >= parts.length - 1) return parts.join(rep);
  return parts.slice(0, n + 1).join(rep) + toText(old) + parts.slice(n + 1).join(toText(old));
}

function round(value: unknown, precision: unknown = 0, method: unknown = "common"): number {
  const f = 10 ** Number(precision);
  const v = Number(value) * f;
  if (method === "ceil") return Math.ceil(v) / f;
  if (method === "floor") return Math.floor(v) / f;
  // Half away from zero; JS Math.round would take -2.5 to -2.
  return (Math.sign(v) * Math.round(Math.abs(v))) / f;
}

function urlencode(value: unknown): string {
  const quote = (s: unknown, forQuery: boolean) => {
    const e = encodeURIComponent(toText(s));
    return forQuery ? e.replace(/%20/g, "+") : e.replace(/%2F/g, "/");
  };
  if (typeof value === "string" || isSafeString(value)) return quote(value, false);
  const pairs = isPlainObject(value)
    ? Object.entries(value)
    : (asArray(value, "urlencode") as [unknown, unknown][]);
  return pairs.map(([k, v]) => `${quote(k, true)}=${quote(v, true)}`).join("&");
}

function b64encode(value: unknown): string {
  return Buffer.from(toText(value), "utf8").toString("base64");
}

function b64decode(value: unknown): string {
  return Buffer.from(toText(value), "base64").toString("utf8");
}

function defaultFilter(value: unknown, fallback: unknown = "", boolean: unknown = false): unknown {
  // Jinja: only undefined is replaced (null stays), or any falsy value (by Jinja truthiness) with boolean=true.
  if (boolean) return truthy(value) ? value : fallback;
  return value === undefined ? fallback : value;
}

function length(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === "string" || Array.isArray(value)) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size;
  if (typeof value === "object")
    return isSafeString(value) ? String(value).length : Object.keys(value).length;
  throw new Error(`length: object of type ${typeof value} has no length`);
}

function firstOrLast(which: "first" | "last") {
  return (value: unknown): unknown => {
    const items = asArray(value, which);
    return which === "first" ? items[0] : items[items.length - 1];
  };
}

const scalarFilters: Record<string, Filter> = {
  default: jinja("default", ["default_value", "boolean"], defaultFilter),
  tojson: jinja("tojson", ["indent"], tojson),
  fromjson,
  b64encode,
  b64decode,
  int: jinja("int", ["default", "base"], toInt),
  float: jinja("float", ["default"], toFloat),
  string: toText,
  bool: toBool,
  lower: (v) => toText(v).toLowerCase(),
  upper: (v) => toText(v).toUpperCase(),
  trim: jinja("trim", ["chars"], trim),
  length,
  first: firstOrLast("first"),
  last: firstOrLast("last"),
  replace: jinja("replace", ["old", "new", "count"], replaceText),
  round: jinja("round", ["precision", "method"], round),
  abs: (v) => Math.abs(Number(v)),
  urlencode,
};

/** Every filter we add or override, aliases included; the rest of nunjucks' built-ins stay as they are. */
export const jinjaFilters: Record<string, Filter> = {
  ...scalarFilters,
  ...listFilters,
  d: scalarFilters.default!,
  count: length,
  to_json: scalarFilters.tojson!,
  from_json: fromjson,
};
