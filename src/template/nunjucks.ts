// Typed view of the nunjucks internals we build on (parser, compiler, nodes, runtime). @types/nunjucks
// leaves them untyped; nunjucks is pinned, so this surface is stable for us.
import nunjucks from "nunjucks";

/** A parsed template node; the names of its child fields are listed in `fields`. */
export interface NjNode {
  readonly typename: string;
  readonly fields: string[];
  lineno: number;
  colno: number;
  [field: string]: unknown;
}

type NodeCtor = new (lineno: number, colno: number, ...fields: unknown[]) => NjNode;

export interface NjFrame {
  topLevel: boolean;
}

/** The compiled root function, as nunjucks' precompiled templates expose it. */
export type RootRenderFunc = (
  env: unknown,
  context: unknown,
  frame: NjFrame,
  runtime: unknown,
  cb: (err: unknown, out?: string) => void,
) => void;

interface Internals {
  parser: { parse(src: string, extensions: unknown[], opts: object): NjNode };
  compiler: {
    Compiler: new (
      name: string,
      throwOnUndefined: boolean,
    ) => { compile(ast: NjNode): void; getCode(): string };
  };
  nodes: Record<
    | "Node"
    | "Root"
    | "NodeList"
    | "Output"
    | "Literal"
    | "Symbol"
    | "Filter"
    | "Array"
    | "InlineIf"
    | "Not"
    | "TemplateData",
    NodeCtor
  >;
  runtime: {
    Frame: new () => NjFrame;
    SafeString: new (s: string) => object;
  };
}

export const nj = nunjucks as unknown as Internals;
export const njRuntime = (nunjucks as unknown as { runtime: unknown }).runtime;

export function makeNode(type: keyof Internals["nodes"], at: NjNode, ...fields: unknown[]): NjNode {
  return new nj.nodes[type](at.lineno, at.colno, ...fields);
}

/** `Filter(name, [args...])`: the one node that compiles to a call of a function we register. */
export function filterCall(name: string, at: NjNode, args: NjNode[]): NjNode {
  return makeNode(
    "Filter",
    at,
    makeNode("Symbol", at, name),
    new nj.nodes.NodeList(at.lineno, at.colno, args),
  );
}

export function literal(value: unknown, at: NjNode): NjNode {
  return makeNode("Literal", at, value);
}
