// Parses YAML and points at the line and column of any path. The fast js-yaml parser reads the
// value; the slower `yaml` parser, which keeps a syntax tree with positions, runs only when
// there is something to point at (a syntax error, or a problem found later), so valid
// playbooks load about ten times faster.
import { CORE_SCHEMA, load } from "js-yaml";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { PathSegment, Problem } from "./problems";

export interface YamlSource {
  value: unknown;
  problems: Problem[];
  /** Position of the node at `path` (the key itself when `key` is set), or of its nearest existing ancestor. */
  locate(path: readonly PathSegment[], key?: boolean): { line: number; col: number };
}

type Locate = YamlSource["locate"];

export function parseYaml(text: string, file: string): YamlSource {
  let value: unknown;
  try {
    value = load(text, { schema: CORE_SCHEMA, filename: file });
  } catch (err) {
    // Report the syntax error in the words and positions of the full parser.
    const mark = (err as { mark?: { line?: number; column?: number } }).mark;
    const at = mark?.line === undefined ? undefined : { line: mark.line + 1, col: (mark.column ?? 0) + 1 };
    const tree = parseTree(text, file, at);
    if (tree.problems.length > 0) return { value: undefined, problems: tree.problems, locate: tree.locate };
    return { value: tree.value, problems: [], locate: tree.locate };
  }
  let locate: Locate | undefined;
  return {
    value,
    problems: [],
    locate: (path, key) => {
      locate ??= parseTree(text, file).locate;
      return locate(path, key);
    },
  };
}

function parseTree(
  text: string,
  file: string,
  at?: { line: number; col: number },
): { value: unknown; problems: Problem[]; locate: Locate } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = doc.errors.map((e) => {
    const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
    return { file, line: pos.line, col: pos.col, message: firstLine(e.message) };
  });
  let value: unknown;
  // Some documents parse but cannot become values (an alias to an anchor that does not exist).
  if (problems.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      problems.push({ file, ...(at ?? { line: 1, col: 1 }), message: firstLine((err as Error).message) });
    }
  }

  function locate(path: readonly PathSegment[], key = false): { line: number; col: number } {
    let node: unknown = doc.contents;
    let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        const keyNode = pair.key as Node | null;
        if (last && key && keyNode?.range) {
          offset = keyNode.range[0];
          break;
        }
        node = pair.value;
        const range = (pair.value as Node | null)?.range ?? keyNode?.range;
        if (range) offset = range[0];
      } else if (isSeq(node) && typeof seg === "number") {
        node = node.items[seg];
        const range = (node as Node | null)?.range;
        if (!range) break;
        offset = range[0];
      } else break;
    }
    return lineCounter.linePos(offset);
  }

  return { value, problems, locate };
}

function firstLine(message: string): string {
  const line = message.split("\n")[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?$/, "");
}
