// PID files under NOETL_HOME. The PID file holds only the number, so `kill $(cat …)` works;
// what status needs besides (URL, start time, log) sits in a JSON file beside it.
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "./alive";

export type ProcessKind = "server" | "worker";

export interface ProcessFiles {
  kind: ProcessKind;
  name: string;
  pidFile: string;
  metaFile: string;
  logFile: string;
}

export interface ProcessMeta {
  pid: number;
  kind: ProcessKind;
  name: string;
  started_at: string;
  /** Server: where it answers. Worker: the server it reports to. */
  url: string;
  /** Server only: the URL a client on this machine probes (127.0.0.1 for 0.0.0.0). */
  health_url?: string;
  log: string;
  command: string[];
}

export type PidState =
  | { state: "absent" }
  | { state: "starting" }
  | { state: "stale"; pid: number }
  | { state: "running"; pid: number; meta?: ProcessMeta; startedAt: Date };

/** A PID file left empty this recently belongs to a `start` that is still spawning. */
const STARTING_GRACE_MS = 60_000;

export function processFiles(home: string, kind: ProcessKind, name: string = kind): ProcessFiles {
  const base = kind === "server" ? "noetl_server" : `noetl_worker_${name}`;
  return {
    kind,
    name,
    pidFile: join(home, `${base}.pid`),
    metaFile: join(home, `${base}.json`),
    logFile: join(home, "logs", kind === "server" ? "server.log" : `worker-${name}.log`),
  };
}

export function inspectPidFile(files: ProcessFiles): PidState {
  let text: string;
  let mtime: Date;
  try {
    text = readFileSync(files.pidFile, "utf8").trim();
    mtime = statSync(files.pidFile).mtime;
  } catch {
    return { state: "absent" };
  }
  const pid = Number(text);
  if (text === "") {
    return Date.now() - mtime.getTime() < STARTING_GRACE_MS
      ? { state: "starting" }
      : { state: "stale", pid: 0 };
  }
  if (!Number.isInteger(pid) || pid <= 0) return { state: "stale", pid: 0 };
  if (!isAlive(pid) || !commandMatches(pid, files)) return { state: "stale", pid };
  const meta = readMeta(files, pid);
  return { state: "running", pid, meta, startedAt: meta ? new Date(meta.started_at) : mtime };
}

/** Creates the PID file empty, failing if it exists: two racing `start`s cannot both spawn. */
export function claimPidFile(files: ProcessFiles): boolean {
  try {
    closeSync(openSync(files.pidFile, "wx"));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

export function writePidFile(files: ProcessFiles, meta: ProcessMeta): void {
  writeFileSync(files.metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  writeFileSync(files.pidFile, `${meta.pid}\n`);
}

export function removePidFile(files: ProcessFiles): void {
  rmSync(files.pidFile, { force: true });
  rmSync(files.metaFile, { force: true });
}

function readMeta(files: ProcessFiles, pid: number): ProcessMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(files.metaFile, "utf8")) as ProcessMeta;
    return meta.pid === pid ? meta : undefined;
  } catch {
    return undefined;
  }
}

// A PID can be reused by an unrelated process after a reboot or crash: only a process whose
// command line says `server run` (or `worker run --name N`) counts as ours.
function commandMatches(pid: number, files: ProcessFiles): boolean {
  const argv = commandLine(pid);
  if (!argv) return true; // cannot tell (Windows, no ps): trust the PID file
  const at = argv.findIndex((a, i) => a === files.kind && argv[i + 1] === "run");
  if (at < 0) return false;
  if (files.kind === "server") return true;
  const n = argv.indexOf("--name", at);
  return n > 0 && argv[n + 1] === files.name;
}

function commandLine(pid: number): string[] | undefined {
  if (process.platform === "linux") {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      return undefined;
    }
  }
  if (process.platform === "win32") return undefined;
  const ps = spawnSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" });
  return ps.status === 0 ? ps.stdout.trim().split(/\s+/) : undefined;
}

/** Names of the workers that have a PID file under home (running or not). */
export function workerNames(home: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(home);
  } catch {
    return [];
  }
  return entries
    .map((f) => /^noetl_worker_(.+)\.pid$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}
