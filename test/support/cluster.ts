// A real distributed NoETL on loopback for tests: the built CLI as server (`server run`) and as
// workers (`worker run`), a temporary NOETL_HOME, PGlite or a scratch PostgreSQL database,
// optionally NATS. Every process is killed by PID and every temporary thing removed in stop();
// every wait is bounded.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliPath } from "./paths";
import { createScratchDb } from "./services";

export const NATS_TEST_URL = process.env.NOETL_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ExecutionDoc {
  execution_id: string;
  status: string;
  result: unknown;
  error?: string | null;
  steps: { step: string; status: string; duration_ms: number }[];
}

export interface ClusterOptions {
  store: "pglite" | "postgres";
  /** Give the server NATS_URL (the default NATS on loopback). */
  nats?: boolean;
  /** Workers to start with the server (default 1). */
  workers?: number;
  concurrency?: number;
  /** Extra environment for the server and the workers. */
  env?: Record<string, string>;
  /** Extra environment for the workers only (e.g. a NATS_URL of their own). */
  workerEnv?: Record<string, string>;
  /** Do not start the server yet (call startServer later). */
  deferServer?: boolean;
}

const live = new Set<ChildProcess>();
// A test that crashes must not leave servers behind.
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function natsAvailable(url = NATS_TEST_URL): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = createConnection({ host: u.hostname, port: Number(u.port || 4222) });
    const done = (reason: string | undefined) => {
      sock.destroy();
      resolve(reason);
    };
    sock.setTimeout(2000, () => done(`NATS at ${url} does not answer`));
    sock.once("connect", () => done(undefined));
    sock.once("error", (e) => done(`NATS at ${url} is unreachable (${e.message})`));
  });
}

/**
 * natsAvailable for deciding whether a test file can run: under CI=true (where a missing service
 * is a failure) it keeps asking for 20 s, because the chaos test stops NATS on purpose for a few
 * seconds while other test files start.
 */
export async function natsMissing(): Promise<string | undefined> {
  const deadline = Date.now() + (process.env.CI === "true" ? 20_000 : 0);
  for (;;) {
    const why = await natsAvailable();
    if (!why || Date.now() >= deadline) return why;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The environment without any NoETL or PostgreSQL settings of the machine running the tests. */
function cleanEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(NOETL_|POSTGRES_|NATS_URL$)/.test(k)) env[k] = v;
  return { ...env, NO_COLOR: "1", ...extra };
}

