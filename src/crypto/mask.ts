// Masking of secret values before they reach events, logs or output: every occurrence of a known
// secret's value is replaced, wherever it appears (echoed by a script, inside a connection string,
// in an error message). Which values are secrets is decided where they are read (runtime/secrets.ts).
export const MASK = "***";

// Values shorter than this would mask ordinary text ("a", "1", "yes") everywhere.
const MIN_SECRET_LENGTH = 4;
const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|authorization|^auth$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * The secret values of a record read from a credential or a `secrets` task: its scalar leaves under
 * secret-named keys (password, token, …), or all of them when `all` is set (a bare value is all).
 */
export function secretValues(data: unknown, all = false): string[] {
  const out: string[] = [];
  const walk = (x: unknown, secret: boolean, depth: number) => {
    if (typeof x === "string" || typeof x === "number") {
      if (secret) out.push(String(x));
    } else if (x && typeof x === "object" && depth < 32) {
      for (const [k, item] of Object.entries(x)) walk(item, secret || isSecretKey(k), depth + 1);
    }
  };
  walk(data, all, 0);
  return out.filter((s) => s.length >= MIN_SECRET_LENGTH);
}

/** `value` with every occurrence of `secrets` in its strings masked; parts without one are shared. */
export function maskValues<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  // Longest first, so a secret that contains another is masked whole.
  const needles = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  const walk = (x: unknown, depth: number): unknown => {
    if (typeof x === "string") {
      let s = x;
      for (const n of needles) if (s.includes(n)) s = s.split(n).join(MASK);
      return s;
    }
    if (depth > 64 || x === null || typeof x !== "object") return x;
    if (Array.isArray(x)) return x.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(x)) out[k] = walk(item, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}
