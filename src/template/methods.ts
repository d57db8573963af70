// Python methods that playbooks written for Jinja2 call on values: `s.upper()`, `d.get('k', 0)`, `s.split(',')`.
import { replaceText } from "./filters";
import { bindArgs, isPlainObject, pyEquals, toText } from "./values";

type Method = (self: any, ...args: any[]) => unknown;

function strip(side: "both" | "left" | "right") {
  return (s: string, chars?: unknown): string => {
    if (chars === undefined || chars === null) {
      return side === "both" ? s.trim() : side === "left" ? s.trimStart() : s.trimEnd();
    }
    const set = new Set(toText(chars));
    let a = 0;
    let b = s.length;
    if (side !== "right") while (a < b && set.has(s[a]!)) a++;
    if (side !== "left") while (b > a && set.has(s[b - 1]!)) b--;
    return s.slice(a, b);
  };
}

/** str.split: no separator splits on runs of whitespace; maxsplit keeps the remainder whole. */
function split(s: string, sep?: unknown, maxsplit: unknown = -1): string[] {
  const max = Number(maxsplit);
  if (sep === undefined || sep === null) {
    const words = s.trim().split(/\s+/).filter(Boolean);
    if (max < 0 || words.length <= max) return words;
    const head = words.slice(0, max);
    let rest = s.trimStart();
    for (const w of head) rest = rest.slice(rest.indexOf(w) + w.length).trimStart();
    return [...head, rest];
  }
  const parts = s.split(toText(sep));
  if (max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(toText(sep))];
}

function affix(test: "startsWith" | "endsWith") {
  return (s: string, what: unknown): boolean =>
    Array.isArray(what) ? what.some((w) => s[test](toText(w))) : s[test](toText(what));
}

const stringMethods: Record<string, Method> = {
  upper: (s: string) => s.toUpperCase(),
  lower: (s: string) => s.toLowerCase(),
  strip: strip("both"),
  lstrip: strip("left"),
  rstrip: strip("right"),
  split,
  startswith: affix("startsWith"),
  endswith: affix("endsWith"),
  replace: (s: string, old: unknown, rep: unknown, count?: unknown) => replaceText(s, old, rep, count),
  title: (s: string) =>
    s.toLowerCase().replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_, p, c) => p + c.toUpperCase()),
  capitalize: (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  find: (s: string, sub: unknown) => s.indexOf(toText(sub)),
  count: (s: string, sub: unknown) => s.split(toText(sub)).length - 1,
  join: (s: string, items: unknown) => (Array.isArray(items) ? items.map(toText).join(s) : toText(items)),
  isdigit: (s: string) => /^\d+$/.test(s),
  format: (s: string, ...args: unknown[]) => {
    let i = 0;
    return s.replace(/\{(\d*)\}/g, (_, n: string) => toText(args[n === "" ? i++ : Number(n)]));
  },
};

const dictMethods: Record<string, Method> = {
  // d.get('k') is None when missing: that is how Jinja templates probe optional keys without `is defined`.
  get: (d: Record<string, unknown>, key: unknown, fallback: unknown = null) => {
    const k = toText(key);
    return Object.hasOwn(d, k) && d[k] !== undefined ? d[k] : fallback;
  },
  keys: (d: object) => Object.keys(d),
  values: (d: object) => Object.values(d),
  items: (d: object) => Object.entries(d),
};

const listMethods: Record<string, Method> = {
  count: (a: unknown[], x: unknown) => a.filter((y) => pyEquals(x, y)).length,
  index: (a: unknown[], x: unknown) => {
    const i = a.findIndex((y) => pyEquals(x, y));
    if (i < 0) throw new Error(`${toText(x)} is not in list`);
    return i;
  },
};

// Read-only JS methods stay callable on lists (`xs.includes(1)`); mutators do not, a template must not
// change the engine's data.
const JS_LIST_METHODS = new Set(["includes", "indexOf", "slice", "concat", "at", "join", "flat"]);

// Keyword names, so `s.split(',', maxsplit=1)` and `d.get('k', default=0)` bind like Python's.
const PARAMS: Record<string, string[]> = {
  split: ["sep", "maxsplit"],
  strip: ["chars"],
  lstrip: ["chars"],
  rstrip: ["chars"],
  replace: ["old", "new", "count"],
  get: ["key", "default"],
};

function methodsFor(obj: unknown): Record<string, Method> | undefined {
  if (typeof obj === "string") return stringMethods;
  if (Array.isArray(obj)) return listMethods;
  if (isPlainObject(obj)) return dictMethods;
  return undefined;
}

/** Call `obj.name(...args)`; `path` names the callee in errors. */
export function callMethod(obj: unknown, name: unknown, path: string, args: unknown[]): unknown {
  if (obj === undefined || obj === null) throw new Error(`cannot call "${path}": its object is ${obj}`);
  const key = toText(name);
  const py = methodsFor(obj);
  const m = py && Object.hasOwn(py, key) ? py[key] : undefined;
  if (m) return m(obj, ...bindArgs(path, args, PARAMS[key] ?? []));
  const o = obj as Record<string, unknown>;
  const fn = o[key];
  const allowed =
    typeof fn === "function" &&
    (Object.hasOwn(o, key) ||
      (typeof obj === "string" && Object.hasOwn(String.prototype, key)) ||
      (Array.isArray(obj) && JS_LIST_METHODS.has(key)));
  if (!allowed || key === "constructor") throw new Error(`"${path}" is not a method we can call`);
  return (fn as (...a: unknown[]) => unknown).apply(obj, args);
}
