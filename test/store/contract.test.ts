// One contract, every backend: the same assertions against PGlite and PostgreSQL.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MIGRATIONS } from "../../src/store/migrations/index";
import { leaseKey, reportKey } from "../../src/store/tx";
import type { CommandRecord, Store } from "../../src/store/types";
import { backends } from "./backends";

const LATEST = MIGRATIONS.length;

for (const backend of await backends()) {
  describe(`store contract: ${backend.name}`, { skip: backend.skip }, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => ({ store, dispose } = await backend.fresh()));
    after(() => dispose?.());

    it("migrates idempotently, also when asked twice at once", async () => {
      const [a, b] = await Promise.all([store.migrate(), store.migrate()]);
      assert.equal(a.ok && b.ok, true);
      const v = await store.validate();
      assert.deepEqual([v.ok, v.version, v.expected, v.missing_tables], [true, LATEST, LATEST, []]);
    });

    it("gives each registration of a path the next version, even when racing", async () => {
      const entry = (n: number) => ({
        path: "a/race",
        kind: "Playbook",
        content: `n: ${n}`,
        doc: { n },
        description: null,
      });
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => store.registerCatalog(entry(n))));
      assert.deepEqual(results.map((r) => r.version).sort(), [1, 2, 3, 4, 5]);
      await store.registerCatalog({
        path: "b/other",
        kind: "Playbook",
        content: "x",
        doc: null,
        description: "d",
      });
      const latest = await store.getCatalog("a/race", "latest");
      assert.equal(latest?.version, 5);
      const v2 = await store.getCatalog("a/race", 2);
      assert.equal(v2?.version, 2);
      assert.equal(typeof v2?.catalog_id, "string");
      assert.equal(await store.getCatalog("a/race", 9), undefined);
      assert.equal(await store.getCatalog("nope", "latest"), undefined);
      const listed = await store.listCatalog({});
      assert.deepEqual(
        listed.map((e) => [e.path, e.version]),
        [
          ["a/race", 5],
          ["b/other", 1],
        ],
      );
      assert.deepEqual(
        (await store.listCatalog({ path: "b/" })).map((e) => e.path),
        ["b/other"],
      );
      assert.deepEqual(await store.listCatalog({ kind: "Credential" }), []);
    });

    it("stores sealed credentials and tells created from replaced", async () => {
      const sealed = {
        ciphertext: Buffer.from([1, 2, 3]),
        iv: Buffer.alloc(12, 7),
        tag: Buffer.alloc(16, 9),
      };
      assert.deepEqual(
        await store.putCredential({ name: "pg", type: "postgres", description: null, ...sealed }),
        { created: true },
      );
      assert.deepEqual(
        await store.putCredential({ name: "pg", type: "postgres", description: "x", ...sealed }),
        { created: false },
      );
      const got = await store.getCredential("pg");
      assert.ok(got && Buffer.isBuffer(got.ciphertext) && got.ciphertext.equals(sealed.ciphertext));
      assert.ok(got.iv.equals(sealed.iv) && got.tag.equals(sealed.tag));
      assert.deepEqual(
        (await store.listCredentials()).map((c) => [c.name, c.type, c.description]),
        [["pg", "postgres", "x"]],
      );
      assert.equal(await store.deleteCredential("pg"), true);
      assert.equal(await store.deleteCredential("pg"), false);
      assert.equal(await store.getCredential("pg"), undefined);
    });

    it("records executions, steps and events, and pages through them", async () => {
      for (let i = 1; i <= 5; i++) {
        await store.transaction(async (tx) => {
          await tx.lockExecution(`x${i}`);
          await tx.createExecution({
            execution_id: `x${i}`,
            status: "RUNNING",
            path: "a/race",
            version: 1,
            workload: { i },
          });
        });
      }
      await store.transaction(async (tx) => {
        await tx.updateExecution("x2", { status: "COMPLETED", result: { ok: true }, ended: true });
        await tx.recordStep({
          execution_id: "x2",
          step: "start",
          iteration: -1,
          status: "COMPLETED",
          started_at: "2026-01-01T00:00:00.000Z",
          ended_at: "2026-01-01T00:00:00.250Z",
        });
        await tx.recordStep({ execution_id: "x2", step: "start", iteration: 0, status: "COMPLETED" });
      });
      const page1 = await store.listExecutions({ limit: 2 });
      assert.deepEqual(
        page1.items.map((e) => e.execution_id),
        ["x5", "x4"],
      );
      const page2 = await store.listExecutions({ limit: 2, cursor: page1.next_cursor! });
      assert.deepEqual(
        page2.items.map((e) => e.execution_id),
        ["x3", "x2"],
      );
      const page3 = await store.listExecutions({ limit: 2, cursor: page2.next_cursor! });
      assert.deepEqual([page3.items.map((e) => e.execution_id), page3.next_cursor], [["x1"], null]);
      assert.deepEqual(
        (await store.listExecutions({ limit: 10, status: "COMPLETED" })).items.map((e) => e.execution_id),
        ["x2"],
      );
      const x2 = await store.getExecution("x2");
      assert.deepEqual(
        [x2?.status, x2?.result, x2?.workload, typeof x2?.ended_at],
        ["COMPLETED", { ok: true }, { i: 2 }, "string"],
      );
      assert.deepEqual(await store.listSteps("x2"), [
        { step: "start", status: "COMPLETED", duration_ms: 250 },
      ]);
      assert.equal(await store.getExecution("missing"), undefined);
    });

    it("appends events in order and ignores a repeated (command_id, attempt, type)", async () => {
      const report = {
        execution_id: "x1",
        type: "call.done",
        command_id: "42",
        attempt: 1,
        step: "s",
        payload: { v: 1 },
      };
      const first = await store.transaction((tx) =>
        tx.appendEvents([
          { execution_id: "x1", type: "playbook.initialized", payload: {} },
          report,
          { ...report, type: "command.completed" },
        ]),
      );
      assert.deepEqual(
        first.map((e) => e.type),
        ["playbook.initialized", "call.done", "command.completed"],
      );
      assert.ok(BigInt(first[0]!.event_id) < BigInt(first[1]!.event_id));
      const again = await store.transaction((tx) => tx.appendEvents([report]));
      assert.deepEqual(again, []);
      const all = await store.listEvents("x1", { limit: 100 });
      assert.equal(all.length, 3);
      assert.deepEqual(all[1], { ...first[1] });
      assert.equal(all[1]!.command_id, "42");
      assert.equal(all[0]!.command_id, undefined);
      const later = await store.listEvents("x1", { after: all[0]!.event_id, limit: 100 });
      assert.deepEqual(
        later.map((e) => e.type),
        ["call.done", "command.completed"],
      );
    });

    it("writes nothing when a transaction fails", async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.createExecution({ execution_id: "doomed", status: "RUNNING" });
          await tx.appendEvents([{ execution_id: "doomed", type: "x", payload: {} }]);
          await tx.insertCommands([
            { command_id: "doomed.1", execution_id: "doomed", step: "s", payload: {} },
          ]);
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal(await store.getExecution("doomed"), undefined);
      assert.deepEqual(await store.listEvents("doomed", { limit: 10 }), []);
      assert.equal((await store.statusCounts()).commands.PENDING, undefined);
    });

    it("claims each pending command once and fences reports by lease token", async () => {
      const cmds = [1, 2, 3].map((i) => ({
        command_id: `x1.${i}`,
        execution_id: "x1",
        step: `s${i}`,
        payload: { tasks: [{ kind: "noop" }], context: { i } },
      }));
      await store.transaction((tx) => tx.insertCommands(cmds));
      assert.deepEqual((await store.statusCounts()).commands, { PENDING: 3 });
      const claim = (w: string) =>
        store.transaction((tx) =>
          tx.claimCommands({ pool: "default", worker_id: w, lease_ms: 30_000, limit: 2 }),
        );
      const [a, b] = await Promise.all([claim("w1"), claim("w2")]);
      const ids = [...a, ...b].map((c) => c.command_id).sort();
      assert.deepEqual(ids, cmds.map((c) => c.command_id).sort());
      const one = a[0] ?? b[0]!;
      assert.equal(one.status, "CLAIMED");
      assert.ok(one.lease_token && one.lease_until && Date.parse(one.lease_until) > Date.now());
      assert.equal(
        await store.transaction((tx) => tx.finishCommand(one.command_id, "wrong", "COMPLETED")),
        false,
      );
      assert.equal(
        await store.transaction((tx) => tx.finishCommand(one.command_id, one.lease_token!, "COMPLETED")),
        true,
      );
      assert.equal(
        await store.transaction((tx) => tx.finishCommand(one.command_id, one.lease_token!, "COMPLETED")),
        false,
      );
      assert.ok(
        (await store.transaction((tx) =>
          tx.extendLease(
            a[0]?.command_id === one.command_id ? (a[1] ?? b[0])!.command_id : a[0]!.command_id,
            "wrong",
            1000,
          ),
        )) === undefined,
      );
      const events = await store.listEvents("x1", { limit: 10 });
      assert.equal(events.filter((e) => e.type === "command.claimed").length, 3);
      const counts = await store.statusCounts();
      assert.deepEqual(counts.commands, { CLAIMED: 2, COMPLETED: 1 });
      assert.equal(counts.executions.RUNNING, 4);
    });

    it("re-issues expired leases with attempt + 1, after which the old token is refused", async () => {
      await store.transaction((tx) =>
        tx.insertCommands([
          { command_id: "x1.lease", execution_id: "x1", step: "lease", pool: "leases", payload: {} },
        ]),
      );
      const [first] = await store.transaction((tx) =>
        tx.claimCommands({ pool: "leases", worker_id: "w1", lease_ms: 1, limit: 1 }),
      );
      await new Promise((r) => setTimeout(r, 20));
      const reissued = await store.transaction((tx) => tx.reissueExpired(100));
      assert.deepEqual(
        reissued.map((c) => [c.command_id, c.status, c.attempt, c.lease_token]),
        [["x1.lease", "PENDING", 2, null]],
      );
      assert.equal(
        await store.transaction((tx) => tx.extendLease("x1.lease", first!.lease_token!, 30_000)),
        undefined,
      );
      const [second] = await store.transaction((tx) =>
        tx.claimCommands({ pool: "leases", worker_id: "w2", lease_ms: 30_000, limit: 1 }),
      );
      assert.equal(second?.attempt, 2);
      const until = await store.transaction((tx) => tx.extendLease("x1.lease", second!.lease_token!, 60_000));
      assert.ok(until && Date.parse(until) > Date.now() + 30_000);
      assert.deepEqual(await store.transaction((tx) => tx.reissueExpired(100)), []);
      assert.equal(
        await store.transaction((tx) => tx.finishCommand("x1.lease", first!.lease_token!, "COMPLETED")),
        false,
      );
      assert.equal(
        await store.transaction((tx) => tx.finishCommand("x1.lease", second!.lease_token!, "COMPLETED")),
        true,
      );
    });

    it("finishes many leases in one call and tells which reports are logged", async () => {
      await store.transaction((tx) =>
        tx.insertCommands([
          { command_id: "x2.1", execution_id: "x2", step: "a", payload: {}, pool: "many" },
          { command_id: "x2.2", execution_id: "x2", step: "b", payload: {}, pool: "many" },
          // Handed straight to a worker: inserted already leased.
          {
            command_id: "x2.3",
            execution_id: "x2",
            step: "c",
            payload: {},
            pool: "many",
            status: "CLAIMED",
            worker_id: "w9",
            lease_token: "t3",
            lease_ms: 30_000,
          },
        ]),
      );
      const leased = await store.transaction((tx) =>
        tx.claimCommands({ pool: "many", worker_id: "w1", lease_ms: 30_000, limit: 10 }),
      );
      assert.deepEqual(
        leased.map((c) => c.command_id),
        ["x2.1", "x2.2"],
      );
      const [one, two] = leased as [CommandRecord, CommandRecord];
      const finished = await store.transaction((tx) =>
        tx.finishCommands([
          { command_id: one.command_id, lease_token: one.lease_token!, status: "COMPLETED" },
          { command_id: two.command_id, lease_token: "stale", status: "COMPLETED" },
          { command_id: "x2.3", lease_token: "t3", status: "FAILED" },
        ]),
      );
      assert.deepEqual(
        [...finished].sort(),
        [leaseKey(one.command_id, one.lease_token!), leaseKey("x2.3", "t3")].sort(),
      );
      // The hand-off lease expires like a claimed one: the sweeper sees it.
      const counts = await store.statusCounts();
      assert.equal(counts.commands.FAILED, 1);
      await store.transaction((tx) =>
        tx.appendEvents([
          { execution_id: "x2", type: "command.completed", command_id: "x2.1", attempt: 1, payload: {} },
        ]),
      );
      const logged = await store.transaction((tx) =>
        tx.loggedReports([
          { command_id: "x2.1", attempt: 1, type: "command.completed" },
          { command_id: "x2.1", attempt: 2, type: "command.completed" },
          { command_id: "x2.2", attempt: 1, type: "command.completed" },
        ]),
      );
      assert.deepEqual([...logged], [reportKey("x2.1", 1, "command.completed")]);
    });

    it("applies a report batch in one statement only when the state and every lease are current", async () => {
      await store.transaction(async (tx) => {
        await tx.createExecution({ execution_id: "x9", status: "RUNNING" });
        await tx.appendEvents([{ execution_id: "x9", type: "workflow.initialized", payload: {} }]);
        await tx.insertCommands([
          {
            command_id: "x9.1",
            execution_id: "x9",
            step: "a",
            payload: {},
            pool: "apply",
            status: "CLAIMED",
            worker_id: "w1",
            lease_token: "t1",
            lease_ms: 30_000,
          },
        ]);
      });
      const [last] = (await store.listEvents("x9", { limit: 10 })).map((e) => e.event_id);
      const batch = (expect_last: string, lease_token: string) => ({
        execution_id: "x9",
        expect_last,
        finish: [{ command_id: "x9.1", lease_token, status: "COMPLETED" as const }],
        events: [
          { type: "command.started", command_id: "x9.1", attempt: 1, payload: {} },
          { type: "command.completed", command_id: "x9.1", attempt: 1, step: "a", payload: { r: 1 } },
          { type: "step.exit", step: "a", payload: {} },
        ],
        steps: [{ step: "a", status: "COMPLETED", data: { r: 1 }, ended_at: new Date().toISOString() }],
        commands: [{ command_id: "x9.2", execution_id: "x9", step: "b", payload: { n: 2 }, pool: "apply" }],
      });
      const stale = await store.applyReport(batch("1", "t1"));
      assert.deepEqual([stale.applied, stale.reason], [false, "stale"]);
      const foreign = await store.applyReport(batch(last!, "other"));
      assert.deepEqual([foreign.applied, foreign.reason], [false, "lease"]);
      assert.equal((await store.listEvents("x9", { limit: 10 })).length, 1, "a refused batch writes nothing");
      const ok = await store.applyReport(batch(last!, "t1"));
      assert.equal(ok.applied, true);
      const events = await store.listEvents("x9", { limit: 10 });
      assert.deepEqual(
        events.map((e) => e.type),
        ["workflow.initialized", "command.started", "command.completed", "step.exit"],
      );
      assert.equal(ok.last, events.at(-1)!.event_id, "the last event the engine folds");
      assert.deepEqual([...ok.logged].sort(), [
        reportKey("x9.1", 1, "command.completed"),
        reportKey("x9.1", 1, "command.started"),
      ]);
      assert.deepEqual(
        (await store.listSteps("x9")).map((r) => [r.step, r.status]),
        [["a", "COMPLETED"]],
      );
      const [next] = await store.claimCommands({ pool: "apply", worker_id: "w2", lease_ms: 1000, limit: 5 });
      assert.deepEqual([next?.command_id, next?.payload], ["x9.2", { n: 2 }]);
      const again = await store.applyReport(batch(ok.last!, "t1"));
      assert.deepEqual([again.applied, again.reason], [false, "lease"], "a repeat finds the lease used");
    });

    it("keeps one row per worker, refreshed by heartbeats", async () => {
      await store.heartbeatWorker({ worker_id: "w1", pool: "default", host: "h", pid: 1, concurrency: 8 });
      await store.heartbeatWorker({ worker_id: "w1", pool: "default", host: "h", pid: 2, concurrency: 4 });
      const [w] = await store.listWorkers();
      assert.deepEqual([w?.worker_id, w?.pid, w?.concurrency, w?.status], ["w1", 2, 4, "ready"]);
    });
  });
}
