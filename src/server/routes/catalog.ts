// Catalog: register playbooks (each registration of a path is its next version), list, get.
import * as v from "valibot";
import { NoetlError } from "../../errors";
import { checkSource, RegisterEnvelope } from "../catalog-source";
import type { AppDeps } from "../deps";
import { check, intQuery, jsonBody } from "../request";
import type { Ctx, RouteDef } from "../route";

const ListFilter = v.strictObject({
  kind: v.optional(v.pipe(v.string(), v.maxLength(64))),
  resource_type: v.optional(v.pipe(v.string(), v.maxLength(64))),
  path: v.optional(v.pipe(v.string(), v.maxLength(200))),
});

export function catalogRoutes({ store }: AppDeps): RouteDef[] {
  const list = async (c: Ctx, f: v.InferOutput<typeof ListFilter>) => {
    const kind = f.kind ?? f.resource_type;
    const items = await store.listCatalog({
      kind: kind ? capitalise(kind) : undefined,
      path: f.path || undefined,
    });
    return c.json({ items });
  };
  return [
    {
      method: "POST",
      path: "/api/catalog/register",
      tag: "catalog",
      summary: "Register a playbook; each registration of a path gets the next version",
      rawBody: {
        mediaTypes: [
          "application/yaml",
          "text/yaml",
          "application/x-www-form-urlencoded",
          "application/json",
        ],
        description:
          "The playbook's YAML as the body (any content type), or JSON {content, resource_type, encoding?} with content plain or base64.",
      },
      body: RegisterEnvelope,
      responses: { 201: "{status, path, version, catalog_id, kind}", 422: "the playbook is invalid" },
      handler: async (c) => {
        const src = checkSource(await c.req.text());
        const e = await store.registerCatalog({
          path: src.path,
          kind: "Playbook",
          content: src.content,
          doc: src.playbook,
          description: src.description,
        });
        const body = {
          status: "success",
          path: e.path,
          version: e.version,
          catalog_id: e.catalog_id,
          kind: e.kind,
        };
        return c.json(body, 201);
      },
    },
    {
      method: "GET",
      path: "/api/catalog",
      tag: "catalog",
      summary: "List the latest version of each catalog entry",
      query: { kind: "only entries of this kind (Playbook)", path: "only paths starting with this prefix" },
      responses: { 200: "{items: [{catalog_id, path, version, kind, description, created_at}]}" },
      handler: (c) => list(c, check(ListFilter, c.req.query(), "the query")),
    },
    {
      method: "POST",
      path: "/api/catalog/list",
      tag: "catalog",
      summary: "List catalog entries (body {kind?, path?}); same as GET /api/catalog",
      body: ListFilter,
      handler: async (c) => list(c, await jsonBody(c, ListFilter)),
    },
    {
      method: "GET",
      path: "/api/catalog/{path+}",
      tag: "catalog",
      summary: "One catalog entry, with its YAML (content) and normalised playbook (doc)",
      query: { version: "latest (default) or a version number" },
      responses: { 404: "no such path or version" },
      handler: async (c) => {
        const path = c.req.param("path") ?? "";
        const raw = c.req.query("version");
        const version =
          raw === undefined || raw === "" || raw === "latest"
            ? "latest"
            : intQuery(c, "version", 1, 2 ** 31 - 1)!;
        const e = path.length <= 200 ? await store.getCatalog(path, version) : undefined;
        if (!e) {
          const which = version === "latest" ? "" : ` version ${version}`;
          throw new NoetlError("NOT_FOUND", `catalog entry "${path.slice(0, 200)}"${which} not found`);
        }
        return c.json(e);
      },
    },
  ];
}

function capitalise(kind: string): string {
  return /^playbooks?$/i.test(kind) ? "Playbook" : kind;
}
