// Test harness: every store backend, each in a database of its own. PostgreSQL tests create
// `noetl_test_<random>` and drop it; when PostgreSQL is unreachable they say why they did not
// run — and with CI=true that is a failure, never a skip.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { DatabaseConfig } from "../../src/config/config";
import { openPglite } from "../../src/store/pglite";
import { openPostgres } from "../../src/store/postgres";
import type { Db } from "../../src/store/sql";
import { sqlStore } from "../../src/store/sql-store";
import type { Store } from "../../src/store/types";

export const ADMIN_URL = process.env.NOETL_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface Backend {
  name: "pglite" | "postgres";
  /** Why this backend cannot run here; undefined when it can. */
  skip?: string;
  /** A fresh, migrated store in a database of its own, and its disposal. */
  fresh(): Promise<Fresh>;
}

export interface Fresh {
  store: Store;
  db: DatabaseConfig;
  /** The store's own connection, for assertions in raw SQL. */
  sql: Db;
  dispose(): Promise<void>;
}

async function migrated(sql: Db): Promise<Store> {
  const store = sqlStore(sql);
  await store.migrate();
  return store;
}

let pgProbe: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers; otherwise the reason. Throws under CI. */
export function probePostgres(): Promise<string | undefined> {
  pgProbe ??= (async () => {
    const sql = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
      return undefined;
    } catch (err) {
      const why = `PostgreSQL is not reachable at ${ADMIN_URL} (${(err as Error).message}); set NOETL_TEST_PG_URL or start it`;
      if (process.env.CI === "true") throw new Error(`${why} — CI=true requires it`);
      return why;
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  })();
  return pgProbe;
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `noetl_test_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}

export async function freshPglite(): Promise<{ dir: string; db: DatabaseConfig; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "noetl-test-pglite-"));
  const db: DatabaseConfig = { kind: "pglite", dataDir: join(dir, "data") };
  return { dir, db, dispose: () => rm(dir, { recursive: true, force: true }) };
}

export async function backends(): Promise<Backend[]> {
  const skip = await probePostgres();
  return [
    {
      name: "pglite",
      async fresh() {
        const p = await freshPglite();
        const sql = await openPglite(join(p.dir, "data"));
        const store = await migrated(sql);
        return {
          store,
          sql,
          db: p.db,
          dispose: async () => {
            await store.close();
            await p.dispose();
          },
        };
      },
    },
    {
      name: "postgres",
      skip,
      async fresh() {
        const t = await createTestDatabase();
        const db: DatabaseConfig = { kind: "postgres", url: t.url, display: t.url };
        const sql = await openPostgres(t.url, t.url);
        const store = await migrated(sql);
        return {
          store,
          sql,
          db,
          dispose: async () => {
            await store.close();
            await t.drop();
          },
        };
      },
    },
  ];
}
