// Runs one claimed command: keeps its lease alive while the tools run, forwards tool calls as
// events, and hands the terminal report to the reporter — unless the lease was lost or the
// worker abandoned the command at shutdown, in which case the server re-issues it and this
// attempt's result must not count.
import type { Command, CommandReport } from "../engine/types";
import type { Logger } from "../log";
import { type Api, isLeaseLost } from "./client";
import type { Reporter, WorkerEvent } from "./reporter";
import type { Claimed } from "./schema";
import { makeWorkerServices } from "./services";

// The executor brings the template engine and the tools; an idle worker does without them.
let executor: typeof import("../runtime/executor") | undefined;
async function loadExecutor(): Promise<typeof import("../runtime/executor")> {
  executor = await import("../runtime/executor");
  return executor;
}

/** Closes what the tools keep open (database pools, HTTP keep-alive), if any command ran. */
export async function closeTools(): Promise<void> {
  if (!executor) return;
  const { closeToolResources } = await import("../tools/registry");
  await closeToolResources();
}

export interface RunDeps {
  api: Api;
  reporter: Reporter;
  workerId: string;
  log: Logger;
  /** Lease length when the claim answer does not say. */
  leaseMs: number;
  env: Record<string, string | undefined>;
  baseDir: string;
  /** The command's slot is free: called before its report is queued, so the report can ask for work. */
  onSettled?: (cmd: Claimed) => void;
}

export interface Running {
  command: Claimed;
  done: Promise<void>;
  /** Stops the tools; no result is reported for this attempt. */
  abandon(reason: string): void;
}

export function startCommand(cmd: Claimed, deps: RunDeps): Running {
  const { api, reporter, log } = deps;
  const ac = new AbortController();
  let abandoned: string | undefined;
  const event = (type: WorkerEvent["type"], payload: Record<string, unknown>): WorkerEvent => ({
    command_id: cmd.command_id,
    attempt: cmd.attempt,
    lease_token: cmd.lease_token,
    type,
    payload,
    at: Date.now(),
  });
  const abandon = (reason: string) => {
    if (abandoned) return;
    abandoned = reason;
    ac.abort(new Error(reason));
  };

  reporter.push(event("command.started", { step: cmd.step }));
  const leaseMs = cmd.lease_ms ?? deps.leaseMs;
  let beating = false;
  const heartbeat = setInterval(
    () => {
      if (beating) return;
      beating = true;
      api
        .call("POST", `/api/commands/${encodeURIComponent(cmd.command_id)}/heartbeat`, {
          worker_id: deps.workerId,
          lease_token: cmd.lease_token,
        })
        .catch((err) => {
          if (isLeaseLost(err)) {
            log.warn(`lost the lease on ${cmd.command_id} (step ${cmd.step}); stopping it`);
            abandon("lease lost");
          } else log.debug(`heartbeat for ${cmd.command_id} failed: ${(err as Error).message}`);
        })
        .finally(() => {
          beating = false;
        });
    },
    Math.max(100, Math.floor(leaseMs / 3)),
  );

  const services = makeWorkerServices({
    api,
    command: cmd,
    runTasks: async (tasks, input, signal) => {
      const r = (await run({ ...cmd, tasks, input }, signal)).result;
      return r.status === "error"
        ? { status: "error", data: r.data, error: r.error }
        : { status: "ok", data: r.data };
    },
  });
  const run = async (c: Command, signal: AbortSignal): Promise<CommandReport> =>
    (executor ?? (await loadExecutor())).executeCommand(c, {
      signal,
      services,
      env: deps.env,
      baseDir: deps.baseDir,
      onCall: (ev) => {
        if (c !== cmd) return; // calls inside a workbook task belong to the task that called it
        const { type, ...payload } = ev;
        reporter.push(event(type, payload));
      },
    });

  const done = run(cmd, ac.signal)
    .catch(
      (err): CommandReport => ({
        // The executor returns errors as values; this guards against one that escapes.
        result: { status: "error", error: { kind: "exception", message: (err as Error).message } },
        directive: "fail",
      }),
    )
    .then((report) => {
      clearInterval(heartbeat);
      deps.onSettled?.(cmd);
      if (abandoned) {
        log.info(`not reporting ${cmd.command_id} (step ${cmd.step}): ${abandoned}`);
        return;
      }
      const type = report.directive === "fail" ? "command.failed" : "command.completed";
      reporter.push(event(type, report as unknown as Record<string, unknown>));
      log.debug(`${type} ${cmd.command_id}`, { step: cmd.step, status: report.result.status });
    });
  return { command: cmd, done, abandon };
}
