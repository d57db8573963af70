// Access to the machine's PostgreSQL for tests: a scratch database of the test's own.
// Without the service a test says why it did not run; with CI=true that is a failure.
import postgres from "postgres";

export const PG_ADMIN_URL = process.env.NOETL_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export async function pgAvailable(): Promise<string | undefined> {
  const sql = postgres(PG_ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${PG_ADMIN_URL} is unreachable (${(err as Error).message})`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Skip reason for node:test, or throws under CI where a missing service is a failure. */
export function missingService(reason: string | undefined): string | undefined {
  if (reason && process.env.CI === "true") throw new Error(`${reason}; CI=true requires it`);
  return reason;
}

export async function createScratchDb(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const sql = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.end();
    },
  };
}
