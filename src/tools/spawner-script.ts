// The bash side of the spawn server (see spawner.ts) and the request lines Node sends it.

/**
 * `$1` temp dir, `$2` the bash to exec; requests on stdin, wake-up bytes on fd 3.
 * A job is ONE fork that execs `bash -c`, so $$, options, traps and SHLVL are exactly those of
 * a direct `bash -c`; the server reaps it itself. Monitor mode (`set -m`) while forking gives
 * every job its own process group (Node kills the group) and keeps SIGINT/SIGQUIT at their
 * defaults in it (bash makes plain background jobs ignore them).
 * Bash loses job statuses easily, which shapes the rest. Parsing code (eval, `.`, running a
 * trap) drops finished jobs from the job table: only `wait PID` still knows them, so nothing is
 * parsed after startup (requests are fields decoded by `printf %b`), and a sweep (`kill -0`
 * fails: gone, `wait PID` has its status) runs before each `wait -n`. A signal that interrupts
 * `wait` can lose a status for good, so the server is never signalled: while jobs run it blocks
 * in `wait -n`, and a new request wakes it because Node also writes a byte to fd 3, which ends a
 * helper subshell blocked reading it. Idle, it blocks in `read` on stdin. When two children end
 * together, bash can still file one as reported behind `wait -n`'s back; Node then sees the job's
 * process gone without an `E` and writes a byte, and the sweep finds it.
 * Out: `S <id> <pid>` started, `F <id>` not started (bad cwd), `E <pid> <status> <files>` ended,
 * `H` a wake-up byte was used (Node keeps at most one unread: a full socket would block it).
 * Names start with __nr_ because the jobs see the server's variables. Its stderr is /dev/null.
 *
 * Pre-started shells ("spares", \`$3\` = 1): most of a step's time is bash starting (exec, the
 * dynamic linker, locale files), so the server keeps up to three bash processes already started
 * (spares plus spares that became jobs and still run), each in its own process group and blocked
 * reading its own FIFO (fds 6-9 here, fd 4 in the spare). It announces each one to Node with
 * \`P <pid> <fifo fd>\` (sent with the next line it writes anyway); Node writes an eligible request line (its environment changes only
 * variables bash also honours when assigned after start-up; see spareCanRun) straight into that
 * FIFO, so the server is not woken at all. The spare redirects its output to <pid>.o/.e, \`cd\`s,
 * applies the environment and runs the script with \`eval "$BASH_EXECUTION_STRING"\`: the step is
 * that spare, with the same pid, group, $0, options, traps, SHLVL and LINENO as \`bash -c\`. The
 * server waits on spares like on jobs and reports each exit as \`X <pid> <status> <files>\`
 * (files "-": it never read a request, and Node has it forked instead). New spares are started
 * after an exit was reported, while Node decides the next step. Only the server and Node hold the
 * FIFOs open for writing: when both are gone (or at stdin's EOF, when the server closes its ends)
 * idle spares read EOF and exit. Without mkfifo, or once a spare died unused, jobs are forked.
 */
