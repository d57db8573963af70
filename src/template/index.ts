// Jinja2-compatible templating for playbooks (SPEC §4), on nunjucks. The public surface of src/template.
import { compileTemplate, describeFailure } from "./compile";
import { quoteTemplate, type RenderWhere, TemplateError, UndefinedError, wherePrefix } from "./errors";
import { isPlainObject, isSafeString, truthy } from "./values";

export type { RenderWhere, TemplateErrorDetails } from "./errors";
export { TemplateError } from "./errors";

/** True when s contains "{{" or "{%". */
export function isTemplate(s: string): boolean {
  return s.includes("{{") || s.includes("{%");
}

/** Compile only (for `noetl validate`); returns an error message, or undefined when it compiles. */
export function checkTemplate(s: string): string | undefined {
  if (!isTemplate(s)) return undefined;
  const t = compileTemplate(s);
  return "error" in t ? t.error : undefined;
}

/**
 * Render one string. A string that is exactly one expression ("{{ a.b }}", whitespace around allowed)
 * yields the expression's value (list, object, number, boolean, null); otherwise the text. A result that
 * is exactly "true" or "false" becomes a boolean. Non-template strings are returned unchanged.
 */
export function renderString(s: string, ctx: Record<string, unknown>, where?: RenderWhere): unknown {
  return isTemplate(s) ? render(s, ctx, where, undefined) : s;
}

/** Render recursively: strings as renderString, arrays and plain objects element by element (keys are not rendered). */
export function renderValue(value: unknown, ctx: Record<string, unknown>, where?: RenderWhere): unknown {
  return renderAt(value, ctx, where, []);
}

// Strings a condition may render to that mean "no" (Jinja text output of a false/none/empty value).
const FALSE_TEXT = new Set(["", "false", "none", "null", "0"]);

/** Evaluate a `when`: undefined → true; boolean → itself; string → rendered, then truthy by Jinja rules. */
export function evaluateCondition(cond: unknown, ctx: Record<string, unknown>, where?: RenderWhere): boolean {
  if (cond === undefined) return true;
  if (typeof cond === "boolean") return cond;
  const v = typeof cond === "string" ? renderString(cond, ctx, where) : cond;
  return typeof v === "string" ? !FALSE_TEXT.has(v.trim().toLowerCase()) : truthy(v);
}

function renderAt(
  value: unknown,
  ctx: Record<string, unknown>,
  where: RenderWhere | undefined,
  path: Key[],
): unknown {
  if (typeof value === "string") return isTemplate(value) ? render(value, ctx, where, path) : value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out[i] = renderAt(value[i], ctx, where, path);
      path.pop();
    }
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      path.push(key);
      out[key] = renderAt(value[key], ctx, where, path);
      path.pop();
    }
    return out;
  }
  return value;
}

type Key = string | number;

function render(
  s: string,
  ctx: Record<string, unknown>,
  where: RenderWhere | undefined,
  path: Key[] | undefined,
) {
  const t = compileTemplate(s);
  if ("error" in t) {
    const at = whereAt(where, path);
    throw new TemplateError(`${wherePrefix(at)}invalid template ${quoteTemplate(s)}: ${t.error}`, {
      ...at,
      template: s,
    });
  }
  let v: unknown;
  try {
    v = t.render(ctx);
  } catch (err) {
    throw renderFailure(err, s, whereAt(where, path));
  }
  if (typeof v === "string") return v === "true" ? true : v === "false" ? false : v;
  if (v === undefined) return null;
  return isSafeString(v) ? String(v) : v;
}

function renderFailure(err: unknown, s: string, at: RenderWhere | undefined): TemplateError {
  let cause = err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  if (cause instanceof TemplateError) return cause;
  if (cause instanceof UndefinedError) {
    return new TemplateError(`${wherePrefix(at)}${cause.message}`, {
      ...at,
      template: s,
      variable: cause.variable,
    });
  }
  const message = cause instanceof Error ? cause.message : describeFailure(err);
  return new TemplateError(`${wherePrefix(at)}cannot render ${quoteTemplate(s)}: ${message}`, {
    ...at,
    template: s,
  });
}

/** The field path of a nested value: `input` + ["items", 0] → `input.items[0]`. */
function whereAt(where: RenderWhere | undefined, path: Key[] | undefined): RenderWhere | undefined {
  if (!path || path.length === 0) return where;
  let field = where?.field ?? "";
  for (const k of path) field += typeof k === "number" ? `[${k}]` : field === "" ? k : `.${k}`;
  return { ...where, field };
}
