// The one interface every tool implements. A tool gets its configuration already rendered
// (except the keys it lists in `rawKeys`), runs, and returns an outcome: errors are values,
// never exceptions, so a failing tool can never crash the runtime that called it.
import type { SecretRef } from "../engine/secret-ref";

export interface ToolError {
  /** A short class of failure: "exit_code", "timeout", "cancelled", "http", "connection", "exception", "config", ... */
  kind: string;
  message: string;
  code?: string | number;
  retryable?: boolean;
}

export interface ToolOutcome {
  status: "ok" | "error";
  data?: unknown;
  error?: ToolError;
  /** Set by the http tool so policies can test `output.http.status`. */
  http?: { status: number };
  /** Set by the postgres tool so policies can test `output.pg.code` (SQLSTATE). */
  pg?: { code: string };
  /** Set by the secrets tool: `data` is a secret, recorded as this reference (engine/secret-ref.ts). */
  secret?: SecretRef;
}

/** What a tool may ask of the runtime that runs it (local process or worker). */
export interface ToolServices {
  /** Run a sub-playbook (path as written in the tool config) and return its final outcome. */
  runPlaybook(path: string, input: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome>;
  /** Run a task of the playbook's `workbook` by name. */
  runWorkbook(name: string, input: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome>;
  /** Resolve a stored credential by name (a flat record such as {db_host, db_user, ...}). */
  credential(name: string): Promise<Record<string, unknown>>;
}

export interface ToolRunContext {
  /** Aborted on cancellation or timeout; every tool must stop its work when it fires. */
  signal: AbortSignal;
  /** The task's `spec.timeout_seconds`, for a tool that must bound work a signal cannot interrupt. */
  timeoutMs?: number;
  /** The rendered input: the tool's own `input` keys over the step's. */
  input: Record<string, unknown>;
  /** The template context the config was rendered with (workload, step results, ...). */
  vars: Record<string, unknown>;
  /** Environment of the process running the step. */
  env: Record<string, string | undefined>;
  /** Directory of the playbook file (relative paths resolve from here). */
  baseDir: string;
  /** Live output (stdout/stderr of a process), shown with -v. */
  onOutput?: (stream: "stdout" | "stderr", chunk: string) => void;
  services: ToolServices;
}

export interface Tool {
  kind: string;
  /** Config keys the runtime must not render with the template engine (e.g. `code`). */
  rawKeys?: readonly string[];
  run(config: Record<string, unknown>, ctx: ToolRunContext): Promise<ToolOutcome>;
}
