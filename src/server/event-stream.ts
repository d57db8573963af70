// Server-Sent Events for an execution's log: everything after `after`, then new events as
// they are appended, until the execution has finished and nothing is left, the client goes
// away, or the server shuts down. Each SSE id is the event_id, so Last-Event-ID resumes.

import { streamSSE } from "hono/streaming";
import { pause } from "../pause";
import type { AppDeps } from "./deps";
import type { Ctx } from "./route";

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);
const KEEPALIVE_MS = 15_000;

export function streamEvents(c: Ctx, deps: AppDeps, id: string, after: string | undefined): Response {
  const { store, shutdown } = deps;
  const pollMs = deps.pollMs ?? 250;
  return streamSSE(c, async (stream) => {
    let cursor = after;
    let idle = 0;
    while (!stream.aborted && !shutdown.aborted) {
      // Status first: events committed before it changed are then certainly visible below.
      const status = (await store.getExecution(id))?.status;
      const events = await store.listEvents(id, { after: cursor, limit: 500 });
      for (const e of events) {
        await stream.writeSSE({ id: e.event_id, event: "event", data: JSON.stringify(e) });
        cursor = e.event_id;
      }
      if (events.length === 500) continue;
      if (events.length === 0 && (status === undefined || TERMINAL.has(status))) {
        await stream.writeSSE({
          event: "end",
          data: JSON.stringify({ execution_id: id, status: status ?? null }),
        });
        break;
      }
      idle = events.length ? 0 : idle + pollMs;
      if (idle >= KEEPALIVE_MS) {
        await stream.write(": keep-alive\n\n");
        idle = 0;
      }
      await pause(pollMs, shutdown);
    }
  });
}
