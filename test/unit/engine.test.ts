// The decision core on its own: no tools run; the test plays the executor's part by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, start } from "../../src/engine/engine";
import { fold, initialState } from "../../src/engine/fold";
import type { Command, CommandReport, EngineEvent, ExecutionState } from "../../src/engine/types";
import { executionWorkload } from "../../src/engine/workload";
import { loadPlaybookSource } from "../../src/playbook/load";
import type { Playbook } from "../../src/playbook/schema";

function pb(yaml: string): Playbook {
  const r = loadPlaybookSource(
    `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: t}\n${yaml}`,
    "t.yaml",
  );
  assert.deepEqual(r.problems, []);
  return r.playbook!;
}

function report(cmd: Command, data: unknown, extra: Partial<CommandReport> = {}, at = 1): EngineEvent {
  const r: CommandReport = { result: { status: "ok", data }, directive: "continue", ...extra };
  return {
    type: r.directive === "fail" ? "command.failed" : "command.completed",
    step: cmd.step,
    command_id: cmd.command_id,
    attempt: 1,
    payload: r as never,
    at,
  };
}

/** Runs a playbook to the end, answering each command with `answer(cmd)`; returns all events. */
function drive(
  p: Playbook,
  answer: (c: Command) => Partial<CommandReport> & { data?: unknown },
  workload = {},
) {
  const began = start(p, { executionId: "x", workload, at: 0 });
  const log: EngineEvent[] = [...began.events];
  const queue = [...began.commands];
  const issued: Command[] = [...began.commands];
  while (queue.length > 0) {
    const cmd = queue.shift()!;
    const { data, ...extra } = answer(cmd);
    const ev = report(cmd, data, extra);
    log.push(ev);
    const d = decide(p, began.state, ev);
    log.push(...d.events);
    queue.push(...d.commands);
    issued.push(...d.commands);
  }
  return { state: began.state, log, issued };
}

