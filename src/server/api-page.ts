// The human API page: every route with its summary, parameters and an example, rendered on
// the server from the same definitions (no scripts, no CDN).
import { needsToken, pathParams, type RouteDef } from "./route";

export function apiPage(defs: readonly RouteDef[], version: string): string {
  const rows = defs
    .map((d) => {
      const params = [
        ...pathParams(d.path).map((p) => `<code>${p}</code> (path)`),
        ...Object.entries(d.query ?? {}).map(([k, v]) => `<code>${esc(k)}</code>: ${esc(v)}`),
      ];
      const body = d.rawBody ? esc(d.rawBody.description) : d.body ? "JSON (see /api/openapi.json)" : "";
      return `<tr><td class="m ${d.method}">${d.method}</td><td><code>${esc(d.path)}</code>${needsToken(d.path) ? "" : " <small>(no token)</small>"}</td>
<td>${esc(d.summary)}${params.length ? `<br><small>${params.join("<br>")}</small>` : ""}${body ? `<br><small>Body: ${body}</small>` : ""}</td></tr>`;
    })
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>NoETL API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.4rem .6rem;vertical-align:top}
.m{font-weight:700;font-family:monospace}.GET{color:#0a6}.POST{color:#06c}.DELETE{color:#c30}code{background:#f4f4f4;padding:0 .2rem}</style>
</head><body><h1>NoETL API <small>${esc(version)}</small></h1>
<p>JSON in and out; errors are <code>{"error": {"code", "message", "details"}}</code>. When the server has
<code>NOETL_API_TOKEN</code>, send <code>Authorization: Bearer TOKEN</code> on every <code>/api</code> route but health.
Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
<pre>curl --data-binary @playbook.yaml http://localhost:8082/api/catalog/register</pre>
<table>${rows}</table></body></html>`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
