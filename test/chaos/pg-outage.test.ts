// SPEC §16, a PostgreSQL restart as the server sees one: its connections drop and new ones are
// refused for a few seconds, then it is back. The machine's PostgreSQL is shared with the other
// tests, so the server reaches it through a TCP relay this test owns; the outage is the relay
// closing every connection and refusing new ones. Work submitted before the outage must finish
// afterwards, each step recorded once, without restarting anything.
import assert from "node:assert/strict";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Cluster, freePort } from "../support/cluster";
import {
  auditExecutions,
  chaosCluster,
  chaosSkip,
  playbook,
  shellChain,
  sleep,
  submitAll,
  tail,
  waitAll,
  withLogs,
  withoutTiming,
} from "./support";

const OUTAGE_MS = 3000;

/** A relay to PostgreSQL that can be taken down (connections cut, new ones refused) and back up. */
class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  connections = 0;
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      this.connections++;
      const upstream = tcpConnect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("error", () => {}).on("close", () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("close", end);
      upstream.on("close", end);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const STEPS = 4;
const chain = playbook("outage", shellChain(STEPS, 0.4));

describe("chaos: PostgreSQL unreachable for a while (as in a restart)", {
  skip: chaosSkip,
  timeout: 180_000,
}, () => {
  let c: Cluster;
  let relay: Relay;
  before(async () => {
    c = await chaosCluster({ deferServer: true });
    const db = new URL(c.databaseUrl as string);
    relay = new Relay(await freePort(), { host: db.hostname, port: Number(db.port || 5432) });
    await relay.up();
    const viaRelay = new URL(db);
    viaRelay.port = String(relay.port);
    await c.startServer(120_000, { NOETL_DATABASE_URL: viaRelay.toString() });
    for (const w of c.workers) await c.workerReady(w);
  });
  after(async () => {
    await relay?.down();
    await c?.stop();
  });

  it("connections cut and refused for 3 s mid-run: the executions complete, each step once", async () => {
    const { path, version } = await c.register(chain);
    const t0 = Date.now();
    const ids = await submitAll(
      c,
      path,
      version,
      Array.from({ length: 8 }, (_, n) => ({ n })),
      8,
    );
    await sleep(600); // steps running and reporting
    const before = relay.connections;
    await relay.down();
    // Meanwhile the API says the database is unavailable, and nothing dies.
    await sleep(OUTAGE_MS / 2);
    const during = await c.api("GET", `/api/executions/${ids[0]}/status`).catch((e: Error) => e);
    await sleep(OUTAGE_MS / 2);
    await relay.up();
    assert.ok(!(during instanceof Error), `the server stopped answering: ${during}`);
    assert.ok(during.status >= 500, `a status read during the outage answered ${during.status}`);
    const docs = await withLogs(c, () => waitAll(c, ids, 120_000));
    const { problems } = await auditExecutions(c, withoutTiming(docs), (i) => ({
      stdout: `${STEPS}-${i}\n`,
      stderr: "",
      returncode: 0,
    }));
    for (const p of [c.server, ...c.workers])
      assert.equal(p?.child.exitCode, null, `${p?.name} died\n${tail(p?.output() ?? "")}`);
    assert.ok(relay.connections > before, "the server connected again after the outage");
    console.log(
      `# PostgreSQL unreachable for ${OUTAGE_MS} ms mid-run; ${ids.length} executions complete in ` +
        `${Date.now() - t0} ms; the server opened ${relay.connections - before} connections afterwards`,
    );
    assert.deepEqual(problems, [], problems.join("\n\n"));
  });
});
