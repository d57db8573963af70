// `noetl worker start|status|stop` of the built bundle: named workers beside a started server,
// one PID file and log each, stop by name, the ambiguity of several, --all, and a worker
// started while the server is down.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { alive, cleanup, freePort, logLines, makeHome, noetl, readPid, requireBundle } from "./helpers";

let home: string;
let port: number;
const seen: number[] = [];
const T = { timeout: 180_000 };

const w = (args: string[]) =>
  noetl(["worker", ...args], { home, env: { NOETL_SERVER_URL: `http://127.0.0.1:${port}` } });

async function startWorker(name: string, extra: string[] = []): Promise<number> {
  const r = await w(["start", "--name", name, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const pid = readPid(home, `noetl_worker_${name}.pid`);
  assert.ok(pid, `PID file of ${name}`);
  seen.push(pid);
  assert.match(r.stdout, new RegExp(`worker "${name}" started \\(PID ${pid};`));
  return pid;
}

async function statusDoc(): Promise<{ code: number | null; doc: any }> {
  const r = await w(["status", "--json"]);
  return { code: r.code, doc: JSON.parse(r.stdout) };
}

describe("noetl worker start / status / stop", () => {
  before(async () => {
    requireBundle();
    home = await makeHome();
    port = await freePort();
  });
  after(() => cleanup(home, seen));

  it("starts a worker while the server is down, without failing", T, async () => {
    const r = await w(["start"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /not reachable yet/);
    const pid = readPid(home, "noetl_worker_worker.pid");
    assert.ok(pid && alive(pid));
    seen.push(pid);
    const { code, doc } = await statusDoc();
    assert.equal(code, 0);
    assert.equal(doc.workers[0].name, "worker");
    assert.equal(doc.workers[0].registered, null, "server not reachable: cannot say");
    const s = await w(["stop"]);
    assert.equal(s.code, 0, s.stderr);
    assert.ok(!alive(pid));
    assert.equal((await statusDoc()).code, 3);
  });

  it("--port replaces only the port of NOETL_SERVER_URL, as for every remote command", T, async () => {
    const other = await freePort();
    const r = await w(["start", "--name", "ported", "--port", String(other)]);
    assert.equal(r.code, 0, r.stderr);
    const pid = readPid(home, "noetl_worker_ported.pid");
    assert.ok(pid);
    seen.push(pid);
    assert.match(r.stdout, new RegExp(`server http://127\\.0\\.0\\.1:${other};`));
    const s = await w(["stop", "--name", "ported"]);
    assert.equal(s.code, 0, s.stderr);
  });

  it("runs two named workers and stops them one by one", T, async () => {
    const srv = await noetl(["server", "start", "--host", "127.0.0.1", "--port", String(port)], { home });
    assert.equal(srv.code, 0, srv.stderr);
    seen.push(readPid(home) as number);

    const a = await startWorker("a");
    const b = await startWorker("b", ["--concurrency", "2"]);
    const refused = await w(["start", "--name", "a"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /worker "a" is already running/);

    const { code, doc } = await statusDoc();
    assert.equal(code, 0);
    assert.equal(doc.running, 2);
    assert.deepEqual(
      doc.workers.map((x: any) => [x.name, x.pid, x.registered]),
      [
        ["a", a, true],
        ["b", b, true],
      ],
    );
    const listed = (await (await fetch(`http://127.0.0.1:${port}/api/workers`)).json()) as {
      items: Array<{ pid: number; concurrency: number }>;
    };
    assert.equal(listed.items.find((x) => x.pid === b)?.concurrency, 2);

    const ambiguous = await w(["stop"]);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /2 workers are running \(a, b\).*--name/);
    assert.ok(alive(a) && alive(b));

    const sa = await w(["stop", "--name", "a"]);
    assert.equal(sa.code, 0, sa.stderr);
    assert.ok(!alive(a) && alive(b));
    assert.ok(!existsSync(join(home, "noetl_worker_a.pid")));
    const after = await statusDoc();
    assert.deepEqual(
      after.doc.workers.map((x: any) => x.name),
      ["b"],
    );

    const sb = await w(["stop", "--name", "b"]);
    assert.equal(sb.code, 0, sb.stderr);
    assert.ok(!alive(b));
    assert.equal((await statusDoc()).code, 3);
    for (const name of ["a", "b"]) {
      const lines = logLines(home, `worker-${name}.log`);
      assert.ok(
        lines.some((l) => /started/.test(l)),
        `worker-${name}.log: ${lines.join("\n")}`,
      );
      assert.ok(lines.some((l) => /SIGTERM received/.test(l)));
    }
  });

  it("stops every worker with --all", T, async () => {
    const x = await startWorker("x");
    const y = await startWorker("y");
    const r = await w(["stop", "--all"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /worker "x" stopped[\s\S]*worker "y" stopped/);
    assert.ok(!alive(x) && !alive(y));
    assert.equal((await noetl(["server", "stop"], { home })).code, 0);
  });

  it("rejects a bad worker name in one sentence", async () => {
    const r = await w(["start", "--name", "a/b"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^noetl: --name "a\/b" is not valid/);
  });
});
