// Typed errors with a stable code; the entry points map them to exit codes and HTTP statuses.

export type ErrorCode =
  | "USAGE"
  | "BAD_REQUEST"
  | "VALIDATION"
  | "NOT_FOUND"
  | "EXECUTION_FAILED"
  | "TEMPLATE"
  | "CONFIG"
  | "CONFLICT"
  | "UNAUTHORIZED"
  | "TOO_LARGE"
  | "UNAVAILABLE"
  | "INTERRUPTED"
  | "INTERNAL";

const EXIT: Record<ErrorCode, number> = {
  USAGE: 2,
  BAD_REQUEST: 2,
  VALIDATION: 2,
  CONFIG: 2,
  NOT_FOUND: 2,
  TEMPLATE: 1,
  EXECUTION_FAILED: 1,
  CONFLICT: 1,
  UNAUTHORIZED: 1,
  TOO_LARGE: 1,
  UNAVAILABLE: 1,
  INTERRUPTED: 130,
  INTERNAL: 1,
};

export class NoetlError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = "NoetlError";
    this.code = code;
    this.details = details;
  }
  get exitCode(): number {
    return EXIT[this.code];
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
