// Shared pieces of the chaos tests: the services they need, submitting and awaiting many
// executions, the exactly-once check over an execution's event log, and failure reports that
// carry the evidence (events and process logs) rather than just "not COMPLETED".
import { isDeepStrictEqual } from "node:util";
import { Cluster, type ClusterOptions, type ExecutionDoc, natsMissing } from "../support/cluster";
import { missingService, pgAvailable } from "../support/services";

/** Why the chaos tests cannot run here (they need PostgreSQL and NATS); throws under CI=true. */
export const chaosSkip = missingService((await pgAvailable()) ?? (await natsMissing()));

export const playbook = (name: string, workflow: string) =>
  `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: ${name}, path: chaos/${name}}\nworkflow:\n${workflow}`;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The chaos tests' cluster: PostgreSQL, NATS, 3 s leases (so lost work comes back quickly). */
export function chaosCluster(opts: Partial<ClusterOptions> = {}): Promise<Cluster> {
  return Cluster.start({
    store: "postgres",
    nats: true,
    workers: 2,
    concurrency: 4,
    ...opts,
    env: { NOETL_LEASE_SECONDS: "3", ...opts.env },
  });
}

/** Steps s1…sN, each a shell step that sleeps, then prints `<i>-<workload.n>`; the last has no `next`. */
export function shellChain(steps: number, sleepSeconds: number): string {
  return Array.from({ length: steps }, (_, i) => {
    const next = i + 1 < steps ? `\n    next: s${i + 2}` : "";
    const cmds = `sleep ${sleepSeconds}; echo ${i + 1}-{{ workload.n }}`;
    return `  - step: s${i + 1}\n    tool: {kind: shell, cmds: "${cmds}"}${next}\n`;
  }).join("");
}

/** Completed executions with their result (a shell step's data) without its timing, to compare. */
export function withoutTiming(docs: ExecutionDoc[]): ExecutionDoc[] {
  return docs.map((d) => {
    if (d.status !== "COMPLETED") return d;
    const { duration_ms: _, ...result } = d.result as Record<string, unknown>;
    return { ...d, result };
  });
}

export interface LoggedEvent {
  event_id: string;
  type: string;
  step?: string;
  command_id?: string;
  attempt?: number;
  iteration?: number;
  payload: Record<string, any>;
}

/** Every event of an execution, paging with `after`. */
export async function allEvents(c: Cluster, id: string): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  for (let after = ""; ; ) {
    const r = await c.api("GET", `/api/executions/${id}/events?limit=1000${after ? `&after=${after}` : ""}`);
    if (r.status !== 200) throw new Error(`events of ${id}: ${r.status} ${r.text}`);
    out.push(...r.json.items);
    if (r.json.items.length < 1000) return out;
    after = r.json.next_after;
  }
}

const TERMINAL = new Set(["command.completed", "command.failed"]);

/**
 * What breaks "a step result is recorded once" in an execution's log: a command with other
 * than one terminal event over all its attempts, a step activation (run, iteration) finished
 * other than once, a step activation exited twice, an issued command never finished.
 */
export function exactlyOnceProblems(events: LoggedEvent[]): string[] {
  const activation = new Map<string, string>();
  const perCommand = new Map<string, number>();
  const perActivation = new Map<string, number>();
  const exits = new Map<string, number>();
  for (const e of events) {
    if (e.type === "command.issued" && e.command_id && !activation.has(e.command_id))
      activation.set(e.command_id, `${e.step}/${e.payload.run}/${e.payload.iteration ?? "-"}`);
    if (e.type === "step.exit") exits.set(String(e.payload.run), (exits.get(String(e.payload.run)) ?? 0) + 1);
    if (!TERMINAL.has(e.type) || !e.command_id) continue;
    perCommand.set(e.command_id, (perCommand.get(e.command_id) ?? 0) + 1);
    const act = activation.get(e.command_id) ?? `unissued ${e.command_id}`;
    perActivation.set(act, (perActivation.get(act) ?? 0) + 1);
  }
  const problems: string[] = [];
  for (const [cmd, act] of activation) {
    const n = perCommand.get(cmd) ?? 0;
    if (n !== 1) problems.push(`command ${cmd} (${act}) has ${n} terminal events`);
  }
  for (const [act, n] of perActivation) if (n !== 1) problems.push(`activation ${act} finished ${n} times`);
  for (const [run, n] of exits) if (n !== 1) problems.push(`step run ${run} exited ${n} times`);
  return problems;
}

