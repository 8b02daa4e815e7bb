/**
 * The controller against attacks on what it owns (issue 13, items 7 and 8), on the fake API server:
 * - it never adopts an object it did not create (a Helm-owned Deployment with a derived name): it
 *   reports ResourceConflict, applies nothing, and deleting the LatticeService leaves that object;
 * - a service whose privilege is revoked does not keep running: its Deployment (and every other
 *   derived object) is deleted, its status says so; an undecidable refusal (an invalid CedarPolicy)
 *   keeps what runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FIELD_MANAGER } from '../src/controller/resources.ts';
import { KEPT_NOTE, REMOVED_NOTE } from '../src/controller/reconcile.ts';
import { API, World, container, service, until } from './fakeapi/harness.ts';

type Status = { phase?: string; message?: string; observedGeneration?: number; conditions?: { type: string; status: string; reason: string; message: string }[] };
const statusOf = (o: object | undefined): Status => ((o as { status?: unknown } | undefined)?.status ?? {}) as Status;

describe('controller: never adopts an object it did not create', () => {
  const world = new World();
  const helmDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'payments',
      namespace: 'commerce',
      labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'payments' },
      annotations: { 'meta.helm.sh/release-name': 'payments' },
    },
    spec: { replicas: 3, selector: { matchLabels: { app: 'payments' } }, template: { metadata: { labels: { app: 'payments' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
  };

  before(async () => {
    await world.setUp(['commerce']);
    world.api.create(helmDeployment, 'helm');
    await world.startController('controller-a');
    world.api.create(service('payments', 'commerce', { workload: { containers: { api: container() }, service: { ports: { http: { port: 8080 } } } } }));
  });
  after(() => world.tearDown());

  it('reports ResourceConflict naming the object and its manager, and applies nothing', async () => {
    const failed = await world.converged('commerce', 'payments', 'Failed');
    await world.idle();
    const st = statusOf(failed);
    const owned = st.conditions?.find((c) => c.type === 'ResourcesOwned');
    assert.ok(owned, JSON.stringify(st.conditions));
    assert.deepEqual([owned.status, owned.reason], ['False', 'ResourceConflict']);
    const ready = st.conditions!.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason], ['False', 'ResourceConflict']);
    assert.match(owned.message, /^Deployment\.apps commerce\/payments already exists and is managed by Helm \(label app\.kubernetes\.io\/managed-by=Helm; field managers: helm\)\. Lattice does not take over objects it did not create/);
    assert.match(owned.message, /Rename the service/);
    // The Helm Deployment is untouched: no field of it moved to the controller, no owner reference.
    const dep = world.api.get('apps/v1', 'Deployment', 'commerce', 'payments')!;
    assert.equal((dep.spec as { replicas: number }).replicas, 3);
    assert.equal(dep.metadata.ownerReferences, undefined);
    assert.ok((dep.metadata.managedFields ?? []).every((f) => f.manager !== FIELD_MANAGER));
    // All-or-nothing: none of the service's other objects were applied either.
    assert.deepEqual(world.derivedOf('commerce', 'payments').map((o) => `${o.kind}/${o.metadata.name}`), []);
    assert.equal(world.writes('controller-a').filter((r) => r.method === 'PATCH' && r.resource?.subresource === undefined && r.resource?.kind !== 'LatticeService' && r.resource?.namespace === 'commerce').length, 0);
    const warning = await until('a Warning event', () => world.api.list('events.k8s.io/v1', 'Event', 'commerce').find((e) => e.type === 'Warning'));
    assert.equal(warning.reason, 'ResourceConflict');
  });

  it('deleting the LatticeService leaves the Helm Deployment in place', async () => {
    world.api.delete(API, 'LatticeService', 'commerce', 'payments');
    await world.idle();
    assert.ok(world.api.get('apps/v1', 'Deployment', 'commerce', 'payments'), 'the Helm Deployment was deleted with the LatticeService');
  });

  it('once the name is free the service is derived and applied', async () => {
    world.api.delete('apps/v1', 'Deployment', 'commerce', 'payments');
    world.api.create(service('payments', 'commerce', { workload: { containers: { api: container() }, service: { ports: { http: { port: 8080 } } } } }));
    await world.converged('commerce', 'payments', 'Ready');
    await world.idle();
    await world.assertMatchesRender('commerce', 'payments');
  });
});

describe('controller: a revoked privilege does not keep running', () => {
  const world = new World();
  const spec = {
    workload: {
      containers: { api: container(undefined, { security: { capabilities: { add: ['NET_ADMIN'] } } }) },
      service: { ports: { http: { port: 8080 } } },
      resources: { db: { type: 'secret', params: { keys: ['dsn'] } } },
    },
  };
  const netAdmin = {
    apiVersion: API,
    kind: 'CedarPolicy',
    metadata: { name: 'net-admin', namespace: 'lattice-system' },
    spec: { owner: 'the security team', policies: '@id("vpn-net-admin")\npermit (principal == Lattice::Service::"commerce/vpn", action == Lattice::Action::"OverrideSecurity", resource == Lattice::SecurityOverride::"capability:NET_ADMIN");\n' },
  };

  before(async () => {
    await world.setUp(['commerce']);
    world.api.create(netAdmin);
    await world.startController('controller-a');
    world.api.create(service('vpn', 'commerce', spec));
  });
  after(() => world.tearDown());

  it('runs while permitted', async () => {
    await world.converged('commerce', 'vpn', 'Ready');
    await world.idle();
    await world.assertMatchesRender('commerce', 'vpn');
    const dep = world.api.get('apps/v1', 'Deployment', 'commerce', 'vpn')!;
    const caps = (dep.spec as { template: { spec: { containers: { securityContext: { capabilities: { add?: string[] } } }[] } } }).template.spec.containers[0]!.securityContext.capabilities.add;
    assert.deepEqual(caps, ['NET_ADMIN']);
  });

  it('an invalid CedarPolicy (undecidable) refuses the service but keeps what runs, except ExternalSecrets', async () => {
    world.api.create({ apiVersion: API, kind: 'CedarPolicy', metadata: { name: 'typo', namespace: 'lattice-system' }, spec: { policies: 'forbid (principal, action, resource) when { principal.name == };' } });
    const failed = await until('vpn refused for the invalid policy', () => {
      const st = statusOf(world.svc('commerce', 'vpn'));
      return st.phase === 'Failed' && st.conditions?.find((c) => c.type === 'Ready')?.reason === 'PolicyInvalid' ? st : undefined;
    });
    await world.idle();
    assert.ok(failed.conditions!.find((c) => c.type === 'Ready')!.message.endsWith(KEPT_NOTE));
    assert.ok(world.api.get('apps/v1', 'Deployment', 'commerce', 'vpn'), 'an undecidable refusal must not take the service down');
    assert.deepEqual(world.api.list('external-secrets.io/v1', 'ExternalSecret', 'commerce'), []);
    world.api.delete(API, 'CedarPolicy', 'lattice-system', 'typo');
    await until('vpn Ready again', () => statusOf(world.svc('commerce', 'vpn')).phase === 'Ready');
    await world.idle();
  });

  it('revoking the permit deletes the Deployment and every other derived object; the status stays and says so', async () => {
    world.api.delete(API, 'CedarPolicy', 'lattice-system', 'net-admin');
    const failed = await until('vpn refused', () => {
      const st = statusOf(world.svc('commerce', 'vpn'));
      return st.phase === 'Failed' ? st : undefined;
    });
    await world.idle();
    const ready = failed.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.reason, 'SecurityOverrideDenied');
    assert.ok(ready.message.endsWith(REMOVED_NOTE), ready.message);
    assert.equal(world.api.get('apps/v1', 'Deployment', 'commerce', 'vpn'), undefined, 'the privileged Deployment kept running after its permit was revoked');
    assert.deepEqual(world.derivedOf('commerce', 'vpn').map((o) => `${o.kind}/${o.metadata.name}`), []);
    await world.assertMatchesRender('commerce', 'vpn');
  });

  it('granting it again brings everything back', async () => {
    world.api.create(netAdmin);
    await until('vpn Ready again', () => statusOf(world.svc('commerce', 'vpn')).phase === 'Ready');
    await world.idle();
    await world.assertMatchesRender('commerce', 'vpn');
  });
});
