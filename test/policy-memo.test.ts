/**
 * Memoised Cedar decisions (src/policy/memo.ts): an answer is reused only for a request Cedar must
 * answer the same way. Each test tries to make the memo hand one service's answer to another: a
 * policy naming a service by id (also written with escapes), reading an attribute or tag that tells
 * them apart, reading tags by a computed key, or following an entity reference; and a fuzzed
 * comparison of memoised and unmemoised engines over generated policies and fleets.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PolicyEngine, serviceRequests, type AuthorizationDecision, type ServiceAuthorizationInput } from '../src/policy/index.ts';
import { decisionKey, mergeReferences, trimRequest, type MemoRequest } from '../src/policy/memo.ts';
import { policyInfo, schemaJson } from '../src/policy/cedar.ts';
import { cedarPolicy, container, DIGEST, latticeService, sources } from './fixtures/policy/helpers.ts';

const engines: PolicyEngine[] = [];
function engine(policies: string, memoize = true): PolicyEngine {
  const e = PolicyEngine.fromPolicies(sources(cedarPolicy('memo', policies)), { memoize });
  engines.push(e);
  return e;
}
after(() => engines.forEach((e) => e.dispose()));

const NAMESPACES = {
  'ns-a': { labels: { 'lattice.dev/team': 'alpha' } },
  'ns-b': { labels: { 'lattice.dev/team': 'beta' } },
  frozen: { labels: {} },
};

/** A service `namespace/name` reading the secrets `paths`, with labels and one image. */
function service(namespace: string, name: string, paths: string[], labels: Record<string, string> = {}, image = `registry.example.com/app@${DIGEST}`): ServiceAuthorizationInput {
  return {
    service: latticeService({
      name,
      namespace,
      labels,
      spec: {
        workload: {
          containers: { app: container(image) },
          resources: Object.fromEntries(paths.map((p, i) => [`s${i}`, { type: 'secret', id: p }])),
        },
      },
    }),
    namespaces: NAMESPACES,
    defaultSecretProvider: 'vault',
  };
}

/** Every decision for the services, in order, as plain data. */
function decide(e: PolicyEngine, services: ServiceAuthorizationInput[]): AuthorizationDecision[] {
  return services.flatMap((s) => e.authorizeService(s).decisions);
}

/** What one policy can read (its JSON form through Cedar's `policyToJson`, then policyReferences). */
function referencesOf(text: string): { names: string[]; dynamicTags: boolean } {
  const parsed = policyInfo(text);
  assert.ok(parsed.ok, text);
  return parsed.info.references;
}

describe('what a policy can read', () => {
  test('every string of the JSON form, escapes resolved; the last name a `has` tests is not a read', () => {
    const refs = referencesOf(
      'permit (principal == Lattice::Service::"ns\\u{2f}a", action, resource) when { resource has team && resource.path == "x" && principal has owner.first };',
    );
    assert.ok(refs.names.includes('ns/a'), 'the escaped id is read as Cedar reads it');
    assert.ok(refs.names.includes('path'));
    assert.ok(refs.names.includes('owner'), '`has owner.first` reads owner to look inside it');
    assert.ok(!refs.names.includes('team'), '`has team` only tests presence');
    assert.ok(!refs.names.includes('first'));
    assert.equal(refs.dynamicTags, false);
  });

  test('a tag read by a computed key makes every tag count; a literal key does not', () => {
    assert.equal(referencesOf('permit (principal, action, resource) when { principal.hasTag("tier") };').dynamicTags, false);
    assert.equal(referencesOf('permit (principal, action, resource) when { principal.hasTag(principal.name) };').dynamicTags, true);
    assert.equal(referencesOf('permit (principal, action, resource) when { principal.getTag(principal.name) == "x" };').dynamicTags, true);
  });
});

