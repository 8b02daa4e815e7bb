/**
 * The operator under faults, against the fake API server: API errors (500, 429 with Retry-After,
 * 409), drift, a watch cut in the middle of an event, a watch whose resourceVersion expired (410),
 * the controller process killed in the middle of a reconcile, and two replicas sharing the Lease.
 * Each test asserts that the store converges to what `lattice render` derives, that nothing is
 * duplicated or orphaned, and who wrote.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { FIELD_MANAGER } from '../src/controller/resources.ts';
import { defaultResources } from './fakeapi/resources.ts';
import { API, IMAGE, IMAGE_B, World, container, service, until } from './fakeapi/harness.ts';

const SPEC = {
  replicas: 2,
  workload: {
    containers: { api: container(IMAGE, { variables: { DB: '${resources.db.dsn}', STRIPE: '${resources.stripe.api-key}' } }) },
    service: { ports: { http: { port: 8080 } } },
    resources: { db: { type: 'secret', params: { keys: ['dsn'] } }, stripe: { type: 'secret', params: { keys: ['api-key'] } } },
  },
};

/** SPEC without the stripe secret. */
function withoutStripe(): Record<string, unknown> {
  const spec = structuredClone(SPEC) as unknown as { workload: { containers: { api: { variables: Record<string, string> } }; resources: Record<string, unknown> } };
  delete spec.workload.resources.stripe;
  delete spec.workload.containers.api.variables.STRIPE;
  return spec as unknown as Record<string, unknown>;
}

describe('faults: API errors and drift', () => {
  const world = new World();
  before(() => world.setUp(['commerce']));
  after(() => world.tearDown());

  it('converges through 500s and 429s on apply, waiting at least Retry-After after a 429', async () => {
    const f500 = world.api.inject({ match: (r) => r.method === 'PATCH' && r.resource?.kind === 'Deployment', status: 500, times: 3 });
    const f429 = world.api.inject({ match: (r) => r.method === 'PATCH' && r.resource?.kind === 'Service' && r.resource.subresource === undefined, status: 429, headers: { 'retry-after': '1' }, times: 2 });
    await world.startController('controller-a');
    world.api.create(service('payments', 'commerce', SPEC));
    await world.converged('commerce', 'payments', 'Ready');
    await world.idle();
    assert.equal(f500.times, 0, 'the 500s were not all hit');
    assert.equal(f429.times, 0, 'the 429s were not all hit');
    await world.assertMatchesRender('commerce', 'payments');
    const servicePatches = world.api.requests.filter((r) => r.method === 'PATCH' && r.resource?.kind === 'Service' && r.resource.subresource === undefined);
    servicePatches.forEach((r, i) => {
      if (r.status === 429 && servicePatches[i + 1]) assert.ok(servicePatches[i + 1]!.at - r.at >= 1000, `retried ${servicePatches[i + 1]!.at - r.at}ms after a 429 with Retry-After: 1`);
    });
    const deploymentPatches = world.api.requests.filter((r) => r.method === 'PATCH' && r.resource?.kind === 'Deployment');
    assert.ok(deploymentPatches.length >= 4);
    // Every failure was logged with the service key, and the status said why while it failed.
    const failures = world.logs.filter((l) => l.msg === 'reconcile failed; will retry');
    assert.ok(failures.length >= 5);
    for (const l of failures) assert.equal(l.service, 'commerce/payments');
    world.assertNoOrphans();
  });

  it('retries a status write answered 409 Conflict', async () => {
    const f409 = world.api.inject({ match: (r) => r.resource?.subresource === 'status', status: 409, reason: 'Conflict', message: 'the object has been modified; please apply your changes to the latest version and try again', times: 1 });
    const live = world.svc('commerce', 'payments')!;
    world.api.update({ ...live, spec: { ...SPEC, replicas: 3 } });
    const converged = await world.converged('commerce', 'payments', 'Ready');
    assert.equal(converged.metadata.generation, 2);
    assert.equal(f409.times, 0);
    await world.idle();
    await world.assertMatchesRender('commerce', 'payments');
  });

  it('takes fields back from another manager on resync (server-side apply with force)', async () => {
    // Someone edits the Deployment by hand: they now own spec.replicas.
    const deployment = world.api.get('apps/v1', 'Deployment', 'commerce', 'payments')!;
    world.api.update({ ...deployment, spec: { ...(deployment.spec as object), replicas: 7 } }, 'kubectl-edit');
    const edited = world.api.get('apps/v1', 'Deployment', 'commerce', 'payments')!;
    assert.equal((edited.spec as { replicas: number }).replicas, 7);
    assert.ok(edited.metadata.managedFields?.some((f) => f.manager === 'kubectl-edit'));
    // A second controller with a short resync takes over from the first.
    await world.controllers[0]!.stop();
    await world.startController('controller-b', { timings: { resyncMs: 200 } as never });
    await until('replicas restored by the resync', () => (world.api.get('apps/v1', 'Deployment', 'commerce', 'payments')!.spec as { replicas: number }).replicas === 3);
    const restored = world.api.get('apps/v1', 'Deployment', 'commerce', 'payments')!;
    const owners = (restored.metadata.managedFields ?? []).filter((f) => JSON.stringify(f.fieldsV1).includes('"f:replicas"'));
    assert.deepEqual(owners.map((f) => f.manager), [FIELD_MANAGER], 'spec.replicas should be owned by the controller again');
    await world.assertMatchesRender('commerce', 'payments');
  });
});

