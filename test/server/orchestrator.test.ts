// The orchestrator through the HTTP API, with the test playing the worker: claim, run with the
// real executor, report. Checks the protocol's promises: leases, fencing, idempotent reports,
// re-issue after expiry, cancellation, and results equal to a local run.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Command } from "../../src/engine/types";
import { executeCommand } from "../../src/runtime/executor";
import type { ToolServices } from "../../src/tools/types";
import { backends } from "../store/backends";
import { type Harness, harness } from "./harness";

const services: ToolServices = {
  runPlaybook: async () => ({ status: "error", error: { kind: "config", message: "not here" } }),
  runWorkbook: async () => ({ status: "error", error: { kind: "config", message: "not here" } }),
  credential: async (name) => {
    throw new Error(`no credential ${name}`);
  },
};

type Claimed = Command & { lease_token: string; lease_until: string; lease_ms?: number };

const chain = `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: chain, path: test/chain}
workload: {n: 2, xs: [1, 2, 3]}
workflow:
  - step: start
    tool: {kind: js, code: "return input.n * 10"}
    input: {n: "{{ n }}"}
    next: loop
  - step: loop
    loop: {in: "{{ xs }}", iterator: x, spec: {mode: parallel, max_in_flight: 2}}
    tool: {kind: noop, input: {v: "{{ x + start.data }}"}}
    next: done
  - step: done
    tool: {kind: noop, input: {vs: "{{ loop.data | map(attribute='v') | list }}"}}
`;

const child = `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: child, path: test/child}
workload: {k: 1}
workflow:
  - step: start
    tool: {kind: noop, input: {doubled: "{{ k * 2 }}"}}
`;

const parent = `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: parent, path: test/parent}
workflow:
  - step: start
    tool: {kind: playbook, path: test/child, input: {k: 21}}
    next: after
  - step: after
    tool: {kind: noop, input: {got: "{{ start.data.doubled }}"}}
`;

const nested = `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: nested, path: test/nested}
workload: {db: {host: local, port: 5432}}
workflow:
  - step: start
    tool: {kind: noop, input: {host: "{{ db.host }}", port: "{{ db.port }}"}}
`;

const parentNoWait = `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: parent_nowait, path: test/parent-nowait}
workflow:
  - step: start
    tool: {kind: playbook, path: test/child, input: {k: 5}, wait: false}
    next: after
  - step: after
    tool: {kind: noop, input: {started: "{{ start.data }}"}}
`;

