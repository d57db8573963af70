// `python`: runs `code` in a python3 subprocess through a small runner. The result goes back
// as JSON on fd 3 so the user's own print() output stays on stdout.
import { runProcess } from "./process.ts";
import type { Tool } from "./types.ts";
import { abortOutcome, fail, firstLines, ok, secondsToMs } from "./util.ts";

export const pythonKeys = ["code", "timeout_seconds"] as const;

const RUNNER = String.raw`
import json, os, sys, traceback
def _bind(fn, inp, ctx):
    import inspect
    args, kwargs, used = [], {}, set()
    for p in inspect.signature(fn).parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            continue
        if p.kind == p.VAR_KEYWORD:
            kwargs.update({k: v for k, v in inp.items() if k not in used})
            continue
        if p.name in inp:
            v = inp[p.name]
        elif p.name == "context":
            v = ctx
        elif p.name in ctx:
            v = ctx[p.name]
        elif p.default is not p.empty:
            continue
        else:
            raise TypeError("main() parameter '%s' is not in the input or the context" % p.name)
        used.add(p.name)
        if p.kind == p.POSITIONAL_ONLY:
            args.append(v)
        else:
            kwargs[p.name] = v
    return args, kwargs

def _run():
    req = json.load(sys.stdin)
    sys.stdin = open(os.devnull)
    inp, ctx = req.get("input") or {}, req.get("vars") or {}
    g = {"__name__": "__main__", "__builtins__": __builtins__, "input": inp, "context": ctx}
    g.update(inp)
    try:
        exec(compile(req["code"], "<noetl>", "exec"), g)
        main = g.get("main")
        if callable(main) and getattr(main, "__module__", None) == "__main__":
            args, kwargs = _bind(main, inp, ctx)
            res = main(*args, **kwargs)
        else:
            res = g.get("result")
        if hasattr(res, "__await__"):
            import asyncio
            async def _wait():
                return await res
            res = asyncio.run(_wait())
        out = {"result": res}
    except BaseException as e:
        tb = traceback.extract_tb(e.__traceback__)
        line = next((f.lineno for f in reversed(tb) if f.filename == "<noetl>"), getattr(e, "lineno", None))
        out = {"error": {"type": type(e).__name__, "message": str(e), "line": line}}
        frames = traceback.format_list([f for f in tb if f.filename == "<noetl>"])
        sys.stderr.write("Traceback (most recent call last):\n" + "".join(frames))
        sys.stderr.write("".join(traceback.format_exception_only(type(e), e)))
    out["python"] = sys.executable
    sys.stdout.flush()
    with os.fdopen(3, "w") as f:
        try:
            f.write(json.dumps(out, default=str))
        except (TypeError, ValueError) as e:
            f.write(json.dumps({"error": {"type": type(e).__name__, "message": "result is not JSON-serialisable: %s" % e}}))
_run()
`;

// The interpreter's real path, learnt from its first run: a version-manager shim (pyenv) in
// front of python3 can cost hundreds of milliseconds per start.
const resolved = new Map<string, string>();

export const pythonTool: Tool = {
  kind: "python",
  rawKeys: ["code"],
  async run(config, ctx) {
    if (typeof config.code !== "string" || config.code.trim() === "") {
      return fail(
        "config",
        "python tool needs `code`: Python source defining main(...) or assigning `result`",
      );
    }
    let stdin: string;
    try {
      stdin = JSON.stringify({ code: config.code, input: ctx.input, vars: ctx.vars });
    } catch (err) {
      return fail("config", `python tool: input is not JSON-serialisable (${(err as Error).message})`);
    }
    const python = ctx.env.NOETL_PYTHON || "python3";
    const file = resolved.get(python) ?? python;
    const timeout = config.timeout_seconds;
    const r = await runProcess({
      file,
      args: ["-c", RUNNER],
      env: { ...ctx.env, PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8" },
      cwd: ctx.baseDir,
      signal: ctx.signal,
      timeoutMs: secondsToMs(timeout),
      onOutput: ctx.onOutput,
      stdin,
      resultPipe: true,
    });
    if (r.end === "spawn_error") {
      return r.spawnError?.code === "ENOENT"
        ? fail("config", `${python} not found; install Python 3 or set NOETL_PYTHON`)
        : fail("config", `cannot start ${python}: ${r.spawnError?.message}`);
    }
    if (r.end === "timeout")
      return fail("timeout", `python code timed out after ${timeout}s`, { retryable: true });
    if (r.end === "cancelled") return abortOutcome(ctx.signal, "python code");
    let reply: {
      result?: unknown;
      python?: string;
      error?: { type: string; message: string; line?: number };
    };
    try {
      reply = JSON.parse(r.result || "null") ?? {};
    } catch {
      reply = {};
    }
    if (reply.python && !resolved.has(python)) resolved.set(python, reply.python);
    const output = { stdout: r.stdout, stderr: r.stderr };
    if (reply.error) {
      const { type, message, line } = reply.error;
      return fail("exception", `${type}: ${message}${line ? ` (line ${line})` : ""}`, {}, output);
    }
    if (!("result" in reply)) {
      // The runner never reported: the interpreter died (killed, os._exit, or not Python 3).
      const detail = firstLines(r.stderr) || `exit code ${r.returncode}`;
      return fail("exit_code", `python exited without a result: ${detail}`, { code: r.returncode }, output);
    }
    return ok(reply.result ?? null);
  },
};
