/**
 * YAML input with positions: every Kubernetes document of a file, and a way to turn a field path
 * (`spec.workload.containers.api.image`) into `file:line:col` for error messages. Pure: the caller
 * reads the file.
 */
import { LineCounter, parseAllDocuments, parseDocument, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';

/** A position in an input file, 1-based like editors show it. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One YAML document of a file, parsed. */
export interface SourceDocument {
  /** Path of the file as the user named it. */
  file: string;
  /** 0-based position of the document in its file. */
  index: number;
  /** The document as plain data. */
  object: unknown;
  /** Position of the field at `path`, or of the nearest enclosing field that exists. */
  locate(path: readonly (string | number)[]): SourceLocation;
}

/** A syntax error that made a document unreadable. */
export interface SourceError {
  location: SourceLocation;
  message: string;
}

/**
 * Parses every document of a multi-document YAML text. Documents with syntax errors are reported
 * in `errors` (with position) and left out of `documents`; empty documents are skipped.
 */
export function parseYamlDocuments(text: string, file: string): { documents: SourceDocument[]; errors: SourceError[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const documents: SourceDocument[] = [];
  const errors: SourceError[] = [];
  const at = (offset: number): SourceLocation => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  if (!Array.isArray(docs)) {
    // parseAllDocuments returns an EmptyStream for an empty text.
    return { documents, errors };
  }
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        errors.push({ location: at(err.pos[0]), message: firstLine(err.message) });
      }
      return;
    }
    let object: unknown;
    try {
      object = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // The yaml library throws when expanding aliases would exceed maxAliasCount (a "billion
      // laughs" document: a few lines that expand to gigabytes). Only this document is refused.
      errors.push({ location: at(doc.range[0]), message: aliasMessage(err) });
      return;
    }
    if (object === null || object === undefined) return;
    // Positions are needed only for problems, so the syntax tree (about 9 times the size of the
    // data) is not kept: the document's own text is parsed again the first time a position is asked.
    const [start, , end] = doc.range;
    let tree: Document | undefined;
    const locate = (path: readonly (string | number)[]): SourceLocation => {
      tree ??= parseDocument(text.slice(start, end), { uniqueKeys: false });
      return at(start + offsetOf(tree, path));
    };
    documents.push({ file, index, object, locate });
  });
  return { documents, errors };
}

/**
 * How many alias (`*name`) expansions a document may need, counted as the `yaml` library does
 * (`toJS({ maxAliasCount })`: each alias costs the number of nodes it expands to). Kubernetes
 * manifests rarely use aliases at all; 100 admits sharing a few blocks and refuses expansion bombs.
 */
export const MAX_ALIAS_COUNT = 100;

function aliasMessage(err: unknown): string {
  const text = err instanceof Error ? firstLine(err.message) : String(err);
  if (/alias/i.test(text)) {
    return `this document's aliases (*name) expand beyond the limit (maxAliasCount ${MAX_ALIAS_COUNT}), as in a "billion laughs" attack: the document is refused, the other documents are read. Write the repeated values out, or use fewer aliases`;
  }
  return `this document cannot be read: ${text}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** Offset of the deepest node along `path`: the key of a map entry, or the item of a sequence. */
function offsetOf(doc: Document, path: readonly (string | number)[]): number {
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const key = pair.key as Node;
      offset = key.range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}
