/**
 * The incremental fleet (src/compiler/platform/fleet.ts): after every single-service change its results equal a
 * full re-derivation of the same documents, and exactly the changed service and its graph neighbours
 * (computed here independently from the raw declarations) were re-derived; every other result is the
 * very same object as before. Also the bench fleet generator on a small fleet: deterministic, with the
 * agreed share it promises, and the AuthorizationPolicies derived from it name exactly its agreed edges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOW, permitAll, service } from './support/fixtures.ts';
import { derivePlatform, type PlatformDocument } from '../src/compiler/platform/snapshot.ts';
import type { ServiceResult } from '../src/compiler/types.ts';
import { documentKey } from '../src/compiler/platform/fleet.ts';
import { latticeServiceSchema } from '../src/api/latticeservice/v1alpha1.ts';
import { generateFleet, measureFleet, parseFleetArgs, prng, PLATFORM_DOCUMENTS, DEFAULT_SHAPE } from '../bench/fleet.ts';

type Doc = Record<string, unknown> & { metadata: { name: string; namespace: string }; spec: { replicas?: number; workload: { resources?: Record<string, Record<string, unknown>>; service?: unknown } } };

/** Every key a raw service names in its resources of type service (either direction; not wildcards). */
function named(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [name, r] of Object.entries(doc.spec.workload.resources ?? {})) {
    if (r.type !== 'service' || r.id === '*') continue;
    out.add(`${(r.namespace as string | undefined) ?? doc.metadata.namespace}/${(r.id as string | undefined) ?? name}`);
  }
  return out;
}

/**
 * Independently: the services whose derivation a change of `key` can affect, given the documents
 * before and after. An invalid service's result is its validation failure alone: it neither reads
 * others nor is read through its declarations, so only valid services' declarations count.
 */
