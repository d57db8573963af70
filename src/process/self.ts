// How to start another copy of this very program: the single executable needs nothing but
// itself, `node dist/noetl.cjs` needs the bundle path (and any loader flags, e.g. tsx in
// development), and under Deno the bundle runs as `deno run -A <bundle>`.
import { realpathSync } from "node:fs";
import { resolve } from "node:path";

export type Runtime = "sea" | "node" | "deno";

export interface SelfCommand {
  runtime: Runtime;
  command: string;
  /** Arguments that come before the program's own arguments. */
  prefix: string[];
}

export async function selfCommand(): Promise<SelfCommand> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return { runtime: "deno", command: deno.execPath(), prefix: ["run", "-A", scriptPath()] };
  if (await isSingleExecutable()) return { runtime: "sea", command: process.execPath, prefix: [] };
  // A debugger flag copied into the child would fight the parent for the inspector port.
  const execArgv = process.execArgv.filter((a) => !/^--(inspect|debug)/.test(a));
  return { runtime: "node", command: process.execPath, prefix: [...execArgv, scriptPath()] };
}

async function isSingleExecutable(): Promise<boolean> {
  if ("pkg" in process) return true;
  try {
    const sea = (await import("node:sea")) as { isSea(): boolean };
    return sea.isSea();
  } catch {
    return false; // Node < 20.12: no SEA there
  }
}

function scriptPath(): string {
  const script = process.argv[1];
  if (!script) throw new Error("cannot tell which script is running (process.argv[1] is empty)");
  try {
    return realpathSync(script);
  } catch {
    return resolve(script);
  }
}

/** Runs another copy of this program to completion (same environment); its exit code and stderr. */
export async function runSelf(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { spawn } = await import("node:child_process");
  const self = await selfCommand();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(self.command, [...self.prefix, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stderr }));
  });
}
