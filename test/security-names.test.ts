/**
 * Derived-name collisions (issue 13, item 4): names join parts with "-", so two services (or one
 * service with itself) can derive two objects with one identity. Every party is refused, with a
 * message naming each source; the incremental fleet finds collisions as the full derivation does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOW, conditionOf, deriveObjects, deriveYaml, permitAll, provider, resultOf, service } from './support/fixtures.ts';
import { derivePlatform } from '../src/compiler/platform/snapshot.ts';
import { ClaimIndex, claimsOf, selfCollisions } from '../src/compiler/platform/collisions.ts';
import type { KubeObject } from '../src/compiler/types.ts';

const secret = (keys: string[] = ['token']): Record<string, unknown> => ({ type: 'secret', params: { keys } });

const yaml = `apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata:
  name: a
  namespace: shop
spec:
  workload:
    containers:
      main:
        image: registry.example.com/app@sha256:${'a'.repeat(64)}
        resources: {limits: {cpu: 500m, memory: 256Mi}}
    resources:
      b-c: {type: secret, params: {keys: [token]}}
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata:
  name: a-b
  namespace: shop
spec:
  workload:
    containers:
      main:
        image: registry.example.com/app@sha256:${'a'.repeat(64)}
        resources: {limits: {cpu: 500m, memory: 256Mi}}
    resources:
      c: {type: secret, params: {keys: [token]}}
---
apiVersion: lattice.dev/v1alpha1
kind: SecretProvider
metadata: {name: vault, namespace: lattice-system}
spec:
  default: true
  provider: {vault: {server: https://vault.example.com, path: secret, version: v2, auth: {tokenSecretRef: {name: t, key: t, namespace: external-secrets}}}}
`;

test('service a + resource b-c and service a-b + resource c: both refused, each message naming the other with file:line', () => {
  const out = deriveYaml(yaml, 'shop.yaml');
  const a = resultOf(out, 'shop/a');
  const ab = resultOf(out, 'shop/a-b');
  for (const r of [a, ab]) {
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    assert.equal(conditionOf(r, 'Validated').reason, 'NameCollision');
    assert.equal(conditionOf(r, 'Ready').reason, 'NameCollision');
  }
  // The Secret ESO would create is named too.
  assert.match(conditionOf(a, 'Validated').message, /^shop\.yaml:4:3 metadata\.name: ExternalSecret shop\/a-b-c and Secret shop\/a-b-c \(created for ExternalSecret shop\/a-b-c\) are also derived by LatticeService shop\/a-b \(shop\.yaml:18:3\)\. .* Rename a container, resource or service on one side\.$/);
  assert.match(conditionOf(ab, 'Validated').message, /^shop\.yaml:18:3 metadata\.name: ExternalSecret shop\/a-b-c and Secret shop\/a-b-c \(created for ExternalSecret shop\/a-b-c\) are also derived by LatticeService shop\/a \(shop\.yaml:4:3\)\./);
});

test('the same names in two namespaces do not collide', () => {
  const out = deriveObjects([provider(), service('a', { workload: { resources: { 'b-c': secret() } } }, 'one'), service('a-b', { workload: { resources: { c: secret() } } }, 'two')]);
  assert.equal(resultOf(out, 'one/a').status.phase, 'Ready');
  assert.equal(resultOf(out, 'two/a-b').status.phase, 'Ready');
});

test('a service colliding with itself: resource main-secret-env beside container main\'s templated secret variables', () => {
  const svc = service('web', {
    workload: {
      containers: {
        main: {
          image: `registry.example.com/app@sha256:${'a'.repeat(64)}`,
          resources: { limits: { cpu: '500m', memory: '256Mi' } },
          variables: { DSN: 'postgres://app:${resources.db.password}@db:5432/app' },
        },
      },
      resources: { db: secret(['password']), 'main-secret-env': secret() },
    },
  });
  const r = resultOf(deriveObjects([provider(), svc]), 'shop/web');
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, []);
  const c = conditionOf(r, 'Validated');
  assert.equal(c.reason, 'NameCollision');
  assert.match(c.message, /would derive 2 objects with one name: ExternalSecret shop\/web-main-secret-env and ExternalSecret shop\/web-main-secret-env/);
});

test('a service ExternalSecret and a route Certificate writing one Secret collide', () => {
  const objects: KubeObject[] = [
    { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'web-site-tls', namespace: 'shop' }, spec: { target: { name: 'web-site-tls' } } },
    { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'web-site', namespace: 'shop' }, spec: { secretName: 'web-site-tls' } },
  ];
  assert.deepEqual(selfCollisions(objects).map((c) => c.identity), ['/Secret/shop/web-site-tls']);
});

test('identities ignore the API version (one object served at two versions) and keep namespaces apart', () => {
  const index = new ClaimIndex();
  index.set('@platform', claimsOf([{ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'lattice-allow-nothing', namespace: 'istio-system' } }]));
  const touched = index.set('istio-system/x', claimsOf([{ apiVersion: 'security.istio.io/v1beta1', kind: 'AuthorizationPolicy', metadata: { name: 'lattice-allow-nothing', namespace: 'istio-system' } }]));
  assert.deepEqual([...touched], ['@platform']);
  assert.equal(index.conflicts('istio-system/x')[0]?.others[0]?.key, '@platform');
  index.set('shop/y', claimsOf([{ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'lattice-allow-nothing', namespace: 'shop' } }]));
  assert.deepEqual(index.conflicts('shop/y'), []);
});

test('the incremental fleet: adding the second service refuses both and reports the first as changed; removing it restores the first', () => {
  const a = service('a', { workload: { resources: { 'b-c': secret() } } });
  const ab = service('a-b', { workload: { resources: { c: secret() } } });
  const out = derivePlatform([permitAll(), provider(), a].map((object) => ({ object })), { now: NOW });
  const fleet = out.fleet!;
  assert.equal(fleet.result('shop/a')?.status.phase, 'Ready');
  const added = fleet.upsert({ object: ab });
  assert.deepEqual(added.rederived.map((r) => [r.key, r.status.phase]), [['shop/a-b', 'Failed'], ['shop/a', 'Failed']]);
  assert.equal(fleet.result('shop/a')?.status.phase, 'Failed');
  // The same as deriving everything at once.
  const full = derivePlatform([permitAll(), provider(), a, ab].map((object) => ({ object })), { now: NOW });
  assert.deepEqual(fleet.results().map((r) => [r.key, r.status]), full.services.map((r) => [r.key, r.status]));
  const removed = fleet.remove('shop/a-b');
  assert.deepEqual(removed.rederived.map((r) => [r.key, r.status.phase]), [['shop/a', 'Ready']]);
  assert.equal(fleet.result('shop/a')?.objects.length, resultOf(derivePlatform([permitAll(), provider(), a].map((object) => ({ object })), { now: NOW }), 'shop/a').objects.length);
});
