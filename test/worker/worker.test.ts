// The worker as a process against a real server: graceful stop, a server that comes up late,
// NATS down, and the concurrency limit. Uses PostgreSQL when the machine has it (a faster
// start), the embedded PGlite otherwise.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Cluster, freePort, natsMissing, type Proc } from "../support/cluster";
import { PG_ADMIN_URL, pgAvailable } from "../support/services";

const store = (await pgAvailable()) ? "pglite" : "postgres";
const nats = !(await natsMissing());

const playbook = (name: string, workflow: string) =>
  `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: ${name}, path: test/${name}}\nworkflow:\n${workflow}`;

const slowStep = playbook(
  "slow",
  `  - step: start
    tool: {kind: shell, cmds: "sleep 2; echo slept"}
`,
);

const chain = playbook(
  "chain",
  `  - step: a
    tool: {kind: js, code: "return 1"}
    next: b
  - step: b
    tool: {kind: js, code: "return 2"}
    next: c
  - step: c
    tool: {kind: noop, input: {sum: "{{ a.data + b.data }}"}}
`,
);

const parallelSleeps = playbook(
  "sleeps",
  `  - step: start
    loop: {in: "{{ [1, 2, 3, 4, 5, 6] }}", iterator: x, spec: {mode: parallel, max_in_flight: 6}}
    tool: {kind: shell, cmds: "sleep 1"}
`,
);

async function exitWithin(p: Proc, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((r) => {
    timer = setTimeout(() => r("late"), ms);
  });
  const r = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  return r;
}