describe("engine", () => {
  it("runs a chain and takes the last step's data as the result", () => {
    const p = pb(
      "workflow:\n  - {step: start, tool: {kind: noop}, next: b}\n  - {step: b, tool: {kind: noop}}\n",
    );
    const { state, issued } = drive(p, (c) => ({ data: c.step }));
    assert.equal(state.status, "COMPLETED");
    assert.equal(state.result, "b");
    assert.deepEqual(
      issued.map((c) => c.step),
      ["start", "b"],
    );
  });

  it("exclusive arcs take the first match; inclusive take all", () => {
    const ex = pb(`workflow:
  - step: start
    tool: {kind: noop}
    next: [{step: a, when: "{{ false }}"}, {step: b}, {step: c}]
  - {step: a, tool: {kind: noop}}
  - {step: b, tool: {kind: noop}}
  - {step: c, tool: {kind: noop}}
`);
    assert.deepEqual(
      drive(ex, () => ({})).issued.map((c) => c.step),
      ["start", "b"],
    );
    const inc = pb(`workflow:
  - step: start
    tool: {kind: noop}
    next: {spec: {mode: inclusive}, arcs: [{step: a, when: "{{ false }}"}, {step: b}, {step: c}]}
  - {step: a, tool: {kind: noop}}
  - {step: b, tool: {kind: noop}}
  - {step: c, tool: {kind: noop}}
`);
    assert.deepEqual(
      drive(inc, () => ({})).issued.map((c) => c.step),
      ["start", "b", "c"],
    );
  });

  it("a parallel loop keeps at most max_in_flight commands out and orders results by index", () => {
    const p = pb(`workflow:
  - step: start
    loop: {in: "{{ xs }}", iterator: x, spec: {mode: parallel, max_in_flight: 2}}
    tool: {kind: noop}
`);
    const began = start(p, { executionId: "x", workload: { xs: [1, 2, 3, 4, 5] }, at: 0 });
    assert.equal(began.commands.length, 2);
    const out = [...began.commands];
    // finish in reverse order to check ordering by index
    const done: Command[] = [];
    while (out.length > 0) {
      const cmd = out.pop()!;
      done.push(cmd);
      const d = decide(p, began.state, report(cmd, (cmd.context.x as number) * 10));
      out.push(...d.commands);
      assert.ok(Object.keys(began.state.commands).length <= 2);
    }
    assert.equal(done.length, 5);
    assert.equal(began.state.status, "COMPLETED");
    assert.deepEqual(began.state.result, [10, 20, 30, 40, 50]);
  });

  it("a failed command fails the execution with the step named", () => {
    const p = pb(
      "workflow:\n  - {step: start, tool: {kind: noop}, next: b}\n  - {step: b, tool: {kind: noop}}\n",
    );
    const { state } = drive(p, (c) =>
      c.step === "start"
        ? { directive: "fail", result: { status: "error", error: { kind: "x", message: "boom" } } }
        : {},
    );
    assert.equal(state.status, "FAILED");
    assert.match(state.error!, /step "start" failed: boom/);
  });

  it("a false guard skips the step and still follows its next", () => {
    const p = pb(`workflow:
  - {step: start, tool: {kind: noop}, next: maybe}
  - {step: maybe, when: "{{ flag }}", tool: {kind: noop}, next: end}
  - {step: end, tool: {kind: noop}}
`);
    const { state, issued } = drive(p, (c) => ({ data: c.step }), { flag: false });
    assert.deepEqual(
      issued.map((c) => c.step),
      ["start", "end"],
    );
    assert.deepEqual(state.results.maybe, { status: "skipped" });
    assert.equal(state.status, "COMPLETED");
  });

  it("set writes variables visible to later steps", () => {
    const p = pb(`workflow:
  - step: start
    tool: {kind: noop}
    set: {ctx.n: "{{ output.data + 1 }}"}
    next: b
  - {step: b, tool: {kind: noop}}
`);
    const { issued } = drive(p, () => ({ data: 41 }));
    assert.equal(issued[1]!.context.n, 42);
    assert.equal((issued[1]!.context.ctx as Record<string, unknown>).n, 42);
  });

  it("final_step runs after the graph and gives the result", () => {
    const p = pb(`executor: {spec: {final_step: report}}
workflow:
  - {step: start, tool: {kind: noop}}
  - {step: report, tool: {kind: noop}}
`);
    const { state, issued } = drive(p, (c) => ({ data: c.step }));
    assert.deepEqual(
      issued.map((c) => c.step),
      ["start", "report"],
    );
    assert.equal(state.result, "report");
  });

  it("a jump directive goes to its target instead of the arcs", () => {
    const p = pb(`workflow:
  - {step: start, tool: {kind: noop}, next: b}
  - {step: b, tool: {kind: noop}}
  - {step: c, tool: {kind: noop}}
`);
    const { issued } = drive(p, (c) => (c.step === "start" ? { directive: "jump", to: "c" } : {}));
    assert.deepEqual(
      issued.map((c) => c.step),
      ["start", "c"],
    );
  });

  it("a repeated report is acknowledged without effect", () => {
    const p = pb(
      "workflow:\n  - {step: start, tool: {kind: noop}, next: b}\n  - {step: b, tool: {kind: noop}}\n",
    );
    const began = start(p, { executionId: "x", workload: {}, at: 0 });
    const ev = report(began.commands[0]!, 1);
    assert.equal(decide(p, began.state, ev).commands.length, 1);
    assert.deepEqual(decide(p, began.state, ev), { events: [], commands: [] });
  });

  it("folding the event log rebuilds the same state", () => {
    const p = pb(`workflow:
  - step: start
    loop: {in: [1, 2, 3], iterator: x}
    tool: {kind: noop}
    set: {ctx.total: "{{ output.data | sum }}"}
    next: b
  - {step: b, tool: {kind: noop}}
`);
    const { state, log } = drive(p, (c) => ({ data: c.context.x ?? "b" }));
    const rebuilt = log.reduce<ExecutionState>((s, e) => fold(s, e), initialState("x", 0));
    assert.deepEqual(rebuilt, state);
    assert.equal(state.vars.total, 6);
  });

  it("commands after a step whose result is a secret reference name that step, also after a refold", () => {
    const p = pb(
      "workflow:\n  - {step: start, tool: {kind: secrets, name: K}, next: b}\n  - {step: b, tool: {kind: noop}, next: c}\n  - {step: c, tool: {kind: noop}}\n",
    );
    const ref = { $secret: { provider: "env", name: "K" } };
    const { state, log, issued } = drive(p, (c) => ({ data: c.step === "start" ? ref : c.step }));
    assert.deepEqual(
      issued.map((c) => [c.step, c.secrets]),
      [
        ["start", undefined],
        ["b", ["start"]],
        ["c", ["start"]],
      ],
    );
    assert.deepEqual(state.secretSteps, ["start"]);
    const rebuilt = log.reduce<ExecutionState>((s, e) => fold(s, e), initialState("x", 0));
    assert.deepEqual(rebuilt, state);
  });

  it("only commands of steps whose templates use the keychain carry it", () => {
    const p = pb(`keychain: [{name: api, credential: api_token}]
workflow:
  - {step: start, tool: {kind: noop, input: {t: "{{ keychain.api.token }}"}}, next: b}
  - {step: b, tool: {kind: noop}}
`);
    const { issued } = drive(p, (c) => ({ data: c.step }));
    assert.deepEqual(
      issued.map((c) => [c.step, c.keychain]),
      [
        ["start", [{ name: "api", credential: "api_token" }]],
        ["b", undefined],
      ],
    );
  });

  it("the request's workload is laid over the playbook's defaults at every depth", () => {
    assert.deepEqual(
      executionWorkload({ db: { host: "a", port: 5432 }, xs: [1, 2], n: 1 }, { db: { host: "b" }, xs: [3] }),
      { db: { host: "b", port: 5432 }, xs: [3], n: 1 },
    );
    assert.deepEqual(executionWorkload(undefined, { n: 2 }), { n: 2 });
  });
});
