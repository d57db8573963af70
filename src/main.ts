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
    "Run a playbook locally (a file, or a name resolved as REF.yaml or automation/REF.yaml)",
  )
  .option("--set <key=value>", "Set a workload value (repeatable; dotted keys nest; values parse as YAML)")
  .option("--payload <json>", "Workload as JSON, or @file")
  .option("-t, --target <step>", "Start at this step instead of the entry step")
  .option("-r, --runtime <runtime>", "local or auto (default auto)")
  .option("--dry-run", "Validate and print the plan without running tools")
  .example("noetl run automation/tasks.yaml --set target=build -v")
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

cli.help();
cli.version(version, "--version");

async function main(): Promise<void> {
  const argv = process.argv;
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
