// The worker process (SPEC §9, docs/PROTOCOL.md): claims commands from the server, runs them
// with the shared executor, reports back. It talks only to the server's HTTP API (and to NATS
// for wake-ups); the database is the server's alone.
//
// One claim loop keeps up to `concurrency` commands running: it long-polls the claim route for
// as many commands as it has free slots, so a step issued by the server reaches an idle worker
// as soon as the server commits it. NATS wake-ups cut a retry pause short. On stop: claiming
// ends, running commands get the grace period, what is left is abandoned unreported (its lease
// expires and the server re-issues it), and the reports are flushed.
import { hostname } from "node:os";
import type { Config } from "../config/config";
import type { Logger } from "../log";
import { type Api, ApiError, backoffMs, createApi, Unreachable, within } from "./client";
import { Reporter } from "./reporter";
import { closeTools, type Running, startCommand } from "./runner";
import { type Claimed, parseClaim } from "./schema";
import { startWakeups, type Wakeups } from "./wake";

export interface WorkerOptions {
  signal: AbortSignal;
  log: Logger;
  /** First part of the worker id `<name>-<host>-<pid>`; default "worker". */
  name?: string;
  env?: Record<string, string | undefined>;
  baseDir?: string;
}

/** How long one claim waits on the server for work before asking again. */
const LONG_POLL_MS = 20_000;
const HEARTBEAT_MS = 5_000;
/** The server leases at most this many commands per claim. */
const MAX_CLAIM = 64;
/** Commands that run this long or less on average are leased ahead (see `waiting`)… */
const SHORT_MS = 25;
/** …up to this many times the concurrency. */
const PREFETCH = 2;

export async function runWorker(config: Config, opts: WorkerOptions): Promise<number> {
  const { log } = opts;
  const { concurrency, pool, graceMs } = config.worker;
  const host = hostname();
  const workerId = `${opts.name ?? "worker"}-${host}-${process.pid}`;
  const api = await createApi(config.serverUrl, config.apiToken, log);
  const running = new Map<string, Running & { since: number }>();
  // Leased commands waiting for a slot. Short commands spend more time travelling than running:
  // while they are short, the worker leases up to PREFETCH × `concurrency` more than it runs, so the next
  // ones are at hand when a slot frees (prefetch, as in Celery or pg-boss's batchSize). Long
  // ones get no buffer: it would hold work another worker could start.
  const waiting: { cmd: Claimed; at: number }[] = [];
  const pace = new Pace();
  // Slots held by requests that may bring commands: the long-poll claim, and report batches
  // that ask for work (the answer to a report carries the next commands: one request per step).
  let polling = 0;
  let reserved = 0;
  const free = () =>
    concurrency +
    (pace.short ? PREFETCH * concurrency : 0) -
    running.size -
    waiting.length -
    polling -
    reserved;
  const reporter = new Reporter(api, workerId, log, {
    pool,
    reserve() {
      const n = opts.signal.aborted ? 0 : Math.max(0, Math.min(MAX_CLAIM, free()));
      reserved += n;
      return n;
    },
    settle(n, answer) {
      reserved -= n;
      // An answer without a list (an error, an older server) leased nothing.
      if (n > 0 && Array.isArray((answer as { commands?: unknown } | undefined)?.commands)) take(answer);
      nudge();
    },
  });
  const deps = {
    api,
    reporter,
    workerId,
    log,
    leaseMs: config.leaseMs,
    env: opts.env ?? process.env,
    baseDir: opts.baseDir ?? process.cwd(),
    onSettled: (cmd: Claimed) => {
      const r = running.get(key(cmd));
      if (r) pace.add(performance.now() - r.since);
      running.delete(key(cmd));
      queueMicrotask(pump);
    },
  };

  // The claim loop sleeps on `nudge`: a finished command, a wake-up or the stop signal ends the sleep.
  let wakeLoop: (() => void) | undefined;
  const nudge = () => {
    const w = wakeLoop;
    wakeLoop = undefined;
    w?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      wakeLoop = done;
    });

  const claimAbort = new AbortController();
  const onStop = () => {
    claimAbort.abort();
    nudge();
  };
  opts.signal.addEventListener("abort", onStop, { once: true });

  const wakeups: Wakeups | undefined = config.natsUrl
    ? startWakeups(config.natsUrl, pool, nudge, cancelled, log)
    : undefined;
  const beat = startHeartbeat(
    api,
    { worker_id: workerId, pool, host, pid: process.pid, concurrency },
    running,
    log,
  );
  log.info(`worker ${workerId} started`, {
    server: config.serverUrl,
    pool,
    concurrency,
    nats: config.natsUrl ?? "off",
  });

  const start = (cmd: Claimed) => {
    if (running.has(key(cmd))) return;
    const r = Object.assign(startCommand(cmd, deps), { since: performance.now() });
    running.set(key(cmd), r);
    void r.done.finally(() => {
      running.delete(key(cmd));
      pump();
      nudge();
    });
  };
  const launch = (cmd: Claimed) => {
    if (running.size < concurrency && waiting.length === 0) start(cmd);
    else waiting.push({ cmd, at: Date.now() });
  };
  function pump() {
    while (running.size < concurrency && waiting.length > 0) {
      const { cmd, at } = waiting.shift()!;
      // Half its lease spent waiting: the server may re-issue it soon; better not run it twice.
      if (Date.now() - at > (cmd.lease_ms ?? config.leaseMs) / 2) {
        log.warn(`not starting ${cmd.command_id} (step ${cmd.step}): it waited too long for a slot`);
        continue;
      }
      start(cmd);
    }
  }
  // The server cancelled these executions (NATS notice): stop their tools now rather than at the
  // next lease heartbeat, and drop what waits for a slot. Nothing is reported for them.
  function cancelled(ids: string[]) {
    const gone = new Set(ids);
    for (const r of running.values())
      if (gone.has(r.command.execution_id)) r.abandon("its execution was cancelled");
    for (let i = waiting.length - 1; i >= 0; i--)
      if (gone.has(waiting[i]!.cmd.execution_id)) waiting.splice(i, 1);
  }
  // Commands that arrive as the worker stops still run: they are leased to it already.
  const take = (answer: unknown) => {
    const { commands, rejected } = parseClaim(answer);
    for (const problem of rejected) log.error(`ignoring a malformed command from the server: ${problem}`);
    for (const cmd of commands) launch(cmd);
  };

  let failures = 0;
  let exitCode = 0;
  while (!opts.signal.aborted) {
    const limit = Math.min(MAX_CLAIM, free());
    if (limit <= 0) {
      await sleep(LONG_POLL_MS);
      continue;
    }
    try {
      polling = limit;
      const answer = await api
        .call(
          "POST",
          "/api/commands/claim",
          { worker_id: workerId, pool, limit, wait_ms: LONG_POLL_MS },
          { signal: claimAbort.signal, timeoutMs: LONG_POLL_MS + 15_000 },
        )
        .finally(() => {
          polling = 0;
        });
      take(answer);
      failures = 0;
    } catch (err) {
      if (opts.signal.aborted) break;
      // A refused token does not heal by retrying: say so once and stop, so the mistake shows
      // (a supervisor restarting the worker) instead of an error line every few seconds.
      if (err instanceof ApiError && err.status === 401) {
        log.error(
          `${err.message}; stopping: give the worker the server's token (NOETL_API_TOKEN or --token)`,
        );
        exitCode = 1;
        break;
      }
      if (!(err instanceof Unreachable)) {
        const msg = err instanceof ApiError ? err.message : String(err);
        log.error(`claiming failed: ${msg}`);
      }
      await sleep(backoffMs(failures++, 100, 3000));
    }
  }

  if (waiting.length > 0) {
    // Never started: their leases expire and the server re-issues them.
    log.info(`leaving ${waiting.length} leased command(s) unstarted; the server will re-issue them`);
    waiting.length = 0;
  }
  await shutdown(running, graceMs, log);
  await reporter.drain(10_000);
  await beat.stop();
  await wakeups?.stop();
  await api.close();
  // A postgres pool left open keeps the process alive after "stopped".
  await closeTools();
  opts.signal.removeEventListener("abort", onStop);
  log.info(`worker ${workerId} stopped`);
  return exitCode;
}

