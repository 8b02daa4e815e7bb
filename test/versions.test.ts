/**
 * LatticeService v1alpha1 and v1beta1 (issue 17, item 2): the schema built from the table of moves,
 * conversion lossless both ways on a fuzzed corpus, both versions validated and derived alike, the
 * CRD's versions and webhook, the ConversionReview handler, `lattice migrate`, the deprecation
 * warning, and `lattice diff` over a version change.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { kindSchema, allCrds, type JSONSchemaProps } from '../src/api/crd.ts';
import { KINDS, atVersion, kindProblem } from '../src/api/kinds.ts';
import { MOVES } from '../src/api/latticeservice/v1beta1.ts';
import { movePath } from '../src/api/latticeservice/moves.ts';
import { CONVERSION_ANNOTATION, V1ALPHA1, V1BETA1, convertLatticeService, parseLatticeService } from '../src/api/latticeservice/index.ts';
import { SERVICE_V1ALPHA1_WARNING } from '../src/api/constants.ts';
import { reviewConversion, serveConversionWebhook } from '../src/controller/conversion.ts';
import { migrateText } from '../src/cli/migrate.ts';
import { validateService } from '../src/compiler/service/validate.ts';
import { crdProblems, re2ToRegExp } from './support/structural.ts';
import { validateAgainstCrd } from './support/schemas.ts';
import { lattice } from './support/cli.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SERVICE = KINDS.find((k) => k.kind === 'LatticeService')!;
const CRD = allCrds().find((c) => (c.metadata as { name: string }).name === 'latticeservices.lattice.dev')!;

// ------------------------------------------------------------------------------------------------
// The schema walk: every field of one version is a field of the other, through the table of moves.
// ------------------------------------------------------------------------------------------------

/** Every field path of a spec schema (`*` for map values, `[]` for list items), with its node minus description and children. */
function fieldPaths(node: JSONSchemaProps, path: string[] = [], out = new Map<string, unknown>()): Map<string, unknown> {
  const { description: _d, properties, additionalProperties, items, required: _r, ...leaf } = node;
  if (path.length > 0) out.set(path.join('.'), leaf);
  for (const [k, child] of Object.entries(properties ?? {})) fieldPaths(child, [...path, k], out);
  if (additionalProperties) fieldPaths(additionalProperties, [...path, '*'], out);
  if (items) fieldPaths(items, [...path, '[]'], out);
  return out;
}

/** v1alpha1 paths of the objects a collapse replaces by their content (declared in MOVES). */
const COLLAPSED_HOLDERS = new Set(MOVES.filter((m) => m.to.length < m.from.length && m.to.every((s, i) => m.from[i] === s)).map((m) => m.to.join('.')));

const specOf = (version: string): JSONSchemaProps => kindSchema(atVersion(SERVICE, version)!).properties!.spec!;

test('schema walk: every v1alpha1 field converts to a v1beta1 field of the same type and back, and the reverse', () => {
  const alpha = fieldPaths(specOf('v1alpha1'));
  const beta = fieldPaths(specOf('v1beta1'));
  assert.ok(alpha.size > 150, `only ${alpha.size} v1alpha1 paths walked`);
  const problems: string[] = [];
  for (const [from, to, fromPaths, toPaths, direction, back] of [
    ['v1alpha1', 'v1beta1', alpha, beta, 'forward', 'backward'],
    ['v1beta1', 'v1alpha1', beta, alpha, 'backward', 'forward'],
  ] as const) {
    for (const [path, leaf] of fromPaths) {
      // v1alpha1 also accepts an alias move's v1beta1 shape at the same place (spec.hostNetwork, a
      // capabilities list): such a path is a field of both versions as it is.
      const alias = MOVES.find((m) => m.alias && m.to.every((seg, i) => path.split('.')[i] === seg));
      if (alias && (toPaths.has(path) || toPaths.has(alias.to.join('.')))) continue;
      const mapped = movePath(path.split('.'), MOVES, direction).join('.');
      if (!toPaths.has(mapped)) {
        problems.push(`${from} spec.${path} -> spec.${mapped}: no such field in ${to}; declare a move in src/api/latticeservice/v1beta1.ts`);
        continue;
      }
      // The holder of a collapse (v1alpha1 `capabilities: {add}`) is not a field of v1beta1: its content is.
      if (direction === 'forward' && COLLAPSED_HOLDERS.has(path)) continue;
      if (JSON.stringify(toPaths.get(mapped)) !== JSON.stringify(leaf) && !MOVES.some((m) => [m.from, m.to].some((p) => p.join('.') === path || p.join('.') === mapped))) {
        problems.push(`${from} spec.${path} and ${to} spec.${mapped} differ: ${JSON.stringify(leaf)} vs ${JSON.stringify(toPaths.get(mapped))}`);
      }
      const roundTrip = movePath(mapped.split('.'), MOVES, back).join('.');
      if (roundTrip !== path) problems.push(`${from} spec.${path} -> ${mapped} -> ${roundTrip}: does not map back`);
    }
  }
  assert.deepEqual(problems, []);
  // The declared differences are really there.
  assert.ok(beta.has('hostNetwork') && !beta.has('workload.hostNetwork') && alpha.has('workload.hostNetwork'));
  assert.equal((beta.get('workload.containers.*.security.capabilities') as { type: string }).type, 'array');
  // v1alpha1 takes either shape there (a list, or {add: [...]}), so its schema is open at that node.
  assert.equal((alpha.get('workload.containers.*.security.capabilities') as { 'x-kubernetes-preserve-unknown-fields'?: boolean })['x-kubernetes-preserve-unknown-fields'], true);
});

