// The server's driver around the engine. Every change to an execution happens in one
// transaction under the execution's lock: append the incoming event, let the engine decide,
// append what it decided, insert the new commands, update the projections (step results,
// execution status) and queue the notifications. Workers are woken only after the commit.
import { decide, cancel as engineCancel, start as engineStart } from "../../engine/engine";
import type { CommandReport, Decision, EngineEvent } from "../../engine/types";
import { executionWorkload } from "../../engine/workload";
import { NoetlError } from "../../errors";
import { newExecutionId } from "../../ids";
import type { Playbook } from "../../playbook/schema";
import { leaseKey, reportKey } from "../../store/tx";
import type { CatalogEntry, EventRecord, Store, StoreTx } from "../../store/types";
import {
  decideReport,
  finishRequest,
  progressEvent,
  progressOutcome,
  TERMINAL,
  tryFastReport,
} from "./fast-report";
import { Lanes } from "./lanes";
import { type AfterCommit, newAfterCommit, persistDecision } from "./persist";
import type { ReportClaim, WorkSignal } from "./signal";
import { type Cached, rebuild, StateCache } from "./state-cache";

export interface OrchestratorDeps {
  store: Store;
  signal: WorkSignal;
  /** Called after a commit that left commands PENDING (the NATS wake-up publisher). */
  onPending?: () => void;
  /** Called after a cancellation committed, with every execution it cancelled (NATS notice to workers). */
  onCancelled?: (executionIds: string[]) => void;
  leaseMs: number;
}

export interface StartRequest {
  entry: CatalogEntry;
  workload: Record<string, unknown>;
  parentExecutionId?: string;
  parentCommandId?: string;
}

/** A worker's event as it arrives in a batch. */
export interface IncomingEvent {
  command_id: string;
  attempt: number;
  lease_token?: string;
  type: string;
  payload: Record<string, unknown>;
}

export type ReportOutcome = "accepted" | "duplicate" | "rejected";

interface LaneItem {
  events: IncomingEvent[];
  claim?: ReportClaim;
  outcomes: Map<IncomingEvent, ReportOutcome>;
}

export class Orchestrator {
  readonly cache = new StateCache();
  constructor(readonly deps: OrchestratorDeps) {}

  async start(req: StartRequest): Promise<{ execution_id: string; status: string }> {
    const id = newExecutionId();
    await this.unitOfWork(async (tx, after) => {
      await this.startIn(tx, id, req, after);
    });
    const cached = this.cache.get(id);
    return { execution_id: id, status: cached?.state.status ?? "RUNNING" };
  }

  /** Starts an execution inside an open transaction (also used for sub-playbooks). */
  async startIn(tx: StoreTx, id: string, req: StartRequest, after: AfterCommit): Promise<void> {
    const playbook = req.entry.doc as Playbook;
    const workload = executionWorkload(playbook.workload, req.workload);
    await tx.createExecution({
      execution_id: id,
      status: "RUNNING",
      catalog_id: req.entry.catalog_id,
      path: req.entry.path,
      version: req.entry.version,
      parent_execution_id: req.parentExecutionId ?? null,
      parent_command_id: req.parentCommandId ?? null,
      workload,
    });
    await this.lock(tx, id, after);
    const began = engineStart(playbook, {
      executionId: id,
      workload,
      at: Date.now(),
      parentExecutionId: req.parentExecutionId,
      path: req.entry.path,
    });
    const cached: Cached = { playbook, state: began.state, lastEventId: "0" };
    await this.apply(tx, cached, began, 0, after);
  }

  /**
   * Records a batch of worker events. With `claim`, the commands the reports cause are leased to
   * the reporting worker first (collected in `claim.commands`). Each execution's events go
   * through its lane: one write at a time per execution, and batches that arrive while one is
   * being written are merged into the next write.
   */
  async report(events: IncomingEvent[], claim?: ReportClaim): Promise<Map<IncomingEvent, ReportOutcome>> {
    const outcomes = new Map<IncomingEvent, ReportOutcome>();
    const byExecution = new Map<string, IncomingEvent[]>();
    for (const e of events) {
      const executionId = executionOf(e.command_id);
      const group = byExecution.get(executionId);
      if (group) group.push(e);
      else byExecution.set(executionId, [e]);
    }
    await Promise.all(
      [...byExecution].map(([executionId, group]) =>
        this.lanes.submit(executionId, { events: group, claim, outcomes }),
      ),
    );
    return outcomes;
  }

  private readonly lanes = new Lanes<LaneItem>((executionId, items) => this.recordMerged(executionId, items));

