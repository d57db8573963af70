// The worker's only way out: JSON over HTTP to the server's API, on one keep-alive agent so a
// step costs no TCP handshakes. Node's own http client rather than undici: loading undici costs
// an idle worker about 20 MB, a third of its memory, for no measurable speed here. Failures are split into the two kinds the worker treats
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

export async function createApi(baseUrl: string, token: string | undefined, log: Logger): Promise<Api> {
  const base = new URL(baseUrl);
  const mod = base.protocol === "https:" ? await import("node:https") : await import("node:http");
  const prefix = base.pathname.replace(/\/$/, "");
  // Node's HTTP server closes idle sockets after 5 s (and says so in Keep-Alive, which the agent
  // honours); a free socket is dropped after 4 s so a request never goes out on one being closed.
  const agent = new mod.Agent({ keepAlive: true, timeout: 4000 });
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  // Logged once per outage, not once per failed call.
  let down = false;

  const send = (
    method: string,
    path: string,
    data: string | undefined,
    signal: AbortSignal,
    timeoutMs: number,
  ) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = mod.request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path: `${prefix}${path}`,
          method,
          agent,
          signal,
          timeout: timeoutMs,
          headers: data === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(data) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      req.end(data);
    });

  return {
    baseUrl,
    async call<T>(method: "GET" | "POST", path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
      const timeoutMs = opts.timeoutMs ?? 30_000;
      const signal = opts.signal ?? new AbortController().signal;
      let status: number;
      let text: string;
      try {
        ({ status, text } = await send(
          method,
          path,
          body === undefined ? undefined : JSON.stringify(body),
          signal,
          timeoutMs,
        ));
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
    // Kept-alive sockets would hold the process open; in-flight calls are the callers' to wait for.
    close: async () => {
      agent.destroy();
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
