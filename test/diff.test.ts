import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffDerived, normalizeForDiff, permissionsOf, trafficOf } from '../src/compiler/diff.ts';
import { outputObjects } from '../src/cli/render.ts';
import { clusterSide } from '../src/cli/diff-cluster.ts';
import { parseRevisions } from '../src/cli/diff.ts';
import { run } from '../src/cli/main.ts';
import { LatticeObjectApi } from '../src/controller/kube.ts';
import type { KubeObject } from '../src/compiler/types.ts';
import { deriveObjects, provider, service } from './support/fixtures.ts';
import { FakeApiServer } from './fakeapi/server.ts';

const ROOT = new URL('..', import.meta.url).pathname;

async function lattice(cwd: string | undefined, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const before = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const code = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  } finally {
    process.chdir(before);
  }
}

function objectsOf(docs: unknown[]): KubeObject[] {
  return outputObjects(deriveObjects(docs)) as KubeObject[];
}

const api = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  service('api', { workload: { service: { ports: { http: { port: 8080 } } }, resources: { web: { type: 'service', direction: 'inbound' } } }, ...extra });
const web = (resources: Record<string, unknown>): Record<string, unknown> =>
  service('web', { workload: { service: { ports: { http: { port: 8080 } } }, resources } });

test('diff: identical inputs have no changes, whatever the render time', () => {
  const a = objectsOf([api(), web({})]);
  const b = objectsOf([api(), web({})]);
  for (const o of b) {
    for (const c of ((o.status as { conditions?: { lastTransitionTime?: string }[] } | undefined)?.conditions ?? [])) c.lastTransitionTime = '2030-01-01T00:00:00Z';
  }
  const d = diffDerived(a, b);
  assert.deepEqual(d.changes, []);
  assert.deepEqual(d.summary, { added: 0, changed: 0, removed: 0, owners: [] });
});

test('diff: a spec change shows the exact fields of each derived object, grouped by service', () => {
  const d = diffDerived(objectsOf([api({ replicas: 2 }), web({})]), objectsOf([api({ replicas: 3 }), web({})]));
  const deployment = d.changes.find((c) => c.kind === 'Deployment');
  assert.deepEqual(deployment, {
    owner: 'shop/api', apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'api', change: 'changed',
    fields: [{ path: 'spec.replicas', type: 'changed', before: 2, after: 3 }],
  });
  const pdb = d.changes.find((c) => c.kind === 'PodDisruptionBudget');
  assert.deepEqual(pdb?.fields, [{ path: 'spec.minAvailable', type: 'changed', before: 1, after: 2 }]);
  assert.ok(d.changes.every((c) => c.owner === 'shop/api'), 'web is unchanged');
  assert.deepEqual(d.trafficOpened, []);
  assert.deepEqual(d.trafficClosed, []);
});

test('diff: agreeing an edge opens exactly that traffic, withdrawing it closes it', () => {
  const oneSided = objectsOf([api(), web({})]);
  const agreed = objectsOf([api(), web({ api: { type: 'service', direction: 'outbound' } })]);
  const opened = diffDerived(oneSided, agreed);
  assert.ok(opened.trafficOpened.includes('shop/web -> shop/api:8080'), opened.trafficOpened.join('\n'));
  assert.deepEqual(opened.trafficOpened.filter((f) => !f.includes('vmagent')), ['shop/web -> shop/api:8080']);
  assert.deepEqual(opened.trafficClosed, []);
  const closed = diffDerived(agreed, oneSided);
  assert.deepEqual(closed.trafficClosed.filter((f) => !f.includes('vmagent')), ['shop/web -> shop/api:8080']);
  assert.deepEqual(closed.trafficOpened, []);
  assert.ok(opened.changes.some((c) => c.kind === 'AuthorizationPolicy' && c.owner === 'shop/api'));
  assert.ok(opened.changes.some((c) => c.kind === 'CiliumNetworkPolicy' && c.owner === 'shop/web'));
});

