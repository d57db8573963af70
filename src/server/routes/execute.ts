// Starting and cancelling executions: the seed's paths and the specification's.
import * as v from "valibot";
import { NoetlError } from "../../errors";
import type { CatalogEntry } from "../../store/types";
import type { AppDeps } from "../deps";
import { jsonBody, pathParam } from "../request";
import type { Ctx, RouteDef } from "../route";

const Vars = v.record(v.string(), v.unknown());

const ExecuteBody = v.strictObject({
  path: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
  catalog_id: v.optional(
    v.pipe(v.union([v.string(), v.number()]), v.transform(String), v.regex(/^\d{1,18}$/)),
  ),
  version: v.optional(v.union([v.pipe(v.number(), v.integer(), v.minValue(1)), v.literal("latest")])),
  workload: v.optional(Vars),
  payload: v.optional(Vars),
  parent_execution_id: v.optional(v.pipe(v.string(), v.maxLength(200))),
});

const ExecuteByPathBody = v.strictObject({
  input: v.optional(Vars),
  workload: v.optional(Vars),
  payload: v.optional(Vars),
  version: v.optional(v.union([v.pipe(v.number(), v.integer(), v.minValue(1)), v.literal("latest")])),
});

export function executeRoutes(deps: AppDeps): RouteDef[] {
  const orchestrator = deps.orchestrator;
  const start = async (c: Ctx, entry: CatalogEntry, workload: Record<string, unknown>, parent?: string) => {
    const r = await orchestrator.start({ entry, workload, parentExecutionId: parent });
    return c.json({ ...r, path: entry.path, version: entry.version }, 201);
  };
  const find = async (path: string, version: number | "latest" | undefined) => {
    const entry = await deps.store.getCatalog(path, version ?? "latest");
    if (!entry)
      throw new NoetlError(
        "NOT_FOUND",
        `no playbook "${path}"${version && version !== "latest" ? ` version ${version}` : ""} in the catalog`,
      );
    return entry;
  };
  return [
    {
      method: "POST",
      path: "/api/execute",
      tag: "executions",
      summary: "Start an execution of a catalog playbook",
      body: ExecuteBody,
      responses: {
        201: "{execution_id, status, path, version}",
        404: "no such playbook",
        422: "invalid body",
      },
      handler: async (c) => {
        const b = await jsonBody(c, ExecuteBody);
        let entry: CatalogEntry | undefined;
        if (b.catalog_id !== undefined) entry = await deps.store.getCatalogById(b.catalog_id);
        else if (b.path !== undefined) entry = await find(b.path, b.version);
        else throw new NoetlError("VALIDATION", "give the playbook's path or catalog_id", { field: "path" });
        if (!entry) throw new NoetlError("NOT_FOUND", `no catalog entry ${b.catalog_id}`);
        return start(c, entry, { ...b.payload, ...b.workload }, b.parent_execution_id);
      },
    },
    {
      method: "POST",
      path: "/api/execute/playbook/{path+}",
      tag: "executions",
      summary: "Start an execution by catalog path (the seed's path); body {input | workload}",
      body: ExecuteByPathBody,
      responses: { 201: "{execution_id, status, path, version}", 404: "no such playbook" },
      handler: async (c) => {
        const b = await jsonBody(c, ExecuteByPathBody);
        const entry = await find(pathParam(c, "path"), b.version);
        return start(c, entry, { ...b.payload, ...b.input, ...b.workload });
      },
    },
    {
      method: "POST",
      path: "/api/executions/{id}/cancel",
      tag: "executions",
      summary:
        "Cancel an execution and its sub-playbooks; running tools stop at once with NATS (a cancel notice), else at their next heartbeat",
      responses: { 200: "{execution_id, status}", 404: "no such execution" },
      handler: async (c) => {
        const id = pathParam(c, "id");
        if (!(await deps.store.getExecution(id)))
          throw new NoetlError("NOT_FOUND", `execution ${id} not found`);
        const r = await orchestrator.cancel(id);
        return c.json({ execution_id: id, ...r });
      },
    },
  ];
}
