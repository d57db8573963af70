// `noetl events ID [--follow] [--after EVENT_ID]`: an execution's event log, one line per event
// (or one JSON object per line with --json); --follow streams until the execution ends.
import { isAbort } from "../../client/http";
import { connect, eventLine, type RemoteOptions, required } from "./common";

export interface EventsOptions extends RemoteOptions {
  follow?: boolean;
  after?: string | number;
  limit?: string | number;
}

export async function eventsCommand(id: string | undefined, opts: EventsOptions): Promise<number> {
  const executionId = required(id, "the execution id", "noetl events ID [--follow] [--json]");
  const client = connect(opts);
  const after = opts.after === undefined ? undefined : String(opts.after);
  const write = (e: Parameters<typeof eventLine>[0]) =>
    process.stdout.write(opts.json ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`);
  if (!opts.follow) {
    const limit = opts.limit === undefined ? undefined : Number(opts.limit);
    const page = await client.listEvents(executionId, { after, limit });
    page.items.forEach(write);
    return 0;
  }
  // Ctrl-C only stops watching; the execution goes on.
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGINT", stop);
  try {
    for await (const item of client.streamEvents(executionId, { after, signal: ac.signal })) {
      if (item.kind === "event") write(item.event);
    }
    return 0;
  } catch (err) {
    if (ac.signal.aborted || isAbort(err)) return 130;
    throw err;
  } finally {
    process.off("SIGINT", stop);
  }
}
