// The server's hand-off to long-polling claims (src/server/orchestrator/signal.ts), without HTTP.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type HandedCommand, WorkSignal } from "../../src/server/orchestrator/signal";

const cmd = (id: string): HandedCommand => ({
  command_id: id,
  attempt: 1,
  lease_token: `t-${id}`,
  lease_until: new Date().toISOString(),
  payload: {},
});
const never = new AbortController().signal;

describe("work signal", () => {
  it("hands commands to the longest-waiting claimers, each up to its limit", async () => {
    const s = new WorkSignal();
    const first = s.awaitWork({ workerId: "w1", pool: "default", limit: 2 }, 5000, never);
    const second = s.awaitWork({ workerId: "w2", pool: "default", limit: 2 }, 5000, never);
    const other = s.awaitWork({ workerId: "w3", pool: "gpu", limit: 2 }, 50, never);
    const taken = s.take("default", 3);
    assert.deepEqual(
      taken.map((t) => [t.claimer.workerId, t.count]),
      [
        ["w1", 2],
        ["w2", 1],
      ],
    );
    taken[0]!.claimer.deliver([cmd("a"), cmd("b")]);
    taken[1]!.claimer.deliver([cmd("c")]);
    assert.deepEqual(
      (await first).map((c) => c.command_id),
      ["a", "b"],
    );
    assert.deepEqual(
      (await second).map((c) => c.command_id),
      ["c"],
    );
    assert.deepEqual(await other, [], "another pool's claimer is not taken and times out");
    assert.deepEqual(s.take("default", 1), [], "delivered claimers are gone");
  });

  it("a taken claimer waits for its delivery: a notify or timeout does not end it", async () => {
    const s = new WorkSignal();
    const waiting = s.awaitWork({ workerId: "w1", pool: "default", limit: 1 }, 20, never);
    const [t] = s.take("default", 1);
    s.notify();
    await new Promise((r) => setTimeout(r, 50));
    t!.claimer.deliver([cmd("late")]);
    assert.deepEqual(
      (await waiting).map((c) => c.command_id),
      ["late"],
    );
  });

  it("an untaken claimer ends with [] on notify, timeout or stop", async () => {
    const s = new WorkSignal();
    const a = s.awaitWork({ workerId: "w1", pool: "default", limit: 1 }, 5000, never);
    s.notify();
    assert.deepEqual(await a, []);
    const stop = new AbortController();
    const b = s.awaitWork({ workerId: "w1", pool: "default", limit: 1 }, 5000, stop.signal);
    stop.abort();
    assert.deepEqual(await b, []);
    assert.deepEqual(s.take("default", 1), []);
  });

  it("knows a pool is empty only until the next notify, and not from a claim a notify overtook", async () => {
    const s = new WorkSignal();
    assert.equal(s.mayHavePending("default"), true, "unknown at start");
    await s.claim("default", 2, async () => [1]);
    assert.equal(s.mayHavePending("default"), false, "a short claim drained it");
    s.notify();
    assert.equal(s.mayHavePending("default"), true);
    await s.claim("default", 2, async () => [1, 2]);
    assert.equal(s.mayHavePending("default"), true, "a full claim may have left more");
    await s.claim("default", 2, async () => {
      s.notify(); // a commit lands while the query runs
      return [];
    });
    assert.equal(s.mayHavePending("default"), true);
  });
});
