// `noetl run -r distributed`, catalog references and `execute --wait` against a real server
// that requires a token, and a worker: the same progress lines, --json document and exit codes
// as a local run; Ctrl-C cancels the execution on the server. Needs `npm run build`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Cluster, fixtures, noetl, progressLines, startCluster } from "./remote-support";

const TOKEN = "remote-run-test-token";

describe("distributed runs (built CLI, real server and worker)", { timeout: 240_000 }, () => {
  let cluster: Cluster;
  const cli = (args: string[], opts: Parameters<typeof noetl>[1] = {}) =>
    noetl([...args, "--server-url", cluster.url], { ...opts, env: { NOETL_API_TOKEN: TOKEN, ...opts.env } });

  before(async () => {
    cluster = await startCluster({ token: TOKEN });
    const files = ["playbooks/nested/chain.yml", "sleepy.yaml", "fails.yaml"].map((f) => join(fixtures, f));
    for (const file of files) {
      const r = await cli(["register", "playbook", "--file", file]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => cluster?.stop());

  it("refuses to talk to a server that needs a token without one, and says how to give it", async () => {
    const r = await noetl(["catalog", "list", "--server-url", cluster.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /requires an API token.*--token or NOETL_API_TOKEN/);
    const flag = await noetl(["catalog", "list", "--server-url", cluster.url, "--token", TOKEN]);
    assert.equal(flag.code, 0, flag.stderr);
  });

  it("prints the same progress lines as a local run", async () => {
    const file = join(fixtures, "playbooks/nested/chain.yml");
    const local = await noetl(["run", file]);
    assert.equal(local.code, 0, local.stderr);
    const remote = await cli(["run", "catalog/remote/chain"]);
    assert.equal(remote.code, 0, remote.stderr);
    assert.deepEqual(progressLines(remote.stdout), progressLines(local.stdout));
    assert.match(remote.stderr, /^execution \w+: remote\/chain v1 on http:\/\/127\.0\.0\.1:\d+\n$/);
  });

  it("prints the same --json document as a local run", async () => {
    const file = join(fixtures, "playbooks/nested/chain.yml");
    const local = JSON.parse((await noetl(["run", file, "--json", "--set", "xs=[4]"])).stdout);
    const r = await cli([
      "run",
      "catalog://remote/chain@1",
      "-r",
      "distributed",
      "--json",
      "--set",
      "xs=[4]",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const remote = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(remote).sort(), Object.keys(local).sort());
    assert.equal(remote.status, "COMPLETED");
    assert.deepEqual(remote.result, local.result);
    assert.deepEqual(remote.result, { vs: [40] });
    const shape = (d: { steps: { step: string; status: string }[] }) =>
      d.steps.map((s) => `${s.step}:${s.status}`);
    assert.deepEqual(shape(remote), shape(local));
  });

  it("with -v shows what a shell step printed, under the step, like a local run", async () => {
    const file = join(fixtures, "playbooks/nested/chain.yml");
    const local = await noetl(["run", file, "-v"]);
    const remote = await cli(["run", "catalog/remote/chain", "-v"]);
    assert.equal(remote.code, 0, remote.stderr);
    for (const r of [local, remote]) assert.match(r.stdout, /^ {2}start │ started$/m);
    const failed = await cli(["run", "remote/fails", "-r", "distributed", "-v"]);
    assert.match(failed.stdout, /^ {2}start │ broken$/m);
  });

  it("exits 1 with the error when the execution fails, like a local run", async () => {
    const local = await noetl(["run", join(fixtures, "fails.yaml")]);
    const remote = await cli(["run", "remote/fails", "-r", "distributed"]);
    assert.equal(local.code, 1);
    assert.equal(remote.code, 1);
    assert.deepEqual(progressLines(remote.stdout), progressLines(local.stdout));
    assert.match(remote.stderr, /noetl: .*exited with code 3/);
  });

  it("execute --wait follows to the end; status --follow exits like run", async () => {
    const r = await cli(["execute", "playbook", "remote/sleepy", "--set", "seconds=0", "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^COMPLETED in .*, 2 steps$/m);
    const id = /^execution (\w+):/.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    const follow = await cli(["status", id, "--follow", "--json"]);
    assert.equal(follow.code, 0, follow.stderr);
    assert.deepEqual(JSON.parse(follow.stdout).result, { slept: 0 });
  });

  it("Ctrl-C cancels the execution on the server and exits 130", async () => {
    let sent = false;
    const r = await cli(["run", "catalog/remote/sleepy", "--set", "seconds=30"], {
      timeoutMs: 60_000,
      onStdout: (out, child) => {
        if (!sent && out.includes("▶ start")) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    assert.ok(sent, r.stdout);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stdout, /^CANCELLED after /m);
    const id = /^execution (\w+):/.exec(r.stderr)?.[1];
    assert.ok(id);
    const doc = JSON.parse((await cli(["status", id, "--json"])).stdout);
    assert.equal(doc.status, "CANCELLED");
  });

  it("rejects what only works locally", async () => {
    const file = join(fixtures, "sleepy.yaml");
    const r = await cli(["run", file, "-r", "distributed"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a local file; register it first/);
    const t = await cli(["run", "catalog/remote/sleepy", "-t", "after"]);
    assert.equal(t.code, 2);
    const missing = await cli(["run", "catalog/remote/nothing"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no playbook "remote\/nothing" in the catalog/);
  });
});
