// Property: random and malformed bodies, paths and headers sent to every route never produce
// a 5xx or a crash, errors keep their envelope, and nothing half-written is left behind.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { SecretBox } from "../../src/crypto/secret-box";
import { backends } from "../store/backends";
import { appRoutes, type Harness, harness } from "./harness";

const KEY = "fuzz-secret-key-0123456789";
const hello = readFileSync(new URL("./fixtures/hello.yaml", import.meta.url), "utf8");
const RUNS = Number(process.env.NOETL_FUZZ_RUNS ?? 300);

const segment = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    "..",
    ".",
    "%2e%2e",
    "%00",
    "%ff",
    "%",
    "a%2Fb",
    "examples",
    "hello",
    "e1",
    "latest",
    "x".repeat(300),
  ),
  fc
    .uint8Array({ maxLength: 6 })
    .map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, "0")}`).join("")),
);

// Mostly the real routes with their own methods (every route of the app, plus paths that name
// existing rows), so requests get past routing; some noise.
const routes: [string, string][] = [
  ...appRoutes().map((d): [string, string] => [d.method, d.path.replace(/\{\w+\+?\}/g, "{s}")]),
  ["GET", "/health"],
  ["GET", "/api/health"],
  ["POST", "/api/catalog/register"],
  ["POST", "/api/catalog/register"],
  ["GET", "/api/catalog"],
  ["POST", "/api/catalog/list"],
  ["GET", "/api/catalog/{s}/{s}"],
  ["GET", "/api/catalog/examples/hello"],
  ["GET", "/api/executions"],
  ["GET", "/api/executions/{s}"],
  ["GET", "/api/execute/{s}"],
  ["GET", "/api/executions/e1/status"],
  ["GET", "/api/executions/{s}/events"],
  ["GET", "/api/executions/e1/events"],
  ["GET", "/api/workers"],
  ["POST", "/api/credentials"],
  ["POST", "/api/credentials"],
  ["GET", "/api/credentials"],
  ["GET", "/api/credentials/{s}"],
  ["GET", "/api/credentials/cred_1"],
  ["DELETE", "/api/credentials/{s}"],
  ["GET", "/api/db/validate"],
  ["POST", "/api/db/init"],
  ["GET", "/api/openapi.json"],
  ["GET", "/metrics"],
  ["GET", "/docs"],
  ["GET", "/{s}"],
  ["POST", "/api/{s}/{s}"],
];
const templates = [...new Set(routes.map(([, t]) => t))];

const anyMethod = fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS");
const request = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...routes) },
  { weight: 1, arbitrary: fc.tuple(anyMethod, fc.constantFrom(...templates)) },
);
const target = fc
  .tuple(
    request,
    fc.array(segment, { minLength: 4, maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom(
        "version",
        "limit",
        "cursor",
        "status",
        "after",
        "kind",
        "path",
        "include_data",
        fc.sample(fc.string(), 1)[0]!,
      ),
      fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom("-1", "0", "1", "99999999999999999999", "latest", "COMPLETED", "true"),
      ),
      { maxKeys: 3 },
    ),
  )
  .map(([[m, t], segs, query]) => {
    let i = 0;
    const p = t.replace(/\{s\}/g, () => segs[i++]!.replace(/[?#]/g, "_"));
    const q = new URLSearchParams(query).toString();
    return { m, p: q ? `${p}?${q}` : p };
  });

const jsonish = fc.oneof(
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        content: fc.oneof(
          fc.string(),
          fc.constant(hello),
          fc.constant(Buffer.from(hello).toString("base64")),
          fc.jsonValue(),
        ),
        resource_type: fc.oneof(fc.string(), fc.constant("Playbook")),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        name: fc.oneof(fc.string(), fc.constant("cred_1")),
        type: fc.string(),
        data: fc.jsonValue(),
        description: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      { kind: fc.jsonValue(), path: fc.jsonValue(), resource_type: fc.jsonValue() },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
);
const body = fc.option(
  fc.oneof(
    jsonish,
    fc.string({ maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.constant(hello),
    fc.constant(hello.replace("examples/hello", "../up")),
    fc.constant(hello.slice(0, 40)),
    fc.constant("a: ["),
  ),
  { nil: undefined },
);
const headers = fc.record(
  {
    "content-type": fc.constantFrom(
      "application/json",
      "application/yaml",
      "text/yaml",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "text/plain",
      "",
      "garbage/;;",
    ),
    accept: fc.constantFrom("application/json", "text/event-stream", "*/*", "text/html"),
    authorization: fc.oneof(fc.string({ maxLength: 30 }), fc.constant("Bearer "), fc.constant("Bearer x")),
    "last-event-id": fc.oneof(fc.string({ maxLength: 10 }), fc.constant("1")),
    "content-length": fc.constantFrom("0", "5", "-1", "abc"),
  },
  { requiredKeys: [] },
);

for (const backend of await backends()) {
  describe(`fuzzing every route: ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await harness(backend, { secretKey: KEY, maxBodyBytes: 64 * 1024 });
      await h.store.transaction((tx) => tx.createExecution({ execution_id: "e1", status: "COMPLETED" }));
    });
    after(() => h?.dispose());

    it("never answers 5xx, never throws, keeps the error envelope", async () => {
      await fc.assert(
        fc.asyncProperty(target, body, headers, async ({ m, p }, b, hd) => {
          const withBody = m !== "GET" && m !== "HEAD" ? b : undefined;
          const { "content-length": _ignored, ...safe } = hd; // fetch computes it; a lie would be refused before us
          const r = await h.call(m, p, { body: withBody, headers: safe });
          assert.ok(r.status < 500, `${m} ${p} -> ${r.status} ${r.text.slice(0, 300)}`);
          if (r.status >= 400 && m !== "HEAD") {
            assert.equal(
              typeof r.json?.error?.code,
              "string",
              `${m} ${p} -> ${r.status} ${r.text.slice(0, 200)}`,
            );
          }
        }),
        { numRuns: RUNS },
      );
    });

    it("left nothing half-written", async () => {
      const v = await h.store.validate();
      assert.equal(v.ok, true);
      const rows = await h.sql.query<{ path: string; versions: number[] }>(
        "SELECT path, array_agg(version ORDER BY version) AS versions FROM noetl.catalog GROUP BY path",
      );
      for (const r of rows)
        assert.deepEqual(
          r.versions.map(Number),
          r.versions.map((_, i) => i + 1),
          `versions of ${r.path}`,
        );
      const box = new SecretBox(KEY);
      for (const c of await h.store.listCredentials()) {
        const sealed = await h.store.getCredential(c.name);
        assert.doesNotThrow(() => JSON.parse(box.open(sealed!, c.name)));
      }
    });
  });
}
