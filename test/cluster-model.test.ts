/**
 * Derived objects work in the target cluster (Istio ambient on Cilium with default deny), proven on an
 * independent model of that cluster (test/support/cluster-model.ts, written from the upstream docs and
 * importing nothing from src/): on a fleet with every kind of edge, every agreed edge, every route and
 * every scrape works, every probe passes, and nothing else gets through.
 *
 * The expected flows are written by hand from the fixture below, not computed by Lattice.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { NOW, deriveObjects, resultOf, service } from './support/fixtures.ts';
import { ClusterModel, HBONE_PORT, PROBE_SNAT, type Obj, type Pod, type Verdict } from './support/cluster-model.ts';
import { parseYamlDocuments } from '../src/api/source.ts';
import { derivePlatform, type PlatformDocument } from '../src/compiler/platform/snapshot.ts';
import { assertValid } from './support/schemas.ts';

// ---------------------------------------------------------------------------------------------
// The fleet: agreed, one-sided inbound, one-sided outbound, unknown, wildcard (accepted and not),
// both directions, cross-namespace, external host and address, routes on two gateways, scrapes, probes.

const http = (port: number, targetPort?: number): Record<string, unknown> => (targetPort === undefined ? { port } : { port, targetPort });
const probes = {
  livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
  readinessProbe: { tcpSocket: { port: 'http' } },
};
const container = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  main: { image: `registry.example.com/app@sha256:${'a'.repeat(64)}`, resources: { limits: { cpu: '500m', memory: '256Mi' } }, ...extra },
});

const FLEET = [
  {
    apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' },
    spec: {
      prometheusAddress: 'http://vmsingle.monitoring.svc:8429',
      gateways: { internal: { name: 'internal', namespace: 'gateways' }, public: { name: 'edge', namespace: 'edge', serviceAccount: 'edge-proxy' } },
    },
  },
  // shop/web: calls api (agreed), billing/invoices (agreed by name), ghost (unknown); public route www.example.com.
  service('web', {
    workload: {
      containers: container(probes),
      service: { ports: { http: http(80, 8080) } },
      resources: { api: { type: 'service' }, invoices: { type: 'service', namespace: 'billing' }, ghost: { type: 'service' } },
    },
    ingress: { routes: { site: { hosts: ['www.example.com'], exposure: 'public', port: 'http' } } },
  }),
  // shop/api: accepts web; calls db-proxy, which does not accept it (one-sided outbound); internal route; a metrics port.
  service('api', {
    workload: {
      containers: container(probes),
      service: { ports: { http: http(80, 8080), grpc: http(9090), metrics: http(9102) } },
      resources: { web: { type: 'service', direction: 'inbound' }, 'db-proxy': { type: 'service' } },
    },
    ingress: { routes: { admin: { hosts: ['api.internal.example.com'], port: 'http', paths: [{ path: '/v1', type: 'PathPrefix' }] } } },
  }),
  // shop/db-proxy: accepts batch, which does not call it (one-sided inbound).
  service('db-proxy', { workload: { containers: container({ livenessProbe: { tcpSocket: { port: 5432 } } }), service: { ports: { pg: http(5432) } }, resources: { batch: { type: 'service', direction: 'inbound' } } } }),
  // shop/batch: no ports; calls billing/invoices, whose wildcard accepts namespace ops only.
  service('batch', { workload: { resources: { invoices: { type: 'service', namespace: 'billing' } } } }),
  // shop/both-a <-> shop/both-b: direction both on each side.
  service('both-a', { workload: { service: { ports: { http: http(8080) } }, resources: { 'both-b': { type: 'service', direction: 'both' } } } }),
  service('both-b', { workload: { service: { ports: { http: http(8081) } }, resources: { peer: { type: 'service', direction: 'both', id: 'both-a' } } } }),
  // billing/invoices: accepts shop/web by name and any caller from ops; calls Stripe and a database by address.
  service('invoices', {
    workload: {
      containers: container(probes),
      service: { ports: { http: http(8443) } },
      resources: {
        web: { type: 'service', direction: 'inbound', namespace: 'shop' },
        'ops-callers': { type: 'service', direction: 'inbound', id: '*', namespace: 'ops' },
        stripe: { type: 'external-service', params: { endpoints: ['https://api.stripe.com', 'tcp://10.20.30.40:5432'] } },
      },
    },
  }, 'billing'),
  // billing/ledger: accepts shop/web, which does not call it (one-sided inbound).
  service('ledger', { workload: { service: { ports: { http: http(8080) } }, resources: { web: { type: 'service', direction: 'inbound', namespace: 'shop' } } } }, 'billing'),
  // ops/reporter: calls billing/invoices, accepted through the ops wildcard.
  service('reporter', { workload: { service: { ports: { http: http(8080) } }, resources: { invoices: { type: 'service', namespace: 'billing' } } } }, 'ops'),
];

/** Agreed edges: caller > callee, with the callee's Service port and container port. */
const AGREED = [
  { caller: 'shop/web', callee: 'shop/api', ports: [[80, 8080], [9090, 9090], [9102, 9102]] },
  { caller: 'shop/web', callee: 'billing/invoices', ports: [[8443, 8443]] },
  { caller: 'ops/reporter', callee: 'billing/invoices', ports: [[8443, 8443]] },
  { caller: 'shop/both-a', callee: 'shop/both-b', ports: [[8081, 8081]] },
  { caller: 'shop/both-b', callee: 'shop/both-a', ports: [[8080, 8080]] },
] as const;

/** Routes: host, path, gateway and listener port, backend pod and container port. */
const ROUTES = [
  { host: 'www.example.com', path: '/', gateway: { name: 'edge', namespace: 'edge', listenerPort: 443 }, backend: 'shop/web:8080' },
  { host: 'api.internal.example.com', path: '/v1/orders', gateway: { name: 'internal', namespace: 'gateways', listenerPort: 443 }, backend: 'shop/api:8080' },
];

/** Scrapes: every service with a port, on its metrics port (named metrics, else the first). */
const SCRAPES = ['shop/web:8080', 'shop/api:9102', 'shop/db-proxy:5432', 'shop/both-a:8080', 'shop/both-b:8081', 'billing/invoices:8443', 'billing/ledger:8080', 'ops/reporter:8080'];

/** Probed container ports. */
const PROBES = ['shop/web:8080', 'shop/api:8080', 'shop/db-proxy:5432', 'billing/invoices:8443'];

// ---------------------------------------------------------------------------------------------
// The cluster around the fleet.

const derived = deriveObjects(FLEET);
const objects = [...derived.platformObjects, ...derived.services.flatMap((s) => s.objects)] as Obj[];

const platformPod = (namespace: string, name: string, labels: Record<string, string>, serviceAccount: string, ports: number[], extra: Partial<Pod> = {}): Pod => ({
  name, namespace, labels, serviceAccount, ports: ports.map((port) => ({ port, protocol: 'TCP' })), ...extra,
});

const DNS = platformPod('kube-system', 'coredns', { 'k8s-app': 'kube-dns' }, 'coredns', [53]);
const ISTIOD = platformPod('istio-system', 'istiod', { app: 'istiod' }, 'istiod', [15012]);
const INTERNAL_GW = platformPod('gateways', 'internal-istio', { 'gateway.networking.k8s.io/gateway-name': 'internal' }, 'internal-istio', [443], { istioProxy: true });
const EDGE_GW = platformPod('edge', 'edge-istio', { 'gateway.networking.k8s.io/gateway-name': 'edge' }, 'edge-proxy', [443], { istioProxy: true });
/**
 * The VMAgent's pod as the VictoriaMetrics operator runs VMAgent `vmagent`, with the ambient label
 * the platform team sets through VMAgent spec.podMetadata.labels (docs/mesh.md prerequisite).
 */
const SCRAPER = platformPod('monitoring', 'vmagent-vmagent', { 'app.kubernetes.io/name': 'vmagent', 'app.kubernetes.io/instance': 'vmagent', 'istio.io/dataplane-mode': 'ambient' }, 'vmagent-vmagent', [8429]);
const VMSINGLE = platformPod('monitoring', 'vmsingle', { 'app.kubernetes.io/name': 'vmsingle' }, 'vmsingle', [8429]);
const KEDA = platformPod('keda', 'keda-operator-metrics-apiserver', { app: 'keda-operator-metrics-apiserver' }, 'keda-operator', [6443]);
/** Not Lattice's: a debug pod in a Lattice namespace, outside the mesh. */
const STRANGER = platformPod('shop', 'debug', { app: 'debug' }, 'default', [8080]);

