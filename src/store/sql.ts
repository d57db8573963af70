// The little both backends must provide: parameterised queries, scripts, and transactions.
// Every SQL statement of the store goes through `query` with $n parameters — never string
// concatenation of values.
import type { Backend } from "./types";

export interface Sql {
  query<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations only). */
  script(text: string): Promise<void>;
}

export interface Db extends Sql {
  readonly backend: Backend;
  readonly location: string;
  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type Row = Record<string, unknown>;

/**
 * JSON goes in as text and is cast in SQL (`$1::text::jsonb`): postgres.js would otherwise
 * JSON-encode a string parameter a second time when the server says the type is jsonb.
 */
export function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

export function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return new Date(String(value)).toISOString();
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

export function str(value: unknown): string {
  return typeof value === "bigint" ? value.toString() : String(value);
}

export function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : str(value);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** PGlite gives Uint8Array, postgres.js Buffer. */
export function bytes(value: unknown): Buffer {
  return Buffer.from(value as Uint8Array);
}

/** Namespace of our advisory locks (first key of the two-key form); the second key says what. */
export const LOCK_NAMESPACE = 0x4e4f45; // "NOE"
/** Second key of an execution's lock: the orchestrator serialises each execution's events on it. */
export const EXECUTION_LOCK = LOCK_NAMESPACE + 2;
