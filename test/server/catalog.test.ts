// API contract of the catalog routes, against every store backend.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { formatProblem, loadPlaybookSource } from "../../src/playbook/load";
import { backends } from "../store/backends";
import { errorCode, type Harness, harness } from "./harness";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const hello = fixture("hello.yaml");

for (const backend of await backends()) {
  describe(`catalog API: ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    before(async () => (h = await harness(backend)));
    after(() => h?.dispose());

    it("registers raw YAML whatever the content type, each time as the next version", async () => {
      const types = [
        "application/x-www-form-urlencoded",
        "application/yaml",
        "text/yaml",
        "application/json",
        "text/plain",
      ];
      for (const [i, type] of types.entries()) {
        const r = await h.call("POST", "/api/catalog/register", {
          body: hello,
          headers: { "content-type": type },
        });
        assert.equal(r.status, 201, r.text);
        assert.deepEqual(r.json, {
          status: "success",
          path: "examples/hello",
          version: i + 1,
          catalog_id: r.json.catalog_id,
          kind: "Playbook",
        });
        assert.equal(typeof r.json.catalog_id, "string");
      }
    });

    it("accepts the JSON envelope {content, resource_type}, plain or base64", async () => {
      const plain = await h.call("POST", "/api/catalog/register", {
        body: { content: hello, resource_type: "Playbook" },
      });
      assert.equal(plain.status, 201, plain.text);
      const b64 = await h.call("POST", "/api/catalog/register", {
        body: { content: Buffer.from(hello).toString("base64") },
      });
      assert.equal(b64.status, 201, b64.text);
      assert.equal(b64.json.version, plain.json.version + 1);
      const wrongType = await h.call("POST", "/api/catalog/register", {
        body: { content: hello, resource_type: "Credential" },
      });
      assert.equal(errorCode(wrongType, 422), "VALIDATION");
      assert.equal(wrongType.json.error.details.issues[0].path, "resource_type");
    });

    it("rejects an invalid playbook with the messages of `noetl validate`", async () => {
      const text = fixture("unknown-key.yaml");
      const r = await h.call("POST", "/api/catalog/register", {
        body: text,
        headers: { "content-type": "application/yaml" },
      });
      assert.equal(errorCode(r, 422), "VALIDATION");
      const expected = loadPlaybookSource(text, "playbook.yaml").problems.map(formatProblem);
      assert.ok(expected.length > 0);
      assert.deepEqual(
        r.json.error.details.problems.map((p: { text: string }) => p.text),
        expected,
      );
      assert.match(r.json.error.message, /playbook\.yaml:\d+:\d+: /);
    });

    it("says why when curl -d stripped the line breaks", async () => {
      const r = await h.call("POST", "/api/catalog/register", { body: hello.replace(/\n/g, "") });
      assert.equal(errorCode(r, 422), "VALIDATION");
      assert.match(r.json.error.message, /--data-binary/);
    });

    it("refuses catalog paths that escape (.., absolute)", async () => {
      const r = await h.call("POST", "/api/catalog/register", { body: fixture("escape.yaml") });
      assert.equal(errorCode(r, 422), "VALIDATION");
      assert.equal(r.json.error.details.field, "metadata.path");
      const abs = await h.call("POST", "/api/catalog/register", {
        body: hello.replace("examples/hello", "/etc/hello"),
      });
      assert.equal(errorCode(abs, 422), "VALIDATION");
      assert.equal(
        errorCode(await h.call("POST", "/api/catalog/register", { body: "" }), 400),
        "BAD_REQUEST",
      );
    });

    it("lists the latest version of each path, filtered by kind and path prefix", async () => {
      await h.call("POST", "/api/catalog/register", { body: hello.replace("examples/hello", "other/thing") });
      const all = await h.call("GET", "/api/catalog");
      assert.equal(all.status, 200);
      assert.deepEqual(
        all.json.items.map((e: { path: string }) => e.path),
        ["examples/hello", "other/thing"],
      );
      assert.equal(all.json.items[0].version, 7);
      assert.equal(all.json.items[0].description, "Says hello");
      const byPrefix = await h.call("GET", "/api/catalog?path=other/&kind=Playbook");
      assert.deepEqual(
        byPrefix.json.items.map((e: { path: string }) => e.path),
        ["other/thing"],
      );
      const viaPost = await h.call("POST", "/api/catalog/list", {
        body: { resource_type: "playbooks", path: "examples" },
      });
      assert.deepEqual(
        viaPost.json.items.map((e: { path: string }) => e.path),
        ["examples/hello"],
      );
      assert.equal(
        errorCode(await h.call("POST", "/api/catalog/list", { body: { kind: 5 } }), 422),
        "VALIDATION",
      );
      assert.equal(
        errorCode(await h.call("POST", "/api/catalog/list", { body: "{nope" }), 400),
        "BAD_REQUEST",
      );
      assert.equal(errorCode(await h.call("GET", "/api/catalog?color=red"), 422), "VALIDATION");
    });

    it("gets an entry by path, latest or a given version", async () => {
      const latest = await h.call("GET", "/api/catalog/examples/hello");
      assert.equal(latest.status, 200);
      assert.equal(latest.json.version, 7);
      assert.equal(latest.json.content, hello);
      assert.equal(latest.json.doc.metadata.name, "hello");
      const v1 = await h.call("GET", "/api/catalog/examples/hello?version=1");
      assert.equal(v1.json.version, 1);
      assert.equal((await h.call("GET", "/api/catalog/examples/hello?version=latest")).json.version, 7);
      assert.equal(
        errorCode(await h.call("GET", "/api/catalog/examples/hello?version=99"), 404),
        "NOT_FOUND",
      );
      assert.equal(
        errorCode(await h.call("GET", "/api/catalog/examples/hello?version=abc"), 400),
        "BAD_REQUEST",
      );
      assert.equal(errorCode(await h.call("GET", "/api/catalog/no/such"), 404), "NOT_FOUND");
    });
  });
}
