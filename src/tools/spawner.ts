// The spawn server: one long-lived bash per Node process that forks shell steps for us.
// fork() from Node copies a 60–110 MB address space (4–6 ms a child on 2 cores); from a 3 MB
// bash it is a fraction of a millisecond, which is what SPEC §15's shell figure needs.
// Output goes to files in a private directory (pipes would need a process per job), so callers
// that stream output keep spawning directly; so does anything this module cannot represent.
import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
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
  /** The request line, kept to send it again if the spare it went to died before reading it. */
  line: string;
  cwd: string;
  /** Its output files are \`<files>.o\` and \`.e\`: the request id, or the pid of the spare that ran it. */
  files: string;
  /** Which output files the server saw non-empty at the end ("10": stdout only); unknown: read both. */
  filled?: string;
  watch?: NodeJS.Timeout;
  finish: (status: number | undefined) => void;
  kill: () => void;
}

// Longer requests go through a file: bash reads a pipe one byte per syscall, a file in blocks.
const INLINE_MAX = 512;

interface Spare {
  pid: number;
  /** Its request FIFO is <dir>/f<fifo>. */
  fifo: number;
}

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
  /** Pre-started shells announced by the server and not yet given a request, oldest first. */
  spares: Spare[] = [];
  private readonly fifos = new Map<number, number>();
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

  send(job: Job): void {
    this.jobs.set(job.id, job);
    this.child.ref();
    (this.child.stdout as unknown as { ref(): void }).ref();
    if (!this.toSpare(job)) this.request(job);
  }

  /** Through the server, which forks the job. */
  private request(job: Job): void {
    let line = job.line;
    if (line.length > INLINE_MAX) {
      job.viaFile = true;
      writeFileSync(join(this.dir, `${job.id}.q`), line);
      line = `@${job.id}\n`;
    }
    this.child.stdin!.write(line);
    // An idle server is blocked in `read`; a busy one (running jobs, or keeping spares) in
    // `wait -n`, which a helper ends when fd 3 has a byte for it.
    if (this.jobs.size > 1 || prestart) this.nudge();
  }

  /**
   * Straight into the FIFO of a pre-started shell, which becomes the job: no server round trip.
   * One short write into an empty FIFO (it never blocks); the cwd is checked here since the spare cannot
   * answer \`F\`.
   */
  private toSpare(job: Job): boolean {
    // A spare reads its line one byte per syscall: long requests are forked (read from a file).
    if (!job.spare || this.spares.length === 0 || job.line.length > INLINE_MAX) return false;
    try {
      accessSync(job.cwd, constants.X_OK);
    } catch {
      return false;
    }
    for (let spare = this.spares.shift(); spare; spare = this.spares.shift()) {
      try {
        let fd = this.fifos.get(spare.fifo);
        if (fd === undefined) {
          // Non-blocking: with no reader (the server gone) this fails instead of waiting forever.
          fd = openSync(join(this.dir, `f${spare.fifo}`), constants.O_WRONLY | constants.O_NONBLOCK);
          this.fifos.set(spare.fifo, fd);
        }
        if (writeSync(fd, job.line) !== Buffer.byteLength(job.line)) continue;
      } catch {
        continue;
      }
      job.pgid = spare.pid;
      job.files = String(spare.pid);
      this.byPid.set(spare.pid, job);
      this.everStarted = true;
      this.watch(job, 20);
      return true;
    }
    return false;
  }

  private closeFifos(): void {
    for (const fd of this.fifos.values()) closeSync(fd);
    this.fifos.clear();
    this.spares = [];
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
      const [tag, a, b, ...more] = l.split(" ");
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
        if (job) this.settle(job, Number(b), more[0]);
      } else if (tag === "P") {
        if (!this.stopping) this.spares.push({ pid: Number(a), fifo: Number(b) });
      } else if (tag === "X") {
        const pid = Number(a);
        this.spares = this.spares.filter((s) => s.pid !== pid);
        const job = this.byPid.get(pid);
        if (!job) continue;
        if (more[0] && !more[0].startsWith("-")) this.settle(job, Number(b), more[0]);
        else {
          // It died before reading the request: nothing ran, so the server may fork it instead.
          clearTimeout(job.watch);
          this.byPid.delete(pid);
          job.pgid = undefined;
          job.files = String(job.id);
          if (job.end !== "exit") this.settle(job, undefined);
          else this.request(job);
        }
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

  settle(job: Job, status: number | undefined, filled?: string): void {
    job.filled = filled;
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
    this.closeFifos();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Its stdin's EOF makes the server delete the directory, so wait until no output is left to read. */
  stop(): void {
    this.stopping = true;
    this.closeFifos(); // idle spares exit once the server closes its ends too
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

// A frozen environment (runLocal's copy of process.env) cannot change: its list is computed once.
const envCache = new WeakMap<object, { base: object; list: string[] | undefined }>();

function envChanges(env: SpawnerSpec["env"], base: Record<string, string>): string[] | undefined {
  if (!Object.isFrozen(env)) return envArgs(env, base);
  const hit = envCache.get(env);
  if (hit?.base === base) return hit.list;
  const list = envArgs(env, base);
  envCache.set(env, { base, list });
  return list;
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
  const envList = srv && envChanges(spec.env, srv.base);
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
      line,
      cwd: spec.cwd,
      files: String(id),
      kill: () => {
        killGroup(job.pgid!, "SIGTERM");
        setTimeout(() => killGroup(job.pgid!, "SIGKILL"), KILL_GRACE_MS).unref();
      },
      finish: (status) => {
        clearTimeout(timer);
        spec.signal.removeEventListener("abort", onAbort);
        if (status === undefined) return resolve(undefined);
        const out = join(srv.dir, `${job.files}.o`);
        const err = join(srv.dir, `${job.files}.e`);
        resolve({
          end: job.end,
          returncode: status,
          stdout: readCapped(out, job.filled?.[0] === "0"),
          stderr:
            readCapped(err, job.filled?.[1] === "0") +
            (job.end === "lost" ? "\n[the shell spawn server died]" : ""),
          durationMs: Math.round(performance.now() - started),
        });
      },
    };
    spec.signal.addEventListener("abort", onAbort, { once: true });
    if (spec.timeoutMs) timer = setTimeout(() => stopJob("timeout"), spec.timeoutMs);
    srv.send(job);
  });
}
