// Shared by the process-management tests: the built CLI run as node, deno or the executable,
// in a temporary NOETL_HOME, on a free loopback port; every process it started is killed by PID.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliPath, repoRoot } from "../support/paths";

export const denoPath = join(repoRoot, "node_modules", "deno", "deno");
export const exePath = join(
  repoRoot,
  "dist",
  "bin",
  `noetl-${process.platform === "darwin" ? "macos" : process.platform}-${process.arch}`,
);

export type Runner = "node" | "deno" | "exe";

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The environment of a user with nothing configured but NOETL_HOME. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NOETL_HOME: home, NO_COLOR: "1" };
  for (const k of Object.keys(env)) {
    if (k.startsWith("POSTGRES_") || (k.startsWith("NOETL_") && k !== "NOETL_HOME") || k === "NATS_URL")
      delete env[k];
  }
  return { ...env, ...extra };
}

export function noetl(
  args: string[],
  opts: { home: string; env?: Record<string, string>; runner?: Runner; timeoutMs?: number },
): Promise<Result> {
  const runner = opts.runner ?? "node";
  const [cmd, prefix] =
    runner === "deno"
      ? [denoPath, ["run", "-A", cliPath]]
      : runner === "exe"
        ? [exePath, []]
        : [process.execPath, [cliPath]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...prefix, ...args], {
      env: cleanEnv(opts.home, opts.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function makeHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), "noetl-process-test-"));
}

export function readPid(home: string, file = "noetl_server.pid"): number | undefined {
  try {
    const pid = Number(readFileSync(join(home, file), "utf8").trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return process.platform !== "linux";
  }
}

export async function waitDead(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

/** Kills, by PID, every process whose PID file is in home (and the extra PIDs), then removes home. */
export async function cleanup(home: string, extraPids: number[] = []): Promise<void> {
  const pids = [...extraPids];
  if (existsSync(home)) {
    for (const f of readdirSync(home)) if (f.endsWith(".pid")) pids.push(readPid(home, f) ?? 0);
  }
  for (const pid of pids.filter((p) => p > 0 && alive(p))) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await waitDead(pid, 5000);
  }
  await rm(home, { recursive: true, force: true });
}

export function logLines(home: string, file: string): string[] {
  try {
    return readFileSync(join(home, "logs", file), "utf8")
      .split("\n")
      .filter(Boolean);
  } catch {
    return [];
  }
}

export function requireBundle(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
}

/** Why the executable cannot be tested, or undefined when it can. */
export function exeSkipReason(): string | undefined {
  if (!existsSync(exePath)) return `${exePath} is not built (npm run release -- <target>)`;
  // `npm run build` after a release makes the bundle a little newer without the executable
  // being stale; much older means it was built from other sources.
  if (statSync(exePath).mtimeMs < statSync(cliPath).mtimeMs - 15 * 60_000)
    return `${exePath} is much older than the bundle; rebuild it with npm run release`;
  return undefined;
}
