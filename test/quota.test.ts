import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionOf, deriveObjects, deriveYaml, resultOf, IMAGE } from './support/fixtures.ts';
import { summary } from '../src/cli/render.ts';
import { checkQuota, formatAmount, serviceDemand, type QuotaUsage } from '../src/compiler/platform/quota.ts';
import { latticeServiceSchema } from '../src/api/latticeservice/v1alpha1.ts';
import { defaultPlatformSettings } from '../src/api/latticeplatform/v1alpha1.ts';

/** Permits every request: these tests are about sizing, not authorization (that is test/policy-*.test.ts). */
const PERMIT_ALL = {
  apiVersion: 'lattice.dev/v1alpha1',
  kind: 'CedarPolicy',
  metadata: { name: 'permit-all', namespace: 'lattice-system' },
  spec: { policies: 'permit(principal, action, resource);' },
};

function svc(name: string, namespace: string, spec: Record<string, unknown>, cpu: string | number = 1, memory = '1Gi'): Record<string, unknown> {
  const workload = (spec.workload ?? {}) as Record<string, unknown>;
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeService',
    metadata: { name, namespace },
    spec: { ...spec, workload: { containers: { main: { image: IMAGE, resources: { limits: { cpu, memory } } } }, ...workload } },
  };
}

function quota(name: string, spec: Record<string, unknown>, namespace = 'lattice-system'): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeQuota', metadata: { name, namespace }, spec };
}

function ns(name: string, labels: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

const teamPayments = quota('team-payments', { selector: { namespaceLabels: { 'lattice.dev/team': 'payments' } }, hard: { cpu: 8 } });
const payments = svc('payments', 'payments', { replicas: 3 });
const ledger = svc('ledger', 'payments', { replicas: 2 });
const fraud = svc('fraud', 'payments-risk', { replicas: 1, autoscaling: { max: 4 } });
const namespaces = [ns('payments', { 'lattice.dev/team': 'payments' }), ns('payments-risk', { 'lattice.dev/team': 'payments' })];

const MESSAGES = {
  'payments/payments':
    'Quota team-payments allows 8 CPU; other services use 6; payments requests 3 (3 replicas × 1); 2 are available. Lower the replicas or requests, or ask the platform team to raise the quota.',
  'payments/ledger':
    'Quota team-payments allows 8 CPU; other services use 7; ledger requests 2 (2 replicas × 1); 1 is available. Lower the replicas or requests, or ask the platform team to raise the quota.',
  'payments-risk/fraud':
    'Quota team-payments allows 8 CPU; other services use 5; fraud requests 4 (max 4 replicas × 1); 3 are available. Lower the replicas or requests, or ask the platform team to raise the quota.',
};

test('the exact message: quota, limit, the other services, this request with replicas × per pod, what is available', () => {
  const result = deriveObjects([PERMIT_ALL, teamPayments, ...namespaces, ledger, fraud, payments]);
  const r = resultOf(result, 'payments/payments');
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, [], 'a gate failure derives nothing');
  const c = conditionOf(r, 'QuotaSatisfied');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'QuotaExceeded');
  assert.equal(c.message, `spec.replicas: ${MESSAGES['payments/payments']}`);
  const ready = conditionOf(r, 'Ready');
  assert.equal(ready.reason, 'QuotaExceeded');
});

test('every service under an exceeded quota fails, each measured against all the others, never itself', () => {
  const result = deriveObjects([PERMIT_ALL, teamPayments, ...namespaces, ledger, fraud, payments]);
  for (const [key, message] of Object.entries(MESSAGES)) {
    const r = resultOf(result, key);
    const d = r.diagnostics.filter((x) => x.condition === 'QuotaSatisfied');
    assert.deepEqual(d.map((x) => x.message), [message], key);
    assert.equal(d[0]!.path, key === 'payments-risk/fraud' ? 'spec.autoscaling.max' : 'spec.replicas');
  }
  assert.deepEqual(result.quotas.map((q) => [q.name, q.used.cpu, q.services.map((s) => s.key)]), [
    ['team-payments', 9000, ['payments-risk/fraud', 'payments/ledger', 'payments/payments']],
  ]);
});

test('the result does not depend on input order', () => {
  const docs = [teamPayments, ...namespaces, ledger, fraud, payments];
  const orders = [docs, [...docs].reverse(), [payments, fraud, namespaces[1]!, teamPayments, ledger, namespaces[0]!]];
  const outcomes = orders.map((o) => {
    const result = deriveObjects([PERMIT_ALL, ...o]);
    return Object.keys(MESSAGES).map((k) => {
      const r = resultOf(result, k);
      return [k, r.status.phase, r.diagnostics.map((d) => d.message)];
    });
  });
  assert.deepEqual(outcomes[1], outcomes[0]);
  assert.deepEqual(outcomes[2], outcomes[0]);
});

