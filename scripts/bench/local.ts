// `npm run bench:local`: per-step cost of the local runtime next to the tools people compare it
// with. Prints one table; the figures are medians of several runs on this machine.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = join(process.cwd(), "dist", "noetl.cjs");
const dir = mkdtempSync(join(tmpdir(), "noetl-bench-"));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(cmd: string, args: string[], opts: { cwd?: string } = {}): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return performance.now() - t0;
}

const timeMedian = (cmd: string, args: string[], opts?: { cwd?: string }) =>
  median(Array.from({ length: RUNS }, () => time(cmd, args, opts)));

function chain(name: string, n: number, tool: string): string {
  const steps = Array.from({ length: n }, (_, i) => {
    const next = i < n - 1 ? `\n    next: s${i + 1}` : "";
    return `  - step: s${i}\n    tool: ${tool}${next}`;
  });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: ${name}}\nexecutor: {spec: {entry_step: s0}}\nworkflow:\n${steps.join("\n")}\n`,
  );
  return file;
}

const rows: [string, string, string][] = [];
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

// Start-up is paid once per run; subtract a one-step run to get the per-step cost.
const one = chain("one", 1, "{kind: noop}");
const base = timeMedian(process.execPath, [cli, "run", one, "--json"]);
const noop = chain("noop", 1000, "{kind: noop}");
const noopMs = (timeMedian(process.execPath, [cli, "run", noop, "--json"]) - base) / 999;
rows.push(["local: 1,000 sequential noop steps", `${fmt(noopMs)} per step`, "target ≤ 0.2 ms per step"]);

const shell = chain("shell", 200, '{kind: shell, cmds: "true"}');
const shellOne = chain("shell1", 1, '{kind: shell, cmds: "true"}');
const shellMs =
  (timeMedian(process.execPath, [cli, "run", shell, "--json"]) -
    timeMedian(process.execPath, [cli, "run", shellOne, "--json"])) /
  199;
const bashMs = timeMedian("bash", ["-c", "for i in $(seq 200); do bash -c true; done"]) / 200;
rows.push([
  "local: 200 sequential shell `true` steps",
  `${fmt(shellMs)} per step`,
  `${(shellMs / bashMs).toFixed(2)} × bash loop (target ≤ 1.3 ×)`,
]);
rows.push(["bash loop: 200 × `bash -c true`", `${fmt(bashMs)} per spawn`, "baseline"]);

const makefile = join(dir, "Makefile");
const targets = Array.from({ length: 200 }, (_, i) => `t${i}`);
writeFileSync(
  makefile,
  `all: ${targets.join(" ")}\n${targets.map((t) => `${t}:\n\t@true\n`).join("")}.PHONY: all ${targets.join(" ")}\n`,
);
const makeMs = timeMedian("make", ["-s", "-f", makefile, "-j1"]) / 200;
rows.push([
  "make: 200 targets running `true`",
  `${fmt(makeMs)} per target`,
  `noetl shell is ${(shellMs / makeMs).toFixed(2)} × make`,
]);

let ansible: string | undefined;
try {
  ansible = execFileSync("which", ["ansible-playbook"], { encoding: "utf8" }).trim();
} catch {
  if (process.env.BENCH_INSTALL_ANSIBLE !== "0") {
    process.stderr.write("installing ansible with apt-get (set BENCH_INSTALL_ANSIBLE=0 to skip)…\n");
    const r = spawnSync(
      "bash",
      [
        "-c",
        "apt-get install -y -qq ansible-core >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq ansible-core >/dev/null 2>&1)",
      ],
      { stdio: "inherit" },
    );
    if (r.status === 0) ansible = "/usr/bin/ansible-playbook";
  }
}
if (ansible) {
  const tasks = Array.from({ length: 200 }, (_, i) => `    - name: t${i}\n      command: "true"`).join("\n");
  const pbFile = join(dir, "ansible.yaml");
  writeFileSync(pbFile, `- hosts: localhost\n  gather_facts: false\n  tasks:\n${tasks}\n`);
  const t = median(
    Array.from({ length: Math.min(RUNS, 2) }, () =>
      time(ansible!, ["-c", "local", "-i", "localhost,", pbFile]),
    ),
  );
  const perTask = t / 200;
  rows.push([
    "ansible-playbook -c local: 200 `command: true`",
    `${fmt(perTask)} per task`,
    `noetl is ${(perTask / shellMs).toFixed(0)} × faster (target ≥ 50 ×)`,
  ]);
} else
  rows.push([
    "ansible-playbook -c local",
    "not measured",
    "ansible-playbook is not installed and apt-get could not install it",
  ]);

rows.push([
  "noetl run start-up (1 noop step)",
  fmt(base),
  `NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? "set" : "unset"}`,
]);

rmSync(dir, { recursive: true, force: true });
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), 10));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log(line(["figure", "measured", "comparison"]));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
