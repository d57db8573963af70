// The HTTP server the conformance cases call: GET /json and POST /echo on 127.0.0.1.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export async function startFixtureServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url?.startsWith("/json")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ items: [1, 2, 3], name: "noetl" }));
      return;
    }
    if (req.method === "POST" && req.url?.startsWith("/echo")) {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(body || "{}");
      });
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "not found" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
