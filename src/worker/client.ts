// The worker's only way out: JSON over HTTP to the server's API, on one keep-alive agent so a
// step costs no TCP handshakes. Failures are split into the two kinds the worker treats
// differently: the server answered with an error (ApiError) or it could not be reached
// (Unreachable), which always means "retry later".
import type { Logger } from "../log";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
  /** 5xx and 429 are the server's trouble, not the request's: worth retrying. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

export class Unreachable extends Error {}

export interface CallOptions {
  signal?: AbortSignal;
  /** Longest wait for the answer; long-polls pass their wait plus a margin. */
  timeoutMs?: number;
}

export interface Api {
  readonly baseUrl: string;
  call<T = unknown>(method: "GET" | "POST", path: string, body?: unknown, opts?: CallOptions): Promise<T>;
  close(): Promise<void>;
}

type Agent = import("undici").Agent;

export async function createApi(baseUrl: string, token: string | undefined, log: Logger): Promise<Api> {
  const { Agent } = await import("undici");
  const origin = new URL(baseUrl).origin;
  const prefix = new URL(baseUrl).pathname.replace(/\/$/, "");
  // Node's HTTP server closes idle sockets after 5 s; staying under that avoids reusing a
  // socket the server is closing (a spurious ECONNRESET).
  const agent: Agent = new Agent({
    keepAliveTimeout: 4000,
    keepAliveMaxTimeout: 4000,
    connect: { timeout: 5000 },
  });
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  // Logged once per outage, not once per failed call.
  let down = false;

  return {
    baseUrl,
    async call<T>(method: "GET" | "POST", path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
      const timeoutMs = opts.timeoutMs ?? 30_000;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
      let status: number;
      let text: string;
      try {
        const res = await agent.request({
          origin,
          path: `${prefix}${path}`,
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (!down) log.warn(`server ${baseUrl} is unreachable; retrying`, { error: describe(err) });
        down = true;
        throw new Unreachable(`${method} ${path}: ${describe(err)}`);
      }
      if (down) log.info(`server ${baseUrl} is reachable again`);
      down = false;
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (status >= 400) {
        const e = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
          ?.error;
        throw new ApiError(
          status,
          typeof e?.code === "string" ? e.code : `HTTP_${status}`,
          `${method} ${path}: ${typeof e?.message === "string" ? e.message : text.slice(0, 200) || `HTTP ${status}`}`,
          isRecord(e?.details) ? e.details : {},
        );
      }
      return json as T;
    },
    // In-flight calls get a moment to finish; a server that does not answer does not hold the exit.
    close: async () => {
      await within(agent.close(), 2000);
      await agent.destroy().catch(() => {});
    },
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** The 409 a heartbeat or report gets when the lease is no longer this worker's. */
export function isLeaseLost(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status === 409 && err.details.code === "LEASE_LOST";
}

/** Exponential backoff with jitter, capped; `attempt` counts from 0. */
export function backoffMs(attempt: number, baseMs = 50, capMs = 2000): number {
  const ms = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ms / 2 + Math.random() * (ms / 2));
}

/** Waits for `p` at most `ms`: true if it settled in time. Leaves no timer behind either way. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sleeps; resolves early (false) when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
