// The embedded backend: PGlite (PostgreSQL compiled to WASM) in a data directory. One process
// may open a directory at a time, so a PID lock file guards it: a second opener fails clearly
// instead of corrupting the files.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { errorMessage, NoetlError } from "../errors";
import { acquireDirLock } from "./dir-lock";
import { loadPgliteAssets } from "./pglite-assets";
import type { Db, Sql } from "./sql";
import { collectGarbage, preferSmallWasmCode } from "./v8-memory";

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

async function create(dataDir: string): Promise<PGlite> {
  return PGlite.create(dataDir, {
    ...(await loadPgliteAssets()),
    // Postgres' default 128 MB of shared buffers costs ~100 MB of resident memory in WASM;
    // an embedded, single-session database does well with far less.
    startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"],
  });
}

export async function openPglite(dataDir: string): Promise<Db> {
  await mkdir(dataDir, { recursive: true });
  const release = await acquireDirLock(dataDir);
  let pg: PGlite;
  try {
    preferSmallWasmCode();
    const fresh = !existsSync(join(dataDir, "PG_VERSION"));
    pg = await create(dataDir);
    if (fresh) {
      // initdb leaves ~500 MB of garbage that V8 does not feel pressed to collect (it is
      // external memory): reopen and collect, so a new server idles like an old one.
      await pg.close();
      collectGarbage();
      pg = await create(dataDir);
    }
    collectGarbage(); // the wasm bytes and data bundle read to start it are garbage now
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