function cluster(objs: Obj[], extra: { pods?: Pod[] } = {}): ClusterModel {
  return new ClusterModel(objs, { pods: [DNS, ISTIOD, INTERNAL_GW, EDGE_GW, SCRAPER, VMSINGLE, KEDA, STRANGER, ...(extra.pods ?? [])] });
}

const model = cluster(objects);
const workloadPods = model.pods.filter((p) => ['shop', 'billing', 'ops'].includes(p.namespace) && p !== STRANGER);
/** A pod copying web's labels (ambient label included) under another ServiceAccount. */
const IMPOSTOR: Pod = { ...model.pod('shop/web'), name: 'impostor', serviceAccount: 'default' };
/** web's labels and ServiceAccount name, in another namespace. */
const ELSEWHERE: Pod = { ...model.pod('shop/web'), name: 'web-copy', namespace: 'ops' };

// ---------------------------------------------------------------------------------------------

describe('the fleet in the modelled cluster', () => {
  test('every service is derived and Ready, and its pods are in the ambient mesh', () => {
    assert.deepEqual(derived.problems, []);
    assert.equal(derived.services.length, 9);
    for (const r of derived.services) assert.equal(r.status.phase, 'Ready', r.key);
    for (const p of workloadPods) assert.equal(model.inMesh(p), true, `${p.namespace}/${p.name}`);
    assert.equal(workloadPods.length, 9);
  });

  test('every agreed edge works: the caller resolves the callee\'s name and reaches every port of every endpoint', () => {
    for (const e of AGREED) {
      const caller = model.pod(e.caller);
      const [ns, name] = e.callee.split('/') as [string, string];
      for (const [servicePort] of e.ports) {
        const v = model.callService(caller, ns, name, servicePort, [DNS]);
        assert.ok(v.allowed, `${e.caller} > ${e.callee}:${servicePort}: ${v.stage} ${v.detail}`);
      }
    }
  });

  test('every route works end to end: client to gateway, HTTPRoute, gateway to the routed port', () => {
    for (const r of ROUTES) {
      const v = model.route(r.host, r.path, r.gateway);
      assert.ok(v.allowed, `${r.host}${r.path}: ${v.stage} ${v.detail}`);
      assert.equal(v.backend, r.backend);
    }
    // A host no route claims, and a route's host on the other gateway, go nowhere.
    assert.equal(model.route('evil.example.com', '/', ROUTES[0]!.gateway).stage, 'route');
    assert.equal(model.route('www.example.com', '/', ROUTES[1]!.gateway).stage, 'route');
    assert.equal(model.route('api.internal.example.com', '/admin', ROUTES[1]!.gateway).stage, 'route');
  });

  test('every scrape works, on the metrics port only', () => {
    const scrapes = model.scrapes(SCRAPER);
    assert.deepEqual(scrapes.map((s) => s.target).sort(), [...SCRAPES].sort());
    for (const s of scrapes) assert.ok(s.verdict.allowed, `${s.target}: ${s.verdict.stage} ${s.verdict.detail}`);
  });

  test('every kubelet probe passes (SNATed from 169.254.7.127 in ambient)', () => {
    const probed = workloadPods.flatMap((p) => (p.probes ?? []).map((port) => `${p.namespace}/${p.name}:${port}`));
    assert.deepEqual([...new Set(probed)].sort(), [...PROBES].sort());
    for (const p of workloadPods) {
      for (const port of p.probes ?? []) {
        const v = model.probe(p, port);
        assert.ok(v.allowed, `probe ${p.namespace}/${p.name}:${port}: ${v.stage} ${v.detail}`);
      }
    }
  });

  test('nothing else gets through: every source to every port of every workload pod', () => {
    const sources: Pod[] = [...model.pods, IMPOSTOR, ELSEWHERE];
    const expected = new Set<string>();
    for (const e of AGREED) for (const [, port] of e.ports) expected.add(`${e.caller}>${e.callee}:${port}`);
    expected.add('edge/edge-istio>shop/web:8080');
    expected.add('gateways/internal-istio>shop/api:8080');
    for (const s of SCRAPES) expected.add(`monitoring/vmagent-vmagent>${s}`);
    const allowed = new Set<string>();
    let tried = 0;
    for (const src of sources) {
      for (const dst of workloadPods) {
        const ports = new Set([...dst.ports.map((p) => p.port), 22, 80, HBONE_PORT, 15001, 15006]);
        for (const port of ports) {
          for (const protocol of ['TCP', 'UDP']) {
            tried++;
            if (model.connect(src, dst, port, protocol).allowed) allowed.add(`${src.namespace}/${src.name}>${dst.namespace}/${dst.name}:${port}${protocol === 'UDP' ? '/UDP' : ''}`);
          }
        }
      }
    }
    assert.ok(tried > 1000, `tried ${tried} flows`);
    assert.deepEqual([...allowed].sort(), [...expected].sort());
  });

  test('outside the cluster: only the declaring service reaches its external hosts, on their ports', () => {
    const invoices = model.pod('billing/invoices');
    const stripe = { fqdn: 'api.stripe.com', ip: '198.51.100.10' };
    assert.equal(model.connectOutside(invoices, stripe, 443, [DNS]).allowed, true);
    assert.equal(model.connectOutside(invoices, { ip: '10.20.30.40' }, 5432, [DNS]).allowed, true);
    assert.equal(model.connectOutside(invoices, stripe, 80, [DNS]).allowed, false);
    assert.equal(model.connectOutside(invoices, { ip: '10.20.30.40' }, 443, [DNS]).allowed, false);
    assert.equal(model.connectOutside(invoices, { fqdn: 'evil.example.com', ip: '198.51.100.66' }, 443, [DNS]).stage, 'dns');
    // The address Stripe resolves to, without the lookup through the DNS proxy, is not allowed.
    assert.equal(model.connectOutside(invoices, { ip: '198.51.100.10' }, 443, [DNS]).allowed, false);
    for (const p of workloadPods.filter((x) => x !== invoices)) {
      assert.equal(model.connectOutside(p, stripe, 443, [DNS]).allowed, false, `${p.namespace}/${p.name} to Stripe`);
      assert.equal(model.connectOutside(p, { ip: '10.20.30.40' }, 5432, [DNS]).allowed, false, `${p.namespace}/${p.name} to the database`);
    }
    for (const p of [...workloadPods, STRANGER]) assert.equal(model.connectOutside(p, { ip: '203.0.113.99' }, 443, [DNS]).allowed, false);
  });

  test('DNS: each service looks up exactly the names it needs; nobody but ztunnel talks to istiod', () => {
    const names = ['api.shop.svc.cluster.local', 'invoices.billing.svc.cluster.local', 'db-proxy.shop.svc.cluster.local', 'ledger.billing.svc.cluster.local', 'ghost.shop.svc.cluster.local', 'api.stripe.com', 'istiod.istio-system.svc.cluster.local', 'kubernetes.default.svc.cluster.local'];
    const can = (key: string): string[] => names.filter((n) => model.resolves(model.pod(key), n, [DNS]).allowed);
    assert.deepEqual(can('shop/web'), ['api.shop.svc.cluster.local', 'invoices.billing.svc.cluster.local']);
    assert.deepEqual(can('shop/api'), []);
    assert.deepEqual(can('billing/invoices'), ['api.stripe.com']);
    assert.deepEqual(can('ops/reporter'), ['invoices.billing.svc.cluster.local']);
    for (const p of [...workloadPods, STRANGER]) assert.equal(model.connect(p, ISTIOD, 15012).allowed, false, `${p.namespace}/${p.name} to istiod`);
  });

  test('platform namespaces stay open to their components; Lattice namespaces are default deny for everything else', () => {
    // KEDA's metrics API server reads vmsingle; the scraper reaches vmsingle; the API server's view is the host.
    assert.equal(model.connect(KEDA, VMSINGLE, 8429).allowed, true);
    assert.equal(model.connect(SCRAPER, VMSINGLE, 8429).allowed, true);
    assert.equal(model.connect({ host: true }, KEDA, 6443).allowed, true);
    // A pod Lattice does not manage, in a Lattice namespace, reaches nothing and nothing reaches it.
    for (const dst of [...workloadPods, DNS]) assert.equal(model.connect(STRANGER, dst, dst.ports[0]?.port ?? 8080).allowed, false, `stranger to ${dst.name}`);
    for (const src of [...workloadPods, KEDA, SCRAPER]) assert.equal(model.connect(src, STRANGER, 8080).allowed, false, `${src.name} to stranger`);
  });
});

