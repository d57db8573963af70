// Runs one command: renders each task's configuration with its context, calls the tool under
// the task's timeout, and applies the task's policy (retry, continue, break, jump, fail).
// The one code path shared by `noetl run` and the worker.
import { flattenContext, layer } from "../engine/context";
import { evaluatePolicy } from "../engine/policy";
import { secretRef } from "../engine/secret-ref";
import type { Command, CommandReport, Envelope } from "../engine/types";
import { pause } from "../pause";
import type { TaskConfig } from "../playbook/schema";
import { renderValue } from "../template";
import { getTool } from "../tools/registry";
import type { ToolOutcome, ToolServices } from "../tools/types";
import { CommandSecrets } from "./secrets";

export interface CallEvent {
  type: "call.done" | "call.error";
  task: string;
  attempt: number;
  duration_ms: number;
  error?: Envelope["error"];
}

export interface ExecuteOptions {
  signal: AbortSignal;
  services: ToolServices;
  env: Record<string, string | undefined>;
  baseDir: string;
  onOutput?: (stream: "stdout" | "stderr", chunk: string) => void;
  onCall?: (ev: CallEvent) => void;
}

/** Keys of a task that describe the call rather than configure the tool. */
// `name` names the task and is also config for the tools that read it (secrets, workbook).
const TASK_META = new Set(["kind", "desc", "input", "spec"]);

export async function executeCommand(cmd: Command, opts: ExecuteOptions): Promise<CommandReport> {
  const secrets = new CommandSecrets(opts.services, opts.env);
  const found = await secrets.context(cmd, opts.signal);
  if ("error" in found)
    return { result: failure("secret", `step "${cmd.step}": ${found.error}`, 1), directive: "fail" };
  const { onOutput, onCall } = opts;
  const output = onOutput && maskedOutput(onOutput, secrets);
  const report = await runTasks({ ...cmd, context: found.context }, secrets, {
    ...opts,
    services: secrets.services,
    onOutput: output?.write,
    onCall: onCall && ((ev) => onCall(secrets.mask(ev))),
  });
  output?.flush();
  return secrets.mask(report);
}

/** Live output with secrets masked: once one is known, lines are held until complete, so none is cut in two. */
function maskedOutput(onOutput: NonNullable<ExecuteOptions["onOutput"]>, secrets: CommandSecrets) {
  const held = { stdout: "", stderr: "" };
  return {
    write(stream: "stdout" | "stderr", chunk: string) {
      if (!secrets.known && !held[stream]) return onOutput(stream, chunk);
      const text = held[stream] + chunk;
      const cut = text.lastIndexOf("\n") + 1;
      held[stream] = text.slice(cut);
      if (cut > 0) onOutput(stream, secrets.mask(text.slice(0, cut)));
    },
    flush() {
      for (const stream of ["stdout", "stderr"] as const)
        if (held[stream]) onOutput(stream, secrets.mask(held[stream]));
    },
  };
}