for (const backend of await backends()) {
  describe(`orchestrator: ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await harness(backend, { leaseMs: 1500 });
      for (const y of [chain, child, parent, parentNoWait, nested]) {
        const r = await h.call("POST", "/api/catalog/register", {
          body: y,
          headers: { "content-type": "application/yaml" },
        });
        assert.equal(r.status, 201, r.text);
      }
    });
    after(() => h?.dispose());

    const claim = async (worker = "w1", wait = 0): Promise<Claimed[]> => {
      const r = await h.call("POST", "/api/commands/claim", {
        body: { worker_id: worker, limit: 8, wait_ms: wait },
      });
      assert.equal(r.status, 200, r.text);
      return r.json.commands;
    };
    const report = (cmd: Claimed, payload: object, type = "command.completed") =>
      h.call("POST", "/api/events/batch", {
        body: {
          worker_id: "w1",
          events: [
            { command_id: cmd.command_id, attempt: cmd.attempt, lease_token: cmd.lease_token, type, payload },
          ],
        },
      });
    const run = async (cmd: Claimed) => {
      const rep = await executeCommand(cmd, {
        signal: new AbortController().signal,
        services,
        env: {},
        baseDir: ".",
      });
      return report(cmd, rep, rep.directive === "fail" ? "command.failed" : "command.completed");
    };
    const drain = async () => {
      for (let i = 0; i < 50; i++) {
        const cmds = await claim();
        if (cmds.length === 0) return;
        for (const c of cmds) assert.equal((await run(c)).status, 200);
      }
    };
    const status = async (id: string) => (await h.call("GET", `/api/executions/${id}`)).json;

    it("runs a chain with a parallel loop to the same result as a local run", async () => {
      const r = await h.call("POST", "/api/execute", { body: { path: "test/chain" } });
      assert.equal(r.status, 201, r.text);
      await drain();
      const doc = await status(r.json.execution_id);
      assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
      assert.deepEqual(doc.result, { vs: [21, 22, 23] });
      assert.deepEqual(
        doc.steps.map((s: { step: string }) => s.step),
        ["start", "loop", "done"],
      );
    });

    it("answers a report that asks for work with the commands it caused: one request per step", async () => {
      const r = await h.call("POST", "/api/execute", { body: { path: "test/chain" } });
      assert.equal(r.status, 201, r.text);
      const queue: Claimed[] = await claim("w7");
      let requests = 0;
      const ran: string[] = [];
      for (let cmd = queue.shift(); cmd; cmd = queue.shift()) {
        ran.push(cmd.step);
        const rep = await executeCommand(cmd, {
          signal: new AbortController().signal,
          services,
          env: {},
          baseDir: ".",
        });
        const answer = await h.call("POST", "/api/events/batch", {
          body: {
            worker_id: "w7",
            events: [
              {
                command_id: cmd.command_id,
                attempt: 1,
                lease_token: cmd.lease_token,
                type: "command.completed",
                payload: rep,
              },
            ],
            claim: { limit: 8 },
          },
        });
        requests++;
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.json.accepted, 1);
        queue.push(...(answer.json.commands as Claimed[]));
        for (const c of answer.json.commands as Claimed[])
          assert.ok(c.lease_token && c.lease_ms, JSON.stringify(c));
      }
      assert.deepEqual(ran, ["start", "loop", "loop", "loop", "done"]);
      assert.equal(requests, 5, "no claims were needed after the first");
      const doc = await status(r.json.execution_id);
      assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
      assert.deepEqual(doc.result, { vs: [21, 22, 23] });
      const events = (await h.call("GET", `/api/executions/${r.json.execution_id}/events?limit=1000`)).json
        .items;
      assert.equal(events.filter((e: { type: string }) => e.type === "command.claimed").length, 5);
      assert.equal(events.filter((e: { type: string }) => e.type === "command.completed").length, 5);
    });

    it("acknowledges a repeated report and refuses a foreign lease", async () => {
      const r = await h.call("POST", "/api/execute/playbook/test/chain", { body: { input: { n: 1 } } });
      assert.equal(r.status, 201, r.text);
      const [cmd] = await claim();
      assert.ok(cmd);
      const rep = await executeCommand(cmd, {
        signal: new AbortController().signal,
        services,
        env: {},
        baseDir: ".",
      });
      const forged = await h.call("POST", "/api/events/batch", {
        body: {
          worker_id: "w9",
          events: [
            {
              command_id: cmd.command_id,
              attempt: 1,
              lease_token: "forged",
              type: "command.completed",
              payload: rep,
            },
          ],
        },
      });
      assert.equal(forged.status, 409);
      assert.equal((await report(cmd, rep)).json.accepted, 1);
      assert.deepEqual((await report(cmd, rep)).json, { accepted: 0, duplicates: 1 });
      await drain();
      assert.deepEqual((await status(r.json.execution_id)).result, { vs: [11, 12, 13] });
    });

    it("re-issues a command whose lease expired and refuses the late worker", async () => {
      const r = await h.call("POST", "/api/execute", { body: { path: "test/chain" } });
      const [first] = await claim("slow");
      assert.ok(first);
      await new Promise((res) => setTimeout(res, 1700));
      assert.equal(await h.orchestrator.sweep(), 1);
      const [again] = await claim("fast");
      assert.equal(again?.command_id, first.command_id);
      assert.equal(again?.attempt, 2);
      const hb = await h.call("POST", `/api/commands/${first.command_id}/heartbeat`, {
        body: { worker_id: "slow", lease_token: first.lease_token },
      });
      assert.equal(hb.status, 409);
      assert.equal((await run(first)).status, 409);
      assert.equal((await run(again!)).status, 200);
      await drain();
      const doc = await status(r.json.execution_id);
      assert.equal(doc.status, "COMPLETED");
      const events = (await h.call("GET", `/api/executions/${r.json.execution_id}/events?limit=1000`)).json
        .items;
      const completed = events.filter(
        (e: { type: string; step?: string }) => e.type === "command.completed" && e.step === "start",
      );
      assert.equal(completed.length, 1, "the result counts once");
    });

    it("runs a sub-playbook on the server and resumes the parent", async () => {
      const r = await h.call("POST", "/api/execute", { body: { path: "test/parent" } });
      await drain();
      const doc = await status(r.json.execution_id);
      assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
      assert.deepEqual(doc.result, { got: 42 });
      const children = (await h.call("GET", "/api/executions?limit=50")).json.items.filter(
        (e: { parent_execution_id: string | null }) => e.parent_execution_id === r.json.execution_id,
      );
      assert.equal(children.length, 1);
      assert.equal(children[0].status, "COMPLETED");
    });

    it("with wait: false the parent's step completes at once with the child's id; the child runs on", async () => {
      const r = await h.call("POST", "/api/execute", { body: { path: "test/parent-nowait" } });
      const parentDoc = async () => status(r.json.execution_id);
      const first = await claim();
      // Before anything ran, the parent already moved on to `after`.
      assert.deepEqual(first.map((c) => c.step).sort(), ["after", "start"]);
      for (const c of first) assert.equal((await run(c)).status, 200);
      await drain();
      const doc = await parentDoc();
      assert.equal(doc.status, "COMPLETED", JSON.stringify(doc));
      const started = doc.result.started;
      assert.deepEqual(
        { ...started, execution_id: typeof started.execution_id },
        {
          path: "test/child",
          status: "started",
          execution_id: "string",
        },
      );
      const kid = await status(started.execution_id);
      assert.equal(kid.status, "COMPLETED");
      assert.equal(kid.parent_execution_id, r.json.execution_id);
      assert.deepEqual(kid.result, { doubled: 10 });
    });

    it("lays the request's workload over the playbook's defaults key by key", async () => {
      const r = await h.call("POST", "/api/execute", {
        body: { path: "test/nested", workload: { db: { host: "prod" } } },
      });
      assert.equal(r.status, 201, r.text);
      await drain();
      assert.deepEqual((await status(r.json.execution_id)).result, { host: "prod", port: 5432 });
    });

    it("cancels an execution: its commands are no longer claimable or heartbeat-able", async () => {
      const r = await h.call("POST", "/api/execute", { body: { path: "test/chain" } });
      const [cmd] = await claim();
      const c = await h.call("POST", `/api/executions/${r.json.execution_id}/cancel`);
      assert.equal(c.json.status, "CANCELLED");
      const hb = await h.call("POST", `/api/commands/${cmd!.command_id}/heartbeat`, {
        body: { worker_id: "w1", lease_token: cmd!.lease_token },
      });
      assert.equal(hb.status, 409);
      assert.equal((await status(r.json.execution_id)).status, "CANCELLED");
    });

    it("rebuilds state from the event log when the cache is cold (a server restart)", async () => {
      const r = await h.call("POST", "/api/execute", { body: { path: "test/chain" } });
      const [cmd] = await claim();
      h.orchestrator.cache.delete(r.json.execution_id);
      assert.equal((await run(cmd!)).status, 200);
      await drain();
      assert.deepEqual((await status(r.json.execution_id)).result, { vs: [21, 22, 23] });
    });

    it("long-polls a claim until work arrives", async () => {
      const waiting = claim("poller", 5000);
      await new Promise((res) => setTimeout(res, 100));
      const t0 = Date.now();
      await h.call("POST", "/api/execute", { body: { path: "test/child" } });
      const got = await waiting;
      assert.equal(got.length, 1);
      assert.ok(Date.now() - t0 < 1000, "woken by the commit, not by the poll timeout");
      await run(got[0]!);
    });
  });
}
