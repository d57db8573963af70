// `noetl validate FILE…`: every problem of every file, as file:line:col: message; exit 2 on any.
import { NoetlError } from "../errors";
import { formatProblem, loadPlaybookFile, type Problem } from "../playbook/load";
import { usageError } from "./exit";

export async function validateCommand(files: string[], opts: { json?: boolean }): Promise<number> {
  if (files.length === 0)
    throw usageError("validate needs at least one playbook file, e.g. noetl validate tasks.yaml");
  const report: { file: string; ok: boolean; problems: Problem[] }[] = [];
  for (const file of files) {
    try {
      const { problems } = await loadPlaybookFile(file);
      report.push({ file, ok: problems.length === 0, problems });
    } catch (err) {
      if (!(err instanceof NoetlError)) throw err;
      report.push({ file, ok: false, problems: [{ file, line: 1, col: 1, message: err.message }] });
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    for (const r of report) {
      if (r.ok) process.stdout.write(`${r.file}: ok\n`);
      for (const p of r.problems) process.stderr.write(`${formatProblem(p)}\n`);
    }
    const bad = report.reduce((n, r) => n + r.problems.length, 0);
    if (bad > 0) process.stderr.write(`${bad} problem${bad === 1 ? "" : "s"} found\n`);
  }
  return report.every((r) => r.ok) ? 0 : 2;
}
