// The one place where errors become HTTP responses: {error: {code, message, details}}.
// Bad input is always a 4xx; a 5xx means the server or its database is at fault.
import { type ErrorCode, errorMessage, NoetlError } from "../errors";

const STATUS: Partial<Record<ErrorCode, number>> = {
  USAGE: 400,
  BAD_REQUEST: 400,
  VALIDATION: 422,
  TEMPLATE: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EXECUTION_FAILED: 409,
  UNAUTHORIZED: 401,
  TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERRUPTED: 503,
};

export interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

export function httpError(err: unknown): { status: number; body: ErrorBody } {
  const e = classify(err);
  const status = STATUS[e.code] ?? 500;
  return { status, body: { error: { code: e.code, message: e.message, details: e.details ?? null } } };
}

// Database errors caused by the values sent (SQLSTATE class 22: bad text, NUL bytes, numbers
// out of range; 23: constraints; 54: too large) are the client's, not the server's.
function classify(err: unknown): NoetlError {
  if (err instanceof NoetlError) return err;
  if (err instanceof URIError)
    return new NoetlError("BAD_REQUEST", "the URL is not correctly percent-encoded");
  const sqlstate = (err as { code?: unknown })?.code;
  if (typeof sqlstate === "string" && /^[0-9A-Z]{5}$/.test(sqlstate)) {
    const msg = errorMessage(err);
    if (sqlstate.startsWith("22"))
      return new NoetlError("BAD_REQUEST", `a value in the request is invalid: ${msg}`);
    if (sqlstate === "23505") return new NoetlError("CONFLICT", `already exists: ${msg}`);
    if (sqlstate.startsWith("23"))
      return new NoetlError("VALIDATION", `the request breaks a constraint: ${msg}`);
    if (sqlstate.startsWith("54"))
      return new NoetlError("TOO_LARGE", `a value in the request is too large: ${msg}`);
    if (sqlstate.startsWith("08") || sqlstate.startsWith("57")) {
      return new NoetlError("UNAVAILABLE", `the database is unavailable: ${msg}`);
    }
  }
  const sys = (err as { code?: unknown })?.code;
  if (
    sys === "ECONNREFUSED" ||
    sys === "ECONNRESET" ||
    sys === "CONNECTION_CLOSED" ||
    sys === "CONNECT_TIMEOUT"
  ) {
    return new NoetlError("UNAVAILABLE", `the database is unavailable: ${errorMessage(err)}`);
  }
  return new NoetlError("INTERNAL", `internal error: ${errorMessage(err)}`);
}
