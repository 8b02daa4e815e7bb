/**
 * The operator's parts on their own: durations, the work queue (with a manual clock), the tables of
 * derived kinds against what the compiler derives, the install manifests against their schemas and
 * least privilege, leader election and the HTTP endpoints against the fake API server, and the CLI.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ApiException } from '@kubernetes/client-node';
import { KINDS } from '../src/api/kinds.ts';
import { allCrds } from '../src/api/crd.ts';
import { KIND_ORDER } from '../src/compiler/service/pipeline.ts';
import { derivePlatform } from '../src/compiler/platform/snapshot.ts';
import { loadDocuments } from '../src/cli/load.ts';
import { verifyImages } from '../src/cli/images.ts';
import { buildProgram, run } from '../src/cli/main.ts';
import { formatDuration, parseDuration } from '../src/controller/duration.ts';
import { WorkQueue } from '../src/controller/queue.ts';
import { DERIVED_KINDS, READ_KINDS, derivedKind, groupOf, latticeResourceTypes, workloadResourceTypes } from '../src/controller/resources.ts';
import { clusterRoleRules, installManifests, leaseRoleRules, type PolicyRule } from '../src/controller/install.ts';
import { LeaderElector, leaderSettingsProblem } from '../src/controller/leader.ts';
import { apiFailure } from '../src/controller/kube.ts';
import { MAX_NOTE_BYTES, truncateNote } from '../src/controller/events.ts';
import { systemClock } from '../src/controller/clock.ts';
import { parseListen } from '../src/controller/http.ts';
import { assertValid } from './support/schemas.ts';
import { ManualClock } from './fakeapi/clock.ts';
import { FakeApiServer } from './fakeapi/server.ts';
import { World, container, service, until } from './fakeapi/harness.ts';

const silent = pino({ level: 'silent' });

describe('durations', () => {
  it('parses Go durations to milliseconds and rejects anything else with the fix', () => {
    assert.deepEqual(parseDuration('15s'), { ok: true, ms: 15_000 });
    assert.deepEqual(parseDuration('1m30s'), { ok: true, ms: 90_000 });
    assert.deepEqual(parseDuration('250ms'), { ok: true, ms: 250 });
    assert.deepEqual(parseDuration('0.5s'), { ok: true, ms: 500 });
    assert.deepEqual(parseDuration('1h'), { ok: true, ms: 3_600_000 });
    assert.deepEqual(parseDuration('0'), { ok: true, ms: 0 });
    for (const bad of ['15', '1d', '', 's', '-1s', '1 s']) {
      const r = parseDuration(bad);
      assert.equal(r.ok, false, bad);
      if (!r.ok) assert.match(r.error, /e\.g\. 500ms, 15s/);
    }
    assert.equal(formatDuration(15_000), '15s');
    assert.equal(formatDuration(600_000), '10m');
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(500), '500ms');
  });
});

describe('work queue', () => {
  const limits = { backoffBaseMs: 100, backoffMaxMs: 1_000, qps: 1_000, burst: 1_000 };

  it('hands out a key once however often it was added, and never to two workers at once', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue(clock, limits);
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.depth, 2);
    assert.equal(await q.get(), 'a');
    q.add('a'); // changed while being processed: queued again after done, not handed out now
    assert.equal(q.depth, 1);
    assert.equal(await q.get(), 'b');
    let next: string | undefined;
    const waiting = q.get().then((k) => (next = k));
    await Promise.resolve();
    assert.equal(next, undefined);
    q.done('a');
    await waiting;
    assert.equal(next, 'a');
    q.done('b');
    q.done('a');
    assert.equal(q.depth, 0);
  });

  it('backs off per key exponentially up to the maximum, and forget resets it', () => {
    const clock = new ManualClock();
    const q = new WorkQueue(clock, limits);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => q.addRateLimited('a')), [100, 200, 400, 800, 1000]);
    assert.equal(q.failuresOf('a'), 5);
    assert.equal(q.addRateLimited('b'), 100, 'keys back off independently');
    q.forget('a');
    assert.equal(q.addRateLimited('a'), 100);
  });

  it('queues a retry when its delay has passed, the earliest pending retry wins, and an add cancels it', () => {
    const clock = new ManualClock();
    const q = new WorkQueue(clock, limits);
    q.addAfter('a', 500);
    q.addAfter('a', 200);
    clock.advance(199);
    assert.equal(q.depth, 0);
    clock.advance(1);
    assert.equal(q.depth, 1);
    assert.equal(clock.pending, 0, 'the later retry was dropped');
    q.addAfter('b', 300);
    q.add('b');
    assert.equal(q.depth, 2);
    assert.equal(clock.pending, 0);
  });

  it('spaces retries out with the overall token bucket when many keys fail at once', () => {
    const clock = new ManualClock();
    const q = new WorkQueue(clock, { backoffBaseMs: 1, backoffMaxMs: 1, qps: 2, burst: 2 });
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => q.addRateLimited(k)), [1, 1, 500, 1000]);
    clock.advance(5_000);
    assert.equal(q.addRateLimited('e'), 1, 'the bucket refills over time');
  });

  it('honours a Retry-After longer than the backoff', () => {
    const q = new WorkQueue(new ManualClock(), limits);
    assert.equal(q.addRateLimited('a', 3_000), 3_000);
  });

  it('drains on shutdown: queued keys are still handed out, new ones refused, then workers are told to stop', async () => {
    const q = new WorkQueue(new ManualClock(), limits);
    q.add('a');
    q.addRateLimited('late');
    q.shutDown();
    q.add('b');
    assert.equal(q.waitingRetry, 0, 'retries are dropped on shutdown');
    assert.equal(await q.get(), 'a');
    q.done('a');
    assert.equal(await q.get(), undefined);
  });
});

describe('the kinds the controller derives', () => {
  it('covers every kind of the compiler\'s apply order except Secret, which nothing derives', () => {
    for (const kind of KIND_ORDER) {
      if (kind === 'Secret') continue;
      assert.ok(DERIVED_KINDS.some((k) => k.kind === kind), `${kind} is in KIND_ORDER but not in DERIVED_KINDS (src/controller/resources.ts)`);
    }
    assert.ok(!DERIVED_KINDS.some((k) => k.kind === 'Secret'));
  });

  it('has the apiVersion, level and scope of every object the example platform derives', async () => {
    const loaded = loadDocuments([fileURLToPath(new URL('../examples', import.meta.url))]);
    const images = await verifyImages(loaded.documents, { bundles: loaded.bundles });
    const result = derivePlatform(loaded.documents, { now: '2026-01-01T00:00:00Z', images });
    const derived = [...result.services.flatMap((s) => s.objects.map((o) => ({ o, level: 'service' as const }))), ...result.platformObjects.map((o) => ({ o, level: 'platform' as const }))];
    assert.ok(derived.length > 20, 'the examples derive little: is the example platform still there?');
    const seen = new Set<string>();
    for (const { o, level } of derived) {
      const k = derivedKind(o.apiVersion, o.kind);
      assert.ok(k, `${o.apiVersion} ${o.kind} is derived but missing from DERIVED_KINDS`);
      assert.equal(k.apiVersion, o.apiVersion, `${o.kind}: the table says ${k.apiVersion}, the compiler emits ${o.apiVersion}`);
      assert.ok(k.levels.includes(level), `${o.kind} is derived at ${level} level`);
      assert.equal(o.metadata.namespace !== undefined, k.namespaced, `${o.kind} scope`);
      if (level === 'service') assert.ok(o.metadata.labels?.['lattice.dev/service'], `${o.kind} ${o.metadata.name} lacks lattice.dev/service`);
      else assert.equal(o.metadata.labels?.['lattice.dev/service'], undefined, `platform ${o.kind} carries lattice.dev/service`);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'lattice', `${o.kind} ${o.metadata.name} lacks managed-by`);
      seen.add(`${o.kind} ${level}`);
    }
    assert.ok(seen.has('ClusterSecretStore platform') && seen.has('Deployment service'));
  });

  it('watches every Lattice kind of the registry', () => {
    assert.deepEqual(latticeResourceTypes().map((t) => t.kind), KINDS.map((k) => k.kind));
  });
});

/** Whether a set of rules grants `verb` on `group`/`resource` (RBAC: any rule matching all three). */
function allows(rules: PolicyRule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && r.resourceNames === undefined);
}