export const SERVER_SCRIPT = `
__nr_d=$1 __nr_b=$2 __nr_pw=$3 __nr_j=() __nr_eof= __nr_h= __nr_sq=() __nr_sfd=() __nr_pa=
((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501)) || exit 99
set +m +e +u
# Node may die first: a write to its closed socket must not kill the server (SIGPIPE) before it
# has reaped its jobs and removed its directory. A trap, not an ignore: children get SIGPIPE's
# default back (an ignored signal would stay ignored in every step).
trap : PIPE
# fds 6-8: the spares' request FIFOs (a spare sees its own as fd 4; Node writes to them by path).
if [[ $__nr_pw == 1 ]] && mkfifo -m 600 "$__nr_d/f6" "$__nr_d/f7" "$__nr_d/f8" "$__nr_d/f9" &&
  exec 6<>"$__nr_d/f6" 7<>"$__nr_d/f7" 8<>"$__nr_d/f8" 9<>"$__nr_d/f9"; then
  # One line, so that LINENO in the step counts from 1 as in \`bash -c\`.
  printf -v __nr_dq %q "$__nr_d"
  printf -v __nr_L '%s' \\
    'IFS=" " read -r -u 4 -a __nr_f || exit 0; ' \\
    "exec 4<&- >$__nr_dq/\\$\\$.o 2>$__nr_dq/\\$\\$.e; " \\
    'printf -v __nr_c %b "\${__nr_f[1]}"; cd -P -- "$__nr_c" || exit 126; unset -v OLDPWD; ' \\
    'for __nr_v in "\${__nr_f[@]:3}"; do printf -v __nr_v %b "$__nr_v"; ' \\
    'if [[ $__nr_v == -* ]]; then unset -v "\${__nr_v:1}"; else export -- "$__nr_v"; fi; done; ' \\
    '[[ -d \${OLDPWD-} ]] || { unset -v OLDPWD; declare -x OLDPWD; }; ' \\
    'printf -v BASH_EXECUTION_STRING %b "\${__nr_f[2]}"; unset -v __nr_f __nr_c __nr_v; SECONDS=0; ' \\
    ': "$BASH"; eval "$BASH_EXECUTION_STRING"'
else __nr_pw=; fi
# Keep three spares (pids in __nr_sq, oldest first; a spare Node gave a request stays listed until
# it exits). A new spare gets a FIFO no listed spare has: Node writes one line per spare, so the
# FIFO of a spare that has exited is empty unless that spare died before reading (see __nr_sx).
__nr_n() {
  local i p
  for i in 6 7 8 9; do
    ((\${#__nr_sq[@]} < 3)) || return
    for p in "\${__nr_sq[@]}"; do [[ \${__nr_sfd[p]} == "$i" ]] && continue 2; done
    read -t 0 -u "$i" && continue
    set -m
    { exec "$__nr_b" -c "$__nr_L" "$__nr_b"; } 4<"$__nr_d/f$i" </dev/null >/dev/null 3<&- 6<&- 7<&- 8<&- 9<&- &
    set +m; __nr_sq+=("$!"); __nr_sfd[$!]=$i; __nr_pa+="P $! $i"$'\\n'
  done
}
# Which of a job's output files (<name>.o, <name>.e) hold something: "11", "10", "01" or "00" ("-"
# when there is no stdout file: the job never started). Node skips reading empty ones.
__nr_o() {
  if [[ -s $__nr_d/$1.o ]]; then __nr_of=1; elif [[ -e $__nr_d/$1.o ]]; then __nr_of=0; else __nr_of=-; fi
  if [[ -s $__nr_d/$1.e ]]; then __nr_of+=1; else __nr_of+=0; fi
}
# A spare exited: \`X <pid> <status> <files>\`. Files "-" mean it never took a request. That is
# abnormal (killed while idle, or EOF at shutdown): no more spares, since Node may still write a
# line to a FIFO the server cannot tell is abandoned.
__nr_sx() {
  local p k=(); for p in "\${__nr_sq[@]}"; do [[ $p == "$1" ]] || k+=("$p"); done
  __nr_sq=("\${k[@]}"); unset -v "__nr_sfd[$1]"
  __nr_o "$1"; [[ $__nr_of == -* ]] && __nr_pw=
  # (An idle spare ending after EOF is the server shutting down: nothing to tell Node.)
  [[ $__nr_of == -* && -n $__nr_eof ]] || __nr_out "X $1 $2 $__nr_of"
}
# One line to Node, after the spare announcements not yet sent: they ride on the next line the
# server has to write anyway (each would otherwise wake Node once more per step; Node has one
# spare announced in reserve, and falls back to a fork, which answers S, when it has none).
__nr_out() { printf '%s%s\\n' "$__nr_pa" "$1"; __nr_pa=; }
# Request fields (space-separated, printf %b escapes): ID CWD SCRIPT [NAME=VALUE | -NAME]...
__nr_r() {
  printf -v __nr_c %b "\${__nr_f[1]}"
  if [[ -d $__nr_c && -x $__nr_c ]]; then
    set -m
    { cd -P -- "$__nr_c" || exit 126
      unset -v OLDPWD
      for __nr_v in "\${__nr_f[@]:3}"; do
        printf -v __nr_v %b "$__nr_v"
        if [[ $__nr_v == -* ]]; then unset -v "\${__nr_v:1}"; else export -- "$__nr_v"; fi
      done
      printf -v __nr_s %b "\${__nr_f[2]}"
      exec "$__nr_b" -c "$__nr_s"
    } >"$__nr_d/$__nr_f.o" 2>"$__nr_d/$__nr_f.e" </dev/null 3<&- 6<&- 7<&- 8<&- 9<&- &
    set +m; __nr_j[$!]=$__nr_f; __nr_out "S $__nr_f $!"
  else __nr_out "F $__nr_f"; fi
}
__nr_e() { __nr_o "\${__nr_j[$1]}"; unset -v "__nr_j[$1]"; __nr_out "E $1 $2 $__nr_of"; }
# Is a request waiting? (after stdin's EOF, never: only the running jobs are left to reap)
__nr_q() { [[ -z $__nr_eof ]] && read -t 0; }
while :; do
  # New spares are started here, after an exit was reported: Node is then deciding the next step.
  [[ $__nr_pw && -z $__nr_eof ]] && ((\${#__nr_sq[@]} < 3)) && ! __nr_q && __nr_n
  if ((\${#__nr_j[@]} + \${#__nr_sq[@]})) && ! __nr_q; then
    # \`wait PID\` marks every finished job as reported (so \`wait -n\` skips it): sweep until a
    # pass needs none. A helper that ended without being waited for ate a byte: collect it too.
    __nr_w=1
    while [[ -n $__nr_w ]]; do
      __nr_w=
      [[ -n $__nr_h ]] && ! kill -0 "$__nr_h" && { wait "$__nr_h"; __nr_h= __nr_w=1; __nr_out H; }
      for __nr_p in "\${__nr_sq[@]}"; do
        kill -0 "$__nr_p" || { wait "$__nr_p"; __nr_sx "$__nr_p" $?; __nr_w=1; }
      done
      for __nr_p in "\${!__nr_j[@]}"; do
        kill -0 "$__nr_p" || { wait "$__nr_p"; __nr_e "$__nr_p" $?; __nr_w=1; }
      done
    done
    ((\${#__nr_j[@]} + \${#__nr_sq[@]})) && ! __nr_q || continue
    if [[ -z $__nr_h && -z $__nr_eof ]]; then
      { exec </dev/null >/dev/null 6<&- 7<&- 8<&- 9<&-; read -r -N 1 -u 3 __nr_x; } &
      __nr_h=$!
    fi
    wait -n -p __nr_p; __nr_st=$?
    if [[ \${__nr_p-} == "$__nr_h" ]]; then __nr_h=; __nr_out H
    elif [[ -n \${__nr_p-} && -n \${__nr_sfd[__nr_p]-} ]]; then __nr_sx "$__nr_p" "$__nr_st"
    elif [[ -n \${__nr_p-} && -n \${__nr_j[__nr_p]-} ]]; then __nr_e "$__nr_p" "$__nr_st"; fi
    continue
  fi
  [[ $__nr_eof ]] && break
  IFS=' ' read -r -a __nr_f || {
    # Node is done: idle spares read EOF once the FIFOs have no writer left; busy ones finish.
    __nr_eof=1; exec 6<&- 7<&- 8<&- 9<&-; continue
  }
  # Long requests come through a file: bash reads a pipe one byte per syscall, a file in blocks.
  [[ $__nr_f == @* ]] && IFS=' ' read -r -a __nr_f <"$__nr_d/\${__nr_f:1}.q"
  __nr_r
done
exec rm -rf -- "$__nr_d"
`;

