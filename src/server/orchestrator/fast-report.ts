// The common case of a report batch in one statement: every report finishes a command under a
// live lease, and this process's cached state is the latest. The engine decides on the cached
// state first; noetl.apply_report (migration 002) then checks both assumptions under the
// execution's lock and writes everything, or writes nothing. Anything unusual — a repeated or
// refused report, state another server changed, a sub-playbook to start, a parent to tell —
// goes through the transactional path instead (orchestrator.recordGroup).
import { decide } from "../../engine/engine";
import type { Decision, EngineEvent } from "../../engine/types";
import { reportKey } from "../../store/tx";
import type { FinishRequest, ReportApply } from "../../store/types";
import { isServerRun } from "./children";
import type { IncomingEvent, Orchestrator, ReportOutcome } from "./orchestrator";
import { newAfterCommit, plan } from "./persist";
import type { ReportClaim } from "./signal";
import type { Cached } from "./state-cache";

/** A command's terminal report: the only events the engine decides on. */
export const TERMINAL = new Set(["command.completed", "command.failed"]);

/**
 * Tries the one-statement path for one execution's events; true when they were recorded (and
 * `outcomes` filled). False leaves nothing written and the cache entry dropped: the caller
 * records the events transactionally.
 */
export async function tryFastReport(
  orch: Orchestrator,
  executionId: string,
  events: IncomingEvent[],
  reporters: ReportClaim[],
  outcomes: Map<IncomingEvent, ReportOutcome>,
): Promise<boolean> {
  const cached = orch.cache.get(executionId);
  if (cached?.state.status !== "RUNNING") return false;
  const reports = events.filter((e) => TERMINAL.has(e.type));
  // Only reports for commands the state expects, each once, can be decided ahead of the checks.
  const seen = new Set<string>();
  for (const e of reports) {
    const known = cached.state.commands[e.command_id];
    if (!e.lease_token || !known || known.attempt !== e.attempt || seen.has(e.command_id)) return false;
    seen.add(e.command_id);
  }
  // While the write is in flight the entry holds decisions not yet committed: out of the cache,
  // anything else touching this execution (a cancel, the sweeper) refolds from the log instead.
  orch.cache.delete(executionId);
  const expectLast = cached.lastEventId;
  const stepsBefore = cached.state.steps.length;
  const decision: Decision = { events: [], commands: [] };
  for (const e of events) {
    // decide() folds into the cached state: from here on, failing means dropping it.
    if (TERMINAL.has(e.type)) decideReport(cached, e, decision);
    else decision.events.push(progressEvent(e));
  }
  if (decision.commands.some(isServerRun)) return false;
  const after = newAfterCommit(reporters, [executionId]);
  const p = plan(orch, cached, decision, stepsBefore, after);
  const apply: ReportApply = {
    execution_id: executionId,
    expect_last: expectLast,
    finish: reports.map(finishRequest),
    events: p.events.map(({ execution_id: _, ...e }) => e),
    steps: p.steps,
    commands: p.rows,
    ...(p.end ? { execution: p.end } : {}),
  };
  let applied = false;
  try {
    const r = await orch.deps.store.applyReport(apply);
    applied = r.applied;
    if (applied) {
      if (r.last) cached.lastEventId = r.last;
      for (const e of events)
        outcomes.set(e, TERMINAL.has(e.type) ? "accepted" : progressOutcome(e, r.logged));
    }
  } finally {
    if (!applied) orch.undoHandoffs(after);
  }
  if (!applied) return false;
  // An entry set meanwhile was refolded from the log: it is at least as new as this one.
  if (!orch.cache.get(executionId)) orch.cache.set(executionId, cached);
  orch.afterCommit(after);
  return true;
}

/** Folds one live terminal report into the state and adds it and what it caused to `decision`. */
export function decideReport(cached: Cached, e: IncomingEvent, decision: Decision): void {
  const command = cached.state.commands[e.command_id];
  const ev: EngineEvent = {
    type: e.type as EngineEvent["type"],
    step: (command && cached.state.runs[command.run]?.step) ?? stepOf(e),
    command_id: e.command_id,
    attempt: e.attempt,
    payload: e.payload,
    at: Date.now(),
  };
  const d = decide(cached.playbook, cached.state, ev);
  // Each report goes to the log before what it caused.
  decision.events.push(ev, ...d.events);
  decision.commands.push(...d.commands);
}

/** The lease check a terminal report carries (it must have a lease token). */
export function finishRequest(e: IncomingEvent): FinishRequest {
  return {
    command_id: e.command_id,
    lease_token: e.lease_token!,
    status: e.type === "command.completed" ? "COMPLETED" : "FAILED",
  };
}

/** A progress event's outcome, given the report keys of what was logged. */
export function progressOutcome(e: IncomingEvent, logged: Set<string>): ReportOutcome {
  // Tool calls repeat within one attempt (pipelines, retries): all are kept, none is a repeat.
  return e.type.startsWith("call.") || logged.has(reportKey(e.command_id, e.attempt, e.type))
    ? "accepted"
    : "duplicate";
}

/** A worker's progress event (started, tool calls) as it goes to the log; the engine ignores it. */
export function progressEvent(e: IncomingEvent): EngineEvent {
  // Tool calls are not deduplicated (command_id NULL); the command they belong to is in the payload.
  const isCall = e.type.startsWith("call.");
  return {
    type: e.type as EngineEvent["type"],
    step: stepOf(e),
    ...(isCall ? {} : { command_id: e.command_id }),
    attempt: e.attempt,
    payload: isCall ? { ...e.payload, command_id: e.command_id } : e.payload,
    at: Date.now(),
  };
}

function stepOf(e: IncomingEvent): string | undefined {
  const step = (e.payload as { step?: unknown }).step;
  return typeof step === "string" ? step : undefined;
}
