// SPEC §16: SIGKILL the server mid-execution and start it again on the same port and database:
// the executions in flight finish with the right results, each step result recorded once.
// Three times in a row, at different points of the chains; the workers are never restarted, so they
// must ride out the outage (claims fail, reports wait and are retried).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Cluster } from "../support/cluster";
import {
  allEvents,
  auditExecutions,
  chaosCluster,
  chaosSkip,
  logTails,
  playbook,
  shellChain,
  sleep,
  submitAll,
  waitAll,
} from "./support";

const STEPS = 6;
const EXECUTIONS = 6;

const chain = playbook(
  "server-kill",
  shellChain(STEPS, 0.5) +
    `    next: sum
  - step: sum
    tool:
      kind: noop
      input: {out: "${Array.from({ length: STEPS }, (_, i) => `{{ s${i + 1}.data.stdout | trim }}`).join(" ")}"}
`,
);

const expected = (n: number) => ({ out: Array.from({ length: STEPS }, (_, i) => `${i + 1}-${n}`).join(" ") });

describe("chaos: SIGKILL the server mid-execution", { skip: chaosSkip, timeout: 180_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await chaosCluster();
  });
  after(() => c?.stop());

  /** Steps finished so far over the executions, from their logs. */
  async function stepsDone(ids: string[]): Promise<number> {
    let n = 0;
    for (const id of ids) n += (await allEvents(c, id)).filter((e) => e.type === "step.exit").length;
    return n;
  }

  /** Waits until `atLeast` steps are done, then at once kills the server and starts it again. */
  async function killWhenProgressed(ids: string[], atLeast: number): Promise<{ done: number }> {
    const deadline = Date.now() + 60_000;
    let done = await stepsDone(ids);
    while (done < atLeast) {
      assert.ok(Date.now() < deadline, `only ${done} steps done after 60 s\n${logTails(c)}`);
      await sleep(50);
      done = await stepsDone(ids);
    }
    await c.restartServer(true);
    return { done };
  }

  it("the executions in flight finish after three kills, each result once", async () => {
    const t0 = Date.now();
    const { path, version } = await c.register(chain);
    const workloads = Array.from({ length: EXECUTIONS }, (_, n) => ({ n }));
    const ids = await submitAll(c, path, version, workloads, EXECUTIONS);
    const total = EXECUTIONS * (STEPS + 1);
    const kills = [];
    for (const at of [0.15, 0.35, 0.55]) kills.push(await killWhenProgressed(ids, Math.floor(total * at)));
    // Work submitted to the restarted server runs as well.
    const more = await submitAll(c, path, version, [{ n: EXECUTIONS }], 1);
    // Steps counted just before each kill: some were still to run, so the kill hit the run.
    for (const k of kills) assert.ok(k.done < total, `a kill missed the run: ${JSON.stringify(k)}`);

    const docs = await waitAll(c, [...ids, ...more], 120_000);
    const { problems } = await auditExecutions(c, docs, expected);
    assert.deepEqual(problems, [], problems.join("\n\n"));
    for (const w of c.workers) assert.equal(w.child.exitCode, null, `${w.name} died\n${w.output()}`);
    console.log(
      `# kills at ${kills.map((k) => `${k.done}/${total} steps`).join(", ")}; ` +
        `${docs.length} executions done in ${Date.now() - t0} ms`,
    );
  });
});
