// The decision core shared by `noetl run` and the server: given a playbook, an execution's
// state and a new event, it returns the events to append and the commands to issue.
// No I/O, no clock (times come in on events), no randomness (ids are derived from a counter).
import type { Playbook, Step } from "../playbook/schema";
import { evaluateCondition, renderValue } from "../template";
import { iterationContext, layer, stepContext, withOutput } from "./context";
import { applySet, fold, initialState } from "./fold";
import type {
  Command,
  CommandReport,
  Decision,
  EngineEvent,
  Envelope,
  ExecutionState,
  StepRun,
} from "./types";

export interface StartOptions {
  executionId: string;
  workload: Record<string, unknown>;
  at: number;
  parentExecutionId?: string;
  path?: string;
}

export function entryStep(pb: Playbook): string {
  const named = pb.executor?.spec?.entry_step;
  if (typeof named === "string") return named;
  return pb.workflow.find((s) => s.step === "start")?.step ?? pb.workflow[0]!.step;
}

/** Begins an execution: its first events and the entry step's commands. */
export function start(pb: Playbook, opts: StartOptions): { state: ExecutionState } & Decision {
  const state = initialState(opts.executionId, opts.at);
  const d = new Decider(pb, state, opts.at);
  d.emit({
    type: "playbook.initialized",
    payload: { workload: opts.workload, path: opts.path, parent_execution_id: opts.parentExecutionId },
  });
  d.emit({ type: "workflow.initialized", payload: { entry_step: entryStep(pb) } });
  d.enter(entryStep(pb));
  d.settle();
  return { state, ...d.result() };
}

/** Folds an incoming event (a command's report) into `state`, in place, and decides what follows. */
export function decide(pb: Playbook, state: ExecutionState, ev: EngineEvent): Decision {
  if (ev.type !== "command.completed" && ev.type !== "command.failed") {
    fold(state, ev);
    return { events: [], commands: [] };
  }
  const cmd = ev.command_id ? state.commands[ev.command_id] : undefined;
  // A report for a command that is no longer outstanding (a repeat, or after the end) changes nothing.
  if (!cmd || state.status !== "RUNNING") return { events: [], commands: [] };
  fold(state, ev);
  const d = new Decider(pb, state, ev.at);
  d.afterCommand(cmd.run, ev.payload as unknown as CommandReport, cmd.iteration);
  d.settle();
  return d.result();
}

export function cancel(state: ExecutionState, at: number, reason = "cancelled by request"): Decision {
  if (state.status !== "RUNNING" && state.status !== "PENDING") return { events: [], commands: [] };
  const ev: EngineEvent = { type: "execution.cancelled", payload: { reason }, at };
  fold(state, ev);
  return { events: [ev], commands: [] };
}

const indexes = new WeakMap<Playbook, Map<string, Step>>();
function stepIndex(pb: Playbook): Map<string, Step> {
  let index = indexes.get(pb);
  if (!index) {
    index = new Map(pb.workflow.map((s) => [s.step, s]));
    indexes.set(pb, index);
  }
  return index;
}

// Whether a step's templates (tools, input, workbook tasks it may call) mention the keychain,
// computed once per step: only those commands carry it, and only they read credentials.
const keychainUse = new WeakMap<Step, boolean>();
function mentionsKeychain(pb: Playbook, step: Step): boolean {
  let uses = keychainUse.get(step);
  if (uses === undefined) {
    const calls = step.tool?.some((t) => t.kind === "workbook") ? pb.workbook : undefined;
    uses = JSON.stringify([step.tool, step.input, calls]).includes("keychain");
    keychainUse.set(step, uses);
  }
  return uses;
}

class Decider {
  private readonly events: EngineEvent[] = [];
  private readonly commands: Command[] = [];
  private readonly steps: Map<string, Step>;

  constructor(
    private readonly pb: Playbook,
    private readonly state: ExecutionState,
    private readonly at: number,
  ) {
    this.steps = stepIndex(pb);
  }

  result(): Decision {
    return { events: this.events, commands: this.commands };
  }

  emit(e: Omit<EngineEvent, "at">): void {
    const ev = { ...e, at: this.at } as EngineEvent;
    this.events.push(ev);
    fold(this.state, ev);
  }

