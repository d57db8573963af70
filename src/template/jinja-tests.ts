// Jinja tests (`x is …`, and the test names select/selectattr take) that nunjucks lacks or gets wrong.
import { isPlainObject, pyEquals } from "./values";

type Test = (value: unknown, ...args: unknown[]) => boolean;

const eq: Test = (a, b) => pyEquals(a, b);
const ne: Test = (a, b) => !pyEquals(a, b);
const gt: Test = (a, b) => (a as number) > (b as number);
const ge: Test = (a, b) => (a as number) >= (b as number);
const lt: Test = (a, b) => (a as number) < (b as number);
const le: Test = (a, b) => (a as number) <= (b as number);

function contains(container: unknown, item: unknown): boolean {
  if (typeof container === "string") return typeof item === "string" && container.includes(item);
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (container instanceof Set || container instanceof Map) return container.has(item);
  if (isPlainObject(container)) return Object.hasOwn(container, String(item));
  return false;
}

export const jinjaTests: Record<string, Test> = {
  defined: (v) => v !== undefined,
  undefined: (v) => v === undefined,
  none: (v) => v === null,
  // `x is none` parses as a null literal, which nunjucks looks up under the name "null".
  null: (v) => v === null,
  true: (v) => v === true,
  false: (v) => v === false,
  boolean: (v) => typeof v === "boolean",
  integer: (v) => typeof v === "number" && Number.isInteger(v),
  float: (v) => typeof v === "number" && !Number.isInteger(v),
  number: (v) => typeof v === "number",
  string: (v) => typeof v === "string",
  mapping: (v) => isPlainObject(v) || v instanceof Map,
  sequence: (v) => Array.isArray(v) || typeof v === "string",
  iterable: (v) => Array.isArray(v) || typeof v === "string" || v instanceof Set || v instanceof Map,
  in: (v, container) => contains(container, v),
  equalto: eq,
  eq,
  "==": eq,
  sameas: (a, b) => a === b,
  ne,
  "!=": ne,
  gt,
  greaterthan: gt,
  ">": gt,
  ge,
  ">=": ge,
  lt,
  lessthan: lt,
  "<": lt,
  le,
  "<=": le,
};
