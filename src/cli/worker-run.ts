// `noetl worker run`: the thin adapter around the worker — config from the environment and
// flags, a logger, and signals. The first SIGTERM/SIGINT stops gracefully (claiming ends,
// running commands get NOETL_WORKER_GRACE_SECONDS); a second one exits at once.
import { loadConfig } from "../config/config";
import { createLogger } from "../log";
import { usageError } from "./exit";
import { serverUrl } from "./server-url";

export interface WorkerRunOptions {
  name?: string;
  concurrency?: string | number;
  pool?: string;
  serverUrl?: string;
  host?: string;
  port?: string | number;
  token?: string;
}

export async function workerRunCommand(opts: WorkerRunOptions): Promise<number> {
  const name = opts.name === undefined ? "worker" : String(opts.name);
  if (!/^[\w.-]{1,64}$/.test(name))
    throw usageError(`--name "${name}" is not valid: use 1-64 letters, digits, '.', '_' or '-'`);
  // --host/--port replace those parts of the configured server URL, as for every remote command.
  const { url } = serverUrl({
    serverUrl: opts.serverUrl,
    host: opts.host,
    port: opts.port,
    token: opts.token,
  });
  const config = loadConfig(process.env, {
    NOETL_SERVER_URL: url,
    NOETL_API_TOKEN: opts.token,
    NOETL_WORKER_CONCURRENCY: opts.concurrency,
    NOETL_WORKER_POOL_NAME: opts.pool,
  });
  const log = createLogger("worker", config.log);
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      log.warn(`second ${sig}, exiting now`);
      process.exit(130);
    }
    log.info(`${sig} received, stopping`);
    stop.abort();
  };
  process.on("SIGTERM", onSignal).on("SIGINT", onSignal);
  try {
    const { runWorker } = await import("../worker/worker");
    return await runWorker(config, { signal: stop.signal, log, name });
  } finally {
    process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
  }
}
