import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveObjects, deriveYaml, objectOf, resultOf, service, conditionOf } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import { prometheusQuery } from '../src/compiler/service/autoscaling.ts';

/** Permits every request: these tests are about sizing, not authorization (that is test/policy-*.test.ts). */
const PERMIT_ALL = {
  apiVersion: 'lattice.dev/v1alpha1',
  kind: 'CedarPolicy',
  metadata: { name: 'permit-all', namespace: 'lattice-system' },
  spec: { policies: 'permit(principal, action, resource);' },
};

const PROMETHEUS = 'http://vmsingle.monitoring.svc:8429';

function platform(spec: Record<string, unknown> = { prometheusAddress: PROMETHEUS }): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec };
}

const PORTS = { service: { ports: { http: { port: 80, targetPort: 8080 }, metrics: { port: 9090 } } } };

function autoscaled(autoscaling: unknown, replicas = 2, workload: Record<string, unknown> = PORTS): Record<string, unknown> {
  return service('api', { replicas, autoscaling, workload });
}

interface ScaledObjectShape {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { scaleTargetRef: unknown; minReplicaCount: number; maxReplicaCount: number; triggers: unknown[] };
}

function scaledObjectOf(objects: unknown[]): ScaledObjectShape {
  const r = resultOf(deriveObjects([PERMIT_ALL, ...objects]), 'shop/api');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const so = objectOf(r, 'ScaledObject', 'api');
  assertValid(so);
  return so as never as ScaledObjectShape;
}

test('no metrics: cpu at 80% utilisation, between replicas and max, targeting the Deployment', () => {
  const so = scaledObjectOf([autoscaled({ max: 5 })]);
  assert.equal(so.metadata.namespace, 'shop');
  assert.equal(so.metadata.labels['lattice.dev/service'], 'api');
  assert.deepEqual(so.spec, {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
    minReplicaCount: 2,
    maxReplicaCount: 5,
    triggers: [{ type: 'cpu', metricType: 'Utilization', metadata: { value: '80' } }],
  });
});

test('cpu and memory metrics: resource triggers with trigger-level metricType Utilization', () => {
  const so = scaledObjectOf([autoscaled({ max: 4, metrics: [{ metric: 'memory', target: 75 }, { metric: 'cpu', target: 60 }] })]);
  assert.deepEqual(so.spec.triggers, [
    { type: 'memory', metricType: 'Utilization', metadata: { value: '75' } },
    { type: 'cpu', metricType: 'Utilization', metadata: { value: '60' } },
  ]);
});

test('a gauge metric: Prometheus trigger summing over the service pods, AverageValue so the target is per pod', () => {
  const so = scaledObjectOf([platform(), autoscaled({ max: 10, metrics: [{ metric: 'queue_depth', target: 2.5 }] })]);
  assert.deepEqual(so.spec.triggers, [
    {
      type: 'prometheus',
      name: 'queue-depth',
      metricType: 'AverageValue',
      metadata: { serverAddress: PROMETHEUS, query: 'sum(queue_depth{namespace="shop",service="api"})', threshold: '2.5' },
    },
  ]);
});

test('a counter metric (_total): the query takes a per-second rate first', () => {
  const so = scaledObjectOf([platform(), autoscaled({ max: 10, metrics: [{ metric: 'cpu', target: 70 }, { metric: 'http_requests_total', target: 50 }] })]);
  assert.equal(so.spec.triggers.length, 2);
  assert.deepEqual(so.spec.triggers[1], {
    type: 'prometheus',
    name: 'http-requests-total',
    metricType: 'AverageValue',
    metadata: { serverAddress: PROMETHEUS, query: 'sum(rate(http_requests_total{namespace="shop",service="api"}[2m]))', threshold: '50' },
  });
  assert.equal(prometheusQuery('job:latency:p99', 'ns', 'svc'), 'sum(job:latency:p99{namespace="ns",service="svc"})');
});

test('autoscaled: the Deployment leaves replicas to the autoscaler; without autoscaling it sets them', () => {
  const withAutoscaling = resultOf(deriveObjects([PERMIT_ALL, autoscaled({ max: 5 }, 3)]), 'shop/api');
  const d = objectOf(withAutoscaling, 'Deployment', 'api') as never as { spec: Record<string, unknown> };
  assert.equal('replicas' in d.spec, false, 'no replicas field at all (not even undefined)');
  assert.equal(JSON.stringify(d.spec).includes('"replicas"'), false);
  assertValid(d as never);

  const fixed = resultOf(deriveObjects([PERMIT_ALL, service('api', { replicas: 3, workload: PORTS })]), 'shop/api');
  const f = objectOf(fixed, 'Deployment', 'api') as never as { spec: Record<string, unknown> };
  assert.equal(f.spec.replicas, 3);
  assert.equal(fixed.objects.some((o) => o.kind === 'ScaledObject'), false, 'no ScaledObject without autoscaling');
});

