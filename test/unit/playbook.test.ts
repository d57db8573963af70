// The DSL loader: short and legacy forms normalise to the canonical one; problems carry positions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProblem, loadPlaybookSource } from "../../src/playbook/load";

const head = "apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: t}\n";

function load(body: string) {
  return loadPlaybookSource(head + body, "t.yaml");
}

function ok(body: string) {
  const r = load(body);
  assert.deepEqual(r.problems.map(formatProblem), []);
  return r.playbook!;
}

describe("normalisation", () => {
  it("turns every short form of next into {spec, arcs}", () => {
    const pb = ok(`workflow:
  - {step: start, tool: {kind: noop}, next: a}
  - {step: a, tool: {kind: noop}, next: [b, c]}
  - {step: b, tool: {kind: noop}, next: [{step: c, when: "{{ x }}"}]}
  - {step: c, tool: {kind: noop}}
`);
    assert.deepEqual(pb.workflow[0]!.next, { arcs: [{ step: "a" }] });
    assert.deepEqual(pb.workflow[1]!.next, {
      spec: { mode: "exclusive" },
      arcs: [{ step: "b" }, { step: "c" }],
    });
    assert.deepEqual(pb.workflow[2]!.next, {
      spec: { mode: "exclusive" },
      arcs: [{ step: "c", when: "{{ x }}" }],
    });
  });

  it("makes a single tool a pipeline of one and renames type/args/with", () => {
    const pb = ok(`workflow:
  - step: start
    args: {a: 1}
    tool: {type: shell, cmds: "true", with: {b: 2}}
`);
    assert.deepEqual(pb.workflow[0]!.input, { a: 1 });
    assert.deepEqual(pb.workflow[0]!.tool, [{ kind: "shell", cmds: "true", input: { b: 2 } }]);
  });

  it("moves v1 tool keys from the step into the tool", () => {
    const pb = ok(`workflow:
  - step: start
    type: python
    code: "result = 1"
    next: done
  - {step: done}
`);
    assert.deepEqual(pb.workflow[0]!.tool, [{ kind: "python", code: "result = 1" }]);
    assert.deepEqual(pb.workflow[0]!.next, { arcs: [{ step: "done" }] });
  });

  it("rewrites legacy loop and retry forms", () => {
    const pb = ok(`workflow:
  - step: start
    loop: {collection: "{{ xs }}", element: x, mode: parallel}
    retry: {max_attempts: 4, initial_delay: 0.5, backoff_multiplier: 2}
    tool: {kind: noop}
`);
    assert.deepEqual(pb.workflow[0]!.loop, { in: "{{ xs }}", iterator: "x", spec: { mode: "parallel" } });
    assert.deepEqual(pb.workflow[0]!.tool![0]!.spec?.policy?.rules, [
      {
        when: "{{ output.status == 'error' }}",
        then: { do: "retry", attempts: 4, backoff: "exponential", delay: 0.5 },
      },
    ]);
  });

  it("rewrites case into arcs and policy rules", () => {
    const pb = ok(`workflow:
  - step: start
    tool: {kind: noop}
    case:
      - when: "{{ output.status == 'error' }}"
        then: {retry: {max_attempts: 2}}
      - when: "{{ output.data.ok }}"
        then: {next: [{step: good}], set: {ctx.flag: true}}
  - {step: good}
`);
    const step = pb.workflow[0]!;
    assert.deepEqual(step.next?.arcs, [
      { step: "good", when: "{{ output.data.ok }}", set: { "ctx.flag": true } },
    ]);
    assert.equal(step.tool?.[0]?.spec?.policy?.rules[0]?.then.do, "retry");
  });

  it("accepts an else rule", () => {
    const pb = ok(`workflow:
  - step: start
    tool:
      kind: noop
      spec: {policy: {rules: [{when: "{{ false }}", then: {do: fail}}, {else: {then: {do: continue}}}]}}
`);
    assert.deepEqual(pb.workflow[0]!.tool![0]!.spec?.policy?.rules[1], { then: { do: "continue" } });
  });
});

describe("problems", () => {
  it("an alias to an anchor that does not exist is a problem at its position, not an exception", () => {
    const r = loadPlaybookSource("apiVersion: noetl.io/v2\nkind: Playbook\nworkflow: *nope\n", "a.yaml");
    assert.equal(r.playbook, undefined);
    assert.deepEqual(r.problems.map(formatProblem), [
      "a.yaml:3:16: Unresolved alias (the anchor must be set before the alias): nope",
    ]);
    assert.equal(loadPlaybookSource("*!", "b.yaml").problems.length, 1);
  });

  it("reports every problem of a file at once, in source order, with positions", () => {
    const r = load(`workflow:
  - step: start
    tol: {kind: noop}
    next: nowhere
  - step: b
    tool: {kind: shel}
`);
    assert.deepEqual(r.problems.map(formatProblem), [
      't.yaml:6:5: unknown key "tol" in "workflow[0]"; did you mean "tool"?',
    ]);
  });

  it("points at step references, kinds and templates after the schema passes", () => {
    const r = load(`workflow:
  - step: start
    tool: {kind: noop, input: {x: "{{ broken "}}
    next: nowhere
  - step: b
    tool: {kind: shel}
`);
    const text = r.problems.map(formatProblem);
    assert.equal(text.length, 3);
    assert.match(text[0]!, /^t\.yaml:6:35: template error in "workflow\[0\]\.tool\[0\]\.input\.x"/);
    assert.match(text[1]!, /^t\.yaml:7:11: next step "nowhere" is not a step/);
    assert.match(text[2]!, /^t\.yaml:9:18: unknown tool kind "shel"; did you mean "shell"\?/);
  });

  it("reports an unknown tool key with a suggestion", () => {
    const r = load(`workflow:
  - step: start
    tool: {kind: shell, cmd: "true"}
`);
    assert.match(
      r.problems.map(formatProblem).join("\n"),
      /t\.yaml:6:25: unknown key "cmd" for tool kind "shell"; did you mean "cmds"\?/,
    );
  });

  it("reports wrong types with the field path", () => {
    const r = load(`workflow:
  - step: start
    loop: {in: "{{ xs }}", iterator: 3}
    tool: {kind: noop}
`);
    assert.match(
      r.problems.map(formatProblem).join("\n"),
      /t\.yaml:6:38: "workflow\[0\]\.loop\.iterator": expected string but received 3/,
    );
  });

  it("rejects a jump without a target and a policy action that does not exist", () => {
    const r = load(`workflow:
  - step: start
    tool:
      kind: noop
      spec: {policy: {rules: [{then: {do: jump}}, {then: {do: explode}}]}}
`);
    assert.ok(r.problems.length >= 1);
    assert.match(r.problems.map(formatProblem).join("\n"), /explode/);
  });
});