describe('the model fails when the cluster would (each allowance is load-bearing)', () => {
  const without = (pred: (o: Obj) => boolean): ClusterModel => cluster(objects.filter((o) => !pred(o)));

  test('without the probe allowance, probes of ambient pods are dropped by the default deny', () => {
    const m = without((o) => o.kind === 'CiliumClusterwideNetworkPolicy' && o.metadata.name === 'lattice-ambient-host-probes');
    const v = m.probe(m.pod('shop/web'), 8080);
    assert.deepEqual([v.allowed, v.stage], [false, 'cilium-ingress']);
  });

  test('the probe allowance alone would put every pod into ingress default deny without enableDefaultDeny: false', () => {
    const m = cluster(objects.map((o) => (o.metadata.name === 'lattice-ambient-host-probes' ? { ...o, spec: { ...(o.spec as object), enableDefaultDeny: undefined } } : o)));
    assert.equal(m.connect(model.pod('shop/web'), DNS, 53, 'UDP').allowed, false, 'DNS would be cut off');
    assert.equal(model.connect(model.pod('shop/web'), DNS, 53, 'UDP').allowed, true);
  });

  test('without the gateway ALLOW policy, the root allow-nothing policy answers every route with 403', () => {
    const m = without((o) => o.kind === 'AuthorizationPolicy' && o.metadata.name.startsWith('lattice-gateway-'));
    const v = m.route(ROUTES[0]!.host, ROUTES[0]!.path, ROUTES[0]!.gateway);
    assert.deepEqual([v.allowed, v.stage], [false, 'istio-authz']);
  });

  test('without HBONE in the Cilium rules, agreed edges are dropped even though the application ports are open', () => {
    const m = cluster(objects.map((o) => {
      if (o.kind !== 'CiliumNetworkPolicy') return o;
      return JSON.parse(JSON.stringify(o).replaceAll('"15008"', '"8080"')) as Obj;
    }));
    const v = m.callService(m.pod('shop/web'), 'shop', 'api', 80, [DNS]);
    assert.equal(v.allowed, false);
    assert.match(v.stage, /^cilium-/);
  });

  test('a scraper outside the mesh is refused by STRICT mutual TLS; one inside with another identity by the policy', () => {
    const plain: Pod = { ...SCRAPER, labels: { ...SCRAPER.labels, 'istio.io/dataplane-mode': 'none' } };
    const v = model.connect(plain, model.pod('shop/api'), 9102);
    assert.equal(v.allowed, false);
    // Cilium drops it first (only the tunnel port is open); with the app port open, ztunnel refuses plain text.
    assert.equal(v.stage, 'cilium-ingress');
    const opened = cluster(objects.map((o) => (o.kind === 'CiliumNetworkPolicy' ? JSON.parse(JSON.stringify(o).replaceAll('"15008"', '"9102"')) as Obj : o)));
    assert.equal(opened.connect(plain, opened.pod('shop/api'), 9102).stage, 'ztunnel-mtls');
    const other: Pod = { ...SCRAPER, serviceAccount: 'vmagent' };
    assert.equal(model.connect(other, model.pod('shop/api'), 9102).stage, 'cilium-ingress');
  });

  test('without the cluster default deny, each service\'s own policy still denies what it does not allow', () => {
    const m = without((o) => o.metadata.name === 'lattice-default-deny');
    assert.equal(m.connect(m.pod('shop/batch'), m.pod('billing/invoices'), 8443).allowed, false);
    assert.equal(m.connect(STRANGER, m.pod('shop/api'), 8080).allowed, false);
    // catalog-like services with nothing to allow keep egress default deny through enableDefaultDeny alone.
    assert.equal(m.connectOutside(m.pod('shop/api'), { ip: '203.0.113.99' }, 443, [DNS]).allowed, false);
    // ... but the stranger, which no Lattice policy selects, is open without the baseline: it is load-bearing.
    assert.equal(m.connect(STRANGER, DNS, 53, 'UDP').allowed, true);
  });

  test('a pod copying a caller\'s labels is stopped: other ServiceAccount or namespace', () => {
    const api = model.pod('shop/api');
    assert.equal(model.connect(IMPOSTOR, api, 8080).allowed, false);
    assert.equal(model.connect(ELSEWHERE, api, 8080).allowed, false);
  });
});

