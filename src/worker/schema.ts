// What the worker accepts from the server. A command is checked for the fields the worker
// itself relies on (ids, lease, tasks); the rest of it is the executor's business.
import * as v from "valibot";
import type { Command } from "../engine/types";

const Id = v.pipe(v.string(), v.minLength(1));

const ClaimedSchema = v.looseObject({
  command_id: Id,
  execution_id: Id,
  step: v.string(),
  run: v.string(),
  attempt: v.pipe(v.number(), v.integer(), v.minValue(1)),
  tasks: v.array(v.looseObject({ kind: v.string() })),
  context: v.record(v.string(), v.unknown()),
  lease_token: Id,
  lease_ms: v.optional(v.pipe(v.number(), v.minValue(1))),
});

export type Claimed = Command & { lease_token: string; lease_ms?: number };

export interface ParsedClaim {
  commands: Claimed[];
  /** Entries that are not commands: reported by the caller, never run. */
  rejected: string[];
}

export function parseClaim(body: unknown): ParsedClaim {
  const list = (body as { commands?: unknown } | undefined)?.commands;
  if (!Array.isArray(list)) return { commands: [], rejected: ["the claim answer has no commands list"] };
  const commands: Claimed[] = [];
  const rejected: string[] = [];
  for (const item of list) {
    const r = v.safeParse(ClaimedSchema, item);
    if (r.success) commands.push(r.output as unknown as Claimed);
    else rejected.push(`${v.summarize(r.issues)} in ${JSON.stringify(item).slice(0, 200)}`);
  }
  return { commands, rejected };
}

export const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

export const StatusSchema = v.looseObject({
  execution_id: v.string(),
  status: v.string(),
  error: v.optional(v.nullable(v.string())),
});

export const StartedSchema = v.looseObject({ execution_id: Id });

export const CredentialSchema = v.looseObject({ data: v.record(v.string(), v.unknown()) });
