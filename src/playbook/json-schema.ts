// JSON Schema of the DSL for editors (yaml-language-server), generated from the valibot schema.
import { toJsonSchema } from "@valibot/to-json-schema";
import { AuthoringPlaybook } from "./schema";

export function playbookJsonSchema(): Record<string, unknown> {
  const schema = toJsonSchema(AuthoringPlaybook, { errorMode: "ignore" }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://noetl.io/schemas/playbook.json",
    title: "NoETL playbook",
    description: "A NoETL workflow: steps with tools, variables, branching, loops and retries.",
  };
}
