// Collection filters (map, select*, sort, sum, …) with Jinja2's signatures, keyword arguments and attribute paths.
import {
  asArray,
  attrPath,
  withParams as bound,
  compareValues,
  type Filter,
  isKwargs,
  isPlainObject,
  pyEquals,
  toText,
  truthy,
} from "./values";

type Fn = (...args: unknown[]) => unknown;
/** What nunjucks binds `this` to when it calls a filter: the render context, which knows the environment. */
interface FilterThis {
  env: { getFilter(name: string): Fn; getTest(name: string): Fn };
}

function mapping(value: unknown, what: string): Record<string, unknown> {
  if (isPlainObject(value)) return value;
  if (value instanceof Map) return Object.fromEntries(value);
  throw new Error(`${what}: expected a mapping, got ${Array.isArray(value) ? "list" : typeof value}`);
}

/** `select('test', arg)` / `selectattr('attr', 'test', arg)`: no test name means "is truthy". */
function testerFor(ctx: FilterThis, args: unknown[]): (v: unknown) => boolean {
  const [name, ...rest] = args;
  if (name === undefined) return truthy;
  const test = ctx.env.getTest(String(name));
  return (v) => test.call(ctx, v, ...rest) === true;
}

function selecting(keep: boolean, byAttr: boolean): Filter {
  return function (this: unknown, value: unknown, ...args: unknown[]) {
    const items = asArray(value, "select");
    const attr = byAttr ? args.shift() : undefined;
    const test = testerFor(this as FilterThis, args);
    return items.filter((item) => test(byAttr ? attrPath(item, attr) : item) === keep);
  };
}

function map(this: unknown, value: unknown, ...args: unknown[]): unknown[] {
  const items = asArray(value, "map");
  const last = args[args.length - 1];
  if (isKwargs(last) && Object.hasOwn(last, "attribute")) {
    const fallback = last.default;
    return items.map((item) => attrPath(item, last.attribute) ?? fallback);
  }
  const [name, ...rest] = args;
  if (typeof name !== "string") throw new Error("map: expected a filter name or attribute=");
  const filter = (this as FilterThis).env.getFilter(name);
  return items.map((item) => filter.call(this, item, ...rest));
}

function keyFn(attribute: unknown): (v: unknown) => unknown {
  return attribute === undefined || attribute === null ? (v) => v : (v) => attrPath(v, attribute);
}

function sort(value: unknown, reverse: unknown, caseSensitive: unknown, attribute: unknown): unknown[] {
  const key = keyFn(attribute);
  const sign = truthy(reverse) ? -1 : 1;
  return [...asArray(value, "sort")].sort(
    (a, b) => sign * compareValues(key(a), key(b), truthy(caseSensitive)),
  );
}

function extreme(which: "min" | "max"): Filter {
  return bound(which, ["case_sensitive", "attribute"], (value, caseSensitive, attribute) => {
    const items = asArray(value, which);
    const key = keyFn(attribute);
    const sign = which === "min" ? -1 : 1;
    let best: unknown;
    for (const item of items) {
      if (best === undefined || sign * compareValues(key(item), key(best), truthy(caseSensitive)) > 0)
        best = item;
    }
    return best;
  });
}

function unique(value: unknown, caseSensitive: unknown, attribute: unknown): unknown[] {
  const key = keyFn(attribute);
  const seen: unknown[] = [];
  const out: unknown[] = [];
  for (const item of asArray(value, "unique")) {
    let k = key(item);
    if (!truthy(caseSensitive) && typeof k === "string") k = k.toLowerCase();
    if (!seen.some((s) => pyEquals(s, k))) {
      seen.push(k);
      out.push(item);
    }
  }
  return out;
}

function sum(value: unknown, attribute: unknown, start: unknown = 0): unknown {
  const key = keyFn(attribute);
  return asArray(value, "sum").reduce((acc: any, item) => acc + (key(item) as any), start);
}

function dictsort(value: unknown, caseSensitive: unknown, by: unknown = "key", reverse: unknown = false) {
  const at = by === "value" ? 1 : 0;
  const sign = truthy(reverse) ? -1 : 1;
  return Object.entries(mapping(value, "dictsort")).sort(
    (a, b) => sign * compareValues(a[at], b[at], truthy(caseSensitive)),
  );
}

function batch(value: unknown, size: unknown, fillWith?: unknown): unknown[][] {
  const n = Number(size);
  if (!(n >= 1)) throw new Error("batch: size must be at least 1");
  const items = asArray(value, "batch");
  const out: unknown[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  const tail = out[out.length - 1];
  if (tail && fillWith !== undefined) while (tail.length < n) tail.push(fillWith);
  return out;
}

function join(value: unknown, sep: unknown = "", attribute?: unknown): string {
  const key = keyFn(attribute);
  return asArray(value, "join")
    .map((v) => toText(key(v)))
    .join(toText(sep));
}

export const listFilters: Record<string, Filter> = {
  keys: (v) => Object.keys(mapping(v, "keys")),
  values: (v) => Object.values(mapping(v, "values")),
  items: (v) => Object.entries(mapping(v, "items")),
  // Jinja's list() of a dict is its keys (nunjucks makes {key, value} objects).
  list: (v) => [...asArray(v, "list")],
  join: bound("join", ["d", "attribute"], join),
  map,
  select: selecting(true, false),
  reject: selecting(false, false),
  selectattr: selecting(true, true),
  rejectattr: selecting(false, true),
  sum: bound("sum", ["attribute", "start"], sum),
  min: extreme("min"),
  max: extreme("max"),
  unique: bound("unique", ["case_sensitive", "attribute"], unique),
  sort: bound("sort", ["reverse", "case_sensitive", "attribute"], sort),
  dictsort: bound("dictsort", ["case_sensitive", "by", "reverse"], dictsort),
  batch: bound("batch", ["linecount", "fill_with"], batch),
  attr: (obj, name) => attrPath(obj, name),
};
