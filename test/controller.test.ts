/**
 * The operator end to end, without a cluster: the real controller and the real
 * @kubernetes/client-node against the in-process fake API server (test/fakeapi/). Each scenario
 * asserts the store's final state against what `lattice render` derives from the same inputs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KIND_ORDER } from '../src/compiler/service/pipeline.ts';
import { FIELD_MANAGER, objectId } from '../src/controller/resources.ts';
import { REMOVED_NOTE } from '../src/controller/reconcile.ts';
import { clusterRoleRules, leaseRoleRules, type PolicyRule } from '../src/controller/install.ts';
import { API, IMAGE, IMAGE_B, World, container, service, until } from './fakeapi/harness.ts';

const PAYMENTS_SPEC = {
  replicas: 2,
  workload: {
    containers: {
      api: container(IMAGE, {
        variables: { DATABASE_URL: 'postgres://app:${resources.db.dsn}@db:5432/payments', STRIPE_KEY: '${resources.stripe.api-key}', MODE: 'live' },
      }),
    },
    service: { ports: { http: { port: 8080 } } },
    resources: {
      db: { type: 'secret', params: { keys: ['dsn'] } },
      stripe: { type: 'secret', params: { keys: ['api-key'] } },
    },
  },
};

describe('controller: a service through its life', () => {
  const world = new World();
  let uid = '';

  before(async () => {
    await world.setUp(['commerce']);
    // A decoy: Lattice's labels but no owner reference. The controller must never touch it.
    world.api.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'payments-hand-made', namespace: 'commerce', labels: { 'lattice.dev/service': 'payments', 'app.kubernetes.io/managed-by': 'lattice' } },
      data: { note: 'made by hand' },
    });
    await world.startController('controller-a');
    world.api.create(service('payments', 'commerce', PAYMENTS_SPEC));
  });
  after(() => world.tearDown());

  it('creates every derived object, owned and labelled, and writes status Ready for generation 1', async () => {
    const live = await world.converged('commerce', 'payments', 'Ready');
    uid = live.metadata.uid;
    await world.idle();
    await world.assertMatchesRender('commerce', 'payments');
    const kinds = world.derivedOf('commerce', 'payments').filter((o) => o.metadata.name !== 'payments-hand-made').map((o) => o.kind).sort();
    for (const k of ['Deployment', 'ExternalSecret', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ConfigMap']) assert.ok(kinds.includes(k), `no ${k} derived (got ${kinds.join(', ')})`);
    const status = live.status as { observedGeneration: number; conditions: { type: string; status: string; reason: string; observedGeneration: number }[] };
    assert.equal(status.observedGeneration, 1);
    const ready = status.conditions.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason, ready.observedGeneration], ['True', 'Derived', 1]);
    // The platform-level objects: the ClusterSecretStore of the SecretProvider.
    const css = world.api.get('external-secrets.io/v1', 'ClusterSecretStore', undefined, 'vault');
    assert.ok(css, 'no ClusterSecretStore vault');
    assert.deepEqual((css.spec as { provider: unknown }).provider, { vault: { server: 'https://vault.example.com:8200', path: 'secret', version: 'v2' } });
    assert.equal(css.metadata.ownerReferences, undefined, 'a cluster-scoped object cannot be owned by a namespaced SecretProvider');
  });

  it('applies with server-side apply as lattice-controller, in the compiler\'s dependency order', () => {
    const applies = world.api.requests.filter((r) => r.method === 'PATCH' && r.resource?.namespace === 'commerce' && r.resource.subresource === undefined && r.status < 300);
    assert.ok(applies.length >= 6);
    for (const r of applies) {
      assert.equal(r.contentType, 'application/apply-patch+yaml');
      assert.equal(r.query.fieldManager, FIELD_MANAGER);
      assert.equal(r.query.force, 'true');
    }
    // The first pass over the service's objects: each kind no earlier in KIND_ORDER than the one before.
    const first = applies.slice(0, world.derivedOf('commerce', 'payments').length - 1).map((r) => KIND_ORDER.indexOf(r.resource!.kind));
    assert.deepEqual(first, [...first].sort((a, b) => a - b), `apply order by kind: ${applies.map((r) => r.resource!.kind).join(', ')}`);
    const deployment = world.api.get('apps/v1', 'Deployment', 'commerce', 'payments')!;
    assert.ok(deployment.metadata.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply'));
  });

  it('records a Normal Derived Event about the service', async () => {
    const events = await until('a Derived event', () => {
      const list = world.api.list('events.k8s.io/v1', 'Event', 'commerce').filter((e) => e.reason === 'Derived');
      return list.length > 0 ? list : undefined;
    });
    const e = events[0]! as unknown as { type: string; regarding: { kind: string; name: string; uid: string }; reportingController: string; note: string };
    assert.equal(e.type, 'Normal');
    assert.deepEqual([e.regarding.kind, e.regarding.name, e.regarding.uid], ['LatticeService', 'payments', uid]);
    assert.equal(e.reportingController, 'lattice.dev/lattice-controller');
    assert.match(e.note, /generation 1/);
  });

  it('writes nothing when a reconcile finds nothing to change: no status write, no new resourceVersion', async () => {
    await world.idle();
    const versions = new Map(world.derivedOf('commerce', 'payments').map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion]));
    const statusWrites = world.api.requests.filter((r) => r.resource?.subresource === 'status').length;
    const applies = world.api.requests.filter((r) => r.method === 'PATCH' && r.resource?.kind === 'Deployment').length;
    const live = world.svc('commerce', 'payments')!;
    world.api.update({ ...live, metadata: { ...live.metadata, labels: { tier: 'gold' } } }); // a label: reconciled, derives the same
    await until('the Deployment applied again', () => world.api.requests.filter((r) => r.method === 'PATCH' && r.resource?.kind === 'Deployment').length > applies);
    await world.idle();
    assert.deepEqual(new Map(world.derivedOf('commerce', 'payments').map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion])), versions);
    assert.equal(world.api.requests.filter((r) => r.resource?.subresource === 'status').length, statusWrites, 'an unchanged status was written');
  });

  it('follows an edit: a port added, a secret removed, its ExternalSecret pruned, the hand-made ConfigMap untouched', async () => {
    const live = world.svc('commerce', 'payments')!;
    const readyBefore = (live.status as { conditions: { type: string; lastTransitionTime: string }[] }).conditions.find((c) => c.type === 'Ready')!;
    const spec = structuredClone(PAYMENTS_SPEC) as unknown as { workload: { containers: { api: { variables: Record<string, string> } }; service: { ports: Record<string, unknown> }; resources: Record<string, unknown> } };
    spec.workload.service.ports.grpc = { port: 9090 };
    delete spec.workload.resources.stripe;
    delete spec.workload.containers.api.variables.STRIPE_KEY;
    world.api.update({ ...live, spec });
    const updated = await world.converged('commerce', 'payments', 'Ready');
    assert.equal(updated.metadata.generation, 2);
    const readyAfter = (updated.status as { conditions: { type: string; status: string; lastTransitionTime: string; observedGeneration: number }[] }).conditions.find((c) => c.type === 'Ready')!;
    assert.equal(readyAfter.observedGeneration, 2);
    assert.equal(readyAfter.lastTransitionTime, readyBefore.lastTransitionTime, 'Ready stayed True: its lastTransitionTime must not move');
    await world.idle();
    await world.assertMatchesRender('commerce', 'payments');
    const svc = world.api.get('v1', 'Service', 'commerce', 'payments')!;
    assert.deepEqual((svc.spec as { ports: { name: string; port: number }[] }).ports.map((p) => [p.name, p.port]).sort(), [['grpc', 9090], ['http', 8080]]);
    assert.equal(world.api.get('external-secrets.io/v1', 'ExternalSecret', 'commerce', 'payments-stripe'), undefined, 'the removed secret\'s ExternalSecret was not pruned');
    assert.ok(world.api.get('external-secrets.io/v1', 'ExternalSecret', 'commerce', 'payments-db'), 'the kept secret\'s ExternalSecret is gone');
    const decoy = world.api.get('v1', 'ConfigMap', 'commerce', 'payments-hand-made');
    assert.ok(decoy, 'an object without the owner reference was deleted');
    assert.equal(decoy.metadata.resourceVersion !== undefined && decoy.metadata.managedFields?.every((f) => f.manager !== FIELD_MANAGER), true, 'the controller wrote to an object it does not own');
    world.assertNoOrphans();
  });

  it('fails the service when a CedarPolicy denies it: PolicyAuthorized False, every derived object deleted, the decoy kept', async () => {
    world.api.create({
      apiVersion: API,
      kind: 'CedarPolicy',
      metadata: { name: 'freeze-payments', namespace: 'lattice-system' },
      spec: {
        owner: 'the security team',
        policies: '@id("no-secrets-for-payments")\nforbid (principal == Lattice::Service::"commerce/payments", action == Lattice::Action::"AccessSecret", resource);\n',
      },
    });
    const failed = await world.converged('commerce', 'payments', 'Failed');
    await world.idle();
    const status = failed.status as { message: string; conditions: { type: string; status: string; reason: string; message: string }[]; resources: unknown[] };
    const policy = status.conditions.find((c) => c.type === 'PolicyAuthorized');
    assert.ok(policy, `no PolicyAuthorized condition: ${JSON.stringify(status.conditions)}`);
    assert.equal(policy.status, 'False');
    assert.match(policy.message, /no-secrets-for-payments|freeze-payments/);
    const ready = status.conditions.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, policy.reason);
    assert.ok(ready.message.endsWith(REMOVED_NOTE));
    assert.deepEqual(status.resources, []);
    assert.deepEqual(world.api.list('external-secrets.io/v1', 'ExternalSecret', 'commerce'), [], 'an ExternalSecret survived the denial');
    assert.equal(world.api.get('apps/v1', 'Deployment', 'commerce', 'payments'), undefined, 'the Deployment of a denied spec kept running');
    assert.deepEqual(world.derivedOf('commerce', 'payments').map((o) => o.metadata.name), ['payments-hand-made'], 'only the decoy (no owner reference) may remain');
    await world.assertMatchesRender('commerce', 'payments');
    const warning = await until('a Warning event', () => world.api.list('events.k8s.io/v1', 'Event', 'commerce').find((e) => e.type === 'Warning'));
    assert.equal(warning.reason, ready.reason);
  });

  it('derives the service again once the policy permits it', async () => {
    world.api.delete(API, 'CedarPolicy', 'lattice-system', 'freeze-payments');
    await until('payments Ready again', () => (world.svc('commerce', 'payments')?.status as { phase?: string } | undefined)?.phase === 'Ready');
    await world.idle();
    await world.assertMatchesRender('commerce', 'payments');
    assert.ok(world.api.get('external-secrets.io/v1', 'ExternalSecret', 'commerce', 'payments-db'));
  });

  it('made only requests that the RBAC of `lattice install` allows', () => {
    const permits = (rules: PolicyRule[], group: string, resource: string, verb: string, name?: string): boolean =>
      rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb) && (r.resourceNames === undefined || (name !== undefined && r.resourceNames.includes(name))));
    const requests = world.api.requests.filter((r) => r.user === 'controller-a' && r.resource !== undefined);
    assert.ok(requests.length > 20);
    const seen = new Set<string>();
    for (const r of requests) {
      const res = r.resource!;
      const resource = res.subresource ? `${res.plural}/${res.subresource}` : res.plural;
      const verbs = r.method === 'GET' ? [res.name ? 'get' : r.watch ? 'watch' : 'list'] : r.method === 'POST' ? ['create'] : r.method === 'PUT' ? ['update'] : r.method === 'DELETE' ? ['delete'] : r.status === 201 ? ['patch', 'create'] : ['patch'];
      for (const verb of verbs) {
        const ok = permits(clusterRoleRules(), res.group, resource, verb) || (res.namespace === 'lattice-system' && permits(leaseRoleRules(), res.group, resource, verb, res.name));
        assert.ok(ok, `${r.method} ${r.path} needs ${verb} on ${res.group || 'core'}/${resource}, which the install does not grant`);
        seen.add(`${verb} ${resource}`);
      }
    }
    for (const used of ['list latticeservices', 'watch namespaces', 'patch deployments', 'create deployments', 'patch latticeservices/status', 'create events', 'get leases', 'update leases', 'list externalsecrets', 'delete externalsecrets']) {
      assert.ok(seen.has(used), `the scenario never needed ${used}; the check above proves less than it says`);
    }
  });

  it('deletes nothing but what it owns when the service is deleted: every derived object goes, the decoy stays', async () => {
    const owned = world.derivedOf('commerce', 'payments').filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === uid));
    assert.ok(owned.length >= 6);
    world.api.delete(API, 'LatticeService', 'commerce', 'payments');
    await until('every derived object gone', () => world.derivedOf('commerce', 'payments').every((o) => o.metadata.name === 'payments-hand-made'));
    await world.idle();
    for (const o of owned) assert.equal(world.api.get(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name), undefined, `${objectId(o)} survived`);
    assert.ok(world.api.get('v1', 'ConfigMap', 'commerce', 'payments-hand-made'), 'the hand-made ConfigMap was deleted');
    world.assertNoOrphans();
  });
});

describe('controller: neighbours in the service graph', () => {
  const world = new World();

  before(async () => {
    await world.setUp(['commerce']);
    await world.startController('controller-a');
    world.api.create(service('checkout', 'commerce', { workload: { containers: { api: container(IMAGE) }, service: { ports: { http: { port: 8080 } } } } }));
    world.api.create(service('orders', 'commerce', { workload: { containers: { api: container(IMAGE_B) }, service: { ports: { http: { port: 8081 } } } } }));
    await world.converged('commerce', 'checkout', 'Ready');
    await world.converged('commerce', 'orders', 'Ready');
    await world.idle();
  });
  after(() => world.tearDown());

  const condition = (name: string, type: string): { status: string; reason: string; message: string } | undefined =>
    ((world.svc('commerce', name)?.status as { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === type);

  it('re-derives both services when one declares a one-sided dependency on the other', async () => {
    const checkoutBefore = world.svc('commerce', 'checkout')!;
    const orders = world.svc('commerce', 'orders')!;
    world.api.update({ ...orders, spec: { ...(orders.spec as object), workload: { ...(orders.spec as { workload: object }).workload, resources: { checkout: { type: 'service', direction: 'inbound' } } } } });
    await world.converged('commerce', 'orders', 'Ready');
    // checkout's spec did not change, yet its status now reports the one-sided dependency.
    const c = await until('checkout to report the one-sided dependency', () => {
      const cond = condition('checkout', 'DependenciesAgreed');
      return cond?.status === 'False' ? cond : undefined;
    });
    assert.match(c.message, /orders/);
    assert.equal(world.svc('commerce', 'checkout')!.metadata.generation, checkoutBefore.metadata.generation, 'checkout itself was not edited');
    assert.equal(condition('orders', 'DependenciesAgreed')?.status, 'False');
    await world.idle();
    await world.assertMatchesRender('commerce', 'checkout');
    await world.assertMatchesRender('commerce', 'orders');
  });

  it('re-derives both again when the other side agrees, and the policies follow', async () => {
    const checkout = world.svc('commerce', 'checkout')!;
    world.api.update({ ...checkout, spec: { ...(checkout.spec as object), workload: { ...(checkout.spec as { workload: object }).workload, resources: { orders: { type: 'service' } } } } });
    await until('both sides agreed', () => condition('checkout', 'DependenciesAgreed')?.status !== 'False' && condition('orders', 'DependenciesAgreed')?.status !== 'False');
    await world.idle();
    await world.assertMatchesRender('commerce', 'checkout');
    await world.assertMatchesRender('commerce', 'orders');
  });
});

describe('controller: platform resources', () => {
  const world = new World();
  let registryCalls = 0;

  before(async () => {
    await world.setUp(['commerce']);
    // A ClusterSecretStore someone made by hand, with Lattice's labels: not applied by the controller, so never pruned.
    world.api.create({ apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: 'manual', labels: { 'app.kubernetes.io/managed-by': 'lattice' } }, spec: { provider: { fake: {} } } });
    await world.startController('controller-a', {
      // The registry of the test images answers 503: a signature requirement cannot be checked.
      imageVerifier: { fetch: (async () => { registryCalls++; return new Response('unavailable', { status: 503 }); }) as typeof fetch, retry: { attempts: 1 } },
    });
    world.api.create(service('payments', 'commerce', PAYMENTS_SPEC));
    await world.converged('commerce', 'payments', 'Ready');
    await world.idle();
  });
  after(() => world.tearDown());

  it('re-applies the services using a SecretProvider when the default moves, and prunes the ClusterSecretStore of a deleted provider', async () => {
    const vault = world.api.get(API, 'SecretProvider', 'lattice-system', 'vault')!;
    world.api.create({ apiVersion: API, kind: 'SecretProvider', metadata: { name: 'vault2', namespace: 'lattice-system' }, spec: { default: true, provider: { vault: { server: 'https://vault2.example.com:8200', path: 'secret', version: 'v2' } } } });
    world.api.update({ ...vault, spec: { ...(vault.spec as object), default: false } });
    await until('payments-db reads through vault2', () => ((world.api.get('external-secrets.io/v1', 'ExternalSecret', 'commerce', 'payments-db')?.spec as { secretStoreRef?: { name: string } } | undefined)?.secretStoreRef?.name === 'vault2'));
    await until('ClusterSecretStore vault2', () => world.api.get('external-secrets.io/v1', 'ClusterSecretStore', undefined, 'vault2'));
    world.api.delete(API, 'SecretProvider', 'lattice-system', 'vault');
    await until('ClusterSecretStore vault pruned', () => world.api.get('external-secrets.io/v1', 'ClusterSecretStore', undefined, 'vault') === undefined);
    await world.idle();
    assert.ok(world.api.get('external-secrets.io/v1', 'ClusterSecretStore', undefined, 'manual'), 'a ClusterSecretStore the controller never applied was pruned');
    await world.assertMatchesRender('commerce', 'payments');
  });

  it('verifies images when an ImageProvider requires signatures: unverifiable means Failed, and Ready again once the requirement goes', async () => {
    world.api.create({
      apiVersion: API,
      kind: 'ImageProvider',
      metadata: { name: 'example-registry', namespace: 'lattice-system' },
      spec: {
        registry: 'registry.example.com',
        trust: { enforce: true, keys: [{ name: 'release', publicKey: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENkNyDIXJmNLSjL+Rns9YdViim6aF\naTHw/h2mXVXeCK4awnRPYWqepEmbPV5m3rS2XxGZ2YBJYC93UBD541vKGQ==\n-----END PUBLIC KEY-----\n' }] },
      },
    });
    const failed = await until('payments Failed on its image', () => {
      const st = world.svc('commerce', 'payments')?.status as { phase?: string; conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined;
      const image = st?.conditions?.find((c) => c.type === 'ImageVerified');
      return st?.phase === 'Failed' && image?.status === 'False' ? image : undefined;
    });
    assert.match(failed.message, /registry\.example\.com/);
    assert.ok(registryCalls > 0, 'the controller never asked the registry');
    assert.deepEqual(world.api.list('external-secrets.io/v1', 'ExternalSecret', 'commerce'), [], 'an ExternalSecret survived the failed verification');
    world.api.delete(API, 'ImageProvider', 'lattice-system', 'example-registry');
    await until('payments Ready again', () => (world.svc('commerce', 'payments')?.status as { phase?: string } | undefined)?.phase === 'Ready');
    await world.idle();
    await world.assertMatchesRender('commerce', 'payments');
  });
});

describe('controller: derived Gateways and the secret store boundary', () => {
  const world = new World();

  before(async () => {
    await world.setUp(['commerce', 'gateways']);
    world.api.create({ apiVersion: API, kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { gateways: { internal: { name: 'internal', namespace: 'gateways', clusterIssuer: 'internal-ca' } } } });
    world.api.create({
      apiVersion: API,
      kind: 'CedarPolicy',
      metadata: { name: 'routes', namespace: 'lattice-system' },
      spec: { policies: '@id("internal")\npermit (principal, action == Lattice::Action::"ExposeRoute", resource) when { resource.exposure == "internal" };' },
    });
    await world.startController('controller-a');
  });
  after(() => world.tearDown());

  it('applies the boundary policy, adds a listener when a service gains a route, and drops the Gateway with the last route', async () => {
    await until('ValidatingAdmissionPolicy applied', () => world.api.get('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', undefined, 'lattice-secret-store-boundary'));
    await until('ValidatingAdmissionPolicyBinding applied', () => world.api.get('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', undefined, 'lattice-secret-store-boundary'));
    const spec = { workload: { containers: { api: container(IMAGE) }, service: { ports: { http: { port: 8080 } } } } };
    world.api.create(service('web', 'commerce', spec));
    await world.converged('commerce', 'web', 'Ready');
    await world.idle();
    assert.equal(world.api.get('gateway.networking.k8s.io/v1', 'Gateway', 'gateways', 'internal'), undefined, 'no routes: no Gateway');
    const live = world.svc('commerce', 'web')!;
    world.api.update({ ...live, spec: { ...spec, ingress: { routes: { api: { hosts: ['web.internal.example.com'] } } } } });
    const gw = await until('Gateway with a listener for web.internal.example.com', () => {
      const g = world.api.get('gateway.networking.k8s.io/v1', 'Gateway', 'gateways', 'internal');
      return (g?.spec as { listeners?: { hostname: string }[] } | undefined)?.listeners?.some((l) => l.hostname === 'web.internal.example.com') ? g : undefined;
    });
    assert.deepEqual((gw.spec as { listeners: { tls: unknown }[] }).listeners[0]!.tls, { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'web-api-tls', namespace: 'commerce' }] });
    await world.idle();
    await world.assertMatchesRender('commerce', 'web');
    world.api.update({ ...world.svc('commerce', 'web')!, spec });
    await until('Gateway pruned with the last route', () => world.api.get('gateway.networking.k8s.io/v1', 'Gateway', 'gateways', 'internal') === undefined);
  });
});

describe('controller: a LatticeJob, another workload kind, through the same reconcile', () => {
  const world = new World();
  const job = {
    apiVersion: API,
    kind: 'LatticeJob',
    metadata: { name: 'nightly', namespace: 'analytics' },
    spec: { maxRetry: 2, tasks: { report: { replicas: 1, workload: { containers: { main: container(IMAGE, { command: ['/bin/report'] }) } } } } },
  };
  const stored = () => world.api.get(API, 'LatticeJob', 'analytics', 'nightly');
  type RunStatus = { phase?: string; jobPhase?: string; observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] };

  before(async () => {
    await world.setUp(['analytics']);
    await world.startController('controller-a');
    world.api.create(job);
  });
  after(() => world.tearDown());

  it('applies the Volcano Job owned by the LatticeJob, and writes the LatticeJob\'s status with its run phase Pending', async () => {
    const s = await until('the LatticeJob Ready with a run phase', () => {
      const o = stored();
      const st = o?.status as RunStatus | undefined;
      return st?.phase === 'Ready' && st.jobPhase !== undefined ? o : undefined;
    });
    const vj = world.api.get('batch.volcano.sh/v1alpha1', 'Job', 'analytics', 'nightly')!;
    assert.ok(vj, 'the Volcano Job exists');
    const owners = vj.metadata.ownerReferences as { kind: string; name: string; uid: string }[];
    assert.deepEqual(owners.map((r) => [r.kind, r.name, r.uid]), [['LatticeJob', 'nightly', s.metadata.uid]]);
    const st = s.status as RunStatus;
    assert.equal(st.jobPhase, 'Pending');
    const running = st.conditions!.find((c) => c.type === 'Running')!;
    assert.deepEqual([running.status, running.reason], ['False', 'Pending']);
    // The derivation's own conditions stay beside the run's.
    assert.ok(st.conditions!.some((c) => c.type === 'Ready' && c.status === 'True'));
  });

  it('reads the run back from Volcano: a completed Volcano Job makes the LatticeJob Succeeded with Complete True', async () => {
    const vj = world.api.get('batch.volcano.sh/v1alpha1', 'Job', 'analytics', 'nightly')!;
    world.api.update({ ...vj, status: { state: { phase: 'Completed' }, succeeded: 1 } });
    // Any change of the LatticeJob reconciles it (a resync would too): a label is enough.
    const o = stored()!;
    world.api.update({ ...o, metadata: { ...o.metadata, labels: { touched: 'yes' } } });
    const done = await until('the LatticeJob Succeeded', () => {
      const st = stored()?.status as RunStatus | undefined;
      return st?.jobPhase === 'Succeeded' ? st : undefined;
    });
    const complete = done.conditions!.find((c) => c.type === 'Complete')!;
    assert.deepEqual([complete.status, complete.reason], ['True', 'Completed']);
    assert.equal(done.conditions!.find((c) => c.type === 'Failed')!.status, 'False');
  });
});
