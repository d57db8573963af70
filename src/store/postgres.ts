// The PostgreSQL backend through postgres.js. Values always travel as parameters.
import postgres from "postgres";
import { errorMessage, NoetlError } from "../errors";
import type { Db, Sql } from "./sql";

type Client = postgres.Sql | postgres.TransactionSql;

function wrap(q: Client): Sql {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      // Every statement of the store is fixed text with $n parameters, so each is prepared once
      // per connection and planned once: that halves the cost of the orchestrator's statements.
      return (await q.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      })) as unknown as T[];
    },
    async script(text: string) {
      await q.unsafe(text);
    },
  };
}

export async function openPostgres(url: string, display: string): Promise<Db> {
  const sql = postgres(url, {
    max: 10,
    onnotice: () => {}, // "schema already exists, skipping" is not news
    connect_timeout: 10,
    // postgres.js waits up to 20 s between reconnects by default, counting failures for the whole
    // pool: after 3 s of a restarting database, queries then hung 14-19 s more. At most a second
    // here, so work resumes as soon as the database is back (test/chaos/pg-outage.test.ts).
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2),
    connection: { application_name: "noetl" },
  });
  try {
    await sql`SELECT 1`;
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw new NoetlError("UNAVAILABLE", `cannot connect to PostgreSQL at ${display}: ${errorMessage(err)}`);
  }
  const base = wrap(sql);
  return {
    backend: "postgres",
    location: display,
    query: base.query,
    script: base.script,
    transaction: (fn) => sql.begin((tx) => fn(wrap(tx))) as Promise<never>,
    close: () => sql.end({ timeout: 5 }),
  };
}
