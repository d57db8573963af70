// `js`: runs `code` as the body of an async function in a node:vm context of its own. Only
// strings cross the boundary (input in, JSON result out) and the few host functions given
// to the context stay hidden in a closure, so user code never holds an engine-realm object.
import type { Context, Script } from "node:vm";
import type { Tool } from "./types.ts";
import { abortOutcome, fail, ok, secondsToMs } from "./util.ts";

export const jsKeys = ["code", "timeout_seconds"] as const;

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_SCRIPTS = 500;
const MAX_IDLE = 8;

// Runs once in each new context: installs timers and console over host functions captured
// in this closure, and `__noetl_run`, which calls the user function and reports in JSON.
const SETUP = `(function (hostSet, hostClear, hostLog) {
  "use strict";
  const parse = JSON.parse, stringify = JSON.stringify, ids = new Map();
  let next = 1;
  const timer = (repeat) => function (fn, ms, ...args) {
    if (typeof fn !== "function") throw new TypeError("callback must be a function");
    const id = next++;
    ids.set(id, hostSet(() => { if (!repeat) ids.delete(id); fn(...args); }, Number(ms) || 0, repeat));
    return id;
  };
  const clear = (id) => { if (ids.has(id)) { hostClear(ids.get(id)); ids.delete(id); } };
  const show = (v) => typeof v === "string" ? v : (() => { try { return stringify(v) ?? String(v); } catch { return String(v); } })();
  const log = (stream) => (...a) => hostLog(stream, a.map(show).join(" "));
  const hidden = (v) => ({ value: v, writable: false, configurable: false, enumerable: false });
  Object.defineProperties(globalThis, {
    setTimeout: hidden(timer(false)), setInterval: hidden(timer(true)),
    clearTimeout: hidden(clear), clearInterval: hidden(clear),
    console: hidden(Object.freeze({ log: log("stdout"), info: log("stdout"), debug: log("stdout"), warn: log("stderr"), error: log("stderr") })),
  });
  const protos = [Object, Array, Function, String, Number, Boolean, Promise, Map, Set, Date, RegExp, Error, JSON, Math];
  const shape = () => protos.map((p) => Object.getOwnPropertyNames(p.prototype ?? p).length).join();
  const baseline = shape();
  // Deleting globals from the host side only touches the sandbox object, so reset from inside.
  let globals;
  const clean = () => {
    ids.clear();
    for (const k of Object.getOwnPropertyNames(globalThis)) if (!globals.has(k) && !delete globalThis[k]) return false;
    return shape() === baseline;
  };
  // The host leaves this call's input and context as two strings on the global object.
  const run = (fn) => {
    const input = globalThis.__noetl_in, ctx = globalThis.__noetl_ctx;
    delete globalThis.__noetl_in;
    delete globalThis.__noetl_ctx;
    let value;
    try { value = fn(parse(input), ctx === undefined ? undefined : parse(ctx)); }
    catch (e) { value = Promise.reject(e); }
    return Promise.resolve(value).then(
      (v) => stringify({ ok: v === undefined ? null : v }, (k, x) => typeof x === "bigint" ? (Number.isSafeInteger(Number(x)) ? Number(x) : String(x)) : x),
      (e) => stringify({ error: e instanceof Error ? { name: e.name, message: e.message, stack: String(e.stack) } : { name: "Error", message: show(e) } }),
    );
  };
  Object.defineProperty(globalThis, "__noetl_run", { value: run });
  globals = new Set(Object.getOwnPropertyNames(globalThis));
  return { clean };
})`;

interface Sandbox {
  context: Context;
  api: { clean(): boolean };
  timers: Set<NodeJS.Timeout>;
  log: (stream: "stdout" | "stderr", text: string) => void;
}

let vm: typeof import("node:vm") | undefined;
let setupScript: Script | undefined;
const scripts = new Map<string, Script>();
const idle: Sandbox[] = [];