/** Executes `path` once per workload, at most `concurrency` requests in flight; ids in order. */
export async function submitAll(
  c: Cluster,
  path: string,
  version: number,
  workloads: Record<string, unknown>[],
  concurrency: number,
): Promise<string[]> {
  const ids: string[] = new Array(workloads.length);
  let next = 0;
  const lane = async () => {
    while (next < workloads.length) {
      const i = next++;
      ids[i] = await c.execute(path, workloads[i], version);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, workloads.length) }, lane));
  return ids;
}

/** Waits for each execution in turn (they run meanwhile), all within one deadline. */
export async function waitAll(c: Cluster, ids: string[], timeoutMs: number): Promise<ExecutionDoc[]> {
  const deadline = Date.now() + timeoutMs;
  const docs: ExecutionDoc[] = [];
  for (const id of ids) docs.push(await c.waitDone(id, Math.max(1000, deadline - Date.now())));
  return docs;
}

/** One line per event, for failure messages. */
export function eventLines(events: LoggedEvent[]): string {
  return events
    .map((e) => {
      const cmd = e.command_id ? ` ${e.command_id}#${e.attempt}` : "";
      const who = e.payload?.worker_id ? ` by ${e.payload.worker_id}` : "";
      const why = e.payload?.reissued ? " (re-issued)" : "";
      return `  ${e.event_id} ${e.type} ${e.step ?? ""}${cmd}${who}${why}`;
    })
    .join("\n");
}

/**
 * Checks every execution: COMPLETED, the expected result, exactly-once in its log. Returns
 * the problems found, each with the execution's events, and the process logs when any.
 */
export async function auditExecutions(
  c: Cluster,
  docs: ExecutionDoc[],
  expected: (index: number) => unknown,
): Promise<{ problems: string[]; events: Map<string, LoggedEvent[]> }> {
  const problems: string[] = [];
  const events = new Map<string, LoggedEvent[]>();
  for (const [i, doc] of docs.entries()) {
    const evs = await allEvents(c, doc.execution_id);
    events.set(doc.execution_id, evs);
    const found: string[] = [];
    if (doc.status !== "COMPLETED") found.push(`status ${doc.status} (${doc.error ?? ""})`);
    else if (!isDeepStrictEqual(doc.result, expected(i)))
      found.push(`result ${JSON.stringify(doc.result)}, expected ${JSON.stringify(expected(i))}`);
    found.push(...exactlyOnceProblems(evs));
    if (found.length > 0)
      problems.push(`execution #${i} ${doc.execution_id}: ${found.join("; ")}\n${eventLines(evs)}`);
  }
  if (problems.length > 0) problems.push(logTails(c, 15));
  return { problems, events };
}

/** The last lines of a process's output, each cut short (the bundle's minified source can be
 * a crash's context line). */
export function tail(text: string, lines = 25): string {
  return text
    .trimEnd()
    .split("\n")
    .slice(-lines)
    .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l))
    .join("\n");
}

/** The tails of every process's output. */
export function logTails(c: Cluster, lines = 25): string {
  return [c.server, ...c.workers]
    .filter((p) => p !== undefined)
    .map(
      (p) =>
        `--- ${p.name} (pid ${p.pid}${p.child.exitCode === null && p.child.signalCode === null ? "" : ", exited"})\n${tail(p.output(), lines)}`,
    )
    .join("\n");
}

/** Runs `fn`; an error thrown by it leaves with the tails of every process's log attached. */
export async function withLogs<T>(c: Cluster, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as Error;
    if (!e.message.includes("--- server (pid")) e.message += `\n${logTails(c)}`;
    throw e;
  }
}
