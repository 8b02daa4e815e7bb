/**
 * Serialisation of derived objects: YAML as `kubectl apply -f` reads it, or a JSON `List`, written
 * whole (`toYaml`, `toYamlStream`, `toJsonList`) or streamed one document at a time to a writer
 * (`writeYamlStream`, `writeJsonList`) so that a large fleet's output is never held as one string.
 *
 * YAML is written by js-yaml's `dump` (fast and linear on large fleets) configured so that:
 * - keys keep their insertion order (`sortKeys: false`), nothing is written as an anchor or alias
 *   (`noRefs: true`), no line is folded (`lineWidth: -1`), everything is block style (`flowLevel: -1`)
 *   except empty maps and sequences (`{}`, `[]`), quoted strings use double quotes;
 * - a string is quoted whenever a YAML 1.2 core-schema reader (the `yaml` library, js-yaml) or a
 *   YAML 1.1 reader (go-yaml v2/v3, which kubectl reads through sigs.k8s.io/yaml; PyYAML) would read it
 *   as something other than that string: `null`, `~`, `true`, numbers in every notation (`0777`,
 *   `0x1F`, `1_000`, `1e44941571541982`, `.inf`, `.nan`), the YAML 1.1 booleans
 *   `y|n|yes|no|on|off` in any case (js-yaml's compatibility mode), sexagesimal numbers (`1:20`),
 *   and the merge key `<<`;
 * - characters a YAML reader would not keep as they are are escaped inside double quotes: C0
 *   controls, DEL, C1 controls, U+0085 (NEL), U+2028 and U+2029 (YAML 1.1 line breaks: go-yaml would
 *   otherwise break the line there), the byte-order mark and non-characters.
 * Timestamps (`2026-01-01T00:00:00Z`) stay plain, as before: go-yaml v2/v3 decode a plain timestamp
 * into `interface{}` as the same string (kept that way for compatibility), and Kubernetes reads
 * `metav1.Time` from the string; quoting them would change every status condition's bytes.
 *
 * The output is byte-identical to what the `yaml` library wrote before (stringify with
 * `{ aliasDuplicateObjects: false, lineWidth: 0 }`) for Kubernetes objects: test/output.test.ts
 * checks it on the examples and a generated fleet (and `lattice render` of 1,000- and 5,000-service
 * fleets was compared with `cmp`), and round-trips fuzzed objects through the `yaml` parser under the
 * YAML 1.2 and 1.1 schemas and through js-yaml. On other input the bytes can differ, always reading
 * back as the same data: strings the old output left unsafe for YAML 1.1 readers (quoted now) or
 * wrote with raw line separators (escaped now); the quoting style of strings that need quotes (the
 * `yaml` library chose single quotes for a string containing `"`, js-yaml always double quotes);
 * block scalars with whitespace-only lines (double-quoted now); `undefined` inside a sequence
 * (`null`, as JSON writes it; the `yaml` library did the same).
 */
import * as jsYaml from 'js-yaml';
import { dump, FAILSAFE_SCHEMA, Type, type DumpOptions } from 'js-yaml';

/** js-yaml's built-in types (exported by js-yaml 4, missing from @types/js-yaml 4.0). */
const types = (jsYaml as unknown as { types: Record<'null' | 'bool' | 'int' | 'float', Type> }).types;

/**
 * Floats as the `yaml` library wrote them (`0.5`, `1e-7`, `-0`, `.inf`, `-.inf`, `.nan`), rather than
 * js-yaml's `1.e-7` and `-0.0`. Both read back as the same number in YAML 1.2; `1e-7` without a dot
 * is also read as a float by go-yaml.
 */
function representFloat(value: object): string {
  const n = value as unknown as number;
  if (Number.isNaN(n)) return '.nan';
  if (n === Infinity) return '.inf';
  if (n === -Infinity) return '-.inf';
  if (Object.is(n, -0)) return '-0';
  return JSON.stringify(n);
}

const floatType = new Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: types.float.resolve.bind(types.float),
  construct: types.float.construct.bind(types.float),
  predicate: types.float.predicate!,
  represent: representFloat,
  defaultStyle: 'lowercase',
});

