// Rewrites every short and legacy form into the canonical one, once, at load time. Keys it does
// not know are copied through unchanged so the schema reports them with their source position.
// Every object it produces remembers the source path it came from (for error positions).
import type { PathSegment } from "./problems";

export interface Normalised {
  value: unknown;
  origins: WeakMap<object, PathSegment[]>;
  problems: { path: PathSegment[]; message: string; key?: boolean }[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** Step keys that are not tool configuration, for v1 steps that put `type:` and tool keys on the step. */
const STEP_KEYS = new Set([
  "step",
  "desc",
  "when",
  "input",
  "args",
  "with",
  "loop",
  "tool",
  "set",
  "next",
  "case",
  "retry",
]);

export function normalise(raw: unknown): Normalised {
  const origins = new WeakMap<object, PathSegment[]>();
  const problems: Normalised["problems"] = [];
  const mark = <T>(x: T, path: PathSegment[]): T => {
    if (typeof x === "object" && x !== null) origins.set(x, path);
    return x;
  };

  function renameInput(o: Obj, path: PathSegment[]): void {
    for (const alias of ["args", "with"]) {
      if (!(alias in o)) continue;
      if ("input" in o)
        problems.push({
          path: [...path, alias],
          message: `"${alias}" and "input" both given; use "input"`,
          key: true,
        });
      else o.input = o[alias];
      delete o[alias];
    }
  }

  function normaliseTask(t: unknown, path: PathSegment[]): unknown {
    if (!isObj(t)) return t;
    const o: Obj = { ...t };
    if ("type" in o && !("kind" in o)) {
      o.kind = o.type;
      delete o.type;
    }
    renameInput(o, path);
    if (isObj(o.spec) && isObj(o.spec.policy) && Array.isArray(o.spec.policy.rules)) {
      const rules = o.spec.policy.rules.map((r, i) =>
        mark(normaliseRule(r), [...path, "spec", "policy", "rules", i]),
      );
      o.spec = mark({ ...o.spec, policy: mark({ ...o.spec.policy, rules }, [...path, "spec", "policy"]) }, [
        ...path,
        "spec",
      ]);
    }
    return mark(o, path);
  }

  function normaliseTools(tool: unknown, path: PathSegment[]): unknown {
    if (Array.isArray(tool))
      return mark(
        tool.map((t, i) => normaliseTask(t, [...path, i])),
        path,
      );
    return mark([normaliseTask(tool, path)], path);
  }

  function normaliseNext(next: unknown, path: PathSegment[]): Obj | unknown {
    if (typeof next === "string") return mark({ arcs: [mark({ step: next }, path)] }, path);
    if (Array.isArray(next)) {
      const arcs = next.map((a, i) =>
        mark(typeof a === "string" ? { step: a } : isObj(a) ? { ...a } : a, [...path, i]),
      );
      return mark({ spec: { mode: "exclusive" }, arcs }, path);
    }
    if (isObj(next) && Array.isArray(next.arcs)) {
      const arcs = next.arcs.map((a, i) => mark(isObj(a) ? { ...a } : a, [...path, "arcs", i]));
      return mark({ ...next, arcs }, path);
    }
    return next;
  }

  function normaliseLoop(loop: unknown, path: PathSegment[]): unknown {
    if (!isObj(loop)) return loop;
    const o: Obj = { ...loop };
    if ("collection" in o && !("in" in o)) {
      o.in = o.collection;
      delete o.collection;
    }
    if ("element" in o && !("iterator" in o)) {
      o.iterator = o.element;
      delete o.element;
    }
    const spec: Obj = isObj(o.spec) ? { ...o.spec } : {};
    for (const k of ["mode", "max_in_flight"]) {
      if (k in o) {
        spec[k] = o[k];
        delete o[k];
      }
    }
    if (Object.keys(spec).length > 0) o.spec = mark(spec, [...path, "spec"]);
    return mark(o, path);
  }

  function normaliseStep(s: unknown, path: PathSegment[]): unknown {
    if (!isObj(s)) return s;
    const o: Obj = { ...s };
    renameInput(o, path);
    if ("type" in o && !("tool" in o)) {
      const task: Obj = { kind: o.type };
      for (const k of Object.keys(o)) {
        if (k !== "type" && !STEP_KEYS.has(k)) {
          task[k] = o[k];
          delete o[k];
        }
      }
      delete o.type;
      o.tool = [mark(task, path)];
    } else if ("tool" in o) o.tool = normaliseTools(o.tool, [...path, "tool"]);
    if ("loop" in o) o.loop = normaliseLoop(o.loop, [...path, "loop"]);
    if ("next" in o) o.next = normaliseNext(o.next, [...path, "next"]);
    if ("retry" in o) applyRetry(o, path);
    if ("case" in o) applyCase(o, path);
    return mark(o, path);
  }

  /** `retry: {max_attempts, initial_delay, backoff_multiplier, max_delay}` → a retry rule on each task. */
  function applyRetry(o: Obj, path: PathSegment[]): void {
    const r = typeof o.retry === "number" ? { max_attempts: o.retry } : o.retry;
    delete o.retry;
    if (!isObj(r) || !Array.isArray(o.tool)) {
      problems.push({
        path: [...path, "retry"],
        message: "retry must be a mapping on a step with a tool",
        key: true,
      });
      return;
    }
    const multiplier = typeof r.backoff_multiplier === "number" ? r.backoff_multiplier : 1;
    const then: Obj = {
      do: "retry",
      attempts: r.max_attempts ?? 3,
      backoff: multiplier > 1 ? "exponential" : "none",
    };
    if (r.initial_delay !== undefined) then.delay = r.initial_delay;
    if (r.max_delay !== undefined) then.max_delay = r.max_delay;
    const rule = mark({ when: "{{ output.status == 'error' }}", then }, [...path, "retry"]);
    for (const t of o.tool) if (isObj(t)) addRule(t, rule, path);
  }

  /** Legacy `case: [{when, then: {next|set|retry|fail}}]` → arcs and policy rules. */
  function applyCase(o: Obj, path: PathSegment[]): void {
    const cases = o.case;
    delete o.case;
    if (!Array.isArray(cases)) {
      problems.push({ path: [...path, "case"], message: "case must be a list of {when, then}", key: true });
      return;
    }
    const arcs: unknown[] = [];
    cases.forEach((c, i) => {
      const cpath = [...path, "case", i];
      if (!isObj(c) || !isObj(c.then)) {
        problems.push({ path: cpath, message: "each case needs a `then` mapping" });
        return;
      }
      const { when, then } = c;
      const targets = then.next === undefined ? [] : Array.isArray(then.next) ? then.next : [then.next];
      for (const t of targets) {
        const arc: Obj = typeof t === "string" ? { step: t } : isObj(t) ? { ...t } : { step: t };
        if (when !== undefined) arc.when = when;
        if (then.set !== undefined && arc.set === undefined) arc.set = then.set;
        arcs.push(mark(arc, cpath));
      }
      let rule: Obj | undefined;
      if (then.retry !== undefined) {
        const r = isObj(then.retry) ? then.retry : {};
        rule = { do: "retry", attempts: r.max_attempts ?? r.attempts ?? 3 };
        if (r.delay !== undefined || r.initial_delay !== undefined) rule.delay = r.delay ?? r.initial_delay;
      } else if (then.fail !== undefined) rule = { do: "fail" };
      else if (then.set !== undefined && targets.length === 0) rule = { do: "continue", set: then.set };
      if (rule && Array.isArray(o.tool)) {
        for (const t of o.tool)
          if (isObj(t))
            addRule(t, mark({ ...(when !== undefined ? { when } : {}), then: rule }, cpath), cpath);
      }
    });
    if (arcs.length === 0) return;
    const existing = isObj(o.next) && Array.isArray(o.next.arcs) ? o.next.arcs : [];
    const spec = isObj(o.next) && isObj(o.next.spec) ? o.next.spec : { mode: "exclusive" };
    o.next = mark({ spec, arcs: [...arcs, ...existing] }, [...path, "case"]);
  }

  function addRule(t: Obj, rule: Obj, path: PathSegment[]): void {
    const spec: Obj = isObj(t.spec) ? { ...t.spec } : {};
    const policy: Obj = isObj(spec.policy) ? { ...spec.policy } : {};
    policy.rules = [...(Array.isArray(policy.rules) ? policy.rules : []), rule];
    spec.policy = mark(policy, path);
    t.spec = mark(spec, path);
  }

  function normaliseRule(r: unknown): unknown {
    if (isObj(r) && isObj(r.else) && !("then" in r)) return { then: r.else.then };
    return r;
  }

  if (!isObj(raw)) return { value: raw, origins, problems };
  const pb: Obj = { ...raw };
  if (Array.isArray(pb.workflow))
    pb.workflow = mark(
      pb.workflow.map((s, i) => normaliseStep(s, ["workflow", i])),
      ["workflow"],
    );
  if (Array.isArray(pb.workbook)) {
    pb.workbook = pb.workbook.map((w, i) => {
      if (!isObj(w)) return w;
      const o: Obj = { ...w };
      const path = ["workbook", i];
      if ("tool" in o) o.tool = normaliseTools(o.tool, [...path, "tool"]);
      else if ("type" in o) {
        const task: Obj = { kind: o.type };
        for (const k of Object.keys(o))
          if (!["name", "desc", "type"].includes(k)) {
            task[k] = o[k];
            delete o[k];
          }
        delete o.type;
        o.tool = [mark(task, path)];
      }
      return mark(o, path);
    });
  }
  return { value: mark(pb, []), origins, problems };
}
