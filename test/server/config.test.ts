// Configuration: one precedence chain (defaults < environment < flags), one sentence per bad value.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/config";
import { NoetlError } from "../../src/errors";

describe("config", () => {
  it("has the seed's defaults and PGlite under NOETL_HOME", () => {
    const c = loadConfig({ NOETL_HOME: "/tmp/nh" });
    assert.deepEqual([c.server.host, c.server.port, c.server.enableUi], ["0.0.0.0", 8082, true]);
    assert.deepEqual(c.database, { kind: "pglite", dataDir: "/tmp/nh/data" });
    assert.equal(c.worker.concurrency, 8);
    assert.equal(loadConfig({ NOETL_HOME: "/tmp/nh", NOETL_DATA_DIR: "/d" }).dataDir, "/d");
  });

  it("lets flags override the environment", () => {
    const c = loadConfig({ NOETL_PORT: "9000", NOETL_HOST: "::" }, { NOETL_PORT: "9100" });
    assert.deepEqual([c.server.host, c.server.port], ["::", 9100]);
  });

  it("chooses PostgreSQL from NOETL_DATABASE_URL or POSTGRES_*, redacting the password", () => {
    const a = loadConfig({
      POSTGRES_HOST: "db",
      POSTGRES_USER: "u",
      POSTGRES_PASSWORD: "p@ss",
      POSTGRES_DB: "n",
    });
    assert.equal(a.database.kind, "postgres");
    if (a.database.kind === "postgres") {
      assert.equal(a.database.url, "postgres://u:p%40ss@db:5432/n");
      assert.ok(!a.database.display.includes("p%40ss"));
    }
    const b = loadConfig({ NOETL_DATABASE_URL: "postgresql://x@h/db", POSTGRES_HOST: "ignored" });
    assert.equal(b.database.kind === "postgres" && b.database.url, "postgresql://x@h/db");
  });

  it("stops on a bad value with one sentence naming the variable or flag", () => {
    const fails = (env: Record<string, string>, flags = {}, pattern: RegExp) =>
      assert.throws(
        () => loadConfig(env, flags),
        (e: unknown) => e instanceof NoetlError && e.code === "CONFIG" && pattern.test(e.message),
      );
    fails({ NOETL_PORT: "abc" }, {}, /^NOETL_PORT "abc" is not valid: expected a port number/);
    fails({}, { NOETL_PORT: "70000" }, /^--port "70000"/);
    fails({ NOETL_ENABLE_UI: "maybe" }, {}, /NOETL_ENABLE_UI/);
    fails({ NOETL_LOG_FORMAT: "xml" }, {}, /pretty or json/);
    fails({ NOETL_SECRET_KEY: "short" }, {}, /^NOETL_SECRET_KEY is not valid/);
  });

  it("treats empty variables as unset", () => {
    assert.equal(loadConfig({ NOETL_PORT: "" }).server.port, 8082);
  });
});
