// SPEC §16, NATS absent when the server and workers start and up later: both must connect by
// themselves, without a restart, and the server must then publish wake-ups. The NATS here is a
// nats-server of this test's own on a free loopback port (the machine's is left alone).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect } from "nats";
import { Cluster, freePort, natsAvailable, type Proc } from "../support/cluster";
import { missingService } from "../support/services";
import { chaosSkip, logTails, playbook, sleep, tail } from "./support";

const NATS_BIN = "/usr/sbin/nats-server";
const skip = chaosSkip ?? missingService(existsSync(NATS_BIN) ? undefined : `${NATS_BIN} is not installed`);

// Wider than the worker's open claims, so a commit leaves commands pending and publishes.
const fan = playbook(
  "late_fan",
  `  - step: start
    loop: {in: "{{ range(100) | list }}", iterator: i, spec: {mode: parallel, max_in_flight: 100}}
    tool: {kind: noop}
`,
);

async function waitForLine(p: Proc, line: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!line.test(p.output())) {
    assert.ok(Date.now() < deadline, `${p.name} never logged ${line}\n${tail(p.output())}`);
    await sleep(100);
  }
}

describe("chaos: NATS comes up after the server and workers", { skip, timeout: 120_000 }, () => {
  let c: Cluster;
  let nats: ChildProcess | undefined;
  let natsUrl: string;
  const storeDir = mkdtempSync(join(tmpdir(), "noetl-nats-late-"));
  before(async () => {
    natsUrl = `nats://127.0.0.1:${await freePort()}`;
    c = await Cluster.start({ store: "postgres", workers: 1, concurrency: 2, env: { NATS_URL: natsUrl } });
    await c.workerReady(c.workers[0]!);
  });
  after(async () => {
    await c?.stop();
    if (nats && nats.exitCode === null) {
      nats.kill("SIGKILL");
      await new Promise((r) => nats?.once("exit", r));
    }
    rmSync(storeDir, { recursive: true, force: true });
  });

  it("both connect once it is up, and wake-ups are published", async () => {
    await waitForLine(c.server!, /NATS at nats:\/\/127\.0\.0\.1:\d+ is unreachable/);
    const port = new URL(natsUrl).port;
    nats = spawn(NATS_BIN, ["-a", "127.0.0.1", "-p", port, "-js", "-sd", storeDir], { stdio: "ignore" });
    for (let i = 0; (await natsAvailable(natsUrl)) && i < 100; i++) await sleep(100);
    assert.equal(await natsAvailable(natsUrl), undefined, "the test's nats-server did not start");
    await waitForLine(c.server!, /connected to NATS at/);
    const nc = await connect({ servers: natsUrl });
    try {
      const sub = nc.subscribe("noetl.commands.>", { max: 1, timeout: 15_000 });
      const woke = (async () => {
        for await (const m of sub) return m.subject;
      })();
      const { path, version } = await c.register(fan);
      const id = await c.execute(path, {}, version);
      const subject = await woke.catch((e: Error) => `no wake-up: ${e.message}\n${logTails(c)}`);
      assert.equal(subject, "noetl.commands.default");
      assert.equal((await c.waitDone(id, 30_000)).status, "COMPLETED");
    } finally {
      await nc.close();
    }
  });
});
