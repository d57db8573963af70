// SPEC §16: the services go away during a run and the server and workers reconnect by
// themselves. NATS: the machine's nats-server is stopped (by its PID) and started again with
// the machine's own command; work must go on by long-polling meanwhile, and afterwards the
// server must publish wake-ups again and the workers hear them. PostgreSQL: every connection
// of the server to its scratch database is terminated, repeatedly, while reports arrive.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { connect } from "nats";
import postgres from "postgres";
import { type Cluster, NATS_TEST_URL, natsAvailable, type Proc } from "../support/cluster";
import { missingService, PG_ADMIN_URL } from "../support/services";
import {
  auditExecutions,
  chaosCluster,
  chaosSkip,
  logTails,
  playbook,
  shellChain,
  sleep,
  submitAll,
  tail,
  waitAll,
  withLogs,
  withoutTiming,
} from "./support";

const NATS_BIN = "/usr/sbin/nats-server";
const NATS_START = ["--start", "--oknodo", "--background", "--exec", NATS_BIN, "--"];
const NATS_ARGS = ["-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server"];
const NATS_LOG = ["-l", "/var/log/nats-server.log"];

/** The PID of the machine's nats-server on port 4222, if there is exactly one. */
function natsPid(): number | undefined {
  const out = spawnSync("pgrep", ["-x", "nats-server"], { encoding: "utf8" }).stdout ?? "";
  const pids = out
    .split("\n")
    .filter(Boolean)
    .map(Number)
    .filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("4222"));
  return pids.length === 1 ? pids[0] : undefined;
}

const natsSkip =
  chaosSkip ??
  missingService(
    !NATS_TEST_URL.endsWith("127.0.0.1:4222") || !existsSync(NATS_BIN) || natsPid() === undefined
      ? `the NATS at ${NATS_TEST_URL} is not a local nats-server this test can restart`
      : undefined,
  );

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopNats(): Promise<void> {
  const pid = natsPid();
  assert.ok(pid, "no nats-server to stop");
  process.kill(pid, "SIGTERM");
  for (let i = 0; alive(pid) && i < 100; i++) await sleep(100);
  if (alive(pid)) process.kill(pid, "SIGKILL");
}

/** Starts the machine's nats-server if it is not answering; the machine is left as found. */
async function ensureNats(): Promise<void> {
  if (!(await natsAvailable())) return;
  execFileSync("start-stop-daemon", [...NATS_START, ...NATS_ARGS, ...NATS_LOG], { stdio: "ignore" });
  for (let i = 0; (await natsAvailable()) && i < 100; i++) await sleep(100);
  const down = await natsAvailable();
  if (down) throw new Error(`nats-server did not come back: ${down}`);
}

const STEPS = 4;
const chain = playbook("services", shellChain(STEPS, 0.3));
// Wider than the workers' open claims can take at once, so commands are left pending.
const fan = playbook(
  "fan",
  `  - step: start
    loop: {in: "{{ range(200) | list }}", iterator: i, spec: {mode: parallel, max_in_flight: 200}}
    tool: {kind: noop}
`,
);
const expected = (n: number) => ({ stdout: `${STEPS}-${n}\n`, stderr: "", returncode: 0 });

