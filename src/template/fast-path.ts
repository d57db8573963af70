// Templates made only of text and plain lookups ("{{ step.data.items[0] }}", "hello {{ who }}") are most of
// what playbooks hold. Compiling them through nunjucks costs ~50 µs each (lexer, compiler, new Function),
// paid once per distinct string — 1,000 steps pay it thousands of times. These are evaluated directly,
// with the same lookup rules and errors as the rewritten nunjucks code (runtime.ts); anything else
// returns undefined and goes to nunjucks.
import { UndefinedError } from "./errors";
import { lookupVariable } from "./runtime";
import { member, toText } from "./values";

interface Lookup {
  readonly name: string;
  readonly keys: readonly (string | number)[];
  /** Error name of each prefix: "a.b", "a.b[0]". */
  readonly paths: readonly string[];
}

export interface FastTemplate {
  readonly native: boolean;
  render(vars: Record<string, unknown>, globals: Record<string, unknown>): unknown;
}

// Words the nunjucks lexer does not read as names (or Jinja reads as operators/constants).
const RESERVED = new Set("true false none null True False None not and or in is if else".split(" "));
const NAME = /^[A-Za-z_]\w*$/;
const LOOKUP = /^\s*([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[\d+\]|\['[^'\\]*'\]|\["[^"\\]*"\])*)\s*$/;
const SEGMENT = /\.([A-Za-z_]\w*)|\[(\d+)\]|\['([^'\\]*)'\]|\["([^"\\]*)"\]/g;

function parseLookup(inner: string): Lookup | undefined {
  const m = LOOKUP.exec(inner);
  if (!m || RESERVED.has(m[1]!)) return undefined;
  const name = m[1]!;
  const keys: (string | number)[] = [];
  const paths: string[] = [];
  let path = name;
  SEGMENT.lastIndex = 0;
  for (let s = SEGMENT.exec(m[2]!); s !== null; s = SEGMENT.exec(m[2]!)) {
    if (s[1] !== undefined && RESERVED.has(s[1])) return undefined;
    const key = s[2] !== undefined ? Number(s[2]) : (s[1] ?? s[3] ?? s[4])!;
    keys.push(key);
    path += typeof key === "string" && NAME.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    paths.push(path);
  }
  return { name, keys, paths };
}

function evaluate(l: Lookup, vars: Record<string, unknown>, globals: Record<string, unknown>): unknown {
  let v = lookupVariable(vars, globals, l.name);
  if (v === undefined) throw new UndefinedError(l.name);
  for (let i = 0; i < l.keys.length; i++) {
    if (v === null) throw new UndefinedError(l.paths[i]!, " (its object is null)");
    v = member(v, l.keys[i]);
    if (v === undefined) throw new UndefinedError(l.paths[i]!);
  }
  return v;
}

export function compileFast(src: string): FastTemplate | undefined {
  if (src.includes("{%") || src.includes("{#")) return undefined;
  const texts: string[] = [];
  const lookups: Lookup[] = [];
  let last = 0;
  for (let open = src.indexOf("{{"); open >= 0; open = src.indexOf("{{", last)) {
    const close = src.indexOf("}}", open + 2);
    if (close < 0) return undefined;
    const lookup = parseLookup(src.slice(open + 2, close));
    if (!lookup) return undefined;
    texts.push(src.slice(last, open));
    lookups.push(lookup);
    last = close + 2;
  }
  texts.push(src.slice(last));
  if (lookups.length === 0) return undefined;
  if (lookups.length === 1 && texts.every((t) => t.trim() === "")) {
    const only = lookups[0]!;
    return { native: true, render: (vars, globals) => evaluate(only, vars, globals) };
  }
  return {
    native: false,
    render(vars, globals) {
      let out = texts[0]!;
      for (let i = 0; i < lookups.length; i++)
        out += toText(evaluate(lookups[i]!, vars, globals)) + texts[i + 1]!;
      return out;
    },
  };
}
