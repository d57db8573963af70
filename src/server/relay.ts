// Publishes outbox rows to NATS JetStream after their transaction committed: wake-ups that tell
// workers "there is work in pool P". Losing one costs latency, never work — workers also
// long-poll — so a NATS outage only slows things down; nats.js reconnects by itself.
import type { Store } from "../store/types";

export const STREAM = "NOETL_COMMANDS";
export const SUBJECTS = "noetl.commands.>";

export interface Relay {
  kick: () => void;
  stopped: Promise<void>;
}

export async function startOutboxRelay(
  store: Store,
  url: string,
  stop: AbortSignal,
  log: (s: string) => void,
): Promise<Relay> {
  const { connect, StringCodec } = await import("nats");
  const sc = StringCodec();
  const nc = await connect({
    servers: url,
    name: "noetl-server",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  }).catch((err: Error) => {
    log(`NATS at ${url} is unreachable (${err.message}); workers will long-poll until it is back`);
    return undefined;
  });
  let wake: (() => void) | undefined;
  const kick = () => wake?.();
  if (!nc) return { kick, stopped: Promise.resolve() };
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams
      .add({ name: STREAM, subjects: [SUBJECTS], max_age: 60_000_000_000, max_msgs: 100_000 })
      .catch(async () => {
        await jsm.streams.update(STREAM, {
          subjects: [SUBJECTS],
          max_age: 60_000_000_000,
          max_msgs: 100_000,
        });
      });
  } catch (err) {
    log(`cannot set up the JetStream stream ${STREAM}: ${(err as Error).message}`);
  }
  const js = nc.jetstream();

  // Publishing happens outside any transaction, so a NATS outage never holds a database
  // connection or row locks; two servers may publish the same wake-up, which is harmless.
  const publishPending = async () => {
    const rows = await store.transaction((tx) => tx.takeOutbox(200));
    for (const r of rows) await js.publish(r.subject, sc.encode(JSON.stringify(r.payload)));
    if (rows.length > 0) await store.transaction((tx) => tx.markOutboxPublished(rows.map((r) => r.id)));
  };

  const stopped = (async () => {
    let failing = false;
    while (!stop.aborted) {
      try {
        await publishPending();
        if (failing) log("publishing wake-ups to NATS again");
        failing = false;
      } catch (err) {
        if (!failing && !stop.aborted)
          log(`cannot publish wake-ups to NATS (${(err as Error).message}); retrying`);
        failing = true;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, failing ? 2000 : 1000);
        function done() {
          clearTimeout(t);
          wake = undefined;
          // Without this every pass leaves a listener on the long-lived stop signal.
          stop.removeEventListener("abort", done);
          resolve();
        }
        wake = done;
        stop.addEventListener("abort", done, { once: true });
      });
    }
    await nc.drain().catch(() => nc.close());
  })();
  return { kick, stopped };
}
