// Read-only views of executions (the orchestrator that writes them comes separately):
// list, the `noetl run --json` document, its light status form, and the event log.
import { NoetlError } from "../../errors";
import { EXECUTION_STATUSES, type ExecutionStatus, type Store } from "../../store/types";
import type { AppDeps } from "../deps";
import { streamEvents } from "../event-stream";
import { idQuery, intQuery, pathParam } from "../request";
import type { Ctx, RouteDef } from "../route";

export function executionRoutes(deps: AppDeps): RouteDef[] {
  const { store } = deps;
  const document = async (c: Ctx, withResult: boolean) => {
    const id = pathParam(c, "id");
    const e = await store.getExecution(id);
    if (!e) throw new NoetlError("NOT_FOUND", `execution ${id} not found`);
    const steps = await store.listSteps(id);
    const base = { execution_id: e.execution_id, status: e.status };
    const rest = {
      error: e.error,
      steps,
      path: e.path,
      version: e.version,
      parent_execution_id: e.parent_execution_id,
      started_at: e.started_at,
      ended_at: e.ended_at,
    };
    return c.json(withResult ? { ...base, result: e.result, ...rest } : { ...base, ...rest });
  };
  const doc = {
    tag: "executions",
    responses: {
      200: "{execution_id, status, result, error, steps: [{step, status, duration_ms}], path, version, parent_execution_id, started_at, ended_at}",
      404: "no such execution",
    },
  };
  return [
    {
      method: "GET",
      path: "/api/executions",
      tag: "executions",
      summary: "List executions, newest first",
      query: {
        status: EXECUTION_STATUSES.join("|"),
        limit: "1-500 (default 50)",
        cursor: "next_cursor of the previous page",
      },
      responses: { 200: "{items, next_cursor}" },
      handler: async (c) => {
        const status = statusQuery(c.req.query("status"));
        const limit = intQuery(c, "limit", 1, 500) ?? 50;
        const cursor = idQuery(c, "cursor");
        return c.json(await store.listExecutions({ status, limit, cursor }));
      },
    },
    {
      method: "GET",
      path: "/api/executions/{id}",
      summary: "An execution: status, result, steps",
      ...doc,
      handler: (c) => document(c, true),
    },
    {
      method: "GET",
      path: "/api/execute/{id}",
      summary: "Alias of GET /api/executions/{id} (the seed's path)",
      ...doc,
      handler: (c) => document(c, true),
    },
    {
      method: "GET",
      path: "/api/executions/{id}/status",
      summary: "The light form of an execution, without its result",
      ...doc,
      handler: (c) => document(c, false),
    },
    {
      method: "GET",
      path: "/api/executions/{id}/events",
      tag: "executions",
      summary: "Events of an execution in order; Server-Sent Events with Accept: text/event-stream",
      query: { after: "only events after this event_id", limit: "1-1000 (default 500; JSON only)" },
      sse: true,
      responses: {
        200: "{items: [{event_id, execution_id, type, step?, command_id?, attempt?, payload, created_at}], next_after}",
      },
      handler: async (c) => {
        const id = pathParam(c, "id");
        await requireExecution(store, id);
        const sse = (c.req.header("accept") ?? "").includes("text/event-stream");
        const after =
          idQuery(c, "after") ??
          (sse ? idQuery(c, "Last-Event-ID", c.req.header("last-event-id")) : undefined);
        if (sse) return streamEvents(c, deps, id, after);
        const items = await store.listEvents(id, { after, limit: intQuery(c, "limit", 1, 1000) ?? 500 });
        return c.json({ items, next_after: items.at(-1)?.event_id ?? after ?? null });
      },
    },
  ];
}

async function requireExecution(store: Store, id: string): Promise<void> {
  if (!(await store.getExecution(id))) throw new NoetlError("NOT_FOUND", `execution ${id} not found`);
}

function statusQuery(raw: string | undefined): ExecutionStatus | undefined {
  if (raw === undefined || raw === "") return undefined;
  const s = raw.toUpperCase();
  if (!(EXECUTION_STATUSES as readonly string[]).includes(s)) {
    throw new NoetlError("BAD_REQUEST", `status must be one of ${EXECUTION_STATUSES.join(", ")}`, {
      parameter: "status",
    });
  }
  return s as ExecutionStatus;
}
