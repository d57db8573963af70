// OpenAPI 3.1 document built from the route definitions the router is built from.
import { toJsonSchema } from "@valibot/to-json-schema";
import { needsToken, pathParams, type RouteDef } from "./route";

const ERROR_SCHEMA = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
      required: ["code", "message", "details"],
    },
  },
  required: ["error"],
};

export function openApiDocument(defs: readonly RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of defs) {
    const key = d.path.replace(/\{(\w+)\+\}/g, "{$1}");
    paths[key] ??= {};
    paths[key][d.method.toLowerCase()] = operation(d);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "NoETL API",
      version,
      description: "Catalog, executions, credentials and workers of a NoETL server.",
    },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "NOETL_API_TOKEN, when the server sets one" },
      },
    },
  };
}

function operation(d: RouteDef): Record<string, unknown> {
  const parameters = [
    ...pathParams(d.path).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    ...Object.entries(d.query ?? {}).map(([name, description]) => ({
      name,
      in: "query",
      description,
      schema: { type: "string" },
    })),
  ];
  const op: Record<string, unknown> = { tags: [d.tag], summary: d.summary, operationId: operationId(d) };
  if (parameters.length) op.parameters = parameters;
  const content: Record<string, unknown> = {};
  if (d.rawBody) for (const t of d.rawBody.mediaTypes) content[t] = { schema: { type: "string" } };
  if (d.body) content["application/json"] = { schema: jsonSchema(d.body) };
  if (Object.keys(content).length)
    op.requestBody = { required: true, content, description: d.rawBody?.description };
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(d.responses ?? { 200: "OK" })) {
    const ok = Number(status) < 400;
    responses[status] = ok
      ? { description }
      : { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  responses["4XX"] ??= {
    description: "bad request",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  };
  if (d.sse)
    responses["200"] = {
      ...(responses["200"] as object),
      content: { "application/json": {}, "text/event-stream": {} },
    };
  op.responses = responses;
  if (needsToken(d.path)) op.security = [{ bearer: [] }];
  return op;
}

function jsonSchema(schema: Parameters<typeof toJsonSchema>[0]): unknown {
  const s = toJsonSchema(schema, { errorMode: "ignore" }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

function operationId(d: RouteDef): string {
  const words = d.path.replace(/[{}+]/g, "").split(/[/_-]/).filter(Boolean);
  return [d.method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join("");
}
