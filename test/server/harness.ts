// Builds the server app around a fresh store and calls it in-process, without a port.
import assert from "node:assert/strict";
import { SecretBox } from "../../src/crypto/secret-box";
import { createApp } from "../../src/server/app";
import { Metrics } from "../../src/server/metrics";
import { createOrchestration } from "../../src/server/orchestrator/index";
import type { Db } from "../../src/store/sql";
import type { Store } from "../../src/store/types";
import type { Backend } from "../store/backends";

export interface AppOptions {
  apiToken?: string;
  secretKey?: string;
  maxBodyBytes?: number;
  leaseMs?: number;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface Harness {
  store: Store;
  sql: Db;
  shutdown: AbortController;
  orchestrator: import("../../src/server/orchestrator/orchestrator").Orchestrator;
  call(
    method: string,
    path: string,
    init?: { body?: string | object; headers?: Record<string, string> },
  ): Promise<Reply>;
  dispose(): Promise<void>;
}

export async function harness(backend: Backend, opts: AppOptions = {}): Promise<Harness> {
  const { store, sql, dispose } = await backend.fresh();
  const shutdown = new AbortController();
  const metrics = new Metrics();
  const { orchestrator, workSignal } = createOrchestration(store, { leaseMs: opts.leaseMs ?? 30_000 });
  const app = createApp({
    store,
    metrics,
    orchestrator,
    workSignal,
    config: {
      apiToken: opts.apiToken,
      secretKey: opts.secretKey,
      server: { host: "127.0.0.1", port: 0, enableUi: false, maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024 },
    },
    secretBox: opts.secretKey ? new SecretBox(opts.secretKey) : undefined,
    shutdown: shutdown.signal,
    pollMs: 20,
    version: "test",
  });
  return {
    store,
    sql,
    shutdown,
    orchestrator,
    async call(method, path, init = {}) {
      const body = typeof init.body === "object" ? JSON.stringify(init.body) : init.body;
      const headers = {
        ...(typeof init.body === "object" ? { "content-type": "application/json" } : {}),
        ...init.headers,
      };
      const res = await app.fetch(new Request(`http://noetl.test${path}`, { method, body, headers }));
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: res.status, headers: res.headers, text, json };
    },
    async dispose() {
      shutdown.abort();
      await dispose();
    },
  };
}

/** Asserts the error envelope and returns its code. */
export function errorCode(r: Reply, status: number): string {
  assert.equal(r.status, status, r.text);
  assert.equal(typeof r.json?.error?.code, "string", r.text);
  assert.equal(typeof r.json.error.message, "string");
  assert.ok("details" in r.json.error);
  return r.json.error.code;
}

/** The app's route definitions, without a store: what "every route" means in the tests. */
export function appRoutes() {
  const noop = (() => {}) as never;
  return createApp({
    store: noop,
    metrics: noop,
    orchestrator: { deps: { leaseMs: 1 } } as never,
    workSignal: noop,
    config: { server: { host: "", port: 0, enableUi: false, maxBodyBytes: 1 } },
    shutdown: new AbortController().signal,
    version: "x",
  }).routes;
}