describe('the model itself (semantics checked on small hand-written policies)', () => {
  const pod = (namespace: string, name: string, labels: Record<string, string> = {}, sa = name): Pod => ({ name, namespace, labels: { app: name, 'istio.io/dataplane-mode': 'ambient', ...labels }, serviceAccount: sa, ports: [{ port: 8080, protocol: 'TCP' }] });
  const a = pod('x', 'a');
  const b = pod('x', 'b');
  const c = pod('y', 'c');
  const ap = (namespace: string, name: string, spec: Record<string, unknown>): Obj => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec });
  const principal = (p: Pod): string => `cluster.local/ns/${p.namespace}/sa/${p.serviceAccount}`;

  test('Istio: no policy allows; root allow-nothing denies; an ALLOW rule re-allows; DENY wins; selector and namespace scope', () => {
    assert.equal(new ClusterModel([], { pods: [a, b] }).istioAllows(b, 8080, { principal: principal(a) }).allowed, true);
    const nothing = ap('istio-system', 'nothing', { action: 'ALLOW' });
    assert.equal(new ClusterModel([nothing]).istioAllows(b, 8080, { principal: principal(a) }).allowed, false);
    const allowA = ap('x', 'b', { selector: { matchLabels: { app: 'b' } }, action: 'ALLOW', rules: [{ from: [{ source: { principals: [principal(a)] } }], to: [{ operation: { ports: ['8080'] } }] }] });
    const m = new ClusterModel([nothing, allowA]);
    assert.equal(m.istioAllows(b, 8080, { principal: principal(a) }).allowed, true);
    assert.equal(m.istioAllows(b, 9090, { principal: principal(a) }).allowed, false);
    assert.equal(m.istioAllows(b, 8080, { principal: principal(c) }).allowed, false);
    assert.equal(m.istioAllows(b, 8080, {}).allowed, false, 'no identity matches no principal');
    // The policy's selector does not select a, and a policy of namespace x does not apply in y.
    assert.equal(m.istioAllows(a, 8080, { principal: principal(a) }).allowed, false);
    assert.equal(m.istioAllows(pod('y', 'b'), 8080, { principal: principal(a) }).allowed, false);
    const denyA = ap('istio-system', 'deny-a', { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['x'] } }] }] });
    assert.equal(new ClusterModel([nothing, allowA, denyA]).istioAllows(b, 8080, { principal: principal(a) }).stage, 'istio-authz');
    assert.ok(new ClusterModel([ap('x', 'all', { action: 'ALLOW', rules: [{}] }), nothing]).istioAllows(b, 1, {}).allowed, 'rules: [{}] allows everything');
    assert.throws(() => new ClusterModel([ap('x', 'l7', { action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] })]).istioAllows(b, 8080, {}), /not modelled/);
    assert.throws(() => new ClusterModel([ap('x', 'custom', { action: 'CUSTOM', provider: { name: 'ext' } })]).istioAllows(b, 8080, {}), /CUSTOM/);
  });

  test('PeerAuthentication: workload port level, then workload, namespace, mesh', () => {
    const pa = (namespace: string, name: string, spec: Record<string, unknown>): Obj => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace }, spec });
    const mesh = pa('istio-system', 'default', { mtls: { mode: 'STRICT' } });
    assert.equal(new ClusterModel([]).mtlsMode(b, 8080), 'PERMISSIVE');
    assert.equal(new ClusterModel([mesh]).mtlsMode(b, 8080), 'STRICT');
    const nsLevel = pa('x', 'ns', { mtls: { mode: 'PERMISSIVE' } });
    assert.equal(new ClusterModel([mesh, nsLevel]).mtlsMode(b, 8080), 'PERMISSIVE');
    const port = pa('x', 'b', { selector: { matchLabels: { app: 'b' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 9102: { mode: 'PERMISSIVE' } } });
    const m = new ClusterModel([mesh, nsLevel, port]);
    assert.deepEqual([m.mtlsMode(b, 8080), m.mtlsMode(b, 9102), m.mtlsMode(a, 8080)], ['STRICT', 'PERMISSIVE', 'PERMISSIVE']);
  });

  test('Cilium: default deny only with rules, enableDefaultDeny false adds only, namespaced selectors, the empty rule, CIDR and host', () => {
    const cnp = (namespace: string | undefined, name: string, spec: Record<string, unknown>): Obj => ({ apiVersion: 'cilium.io/v2', kind: namespace ? 'CiliumNetworkPolicy' : 'CiliumClusterwideNetworkPolicy', metadata: namespace ? { name, namespace } : { name }, spec });
    const open = new ClusterModel([]);
    assert.equal(open.ciliumAllows('ingress', b, { pod: a }, 1, 'TCP'), true);
    const denyAll = cnp(undefined, 'deny', { endpointSelector: {}, ingress: [{}], egress: [{}] });
    assert.equal(new ClusterModel([denyAll]).ciliumAllows('ingress', b, { pod: a }, 8080, 'TCP'), false);
    assert.ok(new ClusterModel([denyAll]).ciliumAllows('ingress', b, { outside: { host: true } }, 8080, 'TCP'), 'the local host always reaches its pods');
    const onlyAdds = cnp(undefined, 'probes', { endpointSelector: {}, enableDefaultDeny: { ingress: false, egress: false }, ingress: [{ fromCIDR: [`${PROBE_SNAT}/32`] }] });
    assert.equal(new ClusterModel([onlyAdds]).ciliumAllows('ingress', b, { pod: a }, 8080, 'TCP'), true);
    assert.equal(new ClusterModel([denyAll, onlyAdds]).ciliumAllows('ingress', b, { outside: { ip: PROBE_SNAT } }, 8080, 'TCP'), true);
    assert.equal(new ClusterModel([denyAll, onlyAdds]).ciliumAllows('ingress', b, { outside: { ip: '169.254.7.128' } }, 8080, 'TCP'), false);
    assert.equal(new ClusterModel([denyAll, onlyAdds]).ciliumAllows('ingress', b, { pod: a }, 8080, 'TCP'), false, 'CIDR rules never match pods');
    // A namespaced policy's peer selector sees its namespace only, unless it names the namespace.
    const fromApp = (sel: Record<string, string>): ClusterModel => new ClusterModel([denyAll, cnp('x', 'b', { endpointSelector: { matchLabels: { app: 'b' } }, ingress: [{ fromEndpoints: [{ matchLabels: sel }], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }] })]);
    assert.equal(fromApp({ 'k8s:app': 'a' }).ciliumAllows('ingress', b, { pod: a }, 8080, 'TCP'), true);
    assert.equal(fromApp({ 'k8s:app': 'c' }).ciliumAllows('ingress', b, { pod: c }, 8080, 'TCP'), false);
    assert.equal(fromApp({ 'k8s:app': 'c', 'k8s:io.kubernetes.pod.namespace': 'y' }).ciliumAllows('ingress', b, { pod: c }, 8080, 'TCP'), true);
    assert.equal(fromApp({ 'k8s:app': 'a' }).ciliumAllows('ingress', b, { pod: a }, 8080, 'UDP'), false);
    assert.equal(fromApp({ 'k8s:app': 'a' }).ciliumAllows('ingress', b, { pod: a }, 8081, 'TCP'), false);
    // A namespaced policy never selects pods of another namespace.
    assert.equal(new ClusterModel([cnp('y', 'all', { endpointSelector: {}, ingress: [{}] })]).ciliumAllows('ingress', b, { pod: a }, 8080, 'TCP'), true);
    assert.throws(() => new ClusterModel([cnp('x', 'deny', { endpointSelector: {}, ingressDeny: [{}] })]), /ingressDeny/);
    // enableDefaultDeny: true denies without rules; unset, only a direction with rules is denied.
    assert.equal(new ClusterModel([cnp('x', 'd', { endpointSelector: {}, enableDefaultDeny: { ingress: true } })]).ciliumAllows('ingress', b, { pod: a }, 8080, 'TCP'), false);
    assert.equal(new ClusterModel([cnp('x', 'd', { endpointSelector: {}, egress: [{}] })]).ciliumAllows('ingress', b, { pod: a }, 8080, 'TCP'), true);
    assert.equal(new ClusterModel([cnp('x', 'd', { endpointSelector: {}, egress: [{}] })]).ciliumAllows('egress', b, { pod: a }, 8080, 'TCP'), false);
  });

  test('ambient: HBONE between mesh pods, plain text otherwise, UDP untouched', () => {
    const allowHbone = [
      { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'hbone' }, spec: { endpointSelector: {}, ingress: [{ fromEndpoints: [{}], toPorts: [{ ports: [{ port: '15008', protocol: 'TCP' }] }] }] } },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'istio-system' }, spec: { mtls: { mode: 'STRICT' } } },
    ] as Obj[];
    const m = new ClusterModel(allowHbone);
    assert.equal(m.connect(a, b, 8080).allowed, true);
    const outside: Pod = { ...a, labels: { app: 'a' } };
    assert.equal(m.connect(outside, b, 8080).stage, 'cilium-ingress');
    assert.equal(m.connect(a, b, 8080, 'UDP').stage, 'cilium-ingress');
  });
});

test('every derived kind the cluster model reads validates against its upstream schema', () => {
  const kinds = new Set<string>();
  for (const o of objects) {
    assertValid(o as never);
    kinds.add(`${o.apiVersion} ${o.kind}`);
  }
  for (const k of ['cilium.io/v2 CiliumNetworkPolicy', 'cilium.io/v2 CiliumClusterwideNetworkPolicy', 'security.istio.io/v1 AuthorizationPolicy', 'security.istio.io/v1 PeerAuthentication', 'networking.istio.io/v1 ServiceEntry', 'apps/v1 Deployment', 'v1 Service', 'gateway.networking.k8s.io/v1 HTTPRoute', 'operator.victoriametrics.com/v1beta1 VMServiceScrape']) {
    assert.ok(kinds.has(k), `${k} derived and validated`);
  }
  assert.equal(resultOf(derived, 'shop/web').objects.find((o) => o.kind === 'Deployment') !== undefined, true);
});

// ---------------------------------------------------------------------------------------------
// Jobs: a PyTorch training job (tasks master and worker) that calls a service, a second job in the
// same namespace, a scheduled job calling an external host. Expected flows written by hand.

const jobTask = (extra: Record<string, unknown> = {}, workload: Record<string, unknown> = {}): Record<string, unknown> => ({ ...extra, workload: { containers: container(), ...workload } });
const latticeJob = (name: string, spec: Record<string, unknown>, namespace = 'ml'): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeJob', metadata: { name, namespace }, spec });

const JOB_FLEET = [
  FLEET[0],
  // ml/api: accepts ml/train (one identity for all its tasks).
  service('api', { workload: { containers: container(), service: { ports: { http: http(80, 8080) } }, resources: { train: { type: 'service', direction: 'inbound' } } } }, 'ml'),
  // ml/train: master (declares tensorboard 6006) and two workers on the pytorch port 23456; the workers call api.
  latticeJob('train', {
    training: { framework: 'pytorch' },
    tasks: {
      master: jobTask({}, { service: { ports: { board: http(6006) } } }),
      worker: jobTask({ replicas: 2 }, { resources: { api: { type: 'service' } } }),
    },
  }),
  // ml/other: another job of the namespace; declares api, which does not accept it.
  latticeJob('other', { tasks: { main: jobTask({}, { resources: { api: { type: 'service' } } }) } }),
  // ml/nightly: scheduled; calls https://warehouse.example.com.
  latticeJob('nightly', { schedule: { cron: '@daily' }, tasks: { report: jobTask({}, { resources: { warehouse: { type: 'external-service', params: { endpoints: ['https://warehouse.example.com'] } } } }) } }),
];

