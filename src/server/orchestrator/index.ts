// Builds the orchestration pieces a server runs: the orchestrator, the wake-up signal for
// long-polling claims, and the lease sweeper.
import { pause } from "../../pause";
import type { Store } from "../../store/types";
import { Orchestrator } from "./orchestrator";
import { WorkSignal } from "./signal";

export interface Orchestration {
  orchestrator: Orchestrator;
  workSignal: WorkSignal;
}

export function createOrchestration(
  store: Store,
  opts: { leaseMs: number; onPending?: () => void; onCancelled?: (executionIds: string[]) => void },
): Orchestration {
  const workSignal = new WorkSignal();
  const orchestrator = new Orchestrator({
    store,
    signal: workSignal,
    leaseMs: opts.leaseMs,
    onPending: opts.onPending,
    onCancelled: opts.onCancelled,
  });
  return { orchestrator, workSignal };
}

/** Runs the lease sweeper until `stop` aborts; errors are logged and the loop goes on. */
export function startSweeper(
  o: Orchestrator,
  stop: AbortSignal,
  log: (line: string) => void,
  everyMs = 1000,
): Promise<void> {
  return (async () => {
    while (!stop.aborted) {
      try {
        const n = await o.sweep();
        if (n > 0) log(`${n} command(s) re-issued after their lease expired`);
      } catch (err) {
        if (!stop.aborted) log(`lease sweep failed: ${(err as Error).message}`);
      }
      await pause(everyMs, stop);
    }
  })();
}
