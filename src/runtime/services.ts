// What tools may ask of the local runtime: sub-playbooks from files, workbook tasks, and
// credentials from the environment or NOETL_HOME/credentials.
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseYamlText } from "yaml";
import type { Command } from "../engine/types";
import { formatProblem, loadPlaybookFile } from "../playbook/load";
import type { Playbook, TaskConfig } from "../playbook/schema";
import type { ToolOutcome, ToolServices } from "../tools/types";
import type { RunSummary } from "./local";

export interface LocalServiceDeps {
  playbook: Playbook;
  file: string;
  command: Command;
  parentExecutionId: string;
  env: Record<string, string | undefined>;
  runChild(
    pb: Playbook,
    file: string,
    workload: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<RunSummary>;
  runTasks(tasks: TaskConfig[], input: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome>;
}

export function makeLocalServices(deps: LocalServiceDeps): ToolServices {
  return {
    async runPlaybook(path, input, signal) {
      const file = await resolvePlaybookPath(path, dirname(deps.file));
      if (!file)
        return {
          status: "error",
          error: {
            kind: "not_found",
            message: `sub-playbook ${path} not found (looked for it as a file next to ${deps.file})`,
          },
        };
      const loaded = await loadPlaybookFile(file);
      if (!loaded.playbook) {
        return {
          status: "error",
          error: {
            kind: "validation",
            message: `sub-playbook ${file} is invalid: ${loaded.problems.map(formatProblem).join("; ")}`,
          },
        };
      }
      const child = await deps.runChild(loaded.playbook, file, input, signal);
      if (child.status === "COMPLETED") return { status: "ok", data: child.result };
      return {
        status: "error",
        error: {
          kind: "playbook",
          message: `sub-playbook ${path} ${child.status.toLowerCase()}: ${child.error ?? ""}`.trim(),
        },
      };
    },
    async runWorkbook(name, input, signal) {
      const entry = deps.playbook.workbook?.find((w) => w.name === name);
      if (!entry)
        return {
          status: "error",
          error: { kind: "not_found", message: `workbook task "${name}" is not defined` },
        };
      return deps.runTasks(entry.tool, input, signal);
    },
    credential: (name) => localCredential(name, deps.env),
  };
}

async function resolvePlaybookPath(path: string, baseDir: string): Promise<string | undefined> {
  const base = isAbsolute(path) ? path : resolve(baseDir, path);
  for (const candidate of [base, `${base}.yaml`, `${base}.yml`]) {
    try {
      await readFile(candidate, { flag: "r" });
      return candidate;
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}

/** Locally a credential is NOETL_CREDENTIAL_<NAME> (JSON) or NOETL_HOME/credentials/<name>.{yaml,json}. */
export async function localCredential(
  name: string,
  env: Record<string, string | undefined>,
): Promise<Record<string, unknown>> {
  const fromEnv = env[`NOETL_CREDENTIAL_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`];
  if (fromEnv) return JSON.parse(fromEnv) as Record<string, unknown>;
  const home = env.NOETL_HOME ?? join(env.HOME ?? ".", ".noetl");
  for (const ext of ["yaml", "yml", "json"]) {
    try {
      const text = await readFile(join(home, "credentials", `${name}.${ext}`), "utf8");
      const doc = parseYamlText(text) as Record<string, unknown>;
      return (doc.data as Record<string, unknown>) ?? doc;
    } catch {
      // try the next file
    }
  }
  throw new Error(
    `credential "${name}" not found: set NOETL_CREDENTIAL_${name.toUpperCase()} or create ${join(home, "credentials", `${name}.yaml`)}`,
  );
}
