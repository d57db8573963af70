// Applies one event to an execution's state. Replaying an execution's events through fold
// rebuilds its state exactly; this is how the server recovers after a restart.
import { asSecretRef } from "./secret-ref";
import type { CommandReport, EngineEvent, Envelope, ExecutionState, LoopRun } from "./types";

export function initialState(executionId: string, at: number): ExecutionState {
  return {
    executionId,
    status: "PENDING",
    vars: {},
    results: {},
    runs: {},
    commands: {},
    seq: 0,
    finalEntered: false,
    startedAt: at,
    steps: [],
  };
}

/** Writes `ctx.k` / `workload.k` / `k` keys (dotted paths allowed) into the execution's variables. */
export function applySet(vars: Record<string, unknown>, set: Record<string, unknown> | undefined): void {
  if (!set) return;
  for (const [key, value] of Object.entries(set)) {
    const parts = key.replace(/^(ctx|workload|vars)\./, "").split(".");
    let target = vars;
    for (const part of parts.slice(0, -1)) {
      const next = target[part];
      if (typeof next !== "object" || next === null || Array.isArray(next)) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[parts[parts.length - 1]!] = value;
  }
}

export function fold(state: ExecutionState, ev: EngineEvent): ExecutionState {
  const p = ev.payload;
  switch (ev.type) {
    case "playbook.initialized":
      state.vars = structuredClone((p.workload as Record<string, unknown>) ?? {});
      state.status = "RUNNING";
      state.startedAt = ev.at;
      break;
    case "step.enter": {
      state.seq++;
      const id = p.run as string;
      const loop = p.loop as
        | Omit<LoopRun, "next" | "inFlight" | "done" | "results" | "errors" | "broken">
        | undefined;
      state.runs[id] = {
        id,
        step: ev.step!,
        startedAt: ev.at,
        pending: 0,
        loop: loop && { ...loop, next: 0, inFlight: 0, done: 0, results: [], errors: 0, broken: false },
      };
      if (p.final) state.finalEntered = true;
      break;
    }
    case "step.skipped": {
      const run = state.runs[p.run as string];
      delete state.runs[p.run as string];
      state.results[ev.step!] = { status: "skipped" };
      applySet(state.vars, p.set as Record<string, unknown> | undefined);
      state.steps.push({ step: ev.step!, status: "SKIPPED", duration_ms: run ? ev.at - run.startedAt : 0 });
      break;
    }
    case "command.issued": {
      const known = state.commands[ev.command_id!];
      if (known) {
        // Re-issued after its lease expired: the same command, delivered again.
        known.attempt = ev.attempt ?? known.attempt + 1;
        break;
      }
      state.seq++;
      const run = state.runs[p.run as string];
      state.commands[ev.command_id!] = {
        run: p.run as string,
        iteration: p.iteration as number | undefined,
        attempt: ev.attempt ?? 1,
      };
      if (run) {
        run.pending++;
        if (run.loop) {
          run.loop.next++;
          run.loop.inFlight++;
        }
      }
      break;
    }
    case "command.completed":
    case "command.failed": {
      const cmd = state.commands[ev.command_id!];
      if (!cmd) break;
      delete state.commands[ev.command_id!];
      const report = p as unknown as CommandReport;
      applySet(state.vars, report.set);
      const run = state.runs[cmd.run];
      if (!run) break;
      run.pending--;
      if (run.loop && cmd.iteration !== undefined) {
        const loop = run.loop;
        loop.inFlight--;
        loop.done++;
        loop.results[cmd.iteration] = report.result.data;
        if (report.result.status === "error") loop.errors++;
        if (report.directive === "break") loop.broken = true;
        if (report.directive === "jump") {
          loop.broken = true;
          loop.jump = report.to;
        }
      }
      run.report = report;
      break;
    }
    case "step.exit": {
      const run = state.runs[p.run as string];
      delete state.runs[p.run as string];
      const result = p.result as Envelope;
      state.results[ev.step!] = result;
      if (asSecretRef(result.data) && !state.secretSteps?.includes(ev.step!))
        state.secretSteps = [...(state.secretSteps ?? []), ev.step!];
      applySet(state.vars, p.set as Record<string, unknown> | undefined);
      if (p.counts !== false) state.lastStep = ev.step;
      state.steps.push({
        step: ev.step!,
        status: result.status === "error" ? "FAILED" : "COMPLETED",
        duration_ms: run ? ev.at - run.startedAt : 0,
      });
      break;
    }
    case "workflow.completed":
      state.status = "COMPLETED";
      state.result = p.result;
      state.endedAt = ev.at;
      break;
    case "workflow.failed":
      state.status = "FAILED";
      state.error = p.error as string;
      state.endedAt = ev.at;
      break;
    case "execution.cancelled":
      state.status = "CANCELLED";
      state.error = (p.reason as string) ?? "cancelled";
      state.endedAt = ev.at;
      break;
    default:
      // workflow.initialized, loop.done, playbook.*, call.*, command.claimed/started/heartbeat:
      // recorded for people and tools; they change nothing the engine decides on.
      break;
  }
  return state;
}
