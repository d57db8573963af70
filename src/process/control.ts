// Stop and status of one background process, shared by `server` and `worker`. The CLI files
// only decide names, URLs and readiness; the wording of what happened lives here.
import { inspectPidFile, type ProcessFiles, removePidFile } from "./pidfile";
import { signal, waitForExit } from "./stop";

export const STOP_GRACE_MS = 10_000;

export interface StopOutcome {
  /** stopped: it was running and is gone; absent: nothing was running; left: still running. */
  result: "stopped" | "absent" | "left";
  pid?: number;
  message: string;
}

export async function stopProcess(files: ProcessFiles, label: string, force: boolean): Promise<StopOutcome> {
  const st = inspectPidFile(files);
  if (st.state === "absent" || st.state === "starting") {
    return { result: "absent", message: `${label} is not running` };
  }
  if (st.state === "stale") {
    removePidFile(files);
    const pid = st.pid ? ` for PID ${st.pid}` : "";
    return { result: "absent", message: `${label} is not running (removed a stale PID file${pid})` };
  }
  const { pid } = st;
  signal(pid, force ? "SIGKILL" : "SIGTERM");
  const grace = force ? 5000 : STOP_GRACE_MS;
  if (await waitForExit(pid, grace)) {
    removePidFile(files);
    return { result: "stopped", pid, message: `${label} stopped (PID ${pid}${force ? ", killed" : ""})` };
  }
  const hint = force
    ? "it may be stuck in the kernel; check it with `ps`"
    : `run the same command with -f to kill it`;
  return {
    result: "left",
    pid,
    message: `${label} (PID ${pid}) is still running ${grace / 1000} s after ${force ? "SIGKILL" : "SIGTERM"}; ${hint}`,
  };
}

export interface ProcessStatus {
  name: string;
  running: boolean;
  pid: number | null;
  started_at: string | null;
  uptime_s: number | null;
  url: string | null;
  health_url?: string;
  log: string;
  pid_file: string;
  /** Set when the PID file names a process that is gone. */
  stale_pid?: number;
}

export function processStatus(files: ProcessFiles): ProcessStatus {
  const st = inspectPidFile(files);
  const base = { name: files.name, log: files.logFile, pid_file: files.pidFile };
  if (st.state !== "running") {
    return {
      ...base,
      running: false,
      pid: null,
      started_at: null,
      uptime_s: null,
      url: null,
      ...(st.state === "stale" && st.pid ? { stale_pid: st.pid } : {}),
    };
  }
  return {
    ...base,
    running: true,
    pid: st.pid,
    started_at: st.startedAt.toISOString(),
    uptime_s: Math.max(0, Math.round((Date.now() - st.startedAt.getTime()) / 1000)),
    url: st.meta?.url ?? null,
    ...(st.meta?.health_url ? { health_url: st.meta.health_url } : {}),
  };
}

export function formatUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = d ? [`${d}d`, `${h}h`, `${m}m`] : h ? [`${h}h`, `${m}m`] : m ? [`${m}m`] : [];
  return [...parts, `${s % 60}s`].join(" ");
}

/** GET with a short timeout; undefined when nothing answers. */
export async function probe(url: string, token?: string, timeoutMs = 2000): Promise<Response | undefined> {
  try {
    return await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    return undefined;
  }
}

/** The address a client on this machine should use for a server bound to host:port. */
export function localUrls(host: string, port: number): { shown: string; probe: string } {
  const wildcard = host === "0.0.0.0" || host === "::" || host === "[::]";
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const probeHost = host === "0.0.0.0" ? "127.0.0.1" : wildcard ? "[::1]" : h;
  return { shown: `http://${wildcard ? "localhost" : h}:${port}`, probe: `http://${probeHost}:${port}` };
}
