// The NATS subjects the server and the workers share (docs/PROTOCOL.md "Wake-ups"). NATS only
// carries hints: correctness rests on PostgreSQL, so a lost message costs time, never work.

/** The JetStream stream capturing wake-ups. */
export const COMMANDS_STREAM = "NOETL_COMMANDS";
/** Every pool's wake-ups (the stream's subjects, and what other server processes listen to). */
export const ALL_COMMANDS = "noetl.commands.>";

/** "There is work in this pool". */
export function commandsSubject(pool: string): string {
  return `noetl.commands.${pool}`;
}

/** `{"execution_ids": [...]}`: stop these executions' running tools now (cancelled or failed). */
export const CANCEL_SUBJECT = "noetl.control.cancel";