/** Waits until the execution's first step has started on a worker. */
async function stepStarted(c: Cluster, id: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await c.events(id)).some((e) => e.type === "command.started")) {
    assert.ok(Date.now() < deadline, `the step never started\n${c.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The processes whose command line contains `marker` (pgrep's output; empty when none). */
function processesWith(marker: string): string {
  return spawnSync("pgrep", ["-f", marker], { encoding: "utf8" }).stdout.trim();
}

/** Waits until no process has `marker` in its command line; false if one still does at `deadline`. */
async function goneBy(marker: string, deadline: number): Promise<boolean> {
  while (processesWith(marker) !== "" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return processesWith(marker) === "";
}

async function stopWorker(p: Proc): Promise<void> {
  if (p.child.exitCode === null) process.kill(p.pid, "SIGTERM");
  if ((await exitWithin(p, 10_000)) === "late") process.kill(p.pid, "SIGKILL");
}

describe(`worker (${store}${nats ? " + NATS" : ""})`, { timeout: 300_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ store, nats, workers: 0 });
  });
  after(() => c?.stop());

  it("on SIGTERM lets the running step finish within the grace period, reports it and exits 0", async () => {
    const w = c.startWorker({ env: { NOETL_WORKER_GRACE_SECONDS: "20" } });
    await c.workerReady(w);
    const { path, version } = await c.register(slowStep);
    const id = await c.execute(path, {}, version);
    await stepStarted(c, id);
    const t0 = Date.now();
    process.kill(w.pid, "SIGTERM");
    const r = await exitWithin(w, 25_000);
    assert.notEqual(r, "late", `the worker did not exit\n${c.logs()}`);
    assert.deepEqual(r, { code: 0, signal: null }, c.logs());
    assert.ok(Date.now() - t0 >= 800, "the worker waited for the step");
    const doc = await c.waitDone(id, 10_000);
    assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
    assert.equal((doc.result as { stdout: string }).stdout, "slept\n");
  });

  it("--host replaces only the host of NOETL_SERVER_URL, as for the other remote commands", async () => {
    // The port comes from the URL: before, --host alone meant port 8082.
    const w = c.startWorker({
      env: { NOETL_SERVER_URL: c.url.replace("127.0.0.1", "nowhere.invalid") },
      args: ["--host", "127.0.0.1"],
    });
    try {
      await c.workerReady(w);
      const doc = await c.run(chain);
      assert.equal(doc.status, "COMPLETED", `${JSON.stringify(doc)}\n${c.logs()}`);
    } finally {
      await stopWorker(w);
    }
  });

  it("keeps its report through a server restart and delivers it when the server is back", async () => {
    const w = c.startWorker();
    try {
      await c.workerReady(w);
      const { path, version } = await c.register(slowStep);
      const id = await c.execute(path, {}, version);
      await stepStarted(c, id);
      // Killed, not stopped: the step ends while nobody listens, so the report must wait.
      await c.restartServer(true);
      const doc = await c.waitDone(id, 60_000);
      assert.equal(doc.status, "COMPLETED", `${JSON.stringify(doc)}\n${c.logs()}`);
      assert.equal((doc.result as { stdout: string }).stdout, "slept\n");
      assert.match(w.output(), /unreachable/, "the worker saw the server go away");
    } finally {
      await stopWorker(w);
    }
  });

  it("runs at most --concurrency commands at once: 6 parallel 1 s sleeps at 3 take two rounds", async () => {
    const w = c.startWorker({ concurrency: 3 });
    try {
      await c.workerReady(w);
      const { path, version } = await c.register(parallelSleeps);
      const id = await c.execute(path, {}, version);
      const doc = await c.waitDone(id, 60_000);
      assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
      // The events, in the order the server recorded them, say how many ran at once.
      let now = 0;
      let most = 0;
      for (const e of await c.events(id)) {
        if (e.type === "command.started") most = Math.max(most, ++now);
        if (e.type === "command.completed" || e.type === "command.failed") now--;
      }
      assert.equal(most, 3, `at most 3 commands at once, and 3 indeed\n${c.logs()}`);
      const ms = doc.steps.find((s) => s.step === "start")?.duration_ms ?? 0;
      // Two rounds of 1 s plus overheads; three rounds would take 3 s or more.
      assert.ok(ms >= 1900 && ms < 3000, `the loop took ${ms} ms; two rounds of 1 s expected\n${c.logs()}`);
    } finally {
      await stopWorker(w);
    }
  });

  it("a stopped worker's pending claim leases nothing: the next worker gets the work at once", async () => {
    const first = c.startWorker();
    await c.workerReady(first);
    await new Promise((r) => setTimeout(r, 200)); // its long-poll claim is waiting on the server now
    await stopWorker(first);
    assert.equal(first.child.exitCode, 0, first.output());
    const { path, version } = await c.register(chain);
    const id = await c.execute(path, {}, version);
    const second = c.startWorker();
    try {
      // A command leased to the departed worker would wait for its 30 s lease to expire.
      const doc = await c.waitDone(id, 15_000);
      assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
    } finally {
      await stopWorker(second);
    }
  });

  it("stops a cancelled execution's running tool at once when the server has NATS", {
    skip: nats ? false : "needs NATS (the cancel notice travels on it)",
  }, async () => {
    const marker = `cancel-me-${process.pid}-${Date.now()}`;
    const w = c.startWorker();
    try {
      await c.workerReady(w);
      const long = playbook(
        "long",
        `  - step: start\n    tool: {kind: shell, cmds: "sleep 30; echo ${marker}"}\n`,
      );
      const { path, version } = await c.register(long);
      const id = await c.execute(path, {}, version);
      await stepStarted(c, id);
      assert.notEqual(processesWith(marker), "", "the step's shell is running");
      assert.equal((await c.api("POST", `/api/executions/${id}/cancel`)).json.status, "CANCELLED");
      // Lease heartbeats come every 10 s (30 s leases); the notice must be much quicker.
      const deadline = Date.now() + 4000;
      assert.ok(await goneBy(marker, deadline), `the tool still runs after the cancel\n${w.output()}`);
      while (!/its execution was cancelled/.test(w.output()) && Date.now() < deadline + 2000)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(w.output(), /its execution was cancelled/);
    } finally {
      await stopWorker(w);
    }
  });

  it("stops the other tools of an execution that failed, as a local run does", {
    skip: nats ? false : "needs NATS (the stop notice travels on it)",
  }, async () => {
    const marker = `orphan-${process.pid}-${Date.now()}`;
    const w = c.startWorker();
    try {
      await c.workerReady(w);
      const cmds = `if [ {{ x }} = 1 ]; then sleep 0.5; exit 3; fi; sleep 30; echo ${marker}`;
      const failing = playbook(
        "failfast",
        `  - step: start\n    loop: {in: [1, 2], iterator: x, spec: {mode: parallel}}\n    tool: {kind: shell, cmds: "${cmds}"}\n`,
      );
      const doc = await c.run(failing, {}, 30_000);
      assert.equal(doc.status, "FAILED", JSON.stringify(doc));
      const gone = await goneBy(marker, Date.now() + 4000);
      assert.ok(gone, `the other iteration still runs after the failure\n${w.output()}`);
    } finally {
      await stopWorker(w);
    }
  });

  it("exits promptly on SIGTERM after running a postgres step (the tool's pool is closed)", {
    skip: store === "postgres" ? false : "needs PostgreSQL for the postgres tool",
  }, async () => {
    const w = c.startWorker();
    await c.workerReady(w);
    const query = playbook(
      "query",
      `  - step: start\n    tool: {kind: postgres, auth: {db_conn_string: "${PG_ADMIN_URL}"}, query: "select 1 as one"}\n`,
    );
    const doc = await c.run(query, {}, 30_000);
    assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
    process.kill(w.pid, "SIGTERM");
    const exit = await exitWithin(w, 5000);
    assert.notEqual(exit, "late", `the worker did not exit\n${w.output()}`);
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  it("completes by long-polling when NATS is down", async () => {
    const closed = await freePort();
    const w = c.startWorker({ env: { NATS_URL: `nats://127.0.0.1:${closed}` } });
    try {
      const doc = await c.run(chain, {}, 30_000);
      assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
      assert.deepEqual(doc.result, { sum: 3 });
      assert.match(w.output(), /NATS at .* is unreachable/);
    } finally {
      await stopWorker(w);
    }
  });
});

describe(`worker with a token the server refuses (${store})`, { timeout: 300_000 }, () => {
  let c: Cluster;
  after(() => c?.stop());

  it("says so once and exits 1, rather than retrying forever", async () => {
    c = await Cluster.start({ store, workers: 0, env: { NOETL_API_TOKEN: "the-right-token-1234" } });
    const w = c.startWorker({ env: { NOETL_API_TOKEN: "a-wrong-token-5678" } });
    const exit = await exitWithin(w, 20_000);
    assert.notEqual(exit, "late", `the worker kept going\n${w.output()}`);
    assert.deepEqual(exit, { code: 1, signal: null });
    assert.match(w.output(), /the API token is not valid; stopping: give the worker the server's token/);
  });
});

describe(`worker started before the server (${store})`, { timeout: 300_000 }, () => {
  let c: Cluster;
  after(() => c?.stop());

  it("connects once the server comes up", async () => {
    c = await Cluster.start({ store, nats, workers: 1, deferServer: true });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(c.workers[0]!.child.exitCode, null, `the worker gave up\n${c.logs()}`);
    await c.startServer();
    const doc = await c.run(chain, {}, 30_000);
    assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
    assert.match(c.workers[0]!.output(), /is reachable again/);
  });
});
