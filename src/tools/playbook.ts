// `playbook` and `workbook`: delegate to the runtime, whose outcome becomes the tool's.
import { NoetlError } from "../errors.ts";
import type { Tool, ToolOutcome } from "./types.ts";
import { errText, fail, isRecord, ok, str } from "./util.ts";

// `input` (the child's workload) is one of the common tool keys, so it is not repeated here.
export const playbookKeys = ["path", "wait"] as const;
/** `name` (a common key) names the workbook task; `task` is an alias for pipelines, where `name` names the pipeline task. */
export const workbookKeys = ["task"] as const;

function failure(err: unknown, what: string): ToolOutcome {
  const kind = err instanceof NoetlError ? err.code.toLowerCase() : "exception";
  return fail(kind, `${what}: ${errText(err)}`);
}

export const playbookTool: Tool = {
  kind: "playbook",
  async run(config, ctx) {
    const path = str(config.path);
    if (!path)
      return fail("config", "playbook tool needs `path`: a catalog path or a file relative to this playbook");
    const input = isRecord(config.input) ? config.input : ctx.input;
    const run = ctx.services.runPlaybook(path, input, ctx.signal);
    if (config.wait === false || config.wait === "false") {
      // Fire and forget: the child's own events record how it ends.
      run.catch(() => {});
      return ok({ path, status: "started" });
    }
    try {
      return await run;
    } catch (err) {
      return failure(err, `sub-playbook ${path} failed`);
    }
  },
};

export const workbookTool: Tool = {
  kind: "workbook",
  async run(config, ctx) {
    const name = str(config.task) ?? str(config.name);
    if (!name) return fail("config", "workbook tool needs `name`: a task of the playbook's workbook");
    try {
      return await ctx.services.runWorkbook(
        name,
        isRecord(config.input) ? config.input : ctx.input,
        ctx.signal,
      );
    } catch (err) {
      return failure(err, `workbook task ${name} failed`);
    }
  },
};
