// A PID lock file on a directory. Stale locks (their process is gone) are taken over.
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { NoetlError } from "../errors";
import { isAlive } from "../process/alive";

// Directories this process holds: its own PID in a lock file is no proof of staleness.
const held = new Set<string>();

export async function acquireDirLock(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, "noetl.lock");
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fh = await open(file, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      held.add(file);
      return async () => {
        if (!held.delete(file)) return;
        await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (held.has(file) || (pid && pid !== process.pid && isAlive(pid))) {
        throw new NoetlError(
          "CONFLICT",
          `the embedded database in ${dir} is in use by process ${pid || process.pid}; stop it first (or use PostgreSQL for several processes)`,
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new NoetlError("CONFLICT", `cannot lock the embedded database in ${dir}`);
}