function expectedAffected(key: string, before: Doc[], after: Doc[]): string[] {
  const out = new Set<string>();
  for (const docs of [before, after]) {
    const valid = docs.filter((d) => latticeServiceSchema.safeParse(d).success);
    const self = valid.find((d) => `${d.metadata.namespace}/${d.metadata.name}` === key);
    if (self) for (const k of named(self)) out.add(k);
    for (const d of valid) if (named(d).has(key)) out.add(`${d.metadata.namespace}/${d.metadata.name}`);
  }
  out.delete(key);
  const existing = new Set(after.map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
  return [...out].filter((k) => existing.has(k)).sort();
}

function derive(docs: unknown[]): ReturnType<typeof derivePlatform> {
  return derivePlatform(docs.map((object): PlatformDocument => ({ object })), { now: NOW });
}

/** Results without the raw input object (compared separately by key). */
function comparable(results: ServiceResult[]): unknown[] {
  return results.map((r) => ({ key: r.key, objects: r.objects, status: r.status, diagnostics: r.diagnostics })).sort((a, b) => (a.key < b.key ? -1 : 1));
}

test('every single-service change re-derives exactly the service and its neighbours, and matches a full derivation', () => {
  const generated = generateFleet({ services: 40, namespaces: 3, dependencies: 3, secrets: 1, ports: 1, agreed: 0.8, seed: 11 });
  const platformDocs = generated.objects.slice(0, PLATFORM_DOCUMENTS);
  let docs = structuredClone(generated.objects.slice(PLATFORM_DOCUMENTS)) as Doc[];
  const initial = derive([...platformDocs, ...docs]);
  const fleet = initial.fleet!;
  const random = prng(5);
  const pick = (): Doc => docs[Math.floor(random() * docs.length)]!;

  type Mutation = { name: string; apply: () => { key: string; removed?: boolean } };
  const upsert = (doc: Doc): { key: string } => {
    docs = docs.some((d) => d.metadata.name === doc.metadata.name && d.metadata.namespace === doc.metadata.namespace)
      ? docs.map((d) => (d.metadata.name === doc.metadata.name && d.metadata.namespace === doc.metadata.namespace ? doc : d))
      : [...docs, doc];
    return { key: `${doc.metadata.namespace}/${doc.metadata.name}` };
  };
  const mutations: Mutation[] = [
    { name: 'add a dependency', apply: () => { const d = structuredClone(pick()); const t = pick(); d.spec.workload.resources![`x-${t.metadata.name}`] = { type: 'service', id: t.metadata.name, namespace: t.metadata.namespace }; return upsert(d); } },
    { name: 'accept a caller', apply: () => { const d = structuredClone(pick()); const t = pick(); d.spec.workload.resources![`in-${t.metadata.name}`] = { type: 'service', direction: 'inbound', id: t.metadata.name, namespace: t.metadata.namespace }; return upsert(d); } },
    { name: 'drop every dependency', apply: () => { const d = structuredClone(pick()); for (const [k, r] of Object.entries(d.spec.workload.resources!)) if (r.type === 'service') delete d.spec.workload.resources![k]; return upsert(d); } },
    { name: 'accept any caller', apply: () => { const d = structuredClone(pick()); d.spec.workload.resources!.any = { type: 'service', direction: 'inbound', id: '*' }; return upsert(d); } },
    { name: 'change ports', apply: () => { const d = structuredClone(pick()); d.spec.workload.service = { ports: { http: { port: 81, targetPort: 9999 } } }; return upsert(d); } },
    { name: 'become invalid', apply: () => { const d = structuredClone(pick()); d.spec.replicas = -1; return upsert(d); } },
    { name: 'change replicas only', apply: () => { const d = structuredClone(pick()); d.spec.replicas = 5; return upsert(d); } },
    {
      name: 'add a new service that calls two others',
      apply: () => {
        const a = pick();
        const b = pick();
        const d = service(`new-${docs.length}`, { workload: { resources: { one: { type: 'service', id: a.metadata.name, namespace: a.metadata.namespace }, two: { type: 'service', id: b.metadata.name, namespace: b.metadata.namespace, direction: 'both' } } } }, a.metadata.namespace) as Doc;
        return upsert(d);
      },
    },
    { name: 'remove a service', apply: () => { const d = pick(); docs = docs.filter((x) => x !== d); return { key: `${d.metadata.namespace}/${d.metadata.name}`, removed: true }; } },
  ];

  for (let step = 0; step < 45; step++) {
    const before = docs;
    const previous = new Map(fleet.results().map((r) => [r.key, r]));
    const mutation = mutations[step % mutations.length]!;
    const { key, removed } = mutation.apply();
    const change = removed ? fleet.remove(key) : fleet.upsert({ object: docs.find((d) => `${d.metadata.namespace}/${d.metadata.name}` === key) });
    const label = `step ${step} (${mutation.name} ${key})`;

    const expected = expectedAffected(key, before, docs);
    const rederived = change.rederived.map((r) => r.key);
    assert.deepEqual(rederived, removed ? expected : [key, ...expected], `${label}: re-derived set`);
    for (const r of fleet.results()) {
      if (r.key === key || expected.includes(r.key)) continue;
      assert.equal(r, previous.get(r.key), `${label}: ${r.key} was not re-derived`);
    }
    const full = derive([...platformDocs, ...docs]);
    assert.deepEqual(comparable(fleet.results()), comparable(full.services), `${label}: incremental = full`);
    assert.deepEqual(fleet.results().map((r) => r.key).sort(), docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`).sort());
  }
});

test('removing an unknown service changes nothing; duplicates in a bulk load keep the first', () => {
  const p = derive([permitAll(), service('a'), service('a', { replicas: 4 }), service('b')]);
  assert.deepEqual(p.services.map((s) => s.key), ['shop/a', 'shop/b']);
  assert.equal((p.services[0]!.object as Doc).spec.replicas, undefined);
  assert.deepEqual(p.problems.map((x) => [x.kind, x.name, x.diagnostics[0]!.reason]), [['LatticeService', 'shop/a', 'DuplicateName']]);
  assert.deepEqual(p.fleet!.remove('shop/nope'), { key: 'shop/nope', rederived: [] });
  assert.equal(documentKey({ metadata: { name: 'x' } }), 'default/x');
  assert.equal(documentKey(null), 'default/(unnamed)');
});

test('with quotas, a change that moves a quota\'s usage also re-derives the services under it', () => {
  const quota = {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeQuota',
    metadata: { name: 'shop', namespace: 'lattice-system' },
    spec: { selector: { namespaces: ['shop'] }, hard: { pods: 10 } },
  };
  const docs = [permitAll(), quota, service('a', { replicas: 2 }), service('b', { replicas: 2 }), service('c', { replicas: 1 }, 'other')];
  const p = derive(docs);
  const fleet = p.fleet!;
  assert.match(p.services.find((s) => s.key === 'shop/b')!.status.conditions.find((c) => c.type === 'QuotaSatisfied')!.message, /pods 4 of 10/);
  // a grows from 2 to 9 pods: b is now over the quota (others use 9, b asks 2, 10 allowed).
  const change = fleet.upsert({ object: service('a', { replicas: 9 }) });
  assert.deepEqual(change.rederived.map((r) => r.key), ['shop/a', 'shop/b']);
  const full = derive([permitAll(), quota, service('a', { replicas: 9 }), service('b', { replicas: 2 }), service('c', { replicas: 1 }, 'other')]);
  assert.deepEqual(comparable(fleet.results()), comparable(full.services));
  assert.equal(fleet.result('shop/b')!.status.phase, 'Failed');
  // A change outside the quota's namespaces re-derives only that service.
  assert.deepEqual(fleet.upsert({ object: service('c', { replicas: 3 }, 'other') }).rederived.map((r) => r.key), ['other/c']);
});

test('the bench generator is deterministic and agrees on the promised share of edges', () => {
  const shape = { services: 50, namespaces: 5, dependencies: 4, secrets: 2, ports: 2, agreed: 0.9, seed: 3 };
  const a = generateFleet(shape);
  const b = generateFleet(shape);
  assert.deepEqual(a.objects, b.objects);
  assert.notDeepEqual(generateFleet({ ...shape, seed: 4 }).objects, a.objects);
  assert.equal(a.objects.length, PLATFORM_DOCUMENTS + 50);
  const edges = a.agreed.size + a.inboundMissing.size + a.outboundMissing.size;
  assert.equal(edges, 200, '4 dependencies per service');
  assert.ok(a.agreed.size / edges > 0.8 && a.agreed.size / edges < 0.97, `agreed share ${a.agreed.size}/${edges}`);
  assert.ok(a.inboundMissing.size > 0 && a.outboundMissing.size > 0);
  const svc = a.objects[PLATFORM_DOCUMENTS] as Doc;
  assert.deepEqual(Object.keys((svc.spec.workload as { service: { ports: object } }).service.ports), ['http', 'metrics']);
  assert.equal(Object.values(svc.spec.workload.resources!).filter((r) => r.type === 'secret').length, 2);
});

test('the AuthorizationPolicies derived for a generated fleet allow exactly the edges the generator agreed on', () => {
  const g = generateFleet({ services: 50, namespaces: 5, dependencies: 4, secrets: 2, ports: 2, agreed: 0.9, seed: 8 });
  const p = derive(g.objects);
  assert.equal(p.services.filter((s) => s.status.phase === 'Ready').length, 50);
  assert.deepEqual(p.problems, []);
  const allowed = new Set<string>();
  const SCRAPER = 'cluster.local/ns/monitoring/sa/vmagent-vmagent';
  for (const s of p.services) {
    const ap = s.objects.find((o) => o.kind === 'AuthorizationPolicy');
    const rules = (ap?.spec as { rules?: { from: { source: { principals: string[] } }[]; to: { operation: { ports: string[] } }[] }[] } | undefined)?.rules ?? [];
    for (const rule of rules) {
      for (const pr of rule.from.flatMap((f) => f.source.principals)) {
        if (pr === SCRAPER) {
          // The metrics scraper is a platform component, not a service: admitted on the metrics port only.
          assert.deepEqual(rule.to.flatMap((t) => t.operation.ports), [String((s.objects.find((o) => o.kind === 'Service')!.spec as { ports: { name: string; targetPort: number }[] }).ports.find((x) => x.name === 'metrics')!.targetPort)]);
          continue;
        }
        const m = /^cluster\.local\/ns\/([^/]+)\/sa\/(.+)$/.exec(pr)!;
        allowed.add(`${m[1]}/${m[2]}>${s.key}`);
      }
    }
  }
  assert.deepEqual([...allowed].sort(), [...g.agreed].sort());
  // Every one-sided edge is reported on both of its services.
  for (const pair of [...g.inboundMissing, ...g.outboundMissing]) {
    const [caller, callee] = pair.split('>') as [string, string];
    for (const [self, other] of [[caller, callee], [callee, caller]] as const) {
      const r = p.services.find((s) => s.key === self)!;
      assert.ok(r.diagnostics.some((d) => d.condition === 'DependenciesAgreed' && d.message.includes(other)), `${self} reports its one-sided edge with ${other}`);
      assert.equal(r.status.phase, 'Ready');
    }
  }
});

test('the fleet benchmark runs end to end on a small fleet (figures present, no timing asserted)', () => {
  const { shape, changes, json } = parseFleetArgs(['--services', '50', '--namespaces', '5', '--changes', '3', '--json']);
  assert.deepEqual(shape, { ...DEFAULT_SHAPE, services: 50, namespaces: 5 });
  assert.equal(changes, 3);
  assert.equal(json, true);
  const report = measureFleet(shape, changes);
  assert.equal(report.services, 50);
  assert.equal(report.ready, 50);
  // 3 platform objects per SecretProvider + baseline, the services' objects, the services with status.
  assert.ok(report.outputObjects > 50 * 10, `output objects ${report.outputObjects}`);
  assert.equal(report.incremental.changes, 3);
  assert.ok(report.incremental.rederivedMedian >= 2, 'a change re-derives the service and the peer it adds');
  for (const k of ['parseMs', 'deriveMs', 'serializeInRenderMs', 'renderMs', 'serializeOnlyMs', 'peakRssBytes'] as const) assert.ok(report[k] > 0, `${k} measured`);
  assert.throws(() => parseFleetArgs(['--agreed', '2']), /--agreed must be a number from 0 to 1, not 2/);
  assert.throws(() => parseFleetArgs(['--services', 'many']), /--services must be a number from 2/);
});