const ESCAPES: Record<string, string> = { "\\": "\\\\", " ": "\\x20", "\n": "\\n", "\t": "\\t" };

/** One request field for `printf %b`: no spaces or control characters; UTF-8 passes through. */
export function field(s: string): string {
  return s.replace(
    /[\\ \x01-\x1f\x7f]/g,
    (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Read-only or dynamic in bash (assigning them fails or means something else), or the server's own.
const SPECIAL =
  /^(?:BASHOPTS|SHELLOPTS|BASH_(?:VERSINFO|VERSION|ARGV0|ARGC|ARGV|SUBSHELL|COMPAT|LINENO|SOURCE|CMDS|ALIASES|REMATCH|EXECUTION_STRING|COMMAND|XTRACEFD)|BASHPID|EUID|UID|PPID|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|FUNCNAME|GROUPS|DIRSTACK|EPOCHSECONDS|EPOCHREALTIME|OPTIND|__nr_.*)$/;

type Env = Record<string, string | undefined>;

/**
 * The environment the server starts with: the caller's, minus what would change how the server
 * itself behaves (startup files, shell options, exported functions that could shadow builtins).
 * OLDPWD is left out because every job's `cd` rewrites it; jobs get it back from the request.
 */
export function serverEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || k === "BASH_ENV" || k === "ENV" || k === "OLDPWD") continue;
    if (k.startsWith("BASH_FUNC_") || SPECIAL.test(k)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The changes that turn the server's environment into `env`, as request fields; undefined when
 * they cannot be made from bash (invalid or special names, NUL bytes, a different SHLVL since
 * `exec` adjusts it) and the caller must spawn directly.
 */
export function envArgs(env: Env, base: Record<string, string>): string[] | undefined {
  const args: string[] = [];
  if (env.SHLVL !== base.SHLVL) return undefined;
  for (const k in env) {
    const v = env[k];
    if (v === undefined || base[k] === v) continue;
    if (!NAME.test(k) || SPECIAL.test(k) || v.includes("\0")) return undefined;
    args.push(field(`${k}=${v}`));
  }
  for (const k in base) {
    if (env[k] !== undefined) continue;
    if (!NAME.test(k) || SPECIAL.test(k)) return undefined;
    args.push(`-${k}`);
  }
  return args;
}

/** One request line; undefined when the script cannot travel as a bash string. */
export function requestLine(
  id: number,
  cwd: string,
  script: string,
  envArgList: string[],
): string | undefined {
  if (script.includes("\0") || cwd.includes("\0")) return undefined;
  const extra = envArgList.length ? ` ${envArgList.join(" ")}` : "";
  return `${id} ${field(cwd)} ${field(script)}${extra}\n`;
}

// Read by bash only when it starts (IFS, POSIXLY_CORRECT) or where start-up and a later assignment
// might differ (locale, time zone): a request changing one of them is forked, never given to a spare.
const STARTUP_ONLY = /^(?:IFS|POSIXLY_CORRECT|LANG|LANGUAGE|LC_[A-Z_]+|TZ|TMPDIR)$/;
// Given a default by bash when it starts without them: removing one is forked too.
const DEFAULTED = /^(?:PATH|SHELL|HOSTNAME|HOSTTYPE|OSTYPE|MACHTYPE|TERM|PS4|OPTERR|OPTIND|MAILCHECK)$/;

/** Can a pre-started spare run a request with these environment changes (see SERVER_SCRIPT)? */
export function spareCanRun(envArgList: string[]): boolean {
  for (const a of envArgList) {
    const unset = a.startsWith("-");
    const name = unset ? a.slice(1) : a.slice(0, a.indexOf("="));
    if (STARTUP_ONLY.test(name) || (unset && DEFAULTED.test(name))) return false;
  }
  return true;
}