export function spawnCli(name: string, args: string[], env: Record<string, string | undefined>): Proc {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let out = "";
  child.stdout?.on("data", (d) => (out = (out + d).slice(-200_000)));
  child.stderr?.on("data", (d) => (out = (out + d).slice(-200_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  return { name, child, pid: child.pid, output: () => out, exited };
}

/** SIGTERM, then SIGKILL after `ms`; resolves with how the process ended. */
export async function stopProc(
  p: Proc,
  ms = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.child.exitCode === null && p.child.signalCode === null) process.kill(p.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (p.child.exitCode === null && p.child.signalCode === null) process.kill(p.pid, "SIGKILL");
  }, ms);
  const r = await p.exited;
  clearTimeout(timer);
  return r;
}

export class Cluster {
  readonly url: string;
  server?: Proc;
  readonly workers: Proc[] = [];
  private workerCount = 0;

  private constructor(
    readonly opts: ClusterOptions,
    readonly port: number,
    readonly dir: string,
    readonly databaseUrl: string | undefined,
    private readonly dropDb: (() => Promise<void>) | undefined,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(opts: ClusterOptions): Promise<Cluster> {
    const dir = mkdtempSync(join(tmpdir(), "noetl-cluster-"));
    const db = opts.store === "postgres" ? await createScratchDb("noetl_cluster") : undefined;
    const c = new Cluster(opts, await freePort(), dir, db?.url, db?.drop);
    try {
      if (!opts.deferServer) await c.startServer();
      for (let i = 0; i < (opts.workers ?? 1); i++) c.startWorker();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  private env(extra: Record<string, string | undefined> = {}) {
    return cleanEnv({
      NOETL_HOME: join(this.dir, ".noetl"),
      NOETL_LOG_LEVEL: "info",
      ...(this.databaseUrl ? { NOETL_DATABASE_URL: this.databaseUrl } : {}),
      ...(this.opts.nats ? { NATS_URL: NATS_TEST_URL } : {}),
      ...this.opts.env,
      ...extra,
    });
  }

  /** Starts the server and waits until /health answers (PGlite's first start can take a while). */
  async startServer(timeoutMs = 120_000, env: Record<string, string> = {}): Promise<void> {
    const args = ["server", "run", "--host", "127.0.0.1", "--port", String(this.port), "--init-db"];
    const server = spawnCli("server", args, this.env(env));
    this.server = server;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (server.child.exitCode !== null) throw new Error(`the server exited early:\n${server.output()}`);
      try {
        const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the server did not answer /health within ${timeoutMs} ms:\n${server.output()}`);
  }

  /** Stops the server (SIGTERM, or SIGKILL with `kill`) and starts it again on the same port. */
  async restartServer(kill = false): Promise<void> {
    if (this.server) {
      if (kill && this.server.child.exitCode === null) process.kill(this.server.pid, "SIGKILL");
      await stopProc(this.server);
    }
    await this.startServer();
  }

  startWorker(opts: { concurrency?: number; env?: Record<string, string>; args?: string[] } = {}): Proc {
    const name = `w${++this.workerCount}`;
    const concurrency = opts.concurrency ?? this.opts.concurrency ?? 4;
    const args = [
      "worker",
      "run",
      "--name",
      name,
      "--concurrency",
      String(concurrency),
      ...(opts.args ?? []),
    ];
    const env = this.env({ NOETL_SERVER_URL: this.url, ...this.opts.workerEnv, ...opts.env });
    const w = spawnCli(name, args, env);
    this.workers.push(w);
    return w;
  }

  /** Waits until the worker has said hello to the server (its first heartbeat). */
  async workerReady(w: Proc, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (w.child.exitCode !== null) throw new Error(`worker ${w.name} exited:\n${w.output()}`);
      const r = await this.api("GET", "/api/workers").catch(() => undefined);
      const ids: string[] = (r?.json?.items ?? []).map((x: { worker_id: string }) => x.worker_id);
      if (ids.some((id) => id.startsWith(`${w.name}-`) && id.endsWith(`-${w.pid}`))) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`worker ${w.name} did not register within ${timeoutMs} ms:\n${w.output()}`);
  }

  async api(method: string, path: string, body?: unknown, contentType = "application/json") {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": contentType },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  async register(yaml: string): Promise<{ path: string; version: number }> {
    const r = await this.api("POST", "/api/catalog/register", yaml, "application/yaml");
    if (r.status !== 200 && r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`);
    return { path: r.json.path, version: r.json.version };
  }

  async execute(path: string, workload: Record<string, unknown> = {}, version?: number): Promise<string> {
    const r = await this.api("POST", "/api/execute", { path, workload, ...(version ? { version } : {}) });
    if (r.status !== 201) throw new Error(`execute failed: ${r.status} ${r.text}`);
    return r.json.execution_id;
  }

  /** Polls the light status until it is terminal, then returns the full document. */
  async waitDone(id: string, timeoutMs = 60_000): Promise<ExecutionDoc> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
      const r = await this.api("GET", `/api/executions/${id}/status`);
      if (r.status === 200 && ["COMPLETED", "FAILED", "CANCELLED"].includes(r.json.status))
        return (await this.api("GET", `/api/executions/${id}`)).json;
      await new Promise((res) => setTimeout(res, delay));
    }
    throw new Error(`execution ${id} did not finish within ${timeoutMs} ms\n${this.logs()}`);
  }

  async run(yaml: string, workload: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<ExecutionDoc> {
    const { path, version } = await this.register(yaml);
    return this.waitDone(await this.execute(path, workload, version), timeoutMs);
  }

  async events(id: string): Promise<{ type: string; step?: string }[]> {
    return (await this.api("GET", `/api/executions/${id}/events?limit=1000`)).json.items;
  }

  /** The tail of every process's output, for assertion messages. */
  logs(chars = 3000): string {
    return [this.server, ...this.workers]
      .filter((p): p is Proc => Boolean(p))
      .map((p) => `--- ${p.name} (pid ${p.pid})\n${p.output().slice(-chars)}`)
      .join("\n");
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => stopProc(w)));
    if (this.server) await stopProc(this.server);
    await this.dropDb?.().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
