// Every shared invalid playbook through `noetl validate`: exit code and the problems printed.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli } from "../support/cli";
import { conformanceDir, requireConformance } from "../support/paths";

requireConformance();
const dir = join(conformanceDir, "invalid");

describe("conformance, invalid playbooks", () => {
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith(".yaml"))
    .sort()) {
    it(f, async () => {
      const expect = JSON.parse(readFileSync(join(dir, f.replace(/\.yaml$/, ".expect.json")), "utf8")) as {
        exit_code: number;
        output_contains?: string[];
        output_matches?: string[];
      };
      const r = await runCli(["validate", join(dir, f)]);
      const output = r.stdout + r.stderr;
      assert.equal(r.code, expect.exit_code, output);
      for (const s of expect.output_contains ?? [])
        assert.ok(output.includes(s), `output should contain "${s}":\n${output}`);
      for (const re of expect.output_matches ?? []) assert.match(output, new RegExp(re));
    });
  }

  it("every valid case validates cleanly", async () => {
    const cases = join(conformanceDir, "cases");
    const files = readdirSync(cases)
      .filter((x) => x.endsWith(".yaml"))
      .map((x) => join(cases, x));
    const r = await runCli(["validate", ...files]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
