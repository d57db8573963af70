// The one table of tool kinds. Importing it loads no heavy dependency: postgres and undici
// are imported by their tools on first use.
import { closeHttp, httpKeys, httpTool } from "./http.ts";
import { jsKeys, jsTool } from "./js.ts";
import { noopKeys, noopTool } from "./noop.ts";
import { playbookKeys, playbookTool, workbookKeys, workbookTool } from "./playbook.ts";
import { closePostgres, postgresKeys, postgresTool } from "./postgres.ts";
import { pythonKeys, pythonTool } from "./python.ts";
import { secretsKeys, secretsTool } from "./secrets.ts";
import { shellKeys, shellTool } from "./shell.ts";
import type { Tool } from "./types.ts";

/** Keys every tool accepts; the runtime consumes them, the tool never sees a need for them. */
export const commonToolKeys = ["kind", "name", "input", "spec", "desc"] as const;

const table = {
  noop: { tool: noopTool, keys: noopKeys },
  shell: { tool: shellTool, keys: shellKeys },
  http: { tool: httpTool, keys: httpKeys },
  postgres: { tool: postgresTool, keys: postgresKeys },
  python: { tool: pythonTool, keys: pythonKeys },
  js: { tool: jsTool, keys: jsKeys },
  playbook: { tool: playbookTool, keys: playbookKeys },
  workbook: { tool: workbookTool, keys: workbookKeys },
  secrets: { tool: secretsTool, keys: secretsKeys },
} satisfies Record<string, { tool: Tool; keys: readonly string[] }>;

export type ToolKind = keyof typeof table;

export const toolKinds = Object.keys(table) as ToolKind[];

/** Each kind's own config keys (aliases included), without `commonToolKeys`. */
export const toolConfigKeys = {} as Record<ToolKind, readonly string[]>;
for (const k of toolKinds) toolConfigKeys[k] = table[k].keys;

export function getTool(kind: string): Tool | undefined {
  return Object.hasOwn(table, kind) ? table[kind as ToolKind].tool : undefined;
}

/** Closes pools and keep-alive sockets so the process can exit. */
export async function closeToolResources(): Promise<void> {
  await Promise.allSettled([closePostgres(), closeHttp()]);
}
