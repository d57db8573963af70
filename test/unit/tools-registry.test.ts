import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { NoetlError } from "../../src/errors.ts";
import {
  closeToolResources,
  commonToolKeys,
  getTool,
  toolConfigKeys,
  toolKinds,
} from "../../src/tools/registry.ts";
import type { ToolOutcome, ToolRunContext, ToolServices } from "../../src/tools/types.ts";
import { toolContext } from "../support/tool-context.ts";

const toolsDir = join(import.meta.dirname, "../../src/tools");
const calls: unknown[][] = [];
const services: ToolServices = {
  async runPlaybook(path, input) {
    calls.push(["playbook", path, input]);
    if (path === "missing.yaml") throw new NoetlError("NOT_FOUND", "no playbook missing.yaml");
    return { status: "ok", data: { y: (input.x as number) * 3 } };
  },
  async runWorkbook(name, input) {
    calls.push(["workbook", name, input]);
    return name === "broken"
      ? { status: "error", error: { kind: "http", message: "down" }, http: { status: 503 } }
      : { status: "ok", data: `ran ${name}` };
  },
  async credential(name) {
    if (name !== "api") throw new NoetlError("NOT_FOUND", `credential ${name} not found`);
    return { token: "tok-123", user: "me" };
  },
};

function ctx(over: Partial<ToolRunContext> = {}): ToolRunContext {
  return toolContext({ services, ...over });
}

async function run(
  kind: string,
  config: Record<string, unknown>,
  over: Partial<ToolRunContext> = {},
): Promise<ToolOutcome> {
  const tool = getTool(kind);
  assert.ok(tool, `no tool ${kind}`);
  return tool.run({ kind, ...config }, ctx(over));
}

describe("tool registry", () => {
  test("every kind of the spec is registered, with its config keys", () => {
    assert.deepEqual([...toolKinds].sort(), [
      "http",
      "js",
      "noop",
      "playbook",
      "postgres",
      "python",
      "secrets",
      "shell",
      "workbook",
    ]);
    for (const kind of toolKinds) {
      assert.equal(getTool(kind)?.kind, kind);
      assert.ok(Array.isArray(toolConfigKeys[kind]));
      for (const k of commonToolKeys)
        assert.ok(!toolConfigKeys[kind].includes(k), `${kind} repeats common key ${k}`);
    }
    assert.deepEqual(getTool("python")?.rawKeys, ["code"]);
    assert.deepEqual(getTool("js")?.rawKeys, ["code"]);
    assert.equal(getTool("nope"), undefined);
    assert.equal(getTool("toString"), undefined);
  });

  test("heavy dependencies are only imported lazily, inside run()", () => {
    for (const file of readdirSync(toolsDir).filter((f) => f.endsWith(".ts"))) {
      const source = readFileSync(join(toolsDir, file), "utf8");
      assert.doesNotMatch(
        source,
        /^import (?!type )[^;]*from "(postgres|undici)"/m,
        `${file} imports a heavy module eagerly`,
      );
    }
  });

  test("closeToolResources is safe with nothing open", async () => {
    await closeToolResources();
  });
});

describe("noop tool", () => {
  test("data is the input", async () => {
    assert.deepEqual(await run("noop", {}, { input: { msg: "hello" } }), {
      status: "ok",
      data: { msg: "hello" },
    });
  });
});

describe("secrets tool", () => {
  test("env provider returns the variable, and the reference to record instead of it", async () => {
    const out = await run("secrets", { provider: "env", name: "API_KEY" }, { env: { API_KEY: "k-1" } });
    assert.deepEqual(out, { status: "ok", data: "k-1", secret: { provider: "env", name: "API_KEY" } });
  });

  test("credential provider returns a field or the whole record", async () => {
    assert.equal(
      (await run("secrets", { provider: "credential", name: "api", field: "token" })).data,
      "tok-123",
    );
    assert.deepEqual((await run("secrets", { provider: "credential", name: "api" })).data, {
      token: "tok-123",
      user: "me",
    });
  });

  test("missing secrets are not_found errors naming the secret, never a value", async () => {
    const env = await run("secrets", { provider: "env", name: "NOPE" }, { env: { OTHER: "v" } });
    assert.equal(env.error?.kind, "not_found");
    assert.match(env.error?.message ?? "", /NOPE/);
    const field = await run("secrets", { provider: "credential", name: "api", field: "password" });
    assert.equal(field.error?.kind, "not_found");
    assert.doesNotMatch(JSON.stringify(field), /tok-123/);
    assert.equal((await run("secrets", { provider: "credential", name: "ghost" })).error?.kind, "not_found");
    assert.equal((await run("secrets", { provider: "vault", name: "x" })).error?.kind, "config");
  });
});

describe("playbook and workbook tools", () => {
  test("playbook delegates to the runtime and returns its outcome", async () => {
    const out = await run("playbook", { path: "./child.yaml", input: { x: 5 } });
    assert.deepEqual(out, { status: "ok", data: { y: 15 } });
    assert.deepEqual(calls.at(-1), ["playbook", "./child.yaml", { x: 5 }]);
  });

  test("a runtime failure becomes an error value", async () => {
    const out = await run("playbook", { path: "missing.yaml" });
    assert.equal(out.error?.kind, "not_found");
    assert.equal((await run("playbook", {})).error?.kind, "config");
  });

  test("wait: false starts the child and returns at once", async () => {
    const out = await run("playbook", { path: "./child.yaml", input: { x: 1 }, wait: false });
    assert.deepEqual(out.data, { path: "./child.yaml", status: "started" });
  });

  test("workbook runs a task by name and passes its outcome through", async () => {
    assert.deepEqual(await run("workbook", { name: "ping", input: { a: 1 } }), {
      status: "ok",
      data: "ran ping",
    });
    assert.deepEqual(calls.at(-1), ["workbook", "ping", { a: 1 }]);
    assert.deepEqual((await run("workbook", { task: "broken" })).http, { status: 503 });
  });
});
