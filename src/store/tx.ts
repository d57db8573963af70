// The write side, used inside one transaction: what the orchestrator needs to record an event,
// decide, insert the next commands and queue notifications, all committing together.
import { performance } from "node:perf_hooks";
import { toEvent } from "./executions";
import { isoOrNull, json, LOCK_NAMESPACE, numOrNull, type Row, type Sql, str, strOrNull } from "./sql";
import type { CommandRecord, CommandStatus, ExecutionPatch, StoreHooks, StoreTx } from "./types";

const EXECUTION_LOCK = LOCK_NAMESPACE + 2;

export function storeTx(sql: Sql, hooks: StoreHooks): StoreTx {
  return {
    async lockExecution(id) {
      await sql.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [EXECUTION_LOCK, id]);
    },

    async createExecution(e) {
      await sql.query(
        `INSERT INTO noetl.execution (execution_id, catalog_id, path, version, parent_execution_id, status, workload)
         VALUES ($1, $2::bigint, $3, $4, $5, $6, $7::text::jsonb)`,
        [
          e.execution_id,
          e.catalog_id ?? null,
          e.path ?? null,
          e.version ?? null,
          e.parent_execution_id ?? null,
          e.status,
          json(e.workload ?? null),
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
         SELECT x->>'execution_id', x->>'type', x->>'step', (x->>'command_id')::bigint, (x->>'attempt')::int,
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
      if (commands.length === 0) return [];
      const rows = await sql.query(
        `INSERT INTO noetl.command (execution_id, step, iteration, pool, tool, context)
         SELECT x->>'execution_id', x->>'step', (x->>'iteration')::int, COALESCE(x->>'pool', 'default'),
                x->'tool', x->'context'
           FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS t(x, ord) ORDER BY ord
         RETURNING *`,
        [json(commands)],
      );
      return rows.map(toCommand).sort((a, b) => Number(BigInt(a.command_id) - BigInt(b.command_id)));
    },

    async claimCommands(req) {
      const rows = await sql.query(
        `UPDATE noetl.command c SET status = 'CLAIMED', worker_id = $2, lease_token = gen_random_uuid()::text,
                lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
          WHERE c.command_id IN (SELECT command_id FROM noetl.command WHERE status = 'PENDING' AND pool = $1
                                  ORDER BY command_id FOR UPDATE SKIP LOCKED LIMIT $4)
          RETURNING c.*`,
        [req.pool, req.worker_id, req.lease_ms, req.limit],
      );
      return rows.map(toCommand).sort((a, b) => Number(BigInt(a.command_id) - BigInt(b.command_id)));
    },

    async finishCommand(commandId, leaseToken, status) {
      const rows = await sql.query(
        `UPDATE noetl.command SET status = $3, lease_until = NULL, updated_at = now()
          WHERE command_id = $1::bigint AND lease_token = $2 AND status IN ('CLAIMED', 'RUNNING')
          RETURNING command_id`,
        [commandId, leaseToken, status],
      );
      return rows.length > 0;
    },

    async enqueueOutbox(subject, payload) {
      await sql.query("INSERT INTO noetl.outbox (subject, payload) VALUES ($1, $2::text::jsonb)", [
        subject,
        json(payload ?? {}),
      ]);
    },
  };
}

function toCommand(r: Row): CommandRecord {
  return {
    command_id: str(r.command_id),
    execution_id: String(r.execution_id),
    step: String(r.step),
    iteration: numOrNull(r.iteration),
    attempt: Number(r.attempt),
    status: r.status as CommandStatus,
    pool: String(r.pool),
    tool: r.tool,
    context: r.context ?? null,
    worker_id: strOrNull(r.worker_id),
    lease_token: strOrNull(r.lease_token),
    lease_until: isoOrNull(r.lease_until),
  };
}
