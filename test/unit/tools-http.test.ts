import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { httpTool } from "../../src/tools/http.ts";
import { closeToolResources } from "../../src/tools/registry.ts";
import { toolContext } from "../support/tool-context.ts";

const ctx = toolContext;

let server: Server;
let url = "";

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://x");
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(v));
      };
      if (u.pathname === "/json") return json(200, { items: [1, 2, 3], name: u.searchParams.get("q") });
      if (u.pathname === "/echo") {
        return json(200, {
          method: req.method,
          type: req.headers["content-type"],
          auth: req.headers.authorization,
          body,
        });
      }
      if (u.pathname === "/moved") {
        res.writeHead(302, { location: "/json?q=moved" });
        return res.end();
      }
      if (u.pathname === "/slow") return setTimeout(() => json(200, {}), 2000);
      if (u.pathname === "/busy") return json(503, { error: "busy" });
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("no such page");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await closeToolResources();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("http tool", () => {
  test("GET with params parses a JSON response", async () => {
    const out = await httpTool.run({ url: `${url}/json`, params: { q: "noetl" } }, ctx());
    assert.equal(out.status, "ok");
    const data = out.data as Record<string, any>;
    assert.equal(data.status_code, 200);
    assert.equal(data.url, `${url}/json?q=noetl`);
    assert.deepEqual(data.data, { items: [1, 2, 3], name: "noetl" });
    assert.equal(data.headers["content-type"], "application/json");
    assert.equal(typeof data.elapsed_ms, "number");
  });

  test("POST json sends a JSON body with its content type", async () => {
    const out = await httpTool.run({ method: "post", endpoint: `${url}/echo`, json: { count: 3 } }, ctx());
    const echoed = (out.data as { data: Record<string, unknown> }).data;
    assert.deepEqual(echoed, { method: "POST", type: "application/json", body: '{"count":3}' });
  });

  test("data as a mapping is sent as a form; auth sets the header", async () => {
    const out = await httpTool.run(
      {
        method: "POST",
        url: `${url}/echo`,
        data: { a: 1, b: "x y" },
        auth: { type: "basic", username: "u", password: "p" },
      },
      ctx(),
    );
    const echoed = (out.data as { data: Record<string, unknown> }).data;
    assert.equal(echoed.type, "application/x-www-form-urlencoded");
    assert.equal(echoed.body, "a=1&b=x+y");
    assert.equal(echoed.auth, `Basic ${Buffer.from("u:p").toString("base64")}`);
    const bearer = await httpTool.run({ url: `${url}/echo`, auth: { type: "bearer", token: "t0k" } }, ctx());
    assert.equal((bearer.data as { data: { auth: string } }).data.auth, "Bearer t0k");
  });

  test("404 is an http error with output.http.status and the response in data", async () => {
    const out = await httpTool.run({ url: `${url}/missing` }, ctx());
    assert.equal(out.status, "error");
    assert.equal(out.error?.kind, "http");
    assert.equal(out.error?.retryable, false);
    assert.deepEqual(out.http, { status: 404 });
    assert.equal((out.data as { data: string }).data, "no such page");
    assert.match(out.error?.message ?? "", /404/);
  });

  test("503 is retryable", async () => {
    const out = await httpTool.run({ url: `${url}/busy` }, ctx());
    assert.equal(out.error?.retryable, true);
    assert.deepEqual(out.http, { status: 503 });
  });

  test("redirects are followed by default and reported in url", async () => {
    const out = await httpTool.run({ url: `${url}/moved` }, ctx());
    assert.equal((out.data as { url: string }).url, `${url}/json?q=moved`);
    const stay = await httpTool.run({ url: `${url}/moved`, follow_redirects: false }, ctx());
    assert.equal((stay.data as { status_code: number }).status_code, 302);
  });

  test("connection refused is a connection error naming the URL", async () => {
    const out = await httpTool.run({ url: "http://127.0.0.1:1/x" }, ctx());
    assert.equal(out.error?.kind, "connection");
    assert.equal(out.error?.retryable, true);
    assert.match(out.error?.message ?? "", /127\.0\.0\.1:1/);
  });

  test("timeout and abort stop the request", async () => {
    const t = await httpTool.run({ url: `${url}/slow`, timeout: 0.2 }, ctx());
    assert.equal(t.error?.kind, "timeout");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const c = await httpTool.run({ url: `${url}/slow` }, ctx({ signal: ac.signal }));
    assert.equal(c.error?.kind, "cancelled");
  });

  test("a bad URL is a config error", async () => {
    assert.equal((await httpTool.run({ url: "not a url" }, ctx())).error?.kind, "config");
    assert.equal((await httpTool.run({}, ctx())).error?.kind, "config");
  });
});