/**
 * Every plain scalar that a YAML 1.2 core-schema reader or a YAML 1.1 reader resolves to something
 * other than a string (YAML 1.2.2 §10.3.2 "Tag Resolution"; YAML 1.1 types null, bool, int, float,
 * merge at yaml.org/type/). js-yaml's own resolvers miss some of them: a float too large for a
 * double (`1e44941571541982` is not "finite", so js-yaml would leave it plain while the `yaml`
 * library and go-yaml read a number), and the YAML 1.1 forms with `_` separators, `0b` binary and
 * sexagesimal `1:20`; and it writes a top-level key `... a` plain, which reads as a document end. Version strings such as `1.2.3` are strings to every reader and stay plain.
 */
const NOT_A_STRING = new RegExp(
  '^(?:' +
    ['~', 'null|Null|NULL', 'true|True|TRUE|false|False|FALSE', 'y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF',
      // integers: decimal, octal, hexadecimal, binary, with YAML 1.1 `_` separators and signs
      '[-+]?[0-9][0-9_]*', '[-+]?0o[0-7]+', '[-+]?0x[0-9a-fA-F_]+', '[-+]?0b[01_]+',
      // sexagesimal (YAML 1.1), integer and float
      '[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\\.[0-9_]*)?',
      // floats: with a dot, an exponent or both; infinities and not-a-number
      '[-+]?[0-9][0-9_]*\\.[0-9_]*(?:[eE][-+]?[0-9]+)?', '[-+]?\\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?', '[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+',
      '[-+]?\\.(?:inf|Inf|INF)', '\\.(?:nan|NaN|NAN)',
      // the YAML 1.1 merge key
      '<<',
      // a document marker: js-yaml would write such a key plain at the start of a line
      '(?:---|\\.\\.\\.)(?:[ \\t][^]*)?',
    ].join('|') +
    ')$',
);

/** A type that represents nothing and only tells `dump` which strings to quote (see NOT_A_STRING). */
const notAString = new Type('tag:lattice.dev,2026:not-a-string', { kind: 'scalar', resolve: (data: unknown) => typeof data === 'string' && NOT_A_STRING.test(data) });

/** YAML escapes of characters with a short form (YAML 1.2.2 §5.7, also read by go-yaml). */
const SHORT_ESCAPES: Record<number, string> = {
  0x00: '\\0', 0x07: '\\a', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0b: '\\v', 0x0c: '\\f', 0x0d: '\\r', 0x1b: '\\e',
  0x22: '\\"', 0x5c: '\\\\', 0x85: '\\N', 0xa0: '\\_', 0x2028: '\\L', 0x2029: '\\P',
};

/** Whether js-yaml writes code point `c` as it is in a double-quoted scalar (its `isPrintable`). */
function printable(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) || (c >= 0xa1 && c <= 0xd7ff && c !== 0x2028 && c !== 0x2029) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff) || (c >= 0x10000 && c <= 0x10ffff);
}

/** `s` as a double-quoted YAML scalar, escaped as js-yaml escapes. */
export function doubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (printable(c)) out += ch;
    else out += c <= 0xff ? `\\x${c.toString(16).toUpperCase().padStart(2, '0')}` : c <= 0xffff ? `\\u${c.toString(16).toUpperCase().padStart(4, '0')}` : `\\U${c.toString(16).toUpperCase().padStart(8, '0')}`;
  }
  return out + '"';
}

/** A line of only spaces and tabs in a multi-line string. */
const BLANK_LINE = /(?:^|\n)[ \t]+(?:\n|$)/;

/**
 * Multi-line strings with a line of only spaces or tabs are written double-quoted: js-yaml would
 * write them as a literal block (`|2`) whose whitespace-only lines readers disagree on (the `yaml`
 * library reads `|2` over a line of five spaces as an empty string). An implicit type's
 * representation is written as it is, so this one returns the quoted text itself.
 */