describe('decision keys', () => {
  const refsOf = (text: string) => mergeReferences([referencesOf(text)]);
  const secret = (s: ServiceAuthorizationInput) => serviceRequests(s).find((r) => r.action === 'AccessSecret')!;

  test('two services of a namespace reading their own secrets ask the same question when no policy tells them apart', () => {
    const refs = refsOf('permit (principal, action == Lattice::Action::"AccessSecret", resource) when { resource has namespace && resource.namespace == principal.namespace };');
    assert.equal(decisionKey(secret(service('ns-a', 'one', ['ns-a/one'])), refs), decisionKey(secret(service('ns-a', 'two', ['ns-a/two'])), refs));
    assert.notEqual(decisionKey(secret(service('ns-a', 'one', ['ns-a/one'])), refs), decisionKey(secret(service('ns-b', 'one', ['ns-b/one'])), refs));
  });

  test('a policy naming a service, reading its name, or reading tags by a computed key tells the services apart', () => {
    for (const text of [
      'permit (principal == Lattice::Service::"ns-a/one", action, resource);',
      'permit (principal, action, resource) when { principal.name == "one" };',
      'permit (principal, action, resource) when { principal.hasTag(principal.namespace) };',
    ]) {
      const refs = refsOf(text);
      const one = secret(service('ns-a', 'one', ['ns-a/x'], { tier: 'web' }));
      const two = secret(service('ns-a', 'two', ['ns-a/x'], { tier: 'db' }));
      assert.notEqual(decisionKey(one, refs), decisionKey(two, refs), text);
    }
  });

  test('a principal an attribute refers to keeps its id in the key', () => {
    const refs = refsOf('permit (principal, action, resource) when { principal == resource.owner };');
    const request = (p: string): MemoRequest => ({
      action: 'AccessSecret',
      principal: { type: 'Lattice::Service', id: p },
      resource: { type: 'Lattice::Secret', id: 'vault:x' },
      context: {},
      entities: [
        { uid: { type: 'Lattice::Service', id: p }, attrs: {}, parents: [] },
        { uid: { type: 'Lattice::Secret', id: 'vault:x' }, attrs: { owner: { __entity: { type: 'Lattice::Service', id: 'ns/one' } } }, parents: [] },
      ],
    });
    assert.notEqual(decisionKey(request('ns/one'), refs), decisionKey(request('ns/two'), refs));
  });

  test('an attribute no policy reads still counts by its type and presence', () => {
    const refs = refsOf('permit (principal, action, resource);');
    const withTeam = secret(service('ns-a', 'one', ['ns-a/one']));
    const withoutTeam = secret(service('frozen', 'one', ['frozen/one']));
    assert.notEqual(decisionKey(withTeam, refs), decisionKey(withoutTeam, refs));
  });
});

