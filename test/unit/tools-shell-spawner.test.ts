// The shell tool's spawn-server path (src/tools/spawner.ts): the same results as a direct spawn.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { shellTool } from "../../src/tools/shell.ts";
import { spawnerJobGroups, spawnerPid, stopSpawner } from "../../src/tools/spawner.ts";
import type { ToolOutcome, ToolRunContext } from "../../src/tools/types.ts";

const base = realpathSync(mkdtempSync(join(tmpdir(), "noetl-spawner-")));
after(() => {
  stopSpawner();
  rmSync(base, { recursive: true, force: true });
});

function ctx(over: Partial<ToolRunContext> = {}): ToolRunContext {
  const no = () => Promise.reject(new Error("unused"));
  const services = { runPlaybook: no, runWorkbook: no, credential: no };
  return {
    signal: new AbortController().signal,
    input: {},
    vars: {},
    env: process.env,
    baseDir: base,
    services,
    ...over,
  };
}

type Data = { returncode: number; stdout: string; stderr: string };
const data = (o: ToolOutcome) => o.data as Data;
const run = (config: Record<string, unknown>, over: Partial<ToolRunContext> = {}) =>
  shellTool.run(config, ctx(over));
/** The same step through a direct spawn: onOutput forces that path. */
const runDirect = (config: Record<string, unknown>, over: Partial<ToolRunContext> = {}) =>
  shellTool.run(config, ctx({ onOutput: () => {}, ...over }));

/** Is any process of the group still there (zombies included until reaped)? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    if (cond()) return true;
  }
  return cond();
}

/** The server's children that lead their own process groups: its jobs and its idle spares. */
function groupLeaders(): number[] {
  const ps = execFileSync("ps", ["-o", "pid=,pgid=", "--ppid", String(spawnerPid())], { encoding: "utf8" });
  return ps
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([pid, pgid]) => pid === pgid)
    .map(([pid]) => pid!);
}

/** The running jobs, as the server reported them, each checked against ps. */
function jobGroups(): number[] {
  const leaders = groupLeaders();
  return spawnerJobGroups().filter((pgid) => leaders.includes(pgid));
}

/** The idle pre-started shells: group leaders under the server that run no job. */
function spawnerSpares(): number[] {
  const jobs = spawnerJobGroups();
  return groupLeaders().filter((pid) => !jobs.includes(pid));
}

/** Request and output files left in the server's directory (its FIFOs f6-f8 stay). */
const leftovers = (dir: string) => readdirSync(dir).filter((f) => !/^f\d$/.test(f));

/** The server's private directory, from its command line: bash -c SCRIPT $0 DIR BASH. */
function serverDir(): string {
  return readFileSync(`/proc/${spawnerPid()}/cmdline`, "utf8").split("\0")[4]!;
}

