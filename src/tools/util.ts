// Small helpers shared by the tools: building outcomes and reading loosely-typed config.
import type { ToolError, ToolOutcome } from "./types.ts";

export function ok(data: unknown): ToolOutcome {
  return { status: "ok", data };
}

export function fail(
  kind: string,
  message: string,
  extra: Partial<ToolError> = {},
  data?: unknown,
): ToolOutcome {
  const outcome: ToolOutcome = { status: "error", error: { kind, message, ...extra } };
  if (data !== undefined) outcome.data = data;
  return outcome;
}

/** A timeout imposed by the runtime arrives as an abort whose reason is a TimeoutError. */
export function abortOutcome(signal: AbortSignal, what: string): ToolOutcome {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === "TimeoutError"
    ? fail("timeout", `${what} timed out`, { retryable: true })
    : fail("cancelled", `${what} was cancelled`);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Seconds from config (number or numeric string) as milliseconds; undefined when absent or invalid. */
export function secondsToMs(v: unknown): number | undefined {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : undefined;
}

/** Environment values must be strings; objects are passed as JSON so nothing turns into "[object Object]". */
export function envString(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

export function firstLines(text: string, n = 5, maxChars = 500): string {
  const lines = text.trim().split("\n").slice(0, n).join("\n");
  return lines.length > maxChars ? `${lines.slice(0, maxChars)}…` : lines;
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
