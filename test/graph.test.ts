/**
 * The service graph (src/compiler/mesh/graph.ts): declarations, edge states, neighbours and incremental
 * updates; and `lattice graph` (src/cli/graph.ts): Mermaid, DOT and JSON of the graph, on fixtures
 * and on examples/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { service } from './support/fixtures.ts';
import { latticeServiceSchema, type LatticeService } from '../src/api/latticeservice/v1alpha1.ts';
import { ServiceGraph, declarationsOf, serviceKey, splitKey, type Edge } from '../src/compiler/mesh/graph.ts';
import { graphOfDocuments, graphView, toDot, toJson, toMermaid, type GraphView } from '../src/cli/graph.ts';
import { lattice } from './support/cli.ts';

const ROOT = new URL('..', import.meta.url).pathname;

function svc(name: string, resources: Record<string, unknown>, namespace = 'shop', ports = true): LatticeService {
  return latticeServiceSchema.parse(service(name, { workload: { resources, ...(ports ? { service: { ports: { http: { port: 8080 } } } } : {}) } }, namespace));
}

const brief = (e: Edge): string => `${e.caller}>${e.callee}:${e.state}${e.wildcard ? ':wildcard' : ''}`;

test('declarationsOf: default outbound, both as two declarations, id and namespace, wildcard', () => {
  const s = svc('web', {
    api: { type: 'service' },
    peer: { type: 'service', direction: 'both', id: 'other', namespace: 'ops' },
    caller: { type: 'service', direction: 'inbound' },
    any: { type: 'service', direction: 'inbound', id: '*', namespace: 'ops' },
    db: { type: 'secret' },
  });
  assert.deepEqual(declarationsOf(s), [
    { resource: 'api', direction: 'outbound', peer: 'shop/api' },
    { resource: 'peer', direction: 'outbound', peer: 'ops/other' },
    { resource: 'peer', direction: 'inbound', peer: 'ops/other' },
    { resource: 'caller', direction: 'inbound', peer: 'shop/caller' },
    { resource: 'any', direction: 'inbound', peer: '*', namespace: 'ops' },
  ]);
  assert.equal(serviceKey(s), 'shop/web');
  assert.deepEqual(splitKey('a/b'), { namespace: 'a', name: 'b' });
});

test('edge states: agreed, inbound-missing, outbound-missing, callee-missing, caller-missing, wildcard', () => {
  const g = ServiceGraph.from([
    ['shop/web', svc('web', { api: { type: 'service' }, ghost: { type: 'service' }, cat: { type: 'service', namespace: 'ops' }, broken: { type: 'service' } })],
    ['shop/api', svc('api', { web: { type: 'service', direction: 'inbound' }, db: { type: 'service' }, phantom: { type: 'service', direction: 'inbound' } })],
    ['shop/db', svc('db', { batch: { type: 'service', direction: 'inbound' } })],
    ['shop/batch', svc('batch', {})],
    ['ops/cat', svc('cat', { any: { type: 'service', direction: 'inbound', id: '*' } }, 'ops')],
    ['shop/broken', null],
  ]);
  assert.deepEqual(g.edges().map(brief), [
    'shop/api>shop/db:inbound-missing',
    'shop/batch>shop/db:outbound-missing',
    'shop/phantom>shop/api:caller-missing',
    'shop/web>ops/cat:agreed:wildcard',
    'shop/web>shop/api:agreed',
    'shop/web>shop/broken:callee-missing',
    'shop/web>shop/ghost:callee-missing',
  ]);
  const api = g.edgesOf('shop/api');
  assert.deepEqual(api.outbound.map(brief), ['shop/api>shop/db:inbound-missing']);
  assert.deepEqual(api.inbound.map(brief), ['shop/phantom>shop/api:caller-missing', 'shop/web>shop/api:agreed']);
  assert.deepEqual(api.inbound[1], { caller: 'shop/web', callee: 'shop/api', state: 'agreed', callerResource: 'api', calleeResource: 'web' });
  assert.deepEqual(g.edgesOf('ops/cat').inbound, [{ caller: 'shop/web', callee: 'ops/cat', state: 'agreed', callerResource: 'cat', calleeResource: 'any', wildcard: true }]);
  // The declarations of an invalid service are not read; it is known but not valid.
  assert.equal(g.isInvalid('shop/broken'), true);
  assert.equal(g.isValid('shop/broken'), false);
  assert.equal(g.has('shop/ghost'), false);
  assert.deepEqual(g.edgesOf('shop/broken').inbound.map(brief), ['shop/web>shop/broken:callee-missing']);
});

test('a service that names the same peer twice: the first declaration wins', () => {
  const g = ServiceGraph.from([
    ['shop/web', svc('web', { api: { type: 'service' }, 'api-again': { type: 'service', id: 'api' } })],
    ['shop/api', svc('api', { web: { type: 'service', direction: 'inbound' } })],
  ]);
  assert.deepEqual(g.edgesOf('shop/web').outbound, [{ caller: 'shop/web', callee: 'shop/api', state: 'agreed', callerResource: 'api', calleeResource: 'web' }]);
});

test('neighbours cover both directions and one-sided declarations; set and delete keep the indexes exact', () => {
  const g = ServiceGraph.from([
    ['shop/web', svc('web', { api: { type: 'service' } })],
    ['shop/api', svc('api', { web: { type: 'service', direction: 'inbound' }, db: { type: 'service' } })],
    ['shop/db', svc('db', { batch: { type: 'service', direction: 'inbound' } })],
    ['shop/batch', svc('batch', {})],
  ]);
  const n = (k: string): string[] => [...g.neighbours(k)].sort();
  assert.deepEqual(n('shop/api'), ['shop/db', 'shop/web']);
  assert.deepEqual(n('shop/db'), ['shop/api', 'shop/batch']);
  assert.deepEqual(n('shop/batch'), ['shop/db']);
  // api stops calling db: db loses api as a neighbour, and the edge disappears.
  g.set('shop/api', svc('api', { web: { type: 'service', direction: 'inbound' } }));
  assert.deepEqual(n('shop/db'), ['shop/batch']);
  assert.deepEqual(g.edges().map(brief), ['shop/batch>shop/db:outbound-missing', 'shop/web>shop/api:agreed']);
  // Deleting web: api's acceptance of it becomes one-sided towards a missing caller.
  g.delete('shop/web');
  assert.deepEqual(g.edges().map(brief), ['shop/batch>shop/db:outbound-missing', 'shop/web>shop/api:caller-missing']);
  assert.deepEqual(n('shop/web'), ['shop/api']);
  // A neighbour that is only declared (not known) still counts: it is named in api's policies' reports.
  g.set('shop/web', svc('web', { api: { type: 'service' } }));
  assert.deepEqual(g.edges().map(brief), ['shop/batch>shop/db:outbound-missing', 'shop/web>shop/api:agreed']);
  assert.equal(g.size, 4);
});

const FIXTURE = [
  service('web', { workload: { resources: { api: { type: 'service' }, ghost: { type: 'service' }, pay: { type: 'external-service', params: { endpoints: ['https://api.stripe.com', 'tcp://10.0.0.1:5432'] } } } } }),
  service('api', { workload: { service: { ports: { http: { port: 80 } } }, resources: { web: { type: 'service', direction: 'inbound' }, db: { type: 'service', namespace: 'data' } } } }),
  service('db', { workload: { service: { ports: { pg: { port: 5432 } } } } }, 'data'),
  service('cat', { workload: { resources: { any: { type: 'service', direction: 'inbound', id: '*' } } } }, 'ops'),
  service('reader', { workload: { resources: { cat: { type: 'service', namespace: 'ops' } } } }, 'ops'),
  service('bad', { replicas: -1 }),
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
];

function view(): GraphView {
  return graphView(graphOfDocuments(FIXTURE.map((object) => ({ object }))));
}

test('graphView: services, named-but-missing services, external endpoints, and what each edge lacks', () => {
  const v = view();
  assert.deepEqual(v.nodes.map((n) => `${n.id}|${n.status}|${n.label}`), [
    'data/db|valid|db',
    'ops/cat|valid|cat',
    'ops/reader|valid|reader',
    'shop/api|valid|api',
    'shop/bad|invalid|bad',
    'shop/ghost|missing|ghost',
    'shop/web|valid|web',
    'external:shop/web/pay/api.stripe.com:443|external|api.stripe.com:443',
    'external:shop/web/pay/10.0.0.1:5432|external|10.0.0.1:5432',
  ]);
  assert.deepEqual(v.edges, [
    { from: 'ops/reader', to: 'ops/cat', state: 'agreed', allowed: true, wildcard: true },
    { from: 'shop/api', to: 'data/db', state: 'inbound-missing', allowed: false, missing: 'inbound not declared by data/db' },
    { from: 'shop/web', to: 'shop/api', state: 'agreed', allowed: true },
    { from: 'shop/web', to: 'shop/ghost', state: 'callee-missing', allowed: false, missing: 'shop/ghost not found' },
    { from: 'shop/web', to: 'external:shop/web/pay/api.stripe.com:443', state: 'external', allowed: true },
    { from: 'shop/web', to: 'external:shop/web/pay/10.0.0.1:5432', state: 'external', allowed: true },
  ]);
});

test('Mermaid: solid agreed edges, dashed labelled one-sided edges, dashed missing nodes, external nodes', () => {
  assert.equal(toMermaid(view()), [
    'flowchart LR',
    '  subgraph ns0["data"]',
    '    s0["db"]',
    '  end',
    '  subgraph ns1["ops"]',
    '    s1["cat"]',
    '    s2["reader"]',
    '  end',
    '  subgraph ns2["shop"]',
    '    s3["api"]',
    '    s4["bad (invalid)"]:::missing',
    '    s5["ghost (not found)"]:::missing',
    '    s6["web"]',
    '    x7{{"api.stripe.com:443"}}',
    '    x8{{"10.0.0.1:5432"}}',
    '  end',
    '  s2 -->|"via wildcard"| s1',
    '  s3 -.->|"inbound not declared by data/db"| s0',
    '  s6 --> s3',
    '  s6 -.->|"shop/ghost not found"| s5',
    '  s6 --> x7',
    '  s6 --> x8',
    '  classDef missing stroke-dasharray: 5 5',
    '',
  ].join('\n'));
});

test('DOT: one cluster per namespace, dashed labelled edges for what is not allowed', () => {
  const dot = toDot(view());
  assert.ok(dot.startsWith('digraph lattice {\n  rankdir=LR;\n'));
  assert.ok(dot.includes('  subgraph "cluster_shop" {\n    label="shop";\n'));
  assert.ok(dot.includes('    "shop/ghost" [label="ghost (not found)", style="rounded,dashed"];\n'));
  assert.ok(dot.includes('    "external:shop/web/pay/api.stripe.com:443" [label="api.stripe.com:443", shape=hexagon, style=solid];\n'));
  assert.ok(dot.includes('  "shop/web" -> "shop/api";\n'));
  assert.ok(dot.includes('  "shop/api" -> "data/db" [style=dashed, label="inbound not declared by data/db"];\n'));
  assert.ok(dot.includes('  "ops/reader" -> "ops/cat" [label="via wildcard"];\n'));
  assert.match(dot, /\}\n$/);
  assert.deepEqual(JSON.parse(toJson(view())), JSON.parse(JSON.stringify(view())));
});


test('lattice graph examples/ draws the agreed, one-sided and external edges of the examples', async () => {
  const { code, stdout, stderr } = await lattice('graph', '-o', 'json', join(ROOT, 'examples'));
  assert.equal(code, 0, stderr);
  const v = JSON.parse(stdout) as GraphView;
  const edge = (from: string, to: string) => v.edges.find((e) => e.from === from && e.to === to);
  assert.deepEqual(edge('commerce/payments', 'commerce/orders'), { from: 'commerce/payments', to: 'commerce/orders', state: 'agreed', allowed: true });
  assert.deepEqual(edge('commerce/checkout', 'commerce/notifications'), {
    from: 'commerce/checkout', to: 'commerce/notifications', state: 'outbound-missing', allowed: false, missing: 'outbound not declared by commerce/checkout',
  });
  assert.equal(edge('commerce/orders', 'commerce/catalog')?.wildcard, true);
  assert.deepEqual(edge('commerce/notifications', 'external:commerce/notifications/sendgrid/api.sendgrid.com:443'), {
    from: 'commerce/notifications', to: 'external:commerce/notifications/sendgrid/api.sendgrid.com:443', state: 'external', allowed: true,
  });
  assert.match(stderr, /^\d+ services; \d+ agreed edges, \d+ not agreed \(dashed\); \d+ external endpoints?\.\n$/);

  const mermaid = await lattice('graph', join(ROOT, 'examples'));
  assert.equal(mermaid.code, 0);
  assert.match(mermaid.stdout, /^flowchart LR\n/);
  assert.match(mermaid.stdout, /-\.->\|"outbound not declared by commerce\/checkout"\|/);
  assert.match(mermaid.stdout, /\{\{"api\.sendgrid\.com:443"\}\}/);
  const dot = await lattice('graph', '-o', 'dot', join(ROOT, 'examples'));
  assert.equal(dot.code, 0);
  assert.ok(dot.stdout.includes('"commerce/payments" -> "commerce/orders";'));
});

test('lattice graph: bad invocations exit 2 with a message', async () => {
  const missing = await lattice('graph', '/nonexistent/lattice/path');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or folder/);
  const empty = mkdtempSync(join(tmpdir(), 'lattice-graph-'));
  const none = await lattice('graph', empty);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no YAML files found/);
  writeFileSync(join(empty, 'x.yaml'), 'a: [\n');
  const broken = await lattice('graph', empty);
  assert.equal(broken.code, 2);
  const format = await lattice('graph', '-o', 'svg', empty);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /Allowed choices are mermaid, dot, json/);
});
