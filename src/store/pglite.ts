// The embedded backend: PGlite (PostgreSQL compiled to WASM) in a data directory. One process
// may open a directory at a time, so a PID lock file guards it: a second opener fails clearly
// instead of corrupting the files.
import { mkdir } from "node:fs/promises";
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
    // Shared buffers are resident from the start in WASM (Postgres' default 128 MB cost ~100 MB).
    // Reads that miss them are served by the OS page cache through Node's fs: 3,000 parallel loop
    // items took the same time with 16 MB as with 4 MB, which idles 12 MB smaller.
    startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=4MB"],
  });
}

export async function openPglite(dataDir: string): Promise<Db> {
  await mkdir(dataDir, { recursive: true });
  const release = await acquireDirLock(dataDir);
  let pg: PGlite;
  try {
    preferSmallWasmCode();
    // initdb leaves ~100 MB of freed memory the C allocator keeps: the server has a fresh
    // directory created by a short-lived `noetl db init` instead (cli/server-run.ts).
    pg = await create(dataDir);
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
