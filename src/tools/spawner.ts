// The spawn server: one long-lived bash per Node process that forks shell steps for us.
// fork() from Node copies a 60–110 MB address space (4–6 ms a child on 2 cores); from a 3 MB
// bash it is a fraction of a millisecond, which is what SPEC §15's shell figure needs.
// Output goes to files in a private directory (pipes would need a process per job), so callers
// that stream output keep spawning directly; so does anything this module cannot represent.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { KILL_GRACE_MS, type ProcessResult } from "./process.ts";
import { killGroup, readCapped, rmQuiet } from "./spawner-io.ts";
import { envArgs, requestLine, SERVER_SCRIPT, serverEnv, spareCanRun } from "./spawner-script.ts";

export interface SpawnerSpec {
  shell: string;
  script: string;
  env: Record<string, string | undefined>;
  cwd: string;
  signal: AbortSignal;
  timeoutMs?: number;
}

interface Job {
  id: number;
  pgid?: number;
  end: ProcessResult["end"];
  /** The request went through a file that must be deleted once read. */
  viaFile?: boolean;
  /** A pre-started spare may run it (its environment changes allow it). */
  spare: boolean;
  watch?: NodeJS.Timeout;
  finish: (status: number | undefined) => void;
  kill: () => void;
}

// Longer requests go through a file: bash reads a pipe one byte per syscall, a file in blocks.
const INLINE_MAX = 512;

class Server {
  readonly jobs = new Map<number, Job>();
  readonly byPid = new Map<number, Job>();
  readonly dir = mkdtempSync(join(tmpdir(), "noetl-sh-"));
  readonly base: Record<string, string>;
  readonly child: ChildProcess;
  readonly wake: Writable;
  alive = true;
  everStarted = false;
  stopping = false;
  wakeUnread = false;
  private buf = "";

  constructor(readonly shell: string) {
    this.base = serverEnv(process.env);
    this.child = spawn(shell, ["-c", SERVER_SCRIPT, "noetl-spawner", this.dir, shell, prestart ? "1" : "0"], {
      cwd: "/",
      env: this.base,
      stdio: ["pipe", "pipe", "ignore", "pipe"],
      detached: true, // own session, like directly spawned steps: no terminal, no terminal signals
    });
    this.wake = this.child.stdio[3] as Writable;
    this.child.on("error", () => this.died());
    this.child.on("exit", (code) => {
      if (code === 99) disabled = true; // bash older than 5.1
      this.died();
    });
    this.child.stdin!.on("error", () => this.died());
    this.wake.on("error", () => this.died());
    this.child.stdout!.setEncoding("latin1");
    this.child.stdout!.on("data", (s: string) => this.onData(s));
    // The server never closes its stdout: this is its death, and may come before "exit".
    this.child.stdout!.on("close", () => this.died());
    this.idle();
  }

