// `noetl server start|stop|status`: the server as a background process with a PID file under
// NOETL_HOME (SPEC §10). `server run`, the foreground server, is ./server-run: main.ts goes there
// directly, so the server process loads none of this.
import { type Config, loadConfig } from "../config/config";
import { NoetlError } from "../errors";
import { formatUptime, localUrls, probe, processStatus, stopProcess } from "../process/control";
import { processFiles } from "../process/pidfile";
import { startDetached } from "../process/start";
import { isFreshDataDir } from "../store/pglite-dir";
import { usageError } from "./exit";

export interface ServerCommandOptions {
  host?: string;
  port?: string | number;
  initDb?: boolean;
  force?: boolean;
  json?: boolean;
}

const USAGE =
  "usage: noetl server run|start [--host HOST] [--port PORT] [--init-db] | stop [-f] | status [--json]";
const START_TIMEOUT_MS = 30_000;
/** A first start creates the embedded database (initdb in WebAssembly): slow on a busy or small machine. */
const FIRST_START_TIMEOUT_MS = 120_000;

export async function serverCommand(action: string | undefined, opts: ServerCommandOptions): Promise<number> {
  switch (action) {
    case "start":
      return start(opts);
    case "stop":
      return stop(opts);
    case "status":
      return status(opts);
    default:
      throw usageError(`${action ? `unknown server action "${action}"` : "missing server action"}; ${USAGE}`);
  }
}

async function start(opts: ServerCommandOptions): Promise<number> {
  const config = loadConfig(process.env, { NOETL_HOST: opts.host, NOETL_PORT: opts.port });
  const { host, port } = config.server;
  if (port === 0)
    throw usageError("`server start` needs a fixed port to wait on; --port 0 only works with `run`");
  const urls = localUrls(host, port);
  const args = ["server", "run", "--host", host, "--port", String(port)];
  if (opts.initDb) args.push("--init-db");
  const files = processFiles(config.home, "server");
  const started = await startDetached({
    files,
    args,
    env: { ...process.env, NOETL_HOME: config.home },
    url: urls.shown,
    healthUrl: urls.probe,
    label: "server",
    stopHint: "noetl server stop",
    timeoutMs: firstPgliteStart(config) ? FIRST_START_TIMEOUT_MS : START_TIMEOUT_MS,
    ready: async () => (await probe(`${urls.probe}/health`))?.ok === true,
  });
  if (started.stalePid)
    process.stderr.write(`removed a stale PID file (PID ${started.stalePid} was not running)\n`);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ running: true, pid: started.pid, url: urls.shown, log: files.logFile })}\n`,
    );
  } else {
    process.stdout.write(`server started: ${urls.shown} (PID ${started.pid}; log ${files.logFile})\n`);
  }
  return 0;
}

function firstPgliteStart(config: Config): boolean {
  return config.database.kind === "pglite" && isFreshDataDir(config.database.dataDir);
}

async function stop(opts: ServerCommandOptions): Promise<number> {
  const config = loadConfig();
  const out = await stopProcess(processFiles(config.home, "server"), "server", Boolean(opts.force));
  if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else process.stdout.write(`${out.message}\n`);
  if (out.result === "left") throw new NoetlError("UNAVAILABLE", out.message);
  return 0;
}

async function status(opts: ServerCommandOptions): Promise<number> {
  const config = loadConfig();
  const files = processFiles(config.home, "server");
  const st = processStatus(files);
  let health: string | null = null;
  if (st.running) {
    const healthUrl = st.health_url ?? st.url;
    const res = healthUrl ? await probe(`${healthUrl}/health`) : undefined;
    health = res ? (res.ok ? "ok" : `HTTP ${res.status}`) : "not answering";
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...st, health })}\n`);
  } else if (st.running) {
    const rows: Array<[string, string]> = [
      ["PID", String(st.pid)],
      ["uptime", formatUptime(st.uptime_s ?? 0)],
      ["URL", st.url ?? "unknown"],
      ["health", health ?? "unknown"],
      ["log", st.log],
    ];
    process.stdout.write(`server is running\n${rows.map(([k, v]) => `  ${k.padEnd(7)} ${v}\n`).join("")}`);
  } else {
    const stale = st.stale_pid ? ` (its PID file names PID ${st.stale_pid}, which is not running)` : "";
    process.stdout.write(`server is not running${stale}\n`);
  }
  return st.running ? 0 : 3;
}
