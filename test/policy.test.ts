/**
 * Cedar authorization decisions: default deny, permit, forbid over permit, evaluation errors, the
 * exact denial messages, policy ids, and one parsed policy set reused across services.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  PolicyEngine,
  policySetParseCount,
  serviceRequests,
  summarize,
  benchAuthorization,
  type ServiceAuthorizationInput,
} from '../src/policy/index.ts';
import { generatedPolicies } from '../src/policy/bench.ts';
import { cedarPolicy, container, DIGEST, examplePolicies, latticeService, sources } from './fixtures/policy/helpers.ts';

const engines: PolicyEngine[] = [];
/** An engine disposed when the file's tests end. */
function engine(...args: Parameters<typeof PolicyEngine.fromPolicies>): PolicyEngine {
  const e = PolicyEngine.fromPolicies(...args);
  engines.push(e);
  return e;
}
after(() => engines.forEach((e) => e.dispose()));

/** commerce/checkout reading the secret payments/api-key, and nothing else. */
function checkout(secretId = 'payments/api-key'): ServiceAuthorizationInput {
  return {
    service: latticeService({
      name: 'checkout',
      namespace: 'commerce',
      spec: {
        workload: {
          containers: { api: container(`registry.example.com/shop/checkout@${DIGEST}`) },
          resources: { 'api-key': { type: 'secret', id: secretId } },
        },
      },
    }),
    namespaces: { payments: { labels: { 'lattice.dev/team': 'payments' } }, commerce: { labels: { 'lattice.dev/environment': 'prod' } } },
    defaultSecretProvider: 'vault',
  };
}

/** The AccessSecret request of {@link checkout}. */
function secretRequest(input = checkout()) {
  const r = serviceRequests(input).find((x) => x.action === 'AccessSecret');
  assert.ok(r);
  return r;
}

