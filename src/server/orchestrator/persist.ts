// Writes one engine decision inside the open transaction: its events, its commands, the step
// and execution projections; starts sub-playbooks the server runs itself; and, when an
// execution that has a parent ends, reports to the parent's waiting command.
import { flattenContext } from "../../engine/context";
import type { Command, Decision, EngineEvent, Envelope } from "../../engine/types";
import { newExecutionId } from "../../ids";
import type { NewCommand, StoreTx } from "../../store/types";
import { childRequest, isServerRun } from "./children";
import { type Orchestrator, toNewEvent } from "./orchestrator";
import type { Cached } from "./state-cache";

export interface AfterCommit {
  /** Wake claimers in this process. */
  notify: boolean;
  /** Kick the outbox relay. */
  outbox: boolean;
  /** Executions whose cached state this transaction changed. */
  touched: Set<string>;
  /** Executions whose lock this transaction holds. */
  locked: Set<string>;
}

const SERVER = "server";

export async function persistDecision(
  orch: Orchestrator,
  tx: StoreTx,
  cached: Cached,
  decision: Decision,
  stepsBefore: number,
  after: AfterCommit,
): Promise<void> {
  const state = cached.state;
  const id = state.executionId;
  after.touched.add(id);
  // The writes are independent: issue them together, so postgres.js pipelines them on the
  // transaction's connection instead of paying one round trip each.
  const workerCommands = decision.commands.filter((c) => !isServerRun(c));
  const serverCommands = decision.commands.filter(isServerRun);
  const writes: Promise<unknown>[] = [];
  if (decision.events.length > 0) {
    writes.push(
      tx.appendEvents(decision.events.map((e) => toNewEvent(id, e))).then((stored) => {
        if (stored.length > 0) cached.lastEventId = stored.at(-1)!.event_id;
      }),
    );
  }
  writes.push(projectSteps(tx, id, decision.events, state.steps.slice(stepsBefore)));
  if (workerCommands.length + serverCommands.length > 0) {
    writes.push(
      tx.insertCommands([
        ...workerCommands.map((c) => toRow(c)),
        ...serverCommands.map((c) => toRow(c, SERVER)),
      ]),
    );
  }
  if (workerCommands.length > 0) {
    after.notify = true;
    if (orch.deps.useOutbox) {
      writes.push(
        tx.enqueueOutbox("noetl.commands.default", { execution_id: id, count: workerCommands.length }),
      );
      after.outbox = true;
    }
  }
  await Promise.all(writes);
  for (const c of serverCommands) await startChild(orch, tx, cached, c, after);

  const end = decision.events.find((e) =>
    ["workflow.completed", "workflow.failed", "execution.cancelled"].includes(e.type),
  );
  if (end) {
    await tx.updateExecution(id, {
      status: state.status,
      ...(state.status === "COMPLETED" ? { result: state.result ?? null } : { error: state.error ?? null }),
      ended: true,
    });
    await reportToParent(orch, tx, id, state.status === "COMPLETED", state.result, state.error, after);
  }
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

async function projectSteps(
  tx: StoreTx,
  id: string,
  events: EngineEvent[],
  timings: { step: string; status: string; duration_ms: number }[],
): Promise<void> {
  let i = 0;
  const writes: Promise<void>[] = [];
  for (const e of events) {
    if (e.type !== "step.exit" && e.type !== "step.skipped") continue;
    const timing = timings[i++];
    const result = (e.payload.result as Envelope | undefined) ?? { status: "skipped" };
    const ended = new Date(e.at);
    writes.push(
      tx.recordStep({
        execution_id: id,
        step: e.step!,
        iteration: -1,
        status: timing?.status ?? (result.status === "error" ? "FAILED" : "COMPLETED"),
        data: result.data,
        error: result.error,
        started_at: new Date(e.at - (timing?.duration_ms ?? 0)).toISOString(),
        ended_at: ended.toISOString(),
      }),
    );
  }
  await Promise.all(writes);
}

async function startChild(orch: Orchestrator, tx: StoreTx, parent: Cached, cmd: Command, after: AfterCommit) {
  const req = await childRequest(tx, cmd);
  if ("error" in req) {
    const ev = terminalFor(cmd.command_id, false, undefined, req.error);
    await tx.finishCommand(cmd.command_id, SERVER, "FAILED");
    await orch.applyIncoming(tx, parent, ev, after);
    return;
  }
  await orch.startIn(
    tx,
    newExecutionId(),
    { ...req, parentExecutionId: parent.state.executionId, parentCommandId: cmd.command_id },
    after,
  );
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
