// Turns a registration request into checked playbook source. The body is YAML whatever the
// Content-Type (the seed's `curl -d @playbook.yaml` sends YAML as form data or even as
// application/json) unless it is the JSON envelope {content, resource_type}.
import * as v from "valibot";
import { NoetlError } from "../errors";
import { formatProblem, loadPlaybookSource } from "../playbook/load";
import type { Playbook } from "../playbook/schema";
import { check } from "./request";

export const RegisterEnvelope = v.strictObject({
  content: v.pipe(v.string(), v.minLength(1)),
  resource_type: v.optional(
    v.pipe(v.string(), v.regex(/^playbook$/i, "only Playbook resources can be registered")),
  ),
  encoding: v.optional(v.picklist(["base64", "plain"])),
});

export interface CheckedSource {
  content: string;
  playbook: Playbook;
  path: string;
  description: string | null;
}

export function checkSource(body: string): CheckedSource {
  const content = unwrap(body);
  const { playbook, problems } = loadPlaybookSource(content, "playbook.yaml");
  if (!playbook) {
    const hint = /[\r\n]/.test(content.trim())
      ? ""
      : " (the body has no line breaks: `curl -d` strips them; send the file with --data-binary @playbook.yaml)";
    throw new NoetlError("VALIDATION", `the playbook is invalid: ${formatProblem(problems[0]!)}${hint}`, {
      problems: problems.map((p) => ({
        line: p.line,
        col: p.col,
        message: p.message,
        text: formatProblem(p),
      })),
    });
  }
  const meta = playbook.metadata as { name: string; path?: string; description?: string };
  const path = checkCatalogPath(meta.path ?? meta.name);
  return { content, playbook, path, description: meta.description ?? null };
}

function unwrap(body: string): string {
  if (body.trim() === "")
    throw new NoetlError("BAD_REQUEST", "the request body is empty; send the playbook's YAML");
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return body; // not JSON: the YAML itself
  }
  if (typeof json !== "object" || json === null || Array.isArray(json) || !("content" in json)) return body;
  const env = check(RegisterEnvelope, json, "the registration envelope");
  if (env.encoding === "plain") return env.content;
  return env.encoding === "base64" || looksBase64(env.content) ? fromBase64(env.content) : env.content;
}

// YAML playbooks always contain ':' so they never look like base64.
function looksBase64(s: string): boolean {
  const t = s.replace(/\s+/g, "");
  return t.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(t);
}

function fromBase64(s: string): string {
  const text = Buffer.from(s, "base64").toString("utf8");
  if (text.includes("\uFFFD"))
    throw new NoetlError("VALIDATION", "content is not valid base64-encoded UTF-8 text");
  return text;
}

/** Catalog paths are relative, slash-separated names: no `..`, no absolute paths, no backslashes. */
export function checkCatalogPath(path: string): string {
  const segments = path.split("/");
  const ok =
    path.length <= 200 &&
    segments.every((s) => /^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/.test(s) && !/^\.+$/.test(s));
  if (!ok) {
    throw new NoetlError(
      "VALIDATION",
      `catalog path "${path.slice(0, 200)}" is not allowed: use relative names of letters, digits, '_', '-', '.', separated by '/' (no '..', no leading '/')`,
      { field: "metadata.path" },
    );
  }
  return path;
}
