// The executor on its own: commands built by hand, services played by the test.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Command } from "../../src/engine/types";
import type { TaskConfig } from "../../src/playbook/schema";
import { type ExecuteOptions, executeCommand } from "../../src/runtime/executor";
import { toolContext } from "../support/tool-context";

const SECRET = "k3y-Value-123";

function command(tasks: Record<string, unknown>[], extra: Partial<Command> = {}): Command {
  return {
    command_id: "x.1",
    execution_id: "x",
    step: "s",
    run: "r1",
    attempt: 1,
    tasks: tasks as TaskConfig[],
    context: {},
    ...extra,
  };
}

function options(over: Partial<ExecuteOptions> = {}): ExecuteOptions {
  const { services, signal } = toolContext();
  return { signal, services, env: { API_KEY: SECRET }, baseDir: ".", ...over };
}

describe("executor", () => {
  test("`name` reaches the tools that read it (workbook task names)", async () => {
    const asked: string[] = [];
    const { services } = toolContext();
    const report = await executeCommand(
      command([{ kind: "workbook", name: "double", input: { n: 2 } }]),
      options({
        services: {
          ...services,
          runWorkbook: async (name, input) => {
            asked.push(name);
            return { status: "ok", data: (input.n as number) * 2 };
          },
        },
      }),
    );
    assert.deepEqual(asked, ["double"]);
    assert.equal(report.result.data, 4);
  });

  test("a secrets task is recorded as a reference; what later tasks print of it is masked", async () => {
    const output: string[] = [];
    const report = await executeCommand(
      command([
        { kind: "secrets", name: "key", secret: "API_KEY" },
        { kind: "shell", cmds: "echo got {{ key.data }}" },
      ]),
      options({ onOutput: (_s, chunk) => output.push(chunk) }),
    );
    assert.equal((report.result.data as { stdout: string }).stdout, "got ***\n");
    assert.equal(output.join(""), "got ***\n");
    // Printed in two writes: live output holds the line until it is whole, then masks it.
    output.length = 0;
    const $ = "$"; // bash expansions, not template placeholders
    const split = `s='{{ key.data }}'; printf %s "start ${$}{s:0:5}"; sleep 0.2; printf '%s\\n' "${$}{s:5}"; printf tail`;
    await executeCommand(
      command([
        { kind: "secrets", name: "key", secret: "API_KEY" },
        { kind: "shell", cmds: split },
      ]),
      options({ onOutput: (_s, chunk) => output.push(chunk) }),
    );
    assert.deepEqual(output, ["start ***\n", "tail"]);
    const alone = await executeCommand(command([{ kind: "secrets", name: "API_KEY" }]), options());
    assert.deepEqual(alone.result.data, { $secret: { provider: "env", name: "API_KEY" } });
  });

  test("a later step reads the secret again; it fails, naming the step, where it is not set", async () => {
    const recorded = { status: "ok", data: { $secret: { provider: "env", name: "API_KEY" } } };
    const later = command([{ kind: "js", code: "return input.k.length", input: { k: "{{ read.data }}" } }], {
      context: { read: recorded },
      secrets: ["read"],
    });
    assert.equal((await executeCommand(later, options())).result.data, SECRET.length);
    const elsewhere = await executeCommand(later, options({ env: {} }));
    assert.equal(elsewhere.directive, "fail");
    assert.equal(elsewhere.result.error?.kind, "secret");
    assert.match(
      elsewhere.result.error?.message ?? "",
      /step "s": the secret step "read" read .*API_KEY is not set/,
    );
  });

  test("templates see `env` and the keychain entries they name, read when the command runs", async () => {
    const asked: string[] = [];
    const { services } = toolContext();
    const cmd = command(
      [{ kind: "noop", input: { home: "{{ env.HOME }}", t: "{{ keychain.api.token }}" } }],
      {
        keychain: [
          { name: "api", credential: "api_token" },
          { name: "unused", credential: "other" },
        ],
      },
    );
    const report = await executeCommand(
      cmd,
      options({
        env: { HOME: "/home/x" },
        services: {
          ...services,
          credential: async (name) => {
            asked.push(name);
            return { token: SECRET };
          },
        },
      }),
    );
    assert.deepEqual(asked, ["api_token"]);
    assert.deepEqual(report.result.data, { home: "/home/x", t: "***" });
  });
});
