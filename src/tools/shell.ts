// `shell`: runs `cmds` with bash (sh when bash is absent) in its own process group, forked by the
// spawn server (spawner.ts) when it can be, else spawned directly.
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { runProcess } from "./process.ts";
import { runViaSpawner } from "./spawner.ts";
import type { Tool } from "./types.ts";
import { abortOutcome, envString, fail, firstLines, isRecord, ok, secondsToMs } from "./util.ts";

/** `command` (for `cmds`) and `timeout` (for `timeout_seconds`) are aliases kept for older playbooks. */
export const shellKeys = ["cmds", "env", "cwd", "timeout_seconds", "command", "timeout"] as const;

let shellPath: string | undefined;

/** Resolved once: an absolute path spares the kernel a failed execve per PATH entry on every spawn. */
function findShell(): string {
  if (shellPath) return shellPath;
  const dirs = (process.env.PATH ?? "/usr/bin:/bin").split(delimiter);
  for (const name of ["bash", "sh"]) {
    for (const dir of dirs) {
      const p = join(dir, name);
      try {
        accessSync(p, constants.X_OK);
        shellPath = p;
        return p;
      } catch {}
    }
  }
  shellPath = "sh";
  return shellPath;
}

/** A list is one script in which each entry must succeed before the next runs (like `&&`). */
export function buildScript(cmds: unknown): string | undefined {
  if (typeof cmds === "string") return cmds;
  if (!Array.isArray(cmds) || cmds.length === 0) return undefined;
  const parts = cmds.map((c) => (typeof c === "string" ? c : JSON.stringify(c)));
  // Braces (with the newline before `}`) keep multi-line entries, comments and heredocs intact.
  return parts.length === 1 ? parts[0] : parts.map((c) => `{ ${c}\n}`).join(" &&\n");
}

export const shellTool: Tool = {
  kind: "shell",
  async run(config, ctx) {
    const script = buildScript(config.cmds ?? config.command);
    if (script === undefined || script.trim() === "") {
      return fail("config", "shell tool needs `cmds`: a command string or a list of commands");
    }
    let env = ctx.env;
    if (config.env !== undefined && config.env !== null) {
      if (!isRecord(config.env)) return fail("config", "shell `env` must be a mapping of names to values");
      env = { ...ctx.env };
      for (const [k, v] of Object.entries(config.env)) env[k] = envString(v);
    }
    // Absolute: pre-started shells may sit in another directory than this process.
    const cwd = resolve(ctx.baseDir, typeof config.cwd === "string" ? config.cwd : "");
    const timeout = config.timeout_seconds ?? config.timeout;
    const shell = findShell();
    const timeoutMs = secondsToMs(timeout);
    // Live output needs pipes, so only the buffered case goes through the spawn server.
    const r =
      (!ctx.onOutput && (await runViaSpawner({ shell, script, env, cwd, signal: ctx.signal, timeoutMs }))) ||
      (await runProcess({
        file: shell,
        args: ["-c", script],
        env,
        cwd,
        signal: ctx.signal,
        timeoutMs,
        onOutput: ctx.onOutput,
      }));
    const data = { returncode: r.returncode, stdout: r.stdout, stderr: r.stderr, duration_ms: r.durationMs };
    switch (r.end) {
      case "spawn_error":
        return existsSync(cwd)
          ? fail("config", `cannot start ${findShell()}: ${r.spawnError?.message}`)
          : fail("config", `shell working directory does not exist: ${cwd}`);
      case "timeout":
        return fail("timeout", `shell command timed out after ${timeout}s`, { retryable: true }, data);
      case "lost":
        return fail(
          "exception",
          "the shell spawn server died while the command ran",
          { retryable: true },
          data,
        );
      case "cancelled": {
        const o = abortOutcome(ctx.signal, "shell command");
        o.data = data;
        return o;
      }
    }
    if (r.returncode !== 0) {
      const detail = firstLines(r.stderr) || firstLines(r.stdout, 3);
      const message = `command exited with code ${r.returncode}${detail ? `: ${detail}` : ""}`;
      return fail("exit_code", message, { code: r.returncode }, data);
    }
    return ok(data);
  },
};
