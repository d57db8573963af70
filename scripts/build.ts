// Bundles src/ into one CommonJS file (SEA cannot run an ESM main).
import { readFileSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { buildConfig } from "../build.config.ts";
import { sourcePatches } from "./patches.ts";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

await mkdir("dist", { recursive: true });
const result = await build({
  entryPoints: [buildConfig.entry],
  outfile: buildConfig.bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: buildConfig.nodeTarget,
  minify: process.env.NOETL_NO_MINIFY !== "1",
  sourcemap: false,
  legalComments: "none",
  // esbuild rewrites regex literals using these into `new RegExp(…)` for node20 (its table wants
  // a newer Unicode version), which tree-shaking cannot drop: valibot's unused emoji pattern then
  // compiled at every start and pulled ICU's property tables into memory. Node 20 has both.
  supported: { "regexp-unicode-property-escapes": true, "regexp-lookbehind-assertions": true },
  metafile: true,
  banner: {
    // Libraries that read import.meta.url (PGlite) need it defined in a CJS bundle.
    js: "#!/usr/bin/env node\nvar __import_meta_url = require('url').pathToFileURL(__filename).href;",
  },
  define: {
    "import.meta.url": "__import_meta_url",
    __NOETL_VERSION__: JSON.stringify(pkg.version),
  },
  logLevel: "warning",
  plugins: [sourcePatches()],
});
// Assets (PGlite's wasm and data) beside the bundle, where `node dist/noetl.cjs` finds them.
for (const asset of buildConfig.assets)
  await copyFile(asset.from, join(dirname(buildConfig.bundle), asset.to));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`built ${buildConfig.bundle} (${(bytes / 1024).toFixed(0)} KiB)`);