test('schema walk fails loudly for a field added under a moved holder (a capabilities.drop beside add)', () => {
  // What the walk sees when v1alpha1 gains spec.workload.containers.*.security.capabilities.drop:
  const mapped = movePath('workload.containers.*.security.capabilities.drop'.split('.'), MOVES, 'forward').join('.');
  assert.equal(fieldPaths(specOf('v1beta1')).has(mapped), false, 'a path under the collapsed holder has no v1beta1 field, so the walk above would report it');
});

// ------------------------------------------------------------------------------------------------
// Fuzzed corpus: random objects valid against each version's CRD schema.
// ------------------------------------------------------------------------------------------------

const KEYS = ['a', 'api', 'web-1', 'metrics'];

/** A fast-check arbitrary of values valid against a structural schema node (what an API server stores). */
function arbitraryOf(node: JSONSchemaProps, depth = 0): fc.Arbitrary<unknown> {
  if (node.enum) return fc.constantFrom(...node.enum);
  if (node['x-kubernetes-int-or-string']) return fc.oneof(fc.nat(1000), fc.constantFrom('1', '250m', '1Gi'));
  if (node['x-kubernetes-preserve-unknown-fields'] && !node.properties) {
    return node.type === 'object' ? fc.constantFrom({}, { x: 1 }, { y: { z: ['a'] } }) : fc.constantFrom({}, { x: 1 }, 'v', 3, ['a']);
  }
  switch (node.type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: (node.minimum ?? -5) + (node.exclusiveMinimum ? 1 : 0), max: node.maximum ?? 70000 });
    case 'number':
      return fc.double({ min: node.minimum ?? 0, minExcluded: node.exclusiveMinimum === true, max: node.maximum ?? 1000, noNaN: true, noDefaultInfinity: true });
    case 'string': {
      if (node.pattern) return fc.stringMatching(re2ToRegExp(node.pattern)).filter((s) => s.length <= (node.maxLength ?? 253) && s.length >= (node.minLength ?? 0));
      return fc.string({ minLength: node.minLength ?? 0, maxLength: Math.min(node.maxLength ?? 12, 12) });
    }
    case 'array':
      return fc.array(arbitraryOf(node.items ?? { type: 'string' }, depth + 1), { minLength: node.minItems ?? 0, maxLength: Math.min(node.maxItems ?? 3, 3) });
    case 'object':
    default: {
      if (node.properties) {
        const props = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, arbitraryOf(v, depth + 1)]));
        return fc.record(props, { requiredKeys: node.required ?? [], noNullPrototype: true });
      }
      if (node.additionalProperties) return fc.dictionary(fc.constantFrom(...KEYS), arbitraryOf(node.additionalProperties, depth + 1), { maxKeys: depth > 6 ? 1 : 2, noNullPrototype: true });
      return fc.constant({});
    }
  }
}

/**
 * v1alpha1 takes `security.capabilities` in either shape (a list, or `{add: [...]}`), so its CRD leaves
 * that node open and the generator puts anything there; give each container one of the two shapes
 * (or `{}`, which v1beta1 cannot spell), as the v1alpha1 validation would require.
 */
function shapeCapabilities(spec: unknown): unknown {
  const containers = (spec as { workload?: { containers?: Record<string, { security?: Record<string, unknown> }> } } | null)?.workload?.containers ?? {};
  for (const c of Object.values(containers)) {
    const sec = c?.security;
    if (!sec || !('capabilities' in sec)) continue;
    const caps = sec.capabilities;
    if (Array.isArray(caps)) sec.capabilities = ['NET_ADMIN'];
    else if (caps !== null && typeof caps === 'object') sec.capabilities = 'add' in caps ? { add: ['SYS_TIME'] } : {};
    else delete sec.capabilities;
  }
  return spec;
}