test('a service exactly at the limit fits: it is not counted against itself', () => {
  const q = quota('team-payments', { selector: { namespaces: ['payments'] }, hard: { cpu: 3, memory: '3Gi', pods: 3 } });
  const r = resultOf(deriveObjects([PERMIT_ALL, q, payments]), 'payments/payments');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const c = conditionOf(r, 'QuotaSatisfied');
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'WithinQuota');
  assert.equal(c.message, 'Within quota team-payments (all its services: CPU 3 of 3, memory 3Gi of 3Gi, pods 3 of 3).');
});

test('within the quota once the others shrink: 8 CPU, others 5, payments 3', () => {
  const smallLedger = svc('ledger', 'payments', { replicas: 1 });
  const result = deriveObjects([PERMIT_ALL, teamPayments, ...namespaces, smallLedger, fraud, payments]);
  for (const key of ['payments/payments', 'payments/ledger', 'payments-risk/fraud']) {
    assert.equal(resultOf(result, key).status.phase, 'Ready', key);
  }
});

test('a service under no quota gets no QuotaSatisfied condition', () => {
  const r = resultOf(deriveObjects([PERMIT_ALL, teamPayments, svc('web', 'shop', { replicas: 50 })]), 'shop/web');
  assert.equal(r.status.phase, 'Ready');
  assert.equal(r.status.conditions.some((c) => c.type === 'QuotaSatisfied'), false);
});

test('selector: names and labels must both match; an empty selector covers every namespace', () => {
  const both = quota('q', { selector: { namespaces: ['payments', 'shop'], namespaceLabels: { 'lattice.dev/team': 'payments' } }, hard: { pods: 100 } });
  const everything = quota('all', { selector: {}, hard: { pods: 100 } });
  const result = deriveObjects([PERMIT_ALL, 
    both,
    everything,
    ...namespaces,
    ns('shop', { 'lattice.dev/team': 'shop' }),
    payments,
    fraud,
    svc('web', 'shop', { replicas: 1 }),
    svc('nolabels', 'other', { replicas: 1 }),
  ]);
  const covered = Object.fromEntries(result.quotas.map((q) => [q.name, q.services.map((s) => s.key)]));
  assert.deepEqual(covered, {
    all: ['other/nolabels', 'payments-risk/fraud', 'payments/payments', 'shop/web'],
    q: ['payments/payments'],
  });
});

test('memory, GPU and pod messages; a service asking for none of a resource is not failed for it', () => {
  const q = quota('ml', { selector: { namespaces: ['ml'] }, hard: { memory: '10Gi', gpu: 2, pods: 5 } });
  const trainer = svc('trainer', 'ml', { replicas: 3, workload: { resources: { gpu: { type: 'gpu', params: { count: 1 } } } } }, '500m', '2Gi');
  const api = svc('api', 'ml', { replicas: 3 }, '250m', '1536Mi');
  const result = deriveObjects([PERMIT_ALL, q, trainer, api]);
  assert.deepEqual(resultOf(result, 'ml/trainer').diagnostics.map((d) => d.message), [
    'Quota ml allows 10Gi memory; other services use 4.5Gi; trainer requests 6Gi (3 replicas × 2Gi); 5.5Gi is available. Lower the replicas or requests, or ask the platform team to raise the quota.',
    'Quota ml allows 2 GPUs; other services use 0; trainer requests 3 (3 replicas × 1); 2 are available. Lower the replicas or requests, or ask the platform team to raise the quota.',
    'Quota ml allows 5 pods; other services use 3; trainer requests 3 (3 replicas × 1); 2 are available. Lower the replicas or requests, or ask the platform team to raise the quota.',
  ]);
  assert.deepEqual(resultOf(result, 'ml/api').diagnostics.map((d) => d.message), [
    'Quota ml allows 10Gi memory; other services use 6Gi; api requests 4.5Gi (3 replicas × 1.5Gi); 4Gi is available. Lower the replicas or requests, or ask the platform team to raise the quota.',
    'Quota ml allows 5 pods; other services use 3; api requests 3 (3 replicas × 1); 2 are available. Lower the replicas or requests, or ask the platform team to raise the quota.',
  ], 'api asks for no GPU, so the exceeded GPU limit does not fail it');
});

test('others already over the limit: 0 are available; the platform contact is named', () => {
  const platform = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { platformContact: '#platform on Slack' } };
  const q = quota('tiny', { selector: { namespaces: ['shop'] }, hard: { cpu: '1500m' } });
  const result = deriveObjects([PERMIT_ALL, platform, q, svc('a', 'shop', { replicas: 2 }), svc('b', 'shop', { replicas: 1 }, '500m')]);
  assert.deepEqual(resultOf(result, 'shop/b').diagnostics.map((d) => d.message), [
    'Quota tiny allows 1.5 CPU; other services use 2; b requests 0.5 (1 replica × 0.5); 0 are available. Lower the replicas or requests, or ask #platform on Slack to raise the quota.',
  ]);
});

