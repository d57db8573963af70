// `noetl worker start|stop|status`: named background workers, one PID file each under NOETL_HOME
// (SPEC §10). `worker run`, the foreground worker, is ./worker-run: main.ts goes there directly,
// so a worker process loads none of this.
import { hostname } from "node:os";
import { type Config, loadConfig } from "../config/config";
import { NoetlError } from "../errors";
import { formatUptime, type ProcessStatus, probe, processStatus, stopProcess } from "../process/control";
import { processFiles, workerNames } from "../process/pidfile";
import { startDetached } from "../process/start";
import { usageError } from "./exit";
import { serverUrl } from "./server-url";
import type { WorkerRunOptions } from "./worker-run";

export interface WorkerCommandOptions extends WorkerRunOptions {
  force?: boolean;
  all?: boolean;
  json?: boolean;
}

const USAGE =
  "usage: noetl worker run|start [--name N] [--concurrency C] | stop [--name N | --all] [-f] | status [--name N] [--json]";
/** Without a reachable server, a worker that is still alive after this long counts as started. */
const SETTLE_MS = 1500;

export async function workerCommand(action: string | undefined, opts: WorkerCommandOptions): Promise<number> {
  switch (action) {
    case "start":
      return start(opts);
    case "stop":
      return stop(opts);
    case "status":
      return status(opts);
    default:
      throw usageError(`${action ? `unknown worker action "${action}"` : "missing worker action"}; ${USAGE}`);
  }
}

function workerName(opts: WorkerCommandOptions): string | undefined {
  if (opts.name === undefined) return undefined;
  const name = String(opts.name);
  if (!/^[\w.-]{1,64}$/.test(name))
    throw usageError(`--name "${name}" is not valid: use 1-64 letters, digits, '.', '_' or '-'`);
  return name;
}

// Same reading of --server-url / --host / --port as `worker run`, so the status checks ask the
// server the worker talks to.
function config(opts: WorkerCommandOptions): Config {
  return loadConfig(process.env, {
    NOETL_SERVER_URL: serverUrl(opts).url,
    NOETL_API_TOKEN: opts.token,
    NOETL_WORKER_CONCURRENCY: opts.concurrency,
    NOETL_WORKER_POOL_NAME: opts.pool,
  });
}

/** The server's worker list, or undefined when the server does not answer. */
async function registeredPids(cfg: Config, url = cfg.serverUrl): Promise<Set<number> | undefined> {
  const res = await probe(`${url.replace(/\/$/, "")}/api/workers`, cfg.apiToken);
  if (!res?.ok) return undefined;
  const body = (await res.json().catch(() => ({}))) as { items?: Array<{ pid?: number; host?: string }> };
  const here = hostname();
  return new Set((body.items ?? []).filter((w) => !w.host || w.host === here).map((w) => Number(w.pid)));
}

async function start(opts: WorkerCommandOptions): Promise<number> {
  const name = workerName(opts) ?? "worker";
  const cfg = config(opts);
  const args = ["worker", "run", "--name", name];
  if (opts.concurrency !== undefined) args.push("--concurrency", String(cfg.worker.concurrency));
  if (opts.pool !== undefined) args.push("--pool", cfg.worker.pool);
  const env: NodeJS.ProcessEnv = { ...process.env, NOETL_HOME: cfg.home, NOETL_SERVER_URL: cfg.serverUrl };
  // The token goes through the environment: a command line is visible to every user in `ps`.
  if (cfg.apiToken) env.NOETL_API_TOKEN = cfg.apiToken;
  const files = processFiles(cfg.home, "worker", name);
  const since = Date.now();
  let serverDown = false;
  const started = await startDetached({
    files,
    args,
    env,
    url: cfg.serverUrl,
    label: `worker "${name}"`,
    stopHint: `noetl worker stop --name ${name}`,
    timeoutMs: 30_000,
    // Up = alive and listed by the server; a server that is down is no reason to fail, since
    // the worker keeps retrying until it is back.
    ready: async (pid) => {
      const pids = await registeredPids(cfg);
      serverDown = pids === undefined;
      return pids ? pids.has(pid) : Date.now() - since >= SETTLE_MS;
    },
  });
  if (started.stalePid)
    process.stderr.write(`removed a stale PID file (PID ${started.stalePid} was not running)\n`);
  const note = serverDown
    ? `; the server at ${cfg.serverUrl} is not reachable yet, the worker will keep trying`
    : "";
  if (opts.json) {
    const out = { name, running: true, pid: started.pid, server_url: cfg.serverUrl, registered: !serverDown };
    process.stdout.write(`${JSON.stringify({ ...out, log: files.logFile })}\n`);
  } else {
    process.stdout.write(
      `worker "${name}" started (PID ${started.pid}; server ${cfg.serverUrl}; log ${files.logFile})${note}\n`,
    );
  }
  return 0;
}

