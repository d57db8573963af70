// Whether an embedded database directory has yet to be created (initdb). Apart from pglite.ts so
// that asking does not load PGlite.
import { existsSync } from "node:fs";
import { join } from "node:path";

export function isFreshDataDir(dataDir: string): boolean {
  return !existsSync(join(dataDir, "PG_VERSION"));
}