/** Recent command run times (moving average): are commands short enough to lease ahead? */
class Pace {
  private avg: number | undefined;
  add(ms: number): void {
    this.avg = this.avg === undefined ? ms : this.avg * 0.8 + ms * 0.2;
  }
  get short(): boolean {
    return this.avg !== undefined && this.avg < SHORT_MS;
  }
}

function key(cmd: Claimed): string {
  return `${cmd.command_id}#${cmd.attempt}`;
}

async function shutdown(running: Map<string, Running>, graceMs: number, log: Logger): Promise<void> {
  if (running.size === 0) return;
  const all = () => Promise.all([...running.values()].map((r) => r.done));
  log.info(`stopping: waiting up to ${graceMs / 1000}s for ${running.size} running command(s)`);
  if (await within(all(), graceMs)) return;
  log.warn(`abandoning ${running.size} command(s) still running; the server will re-issue them`, {
    commands: [...running.values()].map((r) => r.command.command_id),
  });
  for (const r of running.values()) r.abandon("the worker is stopping");
  // Tools stop on abort (children are killed); bounded in case one does not.
  await within(all(), 5000);
}

function startHeartbeat(
  api: Api,
  body: { worker_id: string; pool: string; host: string; pid: number; concurrency: number },
  running: Map<string, Running>,
  log: Logger,
): { stop(): Promise<void> } {
  let inFlight: Promise<unknown> | undefined;
  const send = (status: string) => {
    if (inFlight) return inFlight;
    inFlight = api
      .call("POST", "/api/workers/heartbeat", { ...body, running: running.size, status }, { timeoutMs: 5000 })
      .catch((err) => {
        if (!(err instanceof Unreachable)) log.warn(`worker heartbeat failed: ${(err as Error).message}`);
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  void send("ready");
  const timer = setInterval(() => void send("ready"), HEARTBEAT_MS);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      await within(send("stopped"), 2000);
    },
  };
}