  private get running(): boolean {
    return this.state.status === "RUNNING";
  }

  enter(name: string, final = false): void {
    if (!this.running) return;
    const step = this.steps.get(name);
    if (!step) return this.fail(name, `step "${name}" does not exist`);
    const run = `r${this.state.seq + 1}`;
    const ctx = stepContext(this.state);
    let guard: boolean;
    let items: unknown[] | undefined;
    try {
      guard = evaluateCondition(step.when, ctx, { step: name, field: "when" });
      if (guard && step.loop) items = this.loopItems(step, ctx);
    } catch (err) {
      this.emit({ type: "step.enter", step: name, payload: { run, final } });
      return this.fail(name, (err as Error).message, run);
    }
    const loop = items &&
      step.loop && {
        items,
        iterator: step.loop.iterator,
        parallel: step.loop.spec?.mode === "parallel",
        max: step.loop.spec?.mode === "parallel" ? (step.loop.spec?.max_in_flight ?? items.length) : 1,
      };
    this.emit({ type: "step.enter", step: name, payload: { run, final, ...(loop ? { loop } : {}) } });
    if (!guard) return this.skip(run, step);
    if (!step.tool || step.tool.length === 0)
      return this.finish(this.state.runs[run]!, { status: "ok", data: null }, undefined, false);
    if (loop) return this.issueIterations(this.state.runs[run]!);
    this.issue(this.state.runs[run]!, step, ctx);
  }

  private loopItems(step: Step, ctx: Record<string, unknown>): unknown[] {
    const value = renderValue(step.loop!.in, ctx, { step: step.step, field: "loop.in" });
    if (Array.isArray(value)) return value;
    if (typeof value === "object" && value !== null)
      return Object.entries(value).map(([key, v]) => ({ key, value: v }));
    throw new Error(
      `step "${step.step}": loop.in must give a list, got ${value === null ? "null" : typeof value}`,
    );
  }

  private issue(run: StepRun, step: Step, ctx: Record<string, unknown>, iteration?: number): void {
    const id = `${this.state.executionId}.${this.state.seq + 1}`;
    const usesWorkbook = step.tool!.some((t) => t.kind === "workbook");
    const command: Command = {
      command_id: id,
      execution_id: this.state.executionId,
      step: step.step,
      run: run.id,
      attempt: 1,
      tasks: step.tool!,
      context: ctx,
      ...(iteration !== undefined ? { iteration } : {}),
      ...(step.input ? { input: step.input } : {}),
      ...(usesWorkbook && this.pb.workbook ? { workbook: this.pb.workbook } : {}),
      ...(this.state.secretSteps ? { secrets: [...this.state.secretSteps] } : {}),
      ...(this.pb.keychain && mentionsKeychain(this.pb, step) ? { keychain: this.pb.keychain } : {}),
    };
    this.emit({
      type: "command.issued",
      step: step.step,
      command_id: id,
      attempt: 1,
      payload: { run: run.id, iteration },
    });
    this.commands.push(command);
  }

  private issueIterations(run: StepRun): void {
    const loop = run.loop!;
    const step = this.steps.get(run.step)!;
    if (loop.items.length === 0) return this.finishLoop(run);
    const base = stepContext(this.state);
    while (!loop.broken && loop.next < loop.items.length && loop.inFlight < loop.max) {
      const i = loop.next;
      this.issue(run, step, layer(base, iterationContext(loop.iterator, loop.items, i)), i);
    }
  }

  afterCommand(runId: string, report: CommandReport, iteration?: number): void {
    const run = this.state.runs[runId];
    if (!run) return;
    if (report.directive === "fail") {
      const reason = report.result.error?.message ?? "the tool reported an error";
      const where = iteration !== undefined ? ` (iteration ${iteration})` : "";
      return this.fail(run.step, `${reason}${where}`, runId, report.result);
    }
    if (!run.loop)
      return this.finish(run, report.result, report.directive === "jump" ? report.to : undefined);
    this.issueIterations(run);
    if (run.loop.inFlight === 0 && (run.loop.broken || run.loop.next >= run.loop.items.length))
      this.finishLoop(run);
  }

