// The one nunjucks Environment: Jinja2 filters and tests on top of nunjucks' built-ins, no autoescaping,
// no loaders (a playbook template cannot include files).
import nunjucks from "nunjucks";
import { jinjaFilters } from "./filters";
import { jinjaTests } from "./jinja-tests";
import { internalFilters } from "./runtime";
import { isKwargs } from "./values";

interface EnvInternals {
  addTest(name: string, test: (...args: any[]) => unknown): void;
  filters: Record<string, unknown>;
  tests: Record<string, unknown>;
  globals: Record<string, unknown>;
  opts: object;
}

export const env = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: false });
const internals = env as unknown as EnvInternals;

for (const [name, f] of Object.entries({ ...jinjaFilters, ...internalFilters })) env.addFilter(name, f);
for (const [name, t] of Object.entries(jinjaTests)) internals.addTest(name, t);

// Jinja's dict(a=1, b=2).
env.addGlobal("dict", (...args: unknown[]) => {
  const kw = args[args.length - 1];
  if (!isKwargs(kw)) return {};
  const { __keywords: _, ...rest } = kw;
  return rest;
});

export const globals = internals.globals;
export const parserOptions = internals.opts;

export function hasFilter(name: string): boolean {
  return Object.hasOwn(internals.filters, name);
}

export function hasTest(name: string): boolean {
  return Object.hasOwn(internals.tests, name);
}
