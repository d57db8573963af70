// Rewrites a parsed template before nunjucks compiles it, so the compiled code has Jinja2's semantics:
//  - every variable and attribute lookup is checked at run time ("x" is undefined), except the spine of a
//    `default` filter's value or an `is defined` / `is undefined` test, which may be undefined. Checks run
//    where the value is used, so `x.y if x is defined` and `x is defined and x.y` stay lazy;
//  - `a.b(...)` goes through our Python-method table; `True`/`False`/`None` are literals;
//  - conditions, `not`, `and`, `or` use Jinja truthiness; `==`/`!=` are Python's; `+` joins lists; `~` and
//    output print containers as JSON;
//  - unknown filters and tests are compile errors (nunjucks finds them only when rendering).
// Each rewrite turns a node into a call of one of the internal filters in `runtime.ts`.
import { filterCall, literal, makeNode, type NjNode, nj } from "./nunjucks";

export const INTERNAL = {
  variable: "__noetl_var",
  get: "__noetl_get",
  call: "__noetl_call",
  bool: "__noetl_bool",
  eq: "__noetl_eq",
  add: "__noetl_add",
  concat: "__noetl_concat",
  text: "__noetl_text",
  native: "__noetl_native",
} as const;

export interface Known {
  hasFilter(name: string): boolean;
  hasTest(name: string): boolean;
}

const GUARDING_FILTERS = new Set(["default", "d"]);
const GUARDING_TESTS = new Set(["defined", "undefined"]);
const CONSTANTS = new Map<string, unknown>([
  ["True", true],
  ["False", false],
  ["None", null],
]);

type Node = NjNode & Record<string, any>;

/** How a lookup reads in error messages: `a.b[0]`. */
export function describe(n: Node): string {
  switch (n.typename) {
    case "Symbol":
      return String(n.value);
    case "LookupVal": {
      const base = describe(n.target);
      const key = n.val as Node;
      if (key.typename !== "Literal") return `${base}[…]`;
      const v = key.value;
      return typeof v === "string" && /^[A-Za-z_]\w*$/.test(v)
        ? `${base}.${v}`
        : `${base}[${JSON.stringify(v)}]`;
    }
    case "FunCall":
      return `${describe(n.name)}()`;
    case "Group":
      return n.children.length === 1 ? describe(n.children[0]) : "(…)";
    default:
      return "(expression)";
  }
}

/** The expression of a template that is exactly `{{ expr }}`, whitespace around it allowed. */
function singleExpression(root: Node): Node | undefined {
  let found: Node | undefined;
  for (const out of root.children as Node[]) {
    if (out.typename !== "Output") return undefined;
    for (const c of out.children as Node[]) {
      if (c.typename === "TemplateData") {
        if (String(c.value).trim() !== "") return undefined;
      } else if (found) {
        return undefined;
      } else {
        found = c;
      }
    }
  }
  return found;
}

export class Rewriter {
  readonly problems: string[] = [];
  constructor(private readonly known: Known) {}

  /** Rewrites `root`; a single-expression template instead hands its value to the `native` filter. */
  rewriteRoot(root: Node): { root: NjNode; native: boolean } {
    const expr = singleExpression(root);
    if (!expr) return { root: this.walk(root), native: false };
    const call = filterCall(INTERNAL.native, expr, [this.walk(expr)]);
    const output = new nj.nodes.Output(expr.lineno, expr.colno, [call]);
    return { root: new nj.nodes.Root(0, 0, [output]), native: true };
  }

  private call(name: string, at: Node, ...args: NjNode[]): NjNode {
    return filterCall(name, at, args);
  }

  private truth(n: Node): NjNode {
    return this.call(INTERNAL.bool, n, n);
  }

