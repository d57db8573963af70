// Source patches applied while bundling, for upstream bugs that would otherwise crash NoETL.
// Each patch names the exact text it replaces; if an upgrade changes that text the build fails
// loudly instead of shipping unpatched.
import { readFile } from "node:fs/promises";
import type { Plugin } from "esbuild";

interface Patch {
  /** Matches the module's resolved path. */
  file: RegExp;
  why: string;
  from: string;
  to: string;
}

const PATCHES: Patch[] = [
  {
    // postgres.js 3.4.x: a write queued with setImmediate runs after the connection closed
    // (socket === null) and throws from the immediate, killing the process whenever PostgreSQL
    // terminates connections (restart, pg_terminate_backend). Upstream issues #1066/#1154/#1208.
    // The queries behind the chunk were already failed by `closed()`; dropping the chunk is safe.
    file: /[\\/]postgres[\\/](cjs[\\/])?src[\\/]connection\.js$/,
    why: "postgres.js nextWrite after close",
    from: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)",
    to: "  function nextWrite(fn) {\n    if (socket === null) { chunk = nextWriteTimer = null; return false }\n    const x = socket.write(chunk, fn)",
  },
];

export function sourcePatches(): Plugin {
  const applied = new Set<string>();
  return {
    name: "noetl-source-patches",
    setup(build) {
      for (const patch of PATCHES) {
        build.onLoad({ filter: patch.file }, async (args) => {
          const text = await readFile(args.path, "utf8");
          if (!text.includes(patch.from))
            throw new Error(`patch "${patch.why}" no longer applies to ${args.path}`);
          applied.add(patch.why);
          return { contents: text.replace(patch.from, patch.to), loader: "js" };
        });
      }
      build.onEnd(() => {
        for (const patch of PATCHES)
          if (!applied.has(patch.why)) throw new Error(`patch "${patch.why}" matched no module`);
      });
    },
  };
}
