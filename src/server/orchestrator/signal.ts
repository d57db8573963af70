// Connects the orchestrator with the workers long-polling POST /api/commands/claim in this
// process. Two ways work reaches them:
// - hand-off: a transaction that issues commands leases them straight to a waiting claimer
//   (inserted CLAIMED), and the claimer's answer goes out after the commit — no claim query, no
//   second wake-up, which is most of a sequential step's latency;
// - notify: commands left PENDING wake the claimers, which then claim from the table (the
//   timeout on their wait covers commits made by other server processes and the sweeper).

export interface HandedCommand {
  command_id: string;
  attempt: number;
  lease_token: string;
  lease_until: string;
  /** The command as the engine issued it (the claim answer's body). */
  payload: object;
}

export interface Claimer {
  readonly workerId: string;
  readonly pool: string;
  /** How many commands it takes at most. */
  readonly limit: number;
  /** Set by `take`: a transaction is leasing commands to it, and `deliver` will follow. */
  taken: boolean;
  /** Called after the commit with what was leased to it; an empty list means "look again". */
  deliver(commands: HandedCommand[]): void;
}

/**
 * The claim a worker's report batch carries ("and give me up to N commands"): the commands its
 * reports cause go to it first, in the same transaction, and travel back in the answer.
 */
export class ReportClaim implements Claimer {
  taken = true;
  readonly commands: HandedCommand[] = [];
  /** How many more it takes. */
  left: number;
  constructor(
    readonly workerId: string,
    readonly pool: string,
    readonly limit: number,
  ) {
    this.left = limit;
  }
  deliver(commands: HandedCommand[]): void {
    this.commands.push(...commands);
  }
}

export class WorkSignal {
  private waiters = new Set<() => void>();
  private claimers = new Map<string, Claimer[]>();
  /** Counts notifies: a claim that found a pool empty tells it apart from later commits. */
  private epoch = 0;
  /** Pools a claim found empty, with the epoch it started at. */
  private drained = new Map<string, number>();

  notify(): void {
    this.epoch++;
    const waiting = this.waiters;
    this.waiters = new Set();
    for (const w of waiting) w();
  }

  /**
   * Whether claimable commands of `pool` may exist that this process has not seen claimed: a
   * claim that starts waiting can skip its first look at the table when not.
   */
  mayHavePending(pool: string): boolean {
    return this.drained.get(pool) !== this.epoch;
  }

  /** Runs a claim query and remembers when it left the pool empty (fewer rows than `limit`). */
  async claim<T>(pool: string, limit: number, query: () => Promise<T[]>): Promise<T[]> {
    const epoch = this.epoch;
    const rows = await query();
    // A notify since the query began may have added commands its snapshot did not see.
    if (rows.length < limit && epoch === this.epoch) this.drained.set(pool, epoch);
    return rows;
  }

  /** Resolves on the next notify, after `ms`, or when `signal` aborts — whichever comes first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * Waits up to `ms` for work for one claimer: answers the commands handed to it, or [] after a
   * notify, the timeout or `stop` (then the caller claims from the table). Once a transaction
   * has taken the claimer, only its delivery ends the wait: the commands are leased to it.
   */
  awaitWork(
    req: { workerId: string; pool: string; limit: number },
    ms: number,
    stop: AbortSignal,
  ): Promise<HandedCommand[]> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (commands: HandedCommand[]) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.waiters.delete(wake);
        stop.removeEventListener("abort", wake);
        this.withdraw(claimer);
        resolve(commands);
      };
      const claimer: Claimer = { ...req, taken: false, deliver: finish };
      const wake = () => {
        if (!claimer.taken) finish([]);
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
      stop.addEventListener("abort", wake, { once: true });
      const list = this.claimers.get(req.pool);
      if (list) list.push(claimer);
      else this.claimers.set(req.pool, [claimer]);
    });
  }

  private withdraw(c: Claimer): void {
    const list = this.claimers.get(c.pool);
    const i = list?.indexOf(c) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    if (list?.length === 0) this.claimers.delete(c.pool);
  }

  /**
   * Takes claimers for up to `count` commands of `pool`, longest waiting first. The caller leases
   * the commands to them in its transaction and delivers after the commit (or delivers [] when
   * the transaction fails, so they look again).
   */
  take(pool: string, count: number): { claimer: Claimer; count: number }[] {
    const list = this.claimers.get(pool);
    const taken: { claimer: Claimer; count: number }[] = [];
    while (list && list.length > 0 && count > 0) {
      const claimer = list.shift()!;
      claimer.taken = true;
      const n = Math.min(count, claimer.limit);
      taken.push({ claimer, count: n });
      count -= n;
    }
    return taken;
  }
}
