/**
 * YAML input with positions: every Kubernetes document of a file, and a way to turn a field path
 * (`spec.workload.containers.api.image`) into `file:line:col` for error messages. Pure: the caller
 * reads the file.
 */
import { LineCounter, parseAllDocuments, parseDocument, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';
import { FAILSAFE_SCHEMA, loadAll, Type } from 'js-yaml';

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
 *
 * The values are what the `yaml` library reads (YAML 1.2, core schema, unique keys). A text in the
 * common subset (no directives, tags, anchors, aliases, complex keys or tabs; see
 * {@link readCommonYaml}) is read by js-yaml, about ten times faster, with a schema resolving plain
 * scalars exactly as the `yaml` core schema does; any other text, and any text js-yaml refuses, is
 * read by the `yaml` library, whose messages name the problem. Positions of a text js-yaml read are
 * recorded while it reads (node start offsets, from its listener); where that record does not have
 * the plain shape positions are read from, the `yaml` library parses the document's own text again
 * (test/source.test.ts compares both readers on a fuzzed corpus, positions included). `fast: false`
 * reads with the `yaml` library only.
 */
export function parseYamlDocuments(text: string, file: string, options: { fast?: boolean } = {}): { documents: SourceDocument[]; errors: SourceError[] } {
  if (options.fast !== false) {
    const documents = readCommonYaml(text, file);
    if (documents !== undefined) return { documents, errors: [] };
  }
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
      // The first syntax error is the cause; the parser's later ones in the same document are
      // mostly its consequences (one misplaced ":" yields dozens), so they are counted, not listed.
      const [first, ...rest] = doc.errors;
      const more = rest.length === 0 ? '' : ` (and ${rest.length} more syntax error${rest.length === 1 ? '' : 's'} in this document, usually caused by this one: fix it first)`;
      const where = at(first!.pos[0]);
      errors.push({ location: where, message: firstLine(first!.message) + placeholderHint(text, where.line) + more });
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
 * A hint for the commonest cause of a syntax error in Lattice files: a `${...}` placeholder written
 * unquoted inside a flow mapping (`{source: ${resources.data}}`), where YAML reads its `{` as the
 * start of a nested mapping. Empty when line `line` (1-based) of `text` does not look like that.
 */
export function placeholderHint(text: string, line: number): string {
  const source = text.split('\n')[line - 1] ?? '';
  const m = /\{[^}]*?([A-Za-z0-9_-]+):\s*(\$\{[^}]*\})/.exec(source);
  if (!m) return '';
  return `. A \${...} placeholder inside {...} must be quoted: write ${m[1]}: "${m[2]}"`;
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

/** Stands for a plain `null`/`~` while js-yaml reads, so that as a map key it becomes `""` as the `yaml` library makes it. */
const NULL_SCALAR = Object.freeze({ [Symbol.toStringTag]: 'YamlNull', toString: () => '' });
/** Set when a document read by js-yaml holds {@link NULL_SCALAR}s to replace by null. */
let sawNull = false;

/** Tags of the core types below: unlike the standard ones, no document names them, so a standard tag in a document shows it is explicit. */
const CORE_TAG = 'tag:lattice.dev,2026:yaml-core-';
const coreType = (name: string, test: RegExp, construct: (s: string) => unknown): Type =>
  new Type(`${CORE_TAG}${name}`, { kind: 'scalar', resolve: (data: unknown) => typeof data === 'string' && test.test(data), construct: (data: string) => construct(data) });

/**
 * The `yaml` library's YAML 1.2 core schema (yaml/dist/schema/core: null, bool, intOct, int, intHex,
 * floatNaN, floatExp, float, tried in that order, with its patterns and conversions) for js-yaml.
 */
const YAML_CORE_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [
    coreType('null', /^(?:~|[Nn]ull|NULL)?$/, () => ((sawNull = true), NULL_SCALAR)),
    coreType('bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === 't' || s[0] === 'T'),
    coreType('int-oct', /^0o[0-7]+$/, (s) => parseInt(s.substring(2), 8)),
    coreType('int', /^[-+]?[0-9]+$/, (s) => parseInt(s, 10)),
    coreType('int-hex', /^0x[0-9a-fA-F]+$/, (s) => parseInt(s.substring(2), 16)),
    coreType('float-nan', /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (s) => (s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY)),
    coreType('float-exp', /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (s) => parseFloat(s)),
    coreType('float', /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (s) => parseFloat(s)),
  ],
});

/**
 * Texts left to the `yaml` library: directives (`%YAML 1.1` changes the schema), content on a `---` line, a line starting `---` or `...` that is no marker, explicit keys
 * (`? `), flow collections as keys (`[a]: b`), empty keys in a flow collection (`[: a]`), a comment
 * right after a quote, bracket or comma (`"a"#`, `[#`), a sequence item with nothing after its `-` on the line
 * (js-yaml 4.3 moves the next, less indented item into the inner sequence: `- - b\n  -\n- x`),
 * a collection as an entry of a flow mapping or after a comma (`{{a: 1}}`, `[a, [b]]`), a block
 * scalar with an explicit indentation indicator (`|2`, `>1-`: over lines of only spaces, js-yaml
 * keeps the spaces past the indentation as content, the `yaml` library reads an empty string), a byte-order
 * mark, tabs, carriage returns without a line feed, and this module's own tag names. Matches may be false
 * alarms (a `? ` inside a string): those texts are only read more slowly.
 */
const NOT_COMMON = /^%|^---[ \t]+[^#\s]|^(?:---|\.\.\.)[^\s]|(?:^|[ \t[{,])\?(?:[ \t\r\n]|$)|[\]}][ \t]*:(?:[ \t\r\n,[\]{}]|$)|[[{,]\s*:(?=[\s,[\]{}]|$)|["'[\]{},]#|(?:^|[ \t])-[ \t\r]*(?:#[^\n]*)?$|[{,]\s*[{[]|(?:^|[ \t:-])[|>](?:[1-9][-+]?|[-+][1-9])(?=[ \t\r\n#]|$)|\ufeff|\t|\r(?!\n)|tag:lattice\.dev/m;
/** Longest line read by js-yaml: the `yaml` library refuses an implicit key over 1024 characters, js-yaml does not. */
const MAX_COMMON_LINE = 1024;

/** Replaces every {@link NULL_SCALAR} under `value` by null. */
function restoreNulls(value: unknown): unknown {
  if (value === NULL_SCALAR) return null;
  if (value !== null && typeof value === 'object') {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = restoreNulls(value[i]);
    } else {
      const o = value as Record<string, unknown>;
      for (const key of Object.keys(o)) o[key] = restoreNulls(o[key]);
    }
  }
  return value;
}

/**
 * Where each document of `text` lies, as `[start, end)` offsets, split at document markers (a
 * line starting `---` or `...` followed by a space, a tab or the line end: YAML 1.2.2 §9.1.4; no
 * scalar may hold such a line). A `---` starts a document; `...` ends one; text outside a
 * document that holds only blank and comment lines is no document.
 */
function documentRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = -1;
  let counted = false;
  const close = (end: number): void => {
    if (start !== -1 && counted) ranges.push([start, end]);
    start = -1;
    counted = false;
  };
  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const marker = text.startsWith('---', lineStart) ? '---' : text.startsWith('...', lineStart) ? '...' : undefined;
    const after = text.charCodeAt(lineStart + 3);
    const isMarker = marker !== undefined && (lineStart + 3 >= text.length || after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0d);
    if (isMarker && marker === '---') {
      close(lineStart);
      start = lineStart;
      counted = true;
    } else if (isMarker) {
      if (start === -1) start = lineStart;
      close(Math.min(lineEnd + 1, text.length));
    } else {
      if (start === -1) start = lineStart;
      if (!counted) {
        const line = text.slice(lineStart, lineEnd).trim();
        if (line !== '' && !line.startsWith('#')) counted = true;
      }
    }
    lineStart = lineEnd + 1;
  }
  close(text.length);
  return ranges;
}