  /** One execution's events from one or more batches: one statement when possible. */
  private async recordMerged(executionId: string, items: LaneItem[]): Promise<void> {
    const events = items.flatMap((i) => i.events);
    const claims = [...new Set(items.flatMap((i) => (i.claim ? [i.claim] : [])))];
    const outcomes = new Map<IncomingEvent, ReportOutcome>();
    if (!(await tryFastReport(this, executionId, events, claims, outcomes))) {
      for (const item of items) {
        await this.unitOfWork(
          (tx, after) => this.recordGroup(tx, executionId, item.events, outcomes, after),
          item.claim,
        );
      }
    }
    for (const item of items) for (const e of item.events) item.outcomes.set(e, outcomes.get(e)!);
  }

  /**
   * One execution's share of a batch, in a constant number of round trips however many events
   * it holds: the lock and the lease checks together, then one decision for all the reports,
   * logged with the progress events in the order the worker sent them.
   */
  private async recordGroup(
    tx: StoreTx,
    executionId: string,
    group: IncomingEvent[],
    outcomes: Map<IncomingEvent, ReportOutcome>,
    after: AfterCommit,
  ): Promise<void> {
    const reports = group.filter((e) => TERMINAL.has(e.type));
    const [, finished] = await Promise.all([
      this.lock(tx, executionId, after),
      tx.finishCommands(reports.filter((e) => e.lease_token).map(finishRequest)),
    ]);
    // The common case is a live lease finishing its command. Only a refusal asks whether this
    // is a repeat of a report already applied (acknowledged) or a stale lease (refused).
    const live = new Set(
      reports.filter((e) => e.lease_token && finished.has(leaseKey(e.command_id, e.lease_token))),
    );
    const refused = reports.filter((e) => !live.has(e));
    if (refused.length > 0) {
      const logged = await tx.loggedReports(refused);
      for (const e of refused)
        outcomes.set(e, logged.has(reportKey(e.command_id, e.attempt, e.type)) ? "duplicate" : "rejected");
    }
    const cached = live.size > 0 ? await this.load(tx, executionId) : undefined;
    const stepsBefore = cached?.state.steps.length ?? 0;
    const decision: Decision = { events: [], commands: [] };
    const progress: IncomingEvent[] = [];
    for (const e of group) {
      if (!TERMINAL.has(e.type)) {
        progress.push(e);
        decision.events.push(progressEvent(e));
      } else if (cached && live.has(e)) {
        decideReport(cached, e, decision);
        outcomes.set(e, "accepted");
      }
    }
    const stored = cached
      ? await this.apply(tx, cached, decision, stepsBefore, after)
      : await tx.appendEvents(decision.events.map((e) => toNewEvent(executionId, e)));
    const logged = new Set(stored.map((r) => reportKey(r.command_id ?? "", r.attempt ?? 0, r.type)));
    for (const e of progress) outcomes.set(e, progressOutcome(e, logged));
  }

  /** Appends an incoming terminal event and applies the engine's decision. */
  async applyIncoming(tx: StoreTx, cached: Cached, ev: EngineEvent, after: AfterCommit): Promise<void> {
    const stepsBefore = cached.state.steps.length;
    const decision = decide(cached.playbook, cached.state, ev);
    // The report and what it caused go to the log in one insert.
    await this.apply(tx, cached, { ...decision, events: [ev, ...decision.events] }, stepsBefore, after);
  }

  /** Persists a decision (see persist.ts); answers the events it logged. */
  async apply(
    tx: StoreTx,
    cached: Cached,
    decision: Decision,
    stepsBefore: number,
    after: AfterCommit,
  ): Promise<EventRecord[]> {
    const stored = await persistDecision(this, tx, cached, decision, stepsBefore, after);
    this.cache.set(cached.state.executionId, cached);
    return stored;
  }

  async cancel(executionId: string, reason = "cancelled by request"): Promise<{ status: string }> {
    let status = "CANCELLED";
    const cancelled: string[] = [];
    await this.unitOfWork(async (tx, after) => {
      status = await this.cancelIn(tx, executionId, reason, after, cancelled);
    });
    if (cancelled.length > 0) this.deps.onCancelled?.(cancelled);
    return { status };
  }

  async cancelIn(
    tx: StoreTx,
    executionId: string,
    reason: string,
    after: AfterCommit,
    cancelled: string[] = [],
  ): Promise<string> {
    await this.lock(tx, executionId, after);
    const cached = await this.load(tx, executionId);
    const decision = engineCancel(cached.state, Date.now(), reason);
    await this.apply(tx, cached, decision, cached.state.steps.length, after);
    await tx.cancelCommands(executionId);
    if (decision.events.length > 0) cancelled.push(executionId);
    for (const child of await tx.runningChildren(executionId))
      await this.cancelIn(tx, child, `parent ${reason}`, after, cancelled);
    return cached.state.status;
  }

