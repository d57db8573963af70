// Entry point: parses arguments with cac; each command's module is imported only when it runs,
// so `noetl --version` loads almost nothing.
import { cac } from "cac";
import { handleFatal } from "./cli/exit";

declare const __NOETL_VERSION__: string;
const version = typeof __NOETL_VERSION__ === "string" ? __NOETL_VERSION__ : "0.0.0-dev";

const cli = cac("noetl");

cli
  .option("--server-url <url>", "Server URL (env NOETL_SERVER_URL, default http://localhost:8082)")
  .option("--host <host>", "Server host (shorthand for --server-url)")
  .option("--port <port>", "Server port (shorthand for --server-url)")
  .option("--token <token>", "API token (env NOETL_API_TOKEN)")
  .option("--json", "Machine-readable output")
  .option("-v, --verbose", "Verbose output (tool output, stack traces)")
  .option("--no-color", "Disable colours (also NO_COLOR)");

cli
  .command(
    "run [ref]",
    "Run a playbook: a file locally (REF, REF.yaml, automation/REF.yaml), catalog/PATH on the server",
  )
  .option("--set <key=value>", "Set a workload value (repeatable; dotted keys nest; values parse as YAML)")
  .option("--payload <json>", "Workload as JSON, or @file")
  .option("-t, --target <step>", "Start at this step instead of the entry step")
  .option(
    "-r, --runtime <runtime>",
    "local, distributed or auto (default auto: files run locally, catalog/PATH or catalog://PATH@V on the server)",
  )
  .option("--dry-run", "Validate and print the plan without running tools")
  .example("noetl run automation/tasks.yaml --set target=build -v")
  .example("noetl run catalog/path/to/playbook -r distributed")
  .action(async (ref: string | undefined, opts) => {
    const { runCommand } = await import("./cli/run");
    return runCommand(ref, opts);
  });

cli
  .command("validate [...files]", "Check playbooks: YAML, schema, step references, tool kinds, templates")
  .example("noetl validate automation/tasks.yaml")
  .action(async (files: string[], opts) => {
    const { validateCommand } = await import("./cli/validate");
    return validateCommand(files, opts);
  });

cli.command("schema", "Print the JSON Schema of the playbook DSL (for editors)").action(async () => {
  const { schemaCommand } = await import("./cli/schema");
  return schemaCommand();
});

cli
  .command(
    "server [action]",
    "The server: run (foreground), start (background, PID file in NOETL_HOME), stop, status",
  )
  .option("--init-db", "Create or upgrade the database schema first (run, start)")
  .option("-f, --force", "stop: kill the process (SIGKILL) instead of asking it to stop")
  .example("noetl server start --init-db")
  .example("noetl server status")
  .example("noetl server stop")
  .example("noetl server run --host 127.0.0.1 --port 8082")
  .action(async (action: string | undefined, opts) => {
    // `run` goes straight to the foreground program: it needs none of the process management.
    if (action === "run") return (await import("./cli/server-run")).serverRunCommand(opts);
    const { serverCommand } = await import("./cli/server");
    return serverCommand(action, opts);
  });

cli
  .command("db [action]", "Create (init) or check (validate) the database schema; both are idempotent")
  .example("noetl db init")
  .action(async (action: string | undefined, opts) => {
    const { dbCommand } = await import("./cli/db");
    return dbCommand(action, opts);
  });

cli
  .command(
    "worker [action]",
    "Workers: run (foreground), start (background, PID file per --name in NOETL_HOME), stop, status",
  )
  .option("--name <name>", "Worker name (the id is <name>-<host>-<pid>; default worker)")
  .option("--concurrency <n>", "Commands run at once (env NOETL_WORKER_CONCURRENCY, default 8)")
  .option("--pool <pool>", "Pool to claim from (env NOETL_WORKER_POOL_NAME, default default)")
  .option("-f, --force", "stop: kill the process (SIGKILL) instead of asking it to stop")
  .option("--all", "stop: every worker started with `worker start`")
  .example("noetl worker start --name w1 --concurrency 4")
  .example("noetl worker status")
  .example("noetl worker stop --name w1")
  .example("noetl worker run --name w1 --concurrency 4")
  .action(async (action: string | undefined, opts) => {
    if (action === "run") return (await import("./cli/worker-run")).workerRunCommand(opts);
    const { workerCommand } = await import("./cli/worker");
    return workerCommand(action, opts);
  });

