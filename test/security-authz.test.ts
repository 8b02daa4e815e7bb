/**
 * Attacks on what decides a service's permissions (issue 13, items 3, 5, 6, 9, 12): each test plays
 * a tenant who can write LatticeServices in its own namespace, or a careless policy author, and
 * checks that Lattice fails closed.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { derivePlatform } from '../src/compiler/platform/snapshot.ts';
import { policyTextLocator, serviceRequests, type AuthorizationRequest } from '../src/policy/index.ts';
import { parseYamlDocuments } from '../src/api/source.ts';
import type { PlatformDocument } from '../src/compiler/platform/snapshot.ts';
import { parseImageReference } from '../src/supplychain/reference.ts';
import { parseRegistryScope, scopeCovers } from '../src/supplychain/scope.ts';
import { findProvider } from '../src/supplychain/verify.ts';
import { imageProviderSchema } from '../src/api/imageprovider/v1alpha1.ts';
import { latticeServiceSchema } from '../src/api/latticeservice/v1alpha1.ts';
import { secretPathProblem } from '../src/api/secretpath.ts';
import { generateKey } from './fixtures/supplychain/signing.ts';
import { NOW, IMAGE, conditionOf, permitAll, provider, resultOf, service } from './support/fixtures.ts';

function policy(name: string, text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name, namespace: 'lattice-system' }, spec: { policies: text, ...extra } };
}

/** Derives YAML text as `lattice render` reads a file: origins and CedarPolicy text positions. */
function deriveYaml(text: string, file: string): ReturnType<typeof derivePlatform> {
  const { documents } = parseYamlDocuments(text, file);
  return derivePlatform(documents.map((d): PlatformDocument => {
    const doc: PlatformDocument = { object: d.object, locate: d.locate, origin: `${file}#${d.index + 1}` };
    const locate = policyTextLocator(text, d.index);
    if (locate) doc.locatePolicyText = locate;
    return doc;
  }), { now: NOW });
}

function derive(objects: unknown[]): ReturnType<typeof derivePlatform> {
  return derivePlatform(objects.map((object) => ({ object })), { now: NOW });
}

const namespaces = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'commerce', labels: { 'lattice.dev/team': 'commerce' }, annotations: { 'lattice.dev/owner': '#commerce' } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { 'lattice.dev/team': 'payments' } } },
];
const deployAny = policy('deploy', 'permit (principal, action == Lattice::Action::"DeployImage", resource);');
const sameTeam = policy(
  'team-secrets',
  [
    '@id("own-namespace")',
    'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { resource has namespace && resource.namespace == principal.namespace };',
    '@id("same-team")',
    'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { principal has team && resource has team && principal.team == resource.team };',
  ].join('\n'),
);

describe('item 12: team and owner come from the Namespace, never from the service', () => {
  test('a service labelling itself with another team is denied that team\'s secrets', () => {
    const thief = service('thief', { workload: { resources: { key: { type: 'secret', id: 'payments/api-key', params: { keys: ['token'] } } } } }, 'commerce', {
      labels: { 'lattice.dev/team': 'payments', team: 'payments' },
      annotations: { 'lattice.dev/owner': 'someone else' },
    });
    const r = resultOf(derive([provider(), ...namespaces, deployAny, sameTeam, thief]), 'commerce/thief');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    const c = conditionOf(r, 'PolicyAuthorized');
    assert.equal(c.reason, 'AccessSecretDenied');
    assert.match(c.message, /No Cedar policy permits Service commerce\/thief to access Secret payments\/api-key/);
  });

  test('the Service entity: team and owner of its namespace; lattice.dev/ tags from the namespace only', () => {
    const svc = latticeServiceSchema.parse(service('thief', {}, 'commerce', {
      labels: { 'lattice.dev/team': 'payments', 'lattice.dev/environment': 'dev', tier: 'frontend' },
      annotations: { 'lattice.dev/owner': 'someone else' },
    }));
    const [r] = serviceRequests({ service: svc, namespaces: { commerce: { labels: { 'lattice.dev/team': 'commerce', 'lattice.dev/environment': 'prod' }, annotations: { 'lattice.dev/owner': '#commerce' } } } });
    const e = (r as AuthorizationRequest).entities.find((x) => (x.uid as { type: string }).type === 'Lattice::Service') as { attrs: Record<string, unknown>; tags: Record<string, string> };
    assert.equal(e.attrs.team, 'commerce');
    assert.equal(e.attrs.owner, '#commerce');
    assert.deepEqual(e.tags, { tier: 'frontend', 'lattice.dev/team': 'commerce', 'lattice.dev/environment': 'prod' });
  });

  test('a service labelling itself environment dev does not get the dev-only root permit', () => {
    const rootInDev = policy('root', [
      'permit (principal, action == Lattice::Action::"OverrideSecurity", resource == Lattice::SecurityOverride::"runAsRoot")',
      'when { principal.hasTag("lattice.dev/environment") && principal.getTag("lattice.dev/environment") == "dev" };',
    ].join('\n'));
    const svc = service('rooty', { workload: { containers: { main: { image: IMAGE, resources: { limits: { cpu: '1', memory: '1Gi' } }, security: { runAsUser: 0 } } } } }, 'commerce', {
      labels: { 'lattice.dev/environment': 'dev' },
    });
    const r = resultOf(derive([...namespaces, deployAny, rootInDev, svc]), 'commerce/rooty');
    assert.equal(r.status.phase, 'Failed');
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'SecurityOverrideDenied');
  });
});