  /** The server must never keep Node alive, but a running job must. */
  private idle(): void {
    if (this.jobs.size > 0) return;
    if (this.stopping) {
      this.child.stdin!.end();
      this.wake.end();
    }
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.wake])
      (s as unknown as { unref(): void }).unref();
  }

  send(job: Job, line: string): void {
    const busy = this.jobs.size > 0;
    this.jobs.set(job.id, job);
    this.child.ref();
    (this.child.stdout as unknown as { ref(): void }).ref();
    if (line.length > INLINE_MAX) {
      job.viaFile = true;
      writeFileSync(join(this.dir, `${job.id}.q`), line);
      line = `@${job.id}\n`;
    } else if (job.spare) line = `+${line}`;
    this.child.stdin!.write(line);
    // An idle server is blocked in `read`; a busy one in `wait -n`, which a helper ends when fd 3
    // has a byte for it.
    if (busy) this.nudge();
  }

  private nudge(): void {
    if (this.wakeUnread) return;
    this.wakeUnread = true;
    this.wake.write("w");
  }

  private onData(s: string): void {
    const lines = (this.buf + s).split("\n");
    this.buf = lines.pop()!;
    for (const l of lines) {
      const [tag, a, b] = l.split(" ");
      if (tag === "H") {
        this.wakeUnread = false;
        // A request sent while the byte was unread may have missed the server's look at stdin.
        for (const job of this.jobs.values()) if (job.pgid === undefined) this.nudge();
      } else if (tag === "S") {
        const job = this.jobs.get(Number(a));
        if (!job) continue;
        job.pgid = Number(b);
        this.byPid.set(job.pgid, job);
        this.everStarted = true;
        if (job.viaFile) rmQuiet(join(this.dir, `${job.id}.q`));
        if (job.end !== "exit") job.kill();
        this.watch(job, 20);
      } else if (tag === "E") {
        const job = this.byPid.get(Number(a));
        if (job) this.settle(job, Number(b));
      } else if (tag === "F") {
        const job = this.jobs.get(Number(a));
        if (job) this.settle(job, undefined);
      }
    }
  }

  /** A job whose process is gone but whose end was not reported: make the server sweep again. */
  private watch(job: Job, ms: number): void {
    job.watch = setTimeout(() => {
      if (!this.jobs.has(job.id) || !this.alive) return;
      try {
        process.kill(job.pgid!, 0);
      } catch {
        this.nudge();
      }
      this.watch(job, Math.min(ms * 2, 1000));
    }, ms).unref();
  }

  settle(job: Job, status: number | undefined): void {
    clearTimeout(job.watch);
    this.jobs.delete(job.id);
    if (job.viaFile && job.pgid === undefined) rmQuiet(join(this.dir, `${job.id}.q`));
    if (job.pgid !== undefined) this.byPid.delete(job.pgid);
    this.idle();
    job.finish(status);
  }

  private died(): void {
    if (!this.alive) return;
    this.alive = false;
    if (current === this) current = undefined;
    // A server that never started a job is not going to: stop trying after a few.
    if (!this.everStarted && ++failedStarts >= 3) disabled = true;
    for (const job of [...this.jobs.values()]) {
      // Not started: safe to run it another way. Started: its status is lost with the server.
      if (job.pgid === undefined) this.settle(job, undefined);
      else {
        if (job.end === "exit") job.end = "lost";
        killGroup(job.pgid, "SIGTERM");
        setTimeout(() => killGroup(job.pgid!, "SIGKILL"), KILL_GRACE_MS).unref();
        this.settle(job, -1);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Its stdin's EOF makes the server delete the directory, so wait until no output is left to read. */
  stop(): void {
    this.stopping = true;
    this.idle();
  }
}

let current: Server | undefined;
// NOETL_SHELL_SPAWNER=0 turns the server off (to compare, or to rule it out when debugging).
let disabled = process.platform === "win32" || process.env.NOETL_SHELL_SPAWNER === "0";
// NOETL_SHELL_PRESTART=0 keeps the server but forks every step instead of using pre-started shells.
const prestart = process.env.NOETL_SHELL_PRESTART !== "0";
let nextId = 1;
let failedStarts = 0;
let exitHook = false;

/** The running server's pid (tests kill it to check the fallback). */
export function spawnerPid(): number | undefined {
  return current?.alive ? current.child.pid : undefined;
}

/** The process groups of the jobs the server is running (tests tell them from its spares). */
export function spawnerJobGroups(): number[] {
  return current?.alive ? [...current.byPid.keys()] : [];
}

/** Let the server exit once the jobs it is running have ended and been reported. */
export function stopSpawner(): void {
  current?.stop();
  current = undefined;
}

function server(shell: string): Server | undefined {
  if (disabled || !shell.endsWith("bash")) return undefined;
  if (current?.alive && current.shell === shell) return current;
  current?.stop();
  current = new Server(shell);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      if (current) rmSync(current.dir, { recursive: true, force: true });
    });
  }
  return current;
}

/**
 * Runs `bash -c script` through the spawn server. Resolves undefined when the server cannot take
 * the job (not available, environment not representable, cwd unusable, server died before the
 * job started): the caller then spawns directly, which also produces the usual errors.
 */
export function runViaSpawner(spec: SpawnerSpec): Promise<ProcessResult | undefined> {
  const started = performance.now();
  // Already aborted: the direct path reports it without starting anything.
  if (spec.signal.aborted) return Promise.resolve(undefined);
  const srv = server(spec.shell);
  const envList = srv && envArgs(spec.env, srv.base);
  const id = nextId++;
  const line = envList && requestLine(id, spec.cwd, spec.script, envList);
  if (!srv || !line) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => stopJob("cancelled");
    const stopJob = (why: "timeout" | "cancelled") => {
      if (job.end !== "exit") return;
      job.end = why;
      if (job.pgid !== undefined) job.kill(); // otherwise as soon as the server reports the pid
    };
    const job: Job = {
      id,
      end: "exit",
      spare: spareCanRun(envList),
      kill: () => {
        killGroup(job.pgid!, "SIGTERM");
        setTimeout(() => killGroup(job.pgid!, "SIGKILL"), KILL_GRACE_MS).unref();
      },
      finish: (status) => {
        clearTimeout(timer);
        spec.signal.removeEventListener("abort", onAbort);
        if (status === undefined) return resolve(undefined);
        const out = join(srv.dir, `${id}.o`);
        const err = join(srv.dir, `${id}.e`);
        resolve({
          end: job.end,
          returncode: status,
          stdout: readCapped(out),
          stderr: readCapped(err) + (job.end === "lost" ? "\n[the shell spawn server died]" : ""),
          durationMs: Math.round(performance.now() - started),
        });
      },
    };
    spec.signal.addEventListener("abort", onAbort, { once: true });
    if (spec.timeoutMs) timer = setTimeout(() => stopJob("timeout"), spec.timeoutMs);
    srv.send(job, line);
  });
}
