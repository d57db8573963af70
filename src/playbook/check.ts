// Turns schema issues and semantic mistakes (unknown steps, duplicate names, tool kinds and keys,
// broken templates) into problems that point at the YAML source.
import type * as v from "valibot";
import { checkTemplate } from "../template";
import { commonToolKeys, getTool, toolConfigKeys, toolKinds } from "../tools/registry";
import { describePath, didYouMean, type PathSegment } from "./problems";
import { knownKeys, type Playbook, type TaskConfig } from "./schema";

export interface Finding {
  /** Path in the canonical document; `at` overrides it with an exact source path. */
  path: PathSegment[];
  message: string;
  key?: boolean;
}

export function describeIssue(issue: v.BaseIssue<unknown>): Finding {
  const path = (issue.path ?? []).map((p) => p.key as PathSegment);
  const last = issue.path?.[issue.path.length - 1] as { origin?: string } | undefined;
  if (issue.type === "strict_object" && last?.origin === "key") {
    const name = String(path[path.length - 1]);
    const parent = path.slice(0, -1);
    if (issue.expected === "never") {
      const known = knownKeys[objectKind(parent)] ?? [];
      return { path, key: true, message: `unknown key "${name}"${where(parent)}${didYouMean(name, known)}` };
    }
    return { path: parent, key: true, message: `missing required key "${name}"${where(parent)}` };
  }
  const field = path.length > 0 ? `"${describePath(path)}": ` : "";
  const message = issue.message.replace(/^Invalid \w+: /, "");
  return { path, message: `${field}${message.charAt(0).toLowerCase()}${message.slice(1)}` };
}

function where(path: PathSegment[]): string {
  return path.length === 0 ? "" : ` in "${describePath(path)}"`;
}

function objectKind(path: PathSegment[]): string {
  if (path.length === 0) return "playbook";
  const last = path[path.length - 1];
  const before = path[path.length - 2];
  if (path.length === 2 && path[0] === "workflow") return "step";
  if (typeof last === "number" && before === "arcs") return "arc";
  if (typeof last === "number" && before === "rules") return "rule";
  if (typeof last === "string" && ["loop", "next", "then", "spec"].includes(last)) return last;
  return "";
}

/** Semantic checks on a document the schema accepted. */
export function checkPlaybook(pb: Playbook): Finding[] {
  const out: Finding[] = [];
  const names = new Map<string, number>();
  pb.workflow.forEach((s, i) => {
    if (names.has(s.step))
      out.push({
        path: ["workflow", i, "step"],
        message: `duplicate step name "${s.step}" (first defined as step #${names.get(s.step)! + 1})`,
      });
    else names.set(s.step, i);
  });
  const stepNames = [...names.keys()];
  const refStep = (name: string, path: PathSegment[], what: string) => {
    if (!names.has(name))
      out.push({
        path,
        message: `${what} "${name}" is not a step of this playbook${didYouMean(name, stepNames)}`,
      });
  };
  const spec = pb.executor?.spec;
  if (typeof spec?.entry_step === "string")
    refStep(spec.entry_step, ["executor", "spec", "entry_step"], "entry_step");
  if (typeof spec?.final_step === "string")
    refStep(spec.final_step, ["executor", "spec", "final_step"], "final_step");
  const workbookNames = (pb.workbook ?? []).map((w) => w.name);

  pb.workflow.forEach((s, i) => {
    const base: PathSegment[] = ["workflow", i];
    s.next?.arcs.forEach((a, j) => {
      refStep(a.step, [...base, "next", "arcs", j, "step"], "next step");
      templates(a.when, [...base, "next", "arcs", j, "when"], out);
      templates(a.set, [...base, "next", "arcs", j, "set"], out);
    });
    templates(s.when, [...base, "when"], out);
    templates(s.input, [...base, "input"], out);
    templates(s.set, [...base, "set"], out);
    templates(s.loop?.in, [...base, "loop", "in"], out);
    s.tool?.forEach((t, k) => checkTask(t, [...base, "tool", k], out, refStep, workbookNames));
  });
  pb.workbook?.forEach((w, i) => {
    w.tool.forEach((t, k) => checkTask(t, ["workbook", i, "tool", k], out, refStep, workbookNames));
  });
  return out;
}

function checkTask(
  t: TaskConfig,
  path: PathSegment[],
  out: Finding[],
  refStep: (name: string, path: PathSegment[], what: string) => void,
  workbookNames: string[],
): void {
  const tool = getTool(t.kind);
  if (!tool) {
    out.push({
      path: [...path, "kind"],
      message: `unknown tool kind "${t.kind}"${didYouMean(t.kind, toolKinds)}`,
    });
    return;
  }
  const allowed: string[] = [
    ...commonToolKeys,
    ...((toolConfigKeys as Record<string, readonly string[]>)[t.kind] ?? []),
  ];
  for (const key of Object.keys(t)) {
    if (!allowed.includes(key))
      out.push({
        path: [...path, key],
        key: true,
        message: `unknown key "${key}" for tool kind "${t.kind}"${didYouMean(key, allowed)}`,
      });
  }
  t.spec?.policy?.rules.forEach((r, j) => {
    const rp = [...path, "spec", "policy", "rules", j];
    templates(r.when, [...rp, "when"], out);
    templates(r.then.set, [...rp, "then", "set"], out);
    if (r.then.do === "jump") {
      if (r.then.to === undefined)
        out.push({ path: [...rp, "then"], message: 'a "jump" rule needs "to": the step to jump to' });
      else refStep(r.then.to, [...rp, "then", "to"], "jump target");
    }
  });
  if (t.kind === "workbook" && typeof t.name === "string" && !workbookNames.includes(t.name)) {
    out.push({
      path: [...path, "name"],
      message: `workbook task "${t.name}" is not defined in this playbook's workbook${didYouMean(t.name, workbookNames)}`,
    });
  }
  const raw = new Set(tool.rawKeys ?? []);
  for (const [key, value] of Object.entries(t)) {
    if (key !== "kind" && key !== "spec" && !raw.has(key)) templates(value, [...path, key], out);
  }
}

/** Compiles every template string inside `value`. */
function templates(value: unknown, path: PathSegment[], out: Finding[]): void {
  if (typeof value === "string") {
    const err = checkTemplate(value);
    if (err) out.push({ path, message: `template error in "${describePath(path)}": ${err}` });
  } else if (Array.isArray(value)) value.forEach((x, i) => templates(x, [...path, i], out));
  else if (typeof value === "object" && value !== null) {
    for (const [k, x] of Object.entries(value)) templates(x, [...path, k], out);
  }
}
