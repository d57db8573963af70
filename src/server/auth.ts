// Bearer-token check for /api routes (SPEC §14), in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { NoetlError } from "../errors";
import { type Env, needsToken } from "./route";

export function bearerAuth(token: string | undefined): MiddlewareHandler<Env> {
  const expected = token ? digest(token) : undefined;
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    const ok =
      expected !== undefined && presented !== undefined && timingSafeEqual(digest(presented), expected);
    c.set("authorized", ok);
    if (expected && needsToken(c.req.path) && !ok) {
      throw new NoetlError(
        "UNAUTHORIZED",
        presented
          ? "the API token is not valid"
          : "this server requires an API token: send Authorization: Bearer TOKEN",
      );
    }
    await next();
  };
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}