  /** Makes commands whose lease expired claimable again, attempt + 1. */
  async sweep(): Promise<number> {
    let n = 0;
    await this.unitOfWork(async (tx, after) => {
      const reissued = await tx.reissueExpired(500);
      n = reissued.length;
      for (const c of reissued) {
        await tx.appendEvents([
          {
            execution_id: c.execution_id,
            type: "command.issued",
            step: c.step,
            command_id: c.command_id,
            attempt: c.attempt,
            payload: { reissued: true, reason: "lease expired" },
          },
        ]);
        this.cache.delete(c.execution_id);
      }
      if (n > 0) after.notify = true;
    });
    return n;
  }

  /**
   * Takes the execution's lock for this transaction. A cached state that has not folded the
   * latest logged event (another server appended, or a transaction failed) is dropped here.
   */
  async lock(tx: StoreTx, executionId: string, after: AfterCommit): Promise<void> {
    if (after.locked.has(executionId)) return;
    const last = await tx.lockExecution(executionId);
    after.locked.add(executionId);
    const hit = this.cache.get(executionId);
    if (hit && hit.lastEventId !== (last ?? "0")) this.cache.delete(executionId);
  }

  /** The execution's state: cached, or refolded from the log. Call with its lock held. */
  async load(tx: StoreTx, executionId: string): Promise<Cached> {
    const hit = this.cache.get(executionId);
    if (hit) return hit;
    const row = await tx.executionSource(executionId);
    if (!row) throw new NoetlError("NOT_FOUND", `execution ${executionId} not found`);
    const cached = rebuild(executionId, row.doc as Playbook, await tx.allEvents(executionId));
    this.cache.set(executionId, cached);
    return cached;
  }

  async unitOfWork(
    fn: (tx: StoreTx, after: AfterCommit) => Promise<void>,
    reporter?: ReportClaim,
  ): Promise<void> {
    const after = newAfterCommit(reporter ? [reporter] : []);
    try {
      await this.deps.store.transaction((tx) => fn(tx, after));
    } catch (err) {
      // What was folded in memory may not have committed: forget it, the log will tell.
      for (const id of after.touched) this.cache.delete(id);
      this.undoHandoffs(after);
      throw err;
    }
    this.afterCommit(after);
  }

  /** Nothing was leased to the claimers handed work: they look again. */
  undoHandoffs(after: AfterCommit): void {
    for (const h of after.handoffs) {
      const mine = after.reporters.find((r) => r === h.claimer);
      if (mine) mine.left += h.commands.length;
      else h.claimer.deliver([]);
    }
  }

  /** Delivers hand-offs and wake-ups once the writes committed. */
  afterCommit(after: AfterCommit): void {
    for (const h of after.handoffs) h.claimer.deliver(h.commands);
    if (after.notify) {
      this.deps.signal.notify();
      this.deps.onPending?.();
    }
    for (const id of after.touched) this.cache.forgetFinished(id);
    if (after.failed.length > 0) void this.stopLeftovers(after.failed);
  }

  /**
   * A failed execution's commands still out (other branches, loop iterations) would run to their
   * end: cancel them, so their heartbeats are refused, and tell the workers to stop them now, as
   * a local run stops its other tools. Best effort: at worst they run to their end, as before.
   */
  private async stopLeftovers(ids: string[]): Promise<void> {
    try {
      await this.unitOfWork(async (tx, after) => {
        for (const id of ids) {
          await this.lock(tx, id, after);
          await tx.cancelCommands(id);
        }
      });
      this.deps.onCancelled?.(ids);
    } catch {
      // The commands finish or lose their lease on their own.
    }
  }
}

/** Command ids are `<execution_id>.<n>` (made by the engine), so a report names its execution. */
export function executionOf(commandId: string): string {
  const dot = commandId.lastIndexOf(".");
  return dot > 0 ? commandId.slice(0, dot) : commandId;
}

export function toNewEvent(executionId: string, ev: EngineEvent) {
  const iteration = (ev.payload as { iteration?: unknown }).iteration;
  return {
    execution_id: executionId,
    type: ev.type,
    step: ev.step,
    command_id: ev.command_id,
    attempt: ev.attempt,
    iteration: typeof iteration === "number" ? iteration : undefined,
    payload: ev.payload,
  };
}

export type { CommandReport };
