// The local driver: the engine, the executor and an in-memory event list, in one process.

import { dirname } from "node:path";
import { cancel, decide, start } from "../engine/engine";
import type { Command, EngineEvent, ExecutionState, StepTiming } from "../engine/types";
import { executionWorkload } from "../engine/workload";
import { newExecutionId } from "../ids";
import type { Playbook } from "../playbook/schema";
import type { ToolOutcome, ToolServices } from "../tools/types";
import { type CallEvent, executeCommand } from "./executor";
import { makeLocalServices } from "./services";

export interface LocalRunOptions {
  playbook: Playbook;
  /** The playbook's file: sub-playbooks and relative paths resolve from its directory. */
  file: string;
  workload: Record<string, unknown>;
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
  parentExecutionId?: string;
  onEvent?: (ev: EngineEvent, state: ExecutionState) => void;
  onOutput?: (step: string, stream: "stdout" | "stderr", chunk: string) => void;
  onCall?: (step: string, ev: CallEvent) => void;
}

export interface RunSummary {
  execution_id: string;
  status: ExecutionState["status"];
  result: unknown;
  error?: string;
  steps: StepTiming[];
}

export async function runLocal(opts: LocalRunOptions): Promise<RunSummary> {
  const pb = opts.playbook;
  // A plain copy (process.env reads go through the C++ environment on every access), frozen so
  // tools may cache what they derive from it (the shell spawn server's environment changes).
  const env = opts.env ?? Object.freeze({ ...process.env });
  const baseDir = dirname(opts.file);
  const executionId = newExecutionId();
  const workload = executionWorkload(pb.workload, opts.workload);
  const began = start(pb, {
    executionId,
    workload,
    at: Date.now(),
    parentExecutionId: opts.parentExecutionId,
    path: pb.metadata.path,
  });
  const state = began.state;
  const inflight = new Map<string, AbortController>();
  const record = (ev: EngineEvent) => opts.onEvent?.(ev, state);
  began.events.forEach(record);

  return new Promise<RunSummary>((resolve) => {
    const finishIfDone = () => {
      if (state.status === "RUNNING") return;
      for (const ac of inflight.values()) ac.abort();
      if (inflight.size > 0) return;
      opts.signal?.removeEventListener("abort", onAbort);
      resolve({
        execution_id: executionId,
        status: state.status,
        result: state.result ?? null,
        error: state.error,
        steps: state.steps,
      });
    };
    const onAbort = () => {
      cancel(state, Date.now(), "interrupted").events.forEach(record);
      finishIfDone();
    };

    const launch = (cmd: Command) => {
      const ac = new AbortController();
      inflight.set(cmd.command_id, ac);
      const services: ToolServices = makeLocalServices({
        playbook: pb,
        file: opts.file,
        command: cmd,
        parentExecutionId: executionId,
        env,
        runChild: (child, childFile, childWorkload, signal) =>
          runLocal({
            ...opts,
            playbook: child,
            file: childFile,
            workload: childWorkload,
            signal,
            parentExecutionId: executionId,
            onEvent: undefined,
          }),
        runTasks: (tasks, input, signal) => runTasks(cmd, tasks, input, signal),
      });
      const runTasks = async (
        parent: Command,
        tasks: Command["tasks"],
        input: Record<string, unknown>,
        signal: AbortSignal,
      ): Promise<ToolOutcome> => {
        const report = await executeCommand({ ...parent, tasks, input }, { signal, services, env, baseDir });
        const r = report.result;
        return r.status === "error"
          ? { status: "error", data: r.data, error: r.error }
          : { status: "ok", data: r.data };
      };
      executeCommand(cmd, {
        signal: ac.signal,
        services,
        env,
        baseDir,
        onOutput: opts.onOutput && ((stream, chunk) => opts.onOutput!(cmd.step, stream, chunk)),
        onCall: opts.onCall && ((ev) => opts.onCall!(cmd.step, ev)),
      }).then((report) => {
        inflight.delete(cmd.command_id);
        const ev: EngineEvent = {
          type: report.directive === "fail" ? "command.failed" : "command.completed",
          step: cmd.step,
          command_id: cmd.command_id,
          attempt: cmd.attempt,
          payload: report as unknown as Record<string, unknown>,
          at: Date.now(),
        };
        if (state.status === "RUNNING") record(ev);
        const next = decide(pb, state, ev);
        next.events.forEach(record);
        next.commands.forEach(launch);
        finishIfDone();
      });
    };

    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    began.commands.forEach(launch);
    finishIfDone();
  });
}
