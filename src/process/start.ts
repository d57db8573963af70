// Starts this program again as a detached background process (`server run` / `worker run`),
// output appended to its log file, and waits until the caller's readiness check passes.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { NoetlError } from "../errors";
import { claimPidFile, inspectPidFile, type ProcessFiles, removePidFile, writePidFile } from "./pidfile";
import { selfCommand } from "./self";
import { sleep } from "./stop";

export interface StartRequest {
  files: ProcessFiles;
  /** The program's own arguments, e.g. ["server", "run", "--port", "8082"]. */
  args: string[];
  env: NodeJS.ProcessEnv;
  url: string;
  healthUrl?: string;
  /** Resolves true once the process is usable; polled until timeoutMs. */
  ready: (pid: number) => Promise<boolean>;
  timeoutMs: number;
  /** What to call it in messages, e.g. `server` or `worker "a"`. */
  label: string;
  stopHint: string;
}

export interface StartResult {
  pid: number;
  /** Set when a PID file of a process that no longer runs was removed first. */
  stalePid?: number;
}

export async function startDetached(req: StartRequest): Promise<StartResult> {
  const { files, label } = req;
  mkdirSync(dirname(files.logFile), { recursive: true });
  const before = inspectPidFile(files);
  if (before.state === "running" || before.state === "starting") {
    const pid = before.state === "running" ? ` (PID ${before.pid})` : "";
    throw new NoetlError(
      "CONFLICT",
      `${label} is already running${pid}; stop it first with \`${req.stopHint}\``,
    );
  }
  let stalePid: number | undefined;
  if (before.state === "stale") {
    stalePid = before.pid;
    removePidFile(files);
  }
  if (!claimPidFile(files)) {
    throw new NoetlError(
      "CONFLICT",
      `another \`start\` of the ${label} is in progress (${files.pidFile} exists)`,
    );
  }

  let pid: number;
  const run: { exited?: { code: number | null; signal: string | null } } = {};
  const logOffset = fileSize(files.logFile);
  try {
    const self = await selfCommand();
    const fd = openSync(files.logFile, "a");
    try {
      const child = spawn(self.command, [...self.prefix, ...req.args], {
        detached: true,
        stdio: ["ignore", fd, fd],
        env: req.env,
        windowsHide: true,
      });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", reject);
      });
      child.on("exit", (code, signal) => {
        run.exited = { code, signal };
      });
      child.unref();
      pid = child.pid as number;
      writePidFile(files, {
        pid,
        kind: files.kind,
        name: files.name,
        started_at: new Date().toISOString(),
        url: req.url,
        ...(req.healthUrl ? { health_url: req.healthUrl } : {}),
        log: files.logFile,
        command: [self.command, ...self.prefix, ...req.args],
      });
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    removePidFile(files);
    throw new NoetlError("UNAVAILABLE", `cannot start the ${label}: ${(err as Error).message}`);
  }

  const deadline = Date.now() + req.timeoutMs;
  while (Date.now() < deadline) {
    if (run.exited) break;
    if (await req.ready(pid).catch(() => false)) return { pid, stalePid };
    await sleep(200);
  }
  const { exited } = run;
  process.stderr.write(tail(files.logFile, logOffset, 20));
  if (exited) {
    removePidFile(files);
    const how = exited.signal ?? `code ${exited.code}`;
    throw new NoetlError(
      "UNAVAILABLE",
      `the ${label} exited (${how}) while starting; the lines above are from ${files.logFile}`,
    );
  }
  // Still alive but not ready: left running with its PID file, because killing it now could
  // interrupt a first-time database initialisation and leave a broken data directory.
  throw new NoetlError(
    "UNAVAILABLE",
    `the ${label} (PID ${pid}) was not ready within ${Math.round(req.timeoutMs / 1000)} s and is left running; the lines above are from ${files.logFile}; stop it with \`${req.stopHint}\``,
  );
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last lines this start appended to the log (or of the whole log when it wrote none). */
export function tail(path: string, fromOffset: number, lines: number): string {
  let text: string;
  try {
    const all = readFileSync(path);
    text = (all.length > fromOffset ? all.subarray(fromOffset) : all).toString("utf8");
  } catch {
    return "";
  }
  const last = text.trimEnd().split("\n").slice(-lines);
  return last.length && last[0] !== "" ? `${last.map((l) => `  | ${l}`).join("\n")}\n` : "";
}
