export async function validateCommand(files: string[], _opts: Record<string, unknown>): Promise<number> {
  void files;
  return 0;
}
