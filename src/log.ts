// One logger for the long-running processes (server, worker): readable lines on a terminal,
// JSON lines with NOETL_LOG_FORMAT=json, filtered by NOETL_LOG_LEVEL. Writes to stderr, so a
// process's stdout stays for its own output.
import type { LogLevel } from "./config/config";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  component: string,
  opts: { level?: LogLevel; format?: "pretty" | "json" } = {},
  out: { write(s: string): unknown } = process.stderr,
): Logger {
  const min = ORDER[opts.level ?? "info"];
  const json = opts.format === "json";
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    if (json) {
      out.write(`${JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields })}\n`);
      return;
    }
    const extra = fields && Object.keys(fields).length > 0 ? ` ${formatFields(fields)}` : "";
    const tag = level === "info" ? "" : `${level.toUpperCase()}: `;
    out.write(`${new Date().toISOString()} noetl ${component}: ${tag}${msg}${extra}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

function formatFields(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(" ");
}
