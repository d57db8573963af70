// SPEC §16: 1,000 executions submitted concurrently (50 submitters at a time) on PostgreSQL +
// NATS + two workers: all complete, none lost. Counted from the server's own list
// (GET /api/executions?status=COMPLETED, paged), then each execution's result and log is
// checked, so a lost, duplicated or mixed-up execution would show.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cluster } from "../support/cluster";
import { allEvents, chaosSkip, exactlyOnceProblems, logTails, playbook, sleep, submitAll } from "./support";

const EXECUTIONS = 1000;
const SUBMITTERS = 50;

const tiny = playbook(
  "load",
  `  - step: start
    tool: {kind: noop, input: {n: "{{ workload.n }}"}}
`,
);

/** Runs `fn` over `items`, `width` at a time. */
async function eachBounded<T>(items: T[], width: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
}

describe("chaos: 1,000 concurrent executions", { skip: chaosSkip, timeout: 240_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start({ store: "postgres", nats: true, workers: 2, concurrency: 8 });
  });
  after(() => c?.stop());

  /** Ids the server lists with `status`, over all pages. */
  async function listed(status: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for (let cursor = ""; ; ) {
      const r = await c.api(
        "GET",
        `/api/executions?status=${status}&limit=500${cursor ? `&cursor=${cursor}` : ""}`,
      );
      assert.equal(r.status, 200, r.text);
      for (const x of r.json.items as { execution_id: string }[]) ids.add(x.execution_id);
      if (!r.json.next_cursor) return ids;
      cursor = r.json.next_cursor;
    }
  }

  it("all complete, none lost, each with its own result", async () => {
    const t0 = Date.now();
    const { path, version } = await c.register(tiny);
    const workloads = Array.from({ length: EXECUTIONS }, (_, n) => ({ n }));
    const ids = await submitAll(c, path, version, workloads, SUBMITTERS);
    const submitMs = Date.now() - t0;
    assert.equal(new Set(ids).size, EXECUTIONS, "execution ids are unique");

    const deadline = Date.now() + 180_000;
    let completed = new Set<string>();
    for (;;) {
      completed = await listed("COMPLETED");
      const missing = ids.filter((id) => !completed.has(id));
      if (missing.length === 0) break;
      const failed = [...(await listed("FAILED"))].filter((id) => ids.includes(id));
      assert.deepEqual(failed, [], `executions failed\n${logTails(c)}`);
      assert.ok(
        Date.now() < deadline,
        `${missing.length} of ${EXECUTIONS} not COMPLETED after 180 s, e.g. ${missing.slice(0, 5).join(", ")}\n` +
          logTails(c),
      );
      await sleep(500);
    }
    const doneMs = Date.now() - t0;

    // Per execution: its own result, and each step result recorded once.
    const problems: string[] = [];
    await eachBounded(ids, SUBMITTERS, async (id, n) => {
      const doc = (await c.api("GET", `/api/executions/${id}`)).json;
      if (doc.status !== "COMPLETED" || (doc.result as { n: unknown })?.n !== n)
        problems.push(`#${n} ${id}: ${doc.status} ${JSON.stringify(doc.result)}`);
      const found = exactlyOnceProblems(await allEvents(c, id));
      if (found.length > 0) problems.push(`#${n} ${id}: ${found.join("; ")}`);
    });
    assert.deepEqual(problems, [], problems.slice(0, 20).join("\n"));
    console.log(
      `# ${EXECUTIONS} executions: submitted in ${submitMs} ms, all COMPLETED after ${doneMs} ms ` +
        `(${Math.round((EXECUTIONS * 1000) / doneMs)}/s), checked after ${Date.now() - t0} ms`,
    );
  });
});
