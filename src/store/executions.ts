// Read side of executions, events, steps and workers, as the API shows them.
import { type Db, iso, isoOrNull, numOrNull, type Row, str, strOrNull } from "./sql";
import type {
  EventRecord,
  ExecutionRecord,
  ExecutionStatus,
  ExecutionSummary,
  Page,
  StepRecord,
  WorkerHeartbeat,
  WorkerRecord,
} from "./types";

const SUMMARY = `execution_id, seq, catalog_id, path, version, parent_execution_id, status, error, started_at, ended_at`;

/** Newest first; the cursor is the position of the last item returned (opaque to clients). */
export async function listExecutions(
  db: Db,
  q: { status?: ExecutionStatus; limit: number; cursor?: string },
): Promise<Page<ExecutionSummary>> {
  const rows = await db.query(
    `SELECT ${SUMMARY} FROM noetl.execution
      WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR seq < $2::bigint)
      ORDER BY seq DESC LIMIT $3`,
    [q.status ?? null, q.cursor ?? null, q.limit + 1],
  );
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit);
  return { items: items.map(toSummary), next_cursor: more ? str(items.at(-1)!.seq) : null };
}

export async function getExecution(db: Db, id: string): Promise<ExecutionRecord | undefined> {
  const [r] = await db.query(
    `SELECT ${SUMMARY}, workload, result FROM noetl.execution WHERE execution_id = $1`,
    [id],
  );
  return r ? { ...toSummary(r), workload: r.workload ?? null, result: r.result ?? null } : undefined;
}

export async function listSteps(db: Db, id: string): Promise<StepRecord[]> {
  const rows = await db.query(
    `SELECT step, status, extract(epoch FROM (ended_at - started_at)) * 1000 AS duration_ms
       FROM noetl.step_result WHERE execution_id = $1 AND iteration = -1
      ORDER BY seq`,
    [id],
  );
  return rows.map((r) => {
    const ms = numOrNull(r.duration_ms);
    return {
      step: String(r.step),
      status: String(r.status),
      duration_ms: ms === null ? null : Math.round(ms),
    };
  });
}

// Appends to one execution are serialised by its lock, so event ids grow in commit order
// within an execution and `after` never skips an event that commits late.
export async function listEvents(
  db: Db,
  id: string,
  q: { after?: string; limit: number },
): Promise<EventRecord[]> {
  const rows = await db.query(
    `SELECT * FROM noetl.event WHERE execution_id = $1 AND event_id > $2::bigint ORDER BY event_id LIMIT $3`,
    [id, q.after ?? "0", q.limit],
  );
  return rows.map(toEvent);
}

export async function listWorkers(db: Db): Promise<WorkerRecord[]> {
  const rows = await db.query("SELECT * FROM noetl.worker ORDER BY pool, worker_id");
  return rows.map((r) => ({
    worker_id: String(r.worker_id),
    pool: String(r.pool),
    host: strOrNull(r.host),
    pid: numOrNull(r.pid),
    concurrency: numOrNull(r.concurrency),
    status: String(r.status),
    heartbeat_at: iso(r.heartbeat_at),
    started_at: iso(r.started_at),
  }));
}

export async function heartbeatWorker(db: Db, w: WorkerHeartbeat): Promise<void> {
  await db.query(
    `INSERT INTO noetl.worker (worker_id, pool, host, pid, concurrency, status) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (worker_id) DO UPDATE SET pool = EXCLUDED.pool, host = EXCLUDED.host, pid = EXCLUDED.pid,
       concurrency = EXCLUDED.concurrency, status = EXCLUDED.status, heartbeat_at = now()`,
    [w.worker_id, w.pool, w.host ?? null, w.pid ?? null, w.concurrency ?? null, w.status ?? "ready"],
  );
}

export async function statusCounts(db: Db) {
  const count = async (table: string) => {
    const rows = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM noetl.${table} GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  };
  return { executions: await count("execution"), commands: await count("command") };
}

function toSummary(r: Row): ExecutionSummary {
  return {
    execution_id: String(r.execution_id),
    catalog_id: strOrNull(r.catalog_id),
    path: strOrNull(r.path),
    version: numOrNull(r.version),
    parent_execution_id: strOrNull(r.parent_execution_id),
    status: r.status as ExecutionStatus,
    error: r.error ?? null,
    started_at: iso(r.started_at),
    ended_at: isoOrNull(r.ended_at),
  };
}

export function toEvent(r: Row): EventRecord {
  const e: EventRecord = {
    event_id: str(r.event_id),
    execution_id: String(r.execution_id),
    type: String(r.type),
    payload: r.payload ?? {},
    created_at: iso(r.created_at),
  };
  if (r.step != null) e.step = String(r.step);
  if (r.command_id != null) e.command_id = str(r.command_id);
  if (r.attempt != null) e.attempt = Number(r.attempt);
  if (r.iteration != null) e.iteration = Number(r.iteration);
  return e;
}