const blankLineString = new Type('tag:lattice.dev,2026:blank-line-string', {
  kind: 'scalar',
  // Never resolves a plain scalar: this type only changes how such strings are written.
  resolve: () => false,
  predicate: (data: object) => typeof data === 'string' && (data as string).includes('\n') && BLANK_LINE.test(data as string),
  represent: (data: object) => doubleQuoted(data as unknown as string),
});

/**
 * The schema `dump` writes and quotes by: every string one of these types would resolve is quoted.
 * YAML 1.2 core (null, bool, int, float) plus {@link notAString}. No timestamp type: see the module docs.
 */
const IMPLICIT_TYPES: readonly Type[] = [types.null, types.bool, types.int, floatType, notAString, blankLineString];
const SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: [...IMPLICIT_TYPES] });

/** Options for every YAML Lattice writes (see the module docs). */
export const YAML_OPTIONS: DumpOptions = {
  schema: SCHEMA,
  indent: 2,
  noArrayIndent: false,
  skipInvalid: true,
  flowLevel: -1,
  sortKeys: false,
  lineWidth: -1,
  noRefs: true,
  noCompatMode: false,
  condenseFlow: false,
  quotingType: '"',
  forceQuotes: false,
  replacer: undefinedInSequenceAsNull,
};

/** `undefined` and functions inside a sequence become `null`, as in JSON (in a map, the key is left out). */
function undefinedInSequenceAsNull(this: unknown, _key: string, value: unknown): unknown {
  return value === undefined && Array.isArray(this) ? null : value;
}

/** One YAML document: {@link writeDocument}, else js-yaml's `dump` for what it does not handle. */
export function toYaml(object: unknown): string {
  try {
    return writeDocument(object);
  } catch (err) {
    if (err === UNHANDLED) return dump(object, YAML_OPTIONS);
    throw err;
  }
}

/** Thrown by {@link writeDocument} for input it leaves to `dump`. */
const UNHANDLED = new Error('left to js-yaml dump');

/** How a scalar is written, by value, so that each distinct string is examined by js-yaml once. */
const scalars = new Map<string, string>();
const numbers = new Map<number, string>();
/** How each map key is written (see {@link keyText}). */
const keys = new Map<string, string>();
/** Entries kept at most per cache (a fleet has a few hundred thousand distinct strings). */
const SCALAR_CACHE_LIMIT = 200_000;
/** `\n` followed by the indentation of each level (2 spaces per level). */
const NEWLINE_INDENT: string[] = [];

function newlineIndent(level: number): string {
  return (NEWLINE_INDENT[level] ??= '\n' + ' '.repeat(2 * level));
}

/**
 * Strings `dump` surely writes plain, as they are, found without asking it: a letter, then letters,
 * digits and `-_./`. No such string of more than 5 characters is anything but a string to a YAML
 * 1.1 or 1.2 reader (the words that are, `false`, `yes`, `NULL`, ..., are 5 characters or fewer;
 * numbers, `.inf`, `<<`, `---` and sexagesimals start otherwise), and none of these characters needs
 * quoting (js-yaml's isPlainSafeFirst, isPlainSafe and isPlainSafeLast).
 */
const SURELY_PLAIN = /^[A-Za-z][A-Za-z0-9_./-]*$/;

/** js-yaml's DEPRECATED_BASE60_SYNTAX: such strings are quoted in compatibility mode (noCompatMode: false). */
const BASE60 = /^[-+]?[0-9_]+(?::[0-9_]+)+(?:\.[0-9_]*)?$/;

/** Characters js-yaml never lets start a plain scalar (its isPlainSafeFirst: whitespace and the YAML indicators). */
const NOT_PLAIN_FIRST = new Set([...' \t-?:,[]{}#&*!|=>\'"%@`'].map((c) => c.charCodeAt(0)));

/** js-yaml's isNsCharOrWhitespace: printable, not a line break or byte-order mark. */
function nsCharOrWhitespace(c: number): boolean {
  return printable(c) && c !== 0x0a && c !== 0x0d;
}

/**
 * Whether js-yaml would write the single-line string `s` plain in block context, before its
 * ambiguity checks: js-yaml's chooseScalarStyle with its isPlainSafeFirst, isPlainSafe (inblock)
 * and isPlainSafeLast, ported over code points (a `#` only after a non-space, a `:` only before a
 * non-space, every character printable).
 */
