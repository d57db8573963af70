export async function schemaCommand(): Promise<number> {
  const { playbookJsonSchema } = await import("../playbook/json-schema");
  process.stdout.write(`${JSON.stringify(playbookJsonSchema(), null, 2)}\n`);
  return 0;
}