async function newSandbox(): Promise<Sandbox> {
  vm ??= await import("node:vm");
  setupScript ??= new vm.Script(SETUP, { filename: "noetl-js-setup" });
  const context = vm.createContext({}, { name: "noetl js tool" });
  const timers = new Set<NodeJS.Timeout>();
  const box = { context, timers, log: () => {} } as unknown as Sandbox;
  const hostSet = (fn: () => void, ms: number, repeat: boolean) => {
    const t = (repeat ? setInterval : setTimeout)(() => {
      if (!repeat) timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const hostClear = (t: NodeJS.Timeout) => {
    clearTimeout(t);
    timers.delete(t);
  };
  const hostLog = (stream: "stdout" | "stderr", text: string) => box.log(stream, `${text}\n`);
  box.api = (setupScript.runInContext(context) as (...a: unknown[]) => Sandbox["api"])(
    hostSet,
    hostClear,
    hostLog,
  );
  return box;
}

function script(code: string): Script | string {
  let s = scripts.get(code);
  if (!s) {
    try {
      s = new vm!.Script(`__noetl_run(async function (input, ctx) {\n${code}\n})`, {
        filename: "js-tool",
        lineOffset: -1,
      });
    } catch (err) {
      return (err as Error).message;
    }
    if (scripts.size >= MAX_SCRIPTS) scripts.delete(scripts.keys().next().value!);
    scripts.set(code, s);
  }
  return s;
}

/** A sandbox goes back to the pool only if the call finished and left the builtins as they were. */
function release(box: Sandbox, reusable: boolean): void {
  for (const t of box.timers) clearTimeout(t);
  box.timers.clear();
  box.log = () => {};
  if (!reusable || !box.api.clean() || idle.length >= MAX_IDLE) return;
  idle.push(box);
}

export const jsTool: Tool = {
  kind: "js",
  rawKeys: ["code"],
  async run(config, ctx) {
    if (typeof config.code !== "string" || config.code.trim() === "") {
      return fail("config", "js tool needs `code`: the body of an async function of `input` and `ctx`");
    }
    if (ctx.signal.aborted) return abortOutcome(ctx.signal, "js code");
    const box = idle.pop() ?? (await newSandbox());
    const compiled = script(config.code);
    if (typeof compiled === "string") {
      release(box, true);
      return fail("config", `js code does not compile: ${compiled}`);
    }
    // A synchronous loop blocks the event loop, so no signal can stop it: vm's own timeout must
    // be the task's.
    const timeoutMs = secondsToMs(config.timeout_seconds) ?? ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    box.log = (stream, text) => ctx.onOutput?.(stream, text);
    const globals = box.context as Record<string, unknown>;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort = () => {};
    try {
      const input = JSON.stringify(ctx.input ?? {});
      // Serialising the whole context is the costly part: skip it when the code never says `ctx`.
      const vars = /\bctx\b/.test(config.code) ? JSON.stringify(ctx.vars ?? {}) : undefined;
      globals.__noetl_in = input;
      if (vars !== undefined) globals.__noetl_ctx = vars;
      const pending = compiled.runInContext(box.context, { timeout: timeoutMs }) as Promise<string>;
      const stop = new Promise<"timeout" | "aborted">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
        onAbort = () => resolve("aborted");
        ctx.signal.addEventListener("abort", onAbort, { once: true });
      });
      const reply = await Promise.race([pending, stop]);
      if (reply === "timeout")
        return fail("timeout", `js code timed out after ${timeoutMs / 1000}s`, { retryable: true });
      if (reply === "aborted") return abortOutcome(ctx.signal, "js code");
      finished = true;
      const parsed = JSON.parse(reply) as {
        ok?: unknown;
        error?: { name: string; message: string; stack: string };
      };
      if (parsed.error) {
        const line = /js-tool:(\d+)/.exec(parsed.error.stack ?? "")?.[1];
        return fail(
          "exception",
          `${parsed.error.name}: ${parsed.error.message}${line ? ` (line ${line})` : ""}`,
        );
      }
      return ok(parsed.ok ?? null);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
        return fail("timeout", `js code timed out after ${timeoutMs / 1000}s`, { retryable: true });
      }
      return fail("exception", `js result is not JSON: ${e.message ?? String(err)}`);
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      release(box, finished);
    }
  },
};
