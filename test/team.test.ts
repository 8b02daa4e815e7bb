/**
 * The namespace factory (src/compiler/platform/team.ts): LatticeTeam -> Namespace, ResourceQuota, LimitRange,
 * RoleBinding per namespace, and the developer ClusterRole; checked field by field, against the
 * kubernetes-models schemas, and by trying to break its guarantees (platform namespaces, two teams on
 * one namespace, a Namespace object lying about its team, a team outside lattice-system).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/main.ts';
import { parseAllDocuments } from 'yaml';
import { deriveObjects, deriveYaml, resultOf, conditionOf, IMAGE } from './support/fixtures.ts';
import { assertValid, validateAgainstCrd } from './support/schemas.ts';
import { allCrds } from '../src/api/crd.ts';
import { DEVELOPER_ROLE, POD_SECURITY_VERSION, developerRules } from '../src/compiler/platform/team.ts';
import type { KubeObject } from '../src/compiler/types.ts';
import type { PlatformResult } from '../src/compiler/platform/snapshot.ts';

function team(name: string, spec: Record<string, unknown>, namespace = 'lattice-system'): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeTeam', metadata: { name, namespace }, spec };
}

const COMMERCE = team('commerce', {
  owner: 'commerce team (#commerce)',
  group: 'commerce-developers',
  costCenter: 'cc-4100',
  namespaces: {
    shop: { environment: 'production' },
    'shop-staging': { environment: 'staging', costCenter: 'cc-4190', quota: { cpu: 2, pods: 10 }, podSecurity: 'baseline' },
  },
  quota: { cpu: 20, memory: '40Gi', pods: 60, gpu: 2 },
  alerts: { receiver: 'commerce-oncall', channel: '#commerce-alerts', escalation: 'https://runbooks.example.com/commerce' },
});

function find(result: PlatformResult, kind: string, name: string, namespace?: string): KubeObject {
  const o = result.teamObjects.find((x) => x.kind === kind && x.metadata.name === name && x.metadata.namespace === namespace);
  if (!o) throw new Error(`no ${kind} ${namespace ?? ''}/${name}; have ${result.teamObjects.map((x) => `${x.kind} ${x.metadata.namespace ?? ''}/${x.metadata.name}`).join(', ')}`);
  return o;
}

test('a team derives, per namespace, the Namespace with the standard labels and annotations', () => {
  const result = deriveObjects([COMMERCE]);
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.teams.map((t) => [t.name, t.namespaces]), [['commerce', ['shop', 'shop-staging']]]);
  const shop = find(result, 'Namespace', 'shop');
  assert.deepEqual(shop.metadata.labels, {
    'app.kubernetes.io/managed-by': 'lattice',
    'app.kubernetes.io/part-of': 'lattice',
    'lattice.dev/team': 'commerce',
    'lattice.dev/environment': 'production',
    'lattice.dev/cost-center': 'cc-4100',
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': POD_SECURITY_VERSION,
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': 'latest',
    'istio.io/dataplane-mode': 'ambient',
  });
  assert.deepEqual(shop.metadata.annotations, {
    'lattice.dev/owner': 'commerce team (#commerce)',
    'lattice.dev/alert-receiver': 'commerce-oncall',
    'lattice.dev/alert-channel': '#commerce-alerts',
    'lattice.dev/alert-escalation': 'https://runbooks.example.com/commerce',
  });
  const staging = find(result, 'Namespace', 'shop-staging');
  assert.equal(staging.metadata.labels!['lattice.dev/cost-center'], 'cc-4190');
  assert.equal(staging.metadata.labels!['lattice.dev/environment'], 'staging');
  assert.equal(staging.metadata.labels!['pod-security.kubernetes.io/enforce'], 'baseline');
  for (const o of result.teamObjects) assertValid(o);
});

test('the quota becomes a ResourceQuota (no limits.cpu) and a LimitRange; a namespace may override it', () => {
  const result = deriveObjects([COMMERCE]);
  assert.deepEqual(find(result, 'ResourceQuota', 'lattice-team', 'shop').spec, {
    hard: { 'requests.cpu': '20', 'requests.memory': '40Gi', 'limits.memory': '40Gi', pods: '60', 'requests.nvidia.com/gpu': '2' },
  });
  assert.deepEqual(find(result, 'ResourceQuota', 'lattice-team', 'shop-staging').spec, { hard: { 'requests.cpu': '2', pods: '10' } });
  assert.deepEqual(find(result, 'LimitRange', 'lattice-defaults', 'shop').spec, {
    limits: [{ type: 'Container', default: { memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' }, max: { memory: '40Gi' } }],
  });
  // No memory in the staging quota: no per-container maximum either.
  assert.deepEqual(find(result, 'LimitRange', 'lattice-defaults', 'shop-staging').spec, {
    limits: [{ type: 'Container', default: { memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }],
  });
  assert.equal(find(result, 'ResourceQuota', 'lattice-team', 'shop').metadata.labels!['lattice.dev/team'], 'commerce');
});

test('the group is bound in each namespace to the developer ClusterRole, derived once', () => {
  const other = team('search', { owner: 'search team', group: 'search-devs', namespaces: { search: { environment: 'production' } }, quota: { pods: 5 } });
  const result = deriveObjects([COMMERCE, other]);
  const binding = find(result, 'RoleBinding', DEVELOPER_ROLE, 'shop');
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: DEVELOPER_ROLE });
  assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'commerce-developers' }]);
  assert.deepEqual(find(result, 'RoleBinding', DEVELOPER_ROLE, 'search').subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'search-devs' }]);
  assert.equal(result.teamObjects.filter((o) => o.kind === 'ClusterRole').length, 1);
  assert.equal(result.teamObjects[0]!.kind, 'ClusterRole', 'the ClusterRole comes before the bindings that name it');
  assert.deepEqual(deriveObjects([]).teamObjects, [], 'no team, no ClusterRole');
});

test('least privilege: developers write LatticeServices only, and read no Secret, exec into no pod', () => {
  const role = find(deriveObjects([COMMERCE]), 'ClusterRole', DEVELOPER_ROLE);
  const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  assert.deepEqual(rules, developerRules());
  const writes = ['create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate'];
  for (const r of rules) {
    assert.ok(!r.verbs.includes('*') && !r.resources.includes('*') && !r.apiGroups.includes('*'), `wildcard in ${JSON.stringify(r)}`);
    for (const res of r.resources) {
      assert.ok(!['secrets', 'pods/exec', 'pods/attach', 'pods/portforward', 'serviceaccounts/token', 'roles', 'rolebindings'].includes(res), `grants ${res}`);
    }
    if (r.verbs.some((v) => writes.includes(v))) assert.deepEqual([r.apiGroups, r.resources], [['lattice.dev'], ['latticeservices']], `writes ${r.resources.join(',')}`);
  }
});

test('a platform namespace cannot be claimed: it is outside the default deny', () => {
  const platform = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { gateways: { public: { name: 'public', namespace: 'gateways', clusterIssuer: 'le' } } } };
  for (const ns of ['kube-system', 'lattice-system', 'istio-system', 'gateways']) {
    const t = team('sneaky', { owner: 'x', group: 'g', namespaces: { [ns]: { environment: 'production' }, mine: { environment: 'production' } }, quota: { pods: 1 } });
    const result = deriveObjects([platform, t]);
    assert.deepEqual(result.teams[0]!.namespaces, ['mine'], ns);
    assert.ok(!result.teamObjects.some((o) => o.metadata.name === ns || o.metadata.namespace === ns), `${ns} derived`);
    const problem = result.problems.find((p) => p.kind === 'LatticeTeam');
    assert.equal(problem?.diagnostics[0]?.reason, 'PlatformNamespace', ns);
    assert.equal(problem?.diagnostics[0]?.path, `spec.namespaces.${ns}`);
  }
});

test('two teams listing one namespace: derived for neither, both told', () => {
  const a = team('alpha', { owner: 'a', group: 'ga', namespaces: { shared: { environment: 'production' }, a: { environment: 'production' } }, quota: { pods: 1 } });
  const b = team('beta', { owner: 'b', group: 'gb', namespaces: { shared: { environment: 'staging' } }, quota: { pods: 1 } });
  const result = deriveObjects([a, b]);
  assert.ok(!result.teamObjects.some((o) => o.metadata.name === 'shared' || o.metadata.namespace === 'shared'));
  assert.deepEqual(result.teams.map((t) => t.namespaces), [['a'], []]);
  const reasons = result.problems.filter((p) => p.kind === 'LatticeTeam').map((p) => [p.name, p.diagnostics[0]!.reason, /also listed by LatticeTeam (alpha|beta)/.test(p.diagnostics[0]!.message)]);
  assert.deepEqual(reasons, [['alpha', 'NamespaceClaimed', true], ['beta', 'NamespaceClaimed', true]]);
});

test('an invalid team derives nothing and is reported with its position; a team outside lattice-system is refused', () => {
  const result = deriveYaml(`apiVersion: lattice.dev/v1alpha1
kind: LatticeTeam
metadata: {name: broken, namespace: lattice-system}
spec:
  group: g
  namespaces: {ok: {environment: production}}
  quota: {}
`, 'teams.yaml');
  const p = result.problems.find((x) => x.kind === 'LatticeTeam')!;
  assert.deepEqual(p.diagnostics.map((d) => d.path).sort(), ['spec.owner', 'spec.quota']);
  assert.ok(p.diagnostics.every((d) => d.location?.file === 'teams.yaml' && d.location.line > 0));
  assert.deepEqual(result.teamObjects, []);
  const outside = deriveObjects([team('commerce', (COMMERCE as { spec: Record<string, unknown> }).spec, 'commerce')]);
  assert.match(outside.problems[0]!.diagnostics[0]!.message, /platform resource, read only in namespace lattice-system/);
  assert.deepEqual(outside.teamObjects, []);
});

test('the team decides the team Cedar and quotas see, over labels written on the Namespace object', () => {
  const svc = (name: string, namespace: string): Record<string, unknown> => ({
    apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name, namespace },
    spec: { workload: { containers: { main: { image: IMAGE, resources: { profile: 'small' } } } } },
  });
  const onlyCommerce = {
    apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name: 'commerce-only', namespace: 'lattice-system' },
    spec: { policies: 'permit (principal, action, resource) when { principal has team && principal.team == "commerce" } unless { action == Lattice::Action::"SkipImageVerification" };' },
  };
  const rogue = team('rogue', { owner: 'r', group: 'gr', namespaces: { rogue: { environment: 'production' } }, quota: { pods: 5 } });
  // The rogue namespace's own object claims team commerce; its LatticeTeam says rogue, and wins.
  const lying = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rogue', labels: { 'lattice.dev/team': 'commerce' } } };
  const quota = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeQuota', metadata: { name: 'commerce', namespace: 'lattice-system' }, spec: { selector: { namespaceLabels: { 'lattice.dev/team': 'commerce' } }, hard: { pods: 1 } } };
  const result = deriveObjects([onlyCommerce, COMMERCE, rogue, lying, quota, svc('web', 'shop-staging'), svc('thief', 'rogue')]);
  assert.equal(resultOf(result, 'shop-staging/web').status.phase, 'Ready');
  assert.equal(conditionOf(resultOf(result, 'rogue/thief'), 'PolicyAuthorized').status, 'False');
  assert.equal(result.fleet!.ctx.namespaces.rogue!.labels!['lattice.dev/team'], 'rogue');
  const usage = result.quotas.find((q) => q.name === 'commerce')!;
  assert.deepEqual(usage.services.map((s) => s.key), ['shop-staging/web'], 'the quota covers the team namespace, not the lying one');
});

test('examples/platform/teams.yaml is valid against the LatticeTeam CRD and derives commerce and payments', () => {
  const crd = allCrds().find((c) => (c.spec as { names: { kind: string } }).names.kind === 'LatticeTeam')!;
  const text = readFileSync(new URL('../examples/platform/teams.yaml', import.meta.url), 'utf8');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as object);
  for (const d of docs) assert.deepEqual(validateAgainstCrd(crd, d), []);
  const result = deriveYaml(text, 'teams.yaml');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.teams.map((t) => [t.name, t.namespaces]), [['commerce', ['commerce', 'commerce-staging']], ['payments', ['payments']]]);
  for (const o of result.teamObjects) assertValid(o);
});

test('lattice render prints the team objects after the platform objects, and --out-dir files them by namespace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-team-'));
  writeFileSync(join(dir, 'teams.yaml'), readFileSync(new URL('../examples/platform/teams.yaml', import.meta.url), 'utf8'));
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
  assert.equal(await run(['render', dir], io), 0, stderr);
  const kinds = parseAllDocuments(stdout).map((d) => (d.toJS() as { kind: string }).kind);
  const firstTeam = kinds.indexOf('ClusterRole');
  assert.ok(firstTeam > kinds.lastIndexOf('PeerAuthentication'), 'team objects follow the platform objects');
  assert.deepEqual(kinds.slice(firstTeam, firstTeam + 5), ['ClusterRole', 'Namespace', 'ResourceQuota', 'LimitRange', 'RoleBinding']);
  assert.match(stderr, /^2 teams; 3 namespaces derived \(13 objects\)\.$/m);
  const out = join(dir, 'out');
  assert.equal(await run(['render', dir, '--out-dir', out], io), 0);
  assert.deepEqual(readdirSync(join(out, 'commerce', '_namespace')).sort(), ['limitrange-lattice-defaults.yaml', 'namespace-commerce.yaml', 'resourcequota-lattice-team.yaml', 'rolebinding-lattice-team-developer.yaml']);
  assert.ok(readdirSync(join(out, '_cluster')).includes('clusterrole-lattice-team-developer.yaml'));
});