function serviceArbitrary(version: string): fc.Arbitrary<Record<string, unknown>> {
  const raw = arbitraryOf(specOf(version.split('/')[1]!));
  const spec = version === V1ALPHA1 ? raw.map(shapeCapabilities) : raw;
  const annotations = fc.option(fc.dictionary(fc.constantFrom('a', 'example.com/b', 'lattice.dev/runbook'), fc.string({ maxLength: 8 }), { maxKeys: 2, noNullPrototype: true }), { nil: undefined });
  const status = fc.option(fc.record({ phase: fc.constantFrom('Pending', 'Ready', 'Failed'), conditions: fc.constant([]), resourceCount: fc.nat(9), resources: fc.constant([]) }, { noNullPrototype: true }), { nil: undefined });
  return fc.record({ spec, annotations, status }, { noNullPrototype: true }).map(({ spec: s, annotations: a, status: st }) => {
    const o: Record<string, unknown> = { apiVersion: version, kind: 'LatticeService', metadata: { name: 'svc', namespace: 'shop', uid: 'u-1', resourceVersion: '7', ...(a ? { annotations: a } : {}) }, spec: s };
    if (st) o.status = st;
    return o;
  });
}

const RUNS = 400;

for (const [from, to] of [[V1ALPHA1, V1BETA1], [V1BETA1, V1ALPHA1]] as const) {
  test(`fuzzed ${from} objects convert to ${to}, valid against its CRD schema, and back unchanged (${RUNS} runs)`, () => {
    let carried = 0;
    fc.assert(
      fc.property(serviceArbitrary(from), (object) => {
        assert.deepEqual(validateAgainstCrd(CRD, object), [], 'the generator makes objects the API server stores');
        const converted = convertLatticeService(object, to);
        assert.equal(converted.apiVersion, to);
        assert.deepEqual(validateAgainstCrd(CRD, converted), [], `converted to ${to}: ${JSON.stringify(converted)}`);
        if ((converted.metadata as { annotations?: Record<string, string> }).annotations?.[CONVERSION_ANNOTATION] !== undefined) carried++;
        assert.deepEqual(convertLatticeService(converted, from), object);
        // Idempotent at the same version, and the input is left alone.
        assert.deepEqual(convertLatticeService(object, from), object);
      }),
      { numRuns: RUNS, seed: 1706 },
    );
    if (from === V1ALPHA1) assert.ok(carried > 0, 'some fuzzed v1alpha1 objects (capabilities: {}) needed the conversion annotation');
  });
}

test('what v1beta1 cannot spell travels in lattice.dev/conversion-data and comes back; a stale one for another version is left alone', () => {
  const alpha = { apiVersion: V1ALPHA1, kind: 'LatticeService', metadata: { name: 'a' }, spec: { workload: { containers: { api: { image: 'x', resources: { profile: 'small' }, security: { capabilities: {} } } } } } };
  const beta = convertLatticeService(alpha, V1BETA1);
  const annotations = (beta.metadata as { annotations: Record<string, string> }).annotations;
  assert.deepEqual(JSON.parse(annotations[CONVERSION_ANNOTATION]!), {
    apiVersion: V1ALPHA1,
    fields: [{ path: ['spec', 'workload', 'containers', 'api', 'security', 'capabilities'], value: {} }],
    createdAnnotations: true,
  });
  assert.deepEqual((beta.spec as { workload: { containers: { api: unknown } } }).workload.containers.api, { image: 'x', resources: { profile: 'small' }, security: {} });
  assert.deepEqual(convertLatticeService(beta, V1ALPHA1), alpha);
  const moved = convertLatticeService({ ...alpha, spec: { workload: { hostNetwork: true, containers: {} } } }, V1BETA1);
  assert.deepEqual(moved.spec, { hostNetwork: true, workload: { containers: {} } });
  assert.equal((moved.metadata as { annotations?: unknown }).annotations, undefined, 'nothing to carry: no annotation');
});

// ------------------------------------------------------------------------------------------------
// Valid services: both versions validate alike and read as the same hub object.
// ------------------------------------------------------------------------------------------------

function exampleServices(): { file: string; object: Record<string, unknown> }[] {
  const out: { file: string; object: Record<string, unknown> }[] = [];
  for (const f of readdirSync(join(ROOT, 'examples/commerce'))) {
    for (const d of parseAllDocuments(readFileSync(join(ROOT, 'examples/commerce', f), 'utf8'))) {
      const o = d.toJS() as Record<string, unknown>;
      // The examples are written at v1beta1; this test starts from their v1alpha1 form.
      if (o?.kind === 'LatticeService') out.push({ file: f, object: convertLatticeService(o, V1ALPHA1) as Record<string, unknown> });
    }
  }
  return out;
}

