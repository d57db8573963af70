// The Store over any Db: one SQL implementation serves PGlite and PostgreSQL alike, so the
// contract suite tests the same statements on both.

import { performance } from "node:perf_hooks";
import * as catalog from "./catalog";
import * as credentials from "./credentials";
import * as executions from "./executions";
import { migrate, validate } from "./migrate";
import type { Db } from "./sql";
import { json } from "./sql";
import { reportKey, storeTx } from "./tx";
import type { Store, StoreHooks } from "./types";

export function sqlStore(db: Db, hooks: StoreHooks = {}): Store {
  return {
    backend: db.backend,
    location: db.location,
    migrate: () => migrate(db),
    validate: () => validate(db),
    transaction: (fn) => db.transaction((sql) => fn(storeTx(sql, hooks))),
    // Single statements need no BEGIN/COMMIT: one round trip instead of three.
    claimCommands: (req) => storeTx(db, hooks).claimCommands(req),
    extendLease: (id, token, ms) => storeTx(db, hooks).extendLease(id, token, ms),
    async applyReport(p) {
      const t0 = performance.now();
      const [row] = await db.query<{ r: unknown }>("SELECT noetl.apply_report($1::text::jsonb) AS r", [
        json(p),
      ]);
      const r = (typeof row?.r === "string" ? JSON.parse(row.r) : row?.r) as {
        applied: boolean;
        reason?: "stale" | "lease" | "parent";
        last?: number | string | null;
        logged?: [string, number, string][];
      };
      if (r.applied) hooks.onAppend?.(performance.now() - t0, p.events.length);
      return {
        applied: r.applied,
        ...(r.reason ? { reason: r.reason } : {}),
        last: r.last == null ? null : String(r.last),
        logged: new Set((r.logged ?? []).map(([c, a, t]) => reportKey(c, a, t))),
      };
    },
    close: () => db.close(),

    registerCatalog: (e) => catalog.registerCatalog(db, e),
    listCatalog: (f) => catalog.listCatalog(db, f),
    getCatalog: (path, version) => catalog.getCatalog(db, path, version),
    getCatalogById: (id) => catalog.getCatalogById(db, id),

    putCredential: (c) => credentials.putCredential(db, c),
    listCredentials: () => credentials.listCredentials(db),
    getCredential: (name) => credentials.getCredential(db, name),
    deleteCredential: (name) => credentials.deleteCredential(db, name),

    listExecutions: (q) => executions.listExecutions(db, q),
    getExecution: (id) => executions.getExecution(db, id),
    listSteps: (id) => executions.listSteps(db, id),
    listEvents: (id, q) => executions.listEvents(db, id, q),
    listWorkers: () => executions.listWorkers(db),
    heartbeatWorker: (w) => executions.heartbeatWorker(db, w),
    statusCounts: () => executions.statusCounts(db),
  };
}