  private finishLoop(run: StepRun): void {
    const loop = run.loop!;
    this.emit({
      type: "loop.done",
      step: run.step,
      payload: { run: run.id, count: loop.done, errors: loop.errors },
    });
    this.finish(run, { status: loop.errors > 0 ? "error" : "ok", data: loop.results }, loop.jump);
  }

  private finish(run: StepRun, result: Envelope, jumpTo?: string, counts = true): void {
    const step = this.steps.get(run.step)!;
    let route: { targets: string[]; set?: Record<string, unknown> };
    try {
      route = this.route(step, result, jumpTo);
    } catch (err) {
      return this.fail(step.step, (err as Error).message, run.id, result);
    }
    const extra = { ...(route.set ? { set: route.set } : {}), ...(counts ? {} : { counts: false }) };
    this.emit({
      type: "step.exit",
      step: step.step,
      payload: { run: run.id, result, next: route.targets, ...extra },
    });
    for (const t of route.targets) this.enter(t);
  }

  private skip(run: string, step: Step): void {
    let route: { targets: string[]; set?: Record<string, unknown> };
    try {
      route = this.route(step, { status: "skipped" });
    } catch (err) {
      return this.fail(step.step, (err as Error).message, run);
    }
    this.emit({
      type: "step.skipped",
      step: step.step,
      payload: { run, next: route.targets, ...(route.set ? { set: route.set } : {}) },
    });
    for (const t of route.targets) this.enter(t);
  }

  /** The step's `set` and the arcs to follow, judged as if the step's result were already recorded. */
  private route(
    step: Step,
    output: Envelope,
    jumpTo?: string,
  ): { targets: string[]; set?: Record<string, unknown> } {
    const where = (field: string) => ({ step: step.step, field });
    // The step's own result is visible by name before step.exit records it.
    const base = stepContext(this.state, { [step.step]: output });
    let vars = this.state.vars;
    let set: Record<string, unknown> | undefined;
    if (step.set) {
      set = renderValue(step.set, withOutput(base, output), where("set")) as Record<string, unknown>;
      vars = structuredClone(vars);
      applySet(vars, set);
    }
    if (jumpTo !== undefined) return { targets: [jumpTo], set };
    if (!step.next) return { targets: [], set };
    const inclusive = step.next.spec?.mode === "inclusive";
    const targets: string[] = [];
    for (const [i, arc] of step.next.arcs.entries()) {
      const ctx = withOutput(
        vars === this.state.vars ? base : layer(base, { ...vars, workload: vars, ctx: vars }),
        output,
      );
      if (!evaluateCondition(arc.when, ctx, where(`next.arcs[${i}].when`))) continue;
      if (arc.set) {
        const arcSet = renderValue(arc.set, ctx, where(`next.arcs[${i}].set`)) as Record<string, unknown>;
        if (vars === this.state.vars) vars = structuredClone(vars);
        applySet(vars, arcSet);
        set = { ...set, ...arcSet };
      }
      targets.push(arc.step);
      if (!inclusive) break;
    }
    return { targets, set };
  }

  /** Ends the execution when nothing is running; runs `final_step` first if there is one. */
  settle(): void {
    if (!this.running || Object.keys(this.state.runs).length > 0) return;
    const final = this.pb.executor?.spec?.final_step;
    if (typeof final === "string" && !this.state.finalEntered) {
      this.enter(final, true);
      return this.settle();
    }
    const result = this.state.lastStep ? this.state.results[this.state.lastStep]?.data : null;
    this.emit({ type: "workflow.completed", payload: { result } });
    this.emit({ type: "playbook.completed", payload: { result } });
  }

  private fail(stepName: string, message: string, runId?: string, result?: Envelope): void {
    const error = `step "${stepName}" failed: ${message}`;
    if (runId !== undefined && this.state.runs[runId]) {
      const envelope: Envelope = result ?? { status: "error", error: { kind: "engine", message } };
      this.emit({
        type: "step.exit",
        step: stepName,
        payload: { run: runId, result: { ...envelope, status: "error" } },
      });
    }
    this.emit({ type: "workflow.failed", step: stepName, payload: { error } });
    this.emit({ type: "playbook.failed", step: stepName, payload: { error } });
  }
}
