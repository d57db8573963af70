// Health, schema management, workers, metrics and the API's own description.

import { apiPage } from "../api-page";
import type { AppDeps } from "../deps";
import { openApiDocument } from "../openapi";
import type { RouteDef } from "../route";

/** `all` is the complete route list (filled by the app), which the docs describe. */
export function systemRoutes(deps: AppDeps, all: readonly RouteDef[]): RouteDef[] {
  const { store, metrics, version } = deps;
  const started = Date.now();
  const health: RouteDef["handler"] = (c) =>
    c.json({
      status: "ok",
      version,
      storage: store.backend,
      uptime_s: Math.round((Date.now() - started) / 1000),
    });
  return [
    {
      method: "GET",
      path: "/health",
      tag: "system",
      summary: "Liveness: the server answers",
      handler: health,
    },
    {
      method: "GET",
      path: "/api/health",
      tag: "system",
      summary: "Liveness (no token needed)",
      handler: health,
    },
    {
      method: "POST",
      path: "/api/db/init",
      tag: "system",
      summary: "Create or upgrade the database schema (idempotent)",
      responses: { 200: "{ok, backend, version, expected, applied, missing_tables}" },
      handler: async (c) => c.json(await store.migrate()),
    },
    {
      method: "GET",
      path: "/api/db/validate",
      tag: "system",
      summary: "Check the database schema",
      responses: { 200: "{ok, backend, version, expected, applied, missing_tables}" },
      handler: async (c) => c.json(await store.validate()),
    },
    {
      method: "GET",
      path: "/api/workers",
      tag: "workers",
      summary: "Workers that have sent heartbeats",
      responses: {
        200: "{items: [{worker_id, pool, host, pid, concurrency, status, heartbeat_at, started_at}]}",
      },
      handler: async (c) => c.json({ items: await store.listWorkers() }),
    },
    {
      method: "GET",
      path: "/metrics",
      tag: "system",
      summary: "Prometheus metrics",
      handler: async (c) =>
        c.text(await metrics.render(store), 200, {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
        }),
    },
    {
      method: "GET",
      path: "/api/openapi.json",
      tag: "system",
      summary: "This API as an OpenAPI 3.1 document",
      handler: (c) => c.json(openApiDocument(all, version)),
    },
    {
      method: "GET",
      path: "/docs",
      tag: "system",
      summary: "This API as a web page",
      handler: (c) => c.html(apiPage(all, version)),
    },
  ];
}
