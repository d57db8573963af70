// Every shared conformance case through a real cluster: register the YAML, execute it with the
// case's --set args as workload, wait for the end, check GET /api/executions/{id} like a local
// run's --json document (COMPLETED ↔ exit 0, otherwise exit 1). Two set-ups: PostgreSQL + NATS
// with two workers, and the embedded default (PGlite, no NATS) with one.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { asList, parseSets } from "../../src/cli/args";
import { Cluster, natsAvailable } from "../support/cluster";
import { startFixtureServer } from "../support/http-fixture";
import { requireConformance } from "../support/paths";
import { createScratchDb, missingService, pgAvailable } from "../support/services";
import { type Case, checkOutcome, listCases, substitute } from "./expect";

requireConformance();
const cases = listCases();

/** The values following each `--set` in a case's args. */
function setsOf(args: string[]): string[] {
  const sets: string[] = [];
  for (let i = 0; i < args.length; i++) if (args[i] === "--set") sets.push(...asList(args[++i]));
  return sets;
}

const pgReason = await pgAvailable();
const natsReason = await natsAvailable();

const setups = [
  {
    name: "PostgreSQL + NATS, two workers",
    store: "postgres" as const,
    nats: true,
    workers: 2,
    missing: pgReason ?? natsReason,
  },
  {
    name: "embedded PGlite, one worker",
    store: "pglite" as const,
    nats: false,
    workers: 1,
    missing: undefined,
  },
];

for (const setup of setups) {
  const skip = missingService(setup.missing);
  describe(`conformance, distributed: ${setup.name}`, { skip, timeout: 600_000 }, () => {
    let cluster: Cluster;
    let http: Awaited<ReturnType<typeof startFixtureServer>>;
    let db: Awaited<ReturnType<typeof createScratchDb>> | undefined;
    const pgMissing = missingService(pgReason);
    const tmpRoot = mkdtempSync(join(tmpdir(), "noetl-dconf-"));

    before(async () => {
      http = await startFixtureServer();
      if (!pgMissing) db = await createScratchDb("noetl_dconf");
      cluster = await Cluster.start({
        store: setup.store,
        nats: setup.nats,
        workers: setup.workers,
        concurrency: 4,
      });
    });
    after(async () => {
      await cluster?.stop();
      await http?.close();
      await db?.drop();
      rmSync(tmpRoot, { recursive: true, force: true });
    });

    for (const c of cases) {
      const excluded = c.expect.modes && !c.expect.modes.includes("distributed");
      const needsPg = (c.expect.args ?? []).some((a) => a.includes("{pg}"));
      it(c.name, async (t) => {
        if (excluded) return t.skip(`the case runs in ${c.expect.modes?.join(", ")} mode only`);
        if (needsPg && pgMissing) return t.skip(pgMissing);
        await runCase(cluster, c, {
          tmpdir: mkdtempSync(join(tmpRoot, `${c.name}-`)),
          http: http.url,
          pg: db?.url ?? "",
        });
      });
    }
  });
}

async function runCase(cluster: Cluster, c: Case, values: Record<string, string>): Promise<void> {
  const workload = parseSets(setsOf(substitute(c.expect.args ?? [], values)));
  const { path, version } = await cluster.register(readFileSync(c.file, "utf8"));
  const id = await cluster.execute(path, workload, version);
  const doc = await cluster.waitDone(id, 60_000);
  const text = JSON.stringify(doc, null, 1);
  checkOutcome(c, {
    exitCode: doc.status === "COMPLETED" ? 0 : 1,
    doc: { ...doc, error: doc.error ?? undefined },
    stdout: text,
    stderr: doc.status === "COMPLETED" ? "" : cluster.logs(1500),
  });
}
