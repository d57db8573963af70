// The one place where environment variables (SPEC §13) and command-line flags become a typed
// Config. One precedence chain: defaults < environment < flags; every value is checked here,
// so a bad one stops the program with a sentence naming where it came from.
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import * as v from "valibot";
import { NoetlError } from "../errors";

export type LogLevel = "debug" | "info" | "warn" | "error";

export type DatabaseConfig =
  | { kind: "pglite"; dataDir: string }
  | { kind: "postgres"; url: string; display: string };

export interface Config {
  home: string;
  dataDir: string;
  database: DatabaseConfig;
  server: { host: string; port: number; enableUi: boolean; maxBodyBytes: number };
  serverUrl: string;
  natsUrl?: string;
  apiToken?: string;
  secretKey?: string;
  worker: { concurrency: number; pool: string; graceMs: number };
  /** How long a claimed command stays leased without a heartbeat. */
  leaseMs: number;
  log: { level: LogLevel; format: "pretty" | "json" };
}

/** Flags that override the environment; keys are the environment variables they stand for. */
export type ConfigFlags = Partial<Record<(typeof VARIABLES)[number], string | number | boolean | undefined>>;

const VARIABLES = [
  "NOETL_HOME",
  "NOETL_DATA_DIR",
  "NOETL_DATABASE_URL",
  "POSTGRES_HOST",
  "POSTGRES_PORT",
  "POSTGRES_DB",
  "POSTGRES_USER",
  "POSTGRES_PASSWORD",
  "NOETL_HOST",
  "NOETL_PORT",
  "NOETL_ENABLE_UI",
  "NOETL_MAX_BODY_BYTES",
  "NOETL_SERVER_URL",
  "NATS_URL",
  "NOETL_API_TOKEN",
  "NOETL_SECRET_KEY",
  "NOETL_WORKER_CONCURRENCY",
  "NOETL_WORKER_POOL_NAME",
  "NOETL_WORKER_GRACE_SECONDS",
  "NOETL_LOG_LEVEL",
  "NOETL_LOG_FORMAT",
  "NOETL_LEASE_SECONDS",
] as const;

const port = v.pipe(v.string(), v.regex(/^\d{1,5}$/), v.transform(Number), v.maxValue(65535));
const positiveInt = v.pipe(v.string(), v.regex(/^[1-9]\d{0,8}$/), v.transform(Number));
const bool = v.pipe(
  v.picklist(["true", "false", "1", "0", "yes", "no", "on", "off"]),
  v.transform((s) => ["true", "1", "yes", "on"].includes(s)),
);
const httpUrl = v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//i));
const text = v.pipe(v.string(), v.minLength(1));

// What each variable must look like, said the way the error sentence ends.
const RULES: Record<
  (typeof VARIABLES)[number],
  { schema: v.GenericSchema<string, unknown>; expect: string }
> = {
  NOETL_HOME: { schema: text, expect: "a directory path" },
  NOETL_DATA_DIR: { schema: text, expect: "a directory path" },
  NOETL_DATABASE_URL: {
    schema: v.pipe(v.string(), v.regex(/^postgres(ql)?:\/\/.+/)),
    expect: "a postgres:// or postgresql:// connection URL",
  },
  POSTGRES_HOST: { schema: text, expect: "a host name" },
  POSTGRES_PORT: { schema: port, expect: "a port number (0-65535)" },
  POSTGRES_DB: { schema: text, expect: "a database name" },
  POSTGRES_USER: { schema: text, expect: "a user name" },
  POSTGRES_PASSWORD: { schema: v.string(), expect: "a password" },
  NOETL_HOST: { schema: v.pipe(v.string(), v.regex(/^[\w.:[\]-]+$/)), expect: "a host name or IP address" },
  NOETL_PORT: { schema: port, expect: "a port number (0-65535)" },
  NOETL_ENABLE_UI: { schema: bool, expect: "true or false" },
  NOETL_MAX_BODY_BYTES: { schema: positiveInt, expect: "a positive number of bytes" },
  NOETL_SERVER_URL: { schema: httpUrl, expect: "an http:// or https:// URL" },
  NATS_URL: { schema: v.pipe(v.string(), v.regex(/^(nats|tls|wss?):\/\/.+/)), expect: "a nats:// URL" },
  NOETL_API_TOKEN: { schema: v.pipe(v.string(), v.minLength(8)), expect: "a token of at least 8 characters" },
  NOETL_SECRET_KEY: {
    schema: v.pipe(v.string(), v.minLength(16)),
    expect: "a key of at least 16 characters",
  },
  NOETL_WORKER_CONCURRENCY: { schema: positiveInt, expect: "a positive integer" },
  NOETL_WORKER_POOL_NAME: { schema: v.pipe(v.string(), v.regex(/^[\w.-]{1,64}$/)), expect: "a pool name" },
  NOETL_WORKER_GRACE_SECONDS: {
    schema: v.pipe(v.string(), v.regex(/^\d{1,6}$/), v.transform(Number)),
    expect: "a number of seconds (0 or more)",
  },
  NOETL_LOG_LEVEL: {
    schema: v.picklist(["debug", "info", "warn", "error"]),
    expect: "debug, info, warn or error",
  },
  NOETL_LOG_FORMAT: { schema: v.picklist(["pretty", "json"]), expect: "pretty or json" },
  NOETL_LEASE_SECONDS: { schema: positiveInt, expect: "a positive number of seconds" },
};

