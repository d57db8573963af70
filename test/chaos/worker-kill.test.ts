// SPEC §16: SIGKILL a worker in the middle of a step, 20 times in a row, with a second worker
// running: every execution completes and no step result is recorded twice. A stable worker
// keeps going; each round takes the oldest of two victims, waits until it is inside a step (its
// command.started is logged and no terminal report yet) and kills it, and starts a fresh victim. The lease is 3 s, so a
// killed step is re-issued quickly to whichever worker claims it next.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import postgres from "postgres";
import type { Cluster, Proc } from "../support/cluster";
import {
  auditExecutions,
  chaosCluster,
  chaosSkip,
  logTails,
  playbook,
  sleep,
  tail,
  waitAll,
} from "./support";

const KILLS = 20;

// A sequential step, a parallel loop, and a final step that reads both, so a result recorded
// twice or lost would also show in the execution's result.
const chain = playbook(
  "worker-kill",
  `  - step: a
    tool: {kind: shell, cmds: "sleep 0.5; echo a{{ workload.n }}"}
    next: b
  - step: b
    loop: {in: "{{ [1, 2] }}", iterator: x, spec: {mode: parallel}}
    tool: {kind: shell, cmds: "sleep 0.5; echo b{{ x }}"}
    next: c
  - step: c
    tool:
      kind: noop
      input: {a: "{{ a.data.stdout | trim }}", b: "{{ b.data[0].stdout | trim }}{{ b.data[1].stdout | trim }}"}
`,
);

describe("chaos: SIGKILL a worker mid-step, 20 times", { skip: chaosSkip, timeout: 240_000 }, () => {
  let c: Cluster;
  let sql: postgres.Sql;
  before(async () => {
    c = await chaosCluster({ workers: 1, concurrency: 2 });
    // Read-only look at the log, only to time the kills: the assertions use the HTTP API.
    sql = postgres(c.databaseUrl as string, { max: 1, onnotice: () => {} });
  });
  after(async () => {
    await sql?.end({ timeout: 2 });
    await c?.stop();
  });

  /**
   * Commands the worker started within the last 200 ms and has not reported on: their 0.5 s
   * sleep is surely still running (a warm victim may be near the end of an older one).
   */
  async function inStep(w: Proc): Promise<{ command_id: string; attempt: number }[]> {
    return sql<{ command_id: string; attempt: number }[]>`
      SELECT s.command_id, s.attempt FROM noetl.event s
        JOIN noetl.event k ON k.command_id = s.command_id AND k.attempt = s.attempt AND k.type = 'command.claimed'
       WHERE s.type = 'command.started' AND s.created_at > now() - interval '200 milliseconds'
         AND k.payload->>'worker_id' LIKE ${`${w.name}-%-${w.pid}`}
         AND NOT EXISTS (SELECT 1 FROM noetl.event t WHERE t.command_id = s.command_id
                            AND t.attempt = s.attempt AND t.type IN ('command.completed', 'command.failed'))`;
  }

  it("every execution completes with the right result and each step result once", async () => {
    const t0 = Date.now();
    const { path, version } = await c.register(chain);
    const ids: string[] = [];
    const submit = async () => {
      ids.push(await c.execute(path, { n: ids.length }, version));
    };
    const killed: { victim: string; command_id: string; attempt: number }[] = [];

    // Two victims alive at a time: the next one starts (a node start takes a second or two on a
    // loaded machine) while the current one is still being waited on.
    const victims = [c.startWorker({ concurrency: 2 }), c.startWorker({ concurrency: 2 })];
    for (let round = 0; round < KILLS; round++) {
      const victim = victims.shift();
      assert.ok(victim);
      await submit();
      const deadline = Date.now() + 60_000;
      let nextSubmit = Date.now() + 2000;
      let running: { command_id: string; attempt: number }[] = [];
      for (;;) {
        assert.ok(
          Date.now() < deadline,
          `round ${round}: ${victim.name} never entered a step\n${logTails(c)}`,
        );
        assert.equal(
          victim.child.exitCode,
          null,
          `${victim.name} exited by itself\n${tail(victim.output())}`,
        );
        running = await inStep(victim);
        if (running.length > 0) break;
        // The other workers may have drained the backlog: give the victim something to take.
        if (Date.now() > nextSubmit) {
          await submit();
          nextSubmit = Date.now() + 2000;
        }
        await sleep(25);
      }
      // Somewhere early in the 0.5 s sleep, not always at its very start.
      await sleep(Math.floor(Math.random() * 100));
      process.kill(victim.pid, "SIGKILL");
      await victim.exited;
      for (const r of running)
        killed.push({ victim: victim.name, command_id: r.command_id, attempt: r.attempt });
      if (round + 2 < KILLS) victims.push(c.startWorker({ concurrency: 2 }));
    }
    const killMs = Date.now() - t0;

    const docs = await waitAll(c, ids, 120_000);
    const { problems, events } = await auditExecutions(c, docs, (i) => ({ a: `a${i}`, b: "b1b2" }));
    assert.deepEqual(problems, [], problems.join("\n\n"));

    // Each killed attempt really died mid-step: it has no terminal report, and the command was
    // re-issued (attempt + 1) and finished by someone else.
    const log = [...events.values()].flat();
    for (const k of killed) {
      const attempts = log.filter((e) => e.command_id === k.command_id);
      const late = attempts.find(
        (e) => e.attempt === k.attempt && /^command\.(completed|failed)$/.test(e.type),
      );
      assert.equal(late, undefined, `${k.victim} was killed after ${k.command_id}#${k.attempt} finished`);
      const reissued = attempts.some((e) => e.type === "command.issued" && (e.attempt ?? 0) > k.attempt);
      assert.ok(reissued, `${k.command_id}#${k.attempt} (killed with ${k.victim}) was never re-issued`);
    }
    const stable = c.workers[0];
    assert.equal(stable?.child.exitCode, null, `the stable worker died\n${tail(stable?.output() ?? "")}`);
    console.log(
      `# ${KILLS} kills (${killed.length} steps cut) over ${ids.length} executions in ${killMs} ms; ` +
        `all done after ${Date.now() - t0} ms`,
    );
  });
});