describe('jobs in the modelled cluster', () => {
  const d = deriveObjects(JOB_FLEET);
  for (const key of ['ml/api', 'ml/train', 'ml/other', 'ml/nightly']) assert.equal(resultOf(d, key).status.phase, 'Ready', key);
  const objs = [...d.platformObjects, ...d.services.flatMap((s) => s.objects)] as Obj[];
  const m = cluster(objs);
  const [master, w0, w1, other, api] = ['ml/train-master-0', 'ml/train-worker-0', 'ml/train-worker-1', 'ml/other-main-0', 'ml/api'].map((k) => m.pod(k)) as [Pod, Pod, Pod, Pod, Pod];
  const nightly = m.pod('ml/nightly-29000000-report-0');

  test('every task pod runs as the job identity, in the mesh', () => {
    for (const p of [master, w0, w1]) {
      assert.equal(p.serviceAccount, 'train');
      assert.equal(m.inMesh(p), true);
    }
    assert.equal(m.inMesh(nightly), true);
  });

  test('the tasks reach each other on the rendezvous port and the declared port, in every direction', () => {
    for (const [src, dst] of [[w0, master], [w1, master], [master, w0], [w0, w1], [w1, w0]] as const) {
      assert.deepEqual(m.connect(src, dst, 23456), { allowed: true, stage: 'ok', detail: '' }, `${src.name} -> ${dst.name}:23456`);
    }
    assert.equal(m.connect(w0, master, 6006).allowed, true, 'the master\'s declared port');
  });

  test('nothing else: an undeclared port between tasks, another job, a service, a stranger', () => {
    const v = m.connect(w0, master, 29500);
    assert.equal(v.allowed, false);
    assert.equal(v.stage, 'istio-authz', 'Cilium passes the tunnel; ztunnel refuses the undeclared port');
    assert.equal(m.connect(other, master, 23456).allowed, false, 'another job of the namespace');
    assert.equal(m.connect(api, master, 23456).allowed, false, 'a service the job calls does not call it back');
    assert.equal(m.connect(STRANGER, master, 23456).allowed, false);
    assert.equal(m.connect(SCRAPER, master, 6006).allowed, false, 'no scrape of a job');
  });

  test('the agreed call to a service works from the job identity; a one-sided one does not', () => {
    assert.deepEqual(m.callService(w0, 'ml', 'api', 80, [DNS]), { allowed: true, stage: 'ok', detail: '' });
    // One identity per job: the master may call api too (docs/jobs.md, "Mesh").
    assert.equal(m.callService(master, 'ml', 'api', 80, [DNS]).allowed, true);
    assert.equal(m.callService(other, 'ml', 'api', 80, [DNS]).allowed, false);
  });

  test('host names: a task resolves its job\'s pods, not another job\'s', () => {
    assert.equal(m.resolves(w0, 'train-master-0.train.ml.svc.cluster.local', [DNS]).allowed, true);
    assert.equal(m.resolves(w0, 'other-main-0.other.ml.svc.cluster.local', [DNS]).allowed, false);
    assert.equal(m.resolves(other, 'train-master-0.train.ml.svc.cluster.local', [DNS]).allowed, false);
  });

  test('a scheduled job reaches its external host on 443 only', () => {
    assert.equal(m.connectOutside(nightly, { fqdn: 'warehouse.example.com', ip: '198.51.100.7' }, 443, [DNS]).allowed, true);
    assert.equal(m.connectOutside(nightly, { fqdn: 'warehouse.example.com', ip: '198.51.100.7' }, 80, [DNS]).allowed, false);
    assert.equal(m.connectOutside(nightly, { fqdn: 'evil.example.net', ip: '203.0.113.9' }, 443, [DNS]).allowed, false);
  });
});

// ---------------------------------------------------------------------------------------------
// Models (LatticeModel): callers agree to a model exactly as to a service, and the Kthena router
// reaches a routed model's engine port, nothing else.

