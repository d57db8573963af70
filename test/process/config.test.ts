// SPEC §13: every variable is read by the one config module, and a bad value stops `server
// start` / `worker start` with one sentence naming the variable, before anything is spawned.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../src/config/config";
import { NoetlError } from "../../src/errors";
import { cleanup, makeHome, noetl, requireBundle } from "./helpers";

// A value each variable must refuse; the free-form ones (paths, names, passwords) are checked
// below by their effect on the Config instead.
const BAD: Record<string, string> = {
  NOETL_HOST: "not a host",
  NOETL_PORT: "abc",
  NOETL_ENABLE_UI: "maybe",
  POSTGRES_PORT: "5432x",
  NATS_URL: "http://nats:4222",
  NOETL_SERVER_URL: "localhost:8082",
  NOETL_DATABASE_URL: "mysql://db/x",
  NOETL_API_TOKEN: "short",
  NOETL_SECRET_KEY: "short",
  NOETL_WORKER_CONCURRENCY: "0",
  NOETL_WORKER_POOL_NAME: "a pool",
  NOETL_LOG_LEVEL: "loud",
  NOETL_LOG_FORMAT: "xml",
};

describe("configuration (SPEC §13)", () => {
  for (const [name, value] of Object.entries(BAD)) {
    it(`refuses a bad ${name} in one sentence naming it`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (e: unknown) =>
          e instanceof NoetlError &&
          e.code === "CONFIG" &&
          e.message.startsWith(`${name} `) &&
          !e.message.includes("\n") &&
          (e.details as { variable: string }).variable === name,
      );
    });
  }

  it("reads the free-form variables", () => {
    const c = loadConfig({
      NOETL_HOME: "/h",
      NOETL_DATA_DIR: "/d",
      POSTGRES_HOST: "db",
      POSTGRES_PORT: "6543",
      POSTGRES_DB: "n",
      POSTGRES_USER: "u",
      POSTGRES_PASSWORD: "pw",
      NATS_URL: "nats://q:4222",
      NOETL_WORKER_POOL_NAME: "gpu",
      NOETL_ENABLE_UI: "false",
    });
    assert.equal(c.home, "/h");
    assert.equal(c.dataDir, "/d");
    assert.equal(c.database.kind === "postgres" && c.database.url, "postgres://u:pw@db:6543/n");
    assert.equal(c.natsUrl, "nats://q:4222");
    assert.equal(c.worker.pool, "gpu");
    assert.equal(c.server.enableUi, false);
    assert.deepEqual(loadConfig({ NOETL_LOG_LEVEL: "debug", NOETL_LOG_FORMAT: "json" }).log, {
      level: "debug",
      format: "json",
    });
  });

  describe("from the built CLI", () => {
    let home: string;
    before(async () => {
      requireBundle();
      home = await makeHome();
    });
    after(() => cleanup(home));

    for (const [cmd, env, pattern] of [
      [
        ["server", "start"],
        { NOETL_PORT: "abc" },
        /^noetl: NOETL_PORT "abc" is not valid: expected a port number/,
      ],
      [["server", "start", "--port", "abc"], {}, /^noetl: --port "abc" is not valid/],
      [
        ["server", "start"],
        { NOETL_LOG_FORMAT: "xml" },
        /^noetl: NOETL_LOG_FORMAT "xml" is not valid: expected pretty or json/,
      ],
      [["worker", "start"], { NOETL_WORKER_CONCURRENCY: "many" }, /^noetl: NOETL_WORKER_CONCURRENCY "many"/],
      [["server", "status"], { NOETL_LOG_LEVEL: "loud" }, /^noetl: NOETL_LOG_LEVEL "loud"/],
    ] as const) {
      it(`${cmd.join(" ")} with ${JSON.stringify(env)} exits 2 before spawning anything`, async () => {
        const r = await noetl([...cmd], { home, env: { ...env } });
        assert.equal(r.code, 2);
        assert.match(r.stderr, pattern);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.ok(
          !existsSync(join(home, "noetl_server.pid")) && !existsSync(join(home, "noetl_worker_worker.pid")),
        );
      });
    }
  });
});
