// `npm run bench:distributed`: server + workers + PostgreSQL + NATS on this machine, next to
// pg-boss on the same PostgreSQL. Prints one table. Times come from the server's own
// started_at/ended_at (database clock), so polling does not add to them.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

const ADMIN = process.env.NOETL_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LOOP_ITEMS = Number(process.env.BENCH_LOOP_ITEMS ?? 10_000);
const LOOP_RUNS = Number(process.env.BENCH_LOOP_RUNS ?? 3);
/** Comma-separated subset of seq,loop,pgboss (default: all), for profiling one part. */
const PARTS = new Set((process.env.BENCH_PARTS ?? "seq,loop,pgboss").split(","));
const cli = join(process.cwd(), "dist", "noetl.cjs");
const children: ChildProcess[] = [];
const home = mkdtempSync(join(tmpdir(), "noetl-bench-"));
const dbName = `noetl_bench_${process.pid}`;
const dbUrl = ADMIN.replace(/\/[^/]*$/, `/${dbName}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function start(args: string[], env: Record<string, string>): ChildProcess {
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server and workers.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
    env: { ...process.env, NOETL_HOME: home, NOETL_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

async function api(base: string, method: string, path: string, body?: unknown, type = "application/json") {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": type },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function runOnce(base: string, path: string, timeoutMs: number): Promise<number> {
  const { execution_id } = await api(base, "POST", "/api/execute", { path });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await api(base, "GET", `/api/executions/${execution_id}/status`);
    if (s.status === "COMPLETED") return Date.parse(s.ended_at) - Date.parse(s.started_at);
    if (s.status !== "RUNNING" && s.status !== "PENDING")
      throw new Error(`${path}: ${s.status} ${JSON.stringify(s.error)}`);
    if (Date.now() > deadline) throw new Error(`${path} did not finish in ${timeoutMs} ms`);
    await sleep(20);
  }
}

function sequential(n: number): string {
  const steps = Array.from(
    { length: n },
    (_, i) => `  - step: s${i}\n    tool: {kind: noop}${i < n - 1 ? `\n    next: s${i + 1}` : ""}`,
  );
  return `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: seq, path: bench/seq${n}}\nexecutor: {spec: {entry_step: s0}}\nworkflow:\n${steps.join("\n")}\n`;
}

function parallelLoop(n: number): string {
  return `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: fan, path: bench/fan}
workload: {n: ${n}}
workflow:
  - step: start
    loop: {in: "{{ range(n) | list }}", iterator: i, spec: {mode: parallel, max_in_flight: 256}}
    tool: {kind: noop}
`;
}

async function pgBoss(): Promise<{ hop: number; drain: number }> {
  const { default: PgBoss } = await import("pg-boss");
  const boss = new PgBoss({ connectionString: dbUrl, schema: "pgboss_bench" });
  boss.on("error", () => {});
  await boss.start();
  await boss.createQueue("chain");
  // 40 chained jobs: each handler enqueues the next and wakes the worker (pg-boss's fast path).
  const hops: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let left = 40;
    let done!: () => void;
    const finished = new Promise<void>((res) => (done = res));
    const id = await boss.work("chain", { pollingIntervalSeconds: 0.5 }, async () => {
      left--;
      if (left === 0) done();
      else {
        await boss.send("chain", {});
        boss.notifyWorker(id);
      }
    });
    const t0 = performance.now();
    await boss.send("chain", {});
    boss.notifyWorker(id);
    await finished;
    hops.push((performance.now() - t0) / 40);
    await boss.offWork("chain");
  }
  await boss.createQueue("drain");
  await boss.insert(Array.from({ length: LOOP_ITEMS }, () => ({ name: "drain", data: {} })));
  const second = new PgBoss({ connectionString: dbUrl, schema: "pgboss_bench" });
  second.on("error", () => {});
  await second.start();
  let left = LOOP_ITEMS;
  let done!: () => void;
  const finished = new Promise<void>((res) => (done = res));
  const handler = async (jobs: unknown[]) => {
    left -= jobs.length;
    if (left <= 0) done();
  };
  const t0 = performance.now();
  await boss.work("drain", { batchSize: 50, pollingIntervalSeconds: 0.5 }, handler);
  await second.work("drain", { batchSize: 50, pollingIntervalSeconds: 0.5 }, handler);
  await finished;
  const drain = LOOP_ITEMS / ((performance.now() - t0) / 1000);
  await second.stop({ graceful: false, wait: true });
  await boss.stop({ graceful: false, wait: true });
  return { hop: median(hops), drain };
}

async function main(): Promise<void> {
  const admin = postgres(ADMIN, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  const rows: string[][] = [];
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { NOETL_DATABASE_URL: dbUrl, NATS_URL: NATS, NOETL_SERVER_URL: base };
    start(["server", "run", "--host", "127.0.0.1", "--port", String(port), "--init-db"], env);
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${base}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
    start(["worker", "run", "--name", "bench1", "--concurrency", "8"], env);
    for (const y of [sequential(40), parallelLoop(LOOP_ITEMS)])
      await api(base, "POST", "/api/catalog/register", y, "application/yaml");
    let seq = Number.NaN;
    if (PARTS.has("seq")) {
      await runOnce(base, "bench/seq40", 60_000); // warm-up
      const runs: number[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await runOnce(base, "bench/seq40", 60_000));
      seq = median(runs);
      rows.push([
        "distributed: 40 sequential noop steps, 1 worker",
        `${(seq / 40).toFixed(2)} ms per step`,
        "target ≤ 5 ms; Windmill 9.8, Temporal 19, Hatchet 31 (4 vCPU)",
      ]);
    }

    let stepsPerS = Number.NaN;
    if (PARTS.has("loop")) {
      start(["worker", "run", "--name", "bench2", "--concurrency", "8"], env);
      await sleep(500);
      const loops: number[] = [];
      for (let r = 0; r < LOOP_RUNS; r++) loops.push(await runOnce(base, "bench/fan", 600_000));
      stepsPerS = LOOP_ITEMS / (median(loops) / 1000);
      if (process.env.BENCH_VERBOSE) console.error("loop runs (ms):", loops.join(", "));
      rows.push([
        `distributed: parallel loop of ${LOOP_ITEMS} noop items, 2 workers (median of ${LOOP_RUNS})`,
        `${stepsPerS.toFixed(0)} steps/s`,
        "target ≥ 2,000 steps/s",
      ]);
    }

    if (PARTS.has("pgboss")) {
      const boss = await pgBoss();
      rows.push([
        "pg-boss 10: 40 chained jobs (notifyWorker)",
        `${boss.hop.toFixed(2)} ms per hop`,
        `noetl is ${(boss.hop / (seq / 40)).toFixed(2)} × pg-boss`,
      ]);
      rows.push([
        `pg-boss 10: drain ${LOOP_ITEMS} jobs, 2 workers, batch 50`,
        `${boss.drain.toFixed(0)} jobs/s`,
        `noetl is ${(stepsPerS / boss.drain).toFixed(2)} × pg-boss (target ≥ 1 ×)`,
      ]);
    }
  } finally {
    // Workers first (started last), so they do not log the server's going away into the table.
    for (const c of [...children].reverse()) {
      if (c.exitCode !== null) continue;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      await Promise.race([exited, sleep(1500)]);
      if (c.exitCode === null) c.kill("SIGKILL");
    }
    await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => {});
    await admin.end();
    rmSync(home, { recursive: true, force: true });
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), 10));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(line(["figure", "measured", "comparison"]));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

await main();