describe('a LatticeModel in the modelled cluster', () => {
  const ENGINE = `registry.example.com/vllm@sha256:${'b'.repeat(64)}`;
  const lm = (name: string, spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeModel', metadata: { name, namespace: 'ai' }, spec });
  const MODEL_FLEET = [
    // ai/chat: a routed model accepting ai/assistant (which calls it: agreed) and ai/snoop (which does not call it: one-sided).
    lm('chat', {
      modelSource: { uri: 'hf://Qwen/Qwen2.5-0.5B-Instruct' },
      gpu: { count: 1 },
      workload: {
        containers: { engine: { image: ENGINE, resources: { limits: { cpu: '2', memory: '8Gi' } }, readinessProbe: { httpGet: { path: '/health', port: 'http' } } } },
        service: { ports: { http: http(8000) } },
        resources: { assistant: { type: 'service', direction: 'inbound' }, snoop: { type: 'service', direction: 'inbound' } },
      },
      routing: { inferenceEngine: 'vLLM', routes: { chat: { modelName: 'qwen-chat' } } },
    }),
    // ai/embed: a model with no routes, accepting nobody.
    lm('embed', {
      modelSource: { uri: 's3://models/embed' },
      workload: { containers: { engine: { image: ENGINE, resources: { limits: { cpu: '1', memory: '2Gi' } } } }, service: { ports: { http: http(8080) } } },
    }),
    service('assistant', { workload: { service: { ports: { http: http(8080) } }, resources: { chat: { type: 'service' } } } }, 'ai'),
    // ai/snoop calls embed, which does not accept it, and does not declare chat.
    service('snoop', { workload: { service: { ports: { http: http(8080) } }, resources: { embed: { type: 'service' } } } }, 'ai'),
  ];
  const derivedModels = deriveObjects(MODEL_FLEET);
  const modelObjects = [...derivedModels.platformObjects, ...derivedModels.services.flatMap((s) => s.objects)] as Obj[];
  /** The Kthena router as its Helm chart runs it, in the ambient mesh (namespace kthena-system enrolled). */
  const ROUTER = platformPod('kthena-system', 'kthena-router', { 'app.kubernetes.io/component': 'kthena-router', 'istio.io/dataplane-mode': 'ambient' }, 'kthena-router', [8080]);
  /** A pod copying the router's labels in another namespace, and one in its namespace under another ServiceAccount. */
  const FAKE_ROUTERS: Pod[] = [{ ...ROUTER, name: 'fake-router', namespace: 'ai' }, { ...ROUTER, name: 'other', serviceAccount: 'default' }];
  const m = cluster(modelObjects, { pods: [ROUTER] });
  const aiPods = m.pods.filter((p) => p.namespace === 'ai');

  test('every model and service is Ready, every derived object validates upstream, and the model pods are in the mesh', () => {
    assert.deepEqual(derivedModels.problems, []);
    for (const r of derivedModels.services) assert.equal(r.status.phase, 'Ready', `${r.key}: ${JSON.stringify(r.status.conditions)}`);
    assert.deepEqual(derivedModels.services.map((r) => `${r.kind ?? 'LatticeService'} ${r.key}`).sort(), ['LatticeModel ai/chat', 'LatticeModel ai/embed', 'LatticeService ai/assistant', 'LatticeService ai/snoop']);
    for (const o of modelObjects) assertValid(o);
    assert.deepEqual(aiPods.map((p) => p.name).sort(), ['assistant', 'chat', 'embed', 'snoop']);
    for (const p of aiPods) assert.equal(m.inMesh(p), true, p.name);
  });

  test('the agreed caller reaches the model through its Service; the router reaches it by model name', () => {
    const v = m.callService(m.pod('ai/assistant'), 'ai', 'chat', 8000, [DNS]);
    assert.ok(v.allowed, `${v.stage} ${v.detail}`);
    const r = m.modelRequest(ROUTER, 'qwen-chat');
    assert.ok(r.allowed, `${r.stage} ${r.detail}`);
    assert.equal(r.backend, 'ai/chat:8000');
    assert.equal(m.modelRequest(ROUTER, 'embed').stage, 'route', 'a model without routes is not reachable through the router');
  });

  test('nothing else gets through: every source to every port of every pod of namespace ai', () => {
    const sources: Pod[] = [...m.pods, ...FAKE_ROUTERS];
    const expected = new Set([
      'ai/assistant>ai/chat:8000',
      'kthena-system/kthena-router>ai/chat:8000',
      'monitoring/vmagent-vmagent>ai/chat:8000',
      'monitoring/vmagent-vmagent>ai/embed:8080',
      'monitoring/vmagent-vmagent>ai/assistant:8080',
      'monitoring/vmagent-vmagent>ai/snoop:8080',
    ]);
    const allowed = new Set<string>();
    let tried = 0;
    for (const src of sources) {
      for (const dst of aiPods) {
        for (const port of new Set([...dst.ports.map((p) => p.port), 22, 80, 8000, 8080, HBONE_PORT])) {
          tried++;
          if (m.connect(src, dst, port).allowed) allowed.add(`${src.namespace}/${src.name}>${dst.namespace}/${dst.name}:${port}`);
        }
      }
    }
    assert.ok(tried > 100, `tried ${tried} flows`);
    assert.deepEqual([...allowed].sort(), [...expected].sort());
    // The one-sided declarations stay closed: snoop is accepted by chat but does not call it; snoop calls embed, which does not accept it.
    assert.equal(m.callService(m.pod('ai/snoop'), 'ai', 'chat', 8000, [DNS]).allowed, false);
    assert.equal(m.callService(m.pod('ai/snoop'), 'ai', 'embed', 8080, [DNS]).allowed, false);
  });

  test('the router allowance is load-bearing: without it the Kthena router is refused', () => {
    const stripRouter = modelObjects.map((o) => {
      if (o.kind === 'CiliumNetworkPolicy' && o.metadata.name === 'chat') {
        const spec = o.spec as { ingress: { fromEndpoints: { matchLabels: Record<string, string> }[] }[] };
        return { ...o, spec: { ...spec, ingress: spec.ingress.filter((r) => !r.fromEndpoints.some((e) => e.matchLabels['k8s:io.kubernetes.pod.namespace'] === 'kthena-system')) } };
      }
      return o;
    });
    const v = cluster(stripRouter, { pods: [ROUTER] }).modelRequest(ROUTER, 'qwen-chat');
    assert.deepEqual([v.allowed, v.stage], [false, 'cilium-ingress']);
    const noRule = modelObjects.map((o) => (o.kind === 'AuthorizationPolicy' && o.metadata.name === 'chat'
      ? { ...o, spec: { ...(o.spec as object), rules: (o.spec as { rules: { from: { source: { principals: string[] } }[] }[] }).rules.filter((r) => !r.from[0]!.source.principals[0]!.includes('kthena-router')) } }
      : o));
    const w = cluster(noRule, { pods: [ROUTER] }).modelRequest(ROUTER, 'qwen-chat');
    assert.deepEqual([w.allowed, w.stage], [false, 'istio-authz']);
  });
});

// ---------------------------------------------------------------------------------------------
// The network corpus (test/reference/network): GRPCRoute, TCPRoute, an exposed Service, advertise
// and the new endpoint forms, checked from the derived policies on the model, each with an attempt
// to get around it.

describe('the network corpus in the modelled cluster: each new exposure admits its traffic and nothing else', () => {
  const dir = new URL('./reference/network/', import.meta.url);
  const load = (extra: Obj[] = []): { objects: Obj[] } => {
    const docs: PlatformDocument[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
      for (const d of parseYamlDocuments(readFileSync(new URL(f, dir), 'utf8'), f).documents) docs.push({ object: d.object });
    }
    const r = derivePlatform(docs, { now: NOW });
    assert.deepEqual(r.services.map((s) => s.status.phase), ['Ready', 'Ready', 'Ready', 'Ready']);
    return { objects: [...r.platformObjects, ...r.services.flatMap((s) => s.objects), ...extra] as Obj[] };
  };
  const { objects: net } = load();
  const INTERNAL = platformPod('gateways', 'internal-istio', { 'gateway.networking.k8s.io/gateway-name': 'internal' }, 'internal-istio', [443, 15432], { istioProxy: true });
  const PUBLIC = platformPod('gateways', 'public-istio', { 'gateway.networking.k8s.io/gateway-name': 'public' }, 'public-istio', [443], { istioProxy: true });
  const EASTWEST = platformPod('istio-system', 'istio-eastwest', { 'gateway.networking.k8s.io/gateway-name': 'istio-eastwest' }, 'istio-eastwest', [15008], { istioProxy: true });
  const netCluster = (objs: Obj[], pods: Pod[] = []): ClusterModel => new ClusterModel(objs, { pods: [DNS, INTERNAL, PUBLIC, EASTWEST, SCRAPER, ...pods] });
  const m = netCluster(net);
  const STRANGER_MEDIA = platformPod('media', 'debug', { app: 'debug' }, 'default', [8080]);
  const internal = { name: 'internal', namespace: 'gateways' };
  const pub = { name: 'public', namespace: 'gateways' };

  test('GRPCRoute: the routed gRPC methods reach catalog:9090 through the internal gateway; other methods, the other gateway and plain HTTP do not', () => {
    const ok = m.gateway({ gateway: internal, port: 443, host: 'rpc.media.example.com', grpc: { service: 'media.v1.Catalog', method: 'Get' } });
    assert.deepEqual([ok.allowed, ok.backend], [true, 'media/catalog:9090']);
    assert.equal(m.gateway({ gateway: internal, port: 443, host: 'rpc.media.example.com', grpc: { service: 'media.v1.Admin', method: 'Drop' } }).stage, 'route');
    assert.equal(m.gateway({ gateway: pub, port: 443, host: 'rpc.media.example.com', grpc: { service: 'media.v1.Catalog', method: 'Get' } }).stage, 'listener');
    assert.equal(m.gateway({ gateway: internal, port: 443, host: 'rpc.media.example.com', path: '/media.v1.Catalog/Get' }).stage, 'route', 'an HTTP request finds no HTTPRoute on the gRPC listener');
  });

  test('HTTPRoute rules: path, method and header as written; anything else is not routed', () => {
    const web = (path: string, method: string, headers: Record<string, string> = {}): Verdict => m.gateway({ gateway: pub, port: 443, host: 'www.media.example.com', path, method, headers });
    assert.equal(web('/api/items', 'GET').allowed, true);
    assert.equal(web('/upload', 'POST', { 'X-Client': 'web-42' }).allowed, true);
    assert.equal(web('/api/items', 'DELETE').stage, 'route');
    assert.equal(web('/upload', 'POST', { 'X-Client': 'curl' }).stage, 'route');
    assert.equal(web('/upload/x', 'POST', { 'X-Client': 'web-1' }).stage, 'route', 'Exact /upload');
    assert.equal(web('/admin', 'GET').stage, 'route');
  });

  test('TCPRoute: internal gateway port 15432 reaches catalog:5432; other ports, the public gateway and a route from another namespace do not', () => {
    const ok = m.gateway({ gateway: internal, port: 15432 });
    assert.deepEqual([ok.allowed, ok.backend], [true, 'media/catalog:5432']);
    assert.equal(m.gateway({ gateway: internal, port: 15433 }).stage, 'listener');
    assert.equal(m.gateway({ gateway: pub, port: 15432 }).stage, 'listener');
    // Another team attaches its own TCPRoute to the listener (allowedRoutes admits media only), and a
    // media HTTPRoute names the TCP listener (kind not allowed there): neither is served.
    const hijack = { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 'hijack', namespace: 'ops' }, spec: { parentRefs: [{ name: 'internal', namespace: 'gateways', sectionName: 'tcp-15432' }], rules: [{ backendRefs: [{ name: 'reporter', port: 22 }] }] } } as Obj;
    const withHijack = netCluster([hijack, ...net.filter((o) => o.kind !== 'TCPRoute')]);
    assert.equal(withHijack.gateway({ gateway: internal, port: 15432 }).stage, 'route');
    const wrongKind = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'sneak', namespace: 'media' }, spec: { parentRefs: [{ name: 'internal', namespace: 'gateways', sectionName: 'tcp-15432' }], rules: [{ backendRefs: [{ name: 'catalog', port: 9102 }] }] } } as Obj;
    assert.equal(netCluster([wrongKind, ...net.filter((o) => o.kind !== 'TCPRoute')]).gateway({ gateway: internal, port: 15432 }).stage, 'route');
  });

  test('the gateways reach only the ports their routes use: catalog metrics and player are closed to them', () => {
    // catalog advertises to "*" (any identity, behind Cedar AllowWildcard on Mesh advertise): that rule
    // admits every identity that passes Cilium on every service port, gateways included. Without it,
    // each gateway reaches its routed ports only.
    const catalogRules = (o: Obj): unknown[] => (o.spec as { rules: { from: { source: { principals?: string[] } }[] }[] }).rules.filter((r) => r.from[0]!.source.principals?.[0] !== '*');
    const noWildcard = netCluster(net.map((o) => (o.kind === 'AuthorizationPolicy' && o.metadata.name === 'catalog' ? { ...o, spec: { ...(o.spec as object), rules: catalogRules(o) } } : o)));
    assert.equal(m.connect(INTERNAL, m.pod('media/catalog'), 9102).allowed, true, 'the advertise wildcard reaches the metrics port too');
    const catalog = noWildcard.pod('media/catalog');
    assert.equal(noWildcard.connect(INTERNAL, catalog, 9102).stage, 'istio-authz');
    assert.equal(noWildcard.connect(PUBLIC, catalog, 5432).stage, 'istio-authz');
    assert.equal(noWildcard.connect(INTERNAL, catalog, 5432).allowed, true);
    assert.equal(noWildcard.connect(PUBLIC, catalog, 8080).allowed, true);
    assert.equal(m.connect(INTERNAL, m.pod('media/player'), 8096).stage, 'cilium-ingress');
  });

  test('exposed Service: clients outside the cluster reach resolver on its ports (TCP and UDP); in-cluster pods, other ports and ClusterIP services do not', () => {
    assert.equal(m.external('media', 'resolver', 853).allowed, true);
    assert.equal(m.external('media', 'resolver', 53, 'UDP').allowed, true);
    assert.equal(m.external('media', 'resolver', 853, 'UDP').stage, 'route');
    assert.equal(m.external('media', 'catalog', 80).stage, 'route', 'a ClusterIP Service is not reachable from outside');
    const resolver = m.pod('media/resolver');
    assert.equal(m.connect({ ip: '203.0.113.9' }, resolver, 9999).stage, 'cilium-ingress');
    assert.equal(netCluster(net, [STRANGER_MEDIA]).connect(STRANGER_MEDIA, resolver, 8853).allowed, false);
    // A pod whose egress is open (a system namespace), outside the mesh: still not the world.
    const SYSTEM_POD = platformPod('kube-system', 'debug', { app: 'debug' }, 'default', [8080]);
    assert.equal(netCluster(net, [SYSTEM_POD]).connect(SYSTEM_POD, resolver, 8853).stage, 'cilium-ingress');
    // A mesh pod without an agreement: its own egress stops it, and resolver admits it neither on HBONE nor on the port.
    assert.equal(m.connect(m.pod('media/indexer'), resolver, 8853).stage, 'cilium-egress');
    for (const port of [HBONE_PORT, 8853]) assert.equal(m.ciliumAllows('ingress', resolver, { pod: m.pod('media/indexer') }, port, 'TCP'), false, `ingress ${port}`);
    // Each piece is load-bearing: without the port-level PERMISSIVE the mesh-wide STRICT refuses the
    // plain-text client; without the plain-text rule the allow-nothing policy does.
    assert.equal(netCluster(net.filter((o) => !(o.kind === 'PeerAuthentication' && o.metadata.name === 'resolver'))).external('media', 'resolver', 853).stage, 'ztunnel-mtls');
    const noRule = net.map((o) => (o.kind === 'AuthorizationPolicy' && o.metadata.name === 'resolver' ? { ...o, spec: { ...(o.spec as object), rules: ((o.spec as { rules: unknown[] }).rules).slice(0, -1) } } : o));
    assert.equal(netCluster(noRule).external('media', 'resolver', 853).stage, 'istio-authz');
  });

  test('advertise: the east-west gateway relays the listed caller (player) or any caller (catalog); other callers, other services and local pods are refused', () => {
    const player = m.pod('media/player');
    assert.equal(m.relay(EASTWEST, player, 8096, 'cluster.local/ns/edge/sa/haproxy-fw').allowed, true);
    assert.equal(m.relay(EASTWEST, player, 8096, 'cluster.local/ns/edge/sa/other').stage, 'istio-authz');
    assert.equal(m.relay(EASTWEST, player, 9999, 'cluster.local/ns/edge/sa/haproxy-fw').stage, 'istio-authz');
    assert.equal(m.relay(EASTWEST, m.pod('media/catalog'), 9090, 'cluster.local/ns/anything/sa/anyone').allowed, true);
    assert.equal(m.relay(EASTWEST, m.pod('media/indexer'), 8989, 'cluster.local/ns/edge/sa/haproxy-fw').stage, 'cilium-ingress', 'indexer is not advertised');
    // A local pod with the allowed identity, not through the east-west gateway, is stopped by Cilium.
    const local: Pod = platformPod('edge', 'haproxy-fw', { app: 'haproxy-fw', 'istio.io/dataplane-mode': 'ambient' }, 'haproxy-fw', [80]);
    assert.equal(netCluster(net, [local]).ciliumAllows('ingress', player, { pod: local }, HBONE_PORT, 'TCP'), false);
    // A pod copying the east-west gateway's labels under another ServiceAccount is not the gateway.
    const fake: Pod = { ...EASTWEST, name: 'fake-eastwest', serviceAccount: 'default' };
    assert.equal(netCluster(net, [fake]).relay(fake, player, 8096, 'cluster.local/ns/edge/sa/haproxy-fw').stage, 'cilium-ingress');
  });

  test('external endpoints: each form opens exactly its host, port and protocol', () => {
    const indexer = m.pod('media/indexer');
    const nzb = { fqdn: 'api.nzbgeek.info', ip: '198.51.100.20' };
    assert.equal(m.connectOutside(indexer, nzb, 443, [DNS]).allowed, true);
    assert.equal(m.connectOutside(indexer, nzb, 80, [DNS]).stage, 'cilium-egress');
    assert.equal(m.connectOutside(indexer, { fqdn: 'time.example.org', ip: '198.51.100.30' }, 123, [DNS], 'UDP').allowed, true);
    assert.equal(m.connectOutside(indexer, { fqdn: 'time.example.org', ip: '198.51.100.30' }, 123, [DNS], 'TCP').stage, 'cilium-egress');
    assert.equal(m.connectOutside(indexer, { ip: '10.20.30.41' }, 5432, [DNS]).allowed, true);
    assert.equal(m.connectOutside(indexer, { ip: '10.20.30.42' }, 5432, [DNS]).stage, 'cilium-egress');
    const apiserver = { ip: '10.96.0.1', entity: 'kube-apiserver' };
    assert.equal(m.connectOutside(indexer, apiserver, 443, [DNS]).allowed, true);
    assert.equal(m.connectOutside(indexer, apiserver, 6443, [DNS]).stage, 'cilium-egress');
    assert.equal(m.connectOutside(m.pod('media/catalog'), apiserver, 443, [DNS]).stage, 'cilium-egress', 'only the declaring service');
    assert.equal(m.connectOutside(indexer, { ip: '10.0.0.5', entity: 'remote-node' }, 443, [DNS]).stage, 'cilium-egress', 'no other entity');
  });

  test('every object of the corpus validates upstream', () => {
    for (const o of net) assertValid(o as never);
  });
});