test('autoscaled: the PodDisruptionBudget follows the minimum, not the maximum', () => {
  const r = resultOf(deriveObjects([PERMIT_ALL, autoscaled({ max: 10 }, 3)]), 'shop/api');
  const pdb = objectOf(r, 'PodDisruptionBudget', 'api') as never as { spec: { minAvailable: number } };
  assert.equal(pdb.spec.minAvailable, 2);
  const single = resultOf(deriveObjects([PERMIT_ALL, autoscaled({ max: 10 }, 1)]), 'shop/api');
  assert.equal(single.objects.some((o) => o.kind === 'PodDisruptionBudget'), false, 'a minimum of one pod gets no budget');
});

test('a Prometheus metric on a platform without prometheusAddress fails with the setting to ask for', () => {
  const text = [
    'apiVersion: lattice.dev/v1alpha1',
    'kind: LatticeService',
    'metadata: {name: api, namespace: shop}',
    'spec:',
    '  replicas: 1',
    '  autoscaling:',
    '    max: 3',
    '    metrics:',
    '      - {metric: cpu, target: 50}',
    '      - {metric: inflight, target: 10}',
    '  workload:',
    '    containers:',
    `      main: {image: "registry.example.com/app@sha256:${'a'.repeat(64)}", resources: {profile: small}}`,
    '    service: {ports: {http: {port: 80}}}',
  ].join('\n');
  const policy = ['---', 'apiVersion: lattice.dev/v1alpha1', 'kind: CedarPolicy', 'metadata: {name: permit-all, namespace: lattice-system}', "spec: {policies: 'permit(principal, action, resource);'}"].join('\n');
  const r = resultOf(deriveYaml(`${text}\n${policy}`, 'api.yaml'), 'shop/api');
  assert.equal(r.status.phase, 'Failed');
  assert.equal(r.objects.length, 0);
  const c = conditionOf(r, 'PlatformSupported');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'PrometheusNotConfigured');
  assert.equal(
    c.message,
    'api.yaml:10:10 spec.autoscaling.metrics[1].metric: autoscaling on inflight in namespace shop needs the platform\'s Prometheus-compatible query address (LatticePlatform spec.prometheusAddress), which is not set: ask the platform team to set it, or scale on cpu or memory',
  );
});

test('schema: bad metric names, metrics without a port, duplicates and scale-to-zero on cpu alone are refused', () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [autoscaled({ max: 3, metrics: [{ metric: 'http-requests', target: 5 }] }), 'spec.autoscaling.metrics[0].metric', '"http-requests" is neither cpu, memory nor a Prometheus metric name (letters, digits, "_" and ":", not starting with a digit)'],
    [autoscaled({ max: 3, metrics: [{ metric: 'inflight', target: 5 }] }, 1, {}), 'spec.autoscaling.metrics[0].metric', "scaling on metric inflight needs the service's metrics to be scraped, which needs a port: declare workload.service.ports (the port named metrics is scraped), or scale on cpu or memory"],
    [autoscaled({ max: 3, metrics: [{ metric: 'cpu', target: 50 }, { metric: 'cpu', target: 70 }] }), 'spec.autoscaling.metrics[1].metric', 'metric cpu is listed twice: keep one entry per metric'],
    [autoscaled({ max: 3 }, 0), 'spec.replicas', 'replicas 0 (scale to zero) needs a Prometheus metric among autoscaling.metrics: KEDA cannot wake a service from zero on cpu or memory alone. Set replicas to at least 1, or add a metric'],
    [autoscaled({ max: 3 }, 4), 'spec.replicas', 'replicas (4, the minimum) is above autoscaling.max (3): lower replicas or raise max'],
    [autoscaled({ max: 3, metrics: [{ metric: 'memory', target: 120 }] }), 'spec.autoscaling.metrics[0].target', 'memory target 120 is a percentage of the request and must be at most 100'],
  ];
  for (const [doc, path, message] of cases) {
    const r = resultOf(deriveObjects([PERMIT_ALL, platform(), doc]), 'shop/api');
    assert.equal(r.status.phase, 'Failed', path);
    assert.deepEqual(r.diagnostics.map((d) => [d.path, d.message]), [[path, message]]);
  }
});

test('scale to zero with a Prometheus metric is allowed: minReplicaCount 0', () => {
  const so = scaledObjectOf([platform(), autoscaled({ max: 3, metrics: [{ metric: 'queue_depth', target: 10 }] }, 0)]);
  assert.equal(so.spec.minReplicaCount, 0);
  assert.equal(so.spec.maxReplicaCount, 3);
});