test('diff: a new secret and a removed service are reported as permissions and removed objects', () => {
  const withSecret = service('api', { workload: {
    service: { ports: { http: { port: 8080 } } },
    resources: { web: { type: 'service', direction: 'inbound' }, db: { type: 'secret', params: { keys: ['password'] } } },
    containers: { main: { image: (service('x') as { spec: { workload: { containers: { main: { image: string } } } } }).spec.workload.containers.main.image, resources: { limits: { cpu: '500m', memory: '256Mi' } }, variables: { DB: '${resources.db.password}' } } },
  } });
  const before = objectsOf([provider(), api(), web({})]);
  const after = objectsOf([provider(), withSecret]);
  const d = diffDerived(before, after);
  assert.ok(d.permissionsGranted.includes('shop/api: reads secret shop/db') || d.permissionsGranted.some((p) => p.startsWith('shop/api: reads secret')), d.permissionsGranted.join('\n'));
  const removedWeb = d.changes.filter((c) => c.owner === 'shop/web');
  assert.ok(removedWeb.length > 0 && removedWeb.every((c) => c.change === 'removed'));
  assert.ok(d.changes.some((c) => c.kind === 'ExternalSecret' && c.change === 'added'));
  assert.deepEqual(d.phaseChanges, ['shop/web: Ready -> (removed)']);
});

test('diff: security relaxations show as permissions from the derived pod spec', () => {
  const dep = (sc: Record<string, unknown>, hostNetwork = false): KubeObject => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'n', labels: { 'lattice.dev/service': 'x' } },
    spec: { template: { spec: { hostNetwork, containers: [{ name: 'main', securityContext: sc }] } } },
  });
  assert.deepEqual([...permissionsOf([dep({ capabilities: { add: ['NET_ADMIN'] }, runAsNonRoot: false }, true)])].sort(), [
    'n/x: capability NET_ADMIN (container main)', 'n/x: host network', 'n/x: runs as root (container main)',
  ]);
  assert.deepEqual([...permissionsOf([dep({ runAsNonRoot: true, readOnlyRootFilesystem: true })])], []);
});

