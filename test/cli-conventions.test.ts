import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Ajv } from 'ajv';
import { buildProgram } from '../src/cli/main.ts';
import { allKindsJsonSchema, kindJsonSchema } from '../src/api/jsonschema.ts';
import { bashCompletion, fishCompletion } from '../src/cli/completion.ts';
import { helmChart, kustomizeBase } from '../src/cli/install-package.ts';
import { installManifests } from '../src/controller/install.ts';
import { toYaml } from '../src/cli/output.ts';
import { editDistance, nearestName } from '../src/api/names.ts';
import { lattice } from './support/cli.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const EXAMPLES = join(ROOT, 'examples');


function docs(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
}

test('render -o name prints kind.group/name per object, as kubectl get -o name does', async () => {
  const yaml = await lattice('render', EXAMPLES);
  const names = await lattice('render', EXAMPLES, '-o', 'name');
  assert.equal(names.code, yaml.code);
  const expected = docs(yaml.stdout).map((o) => {
    const api = String(o.apiVersion);
    const group = api.includes('/') ? `.${api.split('/')[0]}` : '';
    return `${String(o.kind).toLowerCase()}${group}/${(o.metadata as { name: string }).name}`;
  });
  assert.deepEqual(names.stdout.trimEnd().split('\n'), expected);
  assert.ok(names.stdout.includes('deployment.apps/orders\n'));
  assert.ok(names.stdout.includes('serviceaccount/orders\n'), 'core kinds have no group');
});

test('render -o wide prints one table row per object', async () => {
  const r = await lattice('render', EXAMPLES, '-o', 'wide', '--service', 'commerce/orders');
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^NAMESPACE +SERVICE +KIND +NAME +APIVERSION$/);
  assert.ok(lines.slice(1).every((l) => /^commerce +orders +\S+ +\S+ +\S+$/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /Deployment +orders +apps\/v1$/.test(l)));
});

test('render --service and --namespace print only the chosen services; an unknown one is exit 2 with a suggestion', async () => {
  const one = await lattice('render', EXAMPLES, '--service', 'orders');
  const objects = docs(one.stdout);
  assert.ok(objects.length > 0);
  for (const o of objects) {
    const meta = o.metadata as { namespace?: string; name: string; labels?: Record<string, string> };
    assert.equal(meta.namespace, 'commerce');
    assert.ok(meta.labels?.['lattice.dev/service'] === 'orders' || (o.kind === 'LatticeService' && meta.name === 'orders'), `${String(o.kind)} ${meta.name}`);
  }
  assert.equal(one.code, 0, 'orders alone is Ready');
  const ns = await lattice('render', EXAMPLES, '--namespace', 'commerce', '-o', 'name');
  assert.ok(!ns.stdout.includes('clustersecretstore'), 'platform objects are left out under a filter');
  assert.equal(ns.code, 1, 'the commerce namespace holds the two refused services');
  const typo = await lattice('render', EXAMPLES, '--service', 'ordrs');
  assert.equal(typo.code, 2);
  assert.equal(typo.stdout, '');
  assert.match(typo.stderr, /no service matches --service ordrs; did you mean orders\?/);
});

test('render --check prints no objects; -q prints no summary when everything is Ready, and does when something failed', async () => {
  const check = await lattice('render', EXAMPLES, '--check');
  assert.equal(check.stdout, '');
  assert.equal(check.code, 1);
  // The examples hold jobs, models, mesh members and packages too: one row per workload, with its kind.
  assert.match(check.stderr, /^WORKLOAD +KIND +PHASE +RESOURCES +FIRST PROBLEM\ncommerce\/catalog +LatticeService +Ready +7\n/);
  assert.match(check.stderr, /\nanalytics\/nightly-report +LatticeJob +Ready/);
  assert.match(check.stderr, /13 of 15 workloads Ready/);
  const quietOk = await lattice('render', EXAMPLES, '--service', 'orders', '-q');
  assert.equal(quietOk.code, 0);
  assert.equal(quietOk.stderr, '');
  const quietFailed = await lattice('render', EXAMPLES, '-q', '--check');
  assert.match(quietFailed.stderr, /ledger-export +LatticeService +Failed/);
});

