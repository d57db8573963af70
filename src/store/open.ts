// Opens the configured backend. The drivers are imported here, lazily, so commands that
// never touch a database do not load PGlite (9 MB of wasm) or postgres.js.
import type { DatabaseConfig } from "../config/config";
import { requireSchema } from "./migrate";
import { sqlStore } from "./sql-store";
import type { Store, StoreHooks } from "./types";

export interface OpenOptions {
  hooks?: StoreHooks;
  /** Apply migrations first (--init-db); otherwise the schema must already be current. */
  migrate?: boolean;
  /** Skip the schema check, for `db init` / `db validate` which report on it themselves. */
  unchecked?: boolean;
}

export async function openStore(db: DatabaseConfig, opts: OpenOptions = {}): Promise<Store> {
  const conn =
    db.kind === "pglite"
      ? await (await import("./pglite")).openPglite(db.dataDir)
      : await (await import("./postgres")).openPostgres(db.url, db.display);
  const store = sqlStore(conn, opts.hooks);
  try {
    if (opts.migrate) await store.migrate();
    else if (!opts.unchecked) requireSchema(await store.validate());
    return store;
  } catch (err) {
    await store.close();
    throw err;
  }
}