async function runTasks(cmd: Command, secrets: CommandSecrets, opts: ExecuteOptions): Promise<CommandReport> {
  const named: Record<string, Envelope> = {};
  // What is recorded of a secrets task: its reference; the tasks after it see the value.
  const recorded = new Map<Envelope, Envelope>();
  const shown = (e: Envelope) => recorded.get(e) ?? e;
  let prev: Envelope | undefined;
  let set: Record<string, unknown> | undefined;
  const where = { step: cmd.step };

  for (const [i, task] of cmd.tasks.entries()) {
    const label = task.name ?? (cmd.tasks.length > 1 ? `${task.kind}#${i + 1}` : task.kind);
    for (let attempt = 1; ; attempt++) {
      const ctx = layer(cmd.context, { ...named, ...(prev ? { _prev: prev } : {}) });
      const started = performance.now();
      const outcome = await callTool(task, cmd, ctx, opts, label);
      const duration_ms = Math.round((performance.now() - started) * 1000) / 1000;
      const envelope: Envelope = {
        status: outcome.status,
        data: outcome.data,
        ...(outcome.error ? { error: outcome.error } : {}),
        meta: { attempt, duration_ms },
      };
      if (outcome.secret) {
        secrets.remember(outcome);
        recorded.set(envelope, { ...envelope, data: secretRef(outcome.secret) });
      }
      opts.onCall?.({
        type: outcome.status === "ok" ? "call.done" : "call.error",
        task: label,
        attempt,
        duration_ms,
        error: outcome.error,
      });
      const output = {
        ...envelope,
        ...(outcome.http ? { http: outcome.http } : {}),
        ...(outcome.pg ? { pg: outcome.pg } : {}),
      };
      let answer: ReturnType<typeof evaluatePolicy>;
      try {
        answer = evaluatePolicy(task.spec?.policy?.rules, output, ctx, attempt, where);
        if (answer.set)
          set = {
            ...set,
            ...(renderValue(answer.set, layer(ctx, { output }), {
              step: cmd.step,
              field: "policy.then.set",
            }) as object),
          };
      } catch (err) {
        return { result: failure("template", (err as Error).message, attempt), directive: "fail", set };
      }
      if (opts.signal.aborted)
        return { result: failure("cancelled", "cancelled", attempt), directive: "fail", set };
      if (answer.do === "retry") {
        if (!(await pause(answer.delayMs ?? 0, opts.signal)))
          return { result: failure("cancelled", "cancelled", attempt), directive: "fail", set };
        continue;
      }
      if (task.name) named[task.name] = envelope;
      prev = envelope;
      if (answer.do !== "continue")
        return {
          result: shown(envelope),
          directive: answer.do,
          ...(answer.to ? { to: answer.to } : {}),
          set,
        };
      break;
    }
  }
  return { result: prev ? shown(prev) : { status: "ok", data: null }, directive: "continue", set };
}

async function callTool(
  task: TaskConfig,
  cmd: Command,
  ctx: Record<string, unknown>,
  opts: ExecuteOptions,
  label: string,
): Promise<ToolOutcome> {
  const tool = getTool(task.kind);
  if (!tool)
    return { status: "error", error: { kind: "config", message: `unknown tool kind "${task.kind}"` } };
  let input: Record<string, unknown>;
  const config: Record<string, unknown> = {};
  try {
    const stepInput = cmd.input
      ? (renderValue(cmd.input, ctx, { step: cmd.step, field: "input" }) as Record<string, unknown>)
      : {};
    const taskInput = task.input
      ? (renderValue(task.input, layer(ctx, { input: stepInput }), {
          step: cmd.step,
          field: `${label}.input`,
        }) as Record<string, unknown>)
      : {};
    input = { ...stepInput, ...taskInput };
    ctx.input = input;
    const raw = new Set(tool.rawKeys ?? []);
    for (const [key, value] of Object.entries(task)) {
      if (TASK_META.has(key)) continue;
      config[key] = raw.has(key) ? value : renderValue(value, ctx, { step: cmd.step, field: `tool.${key}` });
    }
  } catch (err) {
    return {
      status: "error",
      error: { kind: "template", message: (err as Error).message, retryable: false },
    };
  }
  const timeout = task.spec?.timeout_seconds;
  let flat: Record<string, unknown> | undefined;
  const signal = timeout ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeout * 1000)]) : opts.signal;
  try {
    return await tool.run(config, {
      signal,
      ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
      input,
      // Tools that hand the context to another process or realm need a plain copy; make it once, on demand.
      get vars() {
        flat ??= flattenContext(ctx);
        return flat;
      },
      env: opts.env,
      baseDir: opts.baseDir,
      onOutput: opts.onOutput,
      services: opts.services,
    });
  } catch (err) {
    // Tools return errors as values; this guards the runtime against one that does not.
    return { status: "error", error: { kind: "exception", message: (err as Error).message } };
  }
}

function failure(kind: string, message: string, attempt: number): Envelope {
  return { status: "error", error: { kind, message }, meta: { attempt } };
}
