// Converting postgres.js results to plain JSON and locating statements inside a SQL string.

/** Rows must be JSON-safe: int8 arrives as bigint or string, timestamps as Date, bytea as Buffer. */
export function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString("hex")}`;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

/** int8 (oid 20) as a number when it fits exactly, else its decimal string; count(*) is int8. */
export const int8Type = {
  to: 20,
  from: [20],
  serialize: (x: unknown) => String(x),
  parse: (x: string) => {
    const n = Number(x);
    return Number.isSafeInteger(n) ? n : x;
  },
};

/**
 * Start offsets of the non-empty statements in a `;`-separated script. Only used to count
 * statements and to say which one an error position falls in; the server parses for real.
 */
export function statementStarts(sql: string): number[] {
  const starts: number[] = [];
  let start = 0;
  let nonEmpty = false;
  let i = 0;
  const n = sql.length;
  const flush = (end: number) => {
    if (nonEmpty) starts.push(start);
    start = end;
    nonEmpty = false;
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === "-" && sql[i + 1] === "-") {
      const e = sql.indexOf("\n", i);
      i = e < 0 ? n : e + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        const step = sql.startsWith("/*", i) ? 1 : sql.startsWith("*/", i) ? -1 : 0;
        depth += step;
        i += step === 0 ? 1 : 2;
      }
    } else if (c === "'" || c === '"') {
      nonEmpty = true;
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? "");
      i++;
      while (i < n) {
        if (escapes && sql[i] === "\\") i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === "$" && /^\$[A-Za-z_]?\w*\$/.test(sql.slice(i, i + 64)) && !/\w/.test(sql[i - 1] ?? "")) {
      nonEmpty = true;
      const tag = /^\$[A-Za-z_]?\w*\$/.exec(sql.slice(i, i + 64))![0];
      const e = sql.indexOf(tag, i + tag.length);
      i = e < 0 ? n : e + tag.length;
    } else if (c === ";") {
      flush(++i);
    } else {
      if (!/\s/.test(c)) nonEmpty = true;
      i++;
    }
  }
  flush(n);
  return starts;
}
