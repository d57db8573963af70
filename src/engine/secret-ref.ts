// A secret's value never enters the event log or a command row: the result recorded for a
// `secrets` task is a reference, and the executor reads the secret again wherever a later
// step's templates use that result (locally from the environment or the credential files, on a
// worker from its environment or the server's credential store).

export interface SecretRef {
  provider: string;
  name: string;
  field?: string;
}

export const SECRET_REF_KEY = "$secret";

export function secretRef(ref: SecretRef): Record<string, SecretRef> {
  return { [SECRET_REF_KEY]: ref };
}

/** The reference a recorded result stands for, if it is one. */
export function asSecretRef(data: unknown): SecretRef | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  const ref = (data as Record<string, unknown>)[SECRET_REF_KEY];
  if (typeof ref !== "object" || ref === null) return undefined;
  const { provider, name } = ref as Record<string, unknown>;
  return typeof provider === "string" && typeof name === "string" ? (ref as SecretRef) : undefined;
}
