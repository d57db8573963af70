// `noetl server start|status|stop` of the built bundle under node: PID file, log file, refusal
// of a second copy, stale PID files, a SIGKILLed server started again, JSON log lines.
// One NOETL_HOME for the file, so the embedded database is initialised once.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  alive,
  cleanup,
  freePort,
  logLines,
  makeHome,
  noetl,
  readPid,
  requireBundle,
  waitDead,
} from "./helpers";

let home: string;
let port: number;
const seen: number[] = [];
const T = { timeout: 120_000 };

const start = (env: Record<string, string> = {}, extra: string[] = []) =>
  noetl(["server", "start", "--host", "127.0.0.1", "--port", String(port), ...extra], { home, env });
const status = () => noetl(["server", "status", "--json"], { home });
const stop = (...flags: string[]) => noetl(["server", "stop", ...flags], { home });
const pidFile = () => join(home, "noetl_server.pid");

async function started(env: Record<string, string> = {}, extra: string[] = []): Promise<number> {
  const r = await start(env, extra);
  assert.equal(r.code, 0, r.stderr);
  const pid = readPid(home);
  assert.ok(pid, "PID file written");
  seen.push(pid);
  assert.match(r.stdout, new RegExp(`http://127\\.0\\.0\\.1:${port} \\(PID ${pid};`));
  return pid;
}

describe("noetl server start / status / stop", () => {
  before(async () => {
    requireBundle();
    home = await makeHome();
    port = await freePort();
  });
  after(() => cleanup(home, seen));

  it("starts, reports, refuses a second copy, stops", T, async () => {
    const pid = await started({}, ["--init-db"]);
    const st = await status();
    assert.equal(st.code, 0, st.stderr);
    const doc = JSON.parse(st.stdout);
    assert.equal(doc.running, true);
    assert.equal(doc.pid, pid);
    assert.equal(doc.health, "ok");
    assert.equal(doc.url, `http://127.0.0.1:${port}`);
    assert.equal(typeof doc.uptime_s, "number");
    const human = await noetl(["server", "status"], { home });
    assert.match(human.stdout, /server is running[\s\S]*PID +\d+[\s\S]*uptime[\s\S]*health +ok/);

    const again = await start();
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`already running \\(PID ${pid}\\)`));
    assert.equal(readPid(home), pid, "the running server's PID file is untouched");

    const s = await stop();
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`server stopped \\(PID ${pid}\\)`));
    assert.ok(!alive(pid));
    assert.ok(!existsSync(pidFile()), "PID file removed");
    const after = await status();
    assert.equal(after.code, 3);
    assert.equal(JSON.parse(after.stdout).running, false);
    assert.ok(logLines(home, "server.log").some((l) => /listening on http:\/\/127\.0\.0\.1/.test(l)));
    assert.ok(
      logLines(home, "server.log").some((l) => /stopped$/.test(l)),
      "graceful stop logged",
    );
    const again2 = await stop();
    assert.equal(again2.code, 0);
    assert.match(again2.stdout, /server is not running/);
  });

  it("removes a stale PID file: a dead PID, or a live process that is not a server", T, async () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    assert.ok(dead && !alive(dead));
    writeFileSync(pidFile(), `${dead}\n`);
    assert.equal((await status()).code, 3);
    const pid = await started();
    assert.notEqual(pid, dead);
    assert.equal((await stop()).code, 0);

    // Our own PID is alive but its command line is not `server run`: a reused PID.
    writeFileSync(pidFile(), `${process.pid}\n`);
    const r = await start();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`stale PID file \\(PID ${process.pid}`));
    seen.push(readPid(home) as number);
    assert.equal((await stop()).code, 0);
  });

  it("starts again after the server was killed with SIGKILL", T, async () => {
    const pid = await started();
    process.kill(pid, "SIGKILL");
    assert.ok(await waitDead(pid));
    const st = await status();
    assert.equal(st.code, 3);
    assert.equal(JSON.parse(st.stdout).stale_pid, pid);
    const pid2 = await started();
    assert.notEqual(pid2, pid);
    const res = await fetch(`http://127.0.0.1:${port}/api/catalog`);
    assert.equal(res.status, 200, "the database survived the kill");
    assert.equal((await stop()).code, 0);
  });

  it("stop -f kills the process", T, async () => {
    const pid = await started();
    const s = await stop("-f");
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /killed/);
    assert.ok(!alive(pid));
    assert.ok(!existsSync(pidFile()));
  });

  it("writes JSON log lines with NOETL_LOG_FORMAT=json and filters by NOETL_LOG_LEVEL", T, async () => {
    const before = logLines(home, "server.log").length;
    await started({ NOETL_LOG_FORMAT: "json" });
    assert.equal((await stop()).code, 0);
    const lines = logLines(home, "server.log").slice(before);
    assert.ok(lines.length >= 3, lines.join("\n"));
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const d of docs) {
      assert.equal(d.component, "server");
      assert.match(String(d.time), /^\d{4}-\d\d-\d\dT/);
      assert.ok(["debug", "info", "warn", "error"].includes(String(d.level)));
    }
    assert.ok(docs.some((d) => /^listening on /.test(String(d.msg))));

    const mark = logLines(home, "server.log").length;
    await started({ NOETL_LOG_FORMAT: "json", NOETL_LOG_LEVEL: "warn" });
    assert.equal((await stop()).code, 0);
    const quiet = logLines(home, "server.log").slice(mark);
    assert.ok(!quiet.some((l) => l.includes("listening on")), `info lines filtered out: ${quiet.join("\n")}`);
  });
});
