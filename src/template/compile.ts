// Template source → compiled render function, cached per source string; and running one against a context.

import { compileClosures } from "./closures";
import { env, globals, hasFilter, hasTest, parserOptions } from "./environment";
import { compileFast } from "./fast-path";
import { nj, njRuntime, type RootRenderFunc } from "./nunjucks";
import { RenderContext } from "./runtime";
import { Rewriter } from "./strict";

export interface Compiled {
  /** The template is one `{{ expression }}`: rendering yields its value, not text. */
  readonly native: boolean;
  /** How it is evaluated (tests check each path is taken, and that they agree). */
  readonly via: "lookups" | "closures" | "nunjucks";
  /** The expression's value for a native template, else the text. Throws what the template threw. */
  render(vars: Record<string, unknown>): unknown;
}

export interface CompileFailure {
  readonly error: string;
}

export type CompileResult = Compiled | CompileFailure;

const CACHE_LIMIT = 10_000;
// Two generations approximate LRU without touching the Map on every hit: entries used since the last
// rotation survive it, the rest are dropped with the old generation.
let young = new Map<string, CompileResult>();
let old = new Map<string, CompileResult>();

export function compileTemplate(src: string): CompileResult {
  let hit = young.get(src);
  if (hit !== undefined) return hit;
  hit = old.get(src) ?? build(src);
  young.set(src, hit);
  if (young.size >= CACHE_LIMIT / 2) {
    old = young;
    young = new Map();
  }
  return hit;
}

/** Compiled templates held; at most CACHE_LIMIT. */
export function templateCacheSize(): number {
  return young.size + old.size;
}

function build(src: string): CompileResult {
  const fast = compileFast(src);
  if (fast) return { native: fast.native, via: "lookups", render: (vars) => fast.render(vars, globals) };
  return compileWithNunjucks(src, true);
}

/**
 * Parse and rewrite with nunjucks; evaluate as closures when `closures` and the template allows, else
 * through nunjucks' generated code. Uncached and never the fast path, so tests can compare all three.
 */
export function compileWithNunjucks(src: string, closures: boolean): CompileResult {
  try {
    const rewriter = new Rewriter({ hasFilter, hasTest });
    const { root, native } = rewriter.rewriteRoot(nj.parser.parse(src, [], parserOptions));
    if (rewriter.problems.length > 0) return { error: rewriter.problems.join("; ") };
    const evaluate = closures ? compileClosures(root, native, env as never) : undefined;
    if (evaluate) {
      return { native, via: "closures", render: (vars) => evaluate(new RenderContext(env, vars, globals)) };
    }
    const compiler = new nj.compiler.Compiler("template", false);
    compiler.compile(root);
    // Same evaluation nunjucks does for a template it compiles itself.
    const props = new Function(compiler.getCode())() as { root: RootRenderFunc };
    return { native, via: "nunjucks", render: (vars) => runRoot(props.root, native, vars) };
  } catch (err) {
    return { error: describeFailure(err) };
  }
}

/** A nunjucks error's message with its position, and without nunjucks' "(unknown path)" decoration. */
export function describeFailure(err: unknown): string {
  const e = err as { message?: unknown; lineno?: unknown; colno?: unknown; cause?: unknown };
  const cause = e.cause instanceof Error ? e.cause : undefined;
  const message = String(cause?.message ?? e.message ?? err);
  return typeof e.lineno === "number" && e.lineno > 0
    ? `${message} (line ${e.lineno}, column ${e.colno})`
    : message;
}

function runRoot(root: RootRenderFunc, native: boolean, vars: Record<string, unknown>): unknown {
  const context = new RenderContext(env, vars, globals);
  const frame = new nj.runtime.Frame();
  frame.topLevel = true;
  let text: string | undefined;
  let failure: unknown;
  root(env, context, frame, njRuntime, (err, out) => {
    if (err) failure = err;
    else text = out;
  });
  if (failure !== undefined) throw failure;
  return native ? context.native : text;
}
