// Masking of secret values before anything reaches events, logs or responses. Two nets: keys
// that name a secret (password, token…) and the literal values of known secrets wherever
// they appear, e.g. interpolated into a connection string.
export const MASK = "***";

const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|authorization|^auth$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A deep copy of `value` with secret-named keys and every occurrence of `secrets` masked. */
export function maskSecrets(value: unknown, secrets: readonly string[] = []): unknown {
  // Very short values would mask ordinary text ("a", "1") everywhere.
  const needles = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const walk = (x: unknown, depth: number): unknown => {
    if (typeof x === "string") return needles.reduce((s, n) => s.split(n).join(MASK), x);
    if (depth > 64 || x === null || typeof x !== "object") return x;
    if (Array.isArray(x)) return x.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(x)) {
      out[k] = isSecretKey(k) && item !== null && typeof item !== "object" ? MASK : walk(item, depth + 1);
    }
    return out;
  };
  return walk(value, 0);
}

/** Every string leaf of a credential's data: what must never appear in clear elsewhere. */
export function secretValues(data: unknown): string[] {
  const out: string[] = [];
  const walk = (x: unknown) => {
    if (typeof x === "string") out.push(x);
    else if (x && typeof x === "object") Object.values(x).forEach(walk);
  };
  walk(data);
  return out;
}
