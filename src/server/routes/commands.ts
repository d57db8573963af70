// The worker protocol (docs/PROTOCOL.md): claim with a lease, heartbeat, report in batches.
import * as v from "valibot";
import { NoetlError } from "../../errors";
import type { CommandRecord } from "../../store/types";
import type { AppDeps } from "../deps";
import type { IncomingEvent } from "../orchestrator/orchestrator";
import { type HandedCommand, ReportClaim } from "../orchestrator/signal";
import { jsonBody, pathParam } from "../request";
import type { RouteDef } from "../route";

const Name = v.pipe(
  v.string(),
  v.regex(/^[^\u0000-\u001f\u007f]{1,200}$/, "must be 1-200 printable characters"),
);

const ClaimBody = v.strictObject({
  worker_id: Name,
  pool: v.optional(Name, "default"),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64)), 1),
  wait_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(30_000)), 0),
});

const HeartbeatBody = v.strictObject({ worker_id: Name, lease_token: Name });

const EventTypes = [
  "command.started",
  "call.done",
  "call.error",
  "command.completed",
  "command.failed",
] as const;
const Report = v.strictObject({
  result: v.looseObject({ status: v.picklist(["ok", "error", "skipped"]) }),
  directive: v.picklist(["continue", "break", "jump", "fail"]),
  to: v.optional(v.string()),
  set: v.optional(v.record(v.string(), v.unknown())),
});
const BatchBody = v.strictObject({
  worker_id: Name,
  events: v.pipe(
    v.array(
      v.pipe(
        v.strictObject({
          command_id: Name,
          attempt: v.pipe(v.number(), v.integer(), v.minValue(1)),
          lease_token: v.optional(Name),
          type: v.picklist(EventTypes),
          payload: v.optional(v.record(v.string(), v.unknown()), {}),
          at: v.optional(v.number()),
        }),
        v.check(
          (e) => (e.type !== "command.completed" && e.type !== "command.failed") || v.is(Report, e.payload),
          "a terminal event's payload must be a report {result, directive, to?, set?}",
        ),
      ),
    ),
    v.maxLength(1000),
  ),
  /** "And lease me up to `limit` commands": the answer carries them (one request per step). */
  claim: v.optional(
    v.strictObject({
      pool: v.optional(Name, "default"),
      limit: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(64)),
    }),
  ),
});

const WorkerBody = v.strictObject({
  worker_id: Name,
  pool: v.optional(Name, "default"),
  name: v.optional(Name),
  host: v.optional(v.pipe(v.string(), v.maxLength(200))),
  pid: v.optional(v.pipe(v.number(), v.integer())),
  concurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  running: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  status: v.optional(v.pipe(v.string(), v.maxLength(50))),
});

