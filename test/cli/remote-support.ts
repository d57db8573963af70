// For the remote CLI tests: a real server (`noetl server run` on 127.0.0.1, port chosen by the
// OS, PGlite in a temporary NOETL_HOME), a worker (`noetl worker run` when the build has it,
// else this process plays the worker through the API), and the built CLI run against them.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliPath } from "../support/paths";

export const fixtures = new URL("./remote-fixtures/", import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without anything that could point the CLI at another server or database. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  for (const k of Object.keys(env)) {
    if (k in extra) continue;
    if (k.startsWith("POSTGRES_") || k.startsWith("NOETL_") || k === "NATS_URL") delete env[k];
  }
  return env;
}

/** Runs the built CLI; `onStdout` sees output as it arrives (to send a signal at the right moment). */
export function noetl(
  args: string[],
  opts: {
    env?: Record<string, string>;
    timeoutMs?: number;
    onStdout?: (all: string, child: ChildProcess) => void;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: cleanEnv(opts.env), stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      opts.onStdout?.(stdout, child);
    });
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}

export interface Cluster {
  url: string;
  home: string;
  worker: "process" | "in-test" | "none";
  stop(): Promise<void>;
}

export async function startCluster(
  opts: { token?: string; secretKey?: string; worker?: boolean } = {},
): Promise<Cluster> {
  assert.ok(existsSync(cliPath), `${cliPath} is missing: run \`npm run build\` first`);
  const home = await mkdtemp(join(tmpdir(), "noetl-remote-test-"));
  const children: ChildProcess[] = [];
  let stopInTest: (() => Promise<void>) | undefined;
  const stop = async () => {
    await stopInTest?.();
    for (const c of children.reverse()) await kill(c);
    await rm(home, { recursive: true, force: true });
  };
  try {
    const env: Record<string, string> = { NOETL_HOME: home };
    if (opts.token) env.NOETL_API_TOKEN = opts.token;
    if (opts.secretKey) env.NOETL_SECRET_KEY = opts.secretKey;
    const server = spawn(process.execPath, [cliPath, "server", "run", "--host", "127.0.0.1", "--port", "0"], {
      env: cleanEnv(env),
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(server);
    const url = await listening(server);
    await waitHealthy(url);
    let worker: Cluster["worker"] = "none";
    if (opts.worker !== false) {
      const workerEnv = {
        NOETL_HOME: home,
        NOETL_SERVER_URL: url,
        ...(opts.token ? { NOETL_API_TOKEN: opts.token } : {}),
      };
      // NOETL_REMOTE_TEST_WORKER=in-test checks the stand-in even when the build has a worker.
      if (process.env.NOETL_REMOTE_TEST_WORKER !== "in-test" && hasWorkerCommand()) {
        const w = spawn(process.execPath, [cliPath, "worker", "run", "--name", "remote-test"], {
          env: cleanEnv(workerEnv),
          stdio: "ignore",
        });
        children.push(w);
        worker = "process";
      } else {
        const { playWorker } = await import("./remote-worker");
        stopInTest = playWorker(url, opts.token);
        worker = "in-test";
      }
    }
    return { url, home, worker, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function hasWorkerCommand(): boolean {
  const r = spawnSync(process.execPath, [cliPath, "worker", "--help"], { encoding: "utf8", timeout: 20_000 });
  return r.status === 0 && /worker run/.test(r.stdout);
}

function listening(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`server not listening within 90 s: ${stderr}`)), 90_000);
    server.stderr!.on("data", (d) => {
      stderr += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening: ${stderr}`));
    });
  });
}

async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url}/health did not answer within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process is gone. */
function kill(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => c.kill("SIGKILL"), 10_000);
    c.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    c.kill("SIGTERM");
  });
}

/** Lines of progress with durations blanked, so a local and a remote run can be compared. */
export function progressLines(out: string): string[] {
  return out
    .trim()
    .split("\n")
    .map((l) => l.replace(/\d+(\.\d+)? (ms|s)\b/g, "T"));
}