test('fuzzed valid services (the examples with random hostNetwork and capabilities) read the same in both versions', () => {
  const services = exampleServices();
  assert.ok(services.length >= 8);
  fc.assert(
    fc.property(
      fc.constantFrom(...services),
      fc.option(fc.boolean(), { nil: undefined }),
      fc.option(fc.subarray(['NET_BIND_SERVICE', 'NET_ADMIN', 'CAP_SYS_TIME']), { nil: undefined }),
      ({ object }, hostNetwork, caps) => {
        const alpha = structuredClone(object) as { spec: { workload: { hostNetwork?: boolean; containers: Record<string, { security?: Record<string, unknown> }> } } };
        if (hostNetwork !== undefined) alpha.spec.workload.hostNetwork = hostNetwork;
        for (const c of Object.values(alpha.spec.workload.containers)) if (caps !== undefined) c.security = { ...c.security, capabilities: { add: caps } };
        const a = parseLatticeService(alpha);
        assert.ok(a.success, JSON.stringify(a));
        const beta = convertLatticeService(alpha, V1BETA1);
        const b = parseLatticeService(beta);
        assert.ok(b.success, JSON.stringify(!b.success && b.error.issues));
        assert.deepEqual(b.data, a.data);
        assert.deepEqual(convertLatticeService(beta, V1ALPHA1), alpha);
      },
    ),
    { numRuns: 200, seed: 17 },
  );
});

test('v1beta1 errors point at the user\'s own fields and lines: the v1alpha1 place is unknown, cross-field rules use v1beta1 paths', () => {
  const text = `apiVersion: lattice.dev/v1beta1
kind: LatticeService
metadata: {name: api, namespace: shop}
spec:
  hostNetwork: yes-please
  workload:
    hostNetwork: true
    containers:
      api:
        image: registry.example.com/api@sha256:${'a'.repeat(64)}
        resources: {profile: small}
        security:
          capabilities: {add: [NET_ADMIN]}
`;
  const doc = parseAllDocuments(text)[0]!;
  const object = doc.toJS();
  const r = validateService({ object, locate: (path) => ({ file: 'bad.yaml', line: lineOf(text, path), column: 1 }) });
  assert.equal(r.ok, false);
  const found = !r.ok ? r.diagnostics.map((d) => `${d.path}@${d.location?.line}: ${d.message}`) : [];
  assert.ok(found.some((f) => f.startsWith('spec.hostNetwork@5: must be a boolean')), found.join('\n'));
  assert.ok(found.includes('spec.workload.hostNetwork@7: unknown field "hostNetwork": lattice.dev/v1beta1 moved it to spec.hostNetwork (docs/versioning.md); `lattice migrate` makes such moves in v1alpha1 files'), found.join('\n'));
  assert.ok(found.some((f) => f.startsWith('spec.workload.containers.api.security.capabilities@13: must be an array')), found.join('\n'));
  // A rule across fields (envFrom naming an undeclared secret) runs on the converted object, reported at the v1beta1 path.
  const cross = structuredClone(object) as { spec: Record<string, unknown> & { workload: Record<string, unknown> & { containers: { api: Record<string, unknown> } } } };
  cross.spec.hostNetwork = true;
  delete cross.spec.workload.hostNetwork;
  cross.spec.workload.containers.api.security = { capabilities: ['NET_ADMIN'] };
  cross.spec.workload.containers.api.envFrom = ['db'];
  const c = parseLatticeService(cross);
  assert.equal(c.success, false);
  assert.deepEqual(!c.success && c.error.issues.map((i) => i.path.join('.')), ['spec.workload.containers.api.envFrom.0']);
});

function lineOf(text: string, path: readonly (string | number)[]): number {
  // The line of the last path segment written as a key (enough for these fixtures).
  const key = String(path[path.length - 1]);
  const lines = text.split('\n');
  let from = 0;
  for (const seg of path) {
    const i = lines.findIndex((l, n) => n >= from && new RegExp(`^\\s*${String(seg)}:`).test(l));
    if (i >= 0) from = i;
  }
  return lines[from]?.includes(`${key}:`) ? from + 1 : 0;
}


// ------------------------------------------------------------------------------------------------
// The CRD and the API registry.
// ------------------------------------------------------------------------------------------------

