// The client's transport: one undici request per call, server errors ({error: {code, message}})
// and connection failures turned into NoetlError so every caller reports them the same way.
import { type Dispatcher, request } from "undici";
import { type ErrorCode, NoetlError } from "../errors";

export interface ClientOptions {
  /** The server's base URL, e.g. http://localhost:8082. */
  baseUrl: string;
  token?: string;
}

export interface SendOptions {
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  text?: string;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  /** Milliseconds of silence tolerated while reading the body (0: none). */
  bodyTimeout?: number;
}

const KNOWN_CODES = new Set<ErrorCode>([
  "USAGE",
  "BAD_REQUEST",
  "VALIDATION",
  "NOT_FOUND",
  "EXECUTION_FAILED",
  "TEMPLATE",
  "CONFIG",
  "CONFLICT",
  "UNAUTHORIZED",
  "TOO_LARGE",
  "UNAVAILABLE",
  "INTERRUPTED",
  "INTERNAL",
]);

// Errors that mean "nobody answered at that address", as opposed to a server that answered badly.
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

export function unreachableError(baseUrl: string): NoetlError {
  return new NoetlError(
    "UNAVAILABLE",
    `cannot reach the NoETL server at ${baseUrl} (is it running? \`noetl server start\`)`,
  );
}

/** True for errors of the connection itself (refused, reset, unresolvable), at any nesting. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  if (!e || typeof e !== "object") return false;
  if (typeof e.code === "string" && UNREACHABLE.has(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true;
  return e.cause !== undefined && e.cause !== err && isConnectionError(e.cause);
}

export function isAbort(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | undefined;
  return e?.name === "AbortError" || e?.code === "UND_ERR_ABORTED" || e?.code === "ABORT_ERR";
}

export function urlFor(opts: ClientOptions, path: string, query?: SendOptions["query"]): string {
  const url = new URL(opts.baseUrl.replace(/\/+$/, "") + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

/** Sends one request and returns the response if it is a 2xx; anything else becomes a NoetlError. */
export async function send(
  opts: ClientOptions,
  method: Dispatcher.HttpMethod,
  path: string,
  o: SendOptions = {},
): Promise<Dispatcher.ResponseData> {
  const headers: Record<string, string> = { accept: o.accept ?? "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers["content-type"] = "application/json";
  } else if (o.text !== undefined) {
    body = o.text;
    headers["content-type"] = o.contentType ?? "text/plain";
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await request(urlFor(opts, path, o.query), {
      method,
      headers,
      body,
      signal: o.signal,
      headersTimeout: 60_000,
      bodyTimeout: o.bodyTimeout ?? 60_000,
    });
  } catch (err) {
    if (isConnectionError(err)) throw unreachableError(opts.baseUrl);
    throw err;
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res;
  throw await responseError(opts, method, path, res);
}

/** Sends one request and parses its JSON answer. */
export async function sendJson<T>(
  opts: ClientOptions,
  method: Dispatcher.HttpMethod,
  path: string,
  o: SendOptions = {},
): Promise<T> {
  const res = await send(opts, method, path, o);
  const text = await res.body.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new NoetlError(
      "INTERNAL",
      `the server at ${opts.baseUrl} answered ${method} ${path} with something that is not JSON`,
    );
  }
}

async function responseError(
  opts: ClientOptions,
  method: string,
  path: string,
  res: Dispatcher.ResponseData,
): Promise<NoetlError> {
  const text = await res.body.text().catch(() => "");
  let parsed: { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const e = parsed?.error;
  if (e && typeof e.message === "string") {
    const code = KNOWN_CODES.has(e.code as ErrorCode) ? (e.code as ErrorCode) : "INTERNAL";
    const hint =
      code === "UNAUTHORIZED" && !opts.token
        ? " (give the server's token with --token or NOETL_API_TOKEN)"
        : "";
    return new NoetlError(code, `${e.message}${hint}`, e.details ?? undefined);
  }
  // No NoETL error body: a proxy, or not a NoETL server at all.
  const code: ErrorCode =
    res.statusCode === 404 ? "NOT_FOUND" : res.statusCode === 401 ? "UNAUTHORIZED" : "INTERNAL";
  return new NoetlError(
    code,
    `the server at ${opts.baseUrl} answered ${method} ${path} with HTTP ${res.statusCode} (is it a NoETL server?)`,
  );
}
