// `noetl server run`: the foreground server, a thin adapter around the server app — loads config,
// opens the store, listens, and on SIGTERM/SIGINT closes the listener, the event streams and the store in
// reverse order of opening. A second signal forces the exit.
import type { AddressInfo } from "node:net";
import { isLoopback, loadConfig } from "../config/config";
import { errorMessage, NoetlError } from "../errors";
import { createLogger, type Logger } from "../log";
import { runSelf } from "../process/self";
import { isFreshDataDir } from "../store/pglite-dir";

declare const __NOETL_VERSION__: string;
const VERSION = typeof __NOETL_VERSION__ === "string" ? __NOETL_VERSION__ : "0.0.0-dev";

export interface ServerOptions {
  host?: string;
  port?: string | number;
  initDb?: boolean;
}

export async function serverRunCommand(opts: ServerOptions): Promise<number> {
  const config = loadConfig(process.env, { NOETL_HOST: opts.host, NOETL_PORT: opts.port });
  const logger = createLogger("server", config.log);
  const log = (line: string) => logger.info(line);
  // Listen for signals before anything is announced: a supervisor (or test) that signals as soon
  // as it reads "listening" must not meet the default action, which kills without cleanup.
  const signalled = waitForSignal(logger);
  const releasers: Array<() => Promise<void> | void> = [];
  const release = async () => {
    for (const r of releasers.reverse())
      await Promise.resolve(r()).catch((e) => logger.error(`while stopping: ${errorMessage(e)}`));
    releasers.length = 0;
  };
  try {
    const [{ openStore }, { createApp }, { Metrics }, { SecretBox }, { serve }, orchestration] =
      await Promise.all([
        import("../store/open"),
        import("../server/app"),
        import("../server/metrics"),
        import("../crypto/secret-box"),
        import("@hono/node-server"),
        import("../server/orchestrator/index"),
      ]);
    const metrics = new Metrics();
    // The embedded database is ours alone, so it is initialised on first use; a shared
    // PostgreSQL is only migrated when asked (--init-db or `noetl db init`).
    const migrate = Boolean(opts.initDb) || config.database.kind === "pglite";
    if (config.database.kind === "pglite" && isFreshDataDir(config.database.dataDir))
      await createEmbeddedDatabase(config.database.dataDir, log);
    const store = await openStore(config.database, {
      migrate,
      hooks: { onAppend: (ms, n) => metrics.observeAppend(ms, n) },
    });
    releasers.push(() => store.close());
    const shutdown = new AbortController();
    releasers.push(() => shutdown.abort());
    // The wake-up listener needs the signal and the orchestrator needs the publisher.
    let wakeClaims = () => {};
    const wakeups = config.natsUrl
      ? await startWakeups(config.natsUrl, () => wakeClaims(), shutdown.signal, log)
      : undefined;
    const { orchestrator, workSignal } = orchestration.createOrchestration(store, {
      leaseMs: config.leaseMs,
      onPending: wakeups?.publish,
      onCancelled: wakeups?.publishCancel,
    });
    wakeClaims = () => workSignal.notify();
    const sweeper = orchestration.startSweeper(orchestrator, shutdown.signal, log);
    releasers.push(async () => {
      shutdown.abort();
      await sweeper;
      await wakeups?.stopped;
    });
    const app = createApp({
      orchestrator,
      workSignal,
      store,
      config,
      metrics,
      secretBox: config.secretKey ? new SecretBox(config.secretKey) : undefined,
      shutdown: shutdown.signal,
      version: VERSION,
    });

    const { host, port } = config.server;
    const server = serve({ fetch: app.fetch, hostname: host, port });
    const address = await new Promise<AddressInfo>((resolve, reject) => {
      server.once("listening", () => resolve(server.address() as AddressInfo));
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new NoetlError(
            "UNAVAILABLE",
            `cannot listen on ${host}:${port}: ${err.code === "EADDRINUSE" ? "the address is in use" : err.message}`,
          ),
        ),
      );
    });
    releasers.push(() => closeServer(server));

    warnings(config, host, logger);
    const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
    log(
      `listening on http://${shown}:${address.port} (bound to ${host}; storage: ${store.backend} ${store.location})`,
    );

    const signal = await signalled;
    log(`${signal} received, stopping`);
    await release();
    log("stopped");
    return 0;
  } catch (err) {
    await release();
    throw err;
  }
}

async function startWakeups(
  url: string,
  onRemoteWork: () => void,
  stop: AbortSignal,
  log: (line: string) => void,
) {
  const { startWakeups: start } = await import("../server/wakeups");
  return start(url, onRemoteWork, stop, log);
}

function warnings(config: ReturnType<typeof loadConfig>, host: string, logger: Logger): void {
  if (!config.apiToken && !isLoopback(host)) {
    // The WARNING prefix stays in the message: it must stand out in pretty and JSON logs alike.
    logger.warn(
      "WARNING: NOETL_API_TOKEN is not set and the server accepts connections from other machines:",
    );
    logger.warn(
      "WARNING: anyone who can reach it can register and run playbooks. Set NOETL_API_TOKEN or bind to 127.0.0.1.",
    );
  }
  if (!config.secretKey) logger.info("note: NOETL_SECRET_KEY is not set, so credentials cannot be stored");
}

function waitForSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off("SIGTERM", on).off("SIGINT", on);
      // A second signal while stopping: give up on being graceful.
      const force = () => {
        logger.warn("second signal, exiting now");
        process.exit(130);
      };
      // Deno hands the signal being dispatched to listeners added during the dispatch, which
      // would take the first signal for a second one: arm the forced exit on the next turn.
      setImmediate(() => process.once("SIGTERM", force).once("SIGINT", force));
      resolve(sig);
    };
    process.on("SIGTERM", on).on("SIGINT", on);
  });
}

type Closable = { close(cb: (err?: Error) => void): unknown; closeAllConnections?: () => void };

// In-flight requests get a few seconds; then the remaining connections are cut.
async function closeServer(server: Closable): Promise<void> {
  const timer = setTimeout(() => server.closeAllConnections?.(), 5000);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  clearTimeout(timer);
}

/**
 * initdb in WebAssembly leaves ~100 MB of freed memory that the C allocator keeps for good, so a
 * new embedded database is created by a short-lived `noetl db init` and the server opens it as it
 * would any existing one (it idled at 250 MB, now 125 MB like a reopened one).
 */
async function createEmbeddedDatabase(dataDir: string, log: (line: string) => void): Promise<void> {
  log(`creating the embedded database in ${dataDir} (first start; takes a few seconds)`);
  const r = await runSelf(["db", "init"]);
  if (r.code !== 0)
    throw new NoetlError(
      "UNAVAILABLE",
      `cannot create the embedded database in ${dataDir}: ${
        r.stderr
          .trim()
          .replace(/^noetl: /, "")
          .replace(/ \(run with -v for details\)$/, "") || `exit code ${r.code}`
      }`,
    );
}
