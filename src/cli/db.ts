// `noetl db init` / `noetl db validate`: create or check schema `noetl` (both idempotent).
import { loadConfig } from "../config/config";
import type { SchemaReport } from "../store/types";
import { usageError } from "./exit";

export async function dbCommand(action: string | undefined, opts: { json?: boolean }): Promise<number> {
  if (action !== "init" && action !== "validate") {
    throw usageError(
      `${action ? `unknown db action "${action}"` : "missing db action"}; usage: noetl db init | noetl db validate`,
    );
  }
  const config = loadConfig();
  const { openStore } = await import("../store/open");
  const store = await openStore(config.database, { unchecked: true });
  try {
    const report = action === "init" ? await store.migrate() : await store.validate();
    print(report, store.location, action, Boolean(opts.json));
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

function print(r: SchemaReport, location: string, action: string, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...r, location })}\n`);
    return;
  }
  const where = `${r.backend} ${location}`;
  if (r.ok) {
    process.stdout.write(
      `schema noetl is at version ${r.version} (${action === "init" ? "initialised" : "valid"}) in ${where}\n`,
    );
    return;
  }
  const missing = r.missing_tables.length ? `; missing tables: ${r.missing_tables.join(", ")}` : "";
  process.stdout.write(
    `schema noetl is at version ${r.version}, expected ${r.expected}${missing} in ${where}; run \`noetl db init\`\n`,
  );
}
