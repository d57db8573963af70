// Health, schema routes, metrics, the API's description, auth, size limits and unknown routes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MIGRATIONS } from "../../src/store/migrations/index";
import { backends } from "../store/backends";
import { appRoutes, errorCode, type Harness, harness } from "./harness";

const TOKEN = "system-test-token";

for (const backend of await backends()) {
  describe(`system API: ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    const auth = { authorization: `Bearer ${TOKEN}` };
    before(async () => (h = await harness(backend, { apiToken: TOKEN, maxBodyBytes: 2048 })));
    after(() => h?.dispose());

    it("answers health without a token", async () => {
      for (const path of ["/health", "/api/health"]) {
        const r = await h.call("GET", path);
        assert.deepEqual([r.status, r.json.status, r.json.storage], [200, "ok", backend.name]);
      }
    });

    it("initialises and validates the schema, idempotently", async () => {
      for (let i = 0; i < 2; i++) {
        const r = await h.call("POST", "/api/db/init", { headers: auth });
        assert.deepEqual([r.status, r.json.ok, r.json.version], [200, true, MIGRATIONS.length]);
      }
      const v = await h.call("GET", "/api/db/validate", { headers: auth });
      assert.deepEqual([v.json.ok, v.json.missing_tables], [true, []]);
    });

    it("requires the token on every /api route but health", async () => {
      for (const def of appRoutes()) {
        if (!def.path.startsWith("/api/") || def.path === "/api/health") continue;
        const path = def.path.replace(/\{\w+\+?\}/g, "x");
        const r = await h.call(def.method, path);
        assert.equal(errorCode(r, 401), "UNAUTHORIZED", `${def.method} ${def.path}`);
      }
    });

    it("limits the size of bodies", async () => {
      const r = await h.call("POST", "/api/catalog/register", { body: "x".repeat(4096), headers: auth });
      assert.equal(errorCode(r, 413), "TOO_LARGE");
    });

    it("answers unknown routes with a JSON 404", async () => {
      assert.equal(errorCode(await h.call("GET", "/nope"), 404), "NOT_FOUND");
      assert.equal(errorCode(await h.call("PUT", "/api/catalog", { headers: auth }), 404), "NOT_FOUND");
    });

    it("exposes Prometheus metrics", async () => {
      await h.store.transaction(async (tx) => {
        await tx.createExecution({ execution_id: "m1", status: "COMPLETED" });
      });
      const r = await h.call("GET", "/metrics");
      assert.match(r.headers.get("content-type") ?? "", /text\/plain/);
      assert.match(r.text, /noetl_http_requests_total\{method="GET",route="\/api\/health",status="200"\} 1/);
      assert.match(r.text, /noetl_executions\{status="COMPLETED"\} 1/);
      assert.match(r.text, /# TYPE noetl_event_append_seconds histogram/);
    });

    it("describes every route in /api/openapi.json and on /docs", async () => {
      const doc = (await h.call("GET", "/api/openapi.json", { headers: auth })).json;
      assert.equal(doc.openapi, "3.1.0");
      const page = (await h.call("GET", "/docs")).text;
      for (const def of appRoutes()) {
        const key = def.path.replace(/\{(\w+)\+\}/g, "{$1}");
        assert.ok(doc.paths[key]?.[def.method.toLowerCase()], `${def.method} ${key} missing from OpenAPI`);
        assert.ok(page.includes(def.path), `${def.path} missing from /docs`);
      }
      assert.ok(
        doc.paths["/api/credentials"].post.requestBody.content["application/json"].schema.properties.name,
      );
    });
  });
}
