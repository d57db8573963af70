// Whether a PID names a running process. A zombie does not count: a killed daemon whose parent
// never reaps it (a container's PID 1 without an init, for one) keeps its PID indefinitely.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (process.platform === "linux") {
    try {
      return !/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  }
  if (process.platform !== "win32") {
    const ps = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" });
    if (ps.status === 0) return !ps.stdout.trim().startsWith("Z");
  }
  return true;
}
