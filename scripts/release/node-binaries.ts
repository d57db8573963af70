// Fills pkg's SEA cache with the Node binaries it embeds, taken from npm packages: pkg would
// otherwise download them from nodejs.org, which a build here must never reach.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";

export type SeaTarget = {
  name: string;
  platform: "linux" | "macos" | "win";
  arch: string;
  npmPackage: string;
};

// pkg's own cache layout (lib-es5/sea.js of the pinned version): an archive with "<archive>.ok"
// beside it skips download and checksum; a binary with "<binary>.ok" skips extraction. It is an
// internal detail of pkg, which is why package.json pins pkg's exact version.
const pkgSeaCache = join(homedir(), ".pkg-cache", "sea");

function cacheEntry(target: SeaTarget, version: string) {
  const stem = `node-v${version}-${target.platform === "macos" ? "darwin" : target.platform}-${target.arch}`;
  const win = target.platform === "win";
  return {
    stem,
    archive: join(pkgSeaCache, `${stem}.${win ? "zip" : "tar.gz"}`),
    binary: win ? join(pkgSeaCache, `${stem}.exe`) : join(pkgSeaCache, stem, "bin", "node"),
  };
}

export function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status}`);
  return r.stdout;
}

/** Returns the path of the cached Node binary for `target`, fetching it from npm on first use. */
export function ensureNodeBinary(target: SeaTarget, version: string): string {
  const entry = cacheEntry(target, version);
  const cached = [entry.archive, `${entry.archive}.ok`, entry.binary, `${entry.binary}.ok`].every(existsSync);
  if (cached) return entry.binary;

  console.log(`fetching ${target.npmPackage}@${version} from the npm registry`);
  const work = mkdtempSync(join(tmpdir(), "noetl-node-"));
  try {
    // `npm pack` fetches a package whatever the host's OS and CPU, and checks its integrity.
    const out = run("npm", [
      "pack",
      `${target.npmPackage}@${version}`,
      "--pack-destination",
      work,
      "--silent",
    ]);
    const tgz = join(work, out.trim().split("\n").pop()!);
    const exe = target.platform === "win" ? "node.exe" : "node";
    run("tar", ["-xzf", tgz, "-C", work, `package/bin/${exe}`]);

    // Repack in the layout of the nodejs.org archives that pkg's extractor expects.
    const inArchive = target.platform === "win" ? `${entry.stem}/node.exe` : `${entry.stem}/bin/node`;
    mkdirSync(dirname(join(work, inArchive)), { recursive: true });
    copyFileSync(join(work, "package", "bin", exe), join(work, inArchive));
    chmodSync(join(work, inArchive), 0o755);
    mkdirSync(pkgSeaCache, { recursive: true });
    rmSync(entry.archive, { force: true });
    if (target.platform === "win") run("zip", ["-q", "-1", entry.archive, inArchive], work);
    else run("tar", ["-c", "-I", "gzip -1", "-f", entry.archive, "-C", work, inArchive]);
    writeFileSync(`${entry.archive}.ok`, "");

    mkdirSync(dirname(entry.binary), { recursive: true });
    copyFileSync(join(work, inArchive), entry.binary);
    chmodSync(entry.binary, 0o755);
    writeFileSync(`${entry.binary}.ok`, "");
    return entry.binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