test('diff: traffic is read from AuthorizationPolicy rules and Cilium FQDN egress', () => {
  const flows = trafficOf([
    { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'a', namespace: 'n' },
      spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'a' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/m/sa/b'] } }], to: [{ operation: { ports: ['80', '81'] } }] }] } },
    { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny', namespace: 'n' }, spec: { action: 'DENY', rules: [{}] } },
    { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'a', namespace: 'n' },
      spec: { endpointSelector: { matchLabels: { 'k8s:app.kubernetes.io/name': 'a' } }, egress: [{ toFQDNs: [{ matchName: 'api.stripe.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }] } },
  ]);
  assert.deepEqual([...flows].sort(), ['m/b -> n/a:80', 'm/b -> n/a:81', 'n/a -> api.stripe.com:443/TCP']);
});

test('diff: normalization drops server metadata and condition timestamps only', () => {
  const o = normalizeForDiff({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'c', namespace: 'n', uid: 'u', resourceVersion: '9', managedFields: [], annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' }, labels: { a: 'b' } },
    data: { k: 'v' },
  });
  assert.deepEqual(o, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n', labels: { a: 'b' } }, data: { k: 'v' } });
});

test('parseRevisions reads git ranges as git does', () => {
  assert.deepEqual(parseRevisions('main..HEAD'), ['main', 'HEAD']);
  assert.deepEqual(parseRevisions('main..'), ['main', 'HEAD']);
  assert.deepEqual(parseRevisions('main'), ['main', undefined]);
});

function copyExamples(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-diff-test-'));
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  return dir;
}

test('lattice diff A B: exit 0 and no differences for copies of one tree at different places', async () => {
  const a = copyExamples();
  const b = copyExamples();
  const r = await lattice(undefined, 'diff', join(a, 'examples'), join(b, 'examples'));
  assert.equal(r.stdout, 'No differences in derived objects.\n');
  assert.equal(r.code, 0);
});

test('lattice diff A B: a replica change is shown by service and kind, exit 1, and -o json carries the same', async () => {
  const a = copyExamples();
  const b = copyExamples();
  const file = join(b, 'examples', 'commerce', 'orders.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('replicas: 2', 'replicas: 4'));
  const r = await lattice(undefined, 'diff', join(a, 'examples'), join(b, 'examples'));
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^commerce\/orders\n {2}~ Deployment commerce\/orders \(changed\)\n {6}~ spec\.replicas: 2 -> 4\n/m);
  assert.match(r.stdout, /~ PodDisruptionBudget commerce\/orders \(changed\)\n {6}~ spec\.minAvailable: 1 -> 3/);
  assert.match(r.stdout, /\d+ added, \d+ changed, \d+ removed objects in \d+ owners; traffic: 0 opened, 0 closed; permissions: 0 granted, 0 revoked\.\n$/);
  const j = await lattice(undefined, 'diff', '-o', 'json', join(a, 'examples'), join(b, 'examples'));
  const parsed = JSON.parse(j.stdout) as { changes: { kind: string; owner: string; fields: { path: string; after: unknown }[] }[] };
  const dep = parsed.changes.find((c) => c.kind === 'Deployment' && c.owner === 'commerce/orders');
  assert.deepEqual(dep?.fields.map((f) => [f.path, f.after]), [['spec.replicas', 4]]);
});

test('lattice diff: wrong invocations exit 2 with a message saying what to pass', async () => {
  const r = await lattice(undefined, 'diff', join(ROOT, 'examples'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /takes exactly two paths \(got 1\); use --git REV or --cluster/);
  const none = await lattice(undefined, 'diff', '/nonexistent/a', '/nonexistent/b');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /neither \/nonexistent\/a nor \/nonexistent\/b exists/);
});

test('lattice diff --git: compares revisions and a revision with the working tree', async () => {
  const repo = copyExamples();
  const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '.');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'base');
  const file = join(repo, 'examples', 'commerce', 'orders.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('replicas: 2', 'replicas: 5'));
  const worktree = await lattice(repo, 'diff', '--git', 'main', 'examples');
  assert.equal(worktree.code, 1, worktree.stderr);
  assert.match(worktree.stdout, /~ spec\.replicas: 2 -> 5/);
  assert.doesNotMatch(worktree.stdout, /lattice-diff-/, 'temporary checkout paths never show');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-am', 'scale');
  const range = await lattice(repo, 'diff', '--git', 'main~1..main', 'examples');
  assert.equal(range.code, 1);
  assert.match(range.stdout, /~ spec\.replicas: 2 -> 5/);
  const same = await lattice(repo, 'diff', '--git', 'main..', 'examples');
  assert.equal(same.code, 0);
  const bad = await lattice(repo, 'diff', '--git', 'nope..main', 'examples');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown git revision "nope"/);
  // A folder that did not exist at the old revision: everything under it is added.
  mkdirSync(join(repo, 'extra'));
  cpSync(join(repo, 'examples'), join(repo, 'extra', 'examples'), { recursive: true });
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '.');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'extra');
  const added = await lattice(repo, 'diff', '--git', 'main~1..main', 'extra');
  assert.equal(added.code, 1);
  assert.match(added.stdout, /0 changed, 0 removed/);
});

test('lattice diff --cluster: live objects against a server-side dry-run; pruned objects show as removed; nothing is written', async () => {
  const server = new FakeApiServer();
  await server.start();
  try {
    const local = objectsOf([api({ replicas: 2 }), web({})]);
    for (const ns of new Set(local.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])))) server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const client = LatticeObjectApi.make(server.kubeConfig('diff'));
    const derived = local.filter((o) => o.kind !== 'LatticeService');
    // The cluster holds the render with 3 replicas for api, and a ConfigMap api no longer derives.
    for (const o of objectsOf([api({ replicas: 3 }), web({})]).filter((x) => x.kind !== 'LatticeService')) await client.apply(o as never);
    await client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'api-old', namespace: 'shop', labels: { 'lattice.dev/service': 'api', 'app.kubernetes.io/managed-by': 'lattice' } }, data: { a: 'b' } } as never);
    const stored = JSON.stringify(server.list('apps/v1', 'Deployment', 'shop'));
    const writesBefore = server.requests.filter((r) => r.method !== 'GET').length;
    const [live, next] = await clusterSide({ objects: local, inputErrors: false }, { api: client });
    assert.equal(server.requests.filter((r) => r.method !== 'GET' && r.query.dryRun !== 'All').length, writesBefore, 'only dry-run writes');
    assert.equal(JSON.stringify(server.list('apps/v1', 'Deployment', 'shop')), stored, 'the cluster is unchanged');
    const d = diffDerived(live.objects, next.objects);
    const dep = d.changes.find((c) => c.kind === 'Deployment');
    assert.deepEqual(dep?.fields.filter((f) => !f.path.startsWith('metadata.')), [{ path: 'spec.replicas', type: 'changed', before: 3, after: 2 }]);
    assert.deepEqual(d.changes.filter((c) => c.change === 'removed').map((c) => `${c.kind}/${c.name}`), ['ConfigMap/api-old']);
    assert.equal(d.changes.filter((c) => c.change === 'added').length, 0);
    assert.equal(derived.length, next.objects.length);
  } finally {
    await server.stop();
  }
});