test('render - reads standard input, named <stdin> in messages', () => {
  const spec = readFileSync(join(EXAMPLES, 'commerce', 'orders.yaml'), 'utf8').replace('replicas: 2', 'replicas: two');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/lattice.js'), 'render', '-', join(EXAMPLES, 'platform'), '--check'], { input: spec, encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /<stdin>:\d+:\d+ spec\.replicas: must be/);
});

test('an unknown field is reported at its own line with the nearest allowed name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-conv-'));
  const text = readFileSync(join(EXAMPLES, 'commerce', 'orders.yaml'), 'utf8').replace('        variables:\n', '        variabels:\n');
  writeFileSync(join(dir, 'orders.yaml'), text);
  const line = text.split('\n').findIndex((l) => l.includes('variabels:')) + 1;
  const r = await lattice('render', dir, join(EXAMPLES, 'platform'), '-o', 'json');
  const status = (JSON.parse(r.stdout) as { items: { kind: string; status?: { conditions: { type: string; message: string }[] } }[] }).items.find((o) => o.kind === 'LatticeService')!.status!;
  const message = status.conditions.find((c) => c.type === 'Validated')!.message;
  assert.ok(message.includes(`orders.yaml:${line}:9 spec.workload.containers.api.variabels: unknown field "variabels": did you mean "variables"? \`lattice explain latticeservice.spec.workload.containers\` lists the allowed fields`), message);
});

test('nearestName suggests only close names', () => {
  assert.equal(editDistance('variabels', 'variables'), 1);
  assert.equal(nearestName('replcas', ['replicas', 'workload']), 'replicas');
  assert.equal(nearestName('zzz', ['replicas', 'workload']), undefined);
  assert.equal(nearestName('Replicas', ['replicas']), 'replicas');
});

test('lattice schema: every example Lattice document validates against all.json; a typo or wrong type does not', async () => {
  const r = await lattice('schema');
  assert.equal(r.code, 0);
  const schema = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(schema, JSON.parse(JSON.stringify(allKindsJsonSchema())));
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  let lattices = 0;
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []));
  for (const file of walk(EXAMPLES)) {
    for (const doc of docs(readFileSync(file, 'utf8'))) {
      if (doc.apiVersion === 'lattice.dev/v1alpha1') lattices++;
      assert.ok(validate(doc), `${file} ${String(doc.kind)}: ${ajv.errorsText(validate.errors)}`);
    }
  }
  assert.ok(lattices >= 10, `validated ${lattices} Lattice documents`);
  const orders = docs(readFileSync(join(EXAMPLES, 'commerce', 'orders.yaml'), 'utf8'))[0]!;
  const typo = structuredClone(orders) as { spec: Record<string, unknown> };
  typo.spec.replcas = 2;
  assert.equal(validate(typo), false);
  const wrongType = structuredClone(orders) as { spec: Record<string, unknown> };
  wrongType.spec.replicas = 'two';
  assert.equal(validate(wrongType), false);
  assert.equal((kindJsonSchema('ls') as { title: string }).title, 'LatticeService');
  const unknown = await lattice('schema', 'nope');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown kind "nope"\. Known kinds: latticeservice/);
});

