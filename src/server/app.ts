// The server as a function: fetch(Request) → Response (hono). No sockets here — `noetl server
// run` adapts it to Node's HTTP server, and tests call it in-process.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { NoetlError } from "../errors";
import { bearerAuth } from "./auth";
import type { AppDeps } from "./deps";
import { httpError } from "./http-errors";
import { type Env, mount, type RouteDef } from "./route";
import { catalogRoutes } from "./routes/catalog";
import { commandRoutes } from "./routes/commands";
import { credentialRoutes } from "./routes/credentials";
import { executeRoutes } from "./routes/execute";
import { executionRoutes } from "./routes/executions";
import { systemRoutes } from "./routes/system";

export interface App {
  fetch(request: Request): Response | Promise<Response>;
  readonly routes: readonly RouteDef[];
}

export function createApp(deps: AppDeps): App {
  const app = new Hono<Env>();
  const routes: RouteDef[] = [];
  routes.push(
    ...systemRoutes(deps, routes),
    ...catalogRoutes(deps),
    ...executionRoutes(deps),
    ...executeRoutes(deps),
    ...commandRoutes(deps),
    ...credentialRoutes(deps),
  );

  app.use("*", async (c, next) => {
    await next();
    deps.metrics.observeRequest(c.req.method, c.get("route") ?? "unmatched", c.res.status);
  });
  app.use(
    "*",
    bodyLimit({
      maxSize: deps.config.server.maxBodyBytes,
      onError: (c) => {
        const e = new NoetlError(
          "TOO_LARGE",
          `the request body is larger than ${deps.config.server.maxBodyBytes} bytes`,
          {
            limit: deps.config.server.maxBodyBytes,
          },
        );
        const { status, body } = httpError(e);
        return c.json(body, status as 413);
      },
    }),
  );
  app.use("*", bearerAuth(deps.config.apiToken));
  mount(app, routes);

  app.notFound((c) => {
    const { status, body } = httpError(
      new NoetlError("NOT_FOUND", `no route ${c.req.method} ${c.req.path}; see /docs`),
    );
    return c.json(body, status as 404);
  });
  app.onError((err, c) => {
    const { status, body } = httpError(err);
    if (status >= 500 && status !== 503)
      console.error(`noetl server: ${c.req.method} ${c.req.path}: ${(err as Error)?.stack ?? err}`);
    return c.json(body, status as 500);
  });
  return { fetch: (request) => app.fetch(request), routes };
}
