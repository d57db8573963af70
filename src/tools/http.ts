// `http`: one request with undici over a shared keep-alive Agent; redirects are followed here
// (not by an interceptor) so the result can name the final URL.
import type { Agent } from "undici";
import type { Tool } from "./types.ts";
import { errText, fail, isRecord, ok, secondsToMs, str } from "./util.ts";

export const httpKeys = [
  "method",
  "url",
  "endpoint",
  "headers",
  "params",
  "body",
  "json",
  "data",
  "timeout",
  "follow_redirects",
  "auth",
] as const;

const MAX_REDIRECTS = 10;
const DEFAULT_TIMEOUT_MS = 60_000;
let agent: Agent | undefined;

export async function closeHttp(): Promise<void> {
  const a = agent;
  agent = undefined;
  await a?.close();
}

interface Prepared {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

function prepare(config: Record<string, unknown>): Prepared | string {
  const rawUrl = str(config.url) ?? str(config.endpoint);
  if (!rawUrl) return "http tool needs `url` (or `endpoint`)";
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return `http tool: invalid URL ${JSON.stringify(rawUrl)}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `http tool: unsupported URL scheme ${url.protocol}`;
  if (isRecord(config.params)) {
    for (const [k, v] of Object.entries(config.params)) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item !== undefined && item !== null) url.searchParams.append(k, scalar(item));
      }
    }
  }
  const headers: Record<string, string> = {};
  if (isRecord(config.headers)) {
    for (const [k, v] of Object.entries(config.headers))
      if (v !== undefined && v !== null) headers[k.toLowerCase()] = scalar(v);
  }
  const auth = config.auth;
  if (isRecord(auth)) {
    const type = String(auth.type ?? (auth.token ? "bearer" : "basic")).toLowerCase();
    if (type === "bearer") headers.authorization = `Bearer ${scalar(auth.token)}`;
    else if (type === "basic") {
      const pair = `${scalar(auth.username ?? auth.user ?? "")}:${scalar(auth.password ?? "")}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
    } else return `http tool: unsupported auth type ${JSON.stringify(type)} (use bearer or basic)`;
  }
  let body: string | undefined;
  const setType = (t: string) => {
    headers["content-type"] ??= t;
  };
  if (config.json !== undefined) {
    body = JSON.stringify(config.json);
    setType("application/json");
  } else if (config.body !== undefined && config.body !== null) {
    if (typeof config.body === "string") body = config.body;
    else {
      body = JSON.stringify(config.body);
      setType("application/json");
    }
  } else if (config.data !== undefined && config.data !== null) {
    if (isRecord(config.data)) {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(config.data))
        if (v !== undefined && v !== null) form.append(k, scalar(v));
      body = form.toString();
      setType("application/x-www-form-urlencoded");
    } else body = scalar(config.data);
  }
  const method = (str(config.method) ?? (body === undefined ? "GET" : "POST")).toUpperCase();
  return { method, url, headers, body };
}

function scalar(v: unknown): string {
  return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (contentType && /[/+]json\b/i.test(contentType)) {
    if (text.trim() === "") return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export const httpTool: Tool = {
  kind: "http",
  async run(config, ctx) {
    const req = prepare(config);
    if (typeof req === "string") return fail("config", req);
    const timeoutMs = secondsToMs(config.timeout) ?? DEFAULT_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    const follow = config.follow_redirects !== false && config.follow_redirects !== "false";
    const { request, Agent } = await import("undici");
    agent ??= new Agent({ keepAliveTimeout: 10_000, connections: 64 });
    const started = performance.now();
    let { method, url, body } = req;
    const headers = { ...req.headers };
    try {
      for (let hop = 0; ; hop++) {
        const res = await request(url, { method, headers, body, signal, dispatcher: agent });
        const location = res.headers.location;
        if (follow && typeof location === "string" && [301, 302, 303, 307, 308].includes(res.statusCode)) {
          await res.body.dump();
          if (hop >= MAX_REDIRECTS)
            return fail("http", `too many redirects (over ${MAX_REDIRECTS}) from ${req.url}`);
          const next = new URL(location, url);
          if (next.origin !== url.origin) delete headers.authorization;
          // Browsers (and requests, curl -L) turn these into GETs without a body.
          if (
            res.statusCode === 303 ||
            ((res.statusCode === 301 || res.statusCode === 302) && method === "POST")
          ) {
            method = "GET";
            body = undefined;
            delete headers["content-type"];
          }
          url = next;
          continue;
        }
        const text = await res.body.text();
        const resHeaders: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders[k] = v;
        const contentType =
          typeof res.headers["content-type"] === "string" ? res.headers["content-type"] : undefined;
        const data = {
          status_code: res.statusCode,
          headers: resHeaders,
          url: url.toString(),
          elapsed_ms: Math.round(performance.now() - started),
          data: parseBody(text, contentType),
        };
        if (res.statusCode < 400) return ok(data);
        const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
        const outcome = fail(
          "http",
          `HTTP ${res.statusCode} from ${method} ${url}${snippet.trim() ? `: ${snippet.trim()}` : ""}`,
          { code: res.statusCode, retryable: res.statusCode === 429 || res.statusCode >= 500 },
          data,
        );
        outcome.http = { status: res.statusCode };
        return outcome;
      }
    } catch (err) {
      if (ctx.signal.aborted) {
        const reason = ctx.signal.reason as { name?: string } | undefined;
        return reason?.name === "TimeoutError"
          ? fail("timeout", `${method} ${url} timed out`, { retryable: true })
          : fail("cancelled", `${method} ${url} was cancelled`);
      }
      if (timeout.aborted)
        return fail("timeout", `${method} ${url} timed out after ${timeoutMs / 1000}s`, { retryable: true });
      const code = errorCode(err);
      if (code && CONNECTION_CODES.has(code)) {
        return fail("connection", `cannot connect to ${url} (${code})`, { code, retryable: true });
      }
      return fail("http", `${method} ${url} failed: ${errText(err)}`, { code, retryable: true });
    }
  },
};

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

function errorCode(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 4;
    e = e.cause as typeof e, i++
  ) {
    if (typeof e.code === "string") return e.code;
    // AggregateError (happy-eyeballs tried several addresses) keeps the codes in `errors`.
    const inner = (e as { errors?: { code?: unknown }[] }).errors?.[0]?.code;
    if (typeof inner === "string") return inner;
  }
  return undefined;
}
