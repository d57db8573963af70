// Follows a server execution to its end: its events (Server-Sent Events) become the same progress
// lines as a local run, `--json` prints the same document, and the exit code is the same.
// Ctrl-C asks the server to cancel the execution, then exits 130.
import type { ExecutionDocument, NoetlClient } from "../../client";
import type { EngineEvent, EventType, ExecutionState, StepTiming } from "../../engine/types";
import type { EventRecord } from "../../store/types";
import { makeStyle, progressPrinter, useColor, writeIndented } from "../output";
import { printJson } from "./common";

export interface FollowOptions {
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
}

/** The `noetl run --json` document: the server's execution without where and when. */
export function runDocument(doc: ExecutionDocument): Record<string, unknown> {
  return {
    execution_id: doc.execution_id,
    status: doc.status,
    result: doc.result ?? null,
    ...(doc.error !== null && doc.error !== undefined ? { error: doc.error } : {}),
    steps: doc.steps,
  };
}

export function exitCodeFor(status: string): number {
  return status === "COMPLETED" ? 0 : status === "CANCELLED" ? 130 : 1;
}

export async function followExecution(
  client: NoetlClient,
  executionId: string,
  opts: FollowOptions,
): Promise<number> {
  const human = !opts.json;
  const out = human ? process.stdout : process.stderr;
  const print = human || opts.verbose ? remotePrinter(out, opts) : undefined;
  const stream = new AbortController();
  let interrupted = false;
  let giveUp: NodeJS.Timeout | undefined;
  const onSignal = () => {
    if (interrupted) {
      stream.abort(); // a second Ctrl-C: stop waiting for the server's confirmation
      return;
    }
    interrupted = true;
    process.stderr.write(`noetl: cancelling execution ${executionId}…\n`);
    client.cancelExecution(executionId).catch((err: Error) => {
      process.stderr.write(`noetl: could not cancel execution ${executionId}: ${err.message}\n`);
      stream.abort();
    });
    // The cancellation shows up as an event; do not wait forever for it.
    giveUp = setTimeout(() => stream.abort(), 10_000);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    try {
      for await (const item of client.streamEvents(executionId, { signal: stream.signal })) {
        if (item.kind === "end") break;
        print?.(item.event);
      }
    } catch (err) {
      if (!stream.signal.aborted) throw err;
    }
    if (interrupted && stream.signal.aborted) return 130;
    const doc = await client.getExecution(executionId);
    if (opts.json) printJson(runDocument(doc));
    else if (doc.status === "FAILED") process.stderr.write(`noetl: ${errorText(doc.error)}\n`);
    return interrupted ? 130 : exitCodeFor(doc.status);
  } finally {
    clearTimeout(giveUp);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function errorText(error: unknown): string {
  if (typeof error === "string") return error;
  const m = (error as { message?: unknown } | null)?.message;
  return typeof m === "string" ? m : JSON.stringify(error ?? "the execution failed");
}

/**
 * The local run's progress printer fed with server events: an event's time is when the server
 * stored it, and the step timings it counts are rebuilt from step.exit / step.skipped.
 */
export function remotePrinter(out: NodeJS.WriteStream, opts: FollowOptions): (e: EventRecord) => void {
  const style = makeStyle(useColor(opts, out));
  const lines = progressPrinter(out, style);
  const steps: StepTiming[] = [];
  let startedAt: number | undefined;
  return (e) => {
    const at = Date.parse(e.created_at);
    startedAt ??= at;
    const payload = (e.payload ?? {}) as Record<string, unknown>;
    if (e.type === "step.skipped") steps.push({ step: e.step ?? "", status: "SKIPPED", duration_ms: 0 });
    if (e.type === "step.exit") {
      const ok = (payload.result as { status?: string } | undefined)?.status !== "error";
      steps.push({ step: e.step ?? "", status: ok ? "COMPLETED" : "FAILED", duration_ms: 0 });
    }
    const ev: EngineEvent = {
      type: e.type as EventType,
      step: e.step,
      command_id: e.command_id,
      attempt: e.attempt,
      payload,
      at,
    };
    // With -v, what a tool printed: a worker does not stream it, but a shell step's result holds
    // its stdout and stderr, shown when the command ends (not interleaved as in a local run).
    if (opts.verbose && (e.type === "command.completed" || e.type === "command.failed")) {
      const data = (payload.result as { data?: Record<string, unknown> } | undefined)?.data;
      for (const stream of ["stdout", "stderr"] as const) {
        const text = data?.[stream];
        if (typeof text === "string" && text !== "") writeIndented(out, e.step ?? "", text, style.dim);
      }
    }
    // The printer reads only startedAt and steps of the state.
    lines(ev, { startedAt, steps } as unknown as ExecutionState);
  };
}
