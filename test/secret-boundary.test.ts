/**
 * The secret store boundary (src/compiler/workload/secrets.ts, secretStoreBoundary), tried the way a tenant
 * would: hand-written ExternalSecrets and PushSecrets against the Lattice ClusterSecretStores,
 * evaluated by a small, independent model of Kubernetes ValidatingAdmissionPolicy admission: the
 * derived policy's match rules, then its CEL variables in order and its validations, run by a CEL
 * interpreter (@marcbachmann/cel-js), with `object`, `oldObject` (null on CREATE) and `request`
 * bound as the API server binds them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate } from '@marcbachmann/cel-js';
import { deriveObjects, provider, resultOf, service, IMAGE } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import type { KubeObject } from '../src/compiler/types.ts';

const CONTROLLER = 'system:serviceaccount:lattice-system:lattice-controller';
const TENANT = 'system:serviceaccount:shop:deployer';
const ESO = 'system:serviceaccount:external-secrets:external-secrets';

type Verdict = { allowed: true } | { allowed: false; message: string };

interface Policy {
  spec: {
    failurePolicy: string;
    matchConstraints: { resourceRules: { apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }[] };
    variables: { name: string; expression: string }[];
    validations: { expression: string; message: string; messageExpression: string; reason: string }[];
  };
}

/** Admission of one request by the policy, as the API server does it (binding: validationActions [Deny]). */
function admit(policy: Policy, op: 'CREATE' | 'UPDATE', resource: string, object: Record<string, unknown>, user: string, oldObject: Record<string, unknown> | null = null): Verdict {
  const group = String(object.apiVersion).split('/')[0]!;
  const version = String(object.apiVersion).split('/')[1]!;
  const matches = policy.spec.matchConstraints.resourceRules.some((r) =>
    r.apiGroups.includes(group) && (r.apiVersions.includes('*') || r.apiVersions.includes(version)) && r.operations.includes(op) && r.resources.includes(resource));
  if (!matches) return { allowed: true };
  const meta = object.metadata as { name: string; namespace: string };
  const request = { operation: op, name: meta.name, namespace: meta.namespace, kind: { group, version, kind: object.kind }, userInfo: { username: user, groups: [] } };
  const variables: Record<string, unknown> = {};
  const ctx = { object, oldObject, request, variables };
  try {
    for (const v of policy.spec.variables) variables[v.name] = evaluate(v.expression, ctx);
    for (const val of policy.spec.validations) {
      if (evaluate(val.expression, ctx) !== true) return { allowed: false, message: String(evaluate(val.messageExpression, ctx)) };
    }
  } catch (err) {
    // failurePolicy Fail: an evaluation error denies.
    assert.equal(policy.spec.failurePolicy, 'Fail');
    return { allowed: false, message: `evaluation error: ${(err as Error).message}` };
  }
  return { allowed: true };
}

function externalSecret(spec: Record<string, unknown>, name = 'steal', namespace = 'shop'): Record<string, unknown> {
  return { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace }, spec: { target: { name }, ...spec } };
}

function platformObjects(): KubeObject[] {
  return deriveObjects([provider('vault'), provider('aws', false), service('x')]).platformObjects;
}

function boundary(objects = platformObjects()): Policy {
  const p = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy');
  assert.ok(p, 'a platform with SecretProviders derives the boundary policy');
  return p as never as Policy;
}

