// Runs pkg's --sea step. pkg needs Node >= 22 while the machine may have 20, so release.ts starts
// this file with the Node 22 it took from npm. It calls pkg's module API rather than its CLI
// because the CLI, for a plain .js entry, passes no sea-config: no assets, no code cache.
import { createRequire } from "node:module";
import type sea from "@yao-pkg/pkg/lib-es5/sea.js";

export type SeaJob = {
  entry: string;
  /** sea-config `assets`: key read at run time with node:sea getAsset, value the file to embed. */
  assets: Record<string, string>;
  runs: {
    useCodeCache: boolean;
    targets: { nodeRange: string; platform: "linux" | "macos" | "win"; arch: string; output: string }[];
  }[];
};

const require = createRequire(import.meta.url);
const seaBuild = (require("@yao-pkg/pkg/lib-es5/sea.js") as { default: typeof sea }).default;
const job = JSON.parse(process.argv[2] ?? "") as SeaJob;

for (const { useCodeCache, targets } of job.runs) {
  await seaBuild(job.entry, {
    targets,
    // Ad-hoc signing needs codesign (macOS only); elsewhere the macOS executables stay unsigned.
    signature: process.platform === "darwin",
    seaConfig: { disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache, assets: job.assets },
  });
}
