// `noop`: passes its input through; the cheapest step there is.
import type { Tool } from "./types.ts";

export const noopKeys = [] as const;

export const noopTool: Tool = {
  kind: "noop",
  run: (_config, ctx) => Promise.resolve({ status: "ok", data: ctx.input }),
};
