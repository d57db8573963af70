// What the rewritten templates call at render time (see strict.ts), and the context they render against.
import { UndefinedError } from "./errors";
import { callMethod } from "./methods";
import { INTERNAL } from "./strict";
import { type Filter, member, pyEquals, toText, truthy } from "./values";

export const internalFilters: Record<string, Filter> = {
  [INTERNAL.variable]: (value: unknown, name: string) => {
    if (value === undefined) throw new UndefinedError(name);
    return value;
  },
  [INTERNAL.get]: (obj: unknown, key: unknown, path: string, guarded: boolean) => {
    if (obj === undefined || obj === null) {
      if (guarded) return undefined;
      throw new UndefinedError(path, ` (its object is ${obj === null ? "null" : "undefined"})`);
    }
    const value = member(obj, key);
    if (value === undefined && !guarded) throw new UndefinedError(path);
    return value;
  },
  [INTERNAL.call]: (obj: unknown, name: unknown, path: string, args: unknown[]) =>
    callMethod(obj, name, path, args),
  [INTERNAL.bool]: truthy,
  [INTERNAL.eq]: pyEquals,
  [INTERNAL.add]: (a: any, b: any) => (Array.isArray(a) && Array.isArray(b) ? [...a, ...b] : a + b),
  [INTERNAL.concat]: (a: unknown, b: unknown) => toText(a) + toText(b),
  [INTERNAL.text]: toText,
  [INTERNAL.native]: function (this: unknown, value: unknown) {
    (this as RenderContext).native = value;
    return "";
  },
};

const OBJECT_PROTO = Object.prototype as unknown as Record<string, unknown>;

/** A top-level name: the caller's variables, then globals (range, dict, …). */
export function lookupVariable(
  vars: Record<string, unknown>,
  globals: Record<string, unknown>,
  name: string,
): unknown {
  const v = vars[name];
  // Names inherited from Object.prototype (`constructor`, `toString`) are not variables.
  if (v !== undefined && v !== OBJECT_PROTO[name]) return v;
  return Object.hasOwn(globals, name) ? globals[name] : undefined;
}

/**
 * Stands in for nunjucks' Context, whose constructor copies every top-level key of the context; ours reads
 * the caller's object in place (the engine's context holds every step result). Top-level `{% set %}`
 * writes go to `locals`, never into the caller's object.
 */
export class RenderContext {
  native: unknown;
  private locals: Record<string, unknown> | undefined;
  constructor(
    readonly env: object,
    private readonly vars: Record<string, unknown>,
    private readonly globals: Record<string, unknown>,
  ) {}

  lookup(name: string): unknown {
    const locals = this.locals;
    if (locals !== undefined && name in locals) return locals[name];
    return lookupVariable(this.vars, this.globals, name);
  }

  setVariable(name: string, value: unknown): void {
    if (this.locals === undefined) this.locals = Object.create(null) as Record<string, unknown>;
    this.locals[name] = value;
  }

  getVariables(): Record<string, unknown> {
    return this.locals === undefined ? this.vars : { ...this.vars, ...this.locals };
  }

  addExport(): void {}

  getBlock(name: string): never {
    throw new Error(`template blocks are not supported ("${name}")`);
  }
}
