// `noetl run REF`: resolve the playbook, build the workload, run it locally, report.
import { access } from "node:fs/promises";
import { join } from "node:path";
import { executionWorkload } from "../engine/workload";
import { NoetlError } from "../errors";
import { formatProblem, loadPlaybookFile } from "../playbook/load";
import type { Playbook } from "../playbook/schema";
import { requestedWorkload } from "./args";
import { liveView } from "./live";
import { makeStyle, progressPrinter, useColor, writeIndented } from "./output";

export interface RunOptions {
  set?: string | string[];
  payload?: string;
  target?: string;
  runtime?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** A path with "/" or a YAML extension is a file; else REF, REF.yaml, REF.yml, automation/REF.yaml; else ./noetl.yaml with REF as target. */
export async function resolveRef(ref: string): Promise<{ file: string; target?: string }> {
  if (ref.includes("/") || /\.ya?ml$/.test(ref)) return { file: ref };
  for (const c of [ref, `${ref}.yaml`, `${ref}.yml`, join("automation", `${ref}.yaml`)]) {
    if (await exists(c)) return { file: c };
  }
  if (await exists("noetl.yaml")) return { file: "noetl.yaml", target: ref };
  throw new NoetlError(
    "NOT_FOUND",
    `no playbook "${ref}": tried ${ref}, ${ref}.yaml, ${ref}.yml, automation/${ref}.yaml and ./noetl.yaml`,
  );
}

export async function runCommand(ref: string | undefined, opts: RunOptions): Promise<number> {
  if (!ref) throw new NoetlError("USAGE", "run needs a playbook, e.g. noetl run automation/tasks.yaml");
  const runtime = opts.runtime ?? "auto";
  if (runtime !== "local" && runtime !== "auto" && runtime !== "distributed")
    throw new NoetlError("USAGE", `-r must be local, distributed or auto, got "${runtime}"`);
  // -r auto runs files here and catalog references (catalog/PATH, catalog://PATH@V) on the server.
  if (runtime === "distributed" || (runtime === "auto" && /^catalog(:\/\/|\/)/.test(ref))) {
    const { runRemote } = await import("./remote/run");
    return runRemote(ref, opts);
  }
  const { file, target: refTarget } = await resolveRef(ref);
  const loaded = await loadPlaybookFile(file);
  if (!loaded.playbook) {
    for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
    throw new NoetlError(
      "VALIDATION",
      `${file} is not a valid playbook (${loaded.problems.length} problem${loaded.problems.length === 1 ? "" : "s"})`,
    );
  }
  let playbook = loaded.playbook;
  const target = opts.target ?? refTarget;
  if (target !== undefined) playbook = withEntry(playbook, target, file);
  const workload = await requestedWorkload(opts);

  if (opts.dryRun) return printPlan(playbook, workload, opts.json ?? false);

  const { runLocal } = await import("../runtime/local");
  const { closeToolResources } = await import("../tools/registry");
  const human = !opts.json;
  const stream = human ? process.stdout : process.stderr;
  const style = makeStyle(useColor(opts, stream));
  // A live status line only where a person watches: a terminal, not a pipe or CI log.
  const live = human && stream.isTTY && !process.env.CI ? liveView(stream, style) : undefined;
  const out = live ?? stream;
  const lines = human || opts.verbose ? progressPrinter(out, style) : undefined;
  const printer: typeof lines =
    lines &&
    ((ev, state) => {
      live?.track(state);
      lines(ev, state);
    });
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once("SIGINT", onSigint);
  process.once("SIGTERM", onSigint);
  try {
    const summary = await runLocal({
      playbook,
      file,
      workload,
      signal: ac.signal,
      onEvent: printer,
      onOutput: opts.verbose
        ? (step, _stream, chunk) => writeIndented(out, step, chunk, style.dim)
        : undefined,
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else if (summary.status === "FAILED") process.stderr.write(`noetl: ${summary.error}\n`);
    return summary.status === "COMPLETED" ? 0 : summary.status === "CANCELLED" ? 130 : 1;
  } finally {
    live?.stop();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    await closeToolResources();
  }
}

function withEntry(pb: Playbook, step: string, file: string): Playbook {
  if (!pb.workflow.some((s) => s.step === step)) {
    throw new NoetlError(
      "USAGE",
      `${file} has no step "${step}"; its steps are ${pb.workflow.map((s) => s.step).join(", ")}`,
    );
  }
  return { ...pb, executor: { ...pb.executor, spec: { ...pb.executor?.spec, entry_step: step } } };
}

async function printPlan(pb: Playbook, workload: Record<string, unknown>, json: boolean): Promise<number> {
  const { entryStep } = await import("../engine/engine");
  const steps = pb.workflow.map((s) => ({
    step: s.step,
    tools: (s.tool ?? []).map((t) => t.kind),
    ...(s.when !== undefined ? { when: s.when } : {}),
    ...(s.loop ? { loop: { in: s.loop.in, mode: s.loop.spec?.mode ?? "sequential" } } : {}),
    next: (s.next?.arcs ?? []).map((a) => ({
      step: a.step,
      ...(a.when !== undefined ? { when: a.when } : {}),
    })),
    mode: s.next?.spec?.mode ?? "exclusive",
  }));
  const plan = {
    name: pb.metadata.name,
    entry_step: entryStep(pb),
    final_step: pb.executor?.spec?.final_step,
    workload: executionWorkload(pb.workload, workload),
    steps,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    `plan for ${pb.metadata.name} (entry: ${plan.entry_step}${plan.final_step ? `, final: ${plan.final_step}` : ""})\n`,
  );
  for (const s of steps) {
    const tools = s.tools.length > 0 ? s.tools.join(" → ") : "no tool";
    const extra = [
      s.when !== undefined ? `when ${s.when}` : "",
      s.loop ? `loop ${s.loop.mode} over ${JSON.stringify(s.loop.in)}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    process.stdout.write(`  ${s.step} [${tools}]${extra ? ` (${extra})` : ""}\n`);
    for (const a of s.next)
      process.stdout.write(
        `    → ${a.step}${a.when !== undefined ? ` when ${a.when}` : ""}${s.mode === "inclusive" ? " (inclusive)" : ""}\n`,
      );
  }
  return 0;
}