test('the LatticeService CRD serves both versions: v1alpha1 stored and deprecated (date, replacement, migrate), conversion by webhook with cert-manager CA injection', () => {
  assert.deepEqual(crdProblems(CRD), []);
  const spec = CRD.spec as { versions: { name: string; storage: boolean; deprecated?: boolean; deprecationWarning?: string }[]; conversion: unknown };
  const alpha = spec.versions.find((v) => v.name === 'v1alpha1')!;
  const beta = spec.versions.find((v) => v.name === 'v1beta1')!;
  assert.equal(alpha.deprecated, true);
  assert.equal(alpha.deprecationWarning, SERVICE_V1ALPHA1_WARNING);
  assert.match(alpha.deprecationWarning!, /deprecated since 2026-12-06 .* after 2027-06-30; use lattice\.dev\/v1beta1 \(`lattice migrate PATH`/);
  assert.ok(alpha.deprecationWarning!.length <= 256, 'the API server refuses longer deprecation warnings');
  assert.equal(beta.deprecated, undefined);
  assert.deepEqual(spec.versions.filter((v) => v.storage).map((v) => v.name), ['v1alpha1']);
  assert.deepEqual(spec.conversion, {
    strategy: 'Webhook',
    webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { namespace: 'lattice-system', name: 'lattice-controller-webhook', path: '/convert', port: 443 } } },
  });
  assert.deepEqual((CRD.metadata as { annotations: unknown }).annotations, { 'cert-manager.io/inject-ca-from': 'lattice-system/lattice-controller-webhook' });
  // The other kinds have one version and no webhook.
  const platform = allCrds().find((c) => (c.metadata as { name: string }).name === 'latticeplatforms.lattice.dev')!;
  assert.equal((platform.spec as { conversion?: unknown }).conversion, undefined);
  assert.equal((platform.metadata as { annotations?: unknown }).annotations, undefined);
});

test('both versions are served kinds; another version is refused naming both', () => {
  assert.equal(kindProblem('lattice.dev/v1beta1', 'LatticeService'), undefined);
  assert.equal(kindProblem('lattice.dev/v1alpha1', 'LatticeService'), undefined);
  assert.match(kindProblem('lattice.dev/v1', 'LatticeService')!.message, /Lattice serves lattice\.dev\/v1beta1 and lattice\.dev\/v1alpha1\. Did you mean apiVersion: lattice\.dev\/v1beta1\?/);
  assert.equal(kindProblem('lattice.dev/v1beta1', 'LatticePlatform')?.reason, 'UnsupportedVersion');
});

test('lattice explain and lattice schema cover v1beta1 (default) and v1alpha1 (--api-version)', async () => {
  const beta = await lattice('explain', 'latticeservice.spec.hostNetwork');
  assert.equal(beta.code, 0, beta.stderr);
  assert.match(beta.stdout, /VERSION: {2}lattice\.dev\/v1beta1\n\nFIELD: hostNetwork <boolean>/);
  const caps = await lattice('explain', 'ls.spec.workload.containers.security.capabilities');
  assert.match(caps.stdout, /FIELD: capabilities <\[\]string>/);
  const alpha = await lattice('explain', 'latticeservice.spec.workload.hostNetwork', '--api-version', 'lattice.dev/v1alpha1');
  assert.equal(alpha.code, 0, alpha.stderr);
  assert.match(alpha.stdout, /VERSION: {2}lattice\.dev\/v1alpha1/);
  const gone = await lattice('explain', 'latticeservice.spec.workload.hostNetwork');
  assert.equal(gone.code, 2);
  const unserved = await lattice('explain', 'latticeservice.spec', '--api-version', 'lattice.dev/v2');
  assert.match(unserved.stderr, /LatticeService is not served as lattice\.dev\/v2: use lattice\.dev\/v1beta1 or lattice\.dev\/v1alpha1/);
  const all = await lattice('schema');
  const schema = JSON.parse(all.stdout) as { definitions: Record<string, { properties: { apiVersion: { const: string }; spec: { properties: Record<string, unknown> } } }> };
  assert.equal(schema.definitions.LatticeService!.properties.apiVersion.const, 'lattice.dev/v1beta1');
  assert.ok('hostNetwork' in schema.definitions.LatticeService!.properties.spec.properties);
  assert.equal(schema.definitions['LatticeService.v1alpha1']!.properties.apiVersion.const, 'lattice.dev/v1alpha1');
  const dir = mkdtempSync(join(tmpdir(), 'lattice-schema-'));
  assert.equal((await lattice('schema', '--out-dir', dir)).code, 0);
  assert.ok(readdirSync(dir).includes('latticeservice-v1alpha1.json') && readdirSync(dir).includes('latticeservice.json'));
});

// ------------------------------------------------------------------------------------------------
// The conversion webhook handler, with real ConversionReview bodies.
// ------------------------------------------------------------------------------------------------

const REVIEW = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'ConversionReview',
  request: {
    uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
    desiredAPIVersion: 'lattice.dev/v1beta1',
    objects: [
      {
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'LatticeService',
        metadata: { name: 'web', namespace: 'shop', uid: 'c1', resourceVersion: '42', generation: 3, labels: { team: 'a' } },
        spec: { replicas: 2, workload: { hostNetwork: true, containers: { web: { image: 'x', resources: { profile: 'small' }, security: { capabilities: { add: ['NET_BIND_SERVICE'] } } } } } },
        status: { phase: 'Ready', conditions: [], resourceCount: 6, resources: [] },
      },
      { apiVersion: 'lattice.dev/v1beta1', kind: 'LatticeService', metadata: { name: 'already', namespace: 'shop' }, spec: { workload: { containers: {} } } },
    ],
  },
};

