// The remote commands of the built CLI against a real server and worker on 127.0.0.1:
// register (file, dir, invalid), catalog, execute, status, cancel, events, credentials.
// Needs `npm run build` (npm test builds first).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Cluster, fixtures, noetl, startCluster } from "./remote-support";

const SECRET = "s3cr3t-Value-Never-Printed";

describe("remote commands (built CLI, real server)", { timeout: 240_000 }, () => {
  let cluster: Cluster;
  // --host/--port, the way the seed's examples address the server.
  const at = () => ["--host", "127.0.0.1", "--port", new URL(cluster.url).port];
  const cli = (args: string[], timeoutMs?: number) => noetl([...args, ...at()], { timeoutMs });
  const startId = async (path: string, ...extra: string[]) => {
    const r = await cli(["execute", "playbook", path, "--json", ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).execution_id as string;
  };

  before(async () => {
    cluster = await startCluster({ secretKey: "remote-test-secret-key-0123456789" });
  });
  after(() => cluster?.stop());

  it("registers one file, and every YAML file under a directory", async () => {
    const one = await cli(["register", "playbook", "--file", join(fixtures, "playbooks/hello.yaml")]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^registered remote\/hello@1 /m);
    const dir = await cli(["register", "playbook", "--dir", join(fixtures, "playbooks"), "--json"]);
    assert.equal(dir.code, 0, dir.stderr);
    const doc = JSON.parse(dir.stdout);
    assert.deepEqual(
      doc.registered.map((r: { path: string; version: number }) => `${r.path}@${r.version}`),
      ["remote/hello@2", "remote/chain@1"],
    );
    assert.deepEqual(doc.invalid, []);
  });

  it("refuses an invalid playbook with exit 2 and positions in the local file", async () => {
    const bad = join(fixtures, "mixed/sub/bad.yml");
    const single = await cli(["register", "playbook", "--file", bad]);
    assert.equal(single.code, 2);
    assert.match(single.stderr, new RegExp(`^${escapeRe(bad)}:6:19: unknown tool kind "nope"$`, "m"));
    assert.match(single.stderr, new RegExp(`^${escapeRe(bad)}:7:11: .*missing`, "m"));
    assert.doesNotMatch(single.stderr, /playbook\.yaml/);

    const mixed = await cli(["register", "playbook", "--dir", join(fixtures, "mixed")]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stdout, /^registered remote\/good@1 /m, "the valid file is still registered");
    assert.match(mixed.stderr, /bad\.yml:6:19: unknown tool kind/);
    assert.match(mixed.stderr, /1 of 2 files are not valid playbooks/);
  });

  it("lists and gets catalog entries", async () => {
    const list = await cli(["catalog", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^PATH\s+VERSION\s+KIND\s+DESCRIPTION$/m);
    assert.match(list.stdout, /^remote\/hello\s+2\s+Playbook\s+Says hello$/m);
    const json = JSON.parse((await cli(["catalog", "list", "playbooks", "--json"])).stdout);
    assert.ok(json.items.some((e: { path: string }) => e.path === "remote/chain"));

    const get = await cli(["catalog", "get", "remote/hello", "--version", "1"]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^apiVersion: noetl\.io\/v2$/m);
    assert.match(get.stdout, /msg: "hello \{\{ who \}\}"/);
    const entry = JSON.parse((await cli(["catalog", "get", "remote/hello", "--json"])).stdout);
    assert.equal(entry.version, 2);
    const missing = await cli(["catalog", "get", "remote/hello", "--version", "9"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^noetl: catalog entry "remote\/hello" version 9 not found\n$/);
  });

  it("executes without waiting, then shows status and events", async () => {
    const started = await cli(["execute", "playbook", "remote/chain"]);
    assert.equal(started.code, 0, started.stderr);
    const id = /started execution (\w+)/.exec(started.stdout)?.[1];
    assert.ok(id, started.stdout);
    const followed = await cli(["events", id, "--follow"]);
    assert.equal(followed.code, 0, followed.stderr);
    const lines = followed.stdout.trim().split("\n");
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} playbook\.initialized +remote\/chain/);
    assert.ok(
      lines.some((l) => / workflow\.completed +result \{"vs":\[10,20,30\]\}$/.test(l)),
      followed.stdout,
    );

    const status = await cli(["status", id]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^execution ${id}  COMPLETED$`, "m"));
    assert.match(status.stdout, /^playbook +remote\/chain v1$/m);
    assert.match(status.stdout, /^ {2}✓ start +\d/m);
    const doc = JSON.parse((await cli(["execute", "status", id, "--json"])).stdout);
    assert.equal(doc.status, "COMPLETED");
    assert.deepEqual(doc.result, { vs: [10, 20, 30] });

    const page = await cli(["events", id, "--json"]);
    assert.equal(page.code, 0, page.stderr);
    const events = page.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(events[0].type, "playbook.initialized");
    assert.equal(events.at(-1).type, "playbook.completed");
    const after = await cli(["events", id, "--json", "--after", events.at(-2).event_id]);
    assert.equal(after.stdout.trim().split("\n").length, 1);
  });

  it("cancels a running execution", async () => {
    const reg = await cli(["register", "playbook", "--file", join(fixtures, "sleepy.yaml")]);
    assert.equal(reg.code, 0, reg.stderr);
    const id = await startId("remote/sleepy", "--set", "seconds=30");
    // Wait until a worker has the command, so the cancellation has something to stop.
    for (let i = 0; i < 100; i++) {
      const ev = await cli(["events", id, "--json"]);
      if (/"command\.started"/.test(ev.stdout)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const cancel = await cli(["cancel", id]);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(cancel.stdout, `execution ${id}: CANCELLED\n`);
    const follow = await cli(["status", id, "--follow"]);
    assert.equal(follow.code, 130, "following a cancelled execution exits like an interrupted run");
    assert.match(follow.stdout, /^CANCELLED after /m);
    const doc = JSON.parse((await cli(["status", id, "--json"])).stdout);
    assert.equal(doc.status, "CANCELLED");
    const unknown = await cli(["cancel", "no-such-execution"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /execution no-such-execution not found/);
  });

  it("registers a credential without ever printing its secret", async () => {
    const file = join(fixtures, "credential.yaml");
    const first = await cli(["register", "credential", "--file", file]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, "registered credential remote_pg (postgres)\n");
    const again = await cli(["register", "credential", "--file", file, "--json"]);
    assert.deepEqual(JSON.parse(again.stdout), { name: "remote_pg", type: "postgres", created: false });
    const list = await cli(["catalog", "list", "credentials"]);
    assert.match(list.stdout, /^remote_pg\s+postgres$/m);
    const listJson = await cli(["catalog", "list", "credentials", "--json", "-v"]);
    const broken = await cli(["register", "credential", "--file", join(fixtures, "credential-broken.txt")]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /credential-broken\.txt:4:1: /);
    for (const r of [first, again, list, listJson, broken])
      assert.ok(!(r.stdout + r.stderr).includes(SECRET), "the secret never appears");
  });

  it("says where it looked when no server answers", async () => {
    const r = await noetl(["catalog", "list", "--server-url", "http://127.0.0.1:9"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "noetl: cannot reach the NoETL server at http://127.0.0.1:9 (is it running? `noetl server start`)\n",
    );
    const viaEnv = await noetl(["catalog", "list"], { env: { NOETL_SERVER_URL: cluster.url } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
