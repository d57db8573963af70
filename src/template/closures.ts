// Expression-only templates ("{{ a | length }}", "{{ x == 'y' }}-{{ n + 1 }}") become a tree of closures
// over the rewritten AST instead of nunjucks-generated JS. V8 needs ~0.3 ms to compile and first-run each
// `new Function` a nunjucks template becomes, and a playbook holds thousands of distinct strings; the
// closures are built from a handful of shared, already-optimised functions. Each node evaluates exactly
// as nunjucks' compiler would emit it; statements ({% if %}, {% for %}, …) and rarer nodes go to nunjucks.
import nunjucks from "nunjucks";
import type { NjNode } from "./nunjucks";
import type { RenderContext } from "./runtime";
import { INTERNAL } from "./strict";

export type Eval = (c: RenderContext) => unknown;
type Fn = (...args: unknown[]) => unknown;
type Node = NjNode & Record<string, any>;

interface Env {
  getFilter(name: string): Fn;
  getTest(name: string): Fn;
}

const inOperator = (nunjucks as unknown as { lib: { inOperator(a: unknown, b: unknown): boolean } }).lib
  .inOperator;

class Unsupported extends Error {}

const BINARY: Record<string, (a: any, b: any) => unknown> = {
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Mod: (a, b) => a % b,
  FloorDiv: (a, b) => Math.floor(a / b),
  Pow: (a, b) => a ** b,
  In: (a, b) => inOperator(a, b),
};

const COMPARE: Record<string, (a: any, b: any) => boolean> = {
  "<": (a, b) => a < b,
  ">": (a, b) => a > b,
  "<=": (a, b) => a <= b,
  ">=": (a, b) => a >= b,
  "===": (a, b) => a === b,
  "!==": (a, b) => a !== b,
};

function all(nodes: Node[], env: Env): Eval[] {
  return nodes.map((n) => expr(n, env));
}

function values(evals: Eval[], c: RenderContext): unknown[] {
  const out = new Array<unknown>(evals.length);
  for (let i = 0; i < evals.length; i++) out[i] = evals[i]!(c);
  return out;
}

function expr(n: Node, env: Env): Eval {
  switch (n.typename) {
    case "Literal": {
      const v = n.value;
      return () => v;
    }
    case "Symbol": {
      const name = String(n.value);
      return (c) => c.lookup(name);
    }
    case "Group":
      if (n.children.length !== 1) throw new Unsupported();
      return expr(n.children[0], env);
    case "Array": {
      const items = all(n.children, env);
      return (c) => values(items, c);
    }
    case "Dict":
    case "KeywordArgs": {
      const pairs = (n.children as Node[]).map((p): [string, Eval] => {
        if (p.key.typename !== "Symbol" && typeof p.key.value !== "string") throw new Unsupported();
        return [String(p.key.value), expr(p.value, env)];
      });
      const keywords = n.typename === "KeywordArgs";
      return (c) => {
        const o: Record<string, unknown> = {};
        for (const [k, v] of pairs) o[k] = v(c);
        if (keywords) o.__keywords = true;
        return o;
      };
    }
    case "Filter": {
      const name = String(n.name.value);
      if (name === INTERNAL.native) throw new Unsupported();
      // Filters are all registered at start-up and the rewriter checked this one exists.
      const f = env.getFilter(name);
      const args = all(n.args.children, env);
      const [a, b, d] = args;
      switch (args.length) {
        case 1:
          return (c) => f.call(c, a!(c));
        case 2:
          return (c) => f.call(c, a!(c), b!(c));
        case 3:
          return (c) => f.call(c, a!(c), b!(c), d!(c));
        default:
          return (c) => f.apply(c, values(args, c));
      }
    }
    case "FunCall": {
      if (n.name.typename !== "Symbol") throw new Unsupported();
      const name = String(n.name.value);
      const args = all(n.args.children, env);
      return (c) => {
        const fn = c.lookup(name);
        // nunjucks' callWrap wording, so both paths report a missing function alike.
        if (!fn) throw new Error(`Unable to call \`${name}\`, which is undefined or falsey`);
        if (typeof fn !== "function") throw new Error(`Unable to call \`${name}\`, which is not a function`);
        return fn.apply(c, values(args, c));
      };
    }
    case "InlineIf": {
      const cond = expr(n.cond, env);
      const body = expr(n.body, env);
      const otherwise = n.else_ ? expr(n.else_, env) : () => "";
      return (c) => (cond(c) ? body(c) : otherwise(c));
    }
    case "Not": {
      const t = expr(n.target, env);
      return (c) => !t(c);
    }
    case "Neg": {
      const t = expr(n.target, env);
      return (c) => -(t(c) as number);
    }
    case "Pos": {
      const t = expr(n.target, env);
      return (c) => +(t(c) as number);
    }
    case "Is": {
      const right = n.right as Node;
      const test = right.typename === "FunCall" ? String(right.name.value) : String(right.value);
      const left = expr(n.left, env);
      const args = right.typename === "FunCall" ? all(right.args.children, env) : [];
      return (c) => env.getTest(test).call(c, left(c), ...values(args, c)) === true;
    }
    case "Compare": {
      const op = n.ops.length === 1 ? COMPARE[n.ops[0].type as string] : undefined;
      if (!op) throw new Unsupported();
      const a = expr(n.expr, env);
      const b = expr(n.ops[0].expr, env);
      return (c) => op(a(c), b(c));
    }
    default: {
      const op = BINARY[n.typename];
      if (!op) throw new Unsupported();
      const a = expr(n.left, env);
      const b = expr(n.right, env);
      return (c) => op(a(c), b(c));
    }
  }
}

/**
 * The render function of a rewritten template whose root holds only output, or undefined when it has
 * statements or nodes this module does not evaluate. `native` roots are `Output[native(expr)]`.
 */
export function compileClosures(root: Node, native: boolean, env: Env): Eval | undefined {
  try {
    if (native) {
      const call = root.children[0].children[0] as Node;
      return expr(call.args.children[0], env);
    }
    const parts: Eval[] = [];
    for (const out of root.children as Node[]) {
      if (out.typename !== "Output") return undefined;
      for (const child of out.children as Node[]) {
        const text = String(child.value ?? "");
        parts.push(child.typename === "TemplateData" ? () => text : expr(child, env));
      }
    }
    return (c) => {
      let s = "";
      for (const p of parts) s += p(c) as string;
      return s;
    };
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}