test('ConversionReview: uid echoed, Success, convertedObjects in order with apiVersion set and metadata and status kept', () => {
  const { ok, answer } = reviewConversion(structuredClone(REVIEW));
  assert.equal(ok, true);
  assert.equal(answer.apiVersion, 'apiextensions.k8s.io/v1');
  assert.equal(answer.kind, 'ConversionReview');
  assert.equal(answer.response.uid, REVIEW.request.uid);
  assert.deepEqual(answer.response.result, { status: 'Success' });
  const [web, already] = answer.response.convertedObjects as Record<string, unknown>[];
  assert.deepEqual(web, {
    apiVersion: 'lattice.dev/v1beta1',
    kind: 'LatticeService',
    metadata: REVIEW.request.objects[0]!.metadata,
    spec: { replicas: 2, hostNetwork: true, workload: { containers: { web: { image: 'x', resources: { profile: 'small' }, security: { capabilities: ['NET_BIND_SERVICE'] } } } } },
    status: REVIEW.request.objects[0]!.status,
  });
  assert.deepEqual(already, REVIEW.request.objects[1]);
  // And back: the API server converting the stored object for a v1alpha1 reader.
  const back = reviewConversion({ ...REVIEW, request: { ...REVIEW.request, desiredAPIVersion: 'lattice.dev/v1alpha1', objects: [web] } });
  assert.deepEqual(back.answer.response.convertedObjects, [REVIEW.request.objects[0]]);
});

