// Secrets never reach the record (SPEC §14): a `secrets` task's result is kept as a reference
// and read again by the steps that use it, and whatever a step prints or returns has the secret
// masked — locally, and distributed (events, status, step results from the API). The SHA-256 a
// step prints proves the tool itself got the real value. Needs `npm run build`.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type Cluster, noetl, startCluster } from "./remote-support";

const SECRET = "s3cr3t-Token-Never-Recorded";
const DIGEST = createHash("sha256").update(SECRET).digest("hex");
const fixtures = new URL("./secrets-fixtures/", import.meta.url).pathname;
const playbook = `${fixtures}secrets.yaml`;
const TOKEN = "secrets-test-api-token";
// Locally the keychain's credential comes from the environment; distributed, from credential.yaml.
const credential = { token: SECRET, user: "someone" };

/** The run's result: what each step printed, with the secret masked and its digest intact. */
function assertMaskedResult(result: Record<string, unknown>): void {
  assert.deepEqual(result, {
    use: `token=***\n${DIGEST}\n`,
    inline: "command exited with code 3: again=***",
    keyed: "user=someone token=*** home=true\n",
    read: "***",
    recorded: '"***"',
  });
}

describe("secrets (built CLI)", { timeout: 240_000 }, () => {
  it("locally: used by later steps and in the same step's pipeline, never shown", async () => {
    const env = { NOETL_TEST_API_TOKEN: SECRET, NOETL_CREDENTIAL_TEST_API: JSON.stringify(credential) };
    const json = await noetl(["run", playbook, "--json"], { env });
    assert.equal(json.code, 0, json.stderr);
    assertMaskedResult(JSON.parse(json.stdout).result);
    const verbose = await noetl(["run", playbook, "-v"], { env });
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stdout, /use │ token=\*\*\*$/m);
    assert.match(verbose.stdout, /inline │ again=\*\*\*$/m);
    for (const r of [json, verbose]) assert.ok(!(r.stdout + r.stderr).includes(SECRET), r.stdout);
  });

  it("locally: a secret that is not set fails the step that reads it, naming the variable", async () => {
    const r = await noetl(["run", playbook, "--json"], {
      env: { NOETL_CREDENTIAL_TEST_API: JSON.stringify(credential) },
    });
    assert.equal(r.code, 1);
    assert.match(JSON.parse(r.stdout).error, /step "read" failed: secret NOETL_TEST_API_TOKEN is not set/);
  });

  describe("distributed", () => {
    let cluster: Cluster;
    const cli = (args: string[]) =>
      noetl([...args, "--server-url", cluster.url], { env: { NOETL_API_TOKEN: TOKEN } });

    before(async () => {
      cluster = await startCluster({ token: TOKEN, secretKey: "secrets-test-secret-key-0123456789" });
      for (const args of [
        ["register", "credential", "--file", `${fixtures}credential.yaml`],
        ["register", "playbook", "--file", playbook],
      ]) {
        const r = await cli(args);
        assert.equal(r.code, 0, r.stderr);
      }
    });
    after(() => cluster?.stop());

    it("reads a stored credential on the worker; events, status and results hold only a reference", async () => {
      const set = ["--set", "provider=credential", "--set", "name=test_api", "--set", "field=token"];
      const run = await cli(["run", "catalog/tests/secrets", "-r", "distributed", "--json", ...set]);
      assert.equal(run.code, 0, run.stderr);
      const doc = JSON.parse(run.stdout);
      assertMaskedResult(doc.result);
      // In the order they ended, as a local run lists them (start and read end in the same ms).
      assert.deepEqual(
        doc.steps.map((st: { step: string }) => st.step),
        ["start", "read", "use", "inline", "keyed", "report"],
      );
      const events = await cli(["events", doc.execution_id, "--json"]);
      const status = await cli(["status", doc.execution_id, "--json"]);
      for (const r of [run, events, status]) {
        assert.equal(r.code, 0, r.stderr);
        assert.ok(!(r.stdout + r.stderr).includes(SECRET), "the secret never appears");
      }
      const exit = events.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .find((e) => e.type === "step.exit" && e.step === "read");
      const ref = { $secret: { provider: "credential", name: "test_api", field: "token" } };
      assert.deepEqual(exit?.payload.result.data, ref, "the read step's result is a reference");
    });
  });
});
