/**
 * LatticeJob: the derived Volcano Job / CronJob field by field, against the upstream schemas, every
 * shared guarantee tried against a job (Cedar gates, digest pinning, secrets by reference,
 * protected namespaces, quotas, the bilateral mesh), the intra-job port rule, validation messages,
 * and the mapping of a Volcano Job's status to the LatticeJob's run conditions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { conditionOf, deriveObjects, deriveYaml, IMAGE, objectOf, resultOf, service } from './support/fixtures.ts';
import { assertValid, validateObject } from './support/schemas.ts';
import { jobRunStatus, VOLCANO_PHASES } from '../src/compiler/job/status.ts';
import type { KubeObject, ServiceResult } from '../src/compiler/types.ts';

const read = (p: string): string => readFileSync(new URL(p, import.meta.url), 'utf8');
const platform = read('../examples/platform/platform.yaml');
const train = read('../examples/jobs/train-ranker.yaml');
const nightly = read('../examples/jobs/nightly-report.yaml');

type Pod = { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: Record<string, unknown> & { containers: (Record<string, unknown> & { name: string; env?: { name: string; value?: string; valueFrom?: unknown }[] })[] } };
type VolcanoTask = { name: string; replicas: number; minAvailable?: number; maxRetry?: number; policies?: unknown[]; template: Pod };
type VolcanoSpec = Record<string, unknown> & { tasks: VolcanoTask[] };

/** A LatticeJob object with tasks merged over one default task `main`. */
function job(name: string, spec: Record<string, unknown> = {}, namespace = 'ml'): Record<string, unknown> {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeJob',
    metadata: { name, namespace },
    spec: {
      tasks: { main: { workload: { containers: { main: { image: IMAGE, resources: { limits: { cpu: '500m', memory: '256Mi' } } } } } } },
      ...spec,
    },
  };
}

/** A container running IMAGE with resources, `extra` merged over it. */
function c(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { image: IMAGE, resources: { limits: { cpu: '500m', memory: '256Mi' } }, ...extra };
}

/** One task with container `main` (image IMAGE) and the given workload fields. */
function task(extra: Record<string, unknown> = {}, workload: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...extra, workload: { containers: { main: { image: IMAGE, resources: { limits: { cpu: '500m', memory: '256Mi' } } } }, ...workload } };
}

function volcanoSpec(r: ServiceResult, kind = 'Job'): VolcanoSpec {
  return objectOf(r, kind, r.name).spec as VolcanoSpec;
}

function errorPaths(r: ServiceResult): string[] {
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.path ?? '');
}

const RESTRICTED = { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };

