// Applies the migrations under a transaction-scoped advisory lock, so two processes starting
// together (server and `db init`, two replicas) serialise instead of racing on CREATE.
import { NoetlError } from "../errors";
import { MIGRATIONS, TABLES } from "./migrations/index";
import { type Db, LOCK_NAMESPACE, type Sql } from "./sql";
import type { SchemaReport } from "./types";

const MIGRATION_LOCK = 1;

export async function migrate(db: Db): Promise<SchemaReport> {
  await db.transaction(async (sql) => {
    await sql.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_NAMESPACE, MIGRATION_LOCK]);
    await sql.script(`CREATE SCHEMA IF NOT EXISTS noetl;
      CREATE TABLE IF NOT EXISTS noetl.schema_migration (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = await appliedVersions(sql);
    refuseNewer(applied);
    for (const m of MIGRATIONS) {
      if (applied.includes(m.version)) continue;
      await sql.script(m.sql);
      await sql.query("INSERT INTO noetl.schema_migration (version, name) VALUES ($1, $2)", [
        m.version,
        m.name,
      ]);
    }
  });
  return validate(db);
}

export async function validate(db: Db): Promise<SchemaReport> {
  const expected = MIGRATIONS.at(-1)?.version ?? 0;
  const [reg] = await db.query<{ t: string | null }>(
    "SELECT to_regclass('noetl.schema_migration')::text AS t",
  );
  const applied = reg?.t ? await appliedVersions(db) : [];
  const present = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
    ["noetl"],
  );
  const names = new Set(present.map((r) => r.table_name));
  const missing = TABLES.filter((t) => !names.has(t));
  const version = applied.length ? Math.max(...applied) : 0;
  return {
    ok: version === expected && missing.length === 0,
    backend: db.backend,
    version,
    expected,
    applied,
    missing_tables: missing,
  };
}

async function appliedVersions(sql: Sql): Promise<number[]> {
  const rows = await sql.query<{ version: number }>(
    "SELECT version FROM noetl.schema_migration ORDER BY version",
  );
  return rows.map((r) => Number(r.version));
}

function refuseNewer(applied: number[]): void {
  const known = MIGRATIONS.at(-1)?.version ?? 0;
  const newest = Math.max(0, ...applied);
  if (newest > known) {
    throw new NoetlError(
      "CONFLICT",
      `the database schema is at version ${newest}, newer than this noetl knows (${known}); upgrade noetl`,
    );
  }
}

/** Stops with a clear sentence when the schema is not there yet, instead of a SQL error later. */
export function requireSchema(report: SchemaReport): void {
  if (report.ok) return;
  if (report.version > report.expected) refuseNewer(report.applied);
  throw new NoetlError(
    "UNAVAILABLE",
    report.version === 0
      ? "the database has no noetl schema; run `noetl db init` or start the server with --init-db"
      : `the database schema is at version ${report.version}, expected ${report.expected}; run \`noetl db init\``,
    report,
  );
}
