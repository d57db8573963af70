// Memory levers for the embedded database, which dominates the server's resident size.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

/** A full collection, when the runtime allows one (Node; not Deno). */
export function collectGarbage(): void {
  try {
    if (!gc) {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    }
    gc();
  } catch {}
}

/**
 * PGlite's 9 MB of WASM costs ~45 MB more when V8 also optimises it with TurboFan; Liftoff's
 * baseline code is enough for an embedded database. NOETL_PGLITE_OPTIMIZE=true keeps TurboFan.
 */
export function preferSmallWasmCode(): void {
  if (process.env.NOETL_PGLITE_OPTIMIZE === "true") return;
  try {
    setFlagsFromString("--liftoff-only");
  } catch {}
}