describe('item 3: secret ids are normalised paths, checked before authorization', () => {
  for (const id of ['alpha/../beta/api-key', 'alpha/./beta', '/beta/api-key', 'alpha//beta', 'alpha/', '..', 'alpha\\..\\beta', 'alpha/%2e%2e/beta', 'alpha/%2F/beta', 'a\u0000b']) {
    test(`id ${JSON.stringify(id)} is refused with the field named`, () => {
      const svc = service('sneaky', { workload: { resources: { key: { type: 'secret', id, params: { keys: ['token'] } } } } }, 'alpha');
      const r = resultOf(derive([provider(), permitAll(), svc]), 'alpha/sneaky');
      assert.equal(r.status.phase, 'Failed');
      assert.deepEqual(r.objects, []);
      const d = r.diagnostics.find((x) => x.path === 'spec.workload.resources.key.id');
      assert.ok(d, JSON.stringify(r.diagnostics));
      assert.equal(d.reason, 'InvalidSpec');
      assert.match(d.message, /secret id/);
      // Refused at validation: no authorization decision was made on the raw path.
      assert.equal(r.status.conditions.find((c) => c.type === 'PolicyAuthorized'), undefined);
    });
  }

  test('an ordinary path is accepted', () => {
    assert.equal(secretPathProblem('payments/api-key'), undefined);
    assert.equal(secretPathProblem('prod/payments/stripe_key-v2.json'), undefined);
  });

  test('the own-namespace permit cannot be walked out of: alpha/../beta reads as namespace alpha without the check', () => {
    const ownNs = policy('own', 'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { resource has namespace && resource.namespace == principal.namespace };');
    const svc = service('sneaky', { workload: { resources: { key: { type: 'secret', id: 'alpha/../beta/api-key', params: { keys: ['token'] } } } } }, 'alpha');
    const r = resultOf(derive([provider(), deployAny, ownNs, svc]), 'alpha/sneaky');
    assert.equal(r.status.phase, 'Failed');
    assert.ok(!r.objects.some((o) => o.kind === 'ExternalSecret'));
  });
});

describe('item 5: an invalid CedarPolicy fails closed', () => {
  const forbidPrivileged = [
    '@id("no-privileged")',
    'forbid (principal, action == Lattice::Action::"OverrideSecurity", resource) when { resource.kind == "privileged" };',
  ].join('\n');
  const yaml = (policies: string): string => `apiVersion: lattice.dev/v1alpha1
kind: CedarPolicy
metadata: {name: permit-all, namespace: lattice-system}
spec:
  policies: |
    permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };
---
apiVersion: lattice.dev/v1alpha1
kind: CedarPolicy
metadata: {name: guards, namespace: lattice-system}
spec:
  policies: |
${policies.split('\n').map((l) => `    ${l}`).join('\n')}
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: web, namespace: shop}
spec:
  workload:
    containers:
      main:
        image: ${IMAGE}
        resources: {limits: {cpu: 500m, memory: 256Mi}}
`;

  test('a syntax error beside a valid forbid: every service is refused, naming the policy file:line', () => {
    const r = resultOf(deriveYaml(yaml(`${forbidPrivileged}\n\n@id("broken")\npermit (principal, action, resource) when { principal.name == };`), 'policies.yaml'), 'shop/web');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    const c = conditionOf(r, 'PolicyAuthorized');
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'PolicyInvalid');
    assert.match(c.message, /CedarPolicy guards \(policies\.yaml:17:\d+\)/);
    assert.match(c.message, /fix or disable/);
  });

  test('a CedarPolicy that is not even a valid document fails closed too', () => {
    const bad = { apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name: 'guards', namespace: 'lattice-system' }, spec: { policies: 42 } };
    const r = resultOf(derive([permitAll(), bad, service('web')]), 'shop/web');
    assert.equal(r.status.phase, 'Failed');
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'PolicyInvalid');
  });

  test('a disabled invalid CedarPolicy decides nothing and refuses nothing', () => {
    const r = resultOf(derive([permitAll(), policy('off', 'permit (principal, action, resource) when {', { enabled: false }), service('web')]), 'shop/web');
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  });

  test('the valid version of the same policies: the service is Ready', () => {
    const r = resultOf(deriveYaml(yaml(forbidPrivileged), 'policies.yaml'), 'shop/web');
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  });
});

