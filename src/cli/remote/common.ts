// What every remote command shares: the server URL and token from flags and environment (one
// config module), JSON and table output, and the one-line form of an event.
import { createClient, type NoetlClient } from "../../client";
import { NoetlError } from "../../errors";
import type { EventRecord } from "../../store/types";
import { formatMs } from "../output";
import { type ServerAddress, serverUrl } from "../server-url";

export interface RemoteOptions extends ServerAddress {
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
}

export function connect(opts: RemoteOptions): NoetlClient {
  const { url, token } = serverUrl(opts);
  return createClient({ baseUrl: url, token });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns under a header; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

/** An argument that must be present: cac leaves optional positionals undefined. */
export function required(value: unknown, what: string, usage: string): string {
  if (value === undefined || value === "" || value === true)
    throw new NoetlError("USAGE", `${what} is missing; usage: ${usage}`);
  return String(value);
}

/** --version V: a positive integer or "latest"; the global --version flag shares the name. */
export function versionOption(v: unknown): number | "latest" | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) throw new NoetlError("USAGE", "--version needs a value: a version number or latest");
  const s = String(v);
  if (s === "latest") return "latest";
  if (!/^[1-9]\d{0,8}$/.test(s))
    throw new NoetlError("USAGE", `--version must be a positive integer or latest, got "${s}"`);
  return Number(s);
}

/** One line per event: time, type, step, and a short summary of the payload. */
export function eventLine(e: EventRecord): string {
  const time = new Date(e.created_at);
  const at = Number.isNaN(time.getTime()) ? e.created_at : time.toISOString().slice(11, 23);
  const step = e.step
    ? `${e.step}${e.iteration !== undefined && e.iteration !== null ? `[${e.iteration}]` : ""}`
    : "";
  return [at, e.type.padEnd(20), step, clip(summarise(e))].filter(Boolean).join(" ");
}

function summarise(e: EventRecord): string {
  const p = (e.payload ?? {}) as Record<string, any>;
  const attempt = e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : "";
  switch (e.type) {
    case "playbook.initialized":
      return `${p.path ?? ""} workload ${JSON.stringify(p.workload ?? {})}`;
    case "step.enter":
      return p.loop ? `loop over ${p.loop.items?.length ?? "?"} items` : "";
    case "command.claimed":
      return `by ${p.worker_id ?? "?"}${attempt}`;
    case "command.issued":
    case "command.started":
      return attempt.trim();
    case "call.done":
      return `${p.task ?? ""} ok in ${formatMs(Number(p.duration_ms ?? 0))}${attempt}`;
    case "call.error":
      return `${p.task ?? ""} ${p.error?.message ?? "error"}${attempt}`;
    case "command.completed":
    case "command.failed":
    case "step.exit": {
      const r = p.result ?? {};
      return r.error?.message ? `${r.status}: ${r.error.message}` : (r.status ?? "");
    }
    case "workflow.completed":
    case "playbook.completed":
      return `result ${JSON.stringify(p.result ?? null)}`;
    case "workflow.failed":
    case "playbook.failed":
    case "execution.cancelled":
      return typeof p.error === "string" ? p.error : p.reason ? String(p.reason) : JSON.stringify(p);
    default:
      return Object.keys(p).length > 0 ? JSON.stringify({ ...p, run: undefined }) : "";
  }
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}
