import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { pythonTool } from "../../src/tools/python.ts";
import type { ToolRunContext } from "../../src/tools/types.ts";
import { toolContext } from "../support/tool-context.ts";

function ctx(over: Partial<ToolRunContext> = {}): ToolRunContext {
  return toolContext({ env: process.env, ...over });
}

const python = process.env.NOETL_PYTHON || "python3";
const hasPython = spawnSync(python, ["--version"]).status === 0;
const skip = !hasPython && process.env.CI !== "true" ? `${python} is not installed` : false;

describe("python tool", () => {
  test("main(...) binds parameters from input, then vars; context and **kwargs", { skip }, async () => {
    const code = [
      "def main(n, who, context, **rest):",
      "    return {'sum': sum(range(n)), 'who': who, 'ctx_keys': sorted(context), 'rest': rest}",
    ].join("\n");
    const out = await pythonTool.run(
      { code },
      ctx({ input: { n: 100, extra: true }, vars: { who: "world", n: 1 } }),
    );
    assert.equal(out.status, "ok", JSON.stringify(out.error));
    assert.deepEqual(out.data, { sum: 4950, who: "world", ctx_keys: ["n", "who"], rest: { extra: true } });
  });

  test("plain code sees input keys as variables and assigns result", { skip }, async () => {
    const out = await pythonTool.run(
      { code: "result = [x * 2 for x in items] + [input['k']]" },
      ctx({ input: { items: [1, 2], k: "v" } }),
    );
    assert.deepEqual(out.data, [2, 4, "v"]);
  });

  test("print() goes to onOutput, not into the result", { skip }, async () => {
    let printed = "";
    const out = await pythonTool.run(
      { code: "def main():\n    print('hello from python')\n    return 7" },
      ctx({ onOutput: (_s, c) => (printed += c) }),
    );
    assert.equal(out.data, 7);
    assert.equal(printed, "hello from python\n");
  });

  test("an exception is an error with the exception type and text", { skip }, async () => {
    const out = await pythonTool.run({ code: "def main():\n    raise ValueError('bad value')" }, ctx());
    assert.equal(out.status, "error");
    assert.equal(out.error?.kind, "exception");
    assert.match(out.error?.message ?? "", /^ValueError: bad value \(line 2\)/);
  });

  test("a main parameter found nowhere is a clear TypeError", { skip }, async () => {
    const out = await pythonTool.run({ code: "def main(missing):\n    return 1" }, ctx());
    assert.match(out.error?.message ?? "", /TypeError: .*'missing'/);
  });

  test("timeout kills the interpreter", { skip }, async () => {
    const started = Date.now();
    const out = await pythonTool.run({ code: "import time\ntime.sleep(30)", timeout_seconds: 0.3 }, ctx());
    assert.equal(out.error?.kind, "timeout");
    assert.ok(Date.now() - started < 3000);
  });

  test("abort cancels it", { skip }, async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const out = await pythonTool.run({ code: "import time\ntime.sleep(30)" }, ctx({ signal: ac.signal }));
    assert.equal(out.error?.kind, "cancelled");
  });

  test("no interpreter is a config error that says what to do", async () => {
    const out = await pythonTool.run(
      { code: "result = 1" },
      ctx({ env: { ...process.env, NOETL_PYTHON: "/nonexistent" } }),
    );
    assert.equal(out.error?.kind, "config");
    assert.equal(out.error?.message, "/nonexistent not found; install Python 3 or set NOETL_PYTHON");
  });
});
