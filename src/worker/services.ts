// What tools may ask of a worker: credentials and sub-playbooks come from the server's API,
// workbook tasks run right here with the same executor as the command itself.
import * as v from "valibot";
import type { Command } from "../engine/types";
import { pause } from "../pause";
import type { ToolOutcome, ToolServices } from "../tools/types";
import { type Api, ApiError, Unreachable } from "./client";
import { CredentialSchema, StartedSchema, StatusSchema, TERMINAL } from "./schema";

export interface WorkerServiceDeps {
  api: Api;
  command: Command;
  /** Runs tasks as a nested command (the executor, with these same services). */
  runTasks(
    tasks: Command["tasks"],
    input: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<ToolOutcome>;
}

export function makeWorkerServices(deps: WorkerServiceDeps): ToolServices {
  const { api, command } = deps;
  return {
    async credential(name) {
      const body = await api.call("GET", `/api/credentials/${encodeURIComponent(name)}?include_data=true`);
      const parsed = v.safeParse(CredentialSchema, body);
      if (!parsed.success)
        throw new Error(
          `credential "${name}": the server sent no data (the worker needs NOETL_API_TOKEN to read credential values)`,
        );
      return parsed.output.data;
    },
    async runWorkbook(name, input, signal) {
      const entry = command.workbook?.find((w) => w.name === name);
      if (!entry)
        return {
          status: "error",
          error: { kind: "not_found", message: `workbook task "${name}" is not defined` },
        };
      return deps.runTasks(entry.tool, input, signal);
    },
    runPlaybook: (path, input, signal) => runChild(api, command, path, input, signal),
  };
}

// A playbook task inside a pipeline: the server runs the child; this waits for its end.
// (A step whose only tool is a playbook never gets here: the server handles it without a worker.)
async function runChild(
  api: Api,
  parent: Command,
  path: string,
  input: Record<string, unknown>,
  signal: AbortSignal,
): Promise<ToolOutcome> {
  // The same spelling rules as the server's own sub-playbook steps: a catalog path, not a file.
  const catalogPath = path
    .replace(/^catalog:\/\//, "")
    .replace(/^\.\//, "")
    .replace(/\.ya?ml$/, "");
  let id: string;
  try {
    const started = v.parse(
      StartedSchema,
      await api.call("POST", "/api/execute", {
        path: catalogPath,
        workload: input,
        parent_execution_id: parent.execution_id,
      }),
    );
    id = started.execution_id;
  } catch (err) {
    const kind = err instanceof ApiError && err.status === 404 ? "not_found" : "playbook";
    return { status: "error", error: { kind, message: `sub-playbook ${path}: ${(err as Error).message}` } };
  }
  for (let i = 0; ; i++) {
    if (!(await pause(Math.min(25 * 2 ** i, 1000), signal))) {
      await api.call("POST", `/api/executions/${id}/cancel`).catch(() => {});
      return { status: "error", error: { kind: "cancelled", message: `sub-playbook ${path} cancelled` } };
    }
    let status: v.InferOutput<typeof StatusSchema>;
    try {
      status = v.parse(StatusSchema, await api.call("GET", `/api/executions/${id}/status`));
    } catch (err) {
      if (err instanceof Unreachable || (err instanceof ApiError && err.retryable)) continue;
      throw err;
    }
    if (!TERMINAL.has(status.status)) continue;
    if (status.status === "COMPLETED") {
      const doc = (await api.call("GET", `/api/executions/${id}`)) as { result?: unknown };
      return { status: "ok", data: doc.result };
    }
    return {
      status: "error",
      error: {
        kind: "playbook",
        message: `sub-playbook ${path} ${status.status.toLowerCase()}: ${status.error ?? ""}`.trim(),
      },
    };
  }
}
