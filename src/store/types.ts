// The Store: everything the server (and later the orchestrator) keeps in PostgreSQL, behind
// one interface with two backends (PGlite embedded, PostgreSQL through postgres.js).
// Ids that are bigints in SQL are strings here: 64-bit ids lose precision in JavaScript.

export type ExecutionStatus = "PENDING" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
];
export type CommandStatus = "PENDING" | "CLAIMED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";

export interface CatalogEntry {
  catalog_id: string;
  path: string;
  version: number;
  kind: string;
  description: string | null;
  content: string;
  doc: unknown;
  created_at: string;
}
export type CatalogSummary = Omit<CatalogEntry, "content" | "doc">;
export type NewCatalogEntry = Pick<CatalogEntry, "path" | "kind" | "content" | "doc" | "description">;

export interface CredentialInfo {
  name: string;
  type: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}
/** A credential as stored: the data is only ever held encrypted (see src/crypto). */
export interface SealedCredential extends Pick<CredentialInfo, "name" | "type" | "description"> {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
}

export interface ExecutionRecord {
  execution_id: string;
  catalog_id: string | null;
  path: string | null;
  version: number | null;
  parent_execution_id: string | null;
  status: ExecutionStatus;
  workload: unknown;
  result: unknown;
  error: unknown;
  started_at: string;
  ended_at: string | null;
}
export type ExecutionSummary = Omit<ExecutionRecord, "workload" | "result">;
export type NewExecution = Pick<ExecutionRecord, "execution_id" | "status"> &
  Partial<Pick<ExecutionRecord, "catalog_id" | "path" | "version" | "parent_execution_id" | "workload">> & {
    parent_command_id?: string | null;
  };
export type ExecutionPatch = Partial<Pick<ExecutionRecord, "status" | "result" | "error">> & {
  ended?: boolean;
};

export interface StepRecord {
  step: string;
  status: string;
  duration_ms: number | null;
}
export interface StepResult {
  execution_id: string;
  step: string;
  /** -1 for the step as a whole; loop iterations are 0, 1, … */
  iteration: number;
  status: string;
  data?: unknown;
  error?: unknown;
  started_at?: string;
  ended_at?: string;
}

export interface EventRecord {
  event_id: string;
  execution_id: string;
  type: string;
  step?: string;
  command_id?: string;
  attempt?: number;
  iteration?: number;
  payload: unknown;
  created_at: string;
}
export type NewEvent = Omit<EventRecord, "event_id" | "created_at">;

export interface CommandRecord {
  command_id: string;
  execution_id: string;
  step: string;
  iteration: number | null;
  attempt: number;
  status: CommandStatus;
  pool: string;
  /** The command as the engine issued it (src/engine/types.ts Command). */
  payload: unknown;
  worker_id: string | null;
  lease_token: string | null;
  lease_until: string | null;
}
export type NewCommand = Pick<CommandRecord, "command_id" | "execution_id" | "step" | "payload"> &
  Partial<Pick<CommandRecord, "iteration" | "pool" | "attempt" | "worker_id" | "lease_token">> & {
    /**
     * PENDING (claimable); RUNNING when the server runs it itself; CLAIMED when it is handed
     * straight to a waiting worker, with `lease_ms`.
     */
    status?: "PENDING" | "RUNNING" | "CLAIMED";
    lease_ms?: number;
  };
export interface FinishRequest {
  command_id: string;
  lease_token: string;
  status: "COMPLETED" | "FAILED";
}
export interface ReportId {
  command_id: string;
  attempt: number;
  type: string;
}
/** A report batch decided on cached state, written by one statement (Store.applyReport). */
export interface ReportApply {
  execution_id: string;
  /** The last state-relevant event id the decision was made on ("0" for none). */
  expect_last: string;
  finish: FinishRequest[];
  /** In log order; execution_id is implied. */
  events: Omit<NewEvent, "execution_id">[];
  steps: Pick<StepResult, "step" | "status" | "data" | "error" | "started_at" | "ended_at">[];
  commands: NewCommand[];
  /** Set when the execution ends. */
  execution?: { status: ExecutionStatus; result?: unknown; error?: unknown };
}
export interface ReportApplied {
  /** false: nothing was written (stale state, a lease not current, or a parent to tell). */
  applied: boolean;
  reason?: "stale" | "lease" | "parent";
  /** The execution's last state-relevant event id after the write. */
  last: string | null;
  /** The events with a command_id that were logged, as reportKey(command_id, attempt, type). */
  logged: Set<string>;
}
export interface ClaimRequest {
  pool: string;
  worker_id: string;
  lease_ms: number;
  limit: number;
}

