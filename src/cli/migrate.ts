/**
 * `lattice migrate PATH... [--check]`: rewrites LatticeService documents from `lattice.dev/v1alpha1`
 * to `lattice.dev/v1beta1` in place.
 *
 * The edit is made on the `yaml` library's Document (CST-backed AST), by the same table of path
 * moves as the conversion webhook (src/api/latticeservice/v1beta1.ts `MOVES`): the moved pair keeps
 * its comments, every other key keeps its place, comments and formatting in the document are kept,
 * and documents that are not v1alpha1 LatticeServices are left byte for byte as they were. The
 * result is checked before anything is written: each rewritten document, parsed back, must equal
 * the conversion of the original (src/api/latticeservice/conversion.ts) without the
 * `lattice.dev/conversion-data` annotation, whose only content for a valid document is an empty
 * `capabilities: {}` (which says nothing). Otherwise the file is left alone and the error names
 * file:line. Running it twice changes nothing the second time (v1beta1 documents are skipped).
 *
 * Exit status: 0 nothing (more) to migrate or everything migrated; 1 with `--check` when a file
 * needs migration, or when a document could not be migrated; 2 bad invocation or unreadable input.
 */
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parseAllDocuments, type Document, type Pair, type YAMLMap } from 'yaml';
import { API_VERSION as V1ALPHA1 } from '../api/constants.ts';
import { CONVERSION_ANNOTATION, V1BETA1, convertLatticeService } from '../api/latticeservice/index.ts';
import { MOVES } from '../api/latticeservice/v1beta1.ts';
import { EXIT } from './exit.ts';
import { MAX_INPUT_FILE_BYTES, findYamlFiles, formatSourceError, readRegularFile, type Streams } from './load.ts';

/** The outcome for one file's text. */
export interface MigrateResult {
  /** The new text (equal to the input when nothing changed or an error stopped the file). */
  text: string;
  /** LatticeService documents rewritten (or, with errors, that would have been). */
  migrated: number;
  /** `file:line: message` of every problem; when any, `text` is the input unchanged. */
  errors: string[];
}

type AnyPair = Pair<unknown, unknown>;

/** A document that cannot be migrated; `offset` is where in the text (the field), when known. */
class MigrateError extends Error {
  constructor(message: string, readonly offset?: number) {
    super(message);
  }
}

const keyOf = (pair: AnyPair): unknown => (isScalar(pair.key) ? pair.key.value : pair.key);

function pairIn(map: YAMLMap, key: string): AnyPair | undefined {
  return (map.items as AnyPair[]).find((p) => keyOf(p) === key);
}

/** The maps reached from `map` by `path` (`*`: every value of a map). */
function mapsAt(map: YAMLMap, path: readonly string[]): YAMLMap[] {
  let level: YAMLMap[] = [map];
  for (const seg of path) {
    const next: YAMLMap[] = [];
    for (const m of level) {
      const values = seg === '*' ? (m.items as AnyPair[]).map((p) => p.value) : [pairIn(m, seg)?.value];
      for (const v of values) if (isMap(v)) next.push(v);
    }
    level = next;
  }
  return level;
}

/** Adds `comments` (lines, without `#`) above `pair`'s key, after any it has. */
function attachComments(pair: AnyPair, comments: readonly (string | null | undefined)[]): void {
  if (!isScalar(pair.key)) return;
  const all = [pair.key.commentBefore, ...comments].filter((c): c is string => typeof c === 'string' && c.length > 0);
  if (all.length > 0) pair.key.commentBefore = all.join('\n');
}

const isPrefix = (a: readonly string[], b: readonly string[]): boolean => a.length < b.length && a.every((s, i) => b[i] === s);

