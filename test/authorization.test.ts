/**
 * Authorization inside the derivation pipeline: the Cedar gate decides before anything is derived.
 * (The policy library's own semantics are tested in policy*.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { derivePlatform } from '../src/compiler/platform/snapshot.ts';
import type { ImageVerification } from '../src/supplychain/verify.ts';
import { run } from '../src/cli/main.ts';
import { NOW, IMAGE, conditionOf, objectOf, provider, resultOf, service } from './support/fixtures.ts';

function policy(name: string, text: string): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name, namespace: 'lattice-system' }, spec: { policies: text } };
}

const namespaces = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'commerce', labels: { 'lattice.dev/team': 'commerce' } } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { 'lattice.dev/team': 'payments' } } },
];
const deployAny = policy('deploy', 'permit (principal, action == Lattice::Action::"DeployImage", resource);');
const ownSecrets = policy('own-secrets', 'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { resource has namespace && resource.namespace == principal.namespace };');

function derive(objects: unknown[], images?: ImageVerification[]): ReturnType<typeof derivePlatform> {
  const options: Parameters<typeof derivePlatform>[1] = { now: NOW };
  if (images) options.images = new Map(images.map((v) => [v.image, v]));
  return derivePlatform(objects.map((object) => ({ object })), options);
}

const checkout = service('checkout', {
  workload: { resources: { 'api-key': { type: 'secret', id: 'payments/api-key', params: { keys: ['token'] } }, cart: { type: 'secret', params: { keys: ['url'] } } } },
}, 'commerce');

test('default deny: without any policy nothing is permitted, so nothing is derived', () => {
  const r = resultOf(derive([provider(), service('web')]), 'shop/web');
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, []);
  assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'DeployImageDenied');
});

test('a denied secret: the exact message, every denial collected, no ExternalSecret derived', () => {
  const r = resultOf(derive([provider(), ...namespaces, deployAny, ownSecrets, checkout]), 'commerce/checkout');
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, [], 'all-or-nothing: in particular no ExternalSecret for the allowed secret');
  const c = conditionOf(r, 'PolicyAuthorized');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'AccessSecretDenied');
  assert.equal(c.message, 'spec.workload.resources.api-key: AccessSecret denied for secret payments/api-key. No Cedar policy permits Service commerce/checkout to access Secret payments/api-key. Contact the payments team (owner of namespace payments) to request a permit policy.');
  assert.equal(conditionOf(r, 'Ready').reason, 'AccessSecretDenied');
});

test('permitted: PolicyAuthorized=True with the number of decisions, and the objects are derived', () => {
  const ok = service('checkout', { workload: { resources: { cart: { type: 'secret', params: { keys: ['url'] } } } } }, 'commerce');
  const r = resultOf(derive([provider(), ...namespaces, deployAny, ownSecrets, ok]), 'commerce/checkout');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const c = conditionOf(r, 'PolicyAuthorized');
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'Authorized');
  assert.equal(c.message, '2 authorization decisions made, all allowed by Cedar policy.');
  objectOf(r, 'ExternalSecret', 'checkout-cart');
});

test('forbid overrides permit, and the denial names the forbidding policy', () => {
  const forbid = policy('guards', '@id("no-cross-team")\nforbid (principal, action == Lattice::Action::"AccessSecret", resource) when { resource has namespace && resource.namespace == "payments" };');
  const permitAll = policy('wide', 'permit (principal, action == Lattice::Action::"AccessSecret", resource);');
  const r = resultOf(derive([provider(), ...namespaces, deployAny, permitAll, forbid, checkout]), 'commerce/checkout');
  assert.equal(r.status.phase, 'Failed');
  assert.match(conditionOf(r, 'PolicyAuthorized').message, /Denied by policy guards\/no-cross-team \(forbid\)/);
});

test('an invalid CedarPolicy is reported with its position; a policy that cannot be split refuses every service until it is fixed (fail closed)', () => {
  const broken = policy('broken', 'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { resource.path == ');
  const result = derive([provider(), ...namespaces, deployAny, ownSecrets, broken, service('ok', {}, 'commerce')]);
  const problem = result.problems.find((p) => p.kind === 'CedarPolicy' && p.name === 'broken');
  assert.ok(problem, JSON.stringify(result.problems));
  const ok = resultOf(result, 'commerce/ok');
  assert.equal(ok.status.phase, 'Failed');
  assert.equal(conditionOf(ok, 'PolicyAuthorized').reason, 'PolicyInvalid');
  assert.match(conditionOf(ok, 'PolicyAuthorized').message, /CedarPolicy broken \(spec\.policies:1:\d+\)/);
  assert.match(conditionOf(ok, 'PolicyAuthorized').message, /DeployImage for image/);
});

test('one invalid permit does not drop the valid policies of its CedarPolicy: they still decide', () => {
  const mixed = policy('mixed', [
    '@id("typo")\npermit (principal, action == Lattice::Action::"NoSuchAction", resource);',
    '@id("deploy")\npermit (principal, action == Lattice::Action::"DeployImage", resource);',
    '@id("secrets")\npermit (principal, action == Lattice::Action::"AccessSecret", resource);',
  ].join('\n'));
  const result = derive([provider(), ...namespaces, mixed, checkout]);
  const problem = result.problems.find((p) => p.kind === 'CedarPolicy' && p.name === 'mixed');
  assert.ok(problem, 'the bad policy is still reported');
  assert.match(problem.diagnostics[0]!.message, /mixed\/typo.*NoSuchAction/);
  const r = resultOf(result, 'commerce/checkout');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  assert.match(conditionOf(r, 'PolicyAuthorized').message, /all allowed/);
});

test('an invalid forbid still refuses the requests of the actions it names (fail closed), and only those', () => {
  const guards = policy('guards', [
    '@id("deploy")\npermit (principal, action == Lattice::Action::"DeployImage", resource);',
    '@id("secrets")\npermit (principal, action == Lattice::Action::"AccessSecret", resource);',
    // resource.nope does not exist: the forbid is invalid, so Lattice cannot know what it forbids.
    '@id("no-payments")\nforbid (principal, action == Lattice::Action::"AccessSecret", resource) when { resource.nope == "payments" };',
  ].join('\n'));
  const withSecret = resultOf(derive([provider(), ...namespaces, guards, checkout]), 'commerce/checkout');
  assert.equal(withSecret.status.phase, 'Failed');
  const c = conditionOf(withSecret, 'PolicyAuthorized');
  assert.equal(c.reason, 'PolicyInvalid');
  assert.match(c.message, /AccessSecret for secret/);
  assert.match(c.message, /policy guards\/no-payments, a forbid/);
  assert.doesNotMatch(c.message, /DeployImage for/, 'the bad forbid names AccessSecret only: images are still decided');
  // A service that reads no secret asks nothing the bad forbid could refuse.
  const plain = resultOf(derive([provider(), ...namespaces, guards, service('plain', {}, 'commerce')]), 'commerce/plain');
  assert.equal(plain.status.phase, 'Ready', JSON.stringify(plain.status.conditions));
  // A forbid whose action scope is a typo could be meant for any action: every request is refused.
  const typo = policy('typo', [
    '@id("deploy")\npermit (principal, action == Lattice::Action::"DeployImage", resource);',
    '@id("bad")\nforbid (principal, action == Lattice::Action::"DeployImag", resource);',
  ].join('\n'));
  const blocked = resultOf(derive([provider(), ...namespaces, typo, service('plain', {}, 'commerce')]), 'commerce/plain');
  assert.equal(blocked.status.phase, 'Failed');
  assert.equal(conditionOf(blocked, 'PolicyAuthorized').reason, 'PolicyInvalid');
  // A disabled CedarPolicy with a bad forbid blocks nothing.
  const off = policy('typo', (typo.spec as { policies: string }).policies);
  (off.spec as { enabled?: boolean }).enabled = false;
  const free = resultOf(derive([provider(), ...namespaces, deployAny, off, service('plain', {}, 'commerce')]), 'commerce/plain');
  assert.equal(free.status.phase, 'Ready', JSON.stringify(free.status.conditions));
});

test('SkipImageVerification: a failing image runs only with a permit, and the condition names the policy', () => {
  const failing: ImageVerification = { image: IMAGE, digest: `sha256:${'a'.repeat(64)}`, outcome: 'SignatureMissing', signed: false, verifiedBy: '', provider: 'corp', enforced: true, message: 'no signature' };
  const without = resultOf(derive([...namespaces, deployAny, service('legacy', {}, 'commerce')], [failing]), 'commerce/legacy');
  assert.equal(without.status.phase, 'Failed');
  assert.equal(conditionOf(without, 'ImageVerified').reason, 'SignatureMissing');
  const skip = policy('legacy-images', '@id("legacy")\npermit (principal == Lattice::Service::"commerce/legacy", action == Lattice::Action::"SkipImageVerification", resource);');
  const withSkip = resultOf(derive([...namespaces, deployAny, skip, service('legacy', {}, 'commerce')], [failing]), 'commerce/legacy');
  assert.equal(withSkip.status.phase, 'Ready', JSON.stringify(withSkip.status.conditions));
  const c = conditionOf(withSkip, 'ImageVerified');
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'VerificationSkippedByPolicy');
  assert.match(c.message, /skipped by policy legacy-images\/legacy/);
});

test('DeployImage sees the verification result: a policy requiring signed images denies an unsigned one', () => {
  const signedOnly = policy('signed', 'permit (principal, action == Lattice::Action::"DeployImage", resource) when { resource has signed && resource.signed };');
  const unsigned: ImageVerification = { image: IMAGE, digest: `sha256:${'a'.repeat(64)}`, outcome: 'NotRequired', signed: false, verifiedBy: '', enforced: false, message: '' };
  const r = resultOf(derive([...namespaces, signedOnly, service('web', {}, 'commerce')], [unsigned]), 'commerce/web');
  assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'DeployImageDenied');
  const signed = resultOf(derive([...namespaces, signedOnly, service('web', {}, 'commerce')], [{ ...unsigned, outcome: 'Verified', signed: true, verifiedBy: 'release' }]), 'commerce/web');
  assert.equal(signed.status.phase, 'Ready');
});

test('security overrides: denied without a permit; with one, the security context carries exactly the relaxation', () => {
  const svc = service('edge', { workload: { containers: { main: { image: IMAGE, resources: { limits: { cpu: '1', memory: '1Gi' } }, security: { capabilities: { add: ['NET_BIND_SERVICE'] } } } } } }, 'commerce');
  const denied = resultOf(derive([...namespaces, deployAny, svc]), 'commerce/edge');
  assert.equal(conditionOf(denied, 'PolicyAuthorized').reason, 'SecurityOverrideDenied');
  const permit = policy('low-ports', 'permit (principal, action == Lattice::Action::"OverrideSecurity", resource == Lattice::SecurityOverride::"capability:NET_BIND_SERVICE");');
  const allowed = resultOf(derive([...namespaces, deployAny, permit, svc]), 'commerce/edge');
  assert.equal(allowed.status.phase, 'Ready');
  const c = (objectOf(allowed, 'Deployment').spec as { template: { spec: { containers: { securityContext: unknown }[] } } }).template.spec.containers[0]!;
  assert.deepEqual(c.securityContext, {
    runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, seccompProfile: { type: 'RuntimeDefault' },
  });
});

test('lattice authz check explains a decision for an example service; validate passes the example policies', async () => {
  const examples = new URL('../examples/', import.meta.url).pathname;
  let out = '';
  const code = await run(['authz', 'check', examples, '--service', 'commerce/ledger-export'], { stdout: (t) => void (out += t), stderr: () => undefined });
  assert.equal(code, 1);
  assert.match(out, /^ACTION\s+RESOURCE\s+DECISION\s+DETERMINING POLICIES\n/);
  assert.match(out, /AccessSecret\s+secret payments\/api-key\s+DENY\s+\(none: default deny\)/);
  assert.match(out, /DeployImage\s+image registry\.example\.com\/ledger-export@\S+ \(container exporter\)\s+ALLOW\s+org-registry\/org-registry/);
  let ok = '';
  assert.equal(await run(['authz', 'check', examples, '--service', 'commerce/payments'], { stdout: (t) => void (ok += t), stderr: () => undefined }), 0, ok);
  let v = '';
  assert.equal(await run(['authz', 'validate', examples], { stdout: (t) => void (v += t), stderr: () => undefined }), 0, v);
  assert.match(v, /^(\d+) of \1 CedarPolicies valid \(\d+ policies\)\.$/m);
  let missing = '';
  assert.equal(await run(['authz', 'check', examples, '--service', 'commerce/nope'], { stdout: () => undefined, stderr: (t) => void (missing += t) }), 2);
  assert.match(missing, /no workload commerce\/nope .* Workloads found: /);
});
