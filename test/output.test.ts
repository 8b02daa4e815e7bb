/**
 * The YAML and JSON writers (src/cli/output.ts): what they write reads back as what was written, for
 * YAML 1.2 readers and YAML 1.1 readers (go-yaml, which kubectl uses, reads YAML 1.1); the bytes are
 * those the previous writer (the `yaml` library's stringify) produced for Kubernetes objects (the
 * examples and a generated fleet); characters YAML 1.1 readers treat as line breaks or cannot read
 * are escaped; streaming writes the same text as writing whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { CORE_SCHEMA, dump, load as jsYamlLoad } from 'js-yaml';
import { toJsonList, toYaml, toYamlStream, writeJsonList, writeYamlStream, YAML_OPTIONS } from '../src/cli/output.ts';
import { outputObjects } from '../src/cli/render.ts';
import { loadDocuments } from '../src/cli/load.ts';
import { verifyImages } from '../src/cli/images.ts';
import { derivePlatform } from '../src/compiler/platform/snapshot.ts';
import { generateFleet, DEFAULT_SHAPE } from '../bench/fleet.ts';
import { prng, randomObject, TRICKY_STRINGS } from './support/random-objects.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** The previous writer, kept here as the reference for byte identity. */
function oldYamlStream(objects: unknown[]): string {
  return objects.map((o) => `---\n${stringify(o, { aliasDuplicateObjects: false, lineWidth: 0 })}`).join('');
}

/** The previous JSON writer. */
function oldJsonList(objects: unknown[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: {}, items: objects }, null, 2) + '\n';
}

/**
 * YAML 1.1 as go-yaml reads it into `interface{}`: the `yaml` library's 1.1 schema (booleans
 * y/yes/on/off..., octal 0777, sexagesimal 1:20, underscores, `<<` merge) without the timestamp type,
 * since go-yaml v2/v3 keep a plain timestamp as its string when decoding into `interface{}`, and with
 * a float needing a digit: the library's 1.1 float pattern `[-+]?([0-9][0-9_]*)?\.[0-9_]*` reads a
 * lone `.` as NaN, which neither go-yaml nor PyYAML do (Istio's `exportTo: ["."]` is written plain).
 */
function parseYaml11(text: string): unknown {
  return parse(text, {
    version: '1.1',
    merge: true,
    customTags: (tags) =>
      tags
        .filter((t) => (t as { tag?: string }).tag !== 'tag:yaml.org,2002:timestamp')
        .map((t) => {
          const test = (t as { test?: RegExp }).test;
          return test?.test('.') ? { ...(t as object), test: /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/ } as typeof t : t;
        }),
  });
}

/** The examples' output objects, derived as `lattice render examples/` derives them (signatures checked offline). */
const renderedExamples = await (async () => {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const loaded = loadDocuments(['examples/']);
    const images = await verifyImages(loaded.documents, { bundles: loaded.bundles, resolveDigests: false });
    return outputObjects(derivePlatform(loaded.documents, { now: '2026-01-01T00:00:00Z', images }));
  } finally {
    process.chdir(cwd);
  }
})();

test('fuzzed objects read back unchanged under the YAML 1.2 core and YAML 1.1 schemas', () => {
  const random = prng(20261206);
  let checked = 0;
  for (let i = 0; i < 1000; i++) {
    const object = randomObject(random, { depth: 4, width: 5 });
    const text = toYaml(object);
    const context = `object ${i}: ${JSON.stringify(object)}\n---\n${text}`;
    const read = (how: (t: string) => unknown): unknown => {
      try {
        return how(text);
      } catch (err) {
        assert.fail(`${(err as Error).message}\n${context}`);
      }
    };
    assert.deepEqual(read((t) => parse(t, { schema: 'core' })), object, `YAML 1.2 core: ${context}`);
    assert.deepEqual(read(parseYaml11), object, `YAML 1.1: ${context}`);
    assert.deepEqual(read((t) => jsYamlLoad(t, { schema: CORE_SCHEMA })), object, `js-yaml (core schema: its default schema reads timestamps): ${context}`);
    checked++;
  }
  assert.equal(checked, 1000);
});