describe('faults: the cluster lacks a kind Lattice derives', () => {
  // No External Secrets Operator: the cluster serves neither ExternalSecrets nor ClusterSecretStores.
  const world = new World({ resources: defaultResources().filter((r) => r.group !== 'external-secrets.io') });
  before(async () => {
    await world.setUp(['commerce']);
    await world.startController('controller-a');
  });
  after(() => world.tearDown());

  it('says what to install in the status, applies nothing after the missing kind, and keeps retrying', async () => {
    world.api.create(service('payments', 'commerce', SPEC));
    const pending = await until('payments Pending with ApplyFailed', () => {
      const s = world.svc('commerce', 'payments');
      const st = s?.status as { phase?: string; conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined;
      const ready = st?.conditions?.find((c) => c.type === 'Ready');
      return st?.phase === 'Pending' && ready?.reason === 'ApplyFailed' ? ready : undefined;
    });
    assert.equal(pending.status, 'False');
    assert.match(pending.message, /the cluster does not serve external-secrets\.io\/v1 ExternalSecret.*install External Secrets Operator/);
    assert.ok(world.api.get('v1', 'ServiceAccount', 'commerce', 'payments'), 'what comes before the missing kind is applied');
    assert.equal(world.api.get('apps/v1', 'Deployment', 'commerce', 'payments'), undefined, 'the Deployment must wait for its secrets');
    const warning = await until('an ApplyFailed Warning event', () => world.api.list('events.k8s.io/v1', 'Event', 'commerce').find((e) => e.reason === 'ApplyFailed'));
    assert.equal(warning.type, 'Warning');
    await until('a retry', () => world.logs.filter((l) => l.service === 'commerce/payments' && l.msg === 'reconcile failed; will retry').length >= 2);
  });

  it('applies the platform objects the cluster serves although one kind is missing', async () => {
    await until('the baseline default-deny', () => world.api.get('cilium.io/v2', 'CiliumClusterwideNetworkPolicy', undefined, 'lattice-default-deny'));
    await until('the mesh-wide mTLS', () => world.api.get('security.istio.io/v1', 'PeerAuthentication', 'istio-system', 'default'));
    assert.ok(world.logs.some((l) => l.key === '@platform' && String(l.msg).includes('does not serve external-secrets.io/v1 ClusterSecretStore')));
  });
});

describe('faults: watches', () => {
  const world = new World();
  before(async () => {
    await world.setUp(['commerce']);
    await world.startController('controller-a');
    world.api.create(service('payments', 'commerce', SPEC));
    // orders calls payments: payments' derivation reads orders (a one-sided edge until payments agrees).
    world.api.create(service('orders', 'commerce', { workload: { containers: { api: container(IMAGE_B) }, resources: { payments: { type: 'service' } } } }));
    await world.converged('commerce', 'payments', 'Ready');
    await world.converged('commerce', 'orders', 'Ready');
    await world.idle();
  });
  after(() => world.tearDown());

  const serviceWatches = (): number => world.api.requests.filter((r) => r.watch && r.resource?.kind === 'LatticeService').length;

  it('recovers from a watch stream cut in the middle of an event: it watches again and sees the change', async () => {
    const watchesBefore = serviceWatches();
    assert.ok(world.api.cutWatchesOnNextEvent('LatticeService') >= 1);
    const live = world.svc('commerce', 'payments')!;
    world.api.update({ ...live, spec: withoutStripe() });
    const converged = await world.converged('commerce', 'payments', 'Ready');
    assert.equal(converged.metadata.generation, 2);
    await world.idle();
    assert.ok(serviceWatches() > watchesBefore, 'no new watch after the cut');
    assert.equal(world.api.get('external-secrets.io/v1', 'ExternalSecret', 'commerce', 'payments-stripe'), undefined);
    await world.assertMatchesRender('commerce', 'payments');
    assert.ok(world.logs.some((l) => l.msg?.toString().startsWith('watch failed') && l.resource === 'lattice.dev/v1alpha1/LatticeService'));
  });

  it('lists again after 410 Gone and sees what happened while it was not watching, deletions included', async () => {
    // Keep the LatticeService watch down: cut it, and fail every attempt to watch again.
    const down = world.api.inject({ match: (r) => r.watch === true && r.resource?.kind === 'LatticeService', status: 500, times: 1_000_000 });
    world.api.cutWatchesOnNextEvent('LatticeService');
    const live = world.svc('commerce', 'payments')!;
    world.api.update({ ...live, metadata: { ...live.metadata, labels: { tier: 'gold' } } }); // consumed by the cut
    await until('the watch to be down', () => world.api.requests.some((r) => r.injected && r.watch));
    // Meanwhile: orders is deleted and payments edited; then the history is compacted away.
    world.api.delete(API, 'LatticeService', 'commerce', 'orders');
    const again = world.svc('commerce', 'payments')!;
    world.api.update({ ...again, spec: { ...withoutStripe(), replicas: 4 } });
    world.api.compact();
    down.times = 0;
    const converged = await world.converged('commerce', 'payments', 'Ready');
    assert.equal((converged.spec as { replicas: number }).replicas, 4);
    await world.idle();
    assert.ok(world.api.requests.some((r) => r.expired && r.resource?.kind === 'LatticeService'), 'no watch was answered 410');
    // payments' derivation no longer sees orders: the controller noticed the deletion through the relist.
    await world.assertMatchesRender('commerce', 'payments');
    assert.deepEqual(world.derivedOf('commerce', 'orders'), []);
    world.assertNoOrphans();
  });
});

describe('faults: two replicas share the Lease', () => {
  const world = new World();
  before(() => world.setUp(['commerce']));
  after(() => world.tearDown());

  it('only the leader writes; the standby takes over when the leader stops, and nothing is duplicated', async () => {
    const [a, b] = await Promise.all([world.startController('replica-a'), world.startController('replica-b')]);
    const leader = await until('a leader', () => (a.isLeader() ? a : b.isLeader() ? b : undefined));
    const standby = leader === a ? b : a;
    const leaderUser = leader.identity;
    const standbyUser = standby.identity;
    world.api.create(service('payments', 'commerce', SPEC));
    await world.converged('commerce', 'payments', 'Ready');
    await world.idle();
    assert.equal(standby.isLeader(), false);
    assert.ok(world.writes(leaderUser).length > 0);
    assert.deepEqual(world.writes(standbyUser).map((r) => `${r.method} ${r.path}`), [], 'the standby wrote');

    const stoppedAt = world.api.requests.length;
    await leader.stop();
    await until('the standby to lead', () => standby.isLeader());
    const lease = world.api.get('coordination.k8s.io/v1', 'Lease', 'lattice-system', 'lattice-controller')!;
    assert.equal((lease.spec as { holderIdentity: string }).holderIdentity, standbyUser);
    assert.ok((lease.spec as { leaseTransitions: number }).leaseTransitions >= 1);

    const live = world.svc('commerce', 'payments')!;
    world.api.update({ ...live, spec: withoutStripe() });
    await world.converged('commerce', 'payments', 'Ready');
    await world.idle();
    const later = world.api.requests.slice(stoppedAt).filter((r) => r.method !== 'GET' && r.resource?.plural !== 'leases');
    assert.ok(later.length > 0);
    assert.deepEqual([...new Set(later.map((r) => r.user))], [standbyUser], 'after the handover only the new leader writes');
    await world.assertMatchesRender('commerce', 'payments');
    assert.deepEqual(world.api.list('external-secrets.io/v1', 'ExternalSecret', 'commerce').map((o) => o.metadata.name), ['payments-db'], 'one ExternalSecret, nothing duplicated');
    world.assertNoOrphans();
  });
});

describe('faults: the controller process is killed in the middle of a reconcile', () => {
  const world = new World();
  const dir = mkdtempSync(join(tmpdir(), 'lattice-controller-'));
  const children: ChildProcess[] = [];

  function startProcess(user: string): ChildProcess {
    const kubeconfig = join(dir, `${user}.kubeconfig`);
    writeFileSync(kubeconfig, world.api.kubeConfigYaml(user));
    // The sources under test by default; LATTICE_FROM_SOURCE=0 runs the bundle in dist/ (npm run build) instead.
    const child = spawn(process.execPath, [
      fileURLToPath(new URL('../bin/lattice.js', import.meta.url)), 'controller', '--kubeconfig', kubeconfig, '--identity', user,
      // Short enough that process-2 takes over soon after process-1 dies, long enough that a busy machine keeps it.
      '--lease-duration', '5s', '--renew-deadline', '4s', '--retry-period', '200ms',
      '--backoff-base', '20ms', '--backoff-max', '500ms', '--watch-retry', '50ms', '--listen', '127.0.0.1:0', '--log-level', 'debug',
    ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LATTICE_FROM_SOURCE: process.env.LATTICE_FROM_SOURCE ?? '1' } });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (process.env.LATTICE_TEST_LOG) process.stderr.write(`[${user}] ${d.toString()}`);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => ((child as ChildProcess & { output?: string }).output = `${out}\n(exit ${code})`));
    children.push(child);
    return child;
  }

  before(() => world.setUp(['commerce']));
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await world.tearDown();
  });

  it('a new process converges the same final state: nothing duplicated, nothing orphaned, stale objects pruned', async () => {
    const held = world.api.holdNextResponse((r) => r.method === 'PATCH' && r.resource?.kind === 'Deployment' && r.user === 'process-1');
    const first = startProcess('process-1');
    world.api.create(service('payments', 'commerce', SPEC));
    await held; // the Deployment is written, the process never hears back
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    assert.ok(world.api.get('apps/v1', 'Deployment', 'commerce', 'payments'), 'the held apply was committed');
    assert.ok(world.api.get('external-secrets.io/v1', 'ExternalSecret', 'commerce', 'payments-stripe'));
    assert.equal(world.svc('commerce', 'payments')!.status, undefined, 'no status was written before the kill');

    // While no controller runs, the spec drops a secret: the next process must prune what the first one applied.
    const live = world.svc('commerce', 'payments')!;
    world.api.update({ ...live, spec: withoutStripe() });
    const second = startProcess('process-2');
    await world.converged('commerce', 'payments', 'Ready', 30_000);
    await until('the render state', async () => {
      await world.assertMatchesRender('commerce', 'payments');
      return true;
    });
    assert.equal(world.api.get('external-secrets.io/v1', 'ExternalSecret', 'commerce', 'payments-stripe'), undefined, 'the stale ExternalSecret was not pruned');
    world.assertNoOrphans();
    // process-2 wrote nothing before it held the Lease (it waited for process-1's Lease to expire).
    const takeover = world.api.requests.find((r) => r.user === 'process-2' && r.resource?.plural === 'leases' && r.method === 'PUT' && r.status === 200)!;
    assert.ok(takeover, 'process-2 never took the Lease');
    const early = world.writes('process-2').filter((r) => r.seq < takeover.seq);
    assert.deepEqual(early.map((r) => `${r.method} ${r.path}`), []);

    second.kill('SIGTERM');
    const code = await new Promise((resolve) => second.once('exit', resolve));
    assert.equal(code, 0, (second as ChildProcess & { output?: string }).output);
    const lease = world.api.get('coordination.k8s.io/v1', 'Lease', 'lattice-system', 'lattice-controller')!;
    assert.equal((lease.spec as { holderIdentity?: string }).holderIdentity, undefined, 'the Lease was not released on SIGTERM');
  });
});
