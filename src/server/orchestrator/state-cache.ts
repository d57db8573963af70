// Execution state kept in memory between events, rebuilt from the event log when missing or
// stale. The event log is the truth: after taking an execution's lock, the orchestrator checks
// that the cached state has folded every event (another server may have appended some) and
// refolds from the log if not. State is small; step results stay in their own rows.
import { fold, initialState } from "../../engine/fold";
import type { EngineEvent, EventType, ExecutionState } from "../../engine/types";
import type { Playbook } from "../../playbook/schema";
import { INFORMATIONAL } from "../../store/tx";
import type { EventRecord } from "../../store/types";

export interface Cached {
  playbook: Playbook;
  state: ExecutionState;
  /** event_id of the last event folded into `state`. */
  lastEventId: string;
}

export function toEngineEvent(e: EventRecord): EngineEvent {
  const at = Date.parse(e.created_at);
  return {
    type: e.type as EventType,
    ...(e.step !== undefined ? { step: e.step } : {}),
    ...(e.command_id !== undefined ? { command_id: e.command_id } : {}),
    ...(e.attempt !== undefined ? { attempt: e.attempt } : {}),
    payload: (e.payload ?? {}) as Record<string, unknown>,
    at,
  };
}

export function rebuild(executionId: string, playbook: Playbook, events: EventRecord[]): Cached {
  const state = initialState(executionId, events[0] ? Date.parse(events[0].created_at) : Date.now());
  for (const e of events) fold(state, toEngineEvent(e));
  const last = events.findLast((e) => !INFORMATIONAL.includes(e.type));
  return { playbook, state, lastEventId: last?.event_id ?? "0" };
}

/** A bounded map, least recently used first out. */
export class StateCache {
  private readonly map = new Map<string, Cached>();
  constructor(private readonly capacity = 2000) {}

  get(id: string): Cached | undefined {
    const c = this.map.get(id);
    if (c) {
      this.map.delete(id);
      this.map.set(id, c);
    }
    return c;
  }

  set(id: string, c: Cached): void {
    this.map.delete(id);
    this.map.set(id, c);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  delete(id: string): void {
    this.map.delete(id);
  }

  /** Finished executions need no state; drop them early. */
  forgetFinished(id: string): void {
    const c = this.map.get(id);
    if (c && c.state.status !== "RUNNING" && c.state.status !== "PENDING") this.map.delete(id);
  }
}
