// The template context a step sees: workload (also as ctx and at top level), every finished
// step's result by name, the execution id and, inside a loop, the item and its position.
//
// Contexts are prototype chains, not copies: the bottom of every chain is one read-through view
// of the execution (its variables, its step results by name, workload/ctx/execution_id), and each
// step or iteration adds a thin layer on top. Copying every result for every step made a
// 1,000-step playbook quadratic. The view is a Proxy over the live state, so recording a result
// never mutates an object that serves as a prototype (which V8 makes expensive).
// `flattenContext` gives a plain copy where a context must cross a process or realm boundary.
import type { Envelope, ExecutionState } from "./types";

const SCOPE = Symbol("noetl.scope");
type Scoped = ExecutionState & { [SCOPE]?: Record<string, unknown> };
const hasOwn = Object.hasOwn;

function lookup(state: ExecutionState, key: string): unknown {
  if (hasOwn(state.results, key)) return state.results[key];
  switch (key) {
    case "workload":
    case "ctx":
      return state.vars;
    case "execution_id":
      return state.executionId;
    default:
      return hasOwn(state.vars, key) ? state.vars[key] : undefined;
  }
}

function scopeOf(state: ExecutionState): Record<string, unknown> {
  const s = state as Scoped;
  if (s[SCOPE]) return s[SCOPE];
  const view = new Proxy({} as Record<string, unknown>, {
    get: (_t, key) => (typeof key === "string" ? lookup(state, key) : undefined),
    has: (_t, key) => typeof key === "string" && lookup(state, key) !== undefined,
    ownKeys: () => [
      ...new Set([
        ...Object.keys(state.vars),
        ...Object.keys(state.results),
        "workload",
        "ctx",
        "execution_id",
      ]),
    ],
    getOwnPropertyDescriptor: (_t, key) => {
      const value = typeof key === "string" ? lookup(state, key) : undefined;
      return value === undefined
        ? undefined
        : { value, enumerable: true, configurable: true, writable: false };
    },
  });
  Object.defineProperty(s, SCOPE, { value: view, enumerable: false, configurable: true });
  return view;
}

export function stepContext(state: ExecutionState, extra?: Record<string, unknown>): Record<string, unknown> {
  const top = Object.create(scopeOf(state)) as Record<string, unknown>;
  return extra ? Object.assign(top, extra) : top;
}

export function layer(
  base: Record<string, unknown>,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return Object.assign(Object.create(base) as Record<string, unknown>, extra);
}

export function iterationContext(iterator: string, items: unknown[], index: number): Record<string, unknown> {
  const last = index === items.length - 1;
  return {
    [iterator]: items[index],
    iter: { _index: index, _first: index === 0, _last: last },
    loop: { index: index + 1, index0: index, first: index === 0, last, length: items.length },
  };
}

export function withOutput(ctx: Record<string, unknown>, output: Envelope): Record<string, unknown> {
  return layer(ctx, { output, error: output.error });
}

/** A plain object with every key visible through the chain (nearest layer wins). */
export function flattenContext(ctx: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in ctx) out[k] = ctx[k];
  return out;
}
