// Migrations under racing processes, and the embedded database's one-opener rule.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NoetlError } from "../../src/errors";
import { MIGRATIONS } from "../../src/store/migrations/index";
import { openStore } from "../../src/store/open";
import { createTestDatabase, freshPglite, probePostgres } from "./backends";

const LATEST = MIGRATIONS.length;

const pgSkip = await probePostgres();

describe("migrations on PostgreSQL", { skip: pgSkip }, () => {
  it("two stores migrating a blank database at once both succeed", async () => {
    const t = await createTestDatabase();
    const db = { kind: "postgres", url: t.url, display: t.url } as const;
    const stores = await Promise.all([1, 2, 3].map(() => openStore(db, { unchecked: true })));
    try {
      const reports = await Promise.all(stores.map((s) => s.migrate()));
      assert.ok(reports.every((r) => r.ok && r.version === LATEST));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await t.drop();
    }
  });

  it("refuses to serve from a database without the schema, and says what to run", async () => {
    const t = await createTestDatabase();
    try {
      const db = { kind: "postgres", url: t.url, display: t.url } as const;
      await assert.rejects(
        openStore(db),
        (e: unknown) => e instanceof NoetlError && /noetl db init/.test(e.message),
      );
    } finally {
      await t.drop();
    }
  });

  it("reports an unreachable server as UNAVAILABLE", async () => {
    const db = { kind: "postgres", url: "postgres://nobody@127.0.0.1:1/x", display: "127.0.0.1:1" } as const;
    await assert.rejects(openStore(db), (e: unknown) => e instanceof NoetlError && e.code === "UNAVAILABLE");
  });
});

describe("migrations on PGlite", () => {
  it("initialises, reopens without change, and locks the directory against a second opener", async () => {
    const p = await freshPglite();
    try {
      const a = await openStore(p.db, { migrate: true });
      await assert.rejects(
        openStore(p.db),
        (e: unknown) =>
          e instanceof NoetlError && e.code === "CONFLICT" && /in use by process/.test(e.message),
      );
      await a.close();
      const b = await openStore(p.db, { migrate: true });
      assert.deepEqual(
        (await b.validate()).applied,
        MIGRATIONS.map((m) => m.version),
      );
      await b.close();
    } finally {
      await p.dispose();
    }
  });
});
