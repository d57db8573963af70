import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsTool } from "../../src/tools/js.ts";
import type { ToolRunContext } from "../../src/tools/types.ts";
import { toolContext } from "../support/tool-context.ts";

const ctx = toolContext;

const run = (code: string, over: Partial<ToolRunContext> = {}, extra: Record<string, unknown> = {}) =>
  jsTool.run({ code, ...extra }, ctx(over));

describe("js tool", () => {
  test("returns plain values from input and ctx; arrays are arrays of this realm", async () => {
    const out = await run(
      "return { doubled: input.n * 2, who: ctx.who, list: input.list.map((x) => x + 1) }",
      {
        input: { n: 21, list: [1, 2] },
        vars: { who: "noetl" },
      },
    );
    assert.equal(out.status, "ok");
    assert.deepEqual(out.data, { doubled: 42, who: "noetl", list: [2, 3] });
    // biome-ignore lint/suspicious/useIsArray: the point is that the array belongs to this realm
    assert.ok((out.data as { list: unknown }).list instanceof Array);
    assert.equal((await run("return 'L'")).data, "L");
    assert.equal((await run("const x = 1;")).data, null);
  });

  test("async code with setTimeout", async () => {
    const out = await run("await new Promise((r) => setTimeout(r, 30)); return input.v.toUpperCase()", {
      input: { v: "a" },
    });
    assert.equal(out.data, "A");
  });

  test("a thrown exception is an exception error with its message", async () => {
    const out = await run("throw new RangeError('too far')");
    assert.equal(out.error?.kind, "exception");
    assert.match(out.error?.message ?? "", /^RangeError: too far/);
    const lineOut = await run("const a = 1;\nnull.x;");
    assert.match(lineOut.error?.message ?? "", /line 2/);
  });

  test("code that does not compile is a config error", async () => {
    assert.equal((await run("return (")).error?.kind, "config");
  });

  test("a synchronous endless loop times out, at the tool's or else the task's timeout", async () => {
    const out = await run("while (true) {}", {}, { timeout_seconds: 0.2 });
    assert.equal(out.error?.kind, "timeout");
    assert.match(out.error?.message ?? "", /after 0\.2s$/);
    // `spec.timeout_seconds` of the task: no signal can interrupt a blocked event loop.
    const byTask = await run("while (true) {}", { timeoutMs: 300 });
    assert.equal(byTask.error?.kind, "timeout");
    assert.match(byTask.error?.message ?? "", /after 0\.3s$/);
  });

  test("a never-settling promise times out; abort cancels", async () => {
    assert.equal(
      (await run("await new Promise(() => {})", {}, { timeout_seconds: 0.1 })).error?.kind,
      "timeout",
    );
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    assert.equal((await run("await new Promise(() => {})", { signal: ac.signal })).error?.kind, "cancelled");
  });

  test("no process, require or engine globals; host functions do not leak the host Function", async () => {
    const out = await run("return [typeof process, typeof require, typeof Buffer, typeof globalThis.fetch]");
    assert.deepEqual(out.data, ["undefined", "undefined", "undefined", "undefined"]);
    const escaped = await run("return setTimeout.constructor('return typeof process')()");
    assert.equal(escaped.data, "undefined");
  });

  test("globals set by one call are gone in the next", async () => {
    await run("globalThis.leaked = 1; Array.prototype.polluted = 1; return 1");
    assert.deepEqual((await run("return [typeof leaked, typeof [].polluted]")).data, [
      "undefined",
      "undefined",
    ]);
  });

  test("console output goes to onOutput", async () => {
    const seen: string[] = [];
    await run("console.log('hi', { a: 1 }); console.error('oops')", {
      onOutput: (s, c) => seen.push(`${s}:${c}`),
    });
    assert.deepEqual(seen, ['stdout:hi {"a":1}\n', "stderr:oops\n"]);
  });

  test("bigint and Date results become JSON values", async () => {
    const out = await run("return { big: 2n ** 70n, small: 5n, d: new Date(0) }");
    assert.deepEqual(out.data, { big: "1180591620717411303424", small: 5, d: "1970-01-01T00:00:00.000Z" });
  });
});
