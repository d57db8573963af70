// Event-append latency through the Store, on PGlite and on PostgreSQL (a scratch database that
// is created and dropped). Each append is what the orchestrator will do per event: one
// transaction taking the execution's lock and appending one event.
//
//   node --import tsx scripts/bench/append.ts [--n 10000] [--backend pglite|postgres|all]
//   NOETL_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres (admin URL, the default)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { openStore } from "../../src/store/open";
import type { Store } from "../../src/store/types";

const { values } = parseArgs({
  options: { n: { type: "string", default: "10000" }, backend: { type: "string", default: "all" } },
});
const N = Number(values.n);
const ADMIN = process.env.NOETL_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function bench(name: string, store: Store): Promise<void> {
  const inner: number[] = [];
  const total: number[] = [];
  await store.transaction((tx) => tx.createExecution({ execution_id: "bench", status: "RUNNING" }));
  for (let i = 0; i < Math.min(500, N); i++) await append(store, i); // warm-up
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const ms = await append(store, i);
    total.push(performance.now() - t0);
    inner.push(ms);
  }
  const line = (label: string, xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3);
    return `${name.padEnd(9)} ${label.padEnd(34)} p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  max ${s.at(-1)!.toFixed(2)} ms`;
  };
  console.log(line("transaction{lock, append 1 event}", total));
  console.log(line("appendEvents alone (INSERT)", inner));
  console.log(
    `${name.padEnd(9)} throughput ${(N / (total.reduce((a, b) => a + b, 0) / 1000)).toFixed(0)} appends/s`,
  );
}

async function append(store: Store, i: number): Promise<number> {
  return store.transaction(async (tx) => {
    await tx.lockExecution("bench");
    const t0 = performance.now();
    await tx.appendEvents([
      {
        execution_id: "bench",
        type: "command.completed",
        step: "s",
        command_id: String(i + 1),
        attempt: 1,
        payload: { i, data: { ok: true } },
      },
    ]);
    return performance.now() - t0;
  });
}

console.log(`event append, ${N} appends after 500 warm-up, node ${process.version}`);
if (values.backend === "all" || values.backend === "pglite") {
  const dir = await mkdtemp(join(tmpdir(), "noetl-bench-"));
  const store = await openStore({ kind: "pglite", dataDir: join(dir, "data") }, { migrate: true });
  try {
    await bench("pglite", store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
if (values.backend === "all" || values.backend === "postgres") {
  const name = `noetl_bench_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(ADMIN, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  const store = await openStore({ kind: "postgres", url: url.toString(), display: name }, { migrate: true });
  try {
    await bench("postgres", store);
  } finally {
    await store.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}
