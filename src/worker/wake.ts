// Wake-ups from NATS: the server publishes "there is work in pool P" on noetl.commands.<pool>
// (stream NOETL_COMMANDS) after a commit that left commands pending. The worker listens with a
// plain subscription on that subject rather than a JetStream consumer: a wake-up is worth
// something only the moment it is sent, so the stream's replay and per-consumer state buy
// nothing, while an ordered consumer's reset loop was seen to outlive the connection and hold
// the process open for seconds after stop. Everything here is best effort: while NATS is
// absent or down the claim long-poll carries the work, so errors are logged and retried,
// never thrown.
import type { Logger } from "../log";
import { CANCEL_SUBJECT, commandsSubject } from "../nats-subjects";
import { pause } from "../pause";
import { within } from "./client";

export interface Wakeups {
  stop(): Promise<void>;
}

export function startWakeups(
  url: string,
  pool: string,
  onWake: () => void,
  onCancel: (executionIds: string[]) => void,
  log: Logger,
): Wakeups {
  const stop = new AbortController();
  let close: (() => Promise<void>) | undefined;
  const loop = (async () => {
    const { connect } = await import("nats");
    // Until the first connection, retried here (abortable); after it, nats.js reconnects by itself.
    let nc: import("nats").NatsConnection | undefined;
    for (let i = 0; !nc && !stop.signal.aborted; i++) {
      nc = await connect({
        servers: url,
        name: `noetl-worker-${pool}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        timeout: 3000,
      }).catch((err: Error) => {
        if (i === 0) log.warn(`NATS at ${url} is unreachable (${err.message}); long-polling until it is up`);
        return undefined;
      });
      if (!nc) await pause(Math.min(500 * 2 ** i, 5000), stop.signal);
    }
    if (!nc) return;
    const conn = nc;
    close = () => conn.close().catch(() => {});
    if (stop.signal.aborted) return close();
    void watchStatus(nc, log);
    // A plain subscription on the stream's subject: it sees every wake-up the server publishes
    // while connected, and nats.js re-subscribes after a reconnect.
    const sub = nc.subscribe(commandsSubject(pool));
    const cancels = nc.subscribe(CANCEL_SUBJECT, {
      callback: (err, m) => {
        if (err) return;
        try {
          const ids = (JSON.parse(new TextDecoder().decode(m.data)) as { execution_ids?: unknown })
            .execution_ids;
          if (Array.isArray(ids)) onCancel(ids.filter((x): x is string => typeof x === "string"));
        } catch {
          log.debug("ignoring a malformed cancel notice");
        }
      },
    });
    stop.signal.addEventListener(
      "abort",
      () => {
        sub.unsubscribe();
        cancels.unsubscribe();
      },
      { once: true },
    );
    log.debug(`listening for wake-ups on ${commandsSubject(pool)}`);
    for await (const _m of sub) onWake();
    await close();
  })().catch((err) => log.warn(`NATS wake-ups stopped: ${(err as Error).message}`));
  return {
    async stop() {
      stop.abort();
      await close?.();
      await within(loop, 2000);
    },
  };
}

async function watchStatus(nc: import("nats").NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === "disconnect") log.warn("NATS connection lost; long-polling until it is back");
    else if (s.type === "reconnect") log.info("NATS connection back");
  }
}