  walk(n: Node, guarded = false): Node {
    switch (n.typename) {
      case "Symbol": {
        const name = String(n.value);
        if (CONSTANTS.has(name)) return literal(CONSTANTS.get(name), n);
        return guarded ? n : this.call(INTERNAL.variable, n, n, literal(name, n));
      }
      case "LookupVal": {
        const path = describe(n);
        const target = this.walk(n.target, guarded);
        return this.call(INTERNAL.get, n, target, this.walk(n.val), literal(path, n), literal(guarded, n));
      }
      case "Group":
        // Kept as a node: it is what parenthesises the compiled JS.
        if (n.children.length === 1) {
          n.children[0] = this.walk(n.children[0], guarded);
          return n;
        }
        return this.children(n);
      case "FunCall":
        return this.funCall(n);
      case "Filter": {
        const name = String(n.name.value);
        if (!this.known.hasFilter(name)) this.problems.push(`unknown filter "${name}"`);
        const guard = GUARDING_FILTERS.has(name);
        n.args.children = n.args.children.map((c: Node, i: number) => this.walk(c, guard && i === 0));
        return n;
      }
      case "Is": {
        const right = n.right as Node;
        const test = right.typename === "FunCall" ? String(right.name.value) : String(right.value);
        if (!this.known.hasTest(test)) this.problems.push(`unknown test "${test}"`);
        if (right.typename === "FunCall")
          right.args.children = right.args.children.map((c: Node) => this.walk(c));
        n.left = this.walk(n.left, GUARDING_TESTS.has(test));
        return n;
      }
      case "Not":
        n.target = this.truth(this.walk(n.target));
        return n;
      case "And":
      case "Or": {
        // Jinja returns an operand, chosen by Jinja truthiness: `a and b` is a when a is falsy, else b.
        const left = this.walk(n.left);
        const right = this.walk(n.right);
        const [then, otherwise] = n.typename === "And" ? [right, left] : [left, right];
        return makeNode("InlineIf", n, this.truth(left), then, otherwise) as Node;
      }
      case "If":
      case "IfAsync":
      case "InlineIf":
        n.cond = this.truth(this.walk(n.cond));
        n.body = this.walk(n.body);
        if (n.else_) n.else_ = this.walk(n.else_);
        return n;
      case "Compare":
        return this.compare(n);
      case "Add":
        return this.call(INTERNAL.add, n, this.walk(n.left), this.walk(n.right)) as Node;
      case "Concat":
        return this.call(INTERNAL.concat, n, this.walk(n.left), this.walk(n.right)) as Node;
      case "Output":
        n.children = n.children.map((c: Node) =>
          c.typename === "TemplateData" ? c : this.call(INTERNAL.text, c, this.walk(c)),
        );
        return n;
      case "Pair":
        // Dict keys and keyword-argument names are names, not lookups.
        if (n.key.typename !== "Symbol") n.key = this.walk(n.key);
        n.value = this.walk(n.value);
        return n;
      case "For":
      case "AsyncEach":
      case "AsyncAll":
        return this.fields(n, ["arr", "body", "else_"]);
      case "Set":
        if (n.value) n.value = this.walk(n.value);
        if (n.body) n.body = this.walk(n.body);
        return n;
      case "Macro":
      case "Caller":
        return this.fields(n, ["body"]);
      case "Import":
      case "FromImport":
      case "Super":
      case "CallExtension":
      case "CallExtensionAsync":
        return n;
      default:
        return this.children(n);
    }
  }

  private funCall(n: Node): Node {
    const callee = n.name as Node;
    const args = n.args.children.map((c: Node) => this.walk(c));
    if (callee.typename === "LookupVal") {
      const path = describe(callee);
      const argList = makeNode("Array", n, args);
      const target = this.walk(callee.target);
      return this.call(INTERNAL.call, n, target, this.walk(callee.val), literal(path, n), argList) as Node;
    }
    // A bare name is a function (range, dict, a macro): nunjucks reports a missing one itself.
    if (callee.typename !== "Symbol") n.name = this.walk(callee);
    n.args.children = args;
    return n;
  }

  private compare(n: Node): Node {
    const ops = n.ops as Node[];
    const op = ops[0];
    if (ops.length === 1 && op && (op.type === "==" || op.type === "!=")) {
      const eq = this.call(INTERNAL.eq, n, this.walk(n.expr), this.walk(op.expr));
      return (op.type === "==" ? eq : makeNode("Not", n, eq)) as Node;
    }
    n.expr = this.walk(n.expr);
    for (const o of ops) o.expr = this.walk(o.expr);
    return n;
  }

  private fields(n: Node, names: string[]): Node {
    for (const f of names) if (n[f]) n[f] = this.walk(n[f]);
    return n;
  }

  private children(n: Node): Node {
    if (Array.isArray(n.children)) {
      n.children = n.children.map((c: Node) => this.walk(c));
      return n;
    }
    for (const f of n.fields) {
      const v = n[f];
      if (v instanceof nj.nodes.Node) n[f] = this.walk(v as Node);
    }
    return n;
  }
}
