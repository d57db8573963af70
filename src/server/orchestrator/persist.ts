// Writes one engine decision inside the open transaction: its events, its commands, the step
// and execution projections; starts sub-playbooks the server runs itself; and, when an
// execution that has a parent ends, reports to the parent's waiting command.
import { randomUUID } from "node:crypto";
import { flattenContext } from "../../engine/context";
import type { Command, Decision, EngineEvent, Envelope } from "../../engine/types";
import { newExecutionId } from "../../ids";
import { INFORMATIONAL } from "../../store/tx";
import type {
  EventRecord,
  ExecutionPatch,
  ExecutionStatus,
  NewCommand,
  NewEvent,
  StepResult,
  StoreTx,
} from "../../store/types";
import { childRequest, isServerRun } from "./children";
import { type Orchestrator, toNewEvent } from "./orchestrator";
import type { Claimer, HandedCommand, ReportClaim } from "./signal";
import type { Cached } from "./state-cache";

export interface AfterCommit {
  /** Commands were left PENDING: wake claimers here and, through NATS, elsewhere. */
  notify: boolean;
  /** Commands leased to waiting claimers in this transaction, delivered after the commit. */
  handoffs: { claimer: Claimer; commands: HandedCommand[] }[];
  /** Claims of the workers whose reports this transaction records: served first, in order. */
  reporters: ReportClaim[];
  /** Executions whose cached state this transaction changed. */
  touched: Set<string>;
  /** Executions whose lock this transaction holds. */
  locked: Set<string>;
  /** Executions that failed in this transaction (commands of theirs may still be out). */
  failed: string[];
}

/** What a new unit of work starts with: nothing to do after its commit yet. */
export function newAfterCommit(reporters: ReportClaim[], touched: string[] = []): AfterCommit {
  return { notify: false, handoffs: [], reporters, touched: new Set(touched), locked: new Set(), failed: [] };
}

const SERVER = "server";

/** What one decision writes, computed without I/O. */
export interface Plan {
  events: NewEvent[];
  steps: StepResult[];
  /** Worker commands first (some handed off, CLAIMED), then those the server runs. */
  rows: NewCommand[];
  serverCommands: Command[];
  /** Set when the decision ends the execution. */
  end?: { status: ExecutionStatus; result?: unknown; error?: unknown };
}

/**
 * Turns a decision into rows. New worker commands are leased to waiting claimers here (see
 * handOff): the caller must deliver `after.handoffs` after its commit, or [] on failure.
 */
export function plan(
  orch: Orchestrator,
  cached: Cached,
  decision: Decision,
  stepsBefore: number,
  after: AfterCommit,
): Plan {
  const state = cached.state;
  const id = state.executionId;
  const workerCommands = decision.commands.filter((c) => !isServerRun(c));
  const serverCommands = decision.commands.filter(isServerRun);
  const rows = [...workerCommands.map((c) => toRow(c)), ...serverCommands.map((c) => toRow(c, SERVER))];
  const claimed = handOff(orch, rows.slice(0, workerCommands.length), after);
  if (claimed.length < workerCommands.length) after.notify = true;
  const ended = decision.events.some((e) => ENDS.has(e.type));
  if (ended && state.status === "FAILED") after.failed.push(id);
  return {
    events: [...decision.events.map((e) => toNewEvent(id, e)), ...claimed],
    steps: stepRows(id, decision.events, state.steps.slice(stepsBefore)),
    rows,
    serverCommands,
    ...(ended
      ? {
          end: {
            status: state.status,
            ...(state.status === "COMPLETED"
              ? { result: state.result ?? null }
              : { error: state.error ?? null }),
          },
        }
      : {}),
  };
}

const ENDS = new Set(["workflow.completed", "workflow.failed", "execution.cancelled"]);

/** Writes one decision inside the open transaction; answers the events it logged. */
export async function persistDecision(
  orch: Orchestrator,
  tx: StoreTx,
  cached: Cached,
  decision: Decision,
  stepsBefore: number,
  after: AfterCommit,
): Promise<EventRecord[]> {
  const id = cached.state.executionId;
  after.touched.add(id);
  const p = plan(orch, cached, decision, stepsBefore, after);
  // The writes are independent: issue them together, so postgres.js pipelines them on the
  // transaction's connection instead of paying one round trip each.
  const writes: Promise<unknown>[] = [];
  let stored: EventRecord[] = [];
  if (p.events.length > 0) {
    writes.push(
      tx.appendEvents(p.events).then((rows) => {
        stored = rows;
        // The lock answers the last event the engine folds; claims and progress are not among them.
        const last = rows.findLast((e) => !INFORMATIONAL.includes(e.type));
        if (last) cached.lastEventId = last.event_id;
      }),
    );
  }
  for (const step of p.steps) writes.push(tx.recordStep(step));
  if (p.rows.length > 0) writes.push(tx.insertCommands(p.rows));
  await Promise.all(writes);
  for (const c of p.serverCommands) await startChild(orch, tx, cached, c, after);
  if (p.end) {
    await tx.updateExecution(id, { ...(p.end as ExecutionPatch), ended: true });
    const { state } = cached;
    await reportToParent(orch, tx, id, state.status === "COMPLETED", state.result, state.error, after);
  }
  return stored;
}

