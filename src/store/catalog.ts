// Catalog rows: every registration of a path takes that path's next version.
import { type Db, iso, json, LOCK_NAMESPACE, type Row, str } from "./sql";
import type { CatalogEntry, CatalogSummary, NewCatalogEntry } from "./types";

const CATALOG_LOCK = LOCK_NAMESPACE + 1;
const SUMMARY = "catalog_id, path, version, kind, description, created_at";

export async function registerCatalog(db: Db, e: NewCatalogEntry): Promise<CatalogEntry> {
  return db.transaction(async (sql) => {
    // Two registrations of one path at once would both read the same max(version).
    await sql.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [CATALOG_LOCK, e.path]);
    const [row] = await sql.query(
      `INSERT INTO noetl.catalog (path, version, kind, description, content, doc)
       SELECT $1::text, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5::text::jsonb
         FROM noetl.catalog WHERE path = $1::text
       RETURNING *`,
      [e.path, e.kind, e.description, e.content, json(e.doc)],
    );
    return toEntry(row!);
  });
}

export async function listCatalog(db: Db, f: { kind?: string; path?: string }): Promise<CatalogSummary[]> {
  // The latest version of each path; `path` filters by prefix so "examples/" lists a folder.
  const rows = await db.query(
    `SELECT DISTINCT ON (path) ${SUMMARY} FROM noetl.catalog
      WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR starts_with(path, $2))
      ORDER BY path, version DESC`,
    [f.kind ?? null, f.path ?? null],
  );
  return rows.map(toSummary);
}

export async function getCatalog(
  db: Pick<Db, "query">,
  path: string,
  version: number | "latest",
): Promise<CatalogEntry | undefined> {
  const rows =
    version === "latest"
      ? await db.query("SELECT * FROM noetl.catalog WHERE path = $1 ORDER BY version DESC LIMIT 1", [path])
      : await db.query("SELECT * FROM noetl.catalog WHERE path = $1 AND version = $2", [path, version]);
  return rows[0] ? toEntry(rows[0]) : undefined;
}

export async function getCatalogById(db: Pick<Db, "query">, id: string): Promise<CatalogEntry | undefined> {
  const rows = await db.query("SELECT * FROM noetl.catalog WHERE catalog_id = $1::bigint", [id]);
  return rows[0] ? toEntry(rows[0]) : undefined;
}

function toSummary(r: Row): CatalogSummary {
  return {
    catalog_id: str(r.catalog_id),
    path: String(r.path),
    version: Number(r.version),
    kind: String(r.kind),
    description: (r.description as string | null) ?? null,
    created_at: iso(r.created_at),
  };
}

function toEntry(r: Row): CatalogEntry {
  return { ...toSummary(r), content: String(r.content), doc: r.doc ?? null };
}
