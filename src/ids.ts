import { randomUUID } from "node:crypto";

/** Execution ids for both runtimes. Strings, not 64-bit numbers: JavaScript clients lose precision on large integers. */
export function newExecutionId(): string {
  return randomUUID().replaceAll("-", "").slice(0, 20);
}