/**
 * Whether the node js-yaml read from `input[start, end)` (the separation before it included) is a
 * flow node (a plain or quoted scalar, a `[...]` or `{...}` collection) over several lines.
 */
function multiLineFlowNode(input: string, start: number, end: number, kind: string | null): boolean {
  const newline = input.indexOf('\n', start);
  if (newline === -1 || newline >= end) return false;
  const source = input.slice(start, end).replace(/^(?:[ \t\r\n]|#[^\n]*)*/, '').trimEnd();
  if (!source.includes('\n')) return false;
  const first = source[0];
  // A block scalar (`|`, `>`) or a block collection (`key: value` lines, `- item` lines) is not a flow node.
  return kind === 'scalar' ? first !== '|' && first !== '>' : first === '{' || first === '[';
}

/**
 * The documents of `text` read by js-yaml, or undefined when the text is outside the common subset
 * (see {@link NOT_COMMON}), uses anchors or tags, or js-yaml refuses it: then the `yaml` library
 * reads it. Positions are recorded while js-yaml reads (see {@link PositionRecorder}).
 */
export function readCommonYaml(text: string, file: string): SourceDocument[] | undefined {
  if (NOT_COMMON.test(text)) return undefined;
  for (let at = 0; at < text.length; ) {
    const next = text.indexOf('\n', at);
    const end = next === -1 ? text.length : next;
    if (end - at > MAX_COMMON_LINE) return undefined;
    at = end + 1;
  }
  let special = false;
  let values: unknown[];
  sawNull = false;
  // Positions are recorded while reading, so that locating a field never reads a document again.
  const recorder = new PositionRecorder();
  try {
    values = loadAll(text, undefined, {
      schema: YAML_CORE_SCHEMA,
      listener: (event, state) => {
        const s = state as unknown as JsYamlState & { tag: string | null; anchor: string | null; input: string };
        if (event === 'open') {
          recorder.opened(s);
          return;
        }
        const start = recorder.closed(s);
        // A tag other than this schema's own (`!!str`, `!x`, `!`) or an anchor: left to the `yaml` library.
        if (s.anchor !== null || (s.tag !== null && s.tag !== '?' && !s.tag.startsWith(CORE_TAG))) special = true;
        // A flow node over several lines: js-yaml accepts continuation lines the `yaml` library
        // refuses as under-indented, so such texts are left to it.
        else if (multiLineFlowNode(s.input, start, s.position, s.kind)) special = true;
      },
    });
  } catch {
    return undefined;
  }
  if (special) return undefined;
  if (sawNull) for (let i = 0; i < values.length; i++) values[i] = restoreNulls(values[i]);
  const ranges = documentRanges(text);
  if (ranges.length !== values.length) return undefined;
  let lineCounter: LineCounter | undefined;
  const at = (offset: number): SourceLocation => {
    if (lineCounter === undefined) {
      // Line starts as the `yaml` parser records them: offset 0 and after every line feed.
      lineCounter = new LineCounter();
      lineCounter.addNewLine(0);
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
    }
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  // One top-level node per document, as js-yaml composes them; otherwise the `yaml` library answers.
  recorder.done();
  const roots = recorder.roots;
  const documents: SourceDocument[] = [];
  values.forEach((object, index) => {
    if (object === null || object === undefined) return;
    const [start, end] = ranges[index]!;
    const root = roots.length === values.length ? roots[index] : undefined;
    let tree: Document | undefined;
    const locate = (path: readonly (string | number)[]): SourceLocation => {
      const offset = root === undefined ? undefined : positionOf(text, recorder, root, path);
      if (offset !== undefined) {
        positionsAnswered.jsYaml++;
        return at(offset);
      }
      positionsAnswered.yaml++;
      tree ??= parseDocument(text.slice(start, end), { uniqueKeys: false });
      return at(start + offsetOf(tree, path));
    };
    documents.push({ file, index, object, locate });
  });
  return documents;
}

/** How many positions of documents read by js-yaml each reader found (for tests: both must be exercised). */
export const positionsAnswered = { jsYaml: 0, yaml: 0 };

/** What js-yaml's listener is given (its parser state): where it is, and what it just read. */
interface JsYamlState {
  kind: string | null;
  position: number;
  result: unknown;
}

const KIND_NONE = 0;
const KIND_SCALAR = 1;
const KIND_MAPPING = 2;
const KIND_SEQUENCE = 3;
const KINDS: Readonly<Record<string, number>> = { scalar: KIND_SCALAR, mapping: KIND_MAPPING, sequence: KIND_SEQUENCE };

/**
 * The nodes js-yaml reads, with their positions, recorded from its listener's open and close
 * events, in flat arrays indexed by node number in reading order (a node's children follow it:
 * the first at `n + 1`, each next one at the previous one's `end`). About 20 bytes a node, so a
 * fleet's files keep their positions without holding their data twice. Per node: `start`, where
 * js-yaml began it (separation before it included); `end`, the number after its last descendant;
 * its kind; a scalar's value (a key is compared with it); a collection's number of entries or items
 * and which collection it is (js-yaml's result, numbered).
 */
class PositionRecorder {
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  size = new Int32Array(1024);
  id = new Int32Array(1024);
  kind = new Uint8Array(1024);
  readonly values: unknown[] = [];
  /** Node numbers of the documents' top-level nodes, in order. */
  readonly roots: number[] = [];
  private count = 0;
  private readonly open: number[] = [];
  private readonly ids = new Map<object, number>();

  opened(state: JsYamlState): void {
    if (this.count === this.start.length) this.grow();
    const n = this.count++;
    this.start[n] = state.position;
    this.open.push(n);
  }

  /** Ends the node opened last; returns where it began. */
  closed(state: JsYamlState): number {
    const n = this.open.pop()!;
    this.kind[n] = state.kind === null ? KIND_NONE : (KINDS[state.kind] ?? KIND_NONE);
    const r = state.result;
    if (r === NULL_SCALAR || r === null || typeof r !== 'object') {
      this.values[n] = r;
      this.size[n] = 0;
      this.id[n] = 0;
    } else {
      this.values[n] = undefined;
      const size = Array.isArray(r) ? r.length : Object.keys(r).length;
      this.size[n] = size;
      let id = this.ids.get(r);
      if (id === undefined) this.ids.set(r, (id = this.ids.size + 1));
      this.id[n] = id;
      // Reading several documents, js-yaml tries one more node at the next document's marker, which
      // reads nothing (kind null) and lands in the collection that ends there: it is the last node.
      const expected = this.kind[n] === KIND_MAPPING ? 2 * size : size;
      if (this.childCount(n, this.count) === expected + 1 && this.kind[this.count - 1] === KIND_NONE && this.end[this.count - 1] === this.count) this.count--;
    }
    this.end[n] = this.count;
    if (this.open.length === 0) this.roots.push(n);
    return this.start[n]!;
  }

  /** Number of children of `n`, whose descendants end before `end`. */
  childCount(n: number, end = this.end[n]!): number {
    let count = 0;
    for (let c = n + 1; c < end; c = this.end[c]!) count++;
    return count;
  }

  /** The numbering of collections is only needed while reading. */
  done(): void {
    this.ids.clear();
  }

  private grow(): void {
    const bigger = <T extends Int32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.start = bigger(this.start);
    this.end = bigger(this.end);
    this.size = bigger(this.size);
    this.id = bigger(this.id);
    this.kind = bigger(this.kind);
  }
}

/** Where the content of a node begins: after the spaces, line breaks and comments before it. */
function contentStart(source: string, at: number): number {
  let i = at;
  for (;;) {
    const c = source.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else if (c === 0x23 /* # */) {
      const next = source.indexOf('\n', i);
      if (next === -1) return source.length;
      i = next;
    } else return i;
  }
}

/**
 * js-yaml composes a collection value once more around itself (a block mapping tried first, then
 * kept as the collection it read): the node and its only child hold the same collection.
 */
function unwrap(rec: PositionRecorder, node: number): number {
  let n = node;
  while ((rec.kind[n] === KIND_MAPPING || rec.kind[n] === KIND_SEQUENCE) && n + 1 < rec.end[n]! && rec.end[n + 1] === rec.end[n] && rec.id[n + 1] === rec.id[n]) n++;
  return n;
}

/**
 * The offset {@link offsetOf} gives for `path`, found in the nodes recorded while reading `source`
 * (offsets into it) from the document's top-level node `root`: the key of a map entry, or the item
 * of a sequence, of the deepest node along the path. Undefined when the record's shape is not the
 * plain one this reads (a mapping whose nodes are not key, value, key, value..., a sequence with
 * another number of nodes than items): the `yaml` library then answers.
 */
function positionOf(source: string, rec: PositionRecorder, root: number, path: readonly (string | number)[]): number | undefined {
  let node = unwrap(rec, root);
  let offset = contentStart(source, rec.start[node]!);
  for (const segment of path) {
    const kind = rec.kind[node];
    if (kind === KIND_MAPPING) {
      if (rec.childCount(node) !== 2 * rec.size[node]!) return undefined;
      let found = -1;
      for (let key = node + 1; key < rec.end[node]!; key = rec.end[rec.end[key]!]!) {
        const value = rec.values[key];
        if (String(value === NULL_SCALAR ? null : value) === String(segment)) {
          found = key;
          break;
        }
      }
      if (found === -1) break;
      offset = contentStart(source, rec.start[found]!);
      node = unwrap(rec, rec.end[found]!);
    } else if (kind === KIND_SEQUENCE && typeof segment === 'number') {
      if (rec.childCount(node) !== rec.size[node]) return undefined;
      let item = node + 1;
      for (let i = 0; i < segment && item < rec.end[node]!; i++) item = rec.end[item]!;
      if (segment < 0 || item >= rec.end[node]!) break;
      offset = contentStart(source, rec.start[item]!);
      node = unwrap(rec, item);
    } else {
      break;
    }
  }
  return offset;
}
