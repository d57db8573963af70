// Reading requests: JSON bodies validated with valibot, query and path parameters checked.
// A malformed body is 400; a well-formed one that breaks the schema is 422 with each issue's path.
import * as v from "valibot";
import { NoetlError } from "../errors";
import type { Ctx } from "./route";

export async function jsonBody<S extends v.GenericSchema>(c: Ctx, schema: S): Promise<v.InferOutput<S>> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new NoetlError("BAD_REQUEST", `the request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  return check(schema, raw, "the request body");
}

export function check<S extends v.GenericSchema>(schema: S, raw: unknown, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, raw);
  if (r.success) return r.output;
  const issues = r.issues.map((i) => ({ path: v.getDotPath(i) ?? "", message: i.message }));
  const first = issues[0]!;
  throw new NoetlError(
    "VALIDATION",
    `${what} is invalid${first.path ? ` at ${first.path}` : ""}: ${first.message}`,
    {
      issues,
    },
  );
}

/** A query parameter that must be a whole number in [min, max]; undefined when absent. */
export function intQuery(c: Ctx, name: string, min: number, max: number): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new NoetlError(
      "BAD_REQUEST",
      `query parameter ${name} must be a whole number from ${min} to ${max}`,
      {
        parameter: name,
      },
    );
  }
  return Number(raw);
}

/** A bigint id as a decimal string (event ids, cursors): digits only, within int8. */
export function idQuery(c: Ctx, name: string, value = c.req.query(name)): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,18}$/.test(value)) {
    throw new NoetlError("BAD_REQUEST", `${name} must be a numeric id`, { parameter: name });
  }
  return value;
}

// Names and ids travel in URLs and into SQL text columns: no control characters (Postgres
// rejects NUL), and a length that keeps index rows small.
const NAME = /^[^\u0000-\u001f\u007f]{1,200}$/;

export function pathParam(c: Ctx, name: string): string {
  const value = c.req.param(name) ?? "";
  if (!NAME.test(value)) {
    throw new NoetlError("BAD_REQUEST", `${name} in the URL must be 1-200 printable characters`, {
      parameter: name,
    });
  }
  return value;
}

export const CredentialName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be 1-128 letters, digits, '_', '.' or '-'"),
);
