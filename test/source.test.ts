/**
 * The two YAML readers of src/api/source.ts give the same result: js-yaml (with the `yaml` core
 * schema, for texts in the common subset) and the `yaml` library (for everything else, and the
 * reference). On a fuzzed corpus (random objects written by three writers in several styles, joined
 * into multi-document streams with every kind of document marker, then mutated with the fragments
 * YAML readers disagree on) and on every YAML file of the repository: the same documents, indices,
 * values (strictly: -0, NaN, key order) and errors, and the same position for every field path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { stringify, type ToStringOptions } from 'yaml';
import { dump, type DumpOptions } from 'js-yaml';
import { parseYamlDocuments, positionsAnswered, readCommonYaml } from '../src/api/source.ts';
import { toYaml } from '../src/cli/output.ts';
import { prng, randomObject, randomString } from './support/random-objects.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** Every field path of a value (up to `limit`), plus a path below each leaf that does not exist. */
function pathsOf(value: unknown, limit = 60): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [[]];
  const walk = (v: unknown, path: Array<string | number>): void => {
    if (out.length >= limit) return;
    const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((item, i) => [i, item]) : v !== null && typeof v === 'object' ? Object.entries(v) : [];
    if (entries.length === 0) out.push([...path, 'missing']);
    for (const [k, item] of entries) {
      out.push([...path, k]);
      walk(item, [...path, k]);
    }
  };
  walk(value, []);
  return out;
}

let fastCount = 0;

/** Reads `text` both ways and asserts the same outcome, positions included. */
function same(text: string, what: string): void {
  const reference = parseYamlDocuments(text, 'f.yaml', { fast: false });
  const read = parseYamlDocuments(text, 'f.yaml');
  if (readCommonYaml(text, 'f.yaml') !== undefined) fastCount++;
  const context = `${what}\n${JSON.stringify(text)}`;
  assert.deepEqual(read.errors, reference.errors, `errors: ${context}`);
  assert.deepEqual(read.documents.map((d) => [d.index, d.object]), reference.documents.map((d) => [d.index, d.object]), `documents: ${context}`);
  read.documents.forEach((d, i) => {
    for (const path of pathsOf(d.object)) assert.deepEqual(d.locate(path), reference.documents[i]!.locate(path), `position of ${JSON.stringify(path)} in document ${d.index}: ${context}`);
  });
}

const YAML_STYLES: ToStringOptions[] = [
  {},
  { lineWidth: 0 },
  { lineWidth: 20, minContentWidth: 0 },
  { defaultStringType: 'QUOTE_SINGLE' },
  { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' },
  { defaultStringType: 'BLOCK_LITERAL' },
  { defaultStringType: 'BLOCK_FOLDED', lineWidth: 16, minContentWidth: 0 },
  { collectionStyle: 'flow' },
  { indent: 4, indentSeq: false },
];
const JS_YAML_STYLES: DumpOptions[] = [{}, { lineWidth: 20 }, { flowLevel: 1 }, { quotingType: '"', forceQuotes: true }, { indent: 3, noArrayIndent: true }, { condenseFlow: true, flowLevel: 0 }];

/** Fragments inserted at random places: what makes readers differ, or a text invalid. */
const FRAGMENTS = [
  '&a ', '*a', '!!str ', '!!int ', '! ', '!x ', '? ', '%YAML 1.1\n---\n', '\t', '#', ' #c', '---\n', '...\n', '--- ', '\r\n', '\r', '"', "'", '|', '|2', '|-', '>+', '>', '- ', ': ', ':', '{', '}', '[', ']', ',', '\n', '\n  ', '  ', 'null: ', '~: ', '1: ', 'true: ', '[a]: ', '{a: 1}: ', 'a: b: c', '\\', '\\x41', '\ufeff', '\u2028', '\u0085', '<<: ', '0x1F', '0o17', '-0', '.nan', '1e3', '1_000', '0b11', 'k'.repeat(1030) + ': v', '-\n', '- #c\n', ':\n', '-',
];

test('js-yaml and the yaml library read the same documents, values and positions (fuzzed corpus)', () => {
  const random = prng(20261208);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  let cases = 0;
  for (let i = 0; i < 6000; i++) {
    const texts: string[] = [];
    const n = 1 + Math.floor(random() * 3);
    for (let d = 0; d < n; d++) {
      const object = random() < 0.1 ? [randomString(random), randomObject(random, { depth: 3, width: 4 })] : randomObject(random, { depth: 4, width: 4 });
      const r = random();
      let text: string;
      try {
        text = r < 0.4 ? toYaml(object) : r < 0.75 ? stringify(object, pick(YAML_STYLES)) : dump(object, pick(JS_YAML_STYLES));
      } catch {
        continue; // a style that cannot write this object
      }
      texts.push(text);
    }
    const separators = ['---\n', '--- # c\n', '...\n---\n', '...\n', '# between\n---\n', '\n---\n\n'];
    let stream = random() < 0.3 ? `---\n${texts[0] ?? ''}` : (texts[0] ?? '');
    for (const t of texts.slice(1)) stream += `${stream.endsWith('\n') ? '' : '\n'}${pick(separators)}${t}`;
    if (random() < 0.2) stream += pick(['...\n', '---\n', '# trailing\n', '\n\n']);
    same(stream, `stream ${i}`);
    cases++;
    // Mutations: one to three fragments at random offsets.
    for (let m = 0; m < 2; m++) {
      let mutated = stream;
      const k = 1 + Math.floor(random() * 3);
      for (let j = 0; j < k; j++) {
        const at = Math.floor(random() * (mutated.length + 1));
        mutated = mutated.slice(0, at) + pick(FRAGMENTS) + mutated.slice(at);
      }
      same(mutated, `stream ${i}, mutation ${m}`);
      cases++;
    }
  }
  assert.ok(fastCount > cases / 5, `js-yaml read only ${fastCount} of ${cases} texts: the fast path is not exercised`);
  // Positions of js-yaml's documents come from js-yaml's own nodes, the yaml library answering
  // only where their shape is not the plain one (flow sequences of single-pair maps, ...).
  assert.ok(positionsAnswered.jsYaml > 3 * positionsAnswered.yaml, `positions: ${JSON.stringify(positionsAnswered)}`);
});

test('js-yaml and the yaml library read every YAML file of the repository the same', () => {
  const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => f !== '');
  assert.ok(files.length > 20);
  for (const file of files) same(readFileSync(`${ROOT}${file}`, 'utf8'), file);
});

