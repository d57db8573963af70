// Tool policy: after each tool call, the first rule whose `when` holds says what happens next.
// Pure: the executor calls it and carries out the answer (wait and retry, stop, jump...).
import type { PolicyRule } from "../playbook/schema";
import { evaluateCondition } from "../template";
import { layer } from "./context";
import type { Envelope } from "./types";

export interface PolicyAnswer {
  do: "continue" | "retry" | "jump" | "break" | "fail";
  /** Milliseconds to wait before the retry. */
  delayMs?: number;
  to?: string;
  /** Unrendered `then.set` of the matching rule. */
  set?: Record<string, unknown>;
}

/** Seconds before a retry when a rule gives no `delay`. */
export const DEFAULT_RETRY_DELAY_S = 1;

export function evaluatePolicy(
  rules: readonly PolicyRule[] | undefined,
  output: Envelope & Record<string, unknown>,
  ctx: Record<string, unknown>,
  attempt: number,
  where: { step: string },
): PolicyAnswer {
  const fallback: PolicyAnswer = { do: output.status === "error" ? "fail" : "continue" };
  if (!rules) return fallback;
  const ruleCtx = layer(ctx, { output, error: output.error });
  for (const [i, rule] of rules.entries()) {
    if (!evaluateCondition(rule.when, ruleCtx, { step: where.step, field: `policy.rules[${i}].when` }))
      continue;
    const then = rule.then;
    if (then.do !== "retry") return { do: then.do, to: then.to, set: then.set };
    const attempts = then.attempts ?? 3;
    if (attempt < attempts) return { do: "retry", delayMs: retryDelayMs(then, attempt), set: then.set };
    return { ...fallback, set: then.set };
  }
  return fallback;
}

function retryDelayMs(then: PolicyRule["then"], attempt: number): number {
  const base = (then.delay ?? DEFAULT_RETRY_DELAY_S) * 1000;
  const factor =
    then.backoff === "linear" ? attempt : then.backoff === "exponential" ? 2 ** (attempt - 1) : 1;
  const delay = base * factor;
  return then.max_delay === undefined ? delay : Math.min(delay, then.max_delay * 1000);
}
