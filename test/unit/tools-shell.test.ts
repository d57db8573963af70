import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { shellTool } from "../../src/tools/shell.ts";
import type { ToolRunContext } from "../../src/tools/types.ts";
import { toolContext } from "../support/tool-context.ts";

const base = realpathSync(mkdtempSync(join(tmpdir(), "noetl-shell-")));
after(() => rmSync(base, { recursive: true, force: true }));

function ctx(over: Partial<ToolRunContext> = {}): ToolRunContext {
  return toolContext({ env: process.env, baseDir: base, ...over });
}

/** Processes still running with this exact command line (zombies show as `[sleep] <defunct>`). */
function alive(marker: string): string[] {
  return execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes(marker) && !l.includes("ps -eo"));
}

async function gone(marker: string): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (alive(marker).length === 0) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

describe("shell tool", () => {
  test("a relative playbook directory means the same directory in every step", async () => {
    // `noetl run dir/p.yaml` gives a relative base; pre-started shells do not share our cwd.
    for (let i = 0; i < 4; i++) {
      const out = await shellTool.run({ cmds: "pwd" }, ctx({ baseDir: "test" }));
      assert.equal(
        (out.data as { stdout: string }).stdout,
        `${join(process.cwd(), "test")}\n`,
        `step ${i + 1}`,
      );
    }
  });

  test("success returns returncode, stdout, stderr and duration", async () => {
    const out = await shellTool.run({ cmds: "echo hello; echo warn >&2" }, ctx());
    assert.equal(out.status, "ok");
    const data = out.data as Record<string, unknown>;
    assert.equal(data.returncode, 0);
    assert.equal(data.stdout, "hello\n");
    assert.equal(data.stderr, "warn\n");
    assert.equal(typeof data.duration_ms, "number");
  });

  test("non-zero exit is an exit_code error that still carries the data", async () => {
    const out = await shellTool.run({ cmds: "echo partial; echo 'it broke' >&2; exit 4" }, ctx());
    assert.equal(out.status, "error");
    assert.equal(out.error?.kind, "exit_code");
    assert.equal(out.error?.code, 4);
    assert.match(out.error?.message ?? "", /code 4.*it broke/s);
    assert.deepEqual(
      { ...(out.data as object), duration_ms: 0 },
      { returncode: 4, stdout: "partial\n", stderr: "it broke\n", duration_ms: 0 },
    );
  });

  test("env is merged over the context env and cwd resolves from baseDir", async () => {
    execFileSync("mkdir", ["-p", join(base, "sub")]);
    const out = await shellTool.run(
      { cmds: 'echo "$GREETING $KEEP $NUM"; pwd', env: { GREETING: "hi", NUM: 3 }, cwd: "sub" },
      ctx({ env: { ...process.env, KEEP: "kept" } }),
    );
    assert.equal(out.status, "ok");
    assert.equal((out.data as { stdout: string }).stdout, `hi kept 3\n${join(base, "sub")}\n`);
  });

  test("a missing cwd is a config error", async () => {
    const out = await shellTool.run({ cmds: "true", cwd: "does-not-exist" }, ctx());
    assert.equal(out.error?.kind, "config");
    assert.match(out.error?.message ?? "", /does-not-exist/);
  });

  test("a list runs in order and stops at the first failing command", async () => {
    const ok = await shellTool.run({ cmds: ["x=1", "echo a$x", "echo 'b\nc'"] }, ctx());
    assert.equal((ok.data as { stdout: string }).stdout, "a1\nb\nc\n");
    const bad = await shellTool.run({ cmds: ["echo one", "false", "echo never"] }, ctx());
    assert.equal(bad.status, "error");
    assert.equal((bad.data as { stdout: string }).stdout, "one\n");
    assert.equal((bad.data as { returncode: number }).returncode, 1);
  });

  test("a single string keeps shell semantics: a failing middle line does not stop it", async () => {
    const out = await shellTool.run({ cmds: "false\necho after" }, ctx());
    assert.equal(out.status, "ok");
    assert.equal((out.data as { stdout: string }).stdout, "after\n");
  });

  test("streams output to onOutput", async () => {
    const seen: string[] = [];
    await shellTool.run(
      { cmds: "echo out; echo err >&2" },
      ctx({ onOutput: (s, c) => seen.push(`${s}:${c}`) }),
    );
    assert.deepEqual(seen.sort(), ["stderr:err\n", "stdout:out\n"]);
  });

  test("timeout kills the whole process group quickly", async () => {
    const marker = "sleep 30.4242";
    const started = Date.now();
    const out = await shellTool.run({ cmds: ["true", marker], timeout_seconds: 0.3 }, ctx());
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    assert.equal(out.status, "error");
    assert.equal(out.error?.kind, "timeout");
    assert.ok(await gone(marker), `still running: ${alive(marker).join("; ")}`);
  });

  test("children that ignore SIGTERM are killed with SIGKILL after the grace period", async () => {
    const marker = "sleep 30.4343";
    const out = await shellTool.run(
      { cmds: `trap '' TERM; ${marker}; echo survived`, timeout_seconds: 0.2 },
      ctx(),
    );
    assert.equal(out.error?.kind, "timeout");
    assert.ok(await gone(marker), `still running: ${alive(marker).join("; ")}`);
  });

  test("abort cancels the command and kills it", async () => {
    const marker = "sleep 30.4444";
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const out = await shellTool.run({ cmds: [marker] }, ctx({ signal: ac.signal }));
    assert.ok(Date.now() - started < 1500);
    assert.equal(out.error?.kind, "cancelled");
    assert.ok(await gone(marker));
  });

  test("an abort whose reason is a TimeoutError reports a timeout", async () => {
    const out = await shellTool.run({ cmds: "sleep 30.4545" }, ctx({ signal: AbortSignal.timeout(100) }));
    assert.equal(out.error?.kind, "timeout");
  });

  test("missing cmds is a config error", async () => {
    assert.equal((await shellTool.run({}, ctx())).error?.kind, "config");
    assert.equal((await shellTool.run({ cmds: [] }, ctx())).error?.kind, "config");
  });
});
