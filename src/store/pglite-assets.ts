// Finds PGlite's wasm modules and data bundle wherever this program runs: inside a single
// executable (node:sea assets, keyed by build.config.ts `assets[].to`), beside the bundle
// (dist/), or in node_modules when running from source.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NoetlError } from "../errors";

export const PGLITE_ASSETS = ["pglite.wasm", "initdb.wasm", "pglite.data"] as const;
type AssetName = (typeof PGLITE_ASSETS)[number];

export interface PgliteAssets {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
  fsBundle: Blob;
}

export async function loadPgliteAssets(): Promise<PgliteAssets> {
  const read = (await seaReader()) ?? (await fileReader());
  const [pglite, initdb, data] = await Promise.all(PGLITE_ASSETS.map(read));
  const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
    wasm.compile(pglite!),
    wasm.compile(initdb!),
  ]);
  return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([data as Uint8Array<ArrayBuffer>]) };
}

// The tsconfig has no DOM lib, and @types/node declares WebAssembly only as types.
const wasm = (
  globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<WebAssembly.Module> } }
).WebAssembly;

type Reader = (name: AssetName) => Promise<Uint8Array>;

async function seaReader(): Promise<Reader | undefined> {
  try {
    const sea = (await import("node:sea")) as { isSea(): boolean; getAsset(key: string): ArrayBuffer };
    if (!sea.isSea()) return undefined;
    return async (name) => new Uint8Array(sea.getAsset(name));
  } catch {
    return undefined; // Node < 20.12 or Deno: no SEA there
  }
}

async function fileReader(): Promise<Reader> {
  const dirs = candidateDirs();
  return async (name) => {
    for (const dir of dirs) {
      try {
        return await readFile(join(dir, name));
      } catch {}
    }
    throw new NoetlError(
      "UNAVAILABLE",
      `the embedded database needs ${name}, which was not found in ${dirs.join(" or ")}; rebuild with \`npm run build\``,
    );
  };
}

function candidateDirs(): string[] {
  const here = fileURLToPath(import.meta.url);
  const dirs = [dirname(here)];
  try {
    dirs.push(dirname(createRequire(here).resolve("@electric-sql/pglite")));
  } catch {}
  return dirs;
}
