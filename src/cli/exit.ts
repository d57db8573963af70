// Maps every error that reaches the top to one sentence on stderr and an exit code.
import { NoetlError } from "../errors";

export function usageError(message: string): NoetlError {
  return new NoetlError("USAGE", message);
}

export function handleFatal(err: unknown, verbose: boolean): number {
  if (err instanceof NoetlError) {
    process.stderr.write(`noetl: ${err.message}\n`);
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  // cac reports usage problems (missing argument, unknown option) as CACError.
  if (err instanceof Error && err.name === "CACError") {
    process.stderr.write(`noetl: ${err.message}; run "noetl --help" for usage\n`);
    return 2;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`noetl: unexpected error: ${message}${verbose ? "" : " (run with -v for details)"}\n`);
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 1;
}