describe('lattice install', () => {
  const objects = installManifests({ image: 'registry.example.com/lattice@sha256:9f2b7c1d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c', version: '0.1.0' });

  it('prints objects that are each valid against their schema', () => {
    for (const o of objects) assertValid(o as { apiVersion: string; kind: string });
  });

  it('prints, in apply order, the namespace, every CRD, the identity, RBAC, a 2-replica Deployment, the metrics Service and the conversion webhook', () => {
    assert.deepEqual(objects.map((o) => o.kind), ['Namespace', ...allCrds().map(() => 'CustomResourceDefinition'), 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service', 'Service', 'Issuer', 'Certificate']);
    const ns = objects[0] as { metadata: { name: string; labels: Record<string, string> } };
    assert.equal(ns.metadata.name, 'lattice-system');
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
    const deployment = objects.find((o) => o.kind === 'Deployment') as { spec: { replicas: number; template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } } };
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    const c = pod.containers[0]!;
    assert.deepEqual(c.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(c.args, ['controller', '--listen=:8080', '--identity=$(POD_NAME)', '--lease-namespace=lattice-system', '--lease-name=lattice-controller', '--webhook-listen=:9443', '--webhook-cert-dir=/var/run/lattice/webhook-tls']);
    assert.equal((c.livenessProbe as { httpGet: { path: string } }).httpGet.path, '/healthz');
    assert.equal((c.readinessProbe as { httpGet: { path: string } }).httpGet.path, '/readyz');
    const services = objects.filter((o) => o.kind === 'Service') as { metadata: { name: string }; spec: { ports: { port: number; name: string; targetPort: string }[] } }[];
    assert.deepEqual(services.map((svc) => [svc.metadata.name, svc.spec.ports.map((p) => [p.name, p.port, p.targetPort])]), [
      ['lattice-controller-metrics', [['metrics', 8080, 'metrics']]],
      ['lattice-controller-webhook', [['webhook', 443, 'webhook']]],
    ]);
    // The webhook: the pods listen on 9443 with the cert-manager certificate mounted; the CRD's CA comes from the same Certificate.
    assert.deepEqual((c.ports as { name: string; containerPort: number }[]).map((p) => [p.name, p.containerPort]), [['metrics', 8080], ['webhook', 9443]]);
    assert.deepEqual(c.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }, { name: 'webhook-tls', mountPath: '/var/run/lattice/webhook-tls', readOnly: true }]);
    assert.deepEqual((pod.volumes as unknown[])[1], { name: 'webhook-tls', secret: { secretName: 'lattice-controller-webhook' } });
    const cert = objects.find((o) => o.kind === 'Certificate') as { metadata: { name: string; namespace: string }; spec: { secretName: string; dnsNames: string[]; issuerRef: { name: string } } };
    assert.deepEqual([cert.metadata.namespace, cert.metadata.name, cert.spec.secretName, cert.spec.dnsNames[0], cert.spec.issuerRef.name], ['lattice-system', 'lattice-controller-webhook', 'lattice-controller-webhook', 'lattice-controller-webhook.lattice-system.svc', 'lattice-controller-selfsigned']);
    const crd = objects.find((o) => (o as { metadata: { name: string } }).metadata.name === 'latticeservices.lattice.dev') as { metadata: { annotations: Record<string, string> } };
    assert.equal(crd.metadata.annotations['cert-manager.io/inject-ca-from'], `${cert.metadata.namespace}/${cert.metadata.name}`);
  });

  it('grants exactly what the controller does: no get, no Secrets, no wildcards', () => {
    const rules = clusterRoleRules();
    for (const r of rules) {
      assert.ok(!r.verbs.includes('*') && !r.resources.includes('*') && !r.apiGroups.includes('*'));
      assert.ok(!r.resources.includes('secrets'), 'the controller must not be able to read Secrets');
      // get only on derived kinds: to check, before applying, that an existing object is Lattice's (never adopt).
      if (r.verbs.includes('get')) assert.ok(r.resources.every((res) => DERIVED_KINDS.some((k) => k.plural === res && groupOf(k.apiVersion) === r.apiGroups[0])), `get on ${r.resources.join(', ')}`);
    }
    for (const t of [...latticeResourceTypes(), ...READ_KINDS]) {
      assert.ok(allows(rules, groupOf(t.apiVersion), t.plural, 'list') && allows(rules, groupOf(t.apiVersion), t.plural, 'watch'), `no list/watch on ${t.plural}`);
      assert.ok(!allows(rules, groupOf(t.apiVersion), t.plural, 'patch'), `the controller never writes ${t.plural}`);
    }
    for (const k of DERIVED_KINDS) for (const verb of ['create', 'patch', 'get', 'list', 'delete']) assert.ok(allows(rules, groupOf(k.apiVersion), k.plural, verb), `no ${verb} on ${k.plural}`);
    assert.ok(allows(rules, 'lattice.dev', 'latticeservices/status', 'patch'));
    assert.ok(allows(rules, 'lattice.dev', 'latticeservices/finalizers', 'update'));
    assert.ok(allows(rules, 'events.k8s.io', 'events', 'create'));
    const granted = rules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${res}`)).sort();
    const expected = [
      ...[...latticeResourceTypes(), ...READ_KINDS, ...DERIVED_KINDS].map((t) => `${groupOf(t.apiVersion)}/${t.plural}`),
      // Status and finalizers of every workload kind (LatticeService, LatticeJob, LatticeModel...), written by the controller.
      ...workloadResourceTypes().flatMap((t) => [`lattice.dev/${t.plural}/status`, `lattice.dev/${t.plural}/finalizers`]),
      'events.k8s.io/events',
    ].sort();
    assert.ok(workloadResourceTypes().length >= 3, 'services, jobs and models are workloads');
    assert.deepEqual(granted, expected, 'the ClusterRole lists exactly the kinds the controller reads and derives');
    assert.deepEqual(leaseRoleRules(), [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: ['lattice-controller'] },
    ]);
  });

  it('is printed by the CLI as YAML or a JSON List, and refuses bad flags', async () => {
    let out = '';
    let err = '';
    const streams = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) };
    assert.equal(await run(['install', '-o', 'json', '--image', 'lattice-controller:0.2.0', '--replicas', '3'], streams), 0);
    const list = JSON.parse(out) as { kind: string; items: { kind: string; spec?: { replicas?: number; template?: { spec: { containers: { image: string }[] } } } }[] };
    assert.equal(list.kind, 'List');
    const d = list.items.find((o) => o.kind === 'Deployment')!;
    assert.equal(d.spec!.replicas, 3);
    assert.equal(d.spec!.template!.spec.containers[0]!.image, 'lattice-controller:0.2.0');
    out = '';
    assert.equal(await run(['install', '--replicas', '0'], streams), 2);
    assert.match(err, /--replicas: "0" must be a whole number of at least 1/);
    assert.equal(await run(['install', '--image', 'Not An Image'], streams), 2);
    assert.match(err, /--image: "Not An Image" is not an image reference/);
  });
});

describe('lattice controller (CLI)', () => {
  it('documents every flag in --help and in docs/controller.md', async () => {
    const command = buildProgram(() => undefined).commands.find((c) => c.name() === 'controller')!;
    let help = '';
    await run(['controller', '--help'], { stdout: (t) => void (help += t), stderr: () => undefined });
    const docs = readFileSync(new URL('../docs/controller.md', import.meta.url), 'utf8');
    assert.equal(command.options.length, 21);
    for (const o of command.options) {
      assert.ok(o.description && o.description.length > 15, `${o.long} has no description`);
      assert.ok(help.includes(o.long!), `--help does not show ${o.long}`);
      assert.ok(docs.includes(`\`${o.long}`), `docs/controller.md does not document ${o.long}`);
    }
  });

  it('refuses inconsistent election timings and unparseable values before connecting, exit 2', async () => {
    let err = '';
    const streams = { stdout: () => undefined, stderr: (t: string) => void (err += t) };
    assert.equal(await run(['controller', '--kubeconfig', '/nonexistent', '--lease-duration', '2s', '--renew-deadline', '3s', '--resync-period', 'soon', '--concurrency', '0'], streams), 2);
    assert.match(err, /the renew deadline must be shorter than the lease duration/);
    assert.match(err, /--resync-period: "soon" is not a duration/);
    assert.match(err, /--concurrency: "0" must be a number above 0/);
    err = '';
    assert.equal(await run(['controller', '--kubeconfig', '/nonexistent/kubeconfig'], streams), 2);
    assert.match(err, /--kubeconfig \/nonexistent\/kubeconfig: no such file/);
  });

  it('checks the listen address', () => {
    assert.deepEqual(parseListen(':8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.throws(() => parseListen('8080'), /write host:port or :port/);
  });
});

