// NATS wake-ups: after a commit that left commands PENDING, the server publishes "there is work
// in pool P" on noetl.commands.<pool> (captured by the JetStream stream NOETL_COMMANDS). Other
// server processes wake the claims long-polling on them; workers cut a retry pause short.
//
// Published from memory after the commit, not through an outbox table: a wake-up is a hint.
// Losing one (a crash between commit and publish, NATS down) costs at most one claim re-check —
// every waiting claim looks at the table at least once a second — while the table cost two
// extra transactions per step. Publishing is outside any transaction, so a NATS outage never
// holds a database connection; nats.js reconnects by itself.

export const STREAM = "NOETL_COMMANDS";
export const SUBJECTS = "noetl.commands.>";
/** At most one wake-up per pool in this window: under load workers are busy anyway. */
const MIN_GAP_MS = 5;

export interface Wakeups {
  /** Says "there is work" soon (coalesced). */
  publish(): void;
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
  const nc = await connect({
    servers: url,
    name: "noetl-server",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Our own wake-ups are not news to us: the commit already woke this process's claims.
    noEcho: true,
  }).catch((err: Error) => {
    log(`NATS at ${url} is unreachable (${err.message}); workers will long-poll until it is back`);
    return undefined;
  });
  if (!nc) return { publish: () => {}, stopped: Promise.resolve() };
  try {
    const jsm = await nc.jetstreamManager();
    const config = { subjects: [SUBJECTS], max_age: 60_000_000_000, max_msgs: 100_000 };
    await jsm.streams.add({ name: STREAM, ...config }).catch(() => jsm.streams.update(STREAM, config));
  } catch (err) {
    log(`cannot set up the JetStream stream ${STREAM}: ${(err as Error).message}`);
  }

  const subject = "noetl.commands.default";
  const body = sc.encode(JSON.stringify({ pool: "default" }));
  let last = 0;
  let trailing: NodeJS.Timeout | undefined;
  let failing = false;
  const send = () => {
    trailing = undefined;
    last = performance.now();
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

  // Commits made by other server processes wake the claims waiting here.
  const sub = nc.subscribe(SUBJECTS);
  const listening = (async () => {
    for await (const _m of sub) onRemoteWork();
  })();
  const stopped = new Promise<void>((resolve) => {
    stop.addEventListener(
      "abort",
      () => {
        clearTimeout(trailing);
        sub.unsubscribe();
        void listening
          .then(() => nc.drain())
          .catch(() => nc.close())
          .finally(resolve);
      },
      { once: true },
    );
  });
  return { publish, stopped };
}
