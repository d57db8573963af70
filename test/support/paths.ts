// Locations the tests share: the repo, the built CLI, the shared conformance cases.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const cliPath = join(repoRoot, "dist", "noetl.cjs");
export const sharedDir = resolve(process.env.NOETL_SHARED_DIR ?? join(repoRoot, "..", "shared"));
export const conformanceDir = join(sharedDir, "conformance");

export function requireConformance(): void {
  if (!existsSync(conformanceDir)) {
    throw new Error(
      `conformance cases not found at ${conformanceDir}; set NOETL_SHARED_DIR to the folder holding conformance/`,
    );
  }
}
