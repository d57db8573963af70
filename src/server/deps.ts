// What the HTTP app needs from the outside world; tests build it with a throwaway store.
import type { Config } from "../config/config";
import type { SecretBox } from "../crypto/secret-box";
import type { Store } from "../store/types";
import type { Metrics } from "./metrics";
import type { Orchestrator } from "./orchestrator/orchestrator";
import type { WorkSignal } from "./orchestrator/signal";

export interface AppDeps {
  store: Store;
  config: Pick<Config, "apiToken" | "secretKey" | "server">;
  metrics: Metrics;
  orchestrator: Orchestrator;
  /** Wakes long-polling claims when commands become claimable. */
  workSignal: WorkSignal;
  /** Undefined when NOETL_SECRET_KEY is not set: credentials cannot be stored then. */
  secretBox?: SecretBox;
  /** Aborted at shutdown, so long-lived event streams end and the server can close. */
  shutdown: AbortSignal;
  /** How often an event stream looks for new events. */
  pollMs?: number;
  version: string;
}