// ---------------------------------------------------------------------------------------------
// Workloads Lattice does not run: a LatticeMeshMember (a Helm-installed Deployment) and a
// LatticePackage (a chart Flux installs), in the mesh with services. Their pods and Services are
// written here by hand as the charts would create them (Lattice derives neither); the pods carry the
// ambient label: the member's through its chart's pod labels (its selector names the label), the
// package's through the HelmRelease post-renderer (checked below).

const member = (name: string, spec: Record<string, unknown>, namespace = 'shop'): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeMeshMember', metadata: { name, namespace }, spec });
const AMBIENT_LABEL = { 'istio.io/dataplane-mode': 'ambient' };

const PODLESS_FLEET = [
  // web calls the member legacy (agreed: legacy accepts web).
  service('web', { workload: { service: { ports: { http: http(80, 8080) } }, resources: { legacy: { type: 'service' } } } }),
  // api accepts legacy; batch calls the package cache, which does not accept it (one-sided).
  service('api', { workload: { service: { ports: { http: http(8080) } }, resources: { legacy: { type: 'service', direction: 'inbound' } } } }),
  service('batch', { workload: { resources: { cache: { type: 'service' } } } }),
  // legacy: accepts web on 7070, calls api and cache, and an external API.
  member('legacy', {
    target: { selector: { app: 'legacy', 'app.kubernetes.io/instance': 'legacy', ...AMBIENT_LABEL } },
    serviceAccount: 'legacy-sa',
    ports: [{ name: 'http', port: 7070 }],
    allowedCallers: [{ name: 'web' }],
    dependencies: [{ name: 'api' }, { name: 'cache' }],
    egress: [{ target: { fqdn: 'rates.example.com' }, ports: [443] }],
  }),
  // orphan: calls api, which does not accept it (one-sided).
  member('orphan', { target: { selector: { app: 'orphan', ...AMBIENT_LABEL } }, dependencies: [{ name: 'api' }] }),
  // cache: Redis from a chart, accepts legacy on 6379.
  {
    apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePackage', metadata: { name: 'cache', namespace: 'shop' },
    spec: {
      chart: { repository: 'oci://registry.example.com/charts', name: 'redis', version: '18.6.1' },
      mesh: { selector: { 'app.kubernetes.io/instance': 'cache' }, serviceAccount: 'cache', serviceNames: ['cache-master'], ports: [{ name: 'redis', port: 6379 }], allowedCallers: [{ name: 'legacy' }] },
    },
  },
];

