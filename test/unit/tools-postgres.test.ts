import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, describe, test } from "node:test";
import { postgresTool } from "../../src/tools/postgres.ts";
import { closeToolResources } from "../../src/tools/registry.ts";
import type { ToolRunContext } from "../../src/tools/types.ts";
import { toolContext } from "../support/tool-context.ts";

const DSN = process.env.NOETL_TEST_PG ?? "postgres://127.0.0.1:5432/test";
const { hostname, port } = new URL(DSN);

function reachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(Number(port || 5432), hostname);
    s.setTimeout(2000);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.on("connect", () => done(true))
      .on("error", () => done(false))
      .on("timeout", () => done(false));
  });
}

const up = await reachable();
const why = `PostgreSQL is not reachable at ${hostname}:${port || 5432} (set NOETL_TEST_PG to another server)`;
if (!up) console.error(`tools-postgres: ${why}`);
// In CI an unreachable database is a failure, never a silent skip.
const skip = !up && process.env.CI !== "true" ? why : false;

function ctx(over: Partial<ToolRunContext> = {}): ToolRunContext {
  const services = {
    runPlaybook: () => Promise.reject(new Error("unused")),
    runWorkbook: () => Promise.reject(new Error("unused")),
    credential: async (name: string) => {
      if (name !== "pg_test") throw new Error(`no credential ${name}`);
      return { db_conn_string: DSN };
    },
  };
  return toolContext({ services, ...over });
}

after(() => closeToolResources());

describe("postgres tool", { skip }, () => {
  test("the server is reachable", () => assert.ok(up, why));

  test("a list of statements runs on one connection (temp table visible to the next)", async () => {
    const out = await postgresTool.run(
      {
        auth: { db_conn_string: DSN },
        command: [
          "CREATE TEMP TABLE t_tools (id int, name text)",
          "INSERT INTO t_tools VALUES (1, 'a'), (2, 'b'), (3, 'c')",
          "SELECT count(*) AS n, string_agg(name, ',' ORDER BY id) AS names FROM t_tools",
        ],
      },
      ctx(),
    );
    assert.equal(out.status, "ok", JSON.stringify(out.error));
    assert.deepEqual(out.data, {
      rows: [{ n: 3, names: "a,b,c" }],
      row_count: 1,
      columns: ["n", "names"],
      statement_count: 3,
    });
  });

  test("one string with several statements runs as a multi-statement script", async () => {
    const out = await postgresTool.run(
      {
        auth: "pg_test",
        query:
          "CREATE TEMP TABLE t_multi (v int); INSERT INTO t_multi VALUES (1), (2); SELECT sum(v)::int AS s FROM t_multi;",
      },
      ctx(),
    );
    assert.equal(out.status, "ok", JSON.stringify(out.error));
    assert.deepEqual(out.data, { rows: [{ s: 3 }], row_count: 1, columns: ["s"], statement_count: 3 });
  });

  test("params bind to a single statement; values come back JSON-safe", async () => {
    const out = await postgresTool.run(
      {
        connection: DSN,
        command:
          "SELECT $1::int + 1 AS n, $2::text AS t, 9007199254740993::int8 AS big, 5::int8 AS small, " +
          "'2020-01-02T03:04:05Z'::timestamptz AS ts, '{\"a\": [1]}'::jsonb AS j",
        params: [41, "x"],
      },
      ctx(),
    );
    assert.equal(out.status, "ok", JSON.stringify(out.error));
    assert.deepEqual((out.data as { rows: unknown[] }).rows, [
      { n: 42, t: "x", big: "9007199254740993", small: 5, ts: "2020-01-02T03:04:05.000Z", j: { a: [1] } },
    ]);
  });

  test("an INSERT reports its affected row count", async () => {
    const out = await postgresTool.run(
      {
        connection: DSN,
        command: ["CREATE TEMP TABLE t_cnt (v int)", "INSERT INTO t_cnt SELECT generate_series(1, 4)"],
      },
      ctx(),
    );
    assert.equal((out.data as { row_count: number }).row_count, 4);
  });

  test("a syntax error is a postgres error with SQLSTATE 42601 and the failing statement", async () => {
    const out = await postgresTool.run({ connection: DSN, command: ["SELECT 1", "SELEC 2"] }, ctx());
    assert.equal(out.status, "error");
    assert.equal(out.error?.kind, "postgres");
    assert.equal(out.error?.code, "42601");
    assert.deepEqual(out.pg, { code: "42601" });
    assert.match(out.error?.message ?? "", /statement 2 of 2.*SELEC/);
    const multi = await postgresTool.run({ connection: DSN, command: "SELECT 1; SELECT 2; SELEC 3" }, ctx());
    assert.match(multi.error?.message ?? "", /statement 3 of 3/);
  });

  test("the pool is reused: sequential steps get the same backend", async () => {
    const pid = async () => {
      const out = await postgresTool.run(
        { connection: DSN, command: "SELECT pg_backend_pid() AS pid" },
        ctx(),
      );
      return (out.data as { rows: { pid: number }[] }).rows[0]!.pid;
    };
    assert.equal(await pid(), await pid());
  });

  test("abort cancels a running query", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const started = Date.now();
    const out = await postgresTool.run(
      { connection: DSN, command: "SELECT pg_sleep(10)" },
      ctx({ signal: ac.signal }),
    );
    assert.equal(out.error?.kind, "cancelled");
    assert.ok(Date.now() - started < 3000);
  });

  test("an unreachable server is a retryable connection error naming host:port, not the password", async () => {
    const out = await postgresTool.run(
      {
        auth: { db_host: "127.0.0.1", db_port: 1, db_user: "u", db_password: "s3cret-pw", db_name: "x" },
        command: "SELECT 1",
      },
      ctx(),
    );
    assert.equal(out.error?.kind, "connection");
    assert.equal(out.error?.retryable, true);
    assert.match(out.error?.message ?? "", /127\.0\.0\.1:1/);
    assert.doesNotMatch(JSON.stringify(out), /s3cret-pw/);
  });

  test("config mistakes are config errors", async () => {
    assert.equal((await postgresTool.run({ command: "SELECT 1" }, ctx())).error?.kind, "config");
    assert.equal((await postgresTool.run({ connection: DSN }, ctx())).error?.kind, "config");
    const both = await postgresTool.run(
      { connection: DSN, command: ["SELECT 1", "SELECT 2"], params: [1] },
      ctx(),
    );
    assert.equal(both.error?.kind, "config");
    assert.equal(
      (await postgresTool.run({ auth: "nope", command: "SELECT 1" }, ctx())).error?.kind,
      "not_found",
    );
  });
});