describe('decisions', () => {
  test('with no policy, every request is denied (Cedar default deny) with the exact message', () => {
    const e = engine([]);
    const d = e.authorize(secretRequest());
    assert.equal(d.allowed, false);
    assert.equal(d.outcome, 'deny');
    assert.deepEqual(d.determiningPolicies, []);
    assert.deepEqual(d.errors, []);
    assert.equal(d.reason, 'AccessSecretDenied');
    assert.equal(d.action, 'AccessSecret');
    assert.equal(d.resourceDescription, 'secret payments/api-key');
    assert.equal(d.resource, 'Lattice::Secret::"vault:payments/api-key"');
    assert.equal(d.path, 'spec.workload.resources.api-key');
    assert.equal(
      d.message,
      'AccessSecret denied for secret payments/api-key. No Cedar policy permits Service commerce/checkout to access Secret payments/api-key. Contact the payments team (owner of namespace payments) to request a permit policy.',
    );
  });

  test('the example policies deny the cross-team secret with the same exact message', () => {
    const e = engine(examplePolicies());
    const d = e.authorize(secretRequest());
    assert.equal(
      d.message,
      'AccessSecret denied for secret payments/api-key. No Cedar policy permits Service commerce/checkout to access Secret payments/api-key. Contact the payments team (owner of namespace payments) to request a permit policy.',
    );
  });

  test('the owner contact is named when the namespace has one, the platform contact when nobody owns the resource', () => {
    const e = engine([], { platformContact: '#platform on Slack' });
    const withContact = checkout();
    withContact.namespaces = { payments: { labels: { team: 'payments' }, annotations: { 'lattice.dev/owner': '#payments-oncall' } } };
    assert.match(e.authorize(secretRequest(withContact)).message, / Contact the payments team at #payments-oncall \(owner of namespace payments\) to request a permit policy\.$/);
    const contactOnly = checkout();
    contactOnly.namespaces = { payments: { annotations: { 'lattice.dev/owner': 'jane@example.com' } } };
    assert.match(e.authorize(secretRequest(contactOnly)).message, / Contact jane@example\.com \(owner of namespace payments\) to request a permit policy\.$/);
    const unowned = checkout('api-key');
    assert.equal(
      e.authorize(secretRequest(unowned)).message,
      'AccessSecret denied for secret api-key. No Cedar policy permits Service commerce/checkout to access Secret api-key. Contact #platform on Slack to request a permit policy.',
    );
  });

  test('a satisfied permit allows, naming the permitting policy', () => {
    const e = engine(examplePolicies());
    const d = e.authorize(secretRequest(checkout('commerce/db-password')));
    assert.equal(d.allowed, true);
    assert.equal(d.outcome, 'allow');
    assert.equal(d.reason, 'Authorized');
    assert.deepEqual(d.determiningPolicies, ['team-secrets/own-namespace']);
    assert.equal(d.message, 'AccessSecret allowed for secret commerce/db-password by policy team-secrets/own-namespace.');
  });

  test('a satisfied forbid overrides a satisfied permit and is named in the message', () => {
    const e = engine(
      sources(
        cedarPolicy('allow-all', 'permit (principal, action == Lattice::Action::"AccessSecret", resource);'),
        cedarPolicy(
          'guards',
          '@id("payments-only")\nforbid (principal, action == Lattice::Action::"AccessSecret", resource in Lattice::Namespace::"payments")\nunless { principal.namespace == "payments" };',
          { owner: 'the security team' },
        ),
      ),
    );
    const denied = e.authorize(secretRequest());
    assert.equal(denied.allowed, false);
    assert.equal(denied.outcome, 'deny');
    assert.deepEqual(denied.determiningPolicies, ['guards/payments-only']);
    assert.equal(denied.reason, 'AccessSecretDenied');
    assert.equal(
      denied.message,
      'AccessSecret denied for secret payments/api-key. Denied by policy guards/payments-only (forbid), and a forbid overrides every permit: Service commerce/checkout may not access Secret payments/api-key. Contact the security team (owner of CedarPolicy guards in lattice-system) if the service needs this.',
    );
    // The permit alone decides for a secret the forbid does not cover.
    const allowed = e.authorize(secretRequest(checkout('commerce/token')));
    assert.deepEqual([allowed.outcome, allowed.determiningPolicies], ['allow', ['allow-all/0']]);
  });

  test('several forbids are all named, with the platform contact for an unowned CedarPolicy', () => {
    const e = engine(
      sources(
        cedarPolicy('a', 'forbid (principal, action == Lattice::Action::"AccessSecret", resource);'),
        cedarPolicy('b', '@id("x") forbid (principal, action, resource in Lattice::Namespace::"payments");', { owner: 'the security team' }),
      ),
    );
    const d = e.authorize(secretRequest());
    assert.deepEqual([...d.determiningPolicies].sort(), ['a/0', 'b/x']);
    assert.match(d.message, /^AccessSecret denied for secret payments\/api-key\. Denied by policies (a\/0, b\/x|b\/x, a\/0) \(forbid\), and a forbid overrides every permit: /);
    assert.match(d.message, / Contact the security team \(owner of CedarPolicy b in lattice-system\) or the platform team if the service needs this\.$/);
  });

  test('an evaluation error is an error decision, not the allow Cedar would give by skipping the policy', () => {
    // Cedar skips a policy that errors: here the forbid errors (the entity does not exist), so Cedar
    // alone would allow through the permit.
    const e = engine(
      sources(
        cedarPolicy('allow-all', 'permit (principal, action == Lattice::Action::"AccessSecret", resource);'),
        cedarPolicy(
          'ghost',
          '// reads an entity Lattice never provides\n@id("ghost-namespace")\nforbid (principal, action == Lattice::Action::"AccessSecret", resource)\nwhen { Lattice::Namespace::"ghost".name == "x" };',
          { owner: 'the security team' },
        ),
      ),
    );
    const d = e.authorize(secretRequest());
    assert.equal(d.allowed, false);
    assert.equal(d.outcome, 'error');
    assert.equal(d.reason, 'PolicyEvaluationError');
    assert.deepEqual(d.determiningPolicies, ['allow-all/0']);
    assert.deepEqual(d.errors, [
      'ghost/ghost-namespace: entity `Lattice::Namespace::"ghost"` does not exist (at CedarPolicy ghost spec.policies line 4, column 8)',
    ]);
    assert.equal(
      d.message,
      'AccessSecret could not be decided for secret payments/api-key: policy ghost/ghost-namespace failed to evaluate (ghost/ghost-namespace: entity `Lattice::Namespace::"ghost"` does not exist (at CedarPolicy ghost spec.policies line 4, column 8)). Lattice refuses a request while a policy that applies to it fails, instead of ignoring the policy. Contact the security team (owner of CedarPolicy ghost in lattice-system) to fix the policy.',
    );
  });

  test('an arithmetic overflow in a permit is an error too, not a silent deny', () => {
    const e = engine(
      sources(
        cedarPolicy(
          'overflow',
          'permit (principal, action == Lattice::Action::"AccessExternalEndpoint", resource)\nwhen { resource.port * 9223372036854775807 > 0 };',
        ),
      ),
    );
    const input = checkout();
    input.service = latticeService({
      name: 'checkout',
      namespace: 'commerce',
      spec: { workload: { containers: { api: container('registry.example.com/a:1') }, resources: { stripe: { type: 'external-service', params: { endpoints: ['https://api.stripe.com'] } } } } },
    });
    const r = serviceRequests(input).find((x) => x.action === 'AccessExternalEndpoint');
    assert.ok(r);
    const d = e.authorize(r);
    assert.equal(d.outcome, 'error');
    assert.equal(d.reason, 'PolicyEvaluationError');
    assert.equal(d.errors.length, 1);
    assert.match(d.errors[0] ?? '', /^overflow\/0: integer overflow while attempting to multiply the values `443` and `9223372036854775807` \(at CedarPolicy overflow spec.policies line 2, column 8\)$/);
    assert.match(d.message, /Contact the platform team to fix the policy\.$/);
  });

  test('a request Cedar rejects (entity not matching the schema) is an error naming a Lattice defect', () => {
    const e = engine([]);
    const r = secretRequest();
    const broken = { ...r, entities: r.entities.map((x) => ((x.uid as { type: string }).type === 'Lattice::Secret' ? { ...x, attrs: { provider: 'vault' } } : x)) };
    const d = e.authorize(broken);
    assert.equal(d.outcome, 'error');
    assert.equal(d.reason, 'PolicyEvaluationError');
    assert.equal(d.errors.length, 1);
    assert.match(d.errors[0] ?? '', /^request rejected by Cedar: entity does not conform to the schema: expected entity `Lattice::Secret::"vault:payments\/api-key"` to have attribute `path`/);
    assert.match(d.message, /This is a defect in Lattice, not in your service or the policies: report it to the platform team\.$/);
  });
});

describe('policy ids', () => {
  test('ids are <CedarPolicy name>/<@id>, else <name>/<0-based position>, in source order past ten policies', () => {
    const texts = Array.from({ length: 12 }, (_, i) =>
      i % 4 === 1 ? `@id("p${i}")\npermit (principal, action == Lattice::Action::"ExposeRoute", resource) when { resource.host == "h${i}" };` : `permit (principal, action == Lattice::Action::"ExposeRoute", resource) when { resource.host == "h${i}" };`,
    );
    const e = engine(sources(cedarPolicy('routes', texts.join('\n'))));
    assert.deepEqual(e.policyIds, ['routes/0', 'routes/p1', 'routes/2', 'routes/3', 'routes/4', 'routes/p5', 'routes/6', 'routes/7', 'routes/8', 'routes/p9', 'routes/10', 'routes/11']);
    const input = checkout();
    for (const [host, id] of [
      ['h10', 'routes/10'],
      ['h9', 'routes/p9'],
      ['h2', 'routes/2'],
    ] as const) {
      const d = e.canExposeRoute(input, { host, exposure: 'public', path: 'spec.routes.web' });
      assert.deepEqual([d.outcome, d.determiningPolicies], ['allow', [id]]);
    }
    const denied = e.canExposeRoute(input, { host: 'shop.example.com', exposure: 'public', path: 'spec.routes.web' });
    assert.equal(denied.reason, 'RouteExposureDenied');
    assert.equal(
      denied.message,
      'ExposeRoute denied for public route shop.example.com. No Cedar policy permits Service commerce/checkout to expose Route shop.example.com (public). Contact the platform team to request a permit policy.',
    );
  });
});

describe('summary', () => {
  test('all allowed: True, Authorized, with the number of decisions', () => {
    const e = engine(examplePolicies());
    const input = checkout('commerce/db');
    const { decisions, summary } = e.authorizeService(input);
    assert.equal(decisions.length, 2);
    assert.deepEqual(summary, { status: 'True', reason: 'Authorized', message: '2 authorization decisions made, all allowed by Cedar policy.', decisions: 2, allowed: 2, denied: 0, errors: 0 });
  });

  test('every denial is collected; errors come first and set the reason', () => {
    const e = engine(examplePolicies());
    const input = checkout();
    input.service = latticeService({
      name: 'checkout',
      namespace: 'commerce',
      spec: {
        workload: {
          containers: { api: container('docker.io/library/nginx:1.27'), sidecar: container('registry.example.com/proxy:2') },
          resources: { 'api-key': { type: 'secret', id: 'payments/api-key' } },
        },
      },
    });
    const { decisions, summary } = e.authorizeService(input);
    assert.deepEqual(
      decisions.map((d) => [d.action, d.outcome]),
      [
        ['AccessSecret', 'deny'],
        ['DeployImage', 'deny'],
        ['DeployImage', 'allow'],
      ],
    );
    assert.equal(summary.status, 'False');
    assert.equal(summary.reason, 'AccessSecretDenied');
    assert.deepEqual([summary.decisions, summary.allowed, summary.denied, summary.errors], [3, 1, 2, 0]);
    assert.equal(summary.message, `2 of 3 authorization decisions failed. ${decisions[0]?.message} ${decisions[1]?.message}`);

    const errored = { ...decisions[2]!, outcome: 'error' as const, allowed: false, reason: 'PolicyEvaluationError', message: 'boom.' };
    const mixed = summarize([decisions[0]!, errored]);
    assert.equal(mixed.reason, 'PolicyEvaluationError');
    assert.equal(mixed.message, `2 of 2 authorization decisions failed. boom. ${decisions[0]?.message}`);
    assert.deepEqual(summarize([]), { status: 'True', reason: 'Authorized', message: 'No authorization decision was needed.', decisions: 0, allowed: 0, denied: 0, errors: 0 });
  });
});

describe('one parsed policy set for every service', () => {
  test('100 policies are parsed once and reused for every decision of every service', () => {
    const before = policySetParseCount();
    const e = engine(generatedPolicies(100).map((policy) => ({ policy })));
    const afterBuild = policySetParseCount();
    assert.equal(e.policyIds.length, 101);
    assert.deepEqual(e.problems, []);
    // One set per action at most, each parsed once.
    assert.ok(afterBuild - before <= 7, `parsed ${afterBuild - before} sets`);
    let allowed = 0;
    let decided = 0;
    for (let i = 0; i < 20; i++) {
      const input: ServiceAuthorizationInput = {
        service: latticeService({
          name: `svc-${i}`,
          namespace: `team-${i * 5}`,
          spec: {
            workload: {
              containers: { api: container(`registry-${(i % 2) * 10 + 1}.example.com/app:${i}`) },
              resources: { own: { type: 'secret', id: `team-${i * 5}/key` }, other: { type: 'secret', id: 'elsewhere/key' } },
            },
          },
        }),
      };
      for (const d of e.authorizeService(input).decisions) {
        decided++;
        if (d.allowed) allowed++;
      }
    }
    assert.equal(policySetParseCount(), afterBuild, 'no policy set parsed while deciding');
    // Per service: own secret allowed (secrets-<5k> for team-<5k>, i*5 < 100), other secret denied,
    // image allowed for registry-1 (images-1) and registry-11 (images-11).
    assert.equal(decided, 60);
    assert.equal(allowed, 40);
  });

  test('equal policy sets share one parsed copy; disposing one engine leaves the other working', () => {
    const doc = cedarPolicy('shared', '@id("unique-to-this-test") permit (principal, action == Lattice::Action::"AccessSecret", resource);');
    const before = policySetParseCount();
    const a = PolicyEngine.fromPolicies(sources(doc));
    const parsedForA = policySetParseCount() - before;
    const b = PolicyEngine.fromPolicies(sources(doc));
    assert.equal(policySetParseCount() - before, parsedForA, 'the second engine reuses the parsed sets');
    a.dispose();
    assert.throws(() => a.authorize(secretRequest()), /used after dispose/);
    assert.equal(b.authorize(secretRequest()).outcome, 'allow');
    b.dispose();
  });

  test('benchAuthorization reports decisions per second over a valid 100-policy set', () => {
    const r = benchAuthorization({ policies: 100, decisions: 70 });
    assert.equal(r.policies, 101);
    assert.equal(r.decisions, 70);
    assert.equal(r.allowed, 40);
    assert.ok(r.decisionsPerSecond > 0);
    // Memoised, the repeated questions are answered without Cedar, and alike.
    const m = benchAuthorization({ policies: 100, decisions: 70, memoize: true });
    assert.deepEqual([m.decisions, m.allowed], [70, 40]);
  });
});