const podless = deriveObjects(PODLESS_FLEET);
const podlessObjects = [...podless.platformObjects, ...podless.services.flatMap((s) => s.objects)] as Obj[];
const chartPod = (name: string, labels: Record<string, string>, serviceAccount: string, ports: number[]): Pod => platformPod('shop', name, labels, serviceAccount, ports);
const LEGACY = chartPod('legacy', { app: 'legacy', 'app.kubernetes.io/instance': 'legacy', ...AMBIENT_LABEL }, 'legacy-sa', [7070]);
const ORPHAN = chartPod('orphan', { app: 'orphan', ...AMBIENT_LABEL }, 'orphan', [9000]);
const CACHE = chartPod('cache', { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'cache', ...AMBIENT_LABEL }, 'cache', [6379]);
/** The Services the charts create (not derived by Lattice). */
const chartService = (name: string, selector: Record<string, string>, port: number, targetPort: number): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { selector, ports: [{ name: 'p', port, targetPort, protocol: 'TCP' }] } });
const CHART_SERVICES = [chartService('legacy', { app: 'legacy' }, 80, 7070), chartService('cache-master', { 'app.kubernetes.io/instance': 'cache' }, 6379, 6379)];
const podlessModel = new ClusterModel([...podlessObjects, ...CHART_SERVICES], { pods: [DNS, ISTIOD, SCRAPER, STRANGER, LEGACY, ORPHAN, CACHE] });
const podlessWorkloads = podlessModel.pods.filter((p) => p.namespace === 'shop' && p !== STRANGER);

describe('mesh members and packages in the modelled cluster', () => {
  test('every workload is Ready, every derived object is valid, and the chart pods are the ones the package enrols', () => {
    assert.deepEqual(podless.problems, []);
    for (const r of podless.services) assert.equal(r.status.phase, 'Ready', r.key);
    for (const o of podlessObjects) assertValid(o);
    for (const p of podlessWorkloads) assert.equal(podlessModel.inMesh(p), true, `${p.namespace}/${p.name}`);
    // The package's pods carry the ambient label because its HelmRelease patches every pod template.
    const release = resultOf(podless, 'shop/cache').objects.find((o) => o.kind === 'HelmRelease')!;
    const patches = (release.spec as { postRenderers: { kustomize: { patches: { target: { kind: string }; patch: string }[] } }[] }).postRenderers[0]!.kustomize.patches;
    assert.deepEqual(patches.map((p) => p.target.kind), ['Deployment', 'StatefulSet', 'DaemonSet']);
    for (const p of patches) assert.match(p.patch, /path: \/spec\/template\/metadata\/labels\/istio\.io~1dataplane-mode\n {2}value: ambient/);
  });

  test('agreed edges to and from the member and the package work through their Services', () => {
    const web = podlessModel.pod('shop/web');
    for (const [caller, ns, name, port] of [[web, 'shop', 'legacy', 80], [LEGACY, 'shop', 'api', 8080], [LEGACY, 'shop', 'cache-master', 6379]] as const) {
      const v = podlessModel.callService(caller, ns, name, port, [DNS]);
      assert.ok(v.allowed, `${caller.name} > ${name}:${port}: ${v.stage} ${v.detail}`);
    }
    assert.equal(podlessModel.connectOutside(LEGACY, { fqdn: 'rates.example.com', ip: '198.51.100.20' }, 443, [DNS]).allowed, true);
  });

  test('nothing else gets through: every source to every port of every workload pod', () => {
    const impostor: Pod = { ...LEGACY, name: 'legacy-impostor', serviceAccount: 'default' };
    const elsewhere: Pod = { ...LEGACY, name: 'legacy-elsewhere', namespace: 'ops' };
    const sources: Pod[] = [...podlessModel.pods, impostor, elsewhere];
    const expected = new Set(['shop/web>shop/legacy:7070', 'shop/legacy>shop/api:8080', 'shop/legacy>shop/cache:6379', 'monitoring/vmagent-vmagent>shop/web:8080', 'monitoring/vmagent-vmagent>shop/api:8080']);
    const allowed = new Set<string>();
    let tried = 0;
    for (const src of sources) {
      for (const dst of podlessWorkloads) {
        for (const port of new Set([...dst.ports.map((p) => p.port), 22, 80, 6379, 7070, 8080, HBONE_PORT])) {
          for (const protocol of ['TCP', 'UDP']) {
            tried++;
            if (podlessModel.connect(src, dst, port, protocol).allowed) allowed.add(`${src.namespace}/${src.name}>${dst.namespace}/${dst.name}:${port}${protocol === 'UDP' ? '/UDP' : ''}`);
          }
        }
      }
    }
    assert.ok(tried > 500, `tried ${tried} flows`);
    assert.deepEqual([...allowed].sort(), [...expected].sort());
  });

  test('DNS and the outside: each looks up only what it needs; only the member reaches its external host', () => {
    const names = ['legacy.shop.svc.cluster.local', 'api.shop.svc.cluster.local', 'cache-master.shop.svc.cluster.local', 'cache.shop.svc.cluster.local', 'rates.example.com'];
    const can = (p: Pod): string[] => names.filter((n) => podlessModel.resolves(p, n, [DNS]).allowed);
    assert.deepEqual(can(podlessModel.pod('shop/web')), ['legacy.shop.svc.cluster.local']);
    assert.deepEqual(can(LEGACY), ['api.shop.svc.cluster.local', 'cache-master.shop.svc.cluster.local', 'rates.example.com']);
    assert.deepEqual(can(podlessModel.pod('shop/batch')), [], 'batch is not accepted by cache: not even its name');
    assert.deepEqual(can(ORPHAN), []);
    for (const p of podlessWorkloads.filter((x) => x !== LEGACY)) assert.equal(podlessModel.connectOutside(p, { fqdn: 'rates.example.com', ip: '198.51.100.20' }, 443, [DNS]).allowed, false, p.name);
  });

  test('a chart pod the post-renderer did not enrol is not selected, so the default deny keeps it closed', () => {
    const unenrolled: Pod = { ...CACHE, name: 'cache-unenrolled', labels: { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/instance': 'cache' } };
    const m = new ClusterModel([...podlessObjects, ...CHART_SERVICES], { pods: [DNS, SCRAPER, LEGACY, unenrolled] });
    assert.equal(m.connect(LEGACY, unenrolled, 6379).allowed, false);
    assert.equal(m.connect(STRANGER, unenrolled, 6379).allowed, false);
  });
});
