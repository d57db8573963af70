// The engine's vocabulary: events (what happened), commands (what must run), state (folded events).
import type { TaskConfig } from "../playbook/schema";

export type ExecutionStatus = "PENDING" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";

export interface ResultError {
  kind: string;
  message: string;
  code?: string | number;
  retryable?: boolean;
}

/** A step's (or one tool call's) result, as templates see it. */
export interface Envelope {
  status: "ok" | "error" | "skipped";
  data?: unknown;
  error?: ResultError;
  meta?: { attempt?: number; duration_ms?: number };
}

export type EventType =
  | "playbook.initialized"
  | "workflow.initialized"
  | "step.enter"
  | "step.skipped"
  | "command.issued"
  | "command.claimed"
  | "command.started"
  | "command.heartbeat"
  | "call.done"
  | "call.error"
  | "command.completed"
  | "command.failed"
  | "step.exit"
  | "loop.done"
  | "workflow.completed"
  | "workflow.failed"
  | "playbook.completed"
  | "playbook.failed"
  | "execution.cancelled";

export interface EngineEvent {
  type: EventType;
  step?: string;
  command_id?: string;
  attempt?: number;
  payload: Record<string, unknown>;
  /** Milliseconds since the epoch, given by the driver: the engine reads no clock. */
  at: number;
}

/** What the executor decided after running a command's tasks under their policies. */
export type Directive = "continue" | "break" | "jump" | "fail";

/** Payload of command.completed / command.failed: the executor's report. */
export interface CommandReport {
  result: Envelope;
  directive: Directive;
  /** Jump target when directive is "jump". */
  to?: string;
  /** Variables written by policy rules (`then.set`), already rendered. */
  set?: Record<string, unknown>;
}

/** A credential the playbook names for its templates: `keychain.<name>.<field>`. */
export interface KeychainEntry {
  name: string;
  kind?: "credential";
  /** The credential's name in the store (default: `name`). */
  credential?: string;
}

/** Everything a runtime needs to run one step activation (or one loop iteration). */
export interface Command {
  command_id: string;
  execution_id: string;
  step: string;
  run: string;
  iteration?: number;
  attempt: number;
  tasks: TaskConfig[];
  /** The step's own `input`, unrendered; each task's input is laid over it. */
  input?: Record<string, unknown>;
  /** Template context: workload, step results, loop variables, execution_id. */
  context: Record<string, unknown>;
  /** Workbook tasks this command may call by name. */
  workbook?: { name: string; tool: TaskConfig[] }[];
  /** Steps whose recorded result is a secret reference (see secret-ref.ts): read again to run. */
  secrets?: string[];
  /** The playbook's keychain, when this step's templates use `keychain`: read when it runs. */
  keychain?: KeychainEntry[];
}

export interface LoopRun {
  items: unknown[];
  iterator: string;
  parallel: boolean;
  max: number;
  next: number;
  inFlight: number;
  done: number;
  results: unknown[];
  errors: number;
  broken: boolean;
  jump?: string;
}

/** One activation of a step (a step can be entered more than once). */
export interface StepRun {
  id: string;
  step: string;
  startedAt: number;
  pending: number;
  loop?: LoopRun;
  report?: CommandReport;
}

export interface StepTiming {
  step: string;
  status: "COMPLETED" | "FAILED" | "SKIPPED";
  duration_ms: number;
}

export interface ExecutionState {
  executionId: string;
  status: ExecutionStatus;
  vars: Record<string, unknown>;
  results: Record<string, Envelope>;
  runs: Record<string, StepRun>;
  commands: Record<string, { run: string; iteration?: number; attempt: number }>;
  seq: number;
  lastStep?: string;
  finalEntered: boolean;
  result?: unknown;
  error?: string;
  startedAt: number;
  endedAt?: number;
  steps: StepTiming[];
  /** Steps whose result is a secret reference, in the order they ended. */
  secretSteps?: string[];
}

export interface Decision {
  events: EngineEvent[];
  commands: Command[];
}
