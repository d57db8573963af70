// `postgres`: runs a step's statements in order on one reserved connection from a pool that
// is shared per connection target for the life of the process.
import type { ReservedSql, Sql } from "postgres";
import { int8Type, plain, statementStarts } from "./pg-sql.ts";
import type { Tool, ToolOutcome, ToolRunContext } from "./types.ts";
import { abortOutcome, errText, fail, isRecord, ok, str } from "./util.ts";

/** `query` is an alias of `command`; `connection`/`dsn` give a connection string directly. */
export const postgresKeys = ["auth", "command", "query", "params", "connection", "dsn"] as const;

const POOL_MAX = 5;
// Keyed by the resolved connection string; it holds the password, so it never leaves this map.
const pools = new Map<string, Sql>();

export async function closePostgres(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((sql) => sql.end({ timeout: 2 })));
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

function fromRecord(r: Record<string, unknown>): string | undefined {
  const direct = str(r.db_conn_string) ?? str(r.connection_string) ?? str(r.dsn) ?? str(r.connection);
  if (direct) return normalise(direct);
  const host = String(r.db_host ?? r.host ?? "localhost");
  const port = String(r.db_port ?? r.port ?? 5432);
  const user = r.db_user ?? r.user ?? r.username;
  const password = r.db_password ?? r.password;
  const db = String(r.db_name ?? r.database ?? r.dbname ?? "");
  const cred =
    user === undefined || user === null || user === ""
      ? ""
      : `${encodeURIComponent(String(user))}${password ? `:${encodeURIComponent(String(password))}` : ""}@`;
  return `postgres://${cred}${host.includes(":") ? `[${host}]` : host}:${port}/${encodeURIComponent(db)}`;
}

/** Accepts URLs and libpq key=value strings ("host=h dbname=d user=u"). */
function normalise(conn: string): string | undefined {
  if (/^postgres(ql)?:\/\//i.test(conn)) return conn;
  const pairs = [...conn.matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)];
  if (pairs.length === 0) return undefined;
  const rec: Record<string, string> = {};
  for (const [, k, v] of pairs) rec[k!] = v!.startsWith("'") ? v!.slice(1, -1).replace(/\\(.)/g, "$1") : v!;
  return fromRecord(rec);
}

async function resolveConnection(config: Record<string, unknown>, ctx: ToolRunContext): Promise<string> {
  const direct = str(config.connection) ?? str(config.dsn);
  if (direct)
    return normalise(direct) ?? throwConfig("`connection` is not a postgres URL or key=value string");
  const auth = config.auth;
  if (typeof auth === "string" && auth !== "") {
    if (auth.includes("://") || auth.includes("="))
      return normalise(auth) ?? throwConfig("unreadable `auth`");
    const rec = await ctx.services.credential(auth);
    return fromRecord(rec) ?? throwConfig(`credential ${auth} has no connection fields`);
  }
  if (isRecord(auth)) return fromRecord(auth) ?? throwConfig("unreadable `auth`");
  throw new ConfigError(
    "postgres tool needs `auth` (a credential name, or {db_host, db_user, ...}, or {db_conn_string})",
  );
}

class ConfigError extends Error {}
function throwConfig(message: string): never {
  throw new ConfigError(`postgres tool: ${message}`);
}

/** host:port/db, for messages: never the user or password. */
function target(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "the configured server";
  }
}

async function pool(url: string): Promise<Sql> {
  let sql = pools.get(url);
  if (!sql) {
    const { default: postgres } = await import("postgres");
    sql = postgres(url, {
      max: POOL_MAX,
      idle_timeout: 60,
      connect_timeout: 10,
      onnotice: () => {},
      types: { int8: int8Type },
      connection: { application_name: "noetl" },
    }) as unknown as Sql;
    pools.set(url, sql);
  }
  return sql;
}

