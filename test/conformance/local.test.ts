// Every shared conformance case through the built CLI: `noetl run FILE --json ARGS…`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../support/cli";
import { startFixtureServer } from "../support/http-fixture";
import { requireConformance } from "../support/paths";
import { createScratchDb, missingService, pgAvailable } from "../support/services";
import { checkOutcome, listCases, substitute } from "./expect";

requireConformance();
const cases = listCases().filter((c) => !c.expect.modes || c.expect.modes.includes("local"));

describe("conformance, local runtime", () => {
  let http: Awaited<ReturnType<typeof startFixtureServer>>;
  let db: Awaited<ReturnType<typeof createScratchDb>> | undefined;
  let pgMissing: string | undefined;
  const tmpRoot = mkdtempSync(join(tmpdir(), "noetl-conf-"));

  before(async () => {
    http = await startFixtureServer();
    pgMissing = missingService(await pgAvailable());
    if (!pgMissing) db = await createScratchDb("noetl_conf");
  });
  after(async () => {
    await http?.close();
    await db?.drop();
    rmSync(tmpRoot, { recursive: true, force: true });
  });

  for (const c of cases) {
    const needsPg = (c.expect.args ?? []).some((a) => a.includes("{pg}"));
    it(c.name, async (t) => {
      if (needsPg && pgMissing) return t.skip(pgMissing);
      const dir = mkdtempSync(join(tmpRoot, `${c.name}-`));
      const args = substitute(c.expect.args ?? [], { tmpdir: dir, http: http.url, pg: db?.url ?? "" });
      const r = await runCli(["run", c.file, "--json", ...args], {
        env: { NOETL_HOME: join(dir, ".noetl") },
      });
      let doc: ReturnType<typeof JSON.parse> | undefined;
      try {
        doc = JSON.parse(r.stdout);
      } catch {
        doc = undefined;
      }
      checkOutcome(c, { exitCode: r.code, doc, stdout: r.stdout, stderr: r.stderr });
    });
  }
});
