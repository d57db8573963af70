// The embedded backend: PGlite (PostgreSQL compiled to WASM) in a data directory. One process
// may open a directory at a time, so a PID lock file guards it: a second opener fails clearly
// instead of corrupting the files.
import { mkdir } from "node:fs/promises";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { errorMessage, NoetlError } from "../errors";
import { acquireDirLock } from "./dir-lock";
import { loadPgliteAssets } from "./pglite-assets";
import type { Db, Sql } from "./sql";

function wrap(q: PGlite | Transaction): Sql {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const r = await q.query<T>(text, params as unknown[]);
      return r.rows;
    },
    async script(text: string) {
      await q.exec(text);
    },
  };
}

export async function openPglite(dataDir: string): Promise<Db> {
  await mkdir(dataDir, { recursive: true });
  const release = await acquireDirLock(dataDir);
  let pg: PGlite;
  try {
    pg = await PGlite.create(dataDir, {
      ...(await loadPgliteAssets()),
      // Postgres' default 128 MB of shared buffers costs ~100 MB of resident memory in WASM;
      // an embedded, single-session database does well with far less (idle RSS target: 90 MB).
      startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"],
    });
  } catch (err) {
    await release();
    if (err instanceof NoetlError) throw err;
    throw new NoetlError(
      "UNAVAILABLE",
      `cannot open the embedded database in ${dataDir}: ${errorMessage(err)}`,
    );
  }
  const base = wrap(pg);
  return {
    backend: "pglite",
    location: dataDir,
    query: base.query,
    script: base.script,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    async close() {
      if (!pg.closed) await pg.close();
      await release();
    },
  };
}