test('boundary objects: a ValidatingAdmissionPolicy and its Deny binding, valid against the Kubernetes schema', () => {
  const objects = platformObjects();
  const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
  const binding = objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')!;
  assertValid(policy);
  assertValid(binding);
  assert.equal(policy.metadata.name, 'lattice-secret-store-boundary');
  assert.deepEqual(binding.spec, { policyName: 'lattice-secret-store-boundary', validationActions: ['Deny'] });
  const spec = (policy as never as Policy).spec;
  assert.equal(spec.failurePolicy, 'Fail');
  assert.deepEqual(spec.matchConstraints.resourceRules, [{ apiGroups: ['external-secrets.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['externalsecrets', 'pushsecrets'] }]);
  assert.deepEqual(spec.variables.find((v) => v.name === 'latticeStores')?.expression, "['aws', 'vault']");
  assert.deepEqual(spec.variables.find((v) => v.name === 'allowedWriter')?.expression, `request.userInfo.username in ['${CONTROLLER}']`);
  // No SecretProvider: no store, nothing to guard.
  assert.deepEqual(deriveObjects([service('x')]).platformObjects.filter((o) => o.kind.startsWith('ValidatingAdmission')), []);
});

test('bypass attempts: a tenant\'s hand-written ExternalSecret or PushSecret against a Lattice store is refused', () => {
  const policy = boundary();
  const attempts: [string, string, Record<string, unknown>][] = [
    ['secretStoreRef', 'externalsecrets', externalSecret({ secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' }, dataFrom: [{ extract: { key: 'payments/db' } }] })],
    ['data[].sourceRef', 'externalsecrets', externalSecret({ data: [{ secretKey: 'pw', remoteRef: { key: 'payments/db', property: 'password' }, sourceRef: { storeRef: { name: 'aws', kind: 'ClusterSecretStore' } } }] })],
    ['dataFrom[].sourceRef', 'externalsecrets', externalSecret({ secretStoreRef: { name: 'mine', kind: 'SecretStore' }, dataFrom: [{ extract: { key: 'payments/db' }, sourceRef: { storeRef: { name: 'vault', kind: 'ClusterSecretStore' } } }] })],
    ['PushSecret by name', 'pushsecrets', { apiVersion: 'external-secrets.io/v1alpha1', kind: 'PushSecret', metadata: { name: 'overwrite', namespace: 'shop' }, spec: { secretStoreRefs: [{ name: 'vault', kind: 'ClusterSecretStore' }], selector: { secret: { name: 'mine' } }, data: [{ match: { secretKey: 'pw', remoteRef: { remoteKey: 'payments/db' } } }] } }],
    ['PushSecret by labelSelector', 'pushsecrets', { apiVersion: 'external-secrets.io/v1alpha1', kind: 'PushSecret', metadata: { name: 'overwrite', namespace: 'shop' }, spec: { secretStoreRefs: [{ kind: 'ClusterSecretStore', labelSelector: { matchLabels: { 'app.kubernetes.io/managed-by': 'lattice' } } }], selector: { secret: { name: 'mine' } } } }],
    ['older API version', 'externalsecrets', { ...externalSecret({ secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' } }), apiVersion: 'external-secrets.io/v1beta1' }],
  ];
  for (const [what, resource, object] of attempts) {
    const v = admit(policy, 'CREATE', resource, object, TENANT);
    assert.equal(v.allowed, false, `${what} was admitted`);
    if (!v.allowed) assert.match(v.message, /references a Lattice ClusterSecretStore, which only Lattice may use: declare the secret in a LatticeService .* User system:serviceaccount:shop:deployer is not in LatticePlatform spec\.externalSecretWriters\./, what);
    assert.equal(admit(policy, 'CREATE', resource, object, CONTROLLER).allowed, true, `${what}: the controller may`);
  }
});

test('bypass attempt: changing the spec of Lattice\'s own ExternalSecret to another path is refused; ESO\'s metadata writes pass', () => {
  const policy = boundary();
  const result = deriveObjects([provider('vault'), service('api', { workload: { containers: { main: { image: IMAGE, resources: { limits: { cpu: '1', memory: '1Gi' } } } }, resources: { db: { type: 'secret', params: { keys: ['password'] } } } } })]);
  const derived = resultOf(result, 'shop/api').objects.filter((o) => o.kind === 'ExternalSecret');
  assert.ok(derived.length > 0);
  for (const es of derived) {
    const object = es as never as Record<string, unknown>;
    assert.equal(admit(policy, 'CREATE', 'externalsecrets', object, CONTROLLER).allowed, true, 'Lattice creates its own');
    assert.equal(admit(policy, 'CREATE', 'externalsecrets', object, TENANT).allowed, false, 'a tenant cannot apply even a copy of it');
    const withFinalizer = { ...object, metadata: { ...(object.metadata as object), finalizers: ['externalsecrets.external-secrets.io/externalsecret-cleanup'] } };
    assert.equal(admit(policy, 'UPDATE', 'externalsecrets', withFinalizer, ESO, object).allowed, true, 'spec unchanged: passes');
    const retargeted = { ...object, spec: { ...(object.spec as object), data: [{ secretKey: 'password', remoteRef: { key: 'payments/db', property: 'password' } }] } };
    assert.equal(admit(policy, 'UPDATE', 'externalsecrets', retargeted, TENANT, object).allowed, false, 'a changed spec is checked again');
  }
});

test('not in the way: a namespace\'s own SecretStore, another ClusterSecretStore, other kinds, and configured writers pass', () => {
  const policy = boundary();
  const own = externalSecret({ secretStoreRef: { name: 'vault', kind: 'SecretStore' }, dataFrom: [{ extract: { key: 'x' } }] });
  assert.equal(admit(policy, 'CREATE', 'externalsecrets', own, TENANT).allowed, true, 'a SecretStore named like a Lattice store is another object');
  const defaultKind = externalSecret({ secretStoreRef: { name: 'vault' } });
  assert.equal(admit(policy, 'CREATE', 'externalsecrets', defaultKind, TENANT).allowed, true, 'no kind: ESO reads SecretStore');
  const other = externalSecret({ secretStoreRef: { name: 'team-store', kind: 'ClusterSecretStore' } });
  assert.equal(admit(policy, 'CREATE', 'externalsecrets', other, TENANT).allowed, true);
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } };
  assert.equal(admit(policy, 'CREATE', 'configmaps', cm, TENANT).allowed, true);
  const flux = 'system:serviceaccount:flux-system:kustomize-controller';
  const settings = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { externalSecretWriters: [CONTROLLER, flux] } };
  const withFlux = boundary(deriveObjects([settings, provider('vault'), service('x')]).platformObjects);
  const steal = externalSecret({ secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' } });
  assert.equal(admit(withFlux, 'CREATE', 'externalsecrets', steal, flux).allowed, true, 'a configured GitOps applier may');
  assert.equal(admit(withFlux, 'CREATE', 'externalsecrets', steal, TENANT).allowed, false);
});
