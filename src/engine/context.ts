// The template context a step sees: workload (also as ctx and at top level), every finished
// step's result by name, the execution id and, inside a loop, the item and its position.
import type { Envelope, ExecutionState } from "./types";

export function stepContext(state: ExecutionState, extra?: Record<string, unknown>): Record<string, unknown> {
  return {
    ...state.vars,
    ...state.results,
    workload: state.vars,
    ctx: state.vars,
    execution_id: state.executionId,
    ...extra,
  };
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
  return { ...ctx, output, error: output.error };
}
