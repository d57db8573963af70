// Credentials: stored encrypted (AES-256-GCM); names and types are listed, values are only
// returned to a caller that presents the API token and asks for them.
import * as v from "valibot";
import { secretKeyProblem } from "../../crypto/secret-box";
import { NoetlError } from "../../errors";
import type { AppDeps } from "../deps";
import { CredentialName, jsonBody, pathParam } from "../request";
import type { Ctx, RouteDef } from "../route";

const CredentialBody = v.strictObject({
  name: CredentialName,
  type: v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'"),
  ),
  description: v.optional(v.pipe(v.string(), v.maxLength(1000))),
  data: v.union([v.record(v.string(), v.unknown()), v.pipe(v.string(), v.minLength(1))]),
});

export function credentialRoutes({ store, secretBox, config }: AppDeps): RouteDef[] {
  const box = () => {
    if (!secretBox)
      throw new NoetlError("UNAVAILABLE", secretKeyProblem(config.secretKey) ?? "no secret key");
    return secretBox;
  };
  const name = (c: Ctx) => {
    const n = pathParam(c, "name");
    if (!v.is(CredentialName, n)) throw new NoetlError("NOT_FOUND", `credential "${n}" not found`);
    return n;
  };
  return [
    {
      method: "POST",
      path: "/api/credentials",
      tag: "credentials",
      summary: "Create or replace a credential (encrypted at rest; needs NOETL_SECRET_KEY)",
      body: CredentialBody,
      responses: { 201: "{name, type, created}", 503: "NOETL_SECRET_KEY is not set" },
      handler: async (c) => {
        const body = await jsonBody(c, CredentialBody);
        const sealed = box().seal(JSON.stringify(body.data), body.name);
        const { created } = await store.putCredential({
          name: body.name,
          type: body.type,
          description: body.description ?? null,
          ...sealed,
        });
        return c.json({ name: body.name, type: body.type, created }, created ? 201 : 200);
      },
    },
    {
      method: "GET",
      path: "/api/credentials",
      tag: "credentials",
      summary: "List credentials: names and types only",
      handler: async (c) => c.json({ items: await store.listCredentials() }),
    },
    {
      method: "GET",
      path: "/api/credentials/{name}",
      tag: "credentials",
      summary: "One credential; its data only with include_data=true and the API token",
      query: { include_data: "true to include the decrypted data (requires NOETL_API_TOKEN)" },
      handler: async (c) => {
        const n = name(c);
        const cred = await store.getCredential(n);
        if (!cred) throw new NoetlError("NOT_FOUND", `credential "${n}" not found`);
        const info = {
          name: cred.name,
          type: cred.type,
          description: cred.description,
          created_at: cred.created_at,
          updated_at: cred.updated_at,
        };
        if (c.req.query("include_data") !== "true") return c.json(info);
        // Without a configured token nobody can prove to be the admin, so nobody gets values.
        if (!config.apiToken) {
          throw new NoetlError(
            "UNAUTHORIZED",
            "credential values are only returned to callers presenting NOETL_API_TOKEN, and the server has none set",
          );
        }
        return c.json({ ...info, data: JSON.parse(box().open(cred, cred.name)) });
      },
    },
    {
      method: "DELETE",
      path: "/api/credentials/{name}",
      tag: "credentials",
      summary: "Delete a credential",
      handler: async (c) => {
        const n = name(c);
        if (!(await store.deleteCredential(n)))
          throw new NoetlError("NOT_FOUND", `credential "${n}" not found`);
        return c.json({ name: n, deleted: true });
      },
    },
  ];
}