describe('examples/jobs/train-ranker.yaml: distributed PyTorch training', () => {
  const r = resultOf(deriveYaml(`${platform}\n---\n${train}`), 'analytics/train-ranker');

  test('is Ready and derives a ServiceAccount, one ExternalSecret per task, the Volcano Job and its mesh policies', () => {
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.equal(r.kind, 'LatticeJob');
    assert.deepEqual(r.objects.map((o) => `${o.kind}/${o.metadata.name}`), [
      'ServiceAccount/train-ranker',
      'ExternalSecret/train-ranker-master-hf-token',
      'ExternalSecret/train-ranker-worker-hf-token',
      'Job/train-ranker',
      'CiliumNetworkPolicy/train-ranker',
      'AuthorizationPolicy/train-ranker',
    ]);
    for (const o of r.objects) {
      assertValid(o as never);
      assert.deepEqual(o.metadata.labels, { 'app.kubernetes.io/name': 'train-ranker', 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'analytics', 'lattice.dev/service': 'train-ranker' }, `${o.kind} carries the job's labels`);
    }
    assert.equal(objectOf(r, 'ServiceAccount').automountServiceAccountToken, false);
  });

  test('Volcano Job: gang size, queue, priority, retries, plugins', () => {
    const o = objectOf(r, 'Job', 'train-ranker');
    assert.equal(o.apiVersion, 'batch.volcano.sh/v1alpha1');
    const spec = volcanoSpec(r);
    const { tasks, ...rest } = spec;
    assert.deepEqual(rest, {
      schedulerName: 'volcano',
      minAvailable: 4,
      queue: 'research',
      priorityClassName: 'batch-high',
      maxRetry: 3,
      plugins: { svc: ['--disable-network-policy=true'], pytorch: ['--master=master', '--worker=worker', '--port=23456'] },
    });
    assert.deepEqual(tasks.map((t) => [t.name, t.replicas, t.policies]), [
      ['master', 1, [{ event: 'PodFailed', action: 'RestartJob' }]],
      ['worker', 3, [{ exitCode: 137, action: 'RestartPod' }]],
    ]);
  });

  test('each task pod comes from the shared pod template: identity, restricted security, task restartPolicy, ambient', () => {
    for (const t of volcanoSpec(r).tasks) {
      const pod = t.template;
      assert.equal(pod.spec.serviceAccountName, 'train-ranker', 'every task runs as the job identity');
      assert.equal(pod.spec.automountServiceAccountToken, false);
      assert.equal(pod.spec.restartPolicy, t.name === 'master' ? 'Never' : 'OnFailure');
      assert.equal(pod.spec.priorityClassName, 'batch-high');
      assert.deepEqual(pod.spec.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      assert.equal(pod.metadata.labels['lattice.dev/task'], t.name);
      assert.equal(pod.metadata.labels['istio.io/dataplane-mode'], 'ambient');
      assert.equal(pod.metadata.labels['app.kubernetes.io/name'], 'train-ranker');
      assert.match(pod.metadata.annotations['lattice.dev/config-hash'] ?? '', /^[0-9a-f]{16}$/);
      assert.equal(pod.spec.containers.length, 1);
      const c = pod.spec.containers[0]!;
      assert.equal(c.name, 'trainer');
      assert.equal(c.image, 'registry.example.com/ranker-trainer@sha256:7e9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a');
      assert.deepEqual(c.securityContext, RESTRICTED);
      assert.deepEqual(c.command, ['torchrun']);
      assert.deepEqual(c.env, [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: `train-ranker-${t.name}-hf-token`, key: 'token' } } }], 'the secret by reference, never its value');
      assert.deepEqual(c.volumeMounts, [{ name: 'trainer-scratch-0', mountPath: '/tmp' }]);
    }
  });

  test('the secret is synced by ESO from the job namespace path; no Secret data is derived', () => {
    const es = objectOf(r, 'ExternalSecret', 'train-ranker-worker-hf-token').spec as { data: unknown[]; target: { name: string } };
    assert.deepEqual(es.data, [{ secretKey: 'token', remoteRef: { key: 'analytics/hf-token', property: 'token' } }]);
    assert.equal(r.objects.some((o) => o.kind === 'Secret'), false);
  });

  test('mesh: the tasks reach each other on the rendezvous port only; nothing else gets in', () => {
    const cnp = objectOf(r, 'CiliumNetworkPolicy').spec as { ingress: unknown[]; egress: unknown[]; enableDefaultDeny: unknown };
    assert.deepEqual(cnp.enableDefaultDeny, { ingress: true, egress: true });
    assert.deepEqual(cnp.ingress, [{
      fromEndpoints: [{ matchLabels: { 'k8s:app.kubernetes.io/name': 'train-ranker', 'k8s:io.kubernetes.pod.namespace': 'analytics', 'k8s:io.cilium.k8s.policy.serviceaccount': 'train-ranker' } }],
      toPorts: [{ ports: [{ port: '15008', protocol: 'TCP' }] }],
    }]);
    assert.deepEqual(cnp.egress, [
      {
        toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }],
        toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }], rules: { dns: [{ matchPattern: '*.train-ranker.analytics.svc.cluster.local' }] } }],
      },
      { toEndpoints: [{ matchLabels: { 'k8s:app.kubernetes.io/name': 'train-ranker', 'k8s:io.kubernetes.pod.namespace': 'analytics' } }], toPorts: [{ ports: [{ port: '15008', protocol: 'TCP' }] }] },
    ]);
    const ap = objectOf(r, 'AuthorizationPolicy').spec;
    assert.deepEqual(ap, {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'train-ranker' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/analytics/sa/train-ranker'] } }], to: [{ operation: { ports: ['23456'] } }] }],
    });
  });
});