/** Applies the v1alpha1 -> v1beta1 moves to one document's `spec` map, in place. Throws with the field when a move cannot be made. */
function moveInDocument(doc: Document, spec: YAMLMap): void {
  for (const move of MOVES) {
    const k = move.from.lastIndexOf('*');
    const relFrom = move.from.slice(k + 1);
    const relTo = move.to.slice(k + 1);
    for (const base of mapsAt(spec, move.from.slice(0, k + 1))) {
      if (isPrefix(relTo, relFrom)) {
        // Collapse: `holder: {key: value}` becomes `holder: value`; an empty holder goes.
        const [holderParent] = mapsAt(base, relTo.slice(0, -1));
        const holderPair = holderParent ? pairIn(holderParent, relTo[relTo.length - 1]!) : undefined;
        if (!holderParent || !holderPair || !isMap(holderPair.value)) continue;
        const [innerParent] = mapsAt(holderPair.value, relFrom.slice(relTo.length, -1));
        const inner = innerParent ? pairIn(innerParent, relFrom[relFrom.length - 1]!) : undefined;
        if (inner === undefined) {
          holderParent.items.splice(holderParent.items.indexOf(holderPair as never), 1);
          continue;
        }
        // Comments above the inner key (on the holder map when it is the first key) go above the holder's key.
        const comments = [holderPair.value.commentBefore, isScalar(inner.key) ? inner.key.commentBefore : undefined];
        holderPair.value = inner.value;
        attachComments(holderPair, comments);
        continue;
      }
      if (isPrefix(relFrom, relTo)) throw new Error(`lattice migrate cannot apply the move ${move.from.join('.')} -> ${move.to.join('.')}`);
      const [srcParent] = mapsAt(base, relFrom.slice(0, -1));
      const pair = srcParent ? pairIn(srcParent, relFrom[relFrom.length - 1]!) : undefined;
      if (!srcParent || !pair) continue;
      let common = 0;
      while (common < relFrom.length - 1 && relFrom[common] === relTo[common]) common++;
      // The destination's parent, created as needed; the moved pair (with its comments) goes just
      // before the branch it came from, so it stays near where the developer wrote it.
      let destParent = base;
      for (const seg of relTo.slice(0, -1)) {
        let p = pairIn(destParent, seg);
        if (!p) {
          destParent.add(doc.createPair(seg, {}));
          p = pairIn(destParent, seg)!;
        }
        if (!isMap(p.value)) throw new Error(`spec.${move.to.join('.')}: ${seg} is not a map`);
        destParent = p.value;
      }
      const last = relTo[relTo.length - 1]!;
      const taken = pairIn(destParent, last);
      if (taken) throw new MigrateError(`spec.${move.to.join('.')} is set as well as spec.${move.from.join('.')}: keep one`, (isScalar(taken.key) ? taken.key.range?.[0] : undefined));
      const index = srcParent.items.indexOf(pair as never);
      if (index === 0 && srcParent.commentBefore) {
        // A comment above the first key of a block map is the map's: it belongs to the pair that moves.
        attachComments(pair, [srcParent.commentBefore]);
        srcParent.commentBefore = null;
      }
      srcParent.items.splice(index, 1);
      const branch = common < relTo.length - 1 ? undefined : pairIn(destParent, relFrom[common]!);
      const at = branch ? destParent.items.indexOf(branch as never) : destParent.items.length;
      destParent.items.splice(at, 0, pair as never);
    }
  }
}

/** The conversion of `object` to v1beta1, as `lattice migrate` writes it: without the conversion annotation. */
function expectedMigration(object: unknown): unknown {
  const out = convertLatticeService(object, V1BETA1) as { metadata?: { annotations?: Record<string, string> } };
  const annotations = out.metadata?.annotations;
  if (annotations && Object.hasOwn(annotations, CONVERSION_ANNOTATION)) {
    const data = JSON.parse(annotations[CONVERSION_ANNOTATION]!) as { createdAnnotations?: boolean };
    delete annotations[CONVERSION_ANNOTATION];
    if (data.createdAnnotations && Object.keys(annotations).length === 0) delete out.metadata!.annotations;
  }
  return out;
}

