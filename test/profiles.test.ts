import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveObjects, objectOf, resultOf, service, IMAGE } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import { DEFAULT_PROFILES, podRequests, resolveResources } from '../src/compiler/workload/profiles.ts';
import { defaultPlatformSettings } from '../src/api/latticeplatform/v1alpha1.ts';
import { SIZE_PROFILES } from '../src/api/latticeservice/v1alpha1.ts';
import type { ServiceResult } from '../src/compiler/types.ts';

/** Permits every request: these tests are about sizing, not authorization (that is test/policy-*.test.ts). */
const PERMIT_ALL = {
  apiVersion: 'lattice.dev/v1alpha1',
  kind: 'CedarPolicy',
  metadata: { name: 'permit-all', namespace: 'lattice-system' },
  spec: { policies: 'permit(principal, action, resource);' },
};

function withResources(resources: unknown, extraContainers: Record<string, unknown> = {}): Record<string, unknown> {
  return service('web', { workload: { containers: { main: { image: IMAGE, resources }, ...extraContainers } } });
}

function containerResources(r: ServiceResult, index = 0): unknown {
  const d = objectOf(r, 'Deployment', 'web') as never as { spec: { template: { spec: { containers: { resources: unknown }[] } } } };
  assertValid(d as never);
  return d.spec.template.spec.containers[index]!.resources;
}

function platform(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec };
}

const EXPECTED = {
  small: { requests: { cpu: '250m', memory: '384Mi' }, limits: { memory: '512Mi' } },
  medium: { requests: { cpu: '500m', memory: '768Mi' }, limits: { memory: '1Gi' } },
  large: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '3Gi' } },
  xlarge: { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '6Gi' } },
} as const;

for (const profile of SIZE_PROFILES) {
  test(`profile ${profile}: the container gets the documented requests and memory limit, no CPU limit`, () => {
    const r = resultOf(deriveObjects([PERMIT_ALL, withResources({ profile })]), 'shop/web');
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.deepEqual(containerResources(r), EXPECTED[profile]);
  });
}

test('the default profile table is exactly the documented one (and nothing else)', () => {
  assert.deepEqual(Object.keys(DEFAULT_PROFILES), ['small', 'medium', 'large', 'xlarge']);
  assert.deepEqual(DEFAULT_PROFILES, EXPECTED);
});

test('a platform redefinition replaces that profile; the others keep their defaults', () => {
  const p = platform({ sizeProfiles: { small: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi', cpu: '1' } } } });
  const small = resultOf(deriveObjects([PERMIT_ALL, p, withResources({ profile: 'small' })]), 'shop/web');
  assert.deepEqual(containerResources(small), { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi', cpu: '1' } });
  const medium = resultOf(deriveObjects([PERMIT_ALL, p, withResources({ profile: 'medium' })]), 'shop/web');
  assert.deepEqual(containerResources(medium), EXPECTED.medium);
});

test('a platform redefinition with a request above its limit is a platform problem', () => {
  const p = platform({ sizeProfiles: { large: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '2Gi' } } } });
  const result = deriveObjects([PERMIT_ALL, p, withResources({ profile: 'large' })]);
  const problem = result.problems.find((x) => x.kind === 'LatticePlatform');
  assert.ok(problem, 'the invalid LatticePlatform is reported');
  assert.equal(problem.diagnostics[0]!.path, 'spec.sizeProfiles.large.requests.memory');
  assert.equal(problem.diagnostics[0]!.message, 'memory request 4Gi is larger than the limit 2Gi: lower the request or raise the limit');
});

test('explicit values without a profile still work, a missing request defaulting to the limit', () => {
  const r = resultOf(deriveObjects([PERMIT_ALL, withResources({ requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } })]), 'shop/web');
  assert.deepEqual(containerResources(r), { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' } });
});

test('profile plus explicit values is an error naming what to drop', () => {
  const cases: [unknown, string][] = [
    [{ profile: 'small', limits: { memory: '1Gi' } }, 'declares both profile small and explicit limits: drop `profile` to keep the explicit values, or drop `limits` to use the small profile'],
    [{ profile: 'large', requests: { cpu: '1' } }, 'declares both profile large and explicit requests: drop `profile` to keep the explicit values, or drop `requests` to use the large profile'],
    [
      { profile: 'medium', requests: { cpu: '1' }, limits: { memory: '1Gi' } },
      'declares both profile medium and explicit requests and limits: drop `profile` to keep the explicit values, or drop `requests` and `limits` to use the medium profile',
    ],
  ];
  for (const [resources, message] of cases) {
    const r = resultOf(deriveObjects([PERMIT_ALL, withResources(resources)]), 'shop/web');
    assert.equal(r.status.phase, 'Failed');
    assert.equal(r.objects.length, 0);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0]!.path, 'spec.workload.containers.main.resources.profile');
    assert.equal(errors[0]!.message, message);
  }
});

test('neither profile nor limits: the memory-limit message points at the profile as an alternative', () => {
  const r = resultOf(deriveObjects([PERMIT_ALL, withResources({})]), 'shop/web');
  const byPath = Object.fromEntries(r.diagnostics.map((d) => [d.path, d.message]));
  assert.deepEqual(byPath, {
    'spec.workload.containers.main.resources.limits.memory':
      'memory limit is required: add e.g. `memory: 512Mi` under limits, or use a size profile (`resources: {profile: small}`)',
  });
});

test('an unknown profile name lists the valid ones', () => {
  const r = resultOf(deriveObjects([PERMIT_ALL, withResources({ profile: 'huge' })]), 'shop/web');
  const d = r.diagnostics.find((x) => x.path === 'spec.workload.containers.main.resources.profile');
  // The tail of the message ("not ...") comes from the shared zod-issue wording in validate.ts.
  assert.match(d?.message ?? '', /^must be one of "small", "medium", "large", "xlarge"/);
});

test('podRequests sums containers in millicores and bytes, profiles resolved', () => {
  const settings = defaultPlatformSettings();
  const total = podRequests(
    {
      a: { resources: { profile: 'medium' } },
      b: { resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } } },
      c: { resources: { limits: { cpu: '1.5', memory: '1Gi' } } },
    },
    settings,
  );
  assert.deepEqual(total, { milliCpu: 500 + 100 + 1500, memory: (768 + 256 + 1024) * 2 ** 20 });
  assert.deepEqual(resolveResources({ resources: { profile: 'xlarge' } }, settings), { ...EXPECTED.xlarge, profile: 'xlarge' });
});