export function commandRoutes(deps: AppDeps): RouteDef[] {
  const { store, orchestrator, workSignal } = deps;
  const leaseMs = orchestrator.deps.leaseMs;
  return [
    {
      method: "POST",
      path: "/api/commands/claim",
      tag: "workers",
      summary: "Lease up to `limit` pending commands; waits up to wait_ms for work (long-poll)",
      body: ClaimBody,
      responses: { 200: "{commands: [{…command, lease_token, lease_until, lease_ms}]}" },
      handler: async (c) => {
        const b = await jsonBody(c, ClaimBody);
        const deadline = Date.now() + b.wait_ms;
        // A worker that hung up (it is stopping) must not be leased commands it will never see:
        // they would sit unclaimable until the lease expires.
        const gone = c.req.raw.signal;
        const stopWaiting = new AbortController();
        const stop = () => stopWaiting.abort();
        deps.shutdown.addEventListener("abort", stop, { once: true });
        gone.addEventListener("abort", stop, { once: true });
        const answer = (commands: HandedCommand[]) => c.json({ commands: claimAnswer(commands, leaseMs) });
        // A worker asks again as soon as it is handed work; when this server knows the pool is
        // empty, it waits for the next commit's hand-off without a query.
        let look = b.wait_ms === 0 || workSignal.mayHavePending(b.pool);
        try {
          for (;;) {
            if (gone.aborted) return c.json({ commands: [] });
            if (look || deadline <= Date.now() || deps.shutdown.aborted) {
              const rows = await workSignal.claim(b.pool, b.limit, () =>
                store.claimCommands({
                  pool: b.pool,
                  worker_id: b.worker_id,
                  lease_ms: leaseMs,
                  limit: b.limit,
                }),
              );
              if (rows.length > 0 || deadline <= Date.now() || deps.shutdown.aborted) {
                return answer(rows.map(handed));
              }
            }
            look = true;
            // Handed work by this server's next commit, or woken to look again; the timeout
            // covers commits by other servers and the sweeper.
            const given = await workSignal.awaitWork(
              { workerId: b.worker_id, pool: b.pool, limit: b.limit },
              Math.max(0, Math.min(deadline - Date.now(), 1000)),
              stopWaiting.signal,
            );
            if (given.length > 0) return answer(given);
          }
        } finally {
          deps.shutdown.removeEventListener("abort", stop);
          gone.removeEventListener("abort", stop);
        }
      },
    },
    {
      method: "POST",
      path: "/api/commands/{id}/heartbeat",
      tag: "workers",
      summary: "Extend a command's lease while its tools run",
      body: HeartbeatBody,
      responses: { 200: "{lease_until}", 409: "LEASE_LOST: the lease expired or the command finished" },
      handler: async (c) => {
        const id = pathParam(c, "id");
        const b = await jsonBody(c, HeartbeatBody);
        const until = await store.extendLease(id, b.lease_token, leaseMs);
        if (!until)
          throw new NoetlError("CONFLICT", `the lease on command ${id} is no longer yours`, {
            code: "LEASE_LOST",
          });
        return c.json({ lease_until: until, lease_ms: leaseMs });
      },
    },
    {
      method: "POST",
      path: "/api/events/batch",
      tag: "workers",
      summary: "Report command events; idempotent by (command_id, attempt, type), fenced by lease token",
      body: BatchBody,
      responses: {
        200: "{accepted, duplicates, commands?}",
        409: "LEASE_LOST for reports under a lease that is not current (details carry commands leased by the claim)",
      },
      handler: async (c) => {
        const b = await jsonBody(c, BatchBody);
        const claim = b.claim?.limit ? new ReportClaim(b.worker_id, b.claim.pool, b.claim.limit) : undefined;
        const outcomes = await orchestrator.report(b.events as IncomingEvent[], claim);
        // What the reports caused went to the worker first; a backlog fills the rest.
        if (claim && claim.left > 0 && workSignal.mayHavePending(claim.pool)) {
          const rows = await workSignal.claim(claim.pool, claim.left, () =>
            store.claimCommands({
              pool: claim.pool,
              worker_id: b.worker_id,
              lease_ms: leaseMs,
              limit: claim.left,
            }),
          );
          claim.deliver(rows.map(handed));
        }
        const commands = claim ? { commands: claimAnswer(claim.commands, leaseMs) } : {};
        let accepted = 0;
        let duplicates = 0;
        const rejected: string[] = [];
        for (const [e, o] of outcomes) {
          if (o === "accepted") accepted++;
          else if (o === "duplicate") duplicates++;
          else rejected.push(e.command_id);
        }
        if (rejected.length > 0) {
          throw new NoetlError(
            "CONFLICT",
            `reports for ${rejected.length} command(s) carry a lease that is not current`,
            { code: "LEASE_LOST", command_ids: rejected, accepted, duplicates, ...commands },
          );
        }
        return c.json({ accepted, duplicates, ...commands });
      },
    },
    {
      method: "POST",
      path: "/api/workers/heartbeat",
      tag: "workers",
      summary: "A worker says it is alive",
      body: WorkerBody,
      responses: { 200: "{ok: true}" },
      handler: async (c) => {
        const b = await jsonBody(c, WorkerBody);
        await store.heartbeatWorker({
          worker_id: b.worker_id,
          pool: b.pool,
          host: b.host ?? null,
          pid: b.pid ?? null,
          concurrency: b.concurrency ?? null,
          status: b.status ?? "ready",
        });
        return c.json({ ok: true });
      },
    },
  ];
}

function handed(r: CommandRecord): HandedCommand {
  return {
    command_id: r.command_id,
    attempt: r.attempt,
    lease_token: r.lease_token!,
    lease_until: r.lease_until!,
    payload: r.payload as object,
  };
}

/** Leased commands as a worker receives them: the command, its attempt and its lease. */
function claimAnswer(commands: HandedCommand[], leaseMs: number) {
  return commands.map((r) => ({
    ...r.payload,
    attempt: r.attempt,
    lease_token: r.lease_token,
    lease_until: r.lease_until,
    lease_ms: leaseMs,
  }));
}
