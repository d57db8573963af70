// `noetl completion`: the bash script, loaded into a real bash, completes commands, actions and
// flags as the commands declare them; zsh and fish scripts are checked by those shells' own
// parsers where they are installed. Needs `npm run build`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { runCli } from "../support/cli";

const has = (shell: string) => spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;

describe("noetl completion (built CLI)", () => {
  it("bash: completes command names, a command's actions, and its flags", async () => {
    const script = (await runCli(["completion", "bash"])).stdout;
    const complete = (words: string[]) => {
      const line = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _noetl; echo "\${COMPREPLY[*]}"`;
      const r = spawnSync("bash", ["-c", `${script}\n${line}`], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    assert.equal(complete(["noetl", "ser"]), "server");
    assert.equal(complete(["noetl", "server", "st"]), "start stop status");
    assert.equal(complete(["noetl", "catalog", ""]), "list get");
    assert.equal(complete(["noetl", "run", "--dr"]), "--dry-run");
    assert.equal(complete(["noetl", "worker", "--conc"]), "--concurrency");
    assert.equal(complete(["noetl", "status", "--tok"]), "--token");
  });

  it("zsh and fish scripts parse in their shells", {
    skip: !has("zsh") && !has("fish") && "neither zsh nor fish is installed",
  }, async () => {
    for (const shell of ["zsh", "fish"].filter(has)) {
      const script = (await runCli(["completion", shell])).stdout;
      const r = spawnSync(shell, ["-n", "-c", script], { encoding: "utf8" });
      assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
    }
  });

  it("fish: completes command names, actions and flags", {
    skip: !has("fish") && "fish is not installed",
  }, async () => {
    const script = (await runCli(["completion", "fish"])).stdout;
    const complete = (line: string) => {
      const r = spawnSync("fish", ["-c", `${script}\ncomplete -C '${line}'`], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split("\n");
    };
    assert.deepEqual(complete("noetl ser"), ["server"]);
    assert.deepEqual(complete("noetl server st"), ["start", "status", "stop"]);
    assert.deepEqual(complete("noetl run --dr"), ["--dry-run"]);
  });

  it("an unknown shell is a usage error", async () => {
    const r = await runCli(["completion", "tcsh"]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'noetl: unknown shell "tcsh"; usage: noetl completion bash|zsh|fish\n');
  });
});
