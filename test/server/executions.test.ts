// API contract of the read-only execution routes (JSON and Server-Sent Events) and workers.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { backends } from "../store/backends";
import { errorCode, type Harness, harness } from "./harness";

async function seed(h: Harness): Promise<void> {
  await h.store.transaction(async (tx) => {
    for (const [id, status] of [
      ["e1", "COMPLETED"],
      ["e2", "FAILED"],
      ["e3", "RUNNING"],
    ] as const) {
      await tx.createExecution({
        execution_id: id,
        status,
        path: "examples/hello",
        version: 1,
        workload: {},
      });
    }
    await tx.updateExecution("e1", { result: { msg: "hello" }, ended: true });
    await tx.updateExecution("e2", { error: { message: "boom" }, ended: true });
    await tx.recordStep({
      execution_id: "e1",
      step: "start",
      iteration: -1,
      status: "COMPLETED",
      started_at: "2026-01-01T00:00:00.000Z",
      ended_at: "2026-01-01T00:00:00.040Z",
    });
    await tx.appendEvents([
      { execution_id: "e1", type: "playbook.initialized", payload: {} },
      { execution_id: "e1", type: "step.enter", step: "start", payload: {} },
      { execution_id: "e1", type: "playbook.completed", payload: { result: { msg: "hello" } } },
    ]);
  });
  await h.store.heartbeatWorker({ worker_id: "w-1", pool: "default", host: "box", pid: 42, concurrency: 8 });
}

for (const backend of await backends()) {
  describe(`executions API: ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await harness(backend);
      await seed(h);
    });
    after(() => h?.dispose());

    it("lists newest first, filters by status, pages with a cursor", async () => {
      const all = await h.call("GET", "/api/executions");
      assert.deepEqual(
        all.json.items.map((e: { execution_id: string }) => e.execution_id),
        ["e3", "e2", "e1"],
      );
      assert.equal(all.json.next_cursor, null);
      const failed = await h.call("GET", "/api/executions?status=failed");
      assert.deepEqual(
        failed.json.items.map((e: { execution_id: string }) => e.execution_id),
        ["e2"],
      );
      const p1 = await h.call("GET", "/api/executions?limit=2");
      const p2 = await h.call("GET", `/api/executions?limit=2&cursor=${p1.json.next_cursor}`);
      assert.deepEqual(
        p2.json.items.map((e: { execution_id: string }) => e.execution_id),
        ["e1"],
      );
      assert.equal(errorCode(await h.call("GET", "/api/executions?status=DONE"), 400), "BAD_REQUEST");
      assert.equal(errorCode(await h.call("GET", "/api/executions?limit=0"), 400), "BAD_REQUEST");
      assert.equal(errorCode(await h.call("GET", "/api/executions?cursor=x'"), 400), "BAD_REQUEST");
    });

    it("answers the `noetl run --json` document, its alias and its light form", async () => {
      const doc = await h.call("GET", "/api/executions/e1");
      assert.equal(doc.status, 200);
      assert.deepEqual(Object.keys(doc.json).sort(), [
        "ended_at",
        "error",
        "execution_id",
        "parent_execution_id",
        "path",
        "result",
        "started_at",
        "status",
        "steps",
        "version",
      ]);
      assert.deepEqual(
        [doc.json.execution_id, doc.json.status, doc.json.result],
        ["e1", "COMPLETED", { msg: "hello" }],
      );
      assert.deepEqual(doc.json.steps, [{ step: "start", status: "COMPLETED", duration_ms: 40 }]);
      assert.deepEqual((await h.call("GET", "/api/execute/e1")).json, doc.json);
      const light = await h.call("GET", "/api/executions/e1/status");
      assert.equal("result" in light.json, false);
      assert.equal(light.json.status, "COMPLETED");
      assert.deepEqual((await h.call("GET", "/api/executions/e2")).json.error, { message: "boom" });
      assert.equal(errorCode(await h.call("GET", "/api/executions/nope"), 404), "NOT_FOUND");
      assert.equal(errorCode(await h.call("GET", "/api/execute/nope"), 404), "NOT_FOUND");
    });

    it("lists events as JSON, after a given event", async () => {
      const r = await h.call("GET", "/api/executions/e1/events");
      assert.deepEqual(
        r.json.items.map((e: { type: string }) => e.type),
        ["playbook.initialized", "step.enter", "playbook.completed"],
      );
      const e = r.json.items[1];
      assert.deepEqual(Object.keys(e).sort(), [
        "created_at",
        "event_id",
        "execution_id",
        "payload",
        "step",
        "type",
      ]);
      assert.equal(typeof e.event_id, "string");
      const later = await h.call("GET", `/api/executions/e1/events?after=${e.event_id}`);
      assert.deepEqual(
        later.json.items.map((x: { type: string }) => x.type),
        ["playbook.completed"],
      );
      assert.equal(later.json.next_after, r.json.items[2].event_id);
      assert.equal(errorCode(await h.call("GET", "/api/executions/e1/events?after=-1"), 400), "BAD_REQUEST");
      assert.equal(errorCode(await h.call("GET", "/api/executions/nope/events"), 404), "NOT_FOUND");
    });

    it("streams events as Server-Sent Events and ends when the execution has finished", async () => {
      const r = await h.call("GET", "/api/executions/e1/events", {
        headers: { accept: "text/event-stream" },
      });
      assert.match(r.headers.get("content-type") ?? "", /text\/event-stream/);
      const messages = parseSse(r.text);
      assert.deepEqual(
        messages.map((m) => m.event),
        ["event", "event", "event", "end"],
      );
      assert.equal(JSON.parse(messages[0]!.data).type, "playbook.initialized");
      assert.equal(messages[0]!.id, JSON.parse(messages[0]!.data).event_id);
      const resumed = await h.call("GET", "/api/executions/e1/events", {
        headers: { accept: "text/event-stream", "last-event-id": messages[1]!.id! },
      });
      assert.deepEqual(
        parseSse(resumed.text).map((m) => m.event),
        ["event", "end"],
      );
    });

    it("follows a running execution live", async () => {
      const pending = h.call("GET", "/api/executions/e3/events", {
        headers: { accept: "text/event-stream" },
      });
      await new Promise((r) => setTimeout(r, 100));
      await h.store.transaction(async (tx) => {
        await tx.lockExecution("e3");
        await tx.appendEvents([{ execution_id: "e3", type: "playbook.completed", payload: {} }]);
        await tx.updateExecution("e3", { status: "COMPLETED", ended: true });
      });
      const messages = parseSse((await pending).text);
      assert.deepEqual(
        messages.map((m) => m.event),
        ["event", "end"],
      );
      assert.equal(JSON.parse(messages[1]!.data).status, "COMPLETED");
    });

    it("lists workers", async () => {
      const r = await h.call("GET", "/api/workers");
      assert.deepEqual(
        r.json.items.map((w: { worker_id: string; pid: number }) => [w.worker_id, w.pid]),
        [["w-1", 42]],
      );
    });
  });
}

function parseSse(text: string): { event?: string; id?: string; data: string }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() && !block.startsWith(":"))
    .map((block) => {
      const m: { event?: string; id?: string; data: string } = { data: "" };
      for (const line of block.split("\n")) {
        const [k, ...rest] = line.split(": ");
        const v = rest.join(": ");
        if (k === "event") m.event = v;
        else if (k === "id") m.id = v;
        else if (k === "data") m.data += v;
      }
      return m;
    });
}