// Remote operations against the server's API (src/cli/remote/, one file per command group).
cli
  .command("register [kind]", "Send playbooks (--file F | --dir D) or a credential (--file F) to the server")
  .usage("register playbook --file F | --dir D\n  $ noetl register credential --file F")
  .option("--file <file>", "The YAML file to register (a credential may also be JSON)")
  .option("--dir <dir>", "Register every *.yaml / *.yml under this directory, recursively")
  .example("noetl register playbook --file playbook.yaml")
  .example("noetl register playbook --dir playbooks/")
  .example("noetl register credential --file pg_local.yaml")
  .action(async (kind: string | undefined, opts) => {
    const { registerCommand } = await import("./cli/remote/register");
    return registerCommand(kind, opts);
  });

cli
  .command("execute [action] [arg]", "Start a catalog playbook on the server, or show an execution")
  .usage(
    "execute playbook PATH [--version V] [--set k=v]… [--payload JSON|@file] [--wait] [--json]\n  $ noetl execute status ID [--follow] [--json]",
  )
  .option("--set <key=value>", "Set a workload value (repeatable; dotted keys nest; values parse as YAML)")
  .option("--payload <json>", "Workload as JSON, or @file")
  .option("--wait", "Follow the execution to its end, printing progress; exit like noetl run")
  .option("--follow", "status: follow the execution to its end")
  .example("noetl execute playbook examples/hello --set name=Ada --wait")
  .example("noetl execute playbook examples/hello --version 2 --json")
  .example("noetl execute status 1f0c2a9e4b7d4c3e8a21")
  .action(async (action: string | undefined, arg: string | undefined, opts) => {
    const { executeCommand } = await import("./cli/remote/execute");
    return executeCommand(action, arg, opts);
  });

cli
  .command("status <id>", "Show an execution on the server (same as execute status)")
  .option("--follow", "Follow the execution to its end, printing progress; exit like noetl run")
  .action(async (id: string, opts) => {
    const { statusCommand } = await import("./cli/remote/status");
    return statusCommand(id, opts);
  });

cli.command("cancel <id>", "Cancel an execution on the server").action(async (id: string, opts) => {
  const { cancelCommand } = await import("./cli/remote/status");
  return cancelCommand(id, opts);
});

cli
  .command("events <id>", "An execution's events, one line each (--json: one JSON object per line)")
  .option("--follow", "Stream events as they happen until the execution ends")
  .option("--after <event_id>", "Only events after this one")
  .option("--limit <n>", "At most this many events (without --follow; default 500)")
  .action(async (id: string, opts) => {
    const { eventsCommand } = await import("./cli/remote/events");
    return eventsCommand(id, opts);
  });

cli
  .command("catalog [action] [arg]", "Browse the server's catalog: list [playbooks|credentials], get PATH")
  .usage("catalog list [playbooks|credentials] [--json]\n  $ noetl catalog get PATH [--version V] [--json]")
  .example("noetl catalog list")
  .example("noetl catalog list credentials")
  .example("noetl catalog get examples/hello --version 1")
  .action(async (action: string | undefined, arg: string | undefined, opts) => {
    const { catalogCommand } = await import("./cli/remote/catalog");
    return catalogCommand(action, arg, opts);
  });

cli.help();
cli.version(version, "--version");
cli
  .command("completion [shell]", "Print a shell completion script: bash, zsh or fish")
  .example('eval "$(noetl completion bash)"')
  .example("noetl completion fish | source")
  .action(async (shell: string | undefined) => {
    const { ACTIONS, completionCommand } = await import("./cli/completion");
    // The flags as written (`-t, --target <step>` → -t --target): cac keeps camel-cased names.
    const flags = (options: { rawName: string }[]) =>
      options.flatMap((o) => o.rawName.split(",").map((part) => part.trim().split(/\s/)[0]!));
    return completionCommand(shell, {
      commands: cli.commands.map((c) => ({
        name: c.name,
        flags: flags(c.options),
        actions: ACTIONS[c.name] ?? [],
      })),
      globalFlags: flags(cli.globalCommand.options),
    });
  });

// `catalog get` and `execute playbook` take `--version V`: a boolean --version would swallow V.
const versionFlag = cli.globalCommand.options.find((o) => o.name === "version");
if (versionFlag) versionFlag.isBoolean = false;

async function main(): Promise<void> {
  const argv = process.argv;
  // `noetl events ID | head`: a reader that goes away ends the output quietly, without a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(process.exitCode ?? 0);
  });
  try {
    cli.parse(argv, { run: false });
    if (!cli.matchedCommand) {
      const name = cli.args[0];
      if (name !== undefined) {
        const { usageError } = await import("./cli/exit");
        throw usageError(`unknown command "${name}"; run "noetl --help" for the list of commands`);
      }
      if (!cli.options.help && !cli.options.version) cli.outputHelp();
      return;
    }
    const code = await cli.runMatchedCommand();
    if (typeof code === "number") process.exitCode = code;
  } catch (err) {
    process.exitCode = handleFatal(err, Boolean(cli.options.verbose));
  }
}

void main();