test('texts outside the common subset are left to the yaml library', () => {
  for (const text of ['%YAML 1.1\n---\na: yes\n', 'a: &x 1\nb: *x\n', 'a: !!str 1\n', '? [a]\n: b\n', '[a]: b\n', 'a:\n\tb: 1\n', 'a: 1\na: 2\n', `${'k'.repeat(1100)}: v\n`, '# only a comment\n', '- - b\n  - #c\n- x\n', '- a:\n    -\n  - x\n',
    // Block scalars with an indentation indicator over lines of only spaces (found by seed 11 of the
    // fuzzed corpus at 15,000 streams): js-yaml reads ' \n', the yaml library ''.
    'n: |2\n   \n', 'n: >1-\n  \n', 'l:\n  - |4+\n       \nm: 1\n']) {
    assert.equal(readCommonYaml(text, 'f.yaml'), undefined, JSON.stringify(text));
    same(text, 'special');
  }
  // And the common subset is read by js-yaml, null keys and values as the yaml library reads them.
  const read = readCommonYaml('null: ~\nb: [~, Null, 0x1F, 0o17, -0, .NaN, 1e3, +.inf, 1_000, 0b11, yes]\n', 'f.yaml');
  assert.ok(read);
  assert.deepEqual(read[0]!.object, { '': null, b: [null, null, 31, 15, -0, NaN, 1000, Infinity, '1_000', '0b11', 'yes'] });
});

test('a syntax error is reported once per document, with how many followed it, and an unquoted placeholder in {...} gets the fix', () => {
  const text = 'apiVersion: lattice.dev/v1beta1\nkind: LatticeService\nspec:\n  volumes:\n    /config: {source: ${resources.config}}\n---\nkind: Other\nmetadata: {name: ok}\n';
  const { documents, errors } = parseYamlDocuments(text, 'f.yaml');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.deepEqual([errors[0]!.location.line, errors[0]!.location.file], [5, 'f.yaml']);
  assert.match(errors[0]!.message, /A \$\{\.\.\.\} placeholder inside \{\.\.\.\} must be quoted: write source: "\$\{resources\.config\}"/);
  assert.match(errors[0]!.message, /\(and \d+ more syntax errors? in this document, usually caused by this one: fix it first\)$/);
  // The next document is still read.
  assert.deepEqual(documents.map((d) => (d.object as { kind: string }).kind), ['Other']);
  // No hint where it does not apply.
  const other = parseYamlDocuments('a: [1, 2\nb: 3\n', 'g.yaml');
  assert.equal(other.errors.length, 1);
  assert.doesNotMatch(other.errors[0]!.message, /placeholder/);
});