describe('small helpers', () => {
  it('reads code, reason, message and Retry-After from an API error', () => {
    const f = apiFailure(new ApiException(429, 'Unsuccessful HTTP Request', JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', message: 'slow down' }), { 'retry-after': '3' }));
    assert.deepEqual(f, { code: 429, reason: 'TooManyRequests', message: 'slow down', retryAfterMs: 3000 });
    assert.deepEqual(apiFailure(new Error('connect ECONNREFUSED')), { message: 'connect ECONNREFUSED' });
  });

  it('cuts Event notes to the API server\'s 1 KiB limit without splitting a character', () => {
    assert.equal(truncateNote('short'), 'short');
    const cut = truncateNote('é'.repeat(2000));
    assert.ok(Buffer.byteLength(cut) <= MAX_NOTE_BYTES);
    assert.ok(cut.endsWith('…'));
    assert.ok(!cut.includes('\uFFFD'));
  });
});

describe('leader election against the fake API server', () => {
  const api = new FakeApiServer();
  before(async () => {
    await api.start();
    api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lattice-system' } });
  });
  after(() => api.stop());

  const settings = (identity: string) => ({ namespace: 'lattice-system', name: 'election', identity, leaseDurationMs: 1_200, renewDeadlineMs: 800, retryPeriodMs: 50 });

  it('checks that renew deadline < lease duration and retry period < renew deadline', () => {
    assert.equal(leaderSettingsProblem({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }), undefined);
    assert.match(leaderSettingsProblem({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })!, /renew deadline must be shorter/);
    assert.match(leaderSettingsProblem({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })!, /retry period must be shorter/);
  });

  it('elects one leader; a leader cut off from the API server stops leading before another takes over', async () => {
    const timeline: string[] = [];
    const mk = (id: string): LeaderElector =>
      new LeaderElector(api.kubeConfig(id), settings(id), systemClock, silent, {
        onStartedLeading: () => timeline.push(`${id} leads`),
        onStoppedLeading: () => timeline.push(`${id} stopped`),
      });
    const a = mk('elector-a');
    a.start();
    await until('a to lead', () => a.isLeader());
    const b = mk('elector-b');
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.isLeader(), false, 'b must not lead while a renews');
    // a can no longer reach the API server.
    const cut = api.inject({ match: (r) => r.user === 'elector-a', status: 503, times: 1_000_000 });
    await until('b to lead', () => b.isLeader(), 10_000);
    assert.equal(a.isLeader(), false);
    assert.deepEqual(timeline, ['elector-a leads', 'elector-a stopped', 'elector-b leads']);
    const lease = api.get('coordination.k8s.io/v1', 'Lease', 'lattice-system', 'election')!;
    assert.equal((lease.spec as { holderIdentity: string }).holderIdentity, 'elector-b');
    assert.equal((lease.spec as { leaseTransitions: number }).leaseTransitions, 1);
    cut.times = 0;
    await b.release();
    await a.release();
    const released = api.get('coordination.k8s.io/v1', 'Lease', 'lattice-system', 'election')!;
    assert.equal((released.spec as { holderIdentity?: string }).holderIdentity, undefined, 'release empties the holder');
  });

  it('hands over within a retry period when the leader releases the Lease', async () => {
    const a = new LeaderElector(api.kubeConfig('elector-c'), { ...settings('elector-c'), name: 'handover', leaseDurationMs: 60_000, renewDeadlineMs: 40_000 }, systemClock, silent, { onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    const b = new LeaderElector(api.kubeConfig('elector-d'), { ...settings('elector-d'), name: 'handover', leaseDurationMs: 60_000, renewDeadlineMs: 40_000 }, systemClock, silent, { onStartedLeading: () => undefined, onStoppedLeading: () => undefined });
    a.start();
    await until('c to lead', () => a.isLeader());
    b.start();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(b.isLeader(), false);
    await a.release();
    // Without the release b would wait 60s for the Lease to expire.
    await until('d to lead', () => b.isLeader(), 5_000);
    await b.release();
  });
});

describe('health, readiness and metrics endpoints', () => {
  const world = new World();
  before(() => world.setUp(['commerce']));
  after(() => world.tearDown());

  it('is not ready until every kind is listed, then serves /healthz, /readyz and Prometheus /metrics', async () => {
    const blocked = world.api.inject({ match: (r) => r.method === 'GET' && !r.watch && r.resource?.kind === 'CedarPolicy', status: 500, times: 1_000_000 });
    const c = await world.startController('controller-a', { listen: { host: '127.0.0.1', port: 0 } });
    const get = async (path: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(`${c.url}${path}`);
      return { status: res.status, text: await res.text() };
    };
    await until('a failed CedarPolicy list', () => world.api.requests.some((r) => r.injected));
    const notReady = await get('/readyz');
    assert.equal(notReady.status, 503);
    assert.match(notReady.text, /not ready: the informers have not listed every kind/);
    assert.equal((await get('/healthz')).status, 200);
    blocked.times = 0;
    await until('/readyz 200', async () => (await get('/readyz')).status === 200);
    world.api.create(service('payments', 'commerce', { workload: { containers: { api: container() } } }));
    await world.converged('commerce', 'payments', 'Ready');
    await world.idle();
    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    const value = (line: string): number => Number(new RegExp(`^${line.replace(/[{}"]/g, (m) => `\\${m}`)} ([0-9.e+-]+)$`, 'm').exec(metrics.text)?.[1]);
    assert.ok(value('lattice_reconcile_total{kind="service",result="success"}') >= 1);
    assert.ok(value('lattice_reconcile_total{kind="platform",result="success"}') >= 1);
    assert.ok(value('lattice_derivations_total{result="success"}') >= 1);
    assert.equal(value('lattice_services{phase="Ready"}'), 1);
    assert.equal(value('lattice_services{phase="Failed"}'), 0);
    assert.equal(value('lattice_workqueue_depth'), 0);
    assert.equal(value('lattice_leader'), 1);
    assert.match(metrics.text, /^lattice_reconcile_duration_seconds_bucket\{le="0\.1",kind="service"\} [0-9]+$/m);
    assert.equal((await get('/nope')).status, 404);
    // Every log line about the service carries its key.
    const about = world.logs.filter((l) => l.key !== '@platform' && typeof l.msg === 'string' && /derived and applied|status written|applied$/.test(l.msg));
    assert.ok(about.length >= 2);
    for (const l of about) assert.equal(l.service, 'commerce/payments', JSON.stringify(l));
  });
});

describe('the platform view the controller keeps', () => {
  it('reports namespaces with the LatticeTeams laid over the Namespace objects (what adoption metrics count teams by)', async () => {
    const { PlatformView } = await import('../src/controller/derive.ts');
    const objects: Record<string, unknown[]> = {
      Namespace: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'lattice.dev/team': 'someone-else', tier: 'web' } } }],
      LatticeTeam: [{ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeTeam', metadata: { name: 'commerce', namespace: 'lattice-system' }, spec: { owner: 'commerce (#commerce)', group: 'commerce-devs', namespaces: { shop: { environment: 'production' } }, quota: { cpu: 4, memory: '8Gi', pods: 20 } } }],
    };
    const types = [...latticeResourceTypes(), ...READ_KINDS];
    const view = new PlatformView({ list: (t) => (objects[t.kind] ?? []) as never }, types, pino({ level: 'silent' }));
    assert.deepEqual(view.namespaces(), {});
    view.rebuild('2026-01-01T00:00:00Z');
    assert.deepEqual(view.problems, []);
    const shop = view.namespaces()['shop']!;
    // The team's own label wins over what the Namespace object claims; the Namespace's other labels stay.
    assert.equal(shop.labels?.['lattice.dev/team'], 'commerce');
    assert.equal(shop.labels?.['tier'], 'web');
  });

  it('owner references name the workload\'s own kind, LatticeService by default', async () => {
    const { ownerReferenceFor } = await import('../src/controller/resources.ts');
    assert.deepEqual(ownerReferenceFor({ metadata: { name: 'a', uid: 'u1' } }), { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', name: 'a', uid: 'u1', controller: true, blockOwnerDeletion: true });
    assert.deepEqual(ownerReferenceFor({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeJob', metadata: { name: 'b', uid: 'u2' } }).kind, 'LatticeJob');
  });
});
