// `noetl status ID [--follow]` (also `noetl execute status ID`) and `noetl cancel ID`.
import type { ExecutionDocument } from "../../client";
import { formatMs, makeStyle, useColor } from "../output";
import { connect, printJson, type RemoteOptions, required } from "./common";
import { followExecution } from "./follow";

export interface StatusOptions extends RemoteOptions {
  follow?: boolean;
}

export async function statusCommand(id: string | undefined, opts: StatusOptions): Promise<number> {
  const executionId = required(id, "the execution id", "noetl status ID [--follow] [--json]");
  const client = connect(opts);
  // Following exits like `noetl run`; a plain look succeeds whatever the execution's state.
  if (opts.follow) return followExecution(client, executionId, opts);
  const doc = await client.getExecution(executionId);
  if (opts.json) printJson(doc);
  else process.stdout.write(describe(doc, opts));
  return 0;
}

export async function cancelCommand(id: string | undefined, opts: RemoteOptions): Promise<number> {
  const executionId = required(id, "the execution id", "noetl cancel ID");
  const r = await connect(opts).cancelExecution(executionId);
  if (opts.json) printJson(r);
  else process.stdout.write(`execution ${r.execution_id}: ${r.status}\n`);
  return 0;
}

function describe(doc: ExecutionDocument, opts: RemoteOptions): string {
  const style = makeStyle(useColor(opts, process.stdout));
  const status =
    doc.status === "COMPLETED"
      ? style.green(doc.status)
      : doc.status === "FAILED"
        ? style.red(doc.status)
        : doc.status === "CANCELLED"
          ? style.yellow(doc.status)
          : doc.status;
  const lines = [`execution ${doc.execution_id}  ${style.bold(status)}`];
  if (doc.path) lines.push(`playbook   ${doc.path}${doc.version ? ` v${doc.version}` : ""}`);
  if (doc.parent_execution_id) lines.push(`parent     ${doc.parent_execution_id}`);
  lines.push(`started    ${doc.started_at}`);
  if (doc.ended_at) {
    const ms = Date.parse(doc.ended_at) - Date.parse(doc.started_at);
    lines.push(`ended      ${doc.ended_at}${Number.isNaN(ms) ? "" : ` (${formatMs(ms)})`}`);
  }
  if (doc.steps.length > 0) {
    lines.push("steps");
    const width = Math.max(...doc.steps.map((s) => s.step.length));
    for (const s of doc.steps) {
      const mark =
        s.status === "COMPLETED"
          ? style.green("✓")
          : s.status === "SKIPPED"
            ? style.yellow("↷")
            : style.red("✗");
      const took = s.duration_ms === null ? s.status.toLowerCase() : formatMs(s.duration_ms);
      lines.push(`  ${mark} ${s.step.padEnd(width)}  ${style.dim(took)}`);
    }
  }
  if (doc.error !== null && doc.error !== undefined)
    lines.push(`error      ${typeof doc.error === "string" ? doc.error : JSON.stringify(doc.error)}`);
  if (doc.status === "COMPLETED" && doc.result !== undefined)
    lines.push(`result     ${truncate(JSON.stringify(doc.result))}`);
  return `${lines.join("\n")}\n`;
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}
