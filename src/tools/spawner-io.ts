// File and process helpers of the spawn server (spawner.ts).
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from "node:fs";
import { MAX_CAPTURE, truncatedNote } from "./process.ts";

export function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // the group is already gone
  }
}

export function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {}
}

/** Reads and deletes one output file; a background grandchild still writing keeps an unlinked inode. */
export function readCapped(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "";
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return "";
    const buf = Buffer.allocUnsafe(Math.min(size, MAX_CAPTURE));
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    const text = buf.subarray(0, n).toString("utf8");
    return size > MAX_CAPTURE ? `${text}${truncatedNote}` : text;
  } finally {
    closeSync(fd);
    rmQuiet(path);
  }
}
