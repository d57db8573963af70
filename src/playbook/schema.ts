// The DSL's shape, written once with valibot. `canonical` is what the engine runs (every short
// and legacy form already normalised); `authoring` also admits the short forms people type, and
// is what `noetl schema` exports for editors. Both are built from the same pieces.
import * as v from "valibot";

const Vars = v.record(v.string(), v.unknown());
const Condition = v.union([v.string(), v.boolean()]);

export const policyActions = ["continue", "retry", "jump", "break", "fail"] as const;

const Then = v.strictObject({
  do: v.picklist(policyActions),
  attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  backoff: v.optional(v.picklist(["none", "linear", "exponential"])),
  /** Seconds before the first retry. */
  delay: v.optional(v.pipe(v.number(), v.minValue(0))),
  max_delay: v.optional(v.pipe(v.number(), v.minValue(0))),
  to: v.optional(v.string()),
  set: v.optional(Vars),
});

const Rule = v.strictObject({ when: v.optional(Condition), then: Then });
const AuthoringRule = v.union([Rule, v.strictObject({ else: v.strictObject({ then: Then }) })]);

function taskSpec<R extends v.GenericSchema>(rule: R) {
  return v.strictObject({
    policy: v.optional(v.strictObject({ rules: v.array(rule) })),
    timeout_seconds: v.optional(v.pipe(v.number(), v.minValue(0))),
    pool: v.optional(v.string()),
  });
}

/** One tool call; the kind's own keys sit beside these and are checked against the tool registry. */
function task<R extends v.GenericSchema>(rule: R) {
  return v.objectWithRest(
    {
      kind: v.string(),
      name: v.optional(v.string()),
      desc: v.optional(v.string()),
      input: v.optional(Vars),
      spec: v.optional(taskSpec(rule)),
    },
    v.unknown(),
  );
}

export const Task = task(Rule);

const Loop = v.strictObject({
  in: v.union([v.string(), v.array(v.unknown())]),
  iterator: v.string(),
  spec: v.optional(
    v.strictObject({
      mode: v.optional(v.picklist(["sequential", "parallel"])),
      max_in_flight: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    }),
  ),
});

const Arc = v.strictObject({ step: v.string(), when: v.optional(Condition), set: v.optional(Vars) });

const Next = v.strictObject({
  spec: v.optional(v.strictObject({ mode: v.optional(v.picklist(["exclusive", "inclusive"])) })),
  arcs: v.array(Arc),
});

function step<T extends v.GenericSchema, N extends v.GenericSchema>(tool: T, next: N) {
  return v.strictObject({
    step: v.string(),
    desc: v.optional(v.string()),
    when: v.optional(Condition),
    input: v.optional(Vars),
    loop: v.optional(Loop),
    tool: v.optional(tool),
    set: v.optional(Vars),
    next: v.optional(next),
  });
}

function playbook<S extends v.GenericSchema, T extends v.GenericSchema>(stepSchema: S, tool: T) {
  return v.strictObject({
    apiVersion: v.pipe(v.string(), v.regex(/^noetl\.io\/v\d+$/, 'must look like "noetl.io/v2"')),
    kind: v.literal("Playbook"),
    metadata: v.looseObject({
      name: v.string(),
      path: v.optional(v.string()),
      version: v.optional(v.union([v.string(), v.number()])),
      description: v.optional(v.string()),
    }),
    executor: v.optional(
      v.looseObject({
        spec: v.optional(
          v.looseObject({ entry_step: v.optional(v.string()), final_step: v.optional(v.string()) }),
        ),
      }),
    ),
    workload: v.optional(Vars),
    // Credentials a playbook names for its templates (`keychain.NAME.FIELD`); only `credential` so far.
    keychain: v.optional(
      v.array(
        v.strictObject({
          name: v.string(),
          kind: v.optional(v.picklist(["credential"], 'keychain kind must be "credential"')),
          credential: v.optional(v.string()),
          desc: v.optional(v.string()),
        }),
      ),
    ),
    workbook: v.optional(v.array(v.strictObject({ name: v.string(), desc: v.optional(v.string()), tool }))),
    workflow: v.pipe(v.array(stepSchema), v.minLength(1, "must list at least one step")),
  });
}

const CanonicalStep = step(v.array(Task), Next);
const AuthoringTask = task(AuthoringRule);
const AuthoringStep = step(
  v.union([AuthoringTask, v.array(AuthoringTask)]),
  v.union([v.string(), v.array(v.union([v.string(), Arc])), Next]),
);

export const CanonicalPlaybook = playbook(CanonicalStep, v.array(Task));
export const AuthoringPlaybook = playbook(AuthoringStep, v.union([AuthoringTask, v.array(AuthoringTask)]));

export type Playbook = v.InferOutput<typeof CanonicalPlaybook>;
export type Step = Playbook["workflow"][number];
export type TaskConfig = v.InferOutput<typeof Task>;
export type PolicyRule = v.InferOutput<typeof Rule>;
export type PolicyThen = v.InferOutput<typeof Then>;
export type NextSpec = v.InferOutput<typeof Next>;
export type ArcSpec = v.InferOutput<typeof Arc>;
export type LoopSpec = v.InferOutput<typeof Loop>;

/** Keys each object kind admits, for "did you mean …?" on misspellings. */
export const knownKeys: Record<string, readonly string[]> = {
  playbook: Object.keys(CanonicalPlaybook.entries),
  step: Object.keys(CanonicalStep.entries),
  loop: Object.keys(Loop.entries),
  next: Object.keys(Next.entries),
  arc: Object.keys(Arc.entries),
  rule: ["when", "then", "else"],
  then: Object.keys(Then.entries),
  spec: Object.keys(taskSpec(Rule).entries),
};