test('the writer writes the same text as js-yaml dump with the same options (fuzzed objects, tricky strings at every depth)', () => {
  const random = prng(20261207);
  for (let i = 0; i < 3000; i++) {
    const object = randomObject(random, { depth: 5, width: 5 });
    assert.equal(toYaml(object), dump(object, YAML_OPTIONS), `object ${i}: ${JSON.stringify(object)}`);
  }
  // Every tricky string as a document, a key and a value at several depths, in maps and sequences.
  for (const s of TRICKY_STRINGS) {
    const nested = { [s]: s, a: { [s]: [s, [s, { [s]: s }], { b: { c: s } }] }, list: [s, [s]] };
    for (const object of [s, [s], nested, [nested], { x: [[nested]] }]) {
      assert.equal(toYaml(object), dump(object, YAML_OPTIONS), `${JSON.stringify(s)} in ${JSON.stringify(object)}`);
    }
  }
  // Strings of letters, digits and `-_./` starting with a letter (written without asking dump when over 5 characters).
  const alphabet = 'abyYnNoOfFtTlLeEsSuU0123456789_./-';
  for (let i = 0; i < 20000; i++) {
    let s = 'aAyYnNoOtTfF'[Math.floor(random() * 12)]!;
    const n = Math.floor(random() * 8);
    for (let j = 0; j < n; j++) s += alphabet[Math.floor(random() * alphabet.length)]!;
    assert.equal(toYaml({ [s]: s, l: [s] }), dump({ [s]: s, l: [s] }, YAML_OPTIONS), JSON.stringify(s));
  }
  // Single-line strings over every character class js-yaml's plain-scalar rules look at (written
  // without asking dump): indicators first and last, `: `, ` #`, `:#`, spaces, tabs, controls,
  // line separators, the byte-order mark, astral characters and lone surrogates.
  const classes = ['a', 'Z', '0', '9', '.', '_', '/', '@', '+', '=', '~', ' ', '  ', '\t', ':', '#', '-', '?', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', "'", '"', '%', '`', '\\', '\u0085', '\u00a0', '\u00e9', '\u2028', '\ufeff', '\u0007', '\u007f', '\ud83d\ude00', '\ud800', 'yes', 'null', '1', '0x', '1:2', 'e5', '.inf'];
  for (let i = 0; i < 30000; i++) {
    let s = '';
    const n = Math.floor(random() * 7);
    for (let j = 0; j < n; j++) s += classes[Math.floor(random() * classes.length)]!;
    assert.equal(toYaml({ [s]: s, l: [s] }), dump({ [s]: s, l: [s] }, YAML_OPTIONS), JSON.stringify(s));
  }
  // What the writer leaves to dump: long and multi-line keys, values that are not plain data.
  const long = 'k'.repeat(1100);
  for (const object of [{ [long]: 1 }, { 'a\nb': { c: 1 } }, { d: new Date(0) }, { f: () => 1 }, [undefined, 1], { u: undefined }, { e: {}, s: [] }, -0, 1e21, Number.NaN]) {
    assert.equal(toYaml(object), dump(object, YAML_OPTIONS), JSON.stringify(object));
  }
});

test('every tricky string reads back as that string, as a value and as a key, for YAML 1.2 and 1.1 readers', () => {
  for (const s of TRICKY_STRINGS) {
    const object = { [s]: s, list: [s] };
    const text = toYaml(object);
    assert.deepEqual(parse(text), object, `YAML 1.2: ${JSON.stringify(s)} written as\n${text}`);
    assert.deepEqual(parseYaml11(text), object, `YAML 1.1: ${JSON.stringify(s)} written as\n${text}`);
  }
});

test('YAML 1.1 scalars that are not strings there are quoted', () => {
  for (const s of ['yes', 'No', 'ON', 'off', 'y', 'N', '~', 'null', 'true', '0777', '0x1F', '0b101', '1_000', '1:20', '190:20:30.15', '1e44941571541982', '.inf', '-.Inf', '.NaN', '+1', '1.5', '<<']) {
    assert.equal(toYaml({ key: s }), `key: "${s}"\n`, `value ${s}`);
    assert.equal(toYaml({ [s]: 'v' }), `"${s}": v\n`, `key ${s}`);
  }
  // Plain as before: none of these is anything but a string in either version.
  for (const s of ['app', 'nginx:1.25', 'registry.example.com/app@sha256:0123', 'team-payments', '2026-01-01T00:00:00Z', 'http://a.example.com:8080/x']) {
    assert.equal(toYaml({ key: s }), `key: ${s}\n`, `value ${s}`);
  }
});

test('line separators, NEL, C0 and C1 controls and non-characters are escaped, never written raw', () => {
  const specials = ['\u2028', '\u2029', '\u0085', '\u0080', '\u009f', '\u007f', '\u0000', '\u0007', '\u001b', '\ufeff', '\ufffe', '\uffff'];
  for (const c of specials) {
    for (const s of [`a${c}b`, `line one\nline${c}two\n`]) {
      const text = toYaml({ [`k${c}`]: s, list: [s] });
      assert.ok(!text.includes(c), `${JSON.stringify(c)} written raw:\n${text}`);
      assert.deepEqual(parse(text), { [`k${c}`]: s, list: [s] });
      assert.deepEqual(parseYaml11(text), { [`k${c}`]: s, list: [s] });
    }
  }
  assert.equal(toYaml({ a: 'x\u2028y\u2029z\u0085' }), 'a: "x\\Ly\\Pz\\N"\n');
});

test('the examples render to the same bytes as the previous writer, YAML and JSON', () => {
  assert.ok(renderedExamples.length > 50);
  // The ACK IAM Role holds JSON documents in strings; those differ in quoting style only, a difference
  // src/cli/output.ts documents (`yaml` chose single quotes for a string with `"`, js-yaml double):
  // the Role is compared as data, every other object byte for byte.
  // Likewise strings starting with "-" (Volcano plugin arguments such as `--port=23456`, container
  // args `--since`): `yaml` wrote them plain, js-yaml quotes them. Jobs (the Volcano Job or CronJob
  // and the LatticeJob echoed with its status) are compared as data too.
  const isIamRole = (o: unknown): boolean => (o as { apiVersion?: string }).apiVersion === 'iam.services.k8s.aws/v1alpha1';
  const isJob = (o: unknown): boolean => ['batch.volcano.sh/v1alpha1 Job', 'batch.volcano.sh/v1alpha1 CronJob', 'lattice.dev/v1alpha1 LatticeJob'].includes(`${(o as { apiVersion?: string }).apiVersion} ${(o as { kind?: string }).kind}`);
  const plain = renderedExamples.filter((o) => !isIamRole(o) && !isJob(o));
  assert.equal(renderedExamples.filter(isIamRole).length, 1);
  assert.equal(toYamlStream(plain), oldYamlStream(plain));
  const jobs = renderedExamples.filter(isJob);
  assert.equal(jobs.length, 4, 'two Volcano objects and two LatticeJobs');
  assert.deepEqual(parseAllDocuments(toYamlStream(jobs)).map((d) => d.toJS()), JSON.parse(JSON.stringify(jobs)));
  const roles = renderedExamples.filter(isIamRole);
  assert.deepEqual(parseAllDocuments(toYamlStream(roles)).map((d) => d.toJS()), JSON.parse(JSON.stringify(roles)));
  assert.equal(toJsonList(renderedExamples), oldJsonList(renderedExamples));
});

test('a generated fleet renders to the same bytes as the previous writer', () => {
  const fleet = generateFleet({ ...DEFAULT_SHAPE, services: 60, namespaces: 4 });
  const objects = outputObjects(derivePlatform(fleet.objects.map((object) => ({ object })), { now: '2026-01-01T00:00:00Z' }));
  assert.ok(objects.length > 500);
  const text = toYamlStream(objects);
  assert.equal(text, oldYamlStream(objects));
  assert.equal(toJsonList(objects), oldJsonList(objects));
  // And it reads back as the objects (after JSON normalisation: undefined fields are left out).
  assert.deepEqual(parseAllDocuments(text).map((d) => d.toJS()), JSON.parse(JSON.stringify(objects)));
});

test('streamed output is the whole output in chunks of whole documents', () => {
  const chunks: string[] = [];
  writeYamlStream(renderedExamples, (t) => chunks.push(t));
  assert.equal(chunks.join(''), toYamlStream(renderedExamples));
  for (const c of chunks) assert.ok(c.startsWith('---\n'), 'a chunk starts a document');
  const json: string[] = [];
  writeJsonList(renderedExamples, (t) => json.push(t));
  assert.equal(json.join(''), oldJsonList(renderedExamples));
  const empty: string[] = [];
  writeJsonList([], (t) => empty.push(t));
  assert.equal(empty.join(''), oldJsonList([]));
  const none: string[] = [];
  writeYamlStream([], (t) => none.push(t));
  assert.deepEqual(none, []);
});

test('undefined map values are left out and undefined sequence entries become null, as in JSON', () => {
  const object = { a: undefined, b: [1, undefined, 'x'], c: { d: undefined } };
  assert.equal(toYaml(object), 'b:\n  - 1\n  - null\n  - x\nc: {}\n');
  assert.deepEqual(parse(toYaml(object)), JSON.parse(JSON.stringify(object)));
});
