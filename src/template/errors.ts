// Template errors: what failed, with the step and field it failed in, so a playbook author can find it.
import { NoetlError } from "../errors";

/** Where a template sits in the playbook; only used to make error messages findable. */
export interface RenderWhere {
  step?: string;
  field?: string;
}

export interface TemplateErrorDetails extends RenderWhere {
  template: string;
  /** The undefined variable or attribute path, when that is the failure. */
  variable?: string;
}

export class TemplateError extends NoetlError {
  declare readonly details: TemplateErrorDetails;
  constructor(message: string, details: TemplateErrorDetails) {
    super("TEMPLATE", message, details);
    this.name = "TemplateError";
  }
}

/** Thrown inside a render by a failed lookup; `renderString` turns it into a TemplateError. */
export class UndefinedError extends Error {
  constructor(
    readonly variable: string,
    reason = "",
  ) {
    super(`"${variable}" is undefined${reason}`);
    this.name = "UndefinedError";
  }
}

export function wherePrefix(where: RenderWhere | undefined): string {
  const parts: string[] = [];
  if (where?.step !== undefined) parts.push(`step "${where.step}"`);
  if (where?.field !== undefined) parts.push(`field "${where.field}"`);
  return parts.length ? `${parts.join(", ")}: ` : "";
}

export function quoteTemplate(src: string): string {
  const oneLine = src.replace(/\s+/g, " ").trim();
  return JSON.stringify(oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine);
}
