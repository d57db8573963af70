// A small typed client of the NoETL server's API: one method per route (GET /api/openapi.json
// lists them). Errors arrive as NoetlError; an unreachable server as one sentence saying so.
import type {
  CatalogEntry,
  CatalogSummary,
  CredentialInfo,
  EventRecord,
  ExecutionStatus,
  StepRecord,
} from "../store/types";
import { type ClientOptions, isAbort, isConnectionError, send, sendJson, unreachableError } from "./http";
import { readSse } from "./sse";

export type { ClientOptions } from "./http";

export interface RegisterResult {
  status: string;
  path: string;
  version: number;
  catalog_id: string;
  kind: string;
}

export interface CredentialInput {
  name: string;
  type: string;
  data: Record<string, unknown> | string;
  description?: string;
}

export interface StartResult {
  execution_id: string;
  status: ExecutionStatus;
  path: string;
  version: number;
}

/** GET /api/executions/{id}: the `noetl run --json` document plus where and when. */
export interface ExecutionDocument {
  execution_id: string;
  status: ExecutionStatus;
  result?: unknown;
  error: unknown;
  steps: StepRecord[];
  path: string | null;
  version: number | null;
  parent_execution_id: string | null;
  started_at: string;
  ended_at: string | null;
}

export type StreamItem =
  | { kind: "event"; event: EventRecord }
  | { kind: "end"; status: ExecutionStatus | null };

const seg = (path: string) => path.split("/").map(encodeURIComponent).join("/");
const id = (s: string) => encodeURIComponent(s);

export class NoetlClient {
  constructor(readonly options: ClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  health(signal?: AbortSignal): Promise<{ status: string }> {
    return sendJson(this.options, "GET", "/health", { signal });
  }

  /** POST /api/catalog/register with the playbook's YAML; validation problems come back as details. */
  registerPlaybook(yaml: string): Promise<RegisterResult> {
    return sendJson(this.options, "POST", "/api/catalog/register", {
      text: yaml,
      contentType: "application/yaml",
    });
  }

  async listCatalog(filter: { kind?: string; path?: string } = {}): Promise<CatalogSummary[]> {
    const r = await sendJson<{ items: CatalogSummary[] }>(this.options, "GET", "/api/catalog", {
      query: filter,
    });
    return r.items;
  }

  getCatalog(path: string, version?: number | "latest"): Promise<CatalogEntry> {
    return sendJson(this.options, "GET", `/api/catalog/${seg(path)}`, { query: { version } });
  }

  registerCredential(input: CredentialInput): Promise<{ name: string; type: string; created: boolean }> {
    return sendJson(this.options, "POST", "/api/credentials", { json: input });
  }

  async listCredentials(): Promise<CredentialInfo[]> {
    const r = await sendJson<{ items: CredentialInfo[] }>(this.options, "GET", "/api/credentials");
    return r.items;
  }

  execute(req: {
    path: string;
    version?: number | "latest";
    workload?: Record<string, unknown>;
  }): Promise<StartResult> {
    return sendJson(this.options, "POST", "/api/execute", { json: req });
  }

  getExecution(executionId: string, signal?: AbortSignal): Promise<ExecutionDocument> {
    return sendJson(this.options, "GET", `/api/executions/${id(executionId)}`, { signal });
  }

  getExecutionStatus(executionId: string): Promise<Omit<ExecutionDocument, "result">> {
    return sendJson(this.options, "GET", `/api/executions/${id(executionId)}/status`);
  }

  cancelExecution(executionId: string): Promise<{ execution_id: string; status: ExecutionStatus }> {
    return sendJson(this.options, "POST", `/api/executions/${id(executionId)}/cancel`);
  }

  listEvents(
    executionId: string,
    page: { after?: string; limit?: number } = {},
  ): Promise<{ items: EventRecord[]; next_after: string | null }> {
    return sendJson(this.options, "GET", `/api/executions/${id(executionId)}/events`, { query: page });
  }

  /**
   * The execution's events as they happen (Server-Sent Events), ending with its final status.
   * A dropped connection is resumed after the last event seen, so nothing is missed or repeated.
   */
  async *streamEvents(
    executionId: string,
    o: { after?: string; signal?: AbortSignal; retries?: number } = {},
  ): AsyncGenerator<StreamItem> {
    let after = o.after;
    let failures = 0;
    const retries = o.retries ?? 10;
    for (;;) {
      try {
        const res = await send(this.options, "GET", `/api/executions/${id(executionId)}/events`, {
          accept: "text/event-stream",
          query: { after },
          signal: o.signal,
          // The server sends a keep-alive every 15 s: a longer silence is a dead connection.
          bodyTimeout: 45_000,
        });
        for await (const m of readSse(res.body)) {
          failures = 0;
          if (m.event === "end") {
            const end = JSON.parse(m.data) as { status: ExecutionStatus | null };
            yield { kind: "end", status: end.status };
            return;
          }
          if (m.event !== "event") continue;
          const event = JSON.parse(m.data) as EventRecord;
          after = event.event_id;
          yield { kind: "event", event };
        }
        // Closed without its "end" message: the server is stopping; resume when it is back.
      } catch (err) {
        if (o.signal?.aborted || isAbort(err)) throw err;
        const code = (err as { code?: string }).code;
        const transient = isConnectionError(err) || code === "UND_ERR_BODY_TIMEOUT" || code === "UNAVAILABLE";
        if (!transient) throw err;
      }
      if (++failures > retries) throw unreachableError(this.baseUrl);
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** failures, 5000)));
    }
  }
}

export function createClient(options: ClientOptions): NoetlClient {
  return new NoetlClient(options);
}
