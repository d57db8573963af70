// The reporter against a fake API: batching, retry until acknowledged, 409 drops only that batch.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../src/log";
import { type Api, ApiError, Unreachable } from "../../src/worker/client";
import { Reporter, type WorkerEvent } from "../../src/worker/reporter";

const quiet = createLogger("test", { level: "error" }, { write: () => true });

function fakeApi(answers: Array<"ok" | "down" | "lease" | "bad">) {
  const batches: WorkerEvent[][] = [];
  const api: Api = {
    baseUrl: "http://fake",
    async call(_m, _p, body) {
      const answer = answers.shift() ?? "ok";
      batches.push((body as { events: WorkerEvent[] }).events);
      if (answer === "down") throw new Unreachable("down");
      if (answer === "lease")
        throw new ApiError(409, "CONFLICT", "lease", { code: "LEASE_LOST", command_ids: ["c1"] });
      if (answer === "bad") throw new ApiError(422, "VALIDATION", "bad");
      return { accepted: 1, duplicates: 0 } as never;
    },
    close: async () => {},
  };
  return { api, batches };
}

const ev = (type: WorkerEvent["type"], id = "c1"): WorkerEvent => ({
  command_id: id,
  attempt: 1,
  lease_token: "t",
  type,
  payload: type.startsWith("command.c") ? { result: { status: "ok" }, directive: "continue" } : {},
  at: Date.now(),
});

describe("worker reporter", () => {
  it("sends a command's events together, at once when the terminal one arrives", async () => {
    const { api, batches } = fakeApi([]);
    const r = new Reporter(api, "w", quiet);
    r.push(ev("command.started"));
    r.push(ev("call.done"));
    r.push(ev("command.completed"));
    await new Promise((res) => setImmediate(res));
    assert.equal(batches.length, 1, "sent without waiting for the flush timer");
    assert.equal(await r.drain(1000), true);
    assert.deepEqual(
      batches[0]!.map((e) => e.type),
      ["command.started", "call.done", "command.completed"],
    );
  });

  it("holds progress events for the flush timer", async () => {
    const { api, batches } = fakeApi([]);
    const r = new Reporter(api, "w", quiet);
    r.push(ev("command.started"));
    await new Promise((res) => setTimeout(res, 5));
    assert.equal(batches.length, 0);
    await new Promise((res) => setTimeout(res, 40));
    assert.equal(batches.length, 1);
  });

  it("retries a batch while the server is down, then delivers it once", async () => {
    const { api, batches } = fakeApi(["down", "down", "ok"]);
    const r = new Reporter(api, "w", quiet);
    r.push(ev("command.completed"));
    assert.equal(await r.drain(5000), true);
    assert.equal(batches.length, 3);
    assert.equal(r.pending, 0);
  });

  it("drops a batch refused for a lost lease or as invalid, and goes on with the next", async () => {
    const { api, batches } = fakeApi(["lease", "bad", "ok"]);
    const r = new Reporter(api, "w", quiet);
    r.push(ev("command.completed", "c1"));
    assert.equal(await r.drain(1000), true);
    r.push(ev("command.failed", "c2"));
    assert.equal(await r.drain(1000), true);
    r.push(ev("command.completed", "c3"));
    assert.equal(await r.drain(1000), true);
    assert.deepEqual(
      batches.map((b) => b[0]!.command_id),
      ["c1", "c2", "c3"],
    );
  });

  it("gives up at the drain deadline when the server never comes back", async () => {
    const { api } = fakeApi(Array(100).fill("down"));
    const r = new Reporter(api, "w", quiet);
    r.push(ev("command.completed"));
    assert.equal(await r.drain(300), false);
  });

  it("sends a report while an earlier batch awaits its answer, never a command's events out of order", async () => {
    const batches: WorkerEvent[][] = [];
    const answers: Array<() => void> = [];
    const api: Api = {
      baseUrl: "http://fake",
      call(_m, _p, body) {
        batches.push((body as { events: WorkerEvent[] }).events);
        return new Promise((resolve) => answers.push(() => resolve({ accepted: 1, duplicates: 0 } as never)));
      },
      close: async () => {},
    };
    const r = new Reporter(api, "w", quiet);
    const tick = () => new Promise((res) => setImmediate(res));
    r.push(ev("command.completed", "c1"));
    await tick();
    r.push(ev("command.completed", "c2"));
    await tick();
    assert.equal(batches.length, 2, "the second report did not wait for the first answer");
    r.push(ev("command.started", "c1"));
    r.push(ev("command.completed", "c3"));
    r.push(ev("command.completed", "c4"));
    await tick();
    assert.equal(batches.length, 2, "no more than two batches in flight");
    answers.shift()!();
    await tick();
    await tick();
    // c1 is free again; c3 and c4 gathered behind the batches in flight and travel together.
    assert.deepEqual(
      batches[2]!.map((e) => e.command_id),
      ["c1", "c3", "c4"],
    );
    while (answers.length > 0) answers.shift()!();
    assert.equal(await r.drain(1000), true);
    assert.equal(batches.length, 3);
  });
});
