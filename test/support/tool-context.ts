// A ToolRunContext for calling one tool directly in a unit test; services a test does not
// expect to be used fail loudly.
import type { ToolRunContext, ToolServices } from "../../src/tools/types.ts";

const unused = () => Promise.reject(new Error("unused in this test"));

export function toolContext(over: Partial<ToolRunContext> = {}): ToolRunContext {
  const services: ToolServices = { runPlaybook: unused, runWorkbook: unused, credential: unused };
  return {
    signal: new AbortController().signal,
    input: {},
    vars: {},
    env: {},
    baseDir: ".",
    services,
    ...over,
  };
}
