// `noetl completion bash|zsh|fish`: a completion script made from the commands as they are
// declared (main.ts passes them), so it cannot drift from `--help`. It completes command names,
// each command's actions (server start, catalog list, …) and flags; everything else falls back
// to file names, which is what playbook references mostly are.
import { usageError } from "./exit";

export interface CompletionCommand {
  name: string;
  /** Flags with their dashes (`--set`, `-t`). */
  flags: string[];
  /** Words that may follow the command name (`start`, `stop`, …). */
  actions: string[];
}

export interface CompletionSpec {
  commands: CompletionCommand[];
  globalFlags: string[];
}

/** The action words each command takes, where it takes any (cac does not know them). */
export const ACTIONS: Record<string, string[]> = {
  server: ["run", "start", "stop", "status"],
  worker: ["run", "start", "stop", "status"],
  db: ["init", "validate"],
  register: ["playbook", "credential"],
  execute: ["playbook", "status"],
  catalog: ["list", "get"],
  completion: ["bash", "zsh", "fish"],
};

export function completionCommand(shell: string | undefined, spec: CompletionSpec): number {
  const make = shell === "bash" || shell === "zsh" ? bashScript : shell === "fish" ? fishScript : undefined;
  if (!make)
    throw usageError(
      `${shell ? `unknown shell "${shell}"` : "missing shell"}; usage: noetl completion bash|zsh|fish`,
    );
  process.stdout.write(make(spec, shell === "zsh"));
  return 0;
}

const quote = (words: string[]) => words.join(" ");

function bashScript(spec: CompletionSpec, zsh: boolean): string {
  const cases = (pick: (c: CompletionCommand) => string[]) =>
    spec.commands
      .filter((c) => pick(c).length > 0)
      .map((c) => `    ${c.name}) words="${quote(pick(c))}" ;;`)
      .join("\n");
  return `# noetl completion for ${zsh ? "zsh" : "bash"}: eval "$(noetl completion ${zsh ? "zsh" : "bash"})"
${zsh ? "autoload -U +X bashcompinit && bashcompinit\n" : ""}_noetl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" words=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${quote(spec.commands.map((c) => c.name))} ${quote(spec.globalFlags)}" -- "$cur") )
    return
  fi
  if [[ "$cur" == -* ]]; then
    case "$cmd" in
${cases((c) => c.flags)}
    esac
    COMPREPLY=( $(compgen -W "$words ${quote(spec.globalFlags)}" -- "$cur") )
    return
  fi
  if [ "$COMP_CWORD" -eq 2 ]; then
    case "$cmd" in
${cases((c) => c.actions)}
    esac
    if [ -n "$words" ]; then
      COMPREPLY=( $(compgen -W "$words" -- "$cur") )
      return
    fi
  fi
  COMPREPLY=( $(compgen -f -- "$cur") )
}
complete -o filenames -F _noetl noetl
`;
}

function fishScript(spec: CompletionSpec): string {
  const lines = [
    "# noetl completion for fish: noetl completion fish | source",
    `complete -c noetl -f -n __fish_use_subcommand -a '${quote(spec.commands.map((c) => c.name))}'`,
  ];
  const flag = (f: string, condition?: string) => {
    const n = condition ? ` -n '__fish_seen_subcommand_from ${condition}'` : "";
    return f.startsWith("--")
      ? `complete -c noetl${n} -l ${f.slice(2)}`
      : `complete -c noetl${n} -s ${f.slice(1)}`;
  };
  for (const f of spec.globalFlags) lines.push(flag(f));
  for (const c of spec.commands) {
    if (c.actions.length > 0)
      lines.push(`complete -c noetl -f -n '__fish_seen_subcommand_from ${c.name}' -a '${quote(c.actions)}'`);
    for (const f of c.flags) lines.push(flag(f, c.name));
  }
  return `${lines.join("\n")}\n`;
}
