// Route definitions: each one registers a hono handler and describes itself, so the OpenAPI
// document, the API page and the router can never disagree.
import type { Context, Hono } from "hono";
import type * as v from "valibot";

export type Env = { Variables: { route: string; authorized: boolean } };
export type Ctx = Context<Env>;

export interface RouteDef {
  method: "GET" | "POST" | "DELETE";
  /** OpenAPI form; `{name+}` matches several segments (catalog paths contain slashes). */
  path: string;
  tag: string;
  summary: string;
  /** JSON body, documented from the same valibot schema the handler validates with. */
  body?: v.GenericSchema;
  /** A body that is not JSON (raw YAML), described in words. */
  rawBody?: { mediaTypes: string[]; description: string };
  query?: Record<string, string>;
  responses?: Record<number, string>;
  /** Also answers Server-Sent Events with Accept: text/event-stream. */
  sse?: boolean;
  handler: (c: Ctx) => Response | Promise<Response>;
}

export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\+\}/g, ":$1{.+}").replace(/\{(\w+)\}/g, ":$1");
}

export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1]!);
}

export function mount(app: Hono<Env>, defs: readonly RouteDef[]): void {
  for (const def of defs) {
    app.on(def.method, honoPath(def.path), (c) => {
      c.set("route", def.path);
      return def.handler(c);
    });
  }
}

/** Whether a route needs the bearer token (SPEC §14: every /api call except health). */
export function needsToken(path: string): boolean {
  return path.startsWith("/api/") && path !== "/api/health";
}