export const postgresTool: Tool = {
  kind: "postgres",
  async run(config, ctx) {
    const raw = config.command ?? config.query;
    const statements = (Array.isArray(raw) ? raw : [raw]).filter(
      (s): s is string => typeof s === "string" && s.trim() !== "",
    );
    if (statements.length === 0)
      return fail("config", "postgres tool needs `command` (or `query`): SQL text or a list of statements");
    const params = config.params ?? undefined;
    if (params !== undefined && params !== null && !Array.isArray(params))
      return fail("config", "postgres `params` must be a list");
    if (Array.isArray(params) && statements.length > 1)
      return fail("config", "postgres `params` needs a single statement, not a list");
    let url: string;
    try {
      url = await resolveConnection(config, ctx);
    } catch (err) {
      return err instanceof ConfigError ? fail("config", err.message) : fail("not_found", errText(err));
    }
    if (ctx.signal.aborted) return abortOutcome(ctx.signal, "postgres query");
    return execute(await pool(url), url, statements, (params as unknown[] | null) ?? undefined, ctx.signal);
  },
};

async function execute(
  sql: Sql,
  url: string,
  statements: string[],
  params: unknown[] | undefined,
  signal: AbortSignal,
): Promise<ToolOutcome> {
  let current: { cancel(): void } | undefined;
  let onAbort = () => {};
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => {
      current?.cancel();
      resolve("aborted");
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  let conn: ReservedSql | undefined;
  let index = 0;
  try {
    const reserving = sql.reserve();
    const got = await Promise.race([reserving, aborted]);
    if (got === "aborted") {
      reserving.then(
        (c) => c.release(),
        () => {},
      );
      return abortOutcome(signal, "postgres query");
    }
    conn = got;
    let last: unknown;
    for (; index < statements.length; index++) {
      const q = conn.unsafe(statements[index]!, params as never[] | undefined);
      current = q;
      last = await q;
      if (signal.aborted) return abortOutcome(signal, "postgres query");
    }
    return ok(shape(last, statements));
  } catch (err) {
    if (signal.aborted) return abortOutcome(signal, "postgres query");
    return pgError(err, url, statements, index);
  } finally {
    signal.removeEventListener("abort", onAbort);
    conn?.release();
  }
}

type Result = Record<string, unknown>[] & {
  count?: number | null;
  command?: string;
  columns?: { name: string }[];
};

function shape(res: unknown, statements: string[]) {
  let r = res as Result;
  // A multi-statement string (simple protocol) resolves to one Result per statement that returned.
  if (r.command === undefined && r.length > 0 && Array.isArray(r[0]))
    r = r[r.length - 1] as unknown as Result;
  const count =
    statements.length > 1 ? statements.length : Math.max(1, statementStarts(statements[0]!).length);
  return {
    rows: r.map((row) => plain(row)),
    row_count: typeof r.count === "number" ? r.count : r.length,
    columns: (r.columns ?? []).map((c) => c.name),
    statement_count: count,
  };
}

function pgError(err: unknown, url: string, statements: string[], index: number): ToolOutcome {
  const e = err as { code?: string; message?: string; position?: string; detail?: string; hint?: string };
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code && CONNECTION_CODES.has(code)) {
    return fail("connection", `cannot connect to postgres at ${target(url)} (${code})`, {
      code,
      retryable: true,
    });
  }
  if (!code || !/^[0-9A-Z]{5}$/.test(code)) return fail("postgres", `postgres query failed: ${errText(err)}`);
  let where = statements.length > 1 ? ` in statement ${index + 1} of ${statements.length}` : "";
  const starts = statements.length === 1 ? statementStarts(statements[0]!) : [];
  if (starts.length > 1 && e.position) {
    const pos = Number(e.position) - 1;
    const at = starts.filter((s) => s <= pos).length;
    where = ` in statement ${at} of ${starts.length}`;
  }
  const extra = [e.detail, e.hint && `hint: ${e.hint}`].filter(Boolean).join("; ");
  const outcome = fail(
    "postgres",
    `postgres error ${code}${where}: ${e.message}${extra ? ` (${extra})` : ""}`,
    {
      code,
      retryable: /^(08|40|53|57P0[1-3])/.test(code),
    },
  );
  outcome.pg = { code };
  return outcome;
}
