// Reads the shared conformance cases and checks one outcome against its .expect.json.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { conformanceDir } from "../support/paths";

export interface Expectation {
  args?: string[];
  exit_code: number;
  status?: string;
  result?: unknown;
  result_subset?: unknown;
  steps_completed?: string[];
  steps_absent?: string[];
  steps_skipped?: string[];
  error_contains?: string[];
  modes?: ("local" | "distributed")[];
}

export interface Case {
  name: string;
  file: string;
  expect: Expectation;
}

export function listCases(): Case[] {
  const dir = join(conformanceDir, "cases");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") && f.split(".").length === 2)
    .sort()
    .map((f) => {
      const name = f.replace(/\.yaml$/, "");
      return {
        name,
        file: join(dir, f),
        expect: JSON.parse(readFileSync(join(dir, `${name}.expect.json`), "utf8")),
      };
    });
}

export interface Outcome {
  exitCode: number | null;
  doc?: { status: string; result: unknown; error?: string; steps: { step: string; status: string }[] };
  stderr: string;
  stdout: string;
}

function assertSubset(actual: unknown, expected: unknown, path: string): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected a list, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: list length`);
    expected.forEach((e, i) => assertSubset(actual[i], e, `${path}[${i}]`));
  } else if (typeof expected === "object" && expected !== null) {
    assert.ok(
      typeof actual === "object" && actual !== null,
      `${path}: expected an object, got ${JSON.stringify(actual)}`,
    );
    for (const [k, v] of Object.entries(expected))
      assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else assert.deepEqual(actual, expected, path);
}

export function checkOutcome(c: Case, o: Outcome): void {
  const e = c.expect;
  const context = `\nstdout: ${o.stdout.slice(0, 2000)}\nstderr: ${o.stderr.slice(0, 2000)}`;
  assert.equal(o.exitCode, e.exit_code, `exit code${context}`);
  if (e.status !== undefined) assert.equal(o.doc?.status, e.status, `status${context}`);
  if ("result" in e) assert.deepEqual(o.doc?.result, e.result, `result${context}`);
  if (e.result_subset !== undefined) assertSubset(o.doc?.result, e.result_subset, "result");
  const ran = (status?: string) =>
    new Set((o.doc?.steps ?? []).filter((s) => !status || s.status === status).map((s) => s.step));
  for (const s of e.steps_completed ?? [])
    assert.ok(ran().has(s) && !ran("SKIPPED").has(s), `step ${s} should have run${context}`);
  for (const s of e.steps_absent ?? []) assert.ok(!ran().has(s), `step ${s} should not have run${context}`);
  for (const s of e.steps_skipped ?? [])
    assert.ok(ran("SKIPPED").has(s), `step ${s} should be skipped${context}`);
  const errorText = `${o.doc?.error ?? ""}\n${o.stderr}`;
  for (const s of e.error_contains ?? [])
    assert.ok(errorText.includes(s), `error should mention "${s}"${context}`);
}

export function substitute(args: string[], values: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m));
}
