// Human progress lines for `noetl run`: one per step as it starts and ends, tool output with -v.
import type { EngineEvent, ExecutionState } from "../engine/types";

export interface Style {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) =>
    color ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return {
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

export function useColor(opts: { color?: boolean }, stream: NodeJS.WriteStream): boolean {
  if (opts.color === false || process.env.NO_COLOR !== undefined) return false;
  return Boolean(stream.isTTY);
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Tool output under its step, each line prefixed `  step │ ` (with -v). */
export function writeIndented(
  out: { write(s: string): unknown },
  step: string,
  chunk: string,
  dim: (s: string) => string,
): void {
  const lines = chunk.replace(/\n$/, "").split("\n");
  out.write(`${lines.map((l) => `  ${dim(`${step} │`)} ${l}`).join("\n")}\n`);
}

/** Prints a line when a step starts, ends, is skipped or fails. */
export function progressPrinter(
  out: { write(s: string): unknown },
  style: Style,
): (ev: EngineEvent, state: ExecutionState) => void {
  const started = new Map<string, number>();
  return (ev, state) => {
    const run = ev.payload.run as string | undefined;
    switch (ev.type) {
      case "step.enter":
        if (run) started.set(run, ev.at);
        out.write(`${style.dim("▶")} ${ev.step}\n`);
        break;
      case "step.skipped":
        out.write(`${style.yellow("↷")} ${ev.step} ${style.dim("skipped")}\n`);
        break;
      case "step.exit": {
        const ms = run && started.has(run) ? ev.at - started.get(run)! : 0;
        const result = ev.payload.result as { status: string; error?: { message: string } };
        if (result.status === "error")
          out.write(
            `${style.red("✗")} ${ev.step} ${style.dim(formatMs(ms))} ${style.red(result.error?.message ?? "error")}\n`,
          );
        else out.write(`${style.green("✓")} ${ev.step} ${style.dim(formatMs(ms))}\n`);
        break;
      }
      case "workflow.completed":
        out.write(
          `${style.green(style.bold("COMPLETED"))} in ${formatMs(ev.at - state.startedAt)}, ${state.steps.length} step${state.steps.length === 1 ? "" : "s"}\n`,
        );
        break;
      case "workflow.failed":
        out.write(`${style.red(style.bold("FAILED"))} in ${formatMs(ev.at - state.startedAt)}\n`);
        break;
      case "execution.cancelled":
        out.write(`${style.yellow(style.bold("CANCELLED"))} after ${formatMs(ev.at - state.startedAt)}\n`);
        break;
      default:
        break;
    }
  };
}