const DEFAULTS: Partial<Record<(typeof VARIABLES)[number], string>> = {
  NOETL_HOST: "0.0.0.0",
  NOETL_PORT: "8082",
  NOETL_ENABLE_UI: "true",
  NOETL_MAX_BODY_BYTES: String(5 * 1024 * 1024),
  NOETL_SERVER_URL: "http://localhost:8082",
  NOETL_WORKER_CONCURRENCY: "8",
  NOETL_WORKER_POOL_NAME: "default",
  NOETL_WORKER_GRACE_SECONDS: "30",
  NOETL_LOG_LEVEL: "info",
  NOETL_LOG_FORMAT: "pretty",
  NOETL_LEASE_SECONDS: "30",
};

/** Flag names for error messages, so `--port abc` is blamed on the flag, not NOETL_PORT. */
export const FLAG_NAMES: Partial<Record<(typeof VARIABLES)[number], string>> = {
  NOETL_HOST: "--host",
  NOETL_PORT: "--port",
  NOETL_SERVER_URL: "--server-url",
  NOETL_API_TOKEN: "--token",
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: ConfigFlags = {}): Config {
  const values: Record<string, unknown> = {};
  for (const name of VARIABLES) {
    const flag = flags[name];
    const fromFlag = flag !== undefined && flag !== false;
    // An empty variable counts as unset: docker-compose and k8s often leave them blank.
    const raw = fromFlag ? String(flag) : env[name] === "" ? undefined : env[name];
    const value = raw ?? DEFAULTS[name];
    if (value === undefined) continue;
    const rule = RULES[name];
    const parsed = v.safeParse(rule.schema, value);
    if (!parsed.success) {
      const where = fromFlag ? (FLAG_NAMES[name] ?? name) : raw === undefined ? `default ${name}` : name;
      const shown =
        name === "NOETL_API_TOKEN" || name.endsWith("PASSWORD") || name.endsWith("KEY") ? "" : ` "${value}"`;
      throw new NoetlError("CONFIG", `${where}${shown} is not valid: expected ${rule.expect}`, {
        variable: name,
      });
    }
    values[name] = parsed.output;
  }
  return assemble(values);
}

function assemble(x: Record<string, any>): Config {
  const home = absolute(x.NOETL_HOME ?? join(homedir(), ".noetl"));
  const dataDir = absolute(x.NOETL_DATA_DIR ?? join(home, "data"));
  return {
    home,
    dataDir,
    database: database(x, dataDir),
    server: {
      host: x.NOETL_HOST,
      port: x.NOETL_PORT,
      enableUi: x.NOETL_ENABLE_UI,
      maxBodyBytes: x.NOETL_MAX_BODY_BYTES,
    },
    serverUrl: x.NOETL_SERVER_URL,
    natsUrl: x.NATS_URL,
    apiToken: x.NOETL_API_TOKEN,
    secretKey: x.NOETL_SECRET_KEY,
    worker: {
      concurrency: x.NOETL_WORKER_CONCURRENCY,
      pool: x.NOETL_WORKER_POOL_NAME,
      graceMs: x.NOETL_WORKER_GRACE_SECONDS * 1000,
    },
    log: { level: x.NOETL_LOG_LEVEL, format: x.NOETL_LOG_FORMAT },
    leaseMs: x.NOETL_LEASE_SECONDS * 1000,
  };
}

// NOETL_DATABASE_URL wins over POSTGRES_*: one explicit URL is less ambiguous than five parts.
function database(x: Record<string, any>, dataDir: string): DatabaseConfig {
  if (x.NOETL_DATABASE_URL) {
    const url = x.NOETL_DATABASE_URL as string;
    return { kind: "postgres", url, display: redactUrl(url) };
  }
  if (x.POSTGRES_HOST) {
    const u = new URL("postgres://localhost");
    u.hostname = x.POSTGRES_HOST;
    u.port = String(x.POSTGRES_PORT ?? 5432);
    u.pathname = `/${encodeURIComponent(x.POSTGRES_DB ?? "noetl")}`;
    u.username = encodeURIComponent(x.POSTGRES_USER ?? "noetl");
    if (x.POSTGRES_PASSWORD) u.password = encodeURIComponent(x.POSTGRES_PASSWORD);
    return { kind: "postgres", url: u.toString(), display: redactUrl(u.toString()) };
  }
  return { kind: "pglite", dataDir };
}

/** The URL without its password, for logs and status output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable database URL)";
  }
}

function absolute(p: string): string {
  const expanded = p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p;
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

/** True when the host accepts connections only from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}