describe('the entities Cedar is asked with', () => {
  const secret = (s: ServiceAuthorizationInput) => serviceRequests(s).find((r) => r.action === 'AccessSecret')!;

  test('keep what the policies name; reduce every other attribute to its type; leave out tags no policy names', () => {
    const refs = mergeReferences([referencesOf('permit (principal, action, resource) when { resource has namespace && resource.namespace == principal.namespace && principal.hasTag("tier") };')]);
    const request = secret(service('ns-a', 'one', ['ns-a/db'], { tier: 'web', other: 'x' }));
    const { entities } = trimRequest(request, refs);
    const [principal, namespace, resource] = entities;
    assert.deepEqual(principal?.attrs, { namespace: 'ns-a', name: '', images: [''], team: '' });
    assert.deepEqual(principal?.tags, { tier: 'web' });
    assert.deepEqual(principal?.parents, [{ type: 'Lattice::Namespace', id: 'ns-a' }]);
    assert.deepEqual(namespace?.attrs, { name: '', team: '' });
    // `resource has namespace` tests presence, which the reduced value keeps; `resource.namespace` reads it.
    assert.deepEqual(resource?.attrs, { provider: '', path: '', namespace: 'ns-a', team: '' });
    assert.deepEqual(resource?.uid, request.entities[2]?.uid);
  });

  test('keep every tag when a policy reads tags by a computed key', () => {
    const refs = mergeReferences([referencesOf('permit (principal, action, resource) when { principal.hasTag(principal.name) };')]);
    const { entities } = trimRequest(secret(service('ns-a', 'one', ['ns-a/db'], { tier: 'web', other: 'x' })), refs);
    assert.deepEqual(entities[0]?.tags, { tier: 'web', other: 'x', 'lattice.dev/team': 'alpha' });
  });

  test('the Lattice schema has no extension-typed attribute (a reduced string there would be parsed as an IP address or a decimal)', () => {
    const answer = schemaJson();
    assert.equal(answer.type, 'success');
    const extensions = new Set(['ipaddr', 'decimal', 'datetime', 'duration']);
    const found: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}.${i}`));
      if (node === null || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (o.type === 'Extension' || (typeof o.name === 'string' && extensions.has(o.name))) found.push(path);
      for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
    };
    walk(answer.type === 'success' ? answer.json : undefined, 'schema');
    assert.deepEqual(found, []);
  });
});

describe('memoised decisions equal Cedar\'s', () => {
  const fleet = [
    service('ns-a', 'one', ['ns-a/db'], { tier: 'web', 'ns-a': 'yes' }),
    service('ns-a', 'two', ['ns-a/db'], { tier: 'web', 'ns-a': 'no' }),
    service('ns-a', 'three', ['ns-b/db'], { three: 'yes' }),
    service('ns-b', 'three', ['ns-b/db']),
    service('ns-b', 'one', ['ns-b/db'], { tier: 'web' }),
    service('frozen', 'one', ['ns-a/db']),
  ];

  for (const [why, policies] of [
    ['a service named by id', 'permit (principal == Lattice::Service::"ns-a/two", action == Lattice::Action::"AccessSecret", resource);'],
    ['a service named by id with an escape', 'permit (principal == Lattice::Service::"ns-a\\u{2f}two", action == Lattice::Action::"AccessSecret", resource);'],
    ['a secret named by id', 'permit (principal, action == Lattice::Action::"AccessSecret", resource == Lattice::Secret::"vault:ns-b/db");'],
    ['a service name', 'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { principal.name == "two" };'],
    ['a tag', 'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { principal.hasTag("tier") && principal.getTag("tier") == "web" };'],
    ['a tag by computed key', 'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { principal.hasTag(principal.name) };'],
    ['a tag value by computed key', 'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { principal.hasTag(principal.namespace) && principal.getTag(principal.namespace) == "yes" };'],
    ['namespace membership', 'forbid (principal in Lattice::Namespace::"frozen", action, resource);\npermit (principal, action, resource);'],
    ['the same team', 'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { principal has team && resource has team && principal.team == resource.team };'],
  ] as const) {
    test(`${why}: memoised and unmemoised engines decide every request alike`, () => {
      const memoised = engine(policies);
      const plain = engine(policies, false);
      const expected = decide(plain, fleet);
      // Twice: the second pass is answered from the memo wherever it may be.
      assert.deepEqual(decide(memoised, fleet), expected);
      assert.deepEqual(decide(memoised, fleet), expected);
      assert.ok(memoised.stats().memoHits > 0, 'the memo answered something');
    });
  }

  test('a namespace of services reading their own secrets costs one Cedar call per distinct question', () => {
    const e = engine('permit (principal, action == Lattice::Action::"AccessSecret", resource) when { resource has namespace && resource.namespace == principal.namespace };\npermit (principal, action == Lattice::Action::"DeployImage", resource);');
    const services = Array.from({ length: 40 }, (_, i) => service('ns-a', `svc-${i}`, [`ns-a/svc-${i}`]));
    const decisions = decide(e, services);
    assert.ok(decisions.every((d) => d.allowed));
    assert.equal(decisions.length, 80);
    assert.deepEqual(e.stats(), { cedarCalls: 2, memoHits: 78, memoSize: 2 });
    // Messages still name each service's own secret.
    assert.equal(decisions[2]?.resourceDescription, 'secret ns-a/svc-1');
  });

  test('fuzzed policies and fleets: the memo never changes a decision or a message', () => {
    const names = ['one', 'two', 'three'];
    const namespaces = Object.keys(NAMESPACES);
    const paths = ['ns-a/db', 'ns-b/db', 'ns-a/one', 'shared/x'];
    const images = [`registry.example.com/app@${DIGEST}`, 'registry.example.com/app:1.0', 'docker.io/library/nginx:1.27'];
    const str = (pool: readonly string[]) => fc.constantFrom(...pool).map((s) => JSON.stringify(s));
    const id = (pool: readonly string[]) => fc.constantFrom(...pool).chain((s) => fc.boolean().map((escape) => `"${escape ? s.replace('/', '\\u{2f}') : s}"`));
    const serviceIds = namespaces.flatMap((n) => names.map((m) => `${n}/${m}`));
    const atom = fc.oneof(
      str(names).map((s) => `principal.name == ${s}`),
      str(namespaces).map((s) => `principal.namespace == ${s}`),
      str(['alpha', 'beta']).map((s) => `(principal has team && principal.team == ${s})`),
      id(serviceIds).map((s) => `principal == Lattice::Service::${s}`),
      str(namespaces).map((s) => `principal in Lattice::Namespace::${s}`),
      str(['web', 'db']).map((s) => `(principal.hasTag("tier") && principal.getTag("tier") == ${s})`),
      fc.constant('principal.hasTag(principal.name)'),
      fc.constant('(principal.hasTag(principal.namespace) && principal.getTag(principal.namespace) == "yes")'),
      str(images).map((s) => `principal.images.contains(${s})`),
      fc.constant('(principal has team && resource has team && principal.team == resource.team)'),
      str(paths).map((s) => `resource.path == ${s}`),
      id(paths.map((p) => `vault:${p}`)).map((s) => `resource == Lattice::Secret::${s}`),
      fc.constant('resource has namespace'),
    );
    const condition: fc.Arbitrary<string> = fc.letrec<{ c: string }>((tie) => ({
      c: fc.oneof({ depthSize: 'small', withCrossShrink: true }, atom, fc.tuple(tie('c'), fc.constantFrom('&&', '||'), tie('c')).map(([a, op, b]) => `(${a} ${op} ${b})`), tie('c').map((c) => `!(${c})`)),
    })).c;
    const policy = fc.tuple(fc.constantFrom('permit', 'forbid'), condition).map(([effect, c]) => `${effect} (principal, action == Lattice::Action::"AccessSecret", resource) when { ${c} };`);
    const fleetArb = fc.uniqueArray(
      fc.record({ namespace: fc.constantFrom(...namespaces), name: fc.constantFrom(...names), paths: fc.uniqueArray(fc.constantFrom(...paths), { minLength: 1, maxLength: 2 }), tier: fc.constantFrom('web', 'db', undefined), named: fc.constantFrom(...names, undefined), own: fc.constantFrom('yes', 'no', undefined), image: fc.constantFrom(...images) }),
      { minLength: 2, maxLength: 8, selector: (s) => `${s.namespace}/${s.name}` },
    );
    let hits = 0;
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 4 }), fleetArb, (policies, specs) => {
        const text = policies.map((p, i) => `@id("p${i}")\n${p}`).join('\n');
        // Labels keyed by a service name or a namespace, so that tags read by computed keys hold for some services.
        const labels = (s: (typeof specs)[number]) => ({
          ...(s.tier === undefined ? {} : { tier: s.tier }),
          ...(s.named === undefined ? {} : { [s.named]: 'yes' }),
          ...(s.own === undefined ? {} : { [s.namespace]: s.own }),
        });
        const services = specs.map((s) => service(s.namespace, s.name, s.paths, labels(s), s.image));
        const memoised = PolicyEngine.fromPolicies(sources(cedarPolicy('fuzz', text)), { memoize: true });
        const plain = PolicyEngine.fromPolicies(sources(cedarPolicy('fuzz', text)), { memoize: false });
        try {
          // Validator warnings (`x && !x` is "impossible") are fine; every generated policy must be valid.
          assert.deepEqual(memoised.problems.filter((p) => p.severity === 'error'), []);
          const expected = decide(plain, services);
          assert.deepEqual(decide(memoised, services), expected);
          assert.deepEqual(decide(memoised, services), expected);
          hits += memoised.stats().memoHits;
        } finally {
          memoised.dispose();
          plain.dispose();
        }
      }),
      { numRuns: 150, seed: 20261206 },
    );
    assert.ok(hits > 0);
  });
});
