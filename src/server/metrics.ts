// Prometheus text exposition: requests, executions and commands by status, event-append latency.
// Counters live in this process; status counts are read from the store at scrape time.
import type { Store } from "../store/types";

const BUCKETS_MS = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];

export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #append = { buckets: BUCKETS_MS.map(() => 0), count: 0, sumMs: 0, events: 0 };

  observeRequest(method: string, route: string, status: number): void {
    const key = `${method}\u0000${route}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  observeAppend(ms: number, events: number): void {
    const a = this.#append;
    a.count++;
    a.sumMs += ms;
    a.events += events;
    BUCKETS_MS.forEach((le, i) => {
      if (ms <= le) a.buckets[i]!++;
    });
  }

  async render(store: Store): Promise<string> {
    const counts = await store.statusCounts();
    const out: string[] = [];
    out.push("# HELP noetl_http_requests_total HTTP requests answered, by method, route and status.");
    out.push("# TYPE noetl_http_requests_total counter");
    for (const [key, n] of this.#requests) {
      const [method, route, status] = key.split("\u0000");
      out.push(
        `noetl_http_requests_total{method="${method}",route="${label(route!)}",status="${status}"} ${n}`,
      );
    }
    gauge(out, "noetl_executions", "Executions in the store, by status.", counts.executions);
    gauge(out, "noetl_commands", "Commands in the store, by status.", counts.commands);
    const a = this.#append;
    out.push("# HELP noetl_event_append_seconds Time to append a batch of events to the store.");
    out.push("# TYPE noetl_event_append_seconds histogram");
    for (const [i, le] of BUCKETS_MS.entries()) {
      out.push(`noetl_event_append_seconds_bucket{le="${le / 1000}"} ${a.buckets[i]}`);
    }
    out.push(`noetl_event_append_seconds_bucket{le="+Inf"} ${a.count}`);
    out.push(`noetl_event_append_seconds_sum ${a.sumMs / 1000}`);
    out.push(`noetl_event_append_seconds_count ${a.count}`);
    out.push("# HELP noetl_events_appended_total Events appended to the store.");
    out.push("# TYPE noetl_events_appended_total counter");
    out.push(`noetl_events_appended_total ${a.events}`);
    return `${out.join("\n")}\n`;
  }
}

function gauge(out: string[], name: string, help: string, byStatus: Record<string, number>): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
  for (const [status, n] of Object.entries(byStatus)) out.push(`${name}{status="${label(status)}"} ${n}`);
}

function label(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
