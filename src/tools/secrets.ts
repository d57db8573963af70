// `secrets`: reads one secret from the environment or the credential store. Messages name
// the secret, never its value; the outcome carries a reference, which is what gets recorded.
import type { SecretRef } from "../engine/secret-ref";
import type { Tool, ToolOutcome } from "./types.ts";
import { fail, ok, str } from "./util.ts";

/** `name` (a common key) names the secret; `secret` is an alias for pipelines, where `name` names the task. */
export const secretsKeys = ["provider", "field", "secret"] as const;

export const secretsTool: Tool = {
  kind: "secrets",
  async run(config, ctx) {
    const name = str(config.secret) ?? str(config.name);
    if (!name) return fail("config", "secrets tool needs `name`");
    const provider = str(config.provider) ?? "env";
    const field = str(config.field);
    const secret = (data: unknown): ToolOutcome => ({
      ...ok(data),
      secret: { provider, name, ...(field ? { field } : {}) } satisfies SecretRef,
    });
    if (provider === "env") {
      const value = ctx.env[name];
      return value === undefined
        ? fail("not_found", `secret ${name} is not set in the environment`)
        : secret(value);
    }
    if (provider !== "credential")
      return fail("config", `secrets provider must be env or credential, not ${provider}`);
    let record: Record<string, unknown>;
    try {
      record = await ctx.services.credential(name);
    } catch {
      return fail("not_found", `credential ${name} not found`);
    }
    if (!field) return secret(record);
    return record[field] === undefined
      ? fail("not_found", `credential ${name} has no field ${field}`)
      : secret(record[field]);
  },
};
