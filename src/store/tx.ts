// The write side, used inside one transaction: what the orchestrator needs to record an event,
// decide, insert the next commands and queue notifications, all committing together.
import { performance } from "node:perf_hooks";
import { getCatalog } from "./catalog";
import { toEvent } from "./executions";
import { iso, isoOrNull, json, numOrNull, type Row, type Sql, str, strOrNull } from "./sql";
import type { CommandRecord, CommandStatus, ExecutionPatch, StoreHooks, StoreTx } from "./types";

/** Event types recorded for people and tools; the engine's state does not depend on them. */
export const INFORMATIONAL = [
  "command.claimed",
  "command.started",
  "command.heartbeat",
  "call.done",
  "call.error",
];

export function storeTx(sql: Sql, hooks: StoreHooks): StoreTx {
  return {
    async lockExecution(id) {
      const [r] = await sql.query("SELECT noetl.lock_execution($1) AS last", [id]);
      return strOrNull(r?.last);
    },

    async createExecution(e) {
      await sql.query(
        `INSERT INTO noetl.execution (execution_id, catalog_id, path, version, parent_execution_id, status, workload,
                                      parent_command_id)
         VALUES ($1, $2::bigint, $3, $4, $5, $6, $7::text::jsonb, $8)`,
        [
          e.execution_id,
          e.catalog_id ?? null,
          e.path ?? null,
          e.version ?? null,
          e.parent_execution_id ?? null,
          e.status,
          json(e.workload ?? null),
          e.parent_command_id ?? null,
        ],
      );
    },

    async updateExecution(id, patch: ExecutionPatch) {
      // Column names come from this fixed list, never from input; values stay parameters.
      const sets: string[] = [];
      const params: unknown[] = [id];
      const add = (col: string, value: unknown, cast = "") => {
        params.push(value);
        sets.push(`${col} = $${params.length}${cast}`);
      };
      if (patch.status !== undefined) add("status", patch.status);
      if (patch.result !== undefined) add("result", json(patch.result), "::text::jsonb");
      if (patch.error !== undefined) add("error", json(patch.error), "::text::jsonb");
      if (patch.ended) sets.push("ended_at = COALESCE(ended_at, now())");
      if (sets.length)
        await sql.query(`UPDATE noetl.execution SET ${sets.join(", ")} WHERE execution_id = $1`, params);
    },

    async appendEvents(events) {
      if (events.length === 0) return [];
      const t0 = performance.now();
      const rows = await sql.query(
        `INSERT INTO noetl.event (execution_id, type, step, command_id, attempt, iteration, payload)
         SELECT x->>'execution_id', x->>'type', x->>'step', x->>'command_id', (x->>'attempt')::int,
                (x->>'iteration')::int, COALESCE(x->'payload', '{}'::jsonb)
           FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS t(x, ord) ORDER BY ord
         ON CONFLICT (command_id, attempt, type) DO NOTHING
         RETURNING *`,
        [json(events)],
      );
      hooks.onAppend?.(performance.now() - t0, events.length);
      return rows.map(toEvent).sort((a, b) => (BigInt(a.event_id) < BigInt(b.event_id) ? -1 : 1));
    },

    async recordStep(r) {
      await sql.query(
        `INSERT INTO noetl.step_result (execution_id, step, iteration, status, data, error, started_at, ended_at)
         VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7::timestamptz, $8::timestamptz)
         ON CONFLICT (execution_id, step, iteration) DO UPDATE SET status = EXCLUDED.status,
           data = EXCLUDED.data, error = EXCLUDED.error,
           started_at = COALESCE(noetl.step_result.started_at, EXCLUDED.started_at),
           ended_at = COALESCE(EXCLUDED.ended_at, noetl.step_result.ended_at)`,
        [
          r.execution_id,
          r.step,
          r.iteration,
          r.status,
          json(r.data ?? null),
          json(r.error ?? null),
          r.started_at ?? null,
          r.ended_at ?? null,
        ],
      );
    },

    async insertCommands(commands) {
      if (commands.length === 0) return;
      // A command handed straight to a waiting worker is inserted already leased (lease_ms set).
      await sql.query(
        `INSERT INTO noetl.command (command_id, execution_id, step, iteration, attempt, pool, payload, status,
                                    worker_id, lease_token, lease_until)
         SELECT x->>'command_id', x->>'execution_id', x->>'step', (x->>'iteration')::int,
                COALESCE((x->>'attempt')::int, 1), COALESCE(x->>'pool', 'default'), x->'payload',
                COALESCE(x->>'status', 'PENDING'), x->>'worker_id', x->>'lease_token',
                now() + make_interval(secs => (x->>'lease_ms')::float8 / 1000)
           FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS t(x, ord) ORDER BY ord`,
        [json(commands)],
      );
    },

    async claimCommands(req) {
      // The claim and its event commit together, in one round trip.
      const rows = await sql.query(
        `WITH claimed AS (
           UPDATE noetl.command c SET status = 'CLAIMED', worker_id = $2, lease_token = gen_random_uuid()::text,
                  lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
            WHERE c.command_id IN (SELECT command_id FROM noetl.command WHERE status = 'PENDING' AND pool = $1
                                    ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT $4)
            RETURNING c.*
         ), logged AS (
           INSERT INTO noetl.event (execution_id, type, step, command_id, attempt, iteration, payload)
           SELECT execution_id, 'command.claimed', step, command_id, attempt, iteration,
                  jsonb_build_object('worker_id', $2::text)
             FROM claimed
           ON CONFLICT (command_id, attempt, type) DO NOTHING
         )
         SELECT * FROM claimed`,
        [req.pool, req.worker_id, req.lease_ms, req.limit],
      );
      return rows.map(toCommand).sort(bySeq);
    },

    async finishCommand(commandId, leaseToken, status) {
      const done = await this.finishCommands([{ command_id: commandId, lease_token: leaseToken, status }]);
      return done.size > 0;
    },

    async finishCommands(items) {
      if (items.length === 0) return new Set();
      // `= ANY (ids)` lets the planner use the primary key: a plain join with the JSON rows is
      // planned as a scan of the whole table.
      const rows = await sql.query(
        `UPDATE noetl.command c SET status = x.status, lease_until = NULL, updated_at = now()
           FROM jsonb_to_recordset($1::text::jsonb) AS x(command_id text, lease_token text, status text)
          WHERE c.command_id = ANY (ARRAY(SELECT j->>'command_id' FROM jsonb_array_elements($1::text::jsonb) AS t(j)))
            AND c.command_id = x.command_id AND c.lease_token = x.lease_token
            AND c.status IN ('CLAIMED', 'RUNNING')
          RETURNING c.command_id, c.lease_token`,
        [json(items)],
      );
      return new Set(rows.map((r) => leaseKey(String(r.command_id), String(r.lease_token))));
    },

    async loggedReports(items) {
      if (items.length === 0) return new Set();
      const rows = await sql.query(
        `SELECT e.command_id, e.attempt, e.type
           FROM noetl.event e JOIN jsonb_to_recordset($1::text::jsonb) AS x(command_id text, attempt int, type text)
             ON e.command_id = x.command_id AND e.attempt = x.attempt AND e.type = x.type
          WHERE e.command_id = ANY (ARRAY(SELECT j->>'command_id' FROM jsonb_array_elements($1::text::jsonb) AS t(j)))`,
        [json(items)],
      );
      return new Set(rows.map((r) => reportKey(String(r.command_id), Number(r.attempt), String(r.type))));
    },

    async allEvents(executionId) {
      const rows = await sql.query("SELECT * FROM noetl.event WHERE execution_id = $1 ORDER BY event_id", [
        executionId,
      ]);
      return rows.map(toEvent);
    },

    async executionSource(executionId) {
      const [r] = await sql.query(
        `SELECT c.doc FROM noetl.execution e JOIN noetl.catalog c ON c.catalog_id = e.catalog_id
          WHERE e.execution_id = $1`,
        [executionId],
      );
      return r ? { doc: r.doc } : undefined;
    },

    catalogEntry: (path, version) => getCatalog(sql, path, version),

    async cancelCommands(executionId) {
      await sql.query(
        `UPDATE noetl.command SET status = 'CANCELLED', lease_until = NULL, updated_at = now()
          WHERE execution_id = $1 AND status IN ('PENDING', 'CLAIMED', 'RUNNING')`,
        [executionId],
      );
    },

    async runningChildren(executionId) {
      const rows = await sql.query(
        "SELECT execution_id FROM noetl.execution WHERE parent_execution_id = $1 AND status IN ('PENDING', 'RUNNING')",
        [executionId],
      );
      return rows.map((r) => String(r.execution_id));
    },

    async parentCommand(executionId) {
      const [r] = await sql.query(
        `SELECT parent_execution_id, parent_command_id FROM noetl.execution
          WHERE execution_id = $1 AND parent_command_id IS NOT NULL`,
        [executionId],
      );
      return r
        ? { execution_id: String(r.parent_execution_id), command_id: String(r.parent_command_id) }
        : undefined;
    },

    async reissueExpired(limit) {
      const rows = await sql.query(
        `UPDATE noetl.command c SET status = 'PENDING', attempt = c.attempt + 1, worker_id = NULL,
                lease_token = NULL, lease_until = NULL, updated_at = now()
          WHERE c.command_id IN (SELECT command_id FROM noetl.command
                                  WHERE status IN ('CLAIMED', 'RUNNING') AND lease_until < now()
                                  ORDER BY lease_until FOR UPDATE SKIP LOCKED LIMIT $1)
          RETURNING c.*`,
        [limit],
      );
      return rows.map(toCommand).sort(bySeq);
    },

    async extendLease(commandId, leaseToken, leaseMs) {
      const [r] = await sql.query(
        `UPDATE noetl.command SET lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
          WHERE command_id = $1 AND lease_token = $2 AND status IN ('CLAIMED', 'RUNNING') AND lease_until >= now()
          RETURNING lease_until`,
        [commandId, leaseToken, leaseMs],
      );
      return r ? iso(r.lease_until) : undefined;
    },
  };
}

/** How finishCommands names a finished lease. */
export function leaseKey(commandId: string, leaseToken: string): string {
  return `${commandId}#${leaseToken}`;
}

/** How loggedReports names a report. */
export function reportKey(commandId: string, attempt: number, type: string): string {
  return `${commandId}#${attempt}#${type}`;
}

function toCommand(r: Row): CommandRecord & { seq: bigint } {
  return {
    command_id: String(r.command_id),
    seq: BigInt(str(r.seq)),
    execution_id: String(r.execution_id),
    step: String(r.step),
    iteration: numOrNull(r.iteration),
    attempt: Number(r.attempt),
    status: r.status as CommandStatus,
    pool: String(r.pool),
    payload: r.payload,
    worker_id: strOrNull(r.worker_id),
    lease_token: strOrNull(r.lease_token),
    lease_until: isoOrNull(r.lease_until),
  };
}

function bySeq(a: { seq: bigint }, b: { seq: bigint }): number {
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}