function plainSafe(s: string): boolean {
  const first = s.codePointAt(0)!;
  if (!printable(first) || NOT_PLAIN_FIRST.has(first)) return false;
  const last = s.charCodeAt(s.length - 1);
  if (last === 0x20 || last === 0x09 || last === 0x3a) return false;
  let prev = -1;
  for (let i = 0; i < s.length; ) {
    const c = s.codePointAt(i)!;
    i += c >= 0x10000 ? 2 : 1;
    const nsOrWhite = nsCharOrWhitespace(c);
    const ns = nsOrWhite && c !== 0x20 && c !== 0x09;
    const safe =
      (nsOrWhite && c !== 0x23 && !(prev === 0x3a && !ns)) ||
      (prev !== -1 && nsCharOrWhitespace(prev) && prev !== 0x20 && prev !== 0x09 && c === 0x23) ||
      (prev === 0x3a && ns);
    if (!safe) return false;
    prev = c;
  }
  return true;
}

/**
 * A string without a line break as `dump` writes it: plain when js-yaml's rules allow it and no type
 * of the schema resolves it (nor compatibility mode quotes it), else double-quoted with js-yaml's
 * escapes ({@link doubleQuoted}); with `lineWidth: -1` a single line has no other style. Identical
 * to `dump` (test/output.test.ts compares them on fuzzed strings).
 */
function singleLineText(s: string): string {
  if (s === '' || !plainSafe(s) || BASE60.test(s)) return doubleQuoted(s);
  for (const type of IMPLICIT_TYPES) if (type.resolve(s)) return doubleQuoted(s);
  return s;
}

/**
 * A string as `dump` writes it at nesting `level`, as a map value, a sequence item or a whole
 * document. Decided by `dump` itself (once per distinct string): a string without a line break is
 * written the same at every level; a literal block scalar (`|`) is written at level 1 and its
 * content lines are indented further for deeper levels, as js-yaml's `indentString` does (it
 * indents every line that is not empty by 2 × max(1, level) spaces).
 */
function stringText(s: string, level: number): string {
  if (s.length > 5 && SURELY_PLAIN.test(s)) return s;
  let text = scalars.get(s);
  if (text === undefined) {
    if (scalars.size >= SCALAR_CACHE_LIMIT) scalars.clear();
    // A map value at level 1: `k: <text>\n`.
    text = s.includes('\n') ? dump({ k: s }, YAML_OPTIONS).slice(3, -1) : singleLineText(s);
    scalars.set(s, text);
  }
  if (level > 1 && (text.charCodeAt(0) === 0x7c /* | */ || text.charCodeAt(0) === 0x3e /* > */)) {
    return text.replace(/\n(?=[^\n])/g, newlineIndent(level - 1));
  }
  return text;
}

/** A map key as `dump` writes it; keys it would write another way (explicit `? ` keys, line breaks) are left to `dump`. */
function keyText(key: string): string {
  // Keys repeat far more than values (every object has `metadata`, `name`, `labels`...).
  let text = keys.get(key);
  if (text !== undefined) return text;
  if (key.includes('\n')) throw UNHANDLED;
  text = stringText(key, 1);
  // js-yaml writes a key longer than 1024 characters as an explicit `? key` pair.
  if (text.length > 1024) throw UNHANDLED;
  if (keys.size >= SCALAR_CACHE_LIMIT) keys.clear();
  keys.set(key, text);
  return text;
}