export interface WorkerRecord {
  worker_id: string;
  pool: string;
  host: string | null;
  pid: number | null;
  concurrency: number | null;
  status: string;
  heartbeat_at: string;
  started_at: string;
}
export type WorkerHeartbeat = Pick<WorkerRecord, "worker_id" | "pool"> &
  Partial<Pick<WorkerRecord, "host" | "pid" | "concurrency" | "status">>;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface SchemaReport {
  ok: boolean;
  backend: Backend;
  version: number;
  expected: number;
  applied: number[];
  missing_tables: string[];
}

export type Backend = "pglite" | "postgres";

/** Writes that must commit together; the orchestrator's unit of work. */
export interface StoreTx {
  /**
   * Serialises work on one execution until the transaction ends (advisory lock), and answers the
   * id of its last event that changes the engine's state (null when none).
   */
  lockExecution(executionId: string): Promise<string | null>;
  createExecution(e: NewExecution): Promise<void>;
  updateExecution(executionId: string, patch: ExecutionPatch): Promise<void>;
  /** Appends in order; a repeat of (command_id, attempt, type) is skipped and not returned. */
  appendEvents(events: NewEvent[]): Promise<EventRecord[]>;
  recordStep(r: StepResult): Promise<void>;
  insertCommands(commands: NewCommand[]): Promise<void>;
  /** Leases up to `limit` pending commands of a pool (FOR UPDATE SKIP LOCKED). */
  claimCommands(req: ClaimRequest): Promise<CommandRecord[]>;
  /** Fenced by the lease token: false when the lease is foreign or the command already finished. */
  finishCommand(commandId: string, leaseToken: string, status: "COMPLETED" | "FAILED"): Promise<boolean>;
  /** finishCommand for many: answers the leases that matched, as `leaseKey(command_id, lease_token)`. */
  finishCommands(items: FinishRequest[]): Promise<Set<string>>;
  /** Which of these reports are already in the log, as `reportKey(command_id, attempt, type)`. */
  loggedReports(items: ReportId[]): Promise<Set<string>>;
  allEvents(executionId: string): Promise<EventRecord[]>;
  /** The normalised playbook an execution runs (from its catalog entry). */
  executionSource(executionId: string): Promise<{ doc: unknown } | undefined>;
  catalogEntry(path: string, version: number | "latest"): Promise<CatalogEntry | undefined>;
  /** Every unfinished command of the execution becomes CANCELLED. */
  cancelCommands(executionId: string): Promise<void>;
  runningChildren(executionId: string): Promise<string[]>;
  /** For a sub-playbook execution: the parent's command waiting on it. */
  parentCommand(executionId: string): Promise<{ execution_id: string; command_id: string } | undefined>;
  /** Expired leases → PENDING with attempt + 1 and no token; returns the re-issued commands. */
  reissueExpired(limit: number): Promise<CommandRecord[]>;
  /** Extends a live lease; undefined when the token is not the command's current one. */
  extendLease(commandId: string, leaseToken: string, leaseMs: number): Promise<string | undefined>;
}

export interface StoreHooks {
  /** Called with the duration of each appendEvents call, for the metrics. */
  onAppend?: (ms: number, count: number) => void;
}

export interface Store {
  readonly backend: Backend;
  /** Where the data lives, passwords redacted. */
  readonly location: string;

  migrate(): Promise<SchemaReport>;
  validate(): Promise<SchemaReport>;
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** StoreTx.claimCommands as one statement of its own (autocommit). */
  claimCommands: StoreTx["claimCommands"];
  /** StoreTx.extendLease as one statement of its own (autocommit). */
  extendLease: StoreTx["extendLease"];
  /** Records a report batch in one statement when its checks pass; writes nothing otherwise. */
  applyReport(p: ReportApply): Promise<ReportApplied>;
  close(): Promise<void>;

  registerCatalog(entry: NewCatalogEntry): Promise<CatalogEntry>;
  listCatalog(filter: { kind?: string; path?: string }): Promise<CatalogSummary[]>;
  getCatalog(path: string, version: number | "latest"): Promise<CatalogEntry | undefined>;
  getCatalogById(catalogId: string): Promise<CatalogEntry | undefined>;

  putCredential(c: SealedCredential): Promise<{ created: boolean }>;
  listCredentials(): Promise<CredentialInfo[]>;
  getCredential(name: string): Promise<(SealedCredential & CredentialInfo) | undefined>;
  deleteCredential(name: string): Promise<boolean>;

  listExecutions(q: {
    status?: ExecutionStatus;
    limit: number;
    cursor?: string;
  }): Promise<Page<ExecutionSummary>>;
  getExecution(executionId: string): Promise<ExecutionRecord | undefined>;
  listSteps(executionId: string): Promise<StepRecord[]>;
  listEvents(executionId: string, q: { after?: string; limit: number }): Promise<EventRecord[]>;
  listWorkers(): Promise<WorkerRecord[]>;
  heartbeatWorker(w: WorkerHeartbeat): Promise<void>;
  /** Counts for /metrics. */
  statusCounts(): Promise<{ executions: Record<string, number>; commands: Record<string, number> }>;
}