describe("chaos: NATS restart and PostgreSQL connections cut", { skip: chaosSkip, timeout: 180_000 }, () => {
  let c: Cluster;
  let path: string;
  let version: number;
  before(async () => {
    // At debug level a worker says when it listens for wake-ups.
    c = await chaosCluster({ workerEnv: { NOETL_LOG_LEVEL: "debug" } });
    ({ path, version } = await c.register(chain));
    for (const w of c.workers) await c.workerReady(w);
  });
  after(async () => {
    // Whatever happened, the machine's NATS runs again.
    await ensureNats();
    await c?.stop();
  });

  async function waitFor(w: Proc, line: RegExp): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!line.test(w.output())) {
      assert.ok(Date.now() < deadline, `${w.name} never logged ${line}\n${tail(w.output())}`);
      await sleep(100);
    }
  }

  async function audit(ids: string[], first: number) {
    const docs = await waitAll(c, ids, 120_000);
    const { problems } = await auditExecutions(c, withoutTiming(docs), (i) => expected(first + i));
    assert.deepEqual(problems, [], problems.join("\n\n"));
    for (const p of [c.server, ...c.workers])
      assert.equal(p?.child.exitCode, null, `${p?.name} died\n${tail(p?.output() ?? "")}`);
  }

  const workloads = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ n: from + i }));

  it("NATS restarted mid-run: work goes on by long-polling, then wake-ups flow again", {
    skip: natsSkip,
  }, async () => {
    // Connected first, or "reconnects" would be about a first connection.
    for (const w of c.workers) await waitFor(w, /listening for wake-ups/);
    const t0 = Date.now();
    const ids = await submitAll(c, path, version, workloads(0, 6), 6);
    await stopNats();
    const stoppedMs = Date.now() - t0;
    try {
      // Executions submitted while NATS is down complete: the claims' long-poll carries the work.
      const during = await submitAll(c, path, version, workloads(6, 3), 3);
      ids.push(...during);
      await withLogs(c, () => waitAll(c, during, 30_000));
      assert.ok(await natsAvailable(), "NATS came back by itself: the test did not run without it");
    } finally {
      await ensureNats();
    }
    const downMs = Date.now() - t0 - stoppedMs;
    // The workers reconnect by themselves (nats.js says so in their log)...
    for (const w of c.workers) await waitFor(w, /NATS connection back/);
    // ...and the server publishes wake-ups again. It publishes when a commit leaves commands
    // pending (what waiting workers are handed goes to them directly), so the new work is a
    // loop wider than the workers' open claims.
    const nc = await connect({ servers: NATS_TEST_URL });
    try {
      const sub = nc.subscribe("noetl.commands.>", { max: 1, timeout: 15_000 });
      const woke = (async () => {
        for await (const m of sub) return m.subject;
      })();
      const wide = await c.register(fan);
      const fanId = await c.execute(wide.path, {}, wide.version);
      const subject = await woke.catch((e: Error) => `no wake-up: ${e.message}\n${logTails(c)}`);
      assert.equal(subject, "noetl.commands.default");
      assert.equal((await c.waitDone(fanId, 30_000)).status, "COMPLETED");
    } finally {
      await nc.close();
    }
    ids.push(...(await submitAll(c, path, version, workloads(9, 1), 1)));
    await audit(ids, 0);
    console.log(
      `# NATS stopped after ${stoppedMs} ms, down ${downMs} ms with 3 executions run meanwhile; ` +
        `${ids.length} executions in ${Date.now() - t0} ms`,
    );
  });

  it("PostgreSQL connections terminated every 300 ms mid-run: the executions complete", async () => {
    const t0 = Date.now();
    const ids = await submitAll(c, path, version, workloads(100, 10), 10);
    const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
    const db = new URL(c.databaseUrl as string).pathname.slice(1);
    let cuts = 0;
    let terminated = 0;
    try {
      // Cut until the run is over (or the server is gone), so that reports, claims and the
      // sweeper all meet a dead connection at some point.
      for (let i = 0; i < 15 && c.server?.child.exitCode === null; i++) {
        const status = await Promise.all(
          ids.map(async (id) => (await c.api("GET", `/api/executions/${id}/status`)).json.status),
        );
        if (status.every((s) => ["COMPLETED", "FAILED", "CANCELLED"].includes(s))) break;
        const rows = await admin`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
                                  WHERE datname = ${db} AND pid <> pg_backend_pid()`;
        terminated += rows.filter((r) => r.ok).length;
        cuts++;
        await sleep(300);
      }
    } catch (err) {
      // A refused status request means the server died: the assertion below says how.
      if (c.server?.child.exitCode === null) throw err;
    } finally {
      await admin.end({ timeout: 2 });
    }
    await sleep(200);
    const why = `the server died after its PostgreSQL connections were terminated (cut ${cuts})`;
    assert.equal(c.server?.child.exitCode, null, `${why}:\n${tail(c.server?.output() ?? "")}`);
    assert.ok(cuts >= 2 && terminated > 0, `only ${cuts} cuts (${terminated} connections) happened mid-run`);
    await withLogs(c, () => audit(ids, 100));
    const health = await c.api("GET", "/health");
    assert.equal(health.status, 200, health.text);
    console.log(
      `# ${cuts} cuts mid-run, ${terminated} server connections terminated; ` +
        `${ids.length} executions in ${Date.now() - t0} ms`,
    );
  });
});