describe('examples/jobs/nightly-report.yaml: a scheduled batch job', () => {
  const r = resultOf(deriveYaml(`${platform}\n---\n${nightly}`), 'analytics/nightly-report');

  test('derives a Volcano CronJob around the Volcano Job spec', () => {
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.deepEqual(r.objects.map((o) => `${o.kind}/${o.metadata.name}`), [
      'ServiceAccount/nightly-report',
      'ConfigMap/nightly-report-report-main-env',
      'ExternalSecret/nightly-report-report-warehouse-token',
      'CronJob/nightly-report',
      'CiliumNetworkPolicy/nightly-report',
      'ServiceEntry/nightly-report-warehouse',
    ]);
    for (const o of r.objects) assertValid(o as never);
    const cron = objectOf(r, 'CronJob');
    assert.equal(cron.apiVersion, 'batch.volcano.sh/v1alpha1');
    const { jobTemplate, ...rest } = cron.spec as { jobTemplate: { metadata: unknown; spec: VolcanoSpec } };
    assert.deepEqual(rest, { schedule: '0 2 * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    const { tasks, ...jobSpec } = jobTemplate.spec;
    assert.deepEqual(jobSpec, { schedulerName: 'volcano', minAvailable: 1, queue: 'default', maxRetry: 2, ttlSecondsAfterFinished: 86400, policies: [{ events: ['PodFailed', 'PodEvicted'], action: 'RestartJob' }] });
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]!.template.spec.restartPolicy, 'Never');
    // The run's Job spec is a valid Volcano Job spec (the Job CRD itself).
    assert.deepEqual(validateObject({ apiVersion: 'batch.volcano.sh/v1alpha1', kind: 'Job', metadata: { name: 'nightly-report-29000000', namespace: 'analytics' }, spec: jobTemplate.spec } as never), []);
  });

  test('no svc plugin without ports or training; the pods reach the warehouse on 443 only', () => {
    const spec = (objectOf(r, 'CronJob').spec as { jobTemplate: { spec: VolcanoSpec } }).jobTemplate.spec;
    assert.equal(spec.plugins, undefined);
    const cnp = objectOf(r, 'CiliumNetworkPolicy').spec as { ingress?: unknown; egress: { toFQDNs?: unknown; toPorts?: unknown }[] };
    assert.equal(cnp.ingress, undefined, 'nothing may call a job that declares no callers');
    assert.deepEqual(cnp.egress.find((e) => e.toFQDNs !== undefined), { toFQDNs: [{ matchName: 'warehouse.example.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] });
    assert.equal(r.objects.some((o) => o.kind === 'AuthorizationPolicy'), false, 'nothing to allow in: no ALLOW policy (the mesh-wide deny applies)');
  });

  test('the composed CronJob oracle rejects what the upstream CRD rejects', () => {
    const cron = objectOf(r, 'CronJob') as KubeObject & { spec: Record<string, unknown> };
    assert.match(validateObject({ ...cron, spec: { ...cron.spec, concurrencyPolicy: 'Sometimes' } } as never).join('\n'), /concurrencyPolicy/);
    const { schedule: _s, ...noSchedule } = cron.spec;
    assert.match(validateObject({ ...cron, spec: noSchedule } as never).join('\n'), /schedule/);
  });
});

describe('LatticeJob: every shared guarantee holds for a job', () => {
  test('Cedar DeployImage: an image no policy permits fails the whole job, naming the task\'s field', () => {
    const denyOther = {
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'CedarPolicy',
      metadata: { name: 'org', namespace: 'lattice-system' },
      spec: { policies: 'permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };\nforbid (principal, action == Lattice::Action::"DeployImage", resource) unless { resource.registry == "registry.example.com" };' },
    };
    const j = job('etl', { tasks: { ok: task(), bad: task({}, { containers: { main: c({ image: `docker.io/evil/miner@sha256:${'b'.repeat(64)}` }) } }) } });
    const r = resultOf(deriveObjects([denyOther, j]), 'ml/etl');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    assert.equal(conditionOf(r, 'PolicyAuthorized').status, 'False');
    assert.ok(errorPaths(r).includes('spec.tasks.bad.workload.containers.main.image'), errorPaths(r).join(', '));
  });

  test('digest pinning: a tag in any task fails the job', () => {
    const r = resultOf(deriveObjects([job('etl', { tasks: { a: task(), b: task({}, { containers: { main: c({ image: 'registry.example.com/app:latest' }) } }) } })]), 'ml/etl');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    assert.ok(errorPaths(r).some((p) => p.startsWith('spec.tasks.b.workload.containers.main')), errorPaths(r).join(', '));
  });

  test('security: a privileged container needs a Cedar permit; a forbid wins for a job as for a service', () => {
    const noPrivileged = {
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'CedarPolicy',
      metadata: { name: 'sec', namespace: 'lattice-system' },
      spec: { policies: 'permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };\nforbid (principal, action == Lattice::Action::"OverrideSecurity", resource) when { resource.kind == "privileged" };' },
    };
    const j = job('etl', { tasks: { main: task({}, { containers: { main: c({ security: { privileged: true } }) } }) } });
    const r = resultOf(deriveObjects([noPrivileged, j]), 'ml/etl');
    assert.equal(r.status.phase, 'Failed');
    assert.ok(errorPaths(r).some((p) => p.startsWith('spec.tasks.main.workload.containers.main.security')), errorPaths(r).join(', '));
  });

  test('secrets by reference: a secret in a file or env is an ExternalSecret; the pod reads the synced Secret, no value anywhere', () => {
    const j = job('etl', {
      tasks: {
        main: task({}, {
          containers: { main: c({ variables: { DSN: 'postgres://u:${resources.db.password}@db/x' }, files: { '/etc/app/key': { content: '${resources.db.password}' } } }) },
          resources: { db: { type: 'secret', params: { keys: ['password'] } } },
        }),
      },
    });
    const r = resultOf(deriveObjects([{ apiVersion: 'lattice.dev/v1alpha1', kind: 'SecretProvider', metadata: { name: 'vault', namespace: 'lattice-system' }, spec: { default: true, provider: { vault: { server: 'https://vault.example.com', path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 't', key: 't', namespace: 'external-secrets' } } } } } }, j]), 'ml/etl');
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.equal(r.objects.some((o) => o.kind === 'Secret'), false);
    const es = r.objects.filter((o) => o.kind === 'ExternalSecret');
    assert.ok(es.length >= 1);
    for (const e of es) assertValid(e as never);
    const pod = volcanoSpec(r).tasks[0]!.template;
    const env = pod.spec.containers[0]!.env ?? [];
    assert.ok(env.every((e) => e.value === undefined || !e.value.includes('password')), 'no secret text inlined');
    assert.ok(env.some((e) => e.name === 'DSN' && (e.valueFrom as { secretKeyRef?: unknown }).secretKeyRef !== undefined));
  });

  test('a job in a protected namespace is refused', () => {
    const r = resultOf(deriveObjects([job('etl', {}, 'lattice-system')]), 'lattice-system/etl');
    assert.equal(r.status.phase, 'Failed');
    assert.ok(r.diagnostics.some((d) => d.reason === 'ProtectedNamespace'));
  });

  test('quota: a job whose pods exceed its namespace quota is not derived', () => {
    const quota = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeQuota', metadata: { name: 'ml', namespace: 'lattice-system' }, spec: { selector: { namespaces: ['ml'] }, hard: { pods: 3 } } };
    const r = resultOf(deriveObjects([quota, job('big', { tasks: { main: task({ replicas: 5 }) } })]), 'ml/big');
    assert.equal(r.status.phase, 'Failed');
    assert.equal(conditionOf(r, 'QuotaSatisfied').status, 'False');
    assert.deepEqual(errorPaths(r), ['spec.tasks.main.replicas'], 'the refusal names the task\'s replicas');
    const small = resultOf(deriveObjects([quota, job('small', { tasks: { main: task({ replicas: 2 }) } })]), 'ml/small');
    assert.equal(small.status.phase, 'Ready');
    assert.equal(conditionOf(small, 'QuotaSatisfied').status, 'True');
  });

  test('bilateral mesh: a job reaches a service only when both declare it, and the service admits only the job identity', () => {
    const caller = job('etl', { tasks: { main: task({}, { resources: { api: { type: 'service' } } }) } }, 'shop');
    const api = service('api', { workload: { service: { ports: { http: { port: 80, targetPort: 8080 } } } } });
    const egressTo = (r: ServiceResult): boolean => JSON.stringify(objectOf(r, 'CiliumNetworkPolicy').spec).includes('"k8s:app.kubernetes.io/name":"api"');

    const oneSided = deriveObjects([caller, api]);
    const etl1 = resultOf(oneSided, 'shop/etl');
    assert.equal(etl1.status.phase, 'Ready');
    assert.equal(conditionOf(etl1, 'DependenciesAgreed').status, 'False');
    assert.equal(egressTo(etl1), false, 'no egress without the callee\'s consent');
    assert.equal(resultOf(oneSided, 'shop/api').objects.some((o) => o.kind === 'AuthorizationPolicy' && JSON.stringify(o).includes('sa/etl')), false);

    const agreed = deriveObjects([caller, service('api', { workload: { service: { ports: { http: { port: 80, targetPort: 8080 } } }, resources: { etl: { type: 'service', direction: 'inbound' } } } })]);
    const etl2 = resultOf(agreed, 'shop/etl');
    assert.equal(conditionOf(etl2, 'DependenciesAgreed').status, 'True');
    assert.equal(egressTo(etl2), true);
    const ap = objectOf(resultOf(agreed, 'shop/api'), 'AuthorizationPolicy').spec as { rules: { from: { source: { principals: string[] } }[] }[] };
    assert.deepEqual(ap.rules[0]!.from[0]!.source.principals, ['cluster.local/ns/shop/sa/etl'], 'the callee admits the job by its one identity');
  });

  test('intra-job: declared task ports and the training port only; another job of the namespace is not admitted', () => {
    const a = job('a', {
      training: { framework: 'pytorch' },
      tasks: {
        master: task({}, { service: { ports: { board: { port: 6006 } } } }),
        worker: task({ replicas: 2 }),
      },
    });
    const b = job('b', { training: { framework: 'mpi' }, tasks: { master: task(), worker: task() } });
    const p = deriveObjects([a, b]);
    const ra = resultOf(p, 'ml/a');
    assert.equal(ra.status.phase, 'Ready', JSON.stringify(ra.diagnostics));
    const ap = objectOf(ra, 'AuthorizationPolicy').spec as { rules: { from: { source: { principals: string[] } }[]; to: { operation: { ports: string[] } }[] }[] };
    assert.deepEqual(ap.rules, [{ from: [{ source: { principals: ['cluster.local/ns/ml/sa/a'] } }], to: [{ operation: { ports: ['6006', '23456'] } }] }]);
    const cnp = JSON.stringify(objectOf(ra, 'CiliumNetworkPolicy').spec);
    assert.equal(cnp.includes('"k8s:app.kubernetes.io/name":"b"'), false, 'job b is not a peer of job a');
    assert.equal(JSON.stringify(ap).includes('/sa/b'), false);
    const rb = resultOf(p, 'ml/b');
    assert.deepEqual((volcanoSpec(rb).plugins as Record<string, string[]>), { svc: ['--disable-network-policy=true'], ssh: [], mpi: ['--master=master', '--worker=worker', '--port=22'] });
    assert.deepEqual((objectOf(rb, 'AuthorizationPolicy').spec as { rules: { to: { operation: { ports: string[] } }[] }[] }).rules.map((x) => x.to[0]!.operation.ports), [['22']]);
    for (const o of [...ra.objects, ...rb.objects]) assertValid(o as never);
  });

  test('the metrics scraper gets no access to a job (a job derives no scrape target)', () => {
    const r = resultOf(deriveObjects([job('a', { tasks: { main: task({}, { service: { ports: { metrics: { port: 9090 } } } }) } })]), 'ml/a');
    assert.equal(r.objects.some((o) => o.kind === 'VMServiceScrape'), false);
    const text = JSON.stringify(r.objects);
    assert.equal(text.includes('vmagent'), false, text);
  });
});

describe('LatticeJob validation: each problem names its field and the fix', () => {
  const problems = (spec: Record<string, unknown>, name = 'etl'): Map<string, string> => {
    const r = resultOf(deriveObjects([job(name, spec)]), `ml/${name}`);
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    return new Map(r.diagnostics.map((d) => [d.path ?? '', d.message]));
  };

  test('field rules: restartPolicy Always, policy triggers', () => {
    const p = problems({ tasks: { worker: task({ replicas: 2, restartPolicy: 'Always', policies: [{ event: 'PodFailed', exitCode: 1, action: 'RestartJob' }, { exitCode: 0, action: 'AbortJob' }] }) } });
    assert.match(p.get('spec.tasks.worker.restartPolicy') ?? '', /"Never", "OnFailure"/);
    assert.match(p.get('spec.tasks.worker.policies[0]') ?? '', /exactly one trigger/);
    assert.match(p.get('spec.tasks.worker.policies[1].exitCode') ?? '', /must not be 0/);
  });

  test('rules across fields: gang size above the pods, master task missing', () => {
    const p = problems({ minAvailable: 5, training: { framework: 'pytorch', master: 'chief' }, tasks: { worker: task({ replicas: 2, minAvailable: 3 }) } });
    assert.match(p.get('spec.minAvailable') ?? '', /above the job's 2 pods/);
    assert.match(p.get('spec.tasks.worker.minAvailable') ?? '', /above the task's replicas \(2\)/);
    assert.match(p.get('spec.training.master') ?? '', /"chief" is not one of the job's tasks \(worker\)/);
  });

  test('cron expressions and a scheduled name too long for its runs', () => {
    assert.match(problems({ schedule: { cron: '0 2 * * * *' } }).get('spec.schedule.cron') ?? '', /has 6 fields; a cron expression has 5/);
    assert.match(problems({ schedule: { cron: 'TZ=UTC 0 2 * * *' } }).get('spec.schedule.cron') ?? '', /use schedule.timeZone/);
    const long = 'a'.repeat(53);
    assert.match(problems({ schedule: { cron: '@daily' } }, long).get('metadata.name') ?? '', /at most 52 characters/);
  });

  test('workload rules of a service hold per task; tasks may not disagree on a resource', () => {
    const p = problems({
      tasks: {
        a: task({}, { containers: { main: c({ envFrom: ['nope'] }) }, resources: { db: { type: 'secret' } } }),
        b: task({}, { resources: { db: { type: 'service' } } }),
      },
    });
    assert.match(p.get('spec.tasks.a.workload.containers.main.envFrom[0]') ?? '', /not declared in workload.resources/);
    assert.match(p.get('spec.tasks.b.workload.resources.db') ?? '', /declared differently by tasks a and b/);
  });

  test('an unknown field gets its file position and a did-you-mean', () => {
    const text = `apiVersion: lattice.dev/v1alpha1\nkind: LatticeJob\nmetadata: {name: etl, namespace: ml}\nspec:\n  tasks:\n    main:\n      replica: 2\n      workload:\n        containers:\n          main: {image: "${IMAGE}"}\n`;
    const r = resultOf(deriveYaml(text, 'etl.yaml'), 'ml/etl');
    const d = r.diagnostics.find((x) => x.path === 'spec.tasks.main.replica');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.match(d.message, /did you mean "replicas"/);
    assert.equal(d.location?.line, 7);
  });
});

describe('jobRunStatus: a Volcano Job status as LatticeJob run conditions', () => {
  const NOW = '2026-02-01T00:00:00Z';
  const EXPECTED: Record<(typeof VOLCANO_PHASES)[number], [string, string, string, string]> = {
    Pending: ['Pending', 'False', 'False', 'False'],
    Restarting: ['Pending', 'False', 'False', 'False'],
    Running: ['Running', 'True', 'False', 'False'],
    Completing: ['Running', 'True', 'False', 'False'],
    Completed: ['Succeeded', 'False', 'True', 'False'],
    Aborting: ['Running', 'False', 'False', 'False'],
    Aborted: ['Failed', 'False', 'False', 'True'],
    Terminating: ['Running', 'False', 'False', 'False'],
    Terminated: ['Failed', 'False', 'False', 'True'],
    Failed: ['Failed', 'False', 'False', 'True'],
  };

  test('every Volcano phase maps to a run phase and Running/Complete/Failed, the phase as reason', () => {
    for (const phase of VOLCANO_PHASES) {
      const s = jobRunStatus({ state: { phase }, running: 1 }, { now: NOW, generation: 4 });
      const [jobPhase, running, complete, failed] = EXPECTED[phase];
      assert.equal(s.jobPhase, jobPhase, phase);
      assert.deepEqual(s.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration, c.lastTransitionTime]), [
        ['Running', running, phase, 4, NOW],
        ['Complete', complete, phase, 4, NOW],
        ['Failed', failed, phase, 4, NOW],
      ], phase);
    }
  });

  test('no status yet reads as Pending; a failure says what to do; an unchanged status keeps its transition time', () => {
    assert.equal(jobRunStatus(undefined, { now: NOW }).jobPhase, 'Pending');
    const failed = jobRunStatus({ state: { phase: 'Failed' }, retryCount: 3, failed: 2 }, { now: NOW, maxRetry: 3 });
    assert.match(failed.conditions[2]!.message, /3 of 3 retries used.*raise spec.maxRetry/);
    const later = jobRunStatus({ state: { phase: 'Failed' } }, { now: '2026-03-01T00:00:00Z', previous: failed.conditions });
    assert.deepEqual(later.conditions.map((c) => c.lastTransitionTime), [NOW, NOW, NOW]);
    const again = jobRunStatus({ state: { phase: 'Running' } }, { now: '2026-03-01T00:00:00Z', previous: failed.conditions });
    assert.deepEqual(again.conditions.map((c) => c.lastTransitionTime), ['2026-03-01T00:00:00Z', NOW, '2026-03-01T00:00:00Z']);
  });

  test('a phase this version does not know is Unknown, not a crash', () => {
    const s = jobRunStatus({ state: { phase: 'Hibernating' } }, { now: NOW });
    assert.deepEqual(s.conditions.map((c) => [c.status, c.reason]), [['Unknown', 'UnknownVolcanoPhase'], ['Unknown', 'UnknownVolcanoPhase'], ['Unknown', 'UnknownVolcanoPhase']]);
  });
});

test('scorecards: a job gets the derived check; the service checks say they do not apply', async () => {
  const { scorePlatform } = await import('../src/compiler/score/index.ts');
  const j = job('etl');
  const p = deriveObjects([j]);
  const card = scorePlatform(p, [{ object: j }]).services.find((s) => s.key === 'ml/etl')!;
  assert.equal(card.checks[0]!.status, 'pass');
  for (const c of card.checks.slice(1)) {
    assert.equal(c.status, 'skip');
    assert.match(c.message, /not applied to a LatticeJob/);
  }
});

test('task-level gang size and retries, policy timeouts and defaults reach the Volcano Job as declared', () => {
  const r = resultOf(deriveObjects([job('etl', {
    schedulerName: 'volcano',
    tasks: {
      ps: task({ replicas: 2, minAvailable: 1, maxRetry: 5, policies: [{ event: 'TaskCompleted', action: 'CompleteJob' }] }),
      worker: task({ replicas: 4, policies: [{ events: ['PodEvicted'], action: 'RestartTask', timeout: '10m' }] }),
    },
  })]), 'ml/etl');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.diagnostics));
  const spec = volcanoSpec(r);
  assert.equal(spec.minAvailable, 6, 'default gang: every pod of every task');
  assert.equal(spec.queue, undefined, 'no queue: Volcano\'s default queue');
  assert.equal(spec.plugins, undefined, 'no ports, no training: no plugins');
  assert.deepEqual(spec.tasks.map(({ template: _t, ...rest }) => rest), [
    { name: 'ps', replicas: 2, minAvailable: 1, maxRetry: 5, policies: [{ event: 'TaskCompleted', action: 'CompleteJob' }] },
    { name: 'worker', replicas: 4, policies: [{ events: ['PodEvicted'], action: 'RestartTask', timeout: '10m' }] },
  ]);
  for (const t of spec.tasks) assert.equal(t.template.spec.restartPolicy, 'Never', 'the default restartPolicy');
  assertValid(objectOf(r, 'Job') as never);
});
