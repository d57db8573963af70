// Runs one child process for the shell and python tools: streams its output, enforces the
// timeout and the abort signal, and kills its whole process group so no grandchild survives.
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { constants } from "node:os";
import { StringDecoder } from "node:string_decoder";

export interface ProcessSpec {
  file: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  signal: AbortSignal;
  timeoutMs?: number;
  onOutput?: (stream: "stdout" | "stderr", chunk: string) => void;
  stdin?: string;
  /** Open fd 3 as a pipe and return what the child wrote to it (the python runner's result channel). */
  resultPipe?: boolean;
}

export interface ProcessResult {
  /** "lost": only from the spawn server, when it died while the command ran. */
  end: "exit" | "timeout" | "cancelled" | "spawn_error" | "lost";
  returncode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  result?: string;
  spawnError?: NodeJS.ErrnoException;
}

export const KILL_GRACE_MS = 2000;
// After the main process exits, a backgrounded grandchild may keep the pipes open forever.
const DRAIN_AFTER_EXIT_MS = 200;
export const MAX_CAPTURE = 16 * 1024 * 1024;
export const truncatedNote = `\n[output truncated at ${MAX_CAPTURE} bytes]`;
const isWindows = process.platform === "win32";

export function runProcess(spec: ProcessSpec): Promise<ProcessResult> {
  const started = performance.now();
  if (spec.signal.aborted) return Promise.resolve(empty("cancelled", started));
  const stdio: StdioOptions = [spec.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"];
  if (spec.resultPipe) stdio.push("pipe");
  let child: ChildProcess;
  try {
    child = spawn(spec.file, spec.args, { cwd: spec.cwd, env: spec.env, stdio, detached: !isWindows });
  } catch (err) {
    return Promise.resolve({ ...empty("spawn_error", started), spawnError: err as NodeJS.ErrnoException });
  }
  return new Promise((resolve) => {
    let end: ProcessResult["end"] = "exit";
    let spawnError: NodeJS.ErrnoException | undefined;
    const out = collector(child.stdout, "stdout", spec.onOutput);
    const err = collector(child.stderr, "stderr", spec.onOutput);
    const res = collector(child.stdio[3] as NodeJS.ReadableStream | null, undefined, undefined);
    let timer: NodeJS.Timeout | undefined;

    const kill = (why: "timeout" | "cancelled") => {
      if (end !== "exit" || child.exitCode !== null) return;
      end = why;
      killGroup(child, "SIGTERM");
      setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS).unref();
    };
    const onAbort = () => kill("cancelled");
    spec.signal.addEventListener("abort", onAbort, { once: true });
    if (spec.timeoutMs) timer = setTimeout(() => kill("timeout"), spec.timeoutMs);

    if (spec.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the child exits without reading: not our failure
      child.stdin.end(spec.stdin);
    }
    child.on("error", (e) => {
      spawnError = e;
    });
    child.on("exit", () => {
      setTimeout(() => {
        for (const s of child.stdio) s?.destroy();
      }, DRAIN_AFTER_EXIT_MS).unref();
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      spec.signal.removeEventListener("abort", onAbort);
      resolve({
        end: spawnError ? "spawn_error" : end,
        returncode: code ?? 128 + (sig ? (constants.signals[sig] ?? 0) : 0),
        stdout: out.text(),
        stderr: err.text(),
        durationMs: Math.round(performance.now() - started),
        result: spec.resultPipe ? res.text() : undefined,
        spawnError,
      });
    });
  });
}

function empty(end: ProcessResult["end"], started: number): ProcessResult {
  return { end, returncode: -1, stdout: "", stderr: "", durationMs: Math.round(performance.now() - started) };
}

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (!isWindows && child.pid) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // the group is already gone
  }
}

function collector(
  stream: NodeJS.ReadableStream | null | undefined,
  name: "stdout" | "stderr" | undefined,
  onOutput: ProcessSpec["onOutput"],
) {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  // Decoding only when someone listens keeps the common path to a Buffer push.
  const decoder = onOutput && name ? new StringDecoder("utf8") : undefined;
  stream?.on("data", (chunk: Buffer) => {
    if (decoder && name && onOutput) onOutput(name, decoder.write(chunk));
    if (size + chunk.length > MAX_CAPTURE) truncated = true;
    else {
      chunks.push(chunk);
      size += chunk.length;
    }
  });
  return {
    text: () => {
      const s = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
      return truncated ? `${s}${truncatedNote}` : s;
    },
  };
}
