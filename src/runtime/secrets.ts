// What one command knows of secrets: the values it has read, so that everything it reports
// (results, errors, `set`, live output) has them masked, and how to read again the secrets that
// earlier steps recorded as references (engine/secret-ref.ts).
import { maskValues, secretValues } from "../crypto/mask";
import { layer } from "../engine/context";
import { asSecretRef } from "../engine/secret-ref";
import type { Command, Envelope } from "../engine/types";
import { secretsTool } from "../tools/secrets";
import type { ToolOutcome, ToolServices } from "../tools/types";

export class CommandSecrets {
  private readonly values: string[] = [];
  /** The runtime's services, noting the secret fields of every credential a tool reads. */
  readonly services: ToolServices;

  constructor(
    services: ToolServices,
    private readonly env: Record<string, string | undefined>,
  ) {
    this.services = {
      runPlaybook: (path, input, signal) => services.runPlaybook(path, input, signal),
      runWorkbook: (name, input, signal) => services.runWorkbook(name, input, signal),
      credential: async (name) => {
        const record = await services.credential(name);
        this.values.push(...secretValues(record));
        return record;
      },
    };
  }

  /** Notes the value a `secrets` task read: all of a single value, the secret fields of a record. */
  remember(outcome: ToolOutcome): void {
    const whole = typeof outcome.data !== "object" || Boolean(outcome.secret?.field);
    this.values.push(...secretValues(outcome.data, whole));
  }

  get known(): boolean {
    return this.values.length > 0;
  }

  mask<T>(value: T): T {
    return maskValues(value, this.values);
  }

  /**
   * The command's context for its templates: `env` (this process's environment), the keychain
   * entries its templates name (credentials, read now), and each earlier secret step's result
   * read again — or the reason one cannot be read here (unset in this worker's environment,
   * credential gone). A workload key or step of the same name wins over `env` and `keychain`.
   */
  async context(
    cmd: Command,
    signal: AbortSignal,
  ): Promise<{ context: Record<string, unknown> } | { error: string }> {
    const extra: Record<string, unknown> = {};
    if (!("env" in cmd.context)) extra.env = this.env;
    if (cmd.keychain?.length && !("keychain" in cmd.context)) {
      const text = JSON.stringify([cmd.tasks, cmd.input, cmd.workbook]);
      const keychain: Record<string, unknown> = {};
      for (const entry of cmd.keychain) {
        if (!text.includes(entry.name)) continue;
        const name = entry.credential ?? entry.name;
        try {
          keychain[entry.name] = await this.services.credential(name);
        } catch (err) {
          return { error: `keychain entry "${entry.name}": ${(err as Error).message}` };
        }
      }
      extra.keychain = keychain;
    }
    for (const step of cmd.secrets ?? []) {
      const recorded = cmd.context[step] as Envelope | undefined;
      const ref = asSecretRef(recorded?.data);
      if (!recorded || !ref) continue;
      const outcome = await secretsTool.run(
        { provider: ref.provider, secret: ref.name, ...(ref.field ? { field: ref.field } : {}) },
        { signal, input: {}, vars: {}, env: this.env, baseDir: ".", services: this.services },
      );
      if (outcome.status !== "ok")
        return {
          error: `the secret step "${step}" read cannot be read again here: ${outcome.error?.message}`,
        };
      this.remember(outcome);
      extra[step] = { ...recorded, data: outcome.data };
    }
    return { context: layer(cmd.context, extra) };
  }
}
