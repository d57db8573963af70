// The built bundle end to end: `noetl server run` on loopback with the default embedded store,
// register / list / get over HTTP, graceful SIGTERM; `noetl db`; configuration errors.
// Needs `npm run build` (npm test builds first).
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { MIGRATIONS } from "../../src/store/migrations/index";

const BUNDLE = resolve("dist/noetl.cjs");
const hello = readFileSync(new URL("./fixtures/hello.yaml", import.meta.url), "utf8");
const started: ChildProcess[] = [];
let home: string;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NOETL_HOME: home, ...extra };
  for (const k of Object.keys(e))
    if (k.startsWith("POSTGRES_") || k === "NOETL_DATABASE_URL" || k === "NOETL_API_TOKEN") delete e[k];
  return e;
}

function noetl(args: string[], extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BUNDLE, ...args], {
    env: env(extra),
    encoding: "utf8",
    timeout: 60_000,
  });
}

async function startServer(host: string, extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BUNDLE, "server", "run", "--host", host, "--port", "0"], {
    env: env(extra),
  });
  started.push(child);
  const out = { stderr: "" };
  child.stderr.on("data", (d) => {
    out.stderr += d;
  });
  const exited = new Promise<number | string | null>((r) =>
    child.on("exit", (code, signal) => r(code ?? signal)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line within 60 s: ${out.stderr}`)),
      60_000,
    );
    child.stderr.on("data", () => {
      const m = /listening on (http:\/\/[^\s]+:\d+)/.exec(out.stderr);
      if (!m) return;
      clearTimeout(timer);
      resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code}) before listening: ${out.stderr}`)));
  });
  return { child, url, exited, out };
}

describe("noetl server run / db (built bundle)", () => {
  before(async () => {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run build\` first`);
    home = await mkdtemp(join(tmpdir(), "noetl-cli-test-"));
  });
  after(async () => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await rm(home, { recursive: true, force: true });
  });

  it("serves the catalog on loopback and stops with exit 0 on SIGTERM", async () => {
    const { child, url, exited, out } = await startServer("127.0.0.1");
    assert.doesNotMatch(out.stderr, /WARNING/, "loopback needs no token warning");

    const reg = await fetch(`${url}/api/catalog/register`, {
      method: "POST",
      body: hello,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(reg.status, 201);
    assert.deepEqual(await reg.json(), {
      status: "success",
      path: "examples/hello",
      version: 1,
      catalog_id: "1",
      kind: "Playbook",
    });
    const list = (await (await fetch(`${url}/api/catalog`)).json()) as { items: { path: string }[] };
    assert.deepEqual(
      list.items.map((e) => e.path),
      ["examples/hello"],
    );
    const got = (await (await fetch(`${url}/api/catalog/examples/hello`)).json()) as { content: string };
    assert.equal(got.content, hello);

    child.kill("SIGTERM");
    assert.equal(await exited, 0, out.stderr);
    assert.match(out.stderr, /stopped/);
  });

  it("warns loudly when bound beyond loopback without NOETL_API_TOKEN", async () => {
    const { child, exited, out } = await startServer("0.0.0.0", { NOETL_DATA_DIR: join(home, "data-warn") });
    assert.match(out.stderr, /WARNING: NOETL_API_TOKEN is not set/);
    child.kill("SIGINT");
    assert.equal(await exited, 0, out.stderr);
  });

  it("db init and db validate are idempotent on the embedded store", () => {
    for (const args of [
      ["db", "init"],
      ["db", "init"],
      ["db", "validate"],
    ]) {
      const r = noetl(args);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`schema noetl is at version ${MIGRATIONS.length}\\b`));
    }
    const json = noetl(["db", "validate", "--json"]);
    assert.equal(JSON.parse(json.stdout).ok, true);
  });

  it("stops with one sentence on a bad configuration value, and on a bad action", () => {
    const bad = noetl(["server", "run"], { NOETL_PORT: "abc" });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /NOETL_PORT "abc" is not valid/);
    const action = noetl(["server", "launch"]);
    assert.equal(action.status, 2);
    assert.match(action.stderr, /unknown server action "launch"; usage: noetl server run/);
    assert.equal(noetl(["db", "drop"]).status, 2);
  });
});
