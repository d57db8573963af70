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
