// The same start/status/stop of a server and a worker, with the program run under Deno
// (`deno run -A dist/noetl.cjs`) and as the single executable: `start` must respawn itself
// with the right interpreter and arguments in each case.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cliPath } from "../support/paths";
import {
  alive,
  cleanup,
  denoPath,
  exePath,
  exeSkipReason,
  freePort,
  logLines,
  makeHome,
  noetl,
  type Runner,
  readPid,
  requireBundle,
} from "./helpers";

function denoSkipReason(): string | undefined {
  if (!existsSync(denoPath)) return `${denoPath} is missing (npm ci installs the deno package)`;
  const v = spawnSync(denoPath, ["--version"], { encoding: "utf8", timeout: 30_000 });
  return v.status === 0 ? undefined : `deno does not run here: ${v.stderr || v.error?.message}`;
}

async function roundTrip(runner: Runner, expectedCommand: string[]): Promise<void> {
  requireBundle();
  const home = await makeHome();
  const port = await freePort();
  const seen: number[] = [];
  const run = (args: string[]) =>
    noetl(args, { home, runner, env: { NOETL_SERVER_URL: `http://127.0.0.1:${port}` } });
  try {
    const st = await run(["server", "start", "--host", "127.0.0.1", "--port", String(port)]);
    assert.equal(st.code, 0, st.stderr);
    const pid = readPid(home) as number;
    seen.push(pid);
    // The background server is the same program started the same way.
    if (process.platform === "linux") {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      assert.deepEqual(cmdline.slice(0, expectedCommand.length), expectedCommand);
      assert.deepEqual(cmdline.slice(expectedCommand.length, expectedCommand.length + 2), ["server", "run"]);
    }

    const status = await run(["server", "status", "--json"]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).health, "ok");

    const ws = await run(["worker", "start", "--name", runner]);
    assert.equal(ws.code, 0, ws.stderr);
    const wpid = readPid(home, `noetl_worker_${runner}.pid`) as number;
    seen.push(wpid);
    const wst = await run(["worker", "status", "--json"]);
    assert.equal(wst.code, 0, wst.stderr);
    assert.equal(JSON.parse(wst.stdout).workers[0].registered, true);
    assert.equal((await run(["worker", "stop"])).code, 0);
    assert.ok(!alive(wpid));

    const stop = await run(["server", "stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(!alive(pid));
    assert.equal((await run(["server", "status"])).code, 3);
    assert.ok(!existsSync(join(home, "noetl_server.pid")));
    const log = logLines(home, "server.log");
    assert.ok(
      log.some((l) => /stopped$/.test(l)),
      `graceful stop, not a forced exit: ${log.join("\n")}`,
    );
  } finally {
    await cleanup(home, seen);
  }
}

describe("start / status / stop under other runtimes", () => {
  const deno = denoSkipReason();
  it("under deno run -A dist/noetl.cjs", { timeout: 240_000, skip: deno }, () =>
    roundTrip("deno", [denoPath, "run", "-A", cliPath]),
  );
  const exe = exeSkipReason();
  it("as the single executable", { timeout: 240_000, skip: exe }, () => roundTrip("exe", [exePath]));
});
