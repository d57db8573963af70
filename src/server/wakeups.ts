// NATS wake-ups: after a commit that left commands PENDING, the server publishes "there is work
// in pool P" on noetl.commands.<pool> (captured by the JetStream stream NOETL_COMMANDS). Other
// server processes wake the claims long-polling on them; workers cut a retry pause short.
//
// Published from memory after the commit, not through an outbox table: a wake-up is a hint.
// Losing one (a crash between commit and publish, NATS down) costs at most one claim re-check —
// every waiting claim looks at the table at least once a second — while the table cost two
// extra transactions per step. Publishing is outside any transaction, so a NATS outage never
// holds a database connection; nats.js reconnects by itself.

/** At most one wake-up per pool in this window: under load workers are busy anyway. */
const MIN_GAP_MS = 5;

import { ALL_COMMANDS, CANCEL_SUBJECT, COMMANDS_STREAM, commandsSubject } from "../nats-subjects";
import { pause } from "../pause";

export interface Wakeups {
  /** Says "there is work" soon (coalesced). */
  publish(): void;
  /** Tells workers these executions were cancelled, so they stop their tools now. */
  publishCancel(executionIds: string[]): void;
  stopped: Promise<void>;
}

export async function startWakeups(
  url: string,
  onRemoteWork: () => void,
  stop: AbortSignal,
  log: (s: string) => void,
): Promise<Wakeups> {
  const { connect, StringCodec } = await import("nats");
  const sc = StringCodec();
  const subject = commandsSubject("default");
  const body = sc.encode(JSON.stringify({ pool: "default" }));
  let nc: import("nats").NatsConnection | undefined;
  let last = 0;
  let trailing: NodeJS.Timeout | undefined;
  let failing = false;
  const send = () => {
    trailing = undefined;
    last = performance.now();
    if (!nc) return; // not connected yet: claims find the work by looking at the table
    try {
      nc.publish(subject, body);
      if (failing) log("publishing wake-ups to NATS again");
      failing = false;
    } catch (err) {
      if (!failing) log(`cannot publish wake-ups to NATS (${(err as Error).message})`);
      failing = true;
    }
  };
  const publish = () => {
    if (trailing || stop.aborted) return;
    const wait = last + MIN_GAP_MS - performance.now();
    if (wait <= 0) send();
    else trailing = setTimeout(send, wait);
  };

  // NATS down when the server starts must not keep wake-ups off for the server's lifetime: the
  // first connection is retried here, in the background; after it nats.js reconnects by itself.
  const connected = (async () => {
    for (let i = 0; !stop.aborted; i++) {
      const conn = await connect({
        servers: url,
        name: "noetl-server",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        timeout: 3000,
        // Our own wake-ups are not news to us: the commit already woke this process's claims.
        noEcho: true,
      }).catch((err: Error) => {
        if (i === 0) log(`NATS at ${url} is unreachable (${err.message}); workers long-poll until it is up`);
        return undefined;
      });
      if (conn) {
        if (i > 0) log(`connected to NATS at ${url}`);
        return conn;
      }
      await pause(Math.min(500 * 2 ** i, 5000), stop);
    }
    return undefined;
  })();

  const listening = connected.then(async (conn) => {
    if (!conn) return;
    if (stop.aborted) return void (await conn.close().catch(() => {}));
    try {
      const jsm = await conn.jetstreamManager();
      const config = { subjects: [ALL_COMMANDS], max_age: 60_000_000_000, max_msgs: 100_000 };
      await jsm.streams
        .add({ name: COMMANDS_STREAM, ...config })
        .catch(() => jsm.streams.update(COMMANDS_STREAM, config));
    } catch (err) {
      log(`cannot set up the JetStream stream ${COMMANDS_STREAM}: ${(err as Error).message}`);
    }
    nc = conn;
    // Commits made by other server processes wake the claims waiting here.
    const sub = conn.subscribe(ALL_COMMANDS);
    stop.addEventListener("abort", () => sub.unsubscribe(), { once: true });
    if (stop.aborted) sub.unsubscribe();
    for await (const _m of sub) onRemoteWork();
    await conn.drain().catch(() => conn.close());
  });
  const stopped = new Promise<void>((resolve) => {
    stop.addEventListener(
      "abort",
      () => {
        clearTimeout(trailing);
        // A first connection still being retried ends at its next attempt.
        void listening.catch(() => {}).finally(resolve);
      },
      { once: true },
    );
  });
  // Best effort like a wake-up: a worker that misses it stops at its next lease heartbeat.
  const publishCancel = (executionIds: string[]) => {
    if (!nc || stop.aborted) return;
    try {
      nc.publish(CANCEL_SUBJECT, sc.encode(JSON.stringify({ execution_ids: executionIds })));
    } catch (err) {
      log(`cannot publish a cancel notice to NATS (${(err as Error).message})`);
    }
  };
  return { publish, publishCancel, stopped };
}
