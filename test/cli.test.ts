import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { lattice, PERMIT_ALL_YAML as PERMIT_ALL } from './support/cli.ts';

const ROOT = new URL('..', import.meta.url).pathname;



function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-cli-'));
  files = { 'policies.yaml': PERMIT_ALL, ...files };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const GOOD = `apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: web, namespace: shop}
spec:
  workload:
    containers:
      main:
        image: registry.example.com/web@sha256:${'c'.repeat(64)}
        resources: {limits: {cpu: 250m, memory: 128Mi}}
    service:
      ports: {http: {port: 8080}}
`;

/** The documents of the output that belong to service web (derived for it, or the service itself). */
function ofWeb(docs: { kind: string; metadata: { name: string; labels?: Record<string, string> } }[]): string[] {
  return docs.filter((d) => d.metadata.labels?.['lattice.dev/service'] === 'web' || d.kind === 'LatticeService').map((d) => `${d.kind}/${d.metadata.name}`);
}

test('render prints derived objects then the services with status, and exits 0 when all are Ready', async () => {
  const dir = tmp({ 'web.yaml': GOOD, 'other.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' });
  const r = await lattice('render', dir);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  assert.deepEqual(ofWeb(docs), [
    'ServiceAccount/web', 'Deployment/web', 'Service/web', 'VMServiceScrape/web', 'CiliumNetworkPolicy/web', 'AuthorizationPolicy/web', 'LatticeService/web',
  ]);
  assert.equal(docs.at(-1).kind, 'LatticeService', 'services come back after every derived object');
  assert.equal(docs.at(-1).status.phase, 'Ready');
  assert.match(r.stderr, /^SERVICE\s+PHASE\s+RESOURCES\s+FIRST PROBLEM\nshop\/web\s+Ready\s+6\n/);
  assert.match(r.stderr, /Ignored \(kinds Lattice does not handle\): v1 ConfigMap ×1\./);
});

test('render -o json prints one Kubernetes List with the same objects', async () => {
  const dir = tmp({ 'web.yaml': GOOD });
  // Both renders stamp the same condition times, even when the clock crosses a second between them.
  const saved = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = '1767225600';
  let yaml: Awaited<ReturnType<typeof lattice>>;
  let r: Awaited<ReturnType<typeof lattice>>;
  try {
    yaml = await lattice('render', dir);
    r = await lattice('render', '-o', 'json', dir);
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
  assert.equal(r.code, 0);
  const list = JSON.parse(r.stdout);
  assert.equal(list.apiVersion, 'v1');
  assert.equal(list.kind, 'List');
  assert.deepEqual(list.items, parseAllDocuments(yaml.stdout).map((d) => d.toJS()));
});

test('render --out-dir writes one file per object under <namespace>/<service>/', async () => {
  const out = mkdtempSync(join(tmpdir(), 'lattice-out-'));
  const r = await lattice('render', '--out-dir', out, tmp({ 'web.yaml': GOOD }));
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.deepEqual(readdirSync(join(out, 'shop', 'web')).sort(), [
    'authorizationpolicy-web.yaml', 'ciliumnetworkpolicy-web.yaml', 'deployment-web.yaml', 'latticeservice-web.yaml', 'service-web.yaml', 'serviceaccount-web.yaml', 'vmservicescrape-web.yaml',
  ]);
  assert.ok(readdirSync(join(out, '_cluster')).length > 0, 'platform-level objects go under _cluster/');
  assert.match(readFileSync(join(out, 'shop', 'web', 'deployment-web.yaml'), 'utf8'), /^apiVersion: apps\/v1\nkind: Deployment\n/);
});

test('render exits 1 when a service fails, naming the file, line and field in the summary', async () => {
  const bad = GOOD.replace('cpu: 250m', 'cpu: lots');
  const dir = tmp({ 'web.yaml': bad });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`shop/web\\s+Failed\\s+0\\s+${join(dir, 'web.yaml').replace(/[/.]/g, '\\$&')}:9:30 spec\\.workload\\.containers\\.main\\.resources\\.limits\\.cpu: is not a Kubernetes quantity`));
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  assert.deepEqual(ofWeb(docs), ['LatticeService/web'], 'a failed service derives nothing but comes back with its status');
  assert.equal(docs.at(-1).status.phase, 'Failed');
});

test('malformed YAML never crashes render: file, line and column, exit 2', async () => {
  const dir = tmp({ 'a.yaml': GOOD, 'b.yaml': 'apiVersion: v1\nkind: [unclosed\n' });
  const r = await lattice('render', dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`error: ${join(dir, 'b.yaml').replace(/[/.]/g, '\\$&')}:\\d+:\\d+: `));
  assert.match(r.stdout, /kind: Deployment/, 'the readable files are still rendered');
  const missing = await lattice('render', join(dir, 'nope'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or folder/);
});

test('bad invocations exit 2 with usage help', async () => {
  const r = await lattice('render');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing required argument 'path'/);
  const u = await lattice('frobnicate');
  assert.equal(u.code, 2);
  const o = await lattice('render', '-o', 'xml', '.');
  assert.equal(o.code, 2);
  assert.match(o.stderr, /Allowed choices are yaml, json/);
});

test('crds prints one CustomResourceDefinition per kind', async () => {
  const r = await lattice('crds');
  assert.equal(r.code, 0);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  const ls = docs.find((d) => d.metadata.name === 'latticeservices.lattice.dev');
  assert.ok(ls);
  assert.deepEqual(ls.spec.names.shortNames, ['ls']);
  assert.deepEqual(ls.spec.versions[0].subresources, { status: {} });
  assert.deepEqual(ls.spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name), ['Phase', 'Replicas', 'Resources', 'Age']);
});

test('explain prints the field docs; an unknown field lists the valid ones', async () => {
  const r = await lattice('explain', 'latticeservice.spec');
  assert.equal(r.code, 0);
  assert.ok(r.stdout.startsWith('KIND:     LatticeService\nVERSION:  lattice.dev/v1beta1\n\nFIELD: spec <Object> -required-\n'), r.stdout);
  assert.ok(r.stdout.includes('\n  replicas\t<integer>\n    Number of pods; the minimum when autoscaling is set. Default 1.\n'), r.stdout);
  const c = await lattice('explain', 'ls.spec.workload.containers.resources.limits.memory');
  assert.match(c.stdout, /FIELD: memory <IntOrString>/);
  const bad = await lattice('explain', 'latticeservice.spec.replica');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /field "replica" does not exist in latticeservice\.spec\. Its fields: replicas, /);
});

test('the installed executable runs: npx lattice render examples/ (the examples include services denied on purpose: exit 1)', () => {
  // LATTICE_FROM_SOURCE: the sources under test, not a bundle built earlier (test/bundle.test.ts tests the bundle).
  const env = { ...process.env, SOURCE_DATE_EPOCH: '1767225600', LATTICE_FROM_SOURCE: '1' };
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/lattice.js'), 'render', join(ROOT, 'examples')], { encoding: 'utf8', env });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /commerce\/payments\s+LatticeService\s+Ready/);
  assert.match(r.stderr, /commerce\/ledger-export\s+LatticeService\s+Failed\s+0\s+\S+ledger-export\.yaml:\d+:\d+ spec\.workload\.resources\.stripe: AccessSecret denied for secret payments\/api-key\./);
  assert.match(r.stdout, /kind: PodDisruptionBudget/);
  const version = execFileSync(process.execPath, [join(ROOT, 'bin/lattice.js'), '--version'], { encoding: 'utf8', env });
  assert.equal(version.trim(), '0.1.0');
});
