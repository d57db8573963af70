// Steps whose tool is one `kind: playbook` run on the server: it starts the child execution in
// the same transaction and completes the parent's command when the child ends, so no worker
// slot is held waiting for a child (which could deadlock a small pool).

import { layer } from "../../engine/context";
import type { Command } from "../../engine/types";
import type { CatalogEntry, StoreTx } from "../../store/types";
import { renderValue } from "../../template";

export function isServerRun(c: Command): boolean {
  return c.tasks.length === 1 && c.tasks[0]!.kind === "playbook";
}

export async function childRequest(
  tx: StoreTx,
  cmd: Command,
): Promise<{ entry: CatalogEntry; workload: Record<string, unknown>; wait: boolean } | { error: string }> {
  const task = cmd.tasks[0]! as Record<string, unknown>;
  try {
    const where = { step: cmd.step };
    const stepInput = cmd.input
      ? (renderValue(cmd.input, cmd.context, { ...where, field: "input" }) as object)
      : {};
    const ctx = layer(cmd.context, { input: stepInput });
    const taskInput = task.input
      ? (renderValue(task.input, ctx, { ...where, field: "tool.input" }) as object)
      : {};
    const path = String(renderValue(task.path, ctx, { ...where, field: "tool.path" }) ?? "");
    const version = task.version === undefined ? "latest" : Number(renderValue(task.version, ctx, where));
    const catalogPath = path
      .replace(/^catalog:\/\//, "")
      .replace(/^\.\//, "")
      .replace(/\.ya?ml$/, "");
    const entry = await tx.catalogEntry(
      catalogPath,
      version === "latest" || Number.isNaN(version) ? "latest" : version,
    );
    if (!entry) return { error: `sub-playbook "${path}" is not in the catalog (register it first)` };
    const wait =
      task.wait === undefined ? true : renderValue(task.wait, ctx, { ...where, field: "tool.wait" });
    return { entry, workload: { ...stepInput, ...taskInput }, wait: wait !== false && wait !== "false" };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