function runningNames(home: string): string[] {
  return workerNames(home).filter((n) => processStatus(processFiles(home, "worker", n)).running);
}

async function stop(opts: WorkerCommandOptions): Promise<number> {
  const cfg = config(opts);
  const named = workerName(opts);
  let names: string[];
  if (named !== undefined) names = [named];
  else if (opts.all) names = workerNames(cfg.home);
  else {
    names = runningNames(cfg.home);
    if (names.length > 1) {
      throw usageError(
        `${names.length} workers are running (${names.join(", ")}); say which with --name NAME, or stop them all with --all`,
      );
    }
    if (names.length === 0) names = workerNames(cfg.home).length ? workerNames(cfg.home) : ["worker"];
  }
  const outcomes = await Promise.all(
    names.map((n) => stopProcess(processFiles(cfg.home, "worker", n), `worker "${n}"`, Boolean(opts.force))),
  );
  if (opts.json) process.stdout.write(`${JSON.stringify(outcomes)}\n`);
  else for (const o of outcomes) process.stdout.write(`${o.message}\n`);
  const left = outcomes.filter((o) => o.result === "left");
  if (left.length) throw new NoetlError("UNAVAILABLE", left.map((o) => o.message).join("; "));
  return 0;
}

async function status(opts: WorkerCommandOptions): Promise<number> {
  const cfg = config(opts);
  const named = workerName(opts);
  const names = named !== undefined ? [named] : workerNames(cfg.home);
  const all = names.map((n) => processStatus(processFiles(cfg.home, "worker", n)));
  // Each worker is looked up on the server it was started against, not the current default.
  const servers = [...new Set(all.filter((s) => s.running).map((s) => s.url ?? cfg.serverUrl))];
  const lists = new Map(
    await Promise.all(servers.map(async (url) => [url, await registeredPids(cfg, url)] as const)),
  );
  const rows = all.map((s) => {
    const pids = lists.get(s.url ?? cfg.serverUrl);
    // null: the server could not be asked.
    return { ...s, server_url: s.url, registered: s.running && pids ? pids.has(s.pid as number) : null };
  });
  const up = rows.filter((r) => r.running).length;
  if (opts.json) process.stdout.write(`${JSON.stringify({ running: up, workers: rows })}\n`);
  else process.stdout.write(describe(rows));
  return up > 0 ? 0 : 3;
}

function describe(rows: Array<ProcessStatus & { registered: boolean | null }>): string {
  if (rows.length === 0) return "no worker is running\n";
  return rows
    .map((r) => {
      if (!r.running) {
        const stale = r.stale_pid ? ` (its PID file names PID ${r.stale_pid}, which is not running)` : "";
        return `worker "${r.name}" is not running${stale}\n`;
      }
      const reg = r.registered === null ? "server not reachable" : r.registered ? "yes" : "not yet";
      const lines: Array<[string, string]> = [
        ["PID", String(r.pid)],
        ["uptime", formatUptime(r.uptime_s ?? 0)],
        ["server", `${r.url ?? "unknown"} (registered: ${reg})`],
        ["log", r.log],
      ];
      return `worker "${r.name}" is running\n${lines.map(([k, v]) => `  ${k.padEnd(7)} ${v}\n`).join("")}`;
    })
    .join("");
}
