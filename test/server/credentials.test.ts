// API contract of the credential routes, and proof that plaintext never reaches the database.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TABLES } from "../../src/store/migrations/index";
import { backends } from "../store/backends";
import { errorCode, type Harness, harness } from "./harness";

const TOKEN = "test-token-123456";
const KEY = "a-secret-key-of-some-length";
const SECRET = "pl41nt3xt-S3cr3t-value-do-not-leak";
const bearer = { authorization: `Bearer ${TOKEN}` };

for (const backend of await backends()) {
  describe(`credentials API: ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    before(async () => (h = await harness(backend, { secretKey: KEY, apiToken: TOKEN })));
    after(() => h?.dispose());

    it("creates, replaces, lists (names and types only), gets and deletes", async () => {
      const body = { name: "pg_local", type: "postgres", data: { db_password: SECRET, db_user: "noetl" } };
      const created = await h.call("POST", "/api/credentials", { body, headers: bearer });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.json, { name: "pg_local", type: "postgres", created: true });
      const replaced = await h.call("POST", "/api/credentials", {
        body: { ...body, description: "local" },
        headers: bearer,
      });
      assert.deepEqual([replaced.status, replaced.json.created], [200, false]);
      const list = await h.call("GET", "/api/credentials", { headers: bearer });
      assert.deepEqual(Object.keys(list.json.items[0]).sort(), [
        "created_at",
        "description",
        "name",
        "type",
        "updated_at",
      ]);
      assert.ok(!list.text.includes(SECRET));
      const one = await h.call("GET", "/api/credentials/pg_local", { headers: bearer });
      assert.equal(one.json.data, undefined);
      assert.ok(!one.text.includes(SECRET));
      const withData = await h.call("GET", "/api/credentials/pg_local?include_data=true", {
        headers: bearer,
      });
      assert.deepEqual(withData.json.data, body.data);
      assert.deepEqual((await h.call("DELETE", "/api/credentials/pg_local", { headers: bearer })).json, {
        name: "pg_local",
        deleted: true,
      });
      assert.equal(
        errorCode(await h.call("DELETE", "/api/credentials/pg_local", { headers: bearer }), 404),
        "NOT_FOUND",
      );
      assert.equal(
        errorCode(await h.call("GET", "/api/credentials/pg_local", { headers: bearer }), 404),
        "NOT_FOUND",
      );
    });

    it("validates the body", async () => {
      const bad = await h.call("POST", "/api/credentials", {
        body: { name: "../x", type: "t", data: {} },
        headers: bearer,
      });
      assert.equal(errorCode(bad, 422), "VALIDATION");
      assert.equal(bad.json.error.details.issues[0].path, "name");
      const extra = await h.call("POST", "/api/credentials", {
        body: { name: "x", type: "t", data: "v", extra: 1 },
        headers: bearer,
      });
      assert.equal(errorCode(extra, 422), "VALIDATION");
    });

    it("requires the bearer token on /api but not on health", async () => {
      assert.equal(errorCode(await h.call("GET", "/api/credentials"), 401), "UNAUTHORIZED");
      const wrong = await h.call("GET", "/api/credentials", { headers: { authorization: "Bearer nope" } });
      assert.equal(errorCode(wrong, 401), "UNAUTHORIZED");
      assert.equal((await h.call("GET", "/api/health")).status, 200);
      assert.equal((await h.call("GET", "/health")).status, 200);
    });

    it("never stores the plaintext", async () => {
      const body = { name: "leak_check", type: "generic", data: { token: SECRET } };
      assert.equal((await h.call("POST", "/api/credentials", { body, headers: bearer })).status, 201);
      const hex = Buffer.from(SECRET).toString("hex");
      for (const row of await dumpDatabase(h)) {
        assert.ok(!row.includes(SECRET) && !row.includes(hex), `plaintext found in ${row.slice(0, 80)}`);
      }
      const info = await h.store.getCredential("leak_check");
      for (const buf of [info!.ciphertext, info!.iv, info!.tag])
        assert.ok(!buf.toString("latin1").includes(SECRET));
      if (backend.name === "pglite") {
        // The files on disk too (heap, WAL): the database never saw the value.
        const dataDir = h.store.location;
        for (const file of await filesUnder(dataDir)) {
          assert.ok(!(await readFile(file)).includes(Buffer.from(SECRET)), `plaintext found in ${file}`);
        }
      }
    });
  });

  describe(`credentials without NOETL_SECRET_KEY: ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    before(async () => (h = await harness(backend)));
    after(() => h?.dispose());

    it("refuses to store credentials and says why; values need the token", async () => {
      const r = await h.call("POST", "/api/credentials", {
        body: { name: "x", type: "t", data: { a: "b" } },
      });
      assert.equal(errorCode(r, 503), "UNAVAILABLE");
      assert.match(r.json.error.message, /NOETL_SECRET_KEY/);
    });
  });
}

async function dumpDatabase(h: Harness): Promise<string[]> {
  // Every row of every table of schema noetl as JSON text (bytea appears as hex).
  const rows: string[] = [];
  for (const t of TABLES) {
    const found = await h.sql.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM noetl.${t} x`);
    rows.push(...found.map((r) => r.j));
  }
  return rows;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}
