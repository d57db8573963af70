// `npm run test:release`: runs the executables in dist/bin that a Linux x64 machine can run:
// linux-x64 natively, linux-arm64 under qemu-aarch64-static, win-x64 under Wine. macOS ones
// cannot run here; they are only checked against SHA256SUMS.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { buildConfig } from "../build.config.ts";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
const binDir = resolve(buildConfig.binDir);
const hello = resolve("../shared/conformance/cases/01-hello.yaml");
// Each executable runs from a directory of its own, away from dist/ and node_modules/, so that
// PGlite can only find its wasm and data embedded in the executable.
const work = mkdtempSync(join(tmpdir(), "noetl-test-release-"));
after(() => rmSync(work, { recursive: true, force: true }));

const qemuSysroot = "/usr/aarch64-linux-gnu";
const wine = ["/usr/lib/wine/wine64", "/usr/bin/wine64", "/usr/bin/wine"].find(existsSync);
const winePrefix = join(homedir(), ".cache", "noetl-release", "wine");

type Runner = {
  target: string;
  /** Why this runner cannot run here: a failure unless `optional`, then a skip. */
  missing?: string;
  optional?: boolean;
  command: (exe: string) => [string, string[]];
  /** How the executable spells a path of this machine. */
  path: (p: string) => string;
  env?: Record<string, string>;
};

const runners: Runner[] = [
  {
    target: "noetl-linux-x64",
    missing: process.platform === "linux" && process.arch === "x64" ? undefined : "this is not linux-x64",
    command: (exe) => [exe, []],
    path: (p) => p,
  },
  {
    target: "noetl-linux-arm64",
    missing:
      spawnSync("qemu-aarch64-static", ["--version"]).error ||
      !existsSync(`${qemuSysroot}/lib/ld-linux-aarch64.so.1`)
        ? "qemu-aarch64-static or the arm64 C libraries are missing: " +
          "apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross"
        : undefined,
    command: (exe) => ["qemu-aarch64-static", ["-L", qemuSysroot, exe]],
    path: (p) => p,
  },
  {
    target: "noetl-win-x64.exe",
    missing: wine ? undefined : "Wine is not installed: apt-get install --no-install-recommends wine64",
    optional: true,
    command: (exe) => [wine!, [exe]],
    path: (p) => `Z:${p.replaceAll("/", "\\")}`,
    // Wine's default, Windows 7, is older than Node 22 accepts.
    env: { WINEPREFIX: winePrefix, WINEDEBUG: "-all" },
  },
];

let runs = 0;
/** Runs the executable and returns its stdout; fails on a non-zero exit. */
function exec(runner: Runner, exe: string, args: string[], env: Record<string, string> = {}): string {
  const [cmd, pre] = runner.command(exe);
  // Output goes to files, not pipes: Node under Wine fails with EBADF on a pipe as stdout/stderr.
  const out = join(work, `out-${++runs}`);
  const err = `${out}.err`;
  const fds = [openSync(out, "w"), openSync(err, "w")];
  const r = spawnSync(cmd, [...pre, ...args], {
    stdio: ["ignore", ...fds],
    timeout: 180_000,
    env: { ...process.env, ...runner.env, NO_COLOR: "1", ...env },
  });
  fds.forEach(closeSync);
  if (r.error) throw r.error;
  const stdout = readFileSync(out, "utf8");
  const all = `${stdout}${readFileSync(err, "utf8")}`;
  assert.equal(r.status, 0, `${runner.target} ${args.join(" ")} exited with ${r.status}:\n${all}`);
  return stdout;
}

test("SHA256SUMS lists every executable and archive, and matches them", () => {
  const sums = join(binDir, "SHA256SUMS");
  assert.ok(existsSync(sums), `${sums} is missing: run \`npm run release\` first`);
  const listed = new Map(
    readFileSync(sums, "utf8")
      .trim()
      .split("\n")
      .map((line) => [line.slice(66), line.slice(0, 64)] as const),
  );
  for (const { name } of buildConfig.targets) {
    const archive = name.endsWith(".exe") ? `${name.slice(0, -4)}.zip` : `${name}.tar.gz`;
    for (const file of [name, archive]) {
      const digest = createHash("sha256")
        .update(readFileSync(join(binDir, file)))
        .digest("hex");
      assert.equal(listed.get(file), digest, `${file}: checksum`);
    }
  }
});

for (const runner of runners) {
  describe(runner.target, { skip: runner.optional && runner.missing }, () => {
    let exe = "";
    test("is there and can run here", () => {
      assert.ok(!runner.missing, runner.missing);
      const built = join(binDir, runner.target);
      assert.ok(existsSync(built), `${built} is missing: run \`npm run release\` first`);
      exe = join(work, runner.target);
      copyFileSync(built, exe);
      if (runner.env?.WINEPREFIX) {
        mkdirSync(runner.env.WINEPREFIX, { recursive: true });
        exec(runner, "reg", ["add", "HKCU\\Software\\Wine", "/v", "Version", "/d", "win10", "/f"]);
      }
    });

    test("--version", (t) => {
      if (!exe) return t.skip("cannot run");
      assert.match(exec(runner, exe, ["--version"]), new RegExp(`noetl/${version.replaceAll(".", "\\.")}`));
    });

    test("validate 01-hello.yaml", (t) => {
      if (!exe) return t.skip("cannot run");
      if (!existsSync(hello)) return t.skip(`${hello} is missing (../shared is not beside the repo)`);
      assert.match(exec(runner, exe, ["validate", runner.path(hello)]), /: ok/);
    });

    test("db init on the embedded PGlite (its assets are inside the executable)", (t) => {
      if (!exe) return t.skip("cannot run");
      const home = join(work, `${runner.target}-home`);
      const out = exec(runner, exe, ["db", "init"], { NOETL_HOME: runner.path(home) });
      assert.match(out, /pglite/);
    });
  });
}
