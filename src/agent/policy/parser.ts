// tree-sitter-bash through web-tree-sitter (wasm). The grammar is loaded once, lazily; each parse
// is copied into plain objects and the wasm tree freed at once, so nothing leaks and the rest of
// the policy works on ordinary data.
import { createRequire } from "node:module";

export interface SyntaxNode {
  type: string;
  named: boolean;
  /** The field this node fills in its parent (`name`, `argument`, `redirect`…), or null. */
  field: string | null;
  /** UTF-16 offsets into the parsed source. */
  start: number;
  end: number;
  missing: boolean;
  children: SyntaxNode[];
}

export interface ParsedScript {
  source: string;
  root: SyntaxNode;
  /** Offset of the first ERROR or MISSING node, or -1. */
  errorAt: number;
}

export interface BashParser {
  parse(source: string): ParsedScript;
}

let loading: Promise<BashParser> | undefined;

/** The shared parser; the first call loads the wasm runtime and the bash grammar. */
export function loadBashParser(): Promise<BashParser> {
  loading ??= load().catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

async function load(): Promise<BashParser> {
  const { Parser, Language } = await import("web-tree-sitter");
  const require = createRequire(import.meta.url);
  await Parser.init();
  const language = await Language.load(require.resolve("tree-sitter-bash/tree-sitter-bash.wasm"));
  const parser = new Parser();
  parser.setLanguage(language);
  return {
    parse(source: string): ParsedScript {
      const tree = parser.parse(source);
      if (!tree) throw new Error("tree-sitter returned no tree");
      const cursor = tree.walk();
      try {
        let errorAt = -1;
        // ERROR and MISSING nodes make the root report an error: without one, no node is missing,
        // and asking each node (one call into the wasm module per node) can be skipped.
        const anyError = tree.rootNode.hasError;
        const visit = (): SyntaxNode => {
          const node: SyntaxNode = {
            type: cursor.nodeType,
            named: cursor.nodeIsNamed,
            field: cursor.currentFieldName,
            start: cursor.startIndex,
            end: cursor.endIndex,
            missing: anyError && cursor.nodeIsMissing,
            children: [],
          };
          if ((node.type === "ERROR" || node.missing) && (errorAt < 0 || node.start < errorAt)) errorAt = node.start;
          if (cursor.gotoFirstChild()) {
            do node.children.push(visit());
            while (cursor.gotoNextSibling());
            cursor.gotoParent();
          }
          return node;
        };
        return { source, root: visit(), errorAt };
      } finally {
        cursor.delete();
        tree.delete();
      }
    },
  };
}