describe("shell tool through the spawn server", () => {
  test("success: the server is used and returns the usual result", async () => {
    const out = await run({ cmds: "echo hello; echo warn >&2" });
    assert.ok(spawnerPid(), "a spawn server is running");
    assert.equal(out.status, "ok");
    assert.deepEqual(
      { ...data(out), duration_ms: 0 },
      { returncode: 0, stdout: "hello\n", stderr: "warn\n", duration_ms: 0 },
    );
    await new Promise((r) => setImmediate(r)); // deleted after the turn that read them
    assert.deepEqual(leftovers(serverDir()), [], "output files are deleted");
  });

  test("failure codes, signals, lists and $$ behave like bash -c", async () => {
    const bad = await run({ cmds: "echo partial; echo 'it broke' >&2; exit 4" });
    assert.equal(bad.error?.kind, "exit_code");
    assert.equal(bad.error?.code, 4);
    assert.equal(data(bad).stdout, "partial\n");
    assert.equal(data(await run({ cmds: "kill -TERM $$" })).returncode, 143);
    const list = await run({ cmds: ["echo one", "false", "echo never"] });
    assert.equal(data(list).stdout, "one\n");
    const pid = await run({ cmds: 'echo "$$ $BASHPID $0"' });
    const [a, b, zero] = data(pid).stdout.trim().split(" ");
    assert.equal(a, b, "$$ is the step's own shell, not the server");
    assert.notEqual(Number(a), spawnerPid());
    assert.match(zero ?? "", /bash$/);
  });

  test("env and cwd: the step sees exactly what a direct spawn sees", async () => {
    mkdirSync(join(base, "sub dir"), { recursive: true });
    const env = { ...process.env, KEEP: "kept", HOME: undefined, OLDPWD: "/old" };
    const config = {
      cmds: "env | grep -v '^_=' | sort; echo \"$0 $SHLVL\"; pwd; set -o | md5sum; shopt | md5sum; trap -p; grep '^SigIgn' /proc/$$/status; [ \"$(ps -o pgid= -p $$)\" -eq $$ ] && echo own group",
      env: { GREETING: "hi there", NUM: 3, OBJ: { a: 1 }, TRICKY: "a'b\"c\\d$e\nf" },
      cwd: "sub dir",
    };
    const viaServer = data(await run(config, { env }));
    const direct = data(await runDirect(config, { env }));
    assert.equal(viaServer.stdout, direct.stdout);
    assert.match(viaServer.stdout, /^GREETING=hi there$/m);
    assert.match(viaServer.stdout, /^own group$/m);
    assert.doesNotMatch(viaServer.stdout, /^HOME=/m);
    assert.ok(viaServer.stdout.includes(`\n${join(base, "sub dir")}\n`));
  });

  test("steps run in pre-started shells unless their environment needs a fresh bash", async () => {
    await run({ cmds: "true" });
    await run({ cmds: "true" });
    const spares = spawnerSpares();
    assert.ok(spares.length > 0, "the server reports idle spares");
    const pid = Number(data(await run({ cmds: 'echo "$$"' })).stdout);
    assert.ok(spares.includes(pid), `step ${pid} ran in a spare (${spares})`);
    // Variables bash reads only at start-up, or unsets of ones it defaults: a forked bash -c.
    // Unset one this process has (CI runs without SHELL; PATH would change how `bash` is found).
    const defaulted = ["SHELL", "TERM", "HOSTNAME", "PS4"].find((k) => process.env[k] !== undefined);
    const cases = [
      { env: { LC_ALL: "C" }, ctx: {} },
      { env: { IFS: ":" }, ctx: {} },
      ...(defaulted ? [{ env: {}, ctx: { env: { ...process.env, [defaulted]: undefined } } }] : []),
    ];
    for (const c of cases) {
      const before = spawnerSpares();
      const config = { cmds: 'echo "$$"; env | grep -v "^_=" | sort; echo "[$IFS] $SHELL"', env: c.env };
      const viaServer = data(await run(config, c.ctx));
      const [own, ...rest] = viaServer.stdout.split("\n");
      assert.ok(!before.includes(Number(own)), `forked, not a spare: ${JSON.stringify(c)}`);
      const direct = data(await runDirect(config, c.ctx));
      assert.equal(rest.join("\n"), direct.stdout.split("\n").slice(1).join("\n"));
    }
  });

  test("a spare behaves like bash -c: options, LINENO, SECONDS, OLDPWD, fds, exit codes", async () => {
    const $ = "$"; // bash expansions below, not template placeholders
    const probe = [
      `echo "$- $# $0 $LINENO $SECONDS ${$}{OLDPWD-unset} ${$}{BASH_EXECUTION_STRING:0:4}"`,
      "declare -p OLDPWD; declare -F | wc -l; compgen -v | grep -c '^__nr_'",
      `shopt -po | md5sum; for f in /proc/$$/fd/*; do printf "%s " "${$}{f##*/}"; done`,
    ].join("\n");
    for (const env of [
      process.env,
      { ...process.env, OLDPWD: base },
      { ...process.env, OLDPWD: "/no/such" },
    ]) {
      const viaServer = data(await run({ cmds: probe }, { env }));
      const direct = data(await runDirect({ cmds: probe }, { env }));
      assert.equal(viaServer.stdout, direct.stdout);
      assert.equal(viaServer.returncode, 0, viaServer.stderr);
    }
    // A syntax error exits 2 in both (bash names the context "eval" instead of "-c" in the message).
    const bad = await run({ cmds: "echo a; (" });
    assert.equal(data(bad).returncode, 2);
    assert.match(data(bad).stderr, /syntax error/);
    assert.equal(data(await run({ cmds: "exit 7" })).returncode, 7);
    // The last command killed by a signal: the same status. (bash -c would have exec'd it; in a
    // spare bash waits for it and so adds its "Terminated" line to the step's stderr.)
    const killed = "sh -c 'kill -TERM $$'";
    assert.equal(
      data(await run({ cmds: killed })).returncode,
      data(await runDirect({ cmds: killed })).returncode,
    );
  });

  test("a missing cwd is still a config error", async () => {
    const out = await run({ cmds: "true", cwd: "does-not-exist" });
    assert.equal(out.error?.kind, "config");
    assert.match(out.error?.message ?? "", /does-not-exist/);
  });

  test("tricky scripts arrive byte for byte", async () => {
    const scripts = [
      `printf '%s|' 'single' "double \\"q\\"" back\\\\slash '$HOME' "\\$x" '\`tick\`'`,
      "echo 'ünïcödé ✓ 日本語 🎉'",
      "cat <<'EOF'\nline $1\n\ttab\\n raw\nEOF\ncat <<EOF\nexpanded $((1 + 2))\nEOF",
      "printf '%s' \"$(printf 'a\\rb\\x01c')\" | od -An -c | tr -s ' '",
      "x='it''s'; echo \"$x\" '!' \"!\" '\\' ; echo $'ansi\\tquote'",
      `echo ${"x".repeat(3000)} | wc -c`,
    ];
    for (const cmds of scripts) {
      const viaServer = data(await run({ cmds }));
      const direct = data(await runDirect({ cmds }));
      assert.deepEqual({ ...viaServer, duration_ms: 0 }, { ...direct, duration_ms: 0 }, cmds);
    }
    assert.equal(data(await run({ cmds: "echo 'ünïcödé 🎉'" })).stdout, "ünïcödé 🎉\n");
  });

  test("abort kills the whole process group, grandchildren included", async () => {
    const ac = new AbortController();
    const pending = run({ cmds: "sleep 30 & sleep 30; echo never" }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 150));
    const jobs = jobGroups();
    assert.equal(jobs.length, 1, "one job running under the server");
    const pgid = jobs[0]!;
    ac.abort();
    const out = await pending;
    assert.equal(out.error?.kind, "cancelled");
    assert.ok(await until(() => !groupAlive(pgid)), "process group gone");
  });

  test("timeout kills the group, with SIGKILL for commands that ignore SIGTERM", async () => {
    const started = Date.now();
    const out = await run({ cmds: "sleep 30", timeout_seconds: 0.3 });
    assert.equal(out.error?.kind, "timeout");
    assert.ok(Date.now() - started < 1500);
    const stubborn = await run({
      cmds: "trap '' TERM; sleep 30 & wait; echo survived",
      timeout_seconds: 0.2,
    });
    assert.equal(stubborn.error?.kind, "timeout");
    assert.equal(data(stubborn).returncode, 137);
    assert.doesNotMatch(data(stubborn).stdout, /survived/);
  });

  test("20 parallel commands each get their own output and status", async () => {
    const outs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        run({ cmds: `sleep 0.0${i % 5}; echo out-${i}; echo err-${i} >&2; exit $((${i} % 3))` }),
      ),
    );
    outs.forEach((o, i) => {
      assert.deepEqual(
        { ...data(o), duration_ms: 0 },
        {
          returncode: i % 3,
          stdout: `out-${i}\n`,
          stderr: `err-${i}\n`,
          duration_ms: 0,
        },
      );
    });
  });

  test("many steps, in a row and in lanes beside a long one, are all reported", async () => {
    // Regression: bash can file a finished job as reported when two children end together.
    const long = run({ cmds: "sleep 1; echo long", timeout_seconds: 20 });
    const lanes = Array.from({ length: 6 }, async (_, lane) => {
      for (let i = 0; i < 60; i++) {
        const out = await run({ cmds: `echo ${lane}-${i}`, timeout_seconds: 10 });
        assert.equal(data(out).stdout, `${lane}-${i}\n`);
      }
    });
    await Promise.all(lanes);
    assert.equal(data(await long).stdout, "long\n");
    for (let i = 0; i < 300; i++)
      assert.equal(data(await run({ cmds: "true", timeout_seconds: 10 })).returncode, 0);
  });

  test("output over 16 MiB is truncated like the direct path", async () => {
    const out = data(await run({ cmds: "head -c 17000000 /dev/zero | tr '\\0' a" }));
    assert.equal(out.stdout.length, 16 * 1024 * 1024 + "\n[output truncated at 16777216 bytes]".length);
    assert.ok(out.stdout.endsWith("[output truncated at 16777216 bytes]"));
  });

  test("a dead server: the next step starts a new one; a running step fails and is killed", async () => {
    await run({ cmds: "true" });
    const idle = spawnerSpares();
    assert.ok(idle.length > 0);
    const first = spawnerPid()!;
    process.kill(first, "SIGKILL");
    await until(() => spawnerPid() !== first);
    assert.equal(data(await run({ cmds: "echo again" })).stdout, "again\n");
    assert.ok(await until(() => idle.every((p) => !groupAlive(p))), "its spares exited with it");
    const second = spawnerPid()!;
    assert.notEqual(second, first);

    const pending = run({ cmds: "sleep 30" });
    await new Promise((r) => setTimeout(r, 150));
    const [pgid] = jobGroups();
    assert.ok(pgid);
    process.kill(second, "SIGKILL");
    const out = await pending;
    assert.equal(out.error?.kind, "exception");
    assert.ok(await until(() => !groupAlive(pgid)), "the orphaned step is killed");
    assert.equal(data(await run({ cmds: "echo third" })).stdout, "third\n");
  });

  test("a spare killed before it read its step: the step is forked instead, nothing runs twice", async () => {
    stopSpawner(); // a fresh server, with spares
    await run({ cmds: "true" });
    await until(() => spawnerSpares().length >= 2);
    const spares = spawnerSpares();
    for (const pid of spares) process.kill(pid, "SIGKILL");
    // Block the event loop while they die: Node still believes in them and writes the step into
    // a dead spare's FIFO; the server's report that it never started reaches Node afterwards.
    execFileSync("sleep", ["0.3"]);
    const marker = join(base, "ran-once");
    const out = await run({ cmds: `echo x >> '${marker}'; echo "$$"` });
    assert.equal(data(out).returncode, 0);
    assert.ok(!spares.includes(Number(data(out).stdout)), "not run by a dead spare");
    assert.equal(readFileSync(marker, "utf8"), "x\n");
    for (let i = 0; i < 5; i++) assert.equal(data(await run({ cmds: `echo ${i}` })).stdout, `${i}\n`);
  });

  test("a stopped server still reports the jobs it was running", async () => {
    const pending = run({ cmds: "sleep 0.3; echo finished" });
    await new Promise((r) => setTimeout(r, 100));
    const pid = spawnerPid()!;
    stopSpawner();
    assert.equal(data(await pending).stdout, "finished\n");
    assert.ok(await until(() => !groupAlive(pid)), "the server exited after its last job");
  });

  test("Node killed mid-step: the server finishes the step, then removes its directory and exits", async () => {
    const code = `import("./src/tools/shell.ts").then(async ({ shellTool }) => {
      const { spawnerPid } = await import("./src/tools/spawner.ts");
      const c = { signal: new AbortController().signal, env: process.env, baseDir: "/tmp" };
      await shellTool.run({ cmds: "true" }, c);
      shellTool.run({ cmds: "sleep 0.5" }, c);
      setTimeout(() => console.log(spawnerPid()), 200);
      setInterval(() => {}, 1000);
    })`;
    const child = spawn(process.execPath, ["--import", "tsx", "-e", code], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pid = Number(await new Promise<string>((r) => child.stdout.once("data", (b) => r(String(b)))));
    const dir = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[4]!;
    assert.ok(existsSync(dir));
    child.kill("SIGKILL");
    // Its writes to the dead Node's socket (SIGPIPE) used to kill it before the cleanup.
    assert.ok(await until(() => !existsSync(dir), 5000), "directory removed");
    assert.ok(await until(() => !groupAlive(pid), 5000), "server gone");
  });

  test("the server neither keeps Node alive nor outlives it", () => {
    const code = `import("./src/tools/shell.ts").then(async ({ shellTool }) => {
      const { spawnerPid } = await import("./src/tools/spawner.ts");
      const c = { signal: new AbortController().signal, env: process.env, baseDir: "/tmp" };
      const r = await shellTool.run({ cmds: "echo ok" }, c);
      console.log(spawnerPid(), r.data.stdout.trim());
    })`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
      encoding: "utf8",
      timeout: 20000,
    });
    assert.equal(r.status, 0, r.stderr);
    const [pid, text] = r.stdout.trim().split(" ");
    assert.equal(text, "ok");
    assert.ok(Date.now() - started < 15000);
    const gone = () => {
      try {
        process.kill(-Number(pid), 0); // the server leads its group; its helper is in it
        return false;
      } catch {
        return true;
      }
    };
    return until(gone).then((ok) => {
      if (!ok) process.kill(-Number(pid), "SIGKILL");
      assert.ok(ok, "the server exited with its Node process");
    });
  });
});
