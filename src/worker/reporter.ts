// Sends command events to the server in batches: progress events wait up to FLUSH_MS to travel
// together, a terminal report leaves at once (the next step cannot start before it lands).
// Up to two batches are in flight: a report does not wait for the previous batch's answer
// (which often arrives just after the next command), while under load reports still gather
// into batches behind them. A command's events never overtake each other: while one of its
// events is in flight, the rest wait. A batch is retried until the server acknowledges it: a
// server restart delays reports, it never loses them. The only reports dropped are those the
// server refuses for a lost lease.
import type { Logger } from "../log";
import { pause } from "../pause";
import { type Api, ApiError, backoffMs, isLeaseLost, within } from "./client";

export interface WorkerEvent {
  command_id: string;
  attempt: number;
  lease_token: string;
  type: "command.started" | "call.done" | "call.error" | "command.completed" | "command.failed";
  payload: Record<string, unknown>;
  at: number;
}

const FLUSH_MS = 20;
/** The server takes at most 1,000 events per batch. */
const MAX_BATCH = 500;

/** Batches in flight at once. */
const MAX_IN_FLIGHT = 2;

/**
 * Lets a report batch ask for work: `reserve` answers how many commands to ask for (and holds
 * those slots), `settle` gets the answer's commands and frees what the answer did not fill.
 */
export interface ReportSlots {
  pool: string;
  reserve(): number;
  settle(reserved: number, answer: unknown): void;
}

export class Reporter {
  private queue: WorkerEvent[] = [];
  /** Terminal reports waiting in the queue: while there are any, nothing waits for the timer. */
  private terminals = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** Commands with events in a batch in flight: their later events wait for it. */
  private readonly busy = new Map<string, number>();
  private idle: Array<() => void> = [];
  /** Aborted to cut a retry pause short when the worker gives up waiting. */
  private readonly giveUp = new AbortController();

  constructor(
    private readonly api: Api,
    private readonly workerId: string,
    private readonly log: Logger,
    private readonly slots?: ReportSlots,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  push(event: WorkerEvent): void {
    this.queue.push(event);
    if (isTerminal(event)) this.terminals++;
    this.schedule();
  }

  /** Resolves once everything pushed so far is acknowledged (true), or after `ms` (false). */
  async drain(ms: number): Promise<boolean> {
    if (this.queue.length === 0 && this.inFlight === 0) return true;
    const done = new Promise<void>((resolve) => this.idle.push(resolve));
    this.flushNow();
    const ok = await within(done, ms);
    if (!ok) {
      this.giveUp.abort();
      this.log.error(`${this.queue.length} report(s) could not be delivered before exit`);
    }
    return ok;
  }

  private schedule(): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return; // a batch coming back picks new events up
    if (this.terminals > 0) this.flushNow();
    else
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.start();
      }, FLUSH_MS);
  }

  private flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // A microtask later, so events pushed in the same tick (started, call.done, completed) travel together.
    queueMicrotask(() => this.start());
  }

  private start(): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return;
    const batch: WorkerEvent[] = [];
    const rest: WorkerEvent[] = [];
    const held = new Set<string>();
    for (const e of this.queue) {
      const free = !this.busy.has(e.command_id) && !held.has(e.command_id);
      if (free && batch.length < MAX_BATCH) batch.push(e);
      else {
        rest.push(e);
        held.add(e.command_id);
      }
    }
    if (batch.length === 0) {
      if (this.queue.length === 0 && this.inFlight === 0) this.notifyIdle();
      return;
    }
    this.queue = rest;
    this.terminals -= batch.filter(isTerminal).length;
    for (const e of batch) this.busy.set(e.command_id, (this.busy.get(e.command_id) ?? 0) + 1);
    this.inFlight++;
    void this.deliver(batch).finally(() => {
      this.inFlight--;
      for (const e of batch) {
        const n = this.busy.get(e.command_id)! - 1;
        if (n === 0) this.busy.delete(e.command_id);
        else this.busy.set(e.command_id, n);
      }
      if (this.queue.length > 0 && !this.giveUp.signal.aborted) this.schedule();
      else if (this.inFlight === 0) this.notifyIdle();
    });
  }

  private notifyIdle(): void {
    const waiting = this.idle;
    this.idle = [];
    for (const w of waiting) w();
  }

  private async deliver(events: WorkerEvent[]): Promise<void> {
    for (let attempt = 0; !this.giveUp.signal.aborted; attempt++) {
      const want = this.slots?.reserve() ?? 0;
      const claim = want > 0 ? { claim: { pool: this.slots!.pool, limit: want } } : {};
      try {
        const answer = await this.api.call("POST", "/api/events/batch", {
          worker_id: this.workerId,
          events,
          ...claim,
        });
        this.slots?.settle(want, answer);
        return;
      } catch (err) {
        // A refusal still carries what the claim leased (the lease checks are per report).
        this.slots?.settle(want, err instanceof ApiError ? err.details : undefined);
        if (isLeaseLost(err)) {
          // The server applied the rest of the batch and refused these: another attempt owns them.
          this.log.warn("reports refused: the lease is no longer ours", {
            command_ids: err.details.command_ids,
          });
          return;
        }
        if (err instanceof ApiError && !err.retryable && err.status !== 401 && err.status !== 403) {
          // The server will refuse this batch forever; holding it would block every later report.
          this.log.error(`a report batch was refused and is dropped: ${err.message}`, {
            events: events.length,
          });
          return;
        }
        if (err instanceof ApiError) this.log.warn(`report batch failed, retrying: ${err.message}`);
        await pause(backoffMs(attempt, 50, 2000), this.giveUp.signal);
      }
    }
  }
}

function isTerminal(e: WorkerEvent): boolean {
  return e.type === "command.completed" || e.type === "command.failed";
}
