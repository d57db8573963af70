// On a terminal, `noetl run` keeps one status line under the progress lines: the steps running
// now, how long each has run, and loop progress. Lines written through `write` appear above it.
import type { ExecutionState } from "../engine/types";
import { formatMs, type Style } from "./output";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface LiveView {
  write(text: string): boolean;
  track(state: ExecutionState): void;
  stop(): void;
}

export function liveView(out: NodeJS.WriteStream, style: Style, now: () => number = Date.now): LiveView {
  let state: ExecutionState | undefined;
  let frame = 0;
  let shown = false;
  const footer = (): string => {
    if (state?.status !== "RUNNING") return "";
    const runs = Object.values(state.runs);
    if (runs.length === 0) return "";
    const parts = runs.slice(0, 6).map((r) => {
      const loop = r.loop ? ` ${r.loop.done}/${r.loop.items.length}` : "";
      return `${r.step}${loop} ${style.dim(formatMs(now() - r.startedAt))}`;
    });
    const more = runs.length > 6 ? ` +${runs.length - 6}` : "";
    const line = `${FRAMES[frame % FRAMES.length]} ${parts.join(" · ")}${more}`;
    return line.length > (out.columns ?? 120) + 40 ? line.slice(0, out.columns ?? 120) : line;
  };
  const clear = () => {
    if (shown) out.write("\r\x1b[K");
    shown = false;
  };
  const draw = () => {
    const text = footer();
    if (text) {
      out.write(`\r\x1b[K${text}`);
      shown = true;
    }
  };
  const timer = setInterval(() => {
    frame++;
    clear();
    draw();
  }, 100);
  timer.unref();
  return {
    write(text) {
      clear();
      out.write(text);
      draw();
      return true;
    },
    track(s) {
      state = s;
    },
    stop() {
      clearInterval(timer);
      clear();
    },
  };
}
