// YAML text → canonical, checked Playbook, or every problem found, each with file:line:col.
import { readFile } from "node:fs/promises";
import * as v from "valibot";
import { NoetlError } from "../errors";
import { checkPlaybook, describeIssue, type Finding } from "./check";
import { normalise } from "./normalise";
import type { PathSegment, Problem } from "./problems";
import { CanonicalPlaybook, type Playbook } from "./schema";
import { parseYaml } from "./yaml-source";

export { formatProblem, type Problem } from "./problems";

export interface LoadResult {
  playbook?: Playbook;
  problems: Problem[];
}

export function loadPlaybookSource(text: string, file: string): LoadResult {
  const src = parseYaml(text, file);
  if (src.problems.length > 0) return { problems: src.problems };
  if (typeof src.value !== "object" || src.value === null || Array.isArray(src.value)) {
    return {
      problems: [
        {
          file,
          line: 1,
          col: 1,
          message: "a playbook must be a YAML mapping (apiVersion, kind, metadata, workflow)",
        },
      ],
    };
  }
  const norm = normalise(src.value);

  // Canonical paths differ from source paths where a short form was rewritten; walk the
  // canonical document and use the source path of the deepest object that remembers one.
  const toProblem = (f: Finding): Problem => {
    let node: unknown = norm.value;
    let sourcePath: PathSegment[] = [];
    let rest: PathSegment[] = f.path;
    for (let i = 0; i <= f.path.length; i++) {
      const origin = typeof node === "object" && node !== null ? norm.origins.get(node) : undefined;
      if (origin) {
        sourcePath = origin;
        rest = f.path.slice(i);
      }
      if (i === f.path.length || typeof node !== "object" || node === null) break;
      node = (node as Record<PathSegment, unknown>)[f.path[i]!];
    }
    const pos = src.locate([...sourcePath, ...rest], f.key);
    return { file, line: pos.line, col: pos.col, message: f.message };
  };

  const problems = norm.problems.map((p) => toProblem({ path: p.path, message: p.message, key: p.key }));
  const parsed = v.safeParse(CanonicalPlaybook, norm.value);
  if (!parsed.success) {
    problems.push(...parsed.issues.map((i) => toProblem(describeIssue(i))));
    return { problems: sortProblems(problems) };
  }
  problems.push(...checkPlaybook(parsed.output).map(toProblem));
  if (problems.length > 0) return { problems: sortProblems(problems) };
  return { playbook: parsed.output, problems };
}

export async function loadPlaybookFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EISDIR"
          ? "is a directory"
          : `cannot be read (${code})`;
    throw new NoetlError("NOT_FOUND", `playbook file ${path} ${why}`);
  }
  return loadPlaybookSource(text, path);
}

function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}
