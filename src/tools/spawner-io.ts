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

const doomed: string[] = [];

/** Deletes the file once the current turn of the event loop is over (off a step's critical path). */
export function removeSoon(path: string): void {
  if (doomed.push(path) === 1)
    setImmediate(() => {
      for (const p of doomed.splice(0)) rmQuiet(p);
    });
}

/**
 * Reads and deletes one output file; a background grandchild still writing keeps an unlinked inode.
 * `empty`: the server saw it empty when the job ended, so there is nothing to read.
 */
export function readCapped(path: string, empty = false): string {
  if (empty) {
    removeSoon(path);
    return "";
  }
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
    removeSoon(path);
  }
}