/**
 * Leases new commands to claimers waiting in this process (their rows go in CLAIMED), and
 * answers the `command.claimed` events to log with them. Delivery waits for the commit.
 */
function handOff(orch: Orchestrator, rows: NewCommand[], after: AfterCommit): NewEvent[] {
  if (rows.length === 0) return [];
  const leaseMs = orch.deps.leaseMs;
  const events: NewEvent[] = [];
  let next = 0;
  const grants: { claimer: Claimer; count: number }[] = [];
  let want = rows.length;
  for (const mine of after.reporters) {
    if (mine.pool !== "default" || mine.left === 0 || want === 0) continue;
    const n = Math.min(mine.left, want);
    mine.left -= n;
    want -= n;
    grants.push({ claimer: mine, count: n });
  }
  grants.push(...orch.deps.signal.take("default", want));
  for (const { claimer, count } of grants) {
    const commands: HandedCommand[] = [];
    const leaseUntil = new Date(Date.now() + leaseMs).toISOString();
    for (const row of rows.slice(next, next + count)) {
      const token = randomUUID();
      Object.assign(row, {
        status: "CLAIMED",
        worker_id: claimer.workerId,
        lease_token: token,
        lease_ms: leaseMs,
      });
      commands.push({
        command_id: row.command_id,
        attempt: row.attempt ?? 1,
        lease_token: token,
        lease_until: leaseUntil,
        payload: row.payload as object,
      });
      events.push({
        execution_id: row.execution_id,
        type: "command.claimed",
        step: row.step,
        command_id: row.command_id,
        attempt: row.attempt ?? 1,
        ...(row.iteration != null ? { iteration: row.iteration } : {}),
        payload: { worker_id: claimer.workerId },
      });
    }
    next += count;
    after.handoffs.push({ claimer, commands });
  }
  return events;
}

function toRow(c: Command, worker?: string): NewCommand {
  return {
    command_id: c.command_id,
    execution_id: c.execution_id,
    step: c.step,
    iteration: c.iteration ?? null,
    attempt: c.attempt,
    pool: "default",
    // Contexts are layered views (src/engine/context.ts); a stored command needs a plain copy.
    payload: { ...c, context: flattenContext(c.context) },
    ...(worker ? { status: "RUNNING" as const, worker_id: worker, lease_token: worker } : {}),
  };
}

function stepRows(
  id: string,
  events: EngineEvent[],
  timings: { step: string; status: string; duration_ms: number }[],
): StepResult[] {
  let i = 0;
  const rows: StepResult[] = [];
  for (const e of events) {
    if (e.type !== "step.exit" && e.type !== "step.skipped") continue;
    const timing = timings[i++];
    const result = (e.payload.result as Envelope | undefined) ?? { status: "skipped" };
    rows.push({
      execution_id: id,
      step: e.step!,
      iteration: -1,
      status: timing?.status ?? (result.status === "error" ? "FAILED" : "COMPLETED"),
      data: result.data,
      error: result.error,
      started_at: new Date(e.at - (timing?.duration_ms ?? 0)).toISOString(),
      ended_at: new Date(e.at).toISOString(),
    });
  }
  return rows;
}

async function startChild(orch: Orchestrator, tx: StoreTx, parent: Cached, cmd: Command, after: AfterCommit) {
  const req = await childRequest(tx, cmd);
  if ("error" in req) {
    const ev = terminalFor(cmd.command_id, false, undefined, req.error);
    await tx.finishCommand(cmd.command_id, SERVER, "FAILED");
    await orch.applyIncoming(tx, parent, ev, after);
    return;
  }
  const childId = newExecutionId();
  // With `wait: false` the child keeps its lineage but no parent command waits for it: the step
  // completes now, as a local run's does.
  const link = req.wait ? { parentCommandId: cmd.command_id } : {};
  await orch.startIn(tx, childId, { ...req, parentExecutionId: parent.state.executionId, ...link }, after);
  if (req.wait) return;
  await tx.finishCommand(cmd.command_id, SERVER, "COMPLETED");
  const started = { path: req.entry.path, status: "started", execution_id: childId };
  await orch.applyIncoming(tx, parent, terminalFor(cmd.command_id, true, started), after);
}

async function reportToParent(
  orch: Orchestrator,
  tx: StoreTx,
  childId: string,
  ok: boolean,
  result: unknown,
  error: string | undefined,
  after: AfterCommit,
): Promise<void> {
  const link = await tx.parentCommand(childId);
  if (!link) return;
  await orch.lock(tx, link.execution_id, after);
  if (!(await tx.finishCommand(link.command_id, SERVER, ok ? "COMPLETED" : "FAILED"))) return;
  const parent = await orch.load(tx, link.execution_id);
  const message = `sub-playbook execution ${childId} ${ok ? "completed" : `failed: ${error ?? ""}`}`;
  await orch.applyIncoming(tx, parent, terminalFor(link.command_id, ok, result, message), after);
}

function terminalFor(commandId: string, ok: boolean, data: unknown, message?: string): EngineEvent {
  const result: Envelope = ok
    ? { status: "ok", data }
    : { status: "error", error: { kind: "playbook", message: message ?? "sub-playbook failed" } };
  return {
    type: ok ? "command.completed" : "command.failed",
    command_id: commandId,
    attempt: 1,
    payload: { result, directive: ok ? "continue" : "fail" },
    at: Date.now(),
  };
}