test('lattice completion: bash completes commands, flags and choices; fish names every command', () => {
  const program = buildProgram(() => undefined);
  const script = join(mkdtempSync(join(tmpdir(), 'lattice-comp-')), 'lattice.bash');
  writeFileSync(script, bashCompletion(program));
  const complete = (...words: string[]): string => {
    const r = spawnSync('bash', ['-c', `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _lattice; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(complete('lattice', 'ren'), 'render');
  assert.equal(complete('lattice', 'render', '-o', ''), 'yaml json name wide');
  assert.equal(complete('lattice', 'authz', 'v'), 'validate');
  assert.match(complete('lattice', 'diff', '--c'), /--cluster/);
  const fish = fishCompletion(program);
  for (const cmd of ['render', 'diff', 'graph', 'schema', 'completion']) assert.match(fish, new RegExp(`-n '__fish_use_subcommand' -a '${cmd}'`));
});

test('render --out-dir writes a kustomization in apply order and removes only the files it wrote before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-out-'));
  const input = mkdtempSync(join(tmpdir(), 'lattice-in-'));
  spawnSync('cp', ['-r', EXAMPLES, input]);
  const examples = join(input, 'examples');
  const stdout = await lattice('render', examples);
  await lattice('render', examples, '--out-dir', dir);
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { sortOptions: { order: string }; resources: string[] };
  assert.equal(kustomization.sortOptions.order, 'fifo');
  const fromFiles = kustomization.resources.map((f) => parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
  // Everything but the input workloads (LatticeService, LatticeJob...) echoed with their status.
  const derived = docs(stdout.stdout).filter((o) => !String(o.apiVersion).startsWith('lattice.dev/'));
  assert.deepEqual(fromFiles, derived, 'the kustomization lists exactly the derived objects, in render (apply) order');
  writeFileSync(join(dir, 'commerce', 'mine.txt'), 'not lattice\'s');
  rmSync(join(examples, 'commerce', 'search.yaml'));
  await lattice('render', examples, '--out-dir', dir);
  assert.equal(existsSync(join(dir, 'commerce', 'search')), false, 'the removed service\'s folder is gone');
  assert.equal(existsSync(join(dir, 'commerce', 'orders', 'deployment-orders.yaml')), true);
  assert.equal(readFileSync(join(dir, 'commerce', 'mine.txt'), 'utf8'), 'not lattice\'s', 'files Lattice did not write are kept');
  const after = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  assert.ok(after.resources.every((f) => existsSync(join(dir, f))));
  assert.ok(!after.resources.some((f) => f.startsWith('commerce/search/')));
  const kubectl = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (kubectl.status === 0) {
    const built = docs(kubectl.stdout).map((o) => `${String(o.kind)}/${(o.metadata as { name: string }).name}`);
    assert.deepEqual(built, after.resources.map((f) => parse(readFileSync(join(dir, f), 'utf8')) as { kind: string; metadata: { name: string } }).map((o) => `${o.kind}/${o.metadata.name}`), 'kustomize keeps the apply order');
  }
});

test('install --format helm: the chart, with its values substituted, is exactly lattice install', () => {
  const settings = { image: 'registry.example.com/lattice@sha256:' + 'b'.repeat(64), replicas: 3, extraArgs: ['--log-level=debug', 'x y'], version: '0.1.0' };
  const chart = helmChart(settings);
  const values = parse(chart.get('values.yaml')!) as { image: string; replicas: number; extraArgs: string[] };
  assert.deepEqual(values, { image: settings.image, replicas: 3, extraArgs: settings.extraArgs });
  assert.equal((parse(chart.get('Chart.yaml')!) as { apiVersion: string }).apiVersion, 'v2');
  // Evaluate the only three template constructs the chart uses, as Helm would with these values.
  const renderTemplate = (text: string): string => text
    .replaceAll('{{ .Values.image }}', values.image)
    .replaceAll('{{ .Values.replicas }}', String(values.replicas))
    .replace(/^( *)\{\{- range \.Values\.extraArgs \}\}\n *- \{\{ \. \| quote \}\}\n *\{\{- end \}\}\n/m, (_m, indent: string) => values.extraArgs.map((a) => `${indent}- ${JSON.stringify(a)}\n`).join(''));
  const templates = [...chart.keys()].filter((k) => k.startsWith('templates/')).sort();
  const crds = [...chart.keys()].filter((k) => k.startsWith('crds/'));
  for (const t of templates) assert.doesNotMatch(renderTemplate(chart.get(t)!), /\{\{|helm-value/, t);
  const rendered = templates.map((t) => parse(renderTemplate(chart.get(t)!)) as Record<string, unknown>);
  const expected = installManifests(settings);
  assert.deepEqual(rendered, expected.filter((o) => o.kind !== 'CustomResourceDefinition'));
  assert.deepEqual(crds.map((c) => parse(chart.get(c)!) as Record<string, unknown>).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    expected.filter((o) => o.kind === 'CustomResourceDefinition').sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
});

test('install --format kustomize: one file per object and a kustomization in apply order', () => {
  const settings = { image: 'lattice-controller:0.1.0', replicas: 2, extraArgs: [], version: '0.1.0' };
  const base = kustomizeBase(settings);
  const k = parse(base.get('kustomization.yaml')!) as { resources: string[]; sortOptions: { order: string } };
  assert.equal(k.sortOptions.order, 'fifo');
  assert.deepEqual(k.resources.map((f) => base.get(f)), installManifests(settings).map((o) => toYaml(o)));
  const dir = mkdtempSync(join(tmpdir(), 'lattice-kbase-'));
  for (const [f, text] of base) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  const kubectl = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (kubectl.status === 0) assert.equal(docs(kubectl.stdout).length, installManifests(settings).length);
});