/** True when sequences in `text` are written at their key's indentation (`key:\n- a`). */
function flatSequences(text: string): boolean {
  return /^( *)[^\s#-][^\n]*:[ \t]*\r?\n\1- /m.test(text);
}

/** Migrates the v1alpha1 LatticeService documents of one file's text (`file` names it in errors). Pure. */
export function migrateText(text: string, file: string): MigrateResult {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(docs)) return { text, migrated: 0, errors: [] }; // an empty stream
  const errors: string[] = [];
  const lineOf = (offset: number): number => text.slice(0, offset).split('\n').length;
  for (const d of docs) {
    for (const e of d.errors) errors.push(`${file}:${e.linePos?.[0].line ?? lineOf(e.pos[0])}: ${e.message.split('\n')[0]}`);
  }
  if (errors.length > 0) return { text, migrated: 0, errors };
  const crlf = text.includes('\r\n');
  const options = { lineWidth: 0, indentSeq: !flatSequences(text), flowCollectionPadding: /[[{] [^\s\]}]/.test(text) };
  let out = '';
  let cursor = 0;
  let migrated = 0;
  const expected = new Map<number, unknown>();
  docs.forEach((doc, i) => {
    const object = doc.toJS() as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
    const start = i === 0 ? 0 : doc.range[0];
    const end = doc.range[2];
    expected.set(i, object);
    if (object?.kind !== 'LatticeService' || object.apiVersion !== V1ALPHA1 || !isMap(doc.contents)) return;
    const line = lineOf(doc.contents.range?.[0] ?? start);
    const name = typeof object.metadata?.name === 'string' ? object.metadata.name : '(unnamed)';
    try {
      const apiVersion = pairIn(doc.contents, 'apiVersion')!;
      if (isScalar(apiVersion.value)) apiVersion.value.value = V1BETA1;
      const spec = pairIn(doc.contents, 'spec')?.value;
      if (isMap(spec)) moveInDocument(doc, spec);
      expected.set(i, expectedMigration(object));
    } catch (err) {
      const at = err instanceof MigrateError && err.offset !== undefined ? lineOf(err.offset) : line;
      errors.push(`${file}:${at}: LatticeService ${name}: ${(err as Error).message}`);
      return;
    }
    const printed = doc.toString(options);
    out += text.slice(cursor, start) + (crlf ? printed.replace(/\n/g, '\r\n') : printed);
    cursor = end;
    migrated++;
  });
  out += text.slice(cursor);
  if (errors.length > 0) return { text, migrated, errors };
  if (migrated === 0) return { text, migrated, errors };
  // Parse the result back: every document must be what the conversion says (or unchanged).
  const again = parseAllDocuments(out);
  const back = Array.isArray(again) ? again : [];
  if (back.length !== docs.length) return { text, migrated, errors: [`${file}:1: the rewritten file has ${back.length} documents instead of ${docs.length}; nothing was written (please report this)`] };
  back.forEach((doc, i) => {
    if (!isDeepStrictEqual(doc.toJS(), expected.get(i))) {
      errors.push(`${file}:${lineOf(docs[i]!.range[0])}: the rewritten document would not equal its conversion to ${V1BETA1}; nothing was written. Migrate it by hand (docs/versioning.md lists the changes)`);
    }
  });
  return errors.length > 0 ? { text, migrated, errors } : { text: out, migrated, errors };
}

/** Runs `lattice migrate`; returns the exit status. */
export function migrateCommand(paths: string[], opts: { check?: boolean }, streams: Streams): number {
  const found = findYamlFiles(paths);
  for (const e of found.errors) streams.stderr(formatSourceError(e));
  const files = found.files.filter((f) => /\.ya?ml$/i.test(f));
  if (files.length === 0) {
    if (found.errors.length === 0) streams.stderr(`error: no YAML files found in ${paths.join(', ')}: name files or folders holding *.yaml or *.yml\n`);
    return EXIT.usage;
  }
  let unreadable = found.errors.length > 0;
  let failed = false;
  const pending: string[] = [];
  let total = 0;
  for (const file of files) {
    const read = readRegularFile(file, MAX_INPUT_FILE_BYTES);
    if (!read.ok) {
      streams.stderr(`error: ${file}: ${read.reason}\n`);
      unreadable = true;
      continue;
    }
    const result = migrateText(read.text, file);
    for (const e of result.errors) streams.stderr(`error: ${e}\n`);
    if (result.errors.length > 0) {
      failed = true;
      continue;
    }
    if (result.migrated === 0) continue;
    total += result.migrated;
    if (opts.check) {
      pending.push(file);
      streams.stdout(`${file}: ${result.migrated} LatticeService document${result.migrated === 1 ? '' : 's'} to migrate to ${V1BETA1}\n`);
      continue;
    }
    try {
      writeFileSync(file, result.text);
    } catch (err) {
      streams.stderr(`error: ${file}: cannot write: ${(err as Error).message}\n`);
      failed = true;
      continue;
    }
    streams.stdout(`${file}: migrated ${result.migrated} LatticeService document${result.migrated === 1 ? '' : 's'} to ${V1BETA1}\n`);
  }
  if (opts.check && pending.length > 0) {
    streams.stderr(`${pending.length} file${pending.length === 1 ? '' : 's'} (${total} document${total === 1 ? '' : 's'}) still use ${V1ALPHA1}: run \`lattice migrate ${paths.join(' ')}\`\n`);
    return EXIT.failed;
  }
  if (total === 0 && !failed) streams.stderr(`Nothing to migrate: no ${V1ALPHA1} LatticeService in ${files.length} file${files.length === 1 ? '' : 's'}.\n`);
  if (unreadable) return EXIT.usage;
  return failed ? EXIT.failed : EXIT.ok;
}