test('ConversionReview failures are a Failure with a message, never a crash', () => {
  const wrongKind = reviewConversion({ ...REVIEW, request: { ...REVIEW.request, objects: [{ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' } }] } });
  assert.equal(wrongKind.ok, true);
  assert.equal(wrongKind.answer.response.uid, REVIEW.request.uid);
  assert.deepEqual(wrongKind.answer.response.result, { status: 'Failure', message: 'cannot convert object default to lattice.dev/v1beta1: kind "LatticePlatform" is not LatticeService' });
  assert.deepEqual(wrongKind.answer.response.convertedObjects, []);
  const unserved = reviewConversion({ ...REVIEW, request: { ...REVIEW.request, desiredAPIVersion: 'lattice.dev/v2' } });
  assert.match((unserved.answer.response.result as { message: string }).message, /cannot convert object shop\/web to lattice\.dev\/v2: cannot convert to "lattice\.dev\/v2": LatticeService is served as lattice\.dev\/v1beta1 and lattice\.dev\/v1alpha1/);
  for (const body of [undefined, null, 'x', [], {}, { kind: 'ConversionReview' }, { ...REVIEW, apiVersion: 'apiextensions.k8s.io/v1beta1' }, { ...REVIEW, request: { uid: 'u' } }, { ...REVIEW, request: { ...REVIEW.request, objects: [null, 7, 'x'] } }]) {
    const r = reviewConversion(body);
    assert.equal(r.answer.response.result.status, 'Failure', JSON.stringify(body));
    assert.ok((r.answer.response.result as { message: string }).message.length > 10);
  }
  fc.assert(fc.property(fc.jsonValue(), (body) => void reviewConversion(body)), { numRuns: 300, seed: 3 });
});

// ------------------------------------------------------------------------------------------------
// lattice migrate
// ------------------------------------------------------------------------------------------------

const FILE = `# Platform team: keep this comment
apiVersion: v1
kind: ConfigMap
metadata: {name: untouched}   # flow style stays
data:
  long: "a string that is long enough that a YAML writer folding lines at eighty columns would fold it"
---
# the web service
apiVersion: lattice.dev/v1alpha1   # the version
kind: LatticeService
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2 # two pods
  workload:
    # runs on the node's network
    hostNetwork: true
    containers:
      web:
        image: registry.example.com/web@sha256:${'b'.repeat(64)}
        resources: {profile: small}
        security:
          capabilities:
            # needed for port 80
            add: [NET_BIND_SERVICE]
        variables:
          Z_LAST: z
          A_FIRST: a
---
apiVersion: lattice.dev/v1beta1
kind: LatticeService
metadata: {name: new, namespace: shop}
spec:
  workload:
    containers:
      new: {image: x, resources: {profile: small}}
`;

test('lattice migrate rewrites v1alpha1 documents by the moves, keeping comments, order and the other documents; a second run changes nothing', () => {
  const once = migrateText(FILE, 'f.yaml');
  assert.deepEqual(once.errors, []);
  assert.equal(once.migrated, 1);
  const [configMap, web, already] = FILE.split(/^---\n/m);
  const [configMap2, web2, already2] = once.text.split(/^---\n/m);
  assert.equal(configMap2, configMap, 'another kind is kept byte for byte');
  assert.equal(already2, already, 'a v1beta1 document is kept byte for byte');
  assert.equal(web2, web!
    .replace('lattice.dev/v1alpha1   # the version', 'lattice.dev/v1beta1 # the version')
    .replace('  replicas: 2 # two pods\n  workload:\n    # runs on the node\'s network\n    hostNetwork: true\n', '  replicas: 2 # two pods\n  # runs on the node\'s network\n  hostNetwork: true\n  workload:\n')
    .replace('          capabilities:\n            # needed for port 80\n            add: [NET_BIND_SERVICE]\n', '          # needed for port 80\n          capabilities: [NET_BIND_SERVICE]\n'));
  const twice = migrateText(once.text, 'f.yaml');
  assert.deepEqual([twice.migrated, twice.errors, twice.text === once.text], [0, [], true]);
  // The result reads as the same service.
  const before = parseLatticeService(parseAllDocuments(FILE)[1]!.toJS());
  const after = parseLatticeService(parseAllDocuments(once.text)[1]!.toJS());
  assert.ok(before.success && after.success);
  assert.deepEqual(after.data, before.data);
});

test('lattice migrate keeps a flat sequence style, and reports YAML errors and conflicts with file:line, writing nothing', () => {
  const flat = `apiVersion: lattice.dev/v1alpha1\nkind: LatticeService\nmetadata: {name: a}\nspec:\n  imagePullSecrets:\n  - reg\n  workload:\n    hostNetwork: false\n    containers: {}\n`;
  assert.equal(migrateText(flat, 'flat.yaml').text, `apiVersion: lattice.dev/v1beta1\nkind: LatticeService\nmetadata: {name: a}\nspec:\n  imagePullSecrets:\n  - reg\n  hostNetwork: false\n  workload:\n    containers: {}\n`);
  const crlf = migrateText(flat.replace(/\n/g, '\r\n'), 'crlf.yaml').text;
  assert.equal(crlf, migrateText(flat, 'flat.yaml').text.replace(/\n/g, '\r\n'), 'Windows line ends are kept');
  const broken = migrateText('apiVersion: lattice.dev/v1alpha1\nkind: LatticeService\nspec: {workload: [}\n', 'broken.yaml');
  assert.equal(broken.migrated, 0);
  assert.match(broken.errors[0]!, /^broken\.yaml:3: /);
  const both = 'kind: ConfigMap\n---\napiVersion: lattice.dev/v1alpha1\nkind: LatticeService\nmetadata: {name: both}\nspec:\n  hostNetwork: true\n  workload:\n    hostNetwork: true\n    containers: {}\n';
  const conflict = migrateText(both, 'both.yaml');
  assert.equal(conflict.text, both);
  assert.deepEqual(conflict.errors, ['both.yaml:7: LatticeService both: spec.hostNetwork is set as well as spec.workload.hostNetwork: keep one']);
});

test('lattice migrate --check lists files and exits 1 without writing; migrate writes; then --check exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-migrate-'));
  writeFileSync(join(dir, 'svc.yaml'), FILE);
  writeFileSync(join(dir, 'other.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
  const check = await lattice('migrate', dir, '--check');
  assert.equal(check.code, 1);
  assert.equal(check.stdout, `${join(dir, 'svc.yaml')}: 1 LatticeService document to migrate to lattice.dev/v1beta1\n`);
  assert.match(check.stderr, /1 file \(1 document\) still use lattice\.dev\/v1alpha1: run `lattice migrate /);
  assert.equal(readFileSync(join(dir, 'svc.yaml'), 'utf8'), FILE);
  const run = await lattice('migrate', dir);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `${join(dir, 'svc.yaml')}: migrated 1 LatticeService document to lattice.dev/v1beta1\n`);
  assert.equal(readFileSync(join(dir, 'svc.yaml'), 'utf8'), migrateText(FILE, 'x').text);
  const again = await lattice('migrate', dir, '--check');
  assert.deepEqual([again.code, again.stdout], [0, '']);
  assert.equal((await lattice('migrate', join(dir, 'missing'))).code, 2);
});

// ------------------------------------------------------------------------------------------------
// Render and diff across a version change.
// ------------------------------------------------------------------------------------------------

test('a v1alpha1 tree and its migrated v1beta1 copy render the same objects, and lattice diff shows no change; render warns once about v1alpha1 only', async () => {
  const base = mkdtempSync(join(tmpdir(), 'lattice-migrate-diff-'));
  const a = join(base, 'a');
  const b = join(base, 'b');
  cpSync(join(ROOT, 'examples'), a, { recursive: true });
  cpSync(join(ROOT, 'examples'), b, { recursive: true });
  // The examples are written at v1beta1 and use no moved field: tree a is their v1alpha1 form.
  const downgrade = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) downgrade(p);
      else if (e.name.endsWith('.yaml')) writeFileSync(p, readFileSync(p, 'utf8').replaceAll('apiVersion: lattice.dev/v1beta1\nkind: LatticeService', 'apiVersion: lattice.dev/v1alpha1\nkind: LatticeService'));
    }
  };
  downgrade(a);
  downgrade(b);
  const migrated = await lattice('migrate', b);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.ok(migrated.stdout.split('\n').filter(Boolean).length >= 8, migrated.stdout);
  assert.match(readFileSync(join(b, 'commerce/payments.yaml'), 'utf8'), /apiVersion: lattice\.dev\/v1beta1/);
  const diff = await lattice('diff', a, b);
  assert.equal(diff.code, 0, diff.stdout + diff.stderr);
  assert.match(diff.stdout, /No differences|no differences|0 changes/i);
  const env = { SOURCE_DATE_EPOCH: '1767225600' };
  const saved = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = env.SOURCE_DATE_EPOCH;
  try {
    const ra = await lattice('render', a);
    const rb = await lattice('render', b);
    const derived = (out: string): unknown[] => parseAllDocuments(out).map((d) => d.toJS() as { kind?: string }).filter((o) => o?.kind !== 'LatticeService');
    assert.deepEqual(derived(rb.stdout), derived(ra.stdout));
    assert.equal(ra.stderr.split(SERVICE_V1ALPHA1_WARNING).length - 1, 1, 'the warning once');
    assert.match(ra.stderr, /warning: .* \(\d+ documents, first at .*\.yaml:\d+\)\n/);
    assert.ok(!rb.stderr.includes('deprecated'), rb.stderr);
    assert.equal(ra.code, rb.code, 'not failing because of the version');
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
});

// ------------------------------------------------------------------------------------------------
// The webhook over HTTPS (a certificate made with openssl, as cert-manager's Secret holds it).
// ------------------------------------------------------------------------------------------------

function makeCertificate(dir: string, cn: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
}

function post(url: string, path: string, body: string, ca: Buffer, method = 'POST'): Promise<{ status: number; text: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}${path}`, { method, ca, headers: { 'content-type': 'application/json' } }, (res) => {
      const peer = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, cn: peer }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

test('the webhook serves ConversionReviews over HTTPS, answers bad requests with a clear 4xx, and picks up a renewed certificate', { skip: hasOpenssl ? false : 'openssl not installed' }, async () => {
  const certDir = mkdtempSync(join(tmpdir(), 'lattice-webhook-'));
  makeCertificate(certDir, 'first');
  const server = await serveConversionWebhook({ host: '127.0.0.1', port: 0 }, { certDir, reloadMs: 50 });
  try {
    const ca = readFileSync(join(certDir, 'tls.crt'));
    const ok = await post(server.url, '/convert', JSON.stringify(REVIEW), ca);
    assert.equal(ok.status, 200);
    const answer = JSON.parse(ok.text) as { response: { uid: string; result: { status: string }; convertedObjects: { apiVersion: string }[] } };
    assert.equal(answer.response.uid, REVIEW.request.uid);
    assert.deepEqual(answer.response.convertedObjects.map((o) => o.apiVersion), ['lattice.dev/v1beta1', 'lattice.dev/v1beta1']);
    const junk = await post(server.url, '/convert', '{not json', ca);
    assert.equal(junk.status, 400);
    assert.match((JSON.parse(junk.text) as { response: { result: { status: string; message: string } } }).response.result.message, /^the body is not JSON/);
    assert.equal((await post(server.url, '/other', '{}', ca)).status, 404);
    assert.equal((await post(server.url, '/convert', '', ca, 'GET')).status, 405);
    // cert-manager renews the Secret: the next connection gets the new certificate.
    makeCertificate(certDir, 'second');
    const renewed = readFileSync(join(certDir, 'tls.crt'));
    let cn = '';
    for (let i = 0; i < 40 && cn !== 'second'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      cn = (await post(server.url, '/convert', JSON.stringify(REVIEW), renewed).catch(() => ({ cn: '' }))).cn;
    }
    assert.equal(cn, 'second');
  } finally {
    await server.close();
  }
  await assert.rejects(serveConversionWebhook({ host: '127.0.0.1', port: 0 }, { certDir: join(certDir, 'missing') }), /cannot read the webhook's serving certificate in .*missing \(tls\.crt, tls\.key\)/);
});
