// Stand-in for `noetl worker run` when the build has none: claims commands over HTTP, runs them
// with the real executor, reports them (the protocol of test/server/orchestrator.test.ts).
import type { Command } from "../../src/engine/types";
import { executeCommand } from "../../src/runtime/executor";
import type { ToolServices } from "../../src/tools/types";

type Claimed = Command & { lease_token: string };

const services: ToolServices = {
  runPlaybook: async () => ({
    status: "error",
    error: { kind: "config", message: "not in the test worker" },
  }),
  runWorkbook: async () => ({
    status: "error",
    error: { kind: "config", message: "not in the test worker" },
  }),
  credential: async (name) => {
    throw new Error(`no credential ${name} in the test worker`);
  },
};

export function playWorker(url: string, token?: string): () => Promise<void> {
  const stop = new AbortController();
  const headers = {
    "content-type": "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body), signal: stop.signal });
  const run = async (cmd: Claimed) => {
    const ac = new AbortController();
    const report = await executeCommand(cmd, { signal: ac.signal, services, env: {}, baseDir: "." });
    const type = report.directive === "fail" ? "command.failed" : "command.completed";
    await post("/api/events/batch", {
      worker_id: "in-test",
      events: [
        {
          command_id: cmd.command_id,
          attempt: cmd.attempt,
          lease_token: cmd.lease_token,
          type,
          payload: report,
        },
      ],
    });
  };
  const loop = (async () => {
    while (!stop.signal.aborted) {
      try {
        const r = await post("/api/commands/claim", { worker_id: "in-test", limit: 8, wait_ms: 500 });
        const { commands } = (await r.json()) as { commands: Claimed[] };
        // Not awaited: a long command must not hold up the others (or a cancellation).
        for (const c of commands) void run(c).catch(() => {});
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return async () => {
    stop.abort();
    await loop;
  };
}
