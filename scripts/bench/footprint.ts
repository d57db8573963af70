// `npm run bench:footprint`: start-up time and idle memory, the two SPEC §15 rows no other bench
// covers. Prints one table. Start-up is a ratio to `node -e 0` of the same Node, so the machine's
// speed cancels out; memory is VmRSS of the very process we started, ~10 s after it is up.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { buildConfig } from "../../build.config.ts";

const ADMIN = process.env.NOETL_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const cli = join(process.cwd(), buildConfig.bundle);
const exe = join(process.cwd(), buildConfig.binDir, "noetl-linux-x64");
// The Node that pkg embedded, at the path scripts/release/node-binaries.ts caches it.
const seaNode = `node-v${buildConfig.embeddedNode}-linux-x64`;
const embeddedNode = join(homedir(), ".pkg-cache", "sea", seaNode, "bin", "node");
const dbName = `noetl_bench_fp_${process.pid}`;
const dbUrl = ADMIN.replace(/\/[^/]*$/, `/${dbName}`);
const children: ChildProcess[] = [];
const homes: string[] = [];
const rows: string[][] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mark = (ok: boolean) => (ok ? "✓" : "✗");
const succeeds = (p: Promise<unknown>) => p.then(() => true).catch(() => false);

// The bench's own NOETL_*/NATS_URL must not leak in: an idle process here means defaults only.
function baseEnv(withCaCerts: boolean): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("NOETL_") && k !== "NATS_URL"),
  );
  if (!withCaCerts) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

function startupMs(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const once = () => {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  once(); // warm-ups: the first runs pay for the page cache, not for start-up
  once();
  return median(Array.from({ length: RUNS }, once));
}

function startupRow(label: string, node: string, cmd: string, args: string[], target?: number): void {
  for (const ca of [true, false]) {
    const env = baseEnv(ca);
    const base = startupMs(node, ["-e", "0"], env);
    const ms = startupMs(cmd, args, env);
    const ratio = ms / base;
    rows.push([
      `${label} (NODE_EXTRA_CA_CERTS ${ca ? "set" : "unset"})`,
      `${ms.toFixed(1)} ms = ${ratio.toFixed(2)} × node -e 0 (${base.toFixed(1)} ms)`,
      target ? `≤ ${target} × ${mark(ratio <= target)}` : "no target (for comparison)",
    ]);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), "noetl-bench-fp-"));
  homes.push(home);
  return home;
}

function start(
  runner: string[],
  args: string[],
  env: Record<string, string>,
  home = newHome(),
): ChildProcess {
  const child = spawn(runner[0]!, [...runner.slice(1), ...args], {
    env: { ...baseEnv(true), NOETL_HOME: home, NOETL_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

async function waitHealthy(base: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it was healthy`);
    if (await succeeds(fetch(`${base}/api/health`).then((r) => r.ok || Promise.reject()))) return;
    await sleep(100);
  }
  throw new Error(`${base}/api/health did not answer in 30 s`);
}

// Values in /proc/PID/status are kB; MB here is 1024 kB, as `ps` and `top` count.
function rss(pid: number): { total: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const mb = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))![1]) / 1024;
  return { total: mb("VmRSS"), anon: mb("RssAnon"), file: mb("RssFile") };
}

function memoryRow(label: string, child: ChildProcess, target: number): void {
  const m = rss(child.pid!);
  rows.push([
    label,
    `${m.total.toFixed(1)} MB (anon ${m.anon.toFixed(1)}, file ${m.file.toFixed(1)})`,
    `≤ ${target} MB ${mark(m.total <= target)}`,
  ]);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve).once("error", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

// Newest first and one at a time: a worker stopping gracefully still reports to its server.
async function stopAll(): Promise<void> {
  for (const c of children.reverse()) await stop(c);
  children.length = 0;
}

async function idleServer(runner: string[], env: Record<string, string>, home?: string) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = ["server", "run", "--host", "127.0.0.1", "--port", String(port), "--init-db"];
  const server = start(runner, args, env, home);
  await waitHealthy(base, server);
  return { server, base };
}

async function memory(name: string, runner: string[], pgOk: boolean): Promise<void> {
  const home = newHome();
  const { server, base } = await idleServer(runner, {}, home);
  const worker = start(runner, ["worker", "run", "--name", "bench-fp"], { NOETL_SERVER_URL: base });
  await sleep(IDLE_MS);
  memoryRow(`memory: idle server, PGlite, fresh data dir (${name})`, server, 90);
  memoryRow(`memory: idle worker (${name})`, worker, 60);
  await stopAll();

  // A fresh data dir runs initdb first, whose garbage outlives it; every later start skips it.
  const reopened = (await idleServer(runner, {}, home)).server;
  await sleep(IDLE_MS);
  memoryRow(`memory: idle server, PGlite, data dir reopened (${name})`, reopened, 90);
  await stopAll();

  if (!pgOk) {
    rows.push([`memory: idle server, PostgreSQL (${name})`, "not measured", `no PostgreSQL at ${ADMIN}`]);
    return;
  }
  const pgServer = (await idleServer(runner, { NOETL_DATABASE_URL: dbUrl })).server;
  await sleep(IDLE_MS);
  memoryRow(`memory: idle server, PostgreSQL (${name})`, pgServer, 90);
  await stopAll();
}

async function main(): Promise<void> {
  const built = existsSync(exe);
  const missing = (figure: string) =>
    rows.push([figure, "not measured", "run npm run release -- noetl-linux-x64 first"]);
  const exeStart = "start-up: executable --version";
  if (!built) missing(exeStart);
  else if (!existsSync(embeddedNode)) rows.push([exeStart, "not measured", `no ${embeddedNode}`]);
  else startupRow(exeStart, embeddedNode, exe, ["--version"], 1.5);
  const node = process.execPath;
  startupRow("start-up: node dist/noetl.cjs --version", node, node, [cli, "--version"]);

  const admin = postgres(ADMIN, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const pgOk = await succeeds(admin.unsafe(`create database "${dbName}"`));
  try {
    await memory(`node ${buildConfig.bundle}`, [process.execPath, cli], pgOk);
    if (built) await memory("executable", [exe], pgOk);
    else missing("memory: idle server / worker (executable)");
  } finally {
    await stopAll();
    if (pgOk) await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => {});
    await admin.end();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  }

  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), 10));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(line(["figure", "measured", "target (SPEC §15)"]));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

await main();
