// `noetl run REF -r distributed`, and `-r auto` with a catalog reference (catalog/PATH,
// catalog://PATH@VERSION): submit to the server, follow, exit like a local run.
import { access } from "node:fs/promises";
import { NoetlError } from "../../errors";
import { requestedWorkload } from "../args";
import type { RemoteOptions } from "./common";
import { isCatalogRef, parseCatalogRef, startExecution } from "./execute";

export interface RemoteRunOptions extends RemoteOptions {
  set?: string | string[];
  payload?: string;
  target?: string;
  dryRun?: boolean;
}

export async function runRemote(ref: string, opts: RemoteRunOptions): Promise<number> {
  if (opts.target !== undefined)
    throw new NoetlError(
      "USAGE",
      "-t/--target works only for local runs; the server starts at the entry step",
    );
  if (opts.dryRun)
    throw new NoetlError(
      "USAGE",
      "--dry-run works only for local runs; see the registered playbook with noetl catalog get PATH",
    );
  if (!isCatalogRef(ref) && (await isFile(ref))) {
    throw new NoetlError(
      "USAGE",
      `${ref} is a local file; register it first (noetl register playbook --file ${ref}), then run catalog/<its metadata.path> -r distributed`,
    );
  }
  const { path, version } = parseCatalogRef(ref);
  const workload = await requestedWorkload(opts);
  return startExecution({ path, version, workload }, { ...opts, wait: true });
}

function isFile(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