describe('item 6: no LatticeService in a platform namespace', () => {
  for (const ns of ['kube-system', 'istio-system', 'lattice-system', 'monitoring', 'cert-manager', 'external-secrets']) {
    test(`a service in ${ns} is refused`, () => {
      const platform = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { gateways: { public: { name: 'public', namespace: 'gateways' } } } };
      const r = resultOf(derive([permitAll(), platform, service('coredns', {}, ns)]), `${ns}/coredns`);
      assert.equal(r.status.phase, 'Failed');
      assert.deepEqual(r.objects, []);
      const d = r.diagnostics.find((x) => x.reason === 'ProtectedNamespace');
      assert.ok(d, JSON.stringify(r.diagnostics));
      assert.equal(d.path, 'metadata.namespace');
      assert.match(d.message, new RegExp(`namespace ${ns} is reserved for the platform`));
    });
  }

  test('spec.protectedNamespaces adds namespaces, and cannot remove the platform\'s own', () => {
    const platform = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { protectedNamespaces: ['vault'] } };
    const out = derive([permitAll(), platform, service('a', {}, 'vault'), service('b', {}, 'istio-system'), service('c', {}, 'kube-system'), service('d', {}, 'shop')]);
    assert.equal(resultOf(out, 'vault/a').status.phase, 'Failed');
    assert.equal(resultOf(out, 'istio-system/b').status.phase, 'Failed');
    assert.equal(resultOf(out, 'kube-system/c').status.phase, 'Failed');
    assert.equal(resultOf(out, 'shop/d').status.phase, 'Ready');
  });
});

describe('item 9: registry hosts are normalised before matching', () => {
  const key = generateKey('ecdsa');
  const corp = imageProviderSchema.parse({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'ImageProvider',
    metadata: { name: 'corp', namespace: 'lattice-system' },
    spec: { registry: 'registry.example.com', trust: { keys: [{ name: 'release', publicKey: key.publicKeyPem }] } },
  });
  const digest = `sha256:${'a'.repeat(64)}`;

  for (const image of [`registry.example.com:443/app@${digest}`, `REGISTRY.Example.COM/app@${digest}`, `Registry.Example.Com:443/app@${digest}`]) {
    test(`${image} is covered by the ImageProvider of registry.example.com`, () => {
      const parsed = parseImageReference(image);
      assert.ok(parsed.ok);
      assert.equal(parsed.ref.registry, 'registry.example.com');
      assert.equal(findProvider([corp], parsed.ref)?.metadata.name, 'corp');
    });

    test(`${image} cannot run unverified under an enforcing ImageProvider`, () => {
      const providerDoc = { apiVersion: 'lattice.dev/v1alpha1', kind: 'ImageProvider', metadata: { name: 'corp', namespace: 'lattice-system' }, spec: corp.spec };
      const svc = service('web', { workload: { containers: { main: { image, resources: { limits: { cpu: '1', memory: '1Gi' } } } } } });
      const r = resultOf(derive([permitAll(), providerDoc, svc]), 'shop/web');
      assert.equal(r.status.phase, 'Failed');
      assert.equal(conditionOf(r, 'ImageVerified').status, 'False');
    });
  }

  test('Docker Hub aliases and host-less references are one registry, docker.io', () => {
    for (const image of ['nginx:1.27', 'docker.io/nginx:1.27', 'index.docker.io/library/nginx:1.27', 'registry-1.docker.io/library/nginx:1.27', 'docker.io:443/library/nginx:1.27']) {
      const parsed = parseImageReference(image);
      assert.ok(parsed.ok, image);
      assert.deepEqual([parsed.ref.registry, parsed.ref.repository], ['docker.io', 'library/nginx'], image);
    }
    const hub = parseRegistryScope('index.docker.io:443/library');
    assert.ok(hub.ok);
    assert.deepEqual(hub.scope, { host: 'docker.io', prefix: 'library' });
    const ref = parseImageReference('nginx:1.27');
    assert.ok(ref.ok);
    assert.ok(scopeCovers(hub.scope, ref.ref));
  });

  test('a non-default port stays part of the host', () => {
    const parsed = parseImageReference(`registry.example.com:5000/app@${digest}`);
    assert.ok(parsed.ok);
    assert.equal(parsed.ref.registry, 'registry.example.com:5000');
    assert.equal(findProvider([corp], parsed.ref), undefined);
  });

  test('the Cedar Image entity carries the normalised registry', () => {
    const svc = latticeServiceSchema.parse(service('web', { workload: { containers: { main: { image: `Registry.Example.Com:443/app@${digest}`, resources: { limits: { cpu: '1', memory: '1Gi' } } } } } }));
    const r = serviceRequests({ service: svc }).find((x) => x.action === 'DeployImage') as AuthorizationRequest;
    const e = r.entities.find((x) => (x.uid as { type: string }).type === 'Lattice::Image') as { attrs: Record<string, unknown> };
    assert.equal(e.attrs.registry, 'registry.example.com');
  });

  test('a forbid of other registries still holds for a port-disguised other registry', () => {
    const onlyCorp = policy('org', [
      'permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };',
      'forbid (principal, action == Lattice::Action::"DeployImage", resource) unless { resource.registry == "registry.example.com" };',
    ].join('\n'));
    const svc = service('web', { workload: { containers: { main: { image: `registry.example.com:8443/app@${digest}`, resources: { limits: { cpu: '1', memory: '1Gi' } } } } } });
    const r = resultOf(derive([onlyCorp, svc]), 'shop/web');
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'DeployImageDenied');
  });
});