test('size profiles and every container count towards the demand', () => {
  const settings = defaultPlatformSettings();
  const s = latticeServiceSchema.parse({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeService',
    metadata: { name: 'search', namespace: 'shop' },
    spec: {
      replicas: 2,
      autoscaling: { max: 6 },
      workload: {
        containers: {
          api: { image: IMAGE, resources: { profile: 'medium' } },
          sidecar: { image: IMAGE, resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } } },
        },
      },
    },
  });
  const d = serviceDemand(s, settings);
  assert.deepEqual(d, {
    key: 'shop/search',
    namespace: 'shop',
    name: 'search',
    replicas: 6,
    autoscaled: true,
    perPod: { cpu: 600, memory: (768 + 64) * 2 ** 20, gpu: 0, pods: 1 },
    total: { cpu: 3600, memory: 6 * (768 + 64) * 2 ** 20, gpu: 0, pods: 6 },
  });
  const usage: QuotaUsage = {
    name: 'q',
    quota: {} as never,
    limits: { cpu: 3000 },
    services: [d],
    byKey: new Map([[d.key, d]]),
    used: d.total,
  };
  assert.deepEqual(checkQuota(d, usage, 'x').map((v) => [v.limit, v.others, v.requested, v.available]), [[3000, 0, 3600, 3000]]);
  assert.equal(checkQuota(d, usage, 'x')[0]!.message, 'Quota q allows 3 CPU; other services use 0; search requests 3.6 (max 6 replicas × 0.6); 3 are available. Lower the replicas or requests, or ask x to raise the quota.');
});

test('amounts are written as people write quantities', () => {
  assert.equal(formatAmount('cpu', 8000), '8');
  assert.equal(formatAmount('cpu', 250), '0.25');
  assert.equal(formatAmount('memory', 13824 * 2 ** 20), '13.5Gi');
  assert.equal(formatAmount('memory', 768 * 2 ** 20), '768Mi');
  assert.equal(formatAmount('memory', 2e9), '2G');
  assert.equal(formatAmount('memory', 0), '0');
  assert.equal(formatAmount('pods', 7), '7');
});

test('invalid services do not count; services failing for another reason do', () => {
  const q = quota('q', { selector: { namespaces: ['shop'] }, hard: { pods: 3 } });
  const invalid = svc('broken', 'shop', { replicas: 5, bogus: true });
  // Fails elsewhere (a public route on a platform without a public gateway) but its demand is declared.
  const failing = svc('gated', 'shop', {
    replicas: 2,
    workload: { service: { ports: { http: { port: 80 } } } },
    ingress: { routes: { web: { hosts: ['shop.example.com'], exposure: 'public' } } },
  });
  const result = deriveObjects([PERMIT_ALL, q, invalid, failing, svc('a', 'shop', { replicas: 2 })]);
  assert.equal(resultOf(result, 'shop/gated').status.phase, 'Failed');
  assert.deepEqual(resultOf(result, 'shop/a').diagnostics.map((d) => d.message), [
    'Quota q allows 3 pods; other services use 2; a requests 2 (2 replicas × 1); 1 is available. Lower the replicas or requests, or ask the platform team to raise the quota.',
  ]);
});

test('a LatticeQuota outside lattice-system is a platform problem and is not enforced', () => {
  const result = deriveYaml(
    [
      'apiVersion: lattice.dev/v1alpha1',
      'kind: LatticeQuota',
      'metadata: {name: mine, namespace: shop}',
      'spec: {selector: {namespaces: [shop]}, hard: {pods: 1}}',
      '---',
      'apiVersion: lattice.dev/v1alpha1',
      'kind: LatticeQuota',
      'metadata: {name: empty, namespace: lattice-system}',
      'spec: {selector: {}, hard: {}}',
    ].join('\n'),
    'quotas.yaml',
  );
  assert.deepEqual(
    result.problems.map((p) => [p.kind, p.name, p.diagnostics.map((d) => `${d.reason} ${d.path}: ${d.message}`)]),
    [
      ['LatticeQuota', 'mine', ['InvalidSpec metadata.namespace: LatticeQuota is a platform resource, read only in namespace lattice-system (a team must not be able to raise its own quota), not shop: move it there, or leave namespace out in a file given to lattice render']],
      ['LatticeQuota', 'empty', ['InvalidSpec spec.hard: set at least one of cpu, memory, gpu or pods']],
    ],
  );
  assert.deepEqual(result.quotas, []);
});

test('lattice render prints a usage table per quota and limited resource', () => {
  const q = quota('team-payments', { selector: { namespaceLabels: { 'lattice.dev/team': 'payments' } }, hard: { cpu: 8, memory: '16Gi' } });
  const text = summary(deriveObjects([PERMIT_ALL, q, ...namespaces, ledger, fraud, payments]));
  const lines = text.split('\n');
  const start = lines.indexOf('Quota usage (each service at its maximum replicas):');
  assert.ok(start > 0, text);
  assert.deepEqual(lines.slice(start + 1, start + 4), [
    'QUOTA          RESOURCE  LIMIT  USED  AVAILABLE      SERVICES',
    'team-payments  cpu       8      9     exceeded by 1  3',
    'team-payments  memory    16Gi   9Gi   7Gi            3',
  ]);
});

test('Namespaces are read as platform context, not listed as ignored', () => {
  const result = deriveObjects([PERMIT_ALL, ...namespaces, payments]);
  assert.deepEqual(result.ignored, []);
});