/** A node as js-yaml's `writeNode` writes it in block style, or undefined when it leaves it out (undefined). */
function nodeText(value: unknown, level: number, compact: boolean): string | undefined {
  switch (typeof value) {
    case 'string':
      return stringText(value, level);
    case 'number': {
      // A Map holds -0 and 0 as one key (SameValueZero), and they are written differently.
      if (Object.is(value, -0)) return '-0';
      let text = numbers.get(value);
      if (text === undefined) {
        if (numbers.size >= SCALAR_CACHE_LIMIT) numbers.clear();
        text = dump(value, YAML_OPTIONS).slice(0, -1);
        numbers.set(value, text);
      }
      return text;
    }
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        if (value.length === 0) return '[]';
        let out = '';
        for (const item of value as unknown[]) {
          // The replacer (undefinedInSequenceAsNull) makes an undefined item null.
          const text = nodeText(item === undefined ? null : item, level + 1, true)!;
          if (!compact || out !== '') out += newlineIndent(level);
          out += text.charCodeAt(0) === 0x0a ? '-' : '- ';
          out += text;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw UNHANDLED;
      let out = '';
      for (const key of Object.keys(value)) {
        const text = nodeText((value as Record<string, unknown>)[key], level + 1, false);
        if (text === undefined) continue;
        if (!compact || out !== '') out += newlineIndent(level);
        out += keyText(key);
        out += text.charCodeAt(0) === 0x0a ? ':' : ': ';
        out += text;
      }
      return out === '' ? '{}' : out;
    }
    default:
      // Functions, symbols, bigints: dump's own handling.
      throw UNHANDLED;
  }
}

/**
 * One YAML document, the same text as `dump(object, YAML_OPTIONS)` (test/output.test.ts checks it on
 * fuzzed objects, the examples and a generated fleet), written faster: the block structure is
 * written here exactly as js-yaml's writeBlockMapping/writeBlockSequence write it (2 spaces per
 * level, sequences indented under their key, `{}`/`[]` for empty ones, undefined map values left
 * out, undefined sequence items as `null`), and each distinct scalar is written by `dump` once and
 * remembered, since most strings of a fleet (keys, labels, ports) repeat. Throws
 * {@link UNHANDLED} for what it does not write itself (objects other than plain maps and arrays,
 * map keys with line breaks or over 1024 characters).
 */
function writeDocument(object: unknown): string {
  const text = nodeText(object, 0, true);
  return text === undefined ? '' : `${text}\n`;
}

/** A multi-document YAML stream, each document starting with `---`. */
export function toYamlStream(objects: Iterable<unknown>): string {
  let out = '';
  for (const o of objects) out += `---\n${toYaml(o)}`;
  return out;
}

/** Size in UTF-16 code units after which streamed output is handed to the writer (about 64 KiB). */
const CHUNK = 1 << 16;

/**
 * Writes a multi-document YAML stream (the same text as {@link toYamlStream}) document by document:
 * `write` receives chunks of whole documents of about 64 KiB, so memory holds one chunk, not the stream.
 */
export function writeYamlStream(objects: Iterable<unknown>, write: (text: string) => void): void {
  let pending = '';
  for (const o of objects) {
    pending += `---\n${toYaml(o)}`;
    if (pending.length >= CHUNK) {
      write(pending);
      pending = '';
    }
  }
  if (pending.length > 0) write(pending);
}

/** A Kubernetes `v1 List` as indented JSON. */
export function toJsonList(objects: Iterable<unknown>): string {
  let out = '';
  writeJsonList(objects, (t) => void (out += t));
  return out;
}

/**
 * Writes a Kubernetes `v1 List` as indented JSON item by item, in chunks as {@link writeYamlStream};
 * the text is exactly `JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: {}, items }, null, 2)`
 * followed by a newline.
 */
export function writeJsonList(objects: Iterable<unknown>, write: (text: string) => void): void {
  let pending = '{\n  "apiVersion": "v1",\n  "kind": "List",\n  "metadata": {},\n  "items": [';
  let first = true;
  for (const o of objects) {
    // An item's JSON has no raw newline inside strings, so re-indenting its lines is exact.
    const item = (JSON.stringify(o, null, 2) ?? 'null').replace(/\n/g, '\n    ');
    pending += `${first ? '' : ','}\n    ${item}`;
    first = false;
    if (pending.length >= CHUNK) {
      write(pending);
      pending = '';
    }
  }
  pending += first ? ']\n}\n' : '\n  ]\n}\n';
  write(pending);
}

/** Aligns rows into columns separated by two spaces (the first row is the header). */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}
