import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deriveObjects, deriveYaml, objectOf, resultOf, conditionOf, provider, service, IMAGE } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';

const payments = readFileSync(new URL('../examples/commerce/payments.yaml', import.meta.url), 'utf8');
const platform = readFileSync(new URL('../examples/platform/platform.yaml', import.meta.url), 'utf8');

test('payments: Deployment with the restricted security context on every container', () => {
  const r = resultOf(deriveYaml(`${platform}\n---\n${payments}`), 'commerce/payments');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const d = objectOf(r, 'Deployment', 'payments') as never as {
    metadata: { namespace: string; labels: Record<string, string> };
    spec: { replicas: number; selector: unknown; strategy: unknown; template: { metadata: { annotations: Record<string, string>; labels: Record<string, string> }; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
  };
  assert.equal(d.metadata.namespace, 'commerce');
  assert.deepEqual(d.metadata.labels, {
    'app.kubernetes.io/name': 'payments',
    'app.kubernetes.io/managed-by': 'lattice',
    'app.kubernetes.io/part-of': 'commerce',
    'lattice.dev/service': 'payments',
  });
  assert.equal(d.spec.replicas, 3);
  assert.deepEqual(d.spec.selector, { matchLabels: { 'app.kubernetes.io/name': 'payments' } });
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
  const pod = d.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'payments');
  assert.equal(pod.automountServiceAccountToken, false);
  assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  assert.equal(pod.containers.length, 1);
  for (const c of pod.containers) {
    assert.deepEqual(c.securityContext, {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  }
  const api = pod.containers[0]!;
  assert.deepEqual(api.resources, { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
  assert.deepEqual(api.readinessProbe, { httpGet: { path: '/ready', port: 8080 } }, 'probe port names resolve to the target port');
  assert.deepEqual(api.livenessProbe, { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 20 });
  assert.deepEqual(api.ports, [
    { name: 'http', containerPort: 8080, protocol: 'TCP' },
    { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
  ]);
  assert.match(d.spec.template.metadata.annotations['lattice.dev/config-hash'] ?? '', /^[0-9a-f]{16}$/);
  const spread = pod.topologySpreadConstraints as { topologyKey: string; whenUnsatisfiable: string }[];
  assert.deepEqual(spread.map((s) => s.topologyKey), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  assertValid(d as never);
});

test('payments: PodDisruptionBudget keeps 2 of 3 pods, ServiceAccount has no token, Service and VMServiceScrape', () => {
  const r = resultOf(deriveYaml(`${platform}\n---\n${payments}`), 'commerce/payments');
  const pdb = objectOf(r, 'PodDisruptionBudget', 'payments');
  assert.deepEqual(pdb.spec, { minAvailable: 2, selector: { matchLabels: { 'app.kubernetes.io/name': 'payments' } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  const sa = objectOf(r, 'ServiceAccount', 'payments');
  assert.equal(sa.automountServiceAccountToken, false);
  const svc = objectOf(r, 'Service', 'payments');
  assert.deepEqual(svc.spec, {
    type: 'ClusterIP',
    selector: { 'app.kubernetes.io/name': 'payments' },
    ports: [
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' },
    ],
  });
  const scrape = objectOf(r, 'VMServiceScrape', 'payments');
  assert.deepEqual(scrape.spec, {
    selector: { matchLabels: { 'lattice.dev/service': 'payments', 'app.kubernetes.io/managed-by': 'lattice' } },
    endpoints: [{ port: 'metrics', path: '/metrics' }],
  });
  for (const o of [pdb, sa, svc, scrape]) assertValid(o);
  assert.equal(r.status.resourceCount, r.objects.length);
  assert.equal(r.status.message, `${r.objects.length} resources derived.`);
  assert.deepEqual(r.status.resources.map((x) => x.kind).slice(0, 1), ['ServiceAccount'], 'objects come in apply order');
});

test('every derived object of the example validates against its upstream schema', () => {
  const result = deriveYaml(`${platform}\n---\n${payments}`);
  for (const o of [...result.platformObjects, ...result.services.flatMap((s) => s.objects)]) assertValid(o);
});

test('no PodDisruptionBudget for a single replica; no Service or scrape without ports', () => {
  const r = resultOf(deriveObjects([service('solo')]), 'shop/solo');
  assert.equal(r.status.phase, 'Ready');
  const kinds = r.objects.map((o) => o.kind);
  for (const absent of ['PodDisruptionBudget', 'Service', 'VMServiceScrape']) assert.ok(!kinds.includes(absent), `${absent} derived: ${kinds.join(', ')}`);
  assert.ok(kinds.includes('Deployment') && kinds.includes('ServiceAccount'));
});

test('scrape port: the port named metrics, else observability.metrics.port, else the first port', () => {
  const ports = { web: { port: 80 }, admin: { port: 81 } };
  const first = resultOf(deriveObjects([service('a', { workload: { service: { ports } } })]), 'shop/a');
  assert.deepEqual((objectOf(first, 'VMServiceScrape').spec as { endpoints: unknown }).endpoints, [{ port: 'web', path: '/metrics' }]);
  const chosen = resultOf(deriveObjects([service('b', { observability: { metrics: { port: 'admin', path: '/prom' } }, workload: { service: { ports } } })]), 'shop/b');
  assert.deepEqual((objectOf(chosen, 'VMServiceScrape').spec as { endpoints: unknown }).endpoints, [{ port: 'admin', path: '/prom' }]);
});

test('canary rollouts add one pod at a time with a readiness soak', () => {
  const r = resultOf(deriveObjects([service('c', { replicas: 4, deploy: { strategy: 'canary' } })]), 'shop/c');
  const spec = objectOf(r, 'Deployment').spec as { strategy: unknown; minReadySeconds: number };
  assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  assert.equal(spec.minReadySeconds, 30);
});

test('scratch volumes are size-limited emptyDirs; shared volume resources are shared', () => {
  const r = resultOf(deriveObjects([service('v', {
    workload: {
      containers: {
        a: { image: IMAGE, resources: { limits: { cpu: '1', memory: '1Gi' } }, volumes: { '/tmp': {}, '/shared': { source: 'cache' } } },
        b: { image: IMAGE, resources: { limits: { cpu: '1', memory: '1Gi' } }, volumes: { '/shared': { source: '${resources.cache}', readOnly: true } } },
      },
      resources: { cache: { type: 'volume', params: { sizeLimit: '2Gi', medium: 'Memory' } } },
    },
  })]), 'shop/v');
  const pod = (objectOf(r, 'Deployment').spec as { template: { spec: { volumes: unknown[]; containers: { volumeMounts: unknown[] }[] } } }).template.spec;
  assert.deepEqual(pod.volumes, [
    { name: 'a-scratch-0', emptyDir: { sizeLimit: '1Gi' } },
    { name: 'shared-cache', emptyDir: { sizeLimit: '2Gi', medium: 'Memory' } },
  ]);
  assert.deepEqual(pod.containers[0]!.volumeMounts, [{ name: 'a-scratch-0', mountPath: '/tmp' }, { name: 'shared-cache', mountPath: '/shared' }]);
  assert.deepEqual(pod.containers[1]!.volumeMounts, [{ name: 'shared-cache', mountPath: '/shared', readOnly: true }]);
});

test('an invalid service fails with Validated=False naming the field, file, line and fix, and derives nothing', () => {
  const text = `apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata:
  name: broken
  namespace: shop
spec:
  replicas: 2
  workload:
    containers:
      main:
        image: registry.example.com/app:latest
        resources:
          limits:
            cpu: lots
            memory: 256Mi
`;
  const result = deriveYaml(text, 'broken.yaml');
  const r = resultOf(result, 'shop/broken');
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, []);
  const validated = conditionOf(r, 'Validated');
  assert.equal(validated.status, 'False');
  assert.equal(validated.reason, 'InvalidSpec');
  assert.equal(validated.message, 'broken.yaml:14:13 spec.workload.containers.main.resources.limits.cpu: is not a Kubernetes quantity: write e.g. 500m or 2 for CPU, 512Mi or 1Gi for memory');
  const ready = conditionOf(r, 'Ready');
  assert.equal(ready.status, 'False');
  assert.match(ready.message, /^Nothing was derived: broken\.yaml:14:13/);
  assert.equal(r.status.observedGeneration, 1);
});

test('derivation is all-or-nothing: a late error (unknown secret provider) leaves no objects', () => {
  const r = resultOf(deriveObjects([provider('vault'), service('s', {
    workload: { resources: { db: { type: 'secret', params: { provider: 'nope' } } } },
  })]), 'shop/s');
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, []);
  assert.equal(conditionOf(r, 'SecretsResolved').reason, 'SecretProviderNotFound');
});

test('a service named twice is derived once and reported', () => {
  const result = deriveObjects([service('dup'), service('dup')]);
  assert.equal(result.services.length, 1);
  assert.match(result.problems[0]!.diagnostics[0]!.message, /declared more than once/);
});

test('lastTransitionTime is kept when a condition does not change', () => {
  const first = resultOf(deriveObjects([service('t')]), 'shop/t');
  const again = service('t');
  again.status = { conditions: first.status.conditions.map((c) => ({ ...c, lastTransitionTime: '2020-01-01T00:00:00Z' })) };
  const second = resultOf(deriveObjects([again]), 'shop/t');
  assert.equal(conditionOf(second, 'Ready').status, 'True');
  assert.equal(second.status.conditions.find((c) => c.type === 'Ready')!.lastTransitionTime, '2020-01-01T00:00:00Z');
});

test('pod securityContext: numeric runAsUser, runAsGroup and fsGroup (default 65532), so secret files of mode 0400 stay readable', () => {
  const secretFile = service('reader', {
    workload: {
      containers: { main: { image: IMAGE, resources: { limits: { cpu: '500m', memory: '256Mi' } }, files: { '/etc/reader/token': { content: '${resources.tok.value}', mode: '0400' } } } },
      resources: { tok: { type: 'secret', params: { keys: ['value'] } } },
    },
  });
  const r = resultOf(deriveObjects([provider(), secretFile]), 'shop/reader');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const d = objectOf(r, 'Deployment', 'reader') as never as { spec: { template: { spec: { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] } } } };
  const pod = d.spec.template.spec;
  assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  for (const id of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) assert.equal(typeof pod.securityContext[id], 'number', `${id} must be numeric: the kubelet refuses runAsNonRoot for a named USER`);
  assert.equal(pod.containers[0]!.securityContext.runAsUser, undefined, 'the container inherits the pod ids');
  assertValid(d as never);
});

test('pod securityContext: the platform overrides the ids; a container security.runAsUser overrides the user of that container only', () => {
  const platformDoc = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { podSecurityContext: { runAsUser: 1000, runAsGroup: 2000, fsGroup: 3000 } } };
  const svc = service('ids', { workload: { containers: { main: { image: IMAGE, resources: { limits: { cpu: '500m', memory: '256Mi' } }, security: { runAsUser: 4242 } } } } });
  const r = resultOf(deriveObjects([platformDoc, svc]), 'shop/ids');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const pod = (objectOf(r, 'Deployment', 'ids') as never as { spec: { template: { spec: { securityContext: Record<string, unknown>; containers: { securityContext: Record<string, unknown> }[] } } } }).spec.template.spec;
  assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000, fsGroup: 3000, seccompProfile: { type: 'RuntimeDefault' } });
  assert.equal(pod.containers[0]!.securityContext.runAsUser, 4242);
});

test('pod securityContext: a platform cannot set user 0 or a non-numeric id', () => {
  for (const bad of [{ runAsUser: 0 }, { fsGroup: 'nonroot' }, { runAsGroup: -1 }]) {
    const platformDoc = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { podSecurityContext: bad } };
    const result = deriveObjects([platformDoc, service('x')]);
    assert.ok(result.problems.some((p) => p.kind === 'LatticePlatform' && p.diagnostics.some((d) => (d.path ?? '').startsWith('spec.podSecurityContext'))), JSON.stringify(result.problems));
  }
});
