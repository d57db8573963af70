// `npm run release [name…]`: the executables of every target in build.config.ts (or of the named
// ones), an archive of each, and SHA256SUMS, in dist/bin. Only the npm registry is reached.
//
// How: pkg in --sea mode (Node's single executable applications, blob injected with postject).
// pkg's normal mode cannot be used: it needs patched Node binaries downloaded from GitHub. The Node
// binaries that --sea embeds come from npm packages (see release/node-binaries.ts), and so does the
// Node 22 that runs pkg, which needs 22 or newer.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildConfig } from "../build.config.ts";
import { archive, writeChecksums } from "./release/archive.ts";
import { ensureNodeBinary, type SeaTarget } from "./release/node-binaries.ts";
import type { SeaJob } from "./release/sea.ts";

const version = buildConfig.embeddedNode;
const binDir = buildConfig.binDir;

const started = Date.now();
function step(message: string): void {
  console.log(`release [${((Date.now() - started) / 1000).toFixed(0)}s]: ${message}`);
}

function fail(message: string): never {
  console.error(`release: ${message}`);
  process.exit(1);
}

function parseTarget(t: (typeof buildConfig.targets)[number]): SeaTarget {
  const [node, platform, arch] = t.pkgTarget.split("-");
  if (node !== `node${version.split(".")[0]}`) fail(`${t.pkgTarget} does not match embeddedNode ${version}`);
  if (platform !== "linux" && platform !== "macos" && platform !== "win")
    fail(`unknown platform in ${t.pkgTarget}`);
  return { name: t.name, platform, arch: arch!, npmPackage: t.npmPackage };
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

function ensureBundle(): void {
  const inputs = ["src", "build.config.ts", "scripts/build.ts", "package-lock.json"].filter(existsSync);
  const built = existsSync(buildConfig.bundle) ? statSync(buildConfig.bundle).mtimeMs : 0;
  if (Math.max(...inputs.map(newestMtime)) <= built) return;
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/build.ts"], { stdio: "inherit" });
  if (r.status !== 0) fail("the bundle did not build");
}

function requireCommand(cmd: string, why: string): void {
  if (spawnSync(cmd, ["--help"], { stdio: "ignore" }).error)
    fail(`\`${cmd}\` is missing (${why}): apt-get install ${cmd}`);
}

const hostPlatform = { linux: "linux", darwin: "macos", win32: "win" }[process.platform as string];
const all = buildConfig.targets.map(parseTarget);
const only = process.argv.slice(2);
const targets = only.length ? all.filter((t) => only.some((o) => t.name.includes(o))) : all;
if (targets.length === 0) fail(`no target matches ${only.join(", ")}`);
const host = all.find((t) => t.platform === hostPlatform && t.arch === process.arch);
if (!host) fail(`no target runs on ${process.platform}-${process.arch}, so there is no Node 22 to run pkg`);

requireCommand("tar", "archives");
if (targets.some((t) => t.platform === "win")) requireCommand("zip", "the Windows archive");
ensureBundle();
for (const asset of buildConfig.assets) if (!existsSync(asset.from)) fail(`asset ${asset.from} is missing`);

const node22 = ensureNodeBinary(host, version);
for (const t of targets) ensureNodeBinary(t, version);

const seaTarget = (t: SeaTarget) => ({
  nodeRange: `node${version}`,
  platform: t.platform,
  arch: t.arch,
  output: resolve(binDir, t.name),
});
// V8's code cache only loads on the platform that made it, and pkg makes one blob per run: so the
// host target gets its own run with the cache, the others a run without.
const others = targets.filter((t) => t !== host);
const job: SeaJob = {
  entry: resolve(buildConfig.bundle),
  assets: Object.fromEntries(buildConfig.assets.map((a) => [a.to, resolve(a.from)])),
  runs: [
    ...(targets.includes(host) ? [{ useCodeCache: true, targets: [seaTarget(host)] }] : []),
    ...(others.length ? [{ useCodeCache: false, targets: others.map(seaTarget) }] : []),
  ],
};

rmSync(binDir, { recursive: true, force: true });
step(`pkg --sea for ${targets.map((t) => t.name).join(", ")}`);
const sea = spawnSync(node22, ["--import", "tsx", "scripts/release/sea.ts", JSON.stringify(job)], {
  stdio: "inherit",
});
if (sea.status !== 0) fail("pkg --sea failed");

for (const t of targets) if (!existsSync(join(binDir, t.name))) fail(`pkg did not produce ${t.name}`);
step("archives and SHA256SUMS");
const archives = await Promise.all(targets.map((t) => archive(binDir, t.name)));
const files = [...targets.map((t) => t.name), ...archives];
await writeChecksums(binDir, files);
step("done");
for (const f of [...files, "SHA256SUMS"]) {
  console.log(`${(statSync(join(binDir, f)).size / 2 ** 20).toFixed(1).padStart(7)} MiB  ${join(binDir, f)}`);
}
if (targets.some((t) => t.platform === "macos") && process.platform !== "darwin") {
  // Injecting the blob breaks the signature of Node's macOS binary, and Apple's codesign runs only
  // on a Mac (Debian has no ldid).
  console.log("note: re-sign the macOS executables on a Mac before use: codesign --force --sign - FILE");
}
