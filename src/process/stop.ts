// Stopping a background process: SIGTERM and a bounded wait, or SIGKILL for the whole process
// group (a worker's running shell commands go with it).
import { isAlive } from "./alive";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  // Detached children lead their own process group; a negative PID signals all of it.
  if (sig === "SIGKILL" && process.platform !== "win32") {
    try {
      process.kill(-pid, sig);
      return;
    } catch {}
  }
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}
