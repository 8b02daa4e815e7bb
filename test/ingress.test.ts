import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import { conditionOf, deriveObjects, deriveYaml, objectOf, resultOf, service } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import { ingressPeers, listenerName } from '../src/compiler/mesh/ingress.ts';
import { latticeServiceSchema } from '../src/api/latticeservice/v1alpha1.ts';
import type { KubeObject, ServiceResult } from '../src/compiler/types.ts';

const INTERNAL_PERMIT = `@id("internal-hosts")
permit(principal, action == Lattice::Action::"ExposeRoute", resource) when { resource.exposure == "internal" };`;

/**
 * Cedar policies: everything except ExposeRoute, plus ExposeRoute for internal routes unless
 * `internal` is false, so each test decides about public routes itself.
 */
function policies(extra = '', internal = true): Record<string, unknown> {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'CedarPolicy',
    metadata: { name: 'base', namespace: 'lattice-system' },
    spec: { policies: `permit(principal, action, resource) unless { action == Lattice::Action::"ExposeRoute" };\n${internal ? INTERNAL_PERMIT : ''}\n${extra}` },
  };
}

const PUBLIC_PERMIT = `@id("public-shop")
permit(principal, action == Lattice::Action::"ExposeRoute", resource)
when { resource.exposure == "public" && resource.namespace == "shop" && resource.host like "*shop.example.com" };`;

const GATEWAYS = {
  internal: { name: 'internal', namespace: 'gateways' },
  public: { name: 'public', namespace: 'gateways', serviceAccount: 'public-gw', clusterIssuer: 'letsencrypt' },
};

function platform(gateways: unknown = GATEWAYS): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { gateways } };
}

const PORTS = { http: { port: 80, targetPort: 8080 }, metrics: { port: 9090 } };

function web(ingress: unknown, ports: unknown = PORTS, namespace = 'shop'): Record<string, unknown> {
  return service('web', { workload: { service: { ports } }, ingress }, namespace);
}

function derive(docs: unknown[], key = 'shop/web'): ServiceResult {
  return resultOf(deriveObjects(docs), key);
}

function validReferenceGrant(o: KubeObject): void {
  // The schema oracle (test/support/schemas.ts) does not register ReferenceGrant yet: validate with
  // the Gateway API model directly (it throws on a schema violation).
  new ReferenceGrant(o as never).validate();
}

test('internal route: an HTTPRoute on the internal gateway, to the http port, every path by default', () => {
  const r = derive([policies(), platform(), web({ routes: { api: { hosts: ['web.internal.example.com'] } } })]);
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const route = objectOf(r, 'HTTPRoute', 'web-api');
  assertValid(route);
  assert.equal(route.metadata.namespace, 'shop');
  assert.equal(route.metadata.labels?.['lattice.dev/service'], 'web');
  assert.deepEqual(route.spec, {
    parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'internal', namespace: 'gateways', sectionName: 'web.internal.example.com' }],
    hostnames: ['web.internal.example.com'],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }] }],
  });
  assert.equal(r.objects.some((o) => o.kind === 'Certificate'), false, 'no issuer on the internal gateway: no Certificate');
});

test('paths, types and a named port', () => {
  const r = derive([
    policies(),
    platform(),
    web({ routes: { api: { hosts: ['a.example.com', 'b.example.com'], port: 'metrics', paths: [{ path: '/v1' }, { path: '/health', type: 'Exact' }] } } }),
  ]);
  const route = objectOf(r, 'HTTPRoute', 'web-api');
  assertValid(route);
  assert.deepEqual((route.spec as { rules: unknown }).rules, [
    {
      matches: [{ path: { type: 'PathPrefix', value: '/v1' } }, { path: { type: 'Exact', value: '/health' } }],
      backendRefs: [{ group: '', kind: 'Service', name: 'web', port: 9090 }],
    },
  ]);
  assert.deepEqual((route.spec as { hostnames: unknown }).hostnames, ['a.example.com', 'b.example.com']);
});

test('public route with a permit: HTTPRoute on the public gateway, a Certificate and a ReferenceGrant for its Secret', () => {
  const r = derive([policies(PUBLIC_PERMIT), platform(), web({ routes: { site: { hosts: ['shop.example.com', 'www.shop.example.com'], exposure: 'public' } } })]);
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  assert.equal(conditionOf(r, 'PolicyAuthorized').status, 'True');
  const route = objectOf(r, 'HTTPRoute', 'web-site');
  assertValid(route);
  assert.deepEqual((route.spec as { parentRefs: unknown }).parentRefs, [
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateways', sectionName: 'shop.example.com' },
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateways', sectionName: 'www.shop.example.com' },
  ]);
  const cert = objectOf(r, 'Certificate', 'web-site');
  assertValid(cert);
  assert.deepEqual(cert.spec, {
    secretName: 'web-site-tls',
    dnsNames: ['shop.example.com', 'www.shop.example.com'],
    issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt' },
  });
  const grant = objectOf(r, 'ReferenceGrant', 'web-site-tls');
  validReferenceGrant(grant);
  assert.equal(grant.metadata.namespace, 'shop');
  assert.deepEqual(grant.spec, {
    from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gateways' }],
    to: [{ group: '', kind: 'Secret', name: 'web-site-tls' }],
  });
  const kinds = r.objects.map((o) => o.kind);
  assert.ok(kinds.indexOf('HTTPRoute') < kinds.indexOf('Certificate') && kinds.indexOf('Certificate') < kinds.indexOf('ReferenceGrant'), kinds.join(','));
});

test('a gateway in the service namespace needs no ReferenceGrant', () => {
  const result = deriveObjects([policies(), platform({ internal: { name: 'edge', namespace: 'shop', clusterIssuer: 'internal-ca', className: 'cilium' } }), web({ routes: { api: { hosts: ['web.shop.internal'] } } })]);
  const r = resultOf(result, 'shop/web');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  assertValid(objectOf(r, 'Certificate', 'web-api'));
  assert.equal(r.objects.some((o) => o.kind === 'ReferenceGrant'), false);
  const gw = result.platformObjects.find((o) => o.kind === 'Gateway')!;
  assert.deepEqual(gw.spec, {
    gatewayClassName: 'cilium',
    listeners: [{
      name: 'web.shop.internal', hostname: 'web.shop.internal', port: 443, protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'web-api-tls' }] },
      allowedRoutes: { namespaces: { from: 'Same' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] },
    }],
  });
  assertWired([...result.platformObjects, ...r.objects]);
});

test('public route without a permit: denied like every other authorization, nothing derived', () => {
  const r = derive([policies(), platform(), web({ routes: { site: { hosts: ['shop.example.com'], exposure: 'public' }, api: { hosts: ['web.internal.example.com'] } } })]);
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, []);
  const c = conditionOf(r, 'PolicyAuthorized');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'RouteExposureDenied');
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 1, 'the internal route has its permit; only the public host is denied');
  assert.equal(errors[0]!.path, 'spec.ingress.routes.site.hosts.0');
  assert.equal(
    errors[0]!.message,
    'ExposeRoute denied for public route shop.example.com (route site). No Cedar policy permits Service shop/web to expose Route shop.example.com (public). Contact the platform team to request a permit policy.',
  );
});

test('the permit decides per host: one allowed host does not carry another', () => {
  const r = derive([policies(PUBLIC_PERMIT), platform(), web({ routes: { site: { hosts: ['shop.example.com', 'evil.example.org'], exposure: 'public' } } })]);
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.path),
    ['spec.ingress.routes.site.hosts.1'],
  );
});

test('a route whose exposure has no gateway on this platform fails, naming the setting', () => {
  const r = derive([policies(PUBLIC_PERMIT), platform({ internal: GATEWAYS.internal }), web({ routes: { site: { hosts: ['shop.example.com'], exposure: 'public' } } })]);
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, []);
  const c = conditionOf(r, 'PlatformSupported');
  assert.equal(c.reason, 'GatewayNotConfigured');
  assert.equal(
    c.message,
    'spec.ingress.routes.site.exposure: route site is public, but this platform has no public gateway (LatticePlatform spec.gateways.public): ask the platform team to configure one, or use another exposure',
  );
});

test('schema: hosts, ports and paths are checked with the fix in the message', () => {
  const cases: [unknown, unknown, string, string][] = [
    [{ routes: { a: { hosts: ['Shop.Example.com'] } } }, PORTS, 'spec.ingress.routes.a.hosts[0]', 'is not a host name: write a lower-case DNS name such as shop.example.com, or *.example.com for a wildcard'],
    [{ routes: { a: { hosts: ['10.0.0.1'] } } }, PORTS, 'spec.ingress.routes.a.hosts[0]', 'is an IP address, not a host name: routes match DNS names such as shop.example.com (Gateway API hostnames exclude IPs)'],
    [{ routes: { a: { hosts: ['x.example.com'], port: 'grpc' } } }, PORTS, 'spec.ingress.routes.a.port', 'port "grpc" is not declared in workload.service.ports (declared: http, metrics)'],
    [{ routes: { a: { hosts: ['x.example.com'] } } }, { web: { port: 80 }, admin: { port: 81 } }, 'spec.ingress.routes.a.port', 'route a names no port and the service has several (web, admin) and none named http: set port to one of them'],
    [{ routes: { a: { hosts: ['x.example.com'] } } }, { dns: { port: 53, protocol: 'UDP' } }, 'spec.ingress.routes.a.port', 'port "dns" uses UDP; routes need a TCP port'],
    [{ routes: {} }, PORTS, 'spec.ingress.routes', 'declare at least one route'],
  ];
  for (const [ingress, ports, path, message] of cases) {
    const r = derive([policies(), platform(), web(ingress, ports)]);
    assert.equal(r.status.phase, 'Failed', path);
    assert.deepEqual(r.diagnostics.map((d) => [d.path, d.message]), [[path, message]]);
  }
  const noPorts = derive([policies(), platform(), service('web', { ingress: { routes: { a: { hosts: ['x.example.com'] } } } })]);
  assert.deepEqual(noPorts.diagnostics.map((d) => [d.path, d.message]), [['spec.ingress.routes.a', 'route a needs a port to send traffic to: declare workload.service.ports']]);
  const single = derive([policies(), platform(), web({ routes: { a: { hosts: ['*.example.com'] } } }, { web: { port: 8000 } })]);
  assert.equal(single.status.phase, 'Ready', 'the only port is used; a wildcard host is allowed');
  assert.equal((objectOf(single, 'HTTPRoute', 'web-a').spec as { rules: { backendRefs: { port: number }[] }[] }).rules[0]!.backendRefs[0]!.port, 8000);
});

test('ingressPeers: the gateway identities and the container ports their routes use, and nothing else', () => {
  const svc = latticeServiceSchema.parse(
    web({
      routes: {
        site: { hosts: ['shop.example.com'], exposure: 'public' },
        admin: { hosts: ['admin.example.com'], paths: [{ path: '/admin' }] },
        api: { hosts: ['api.internal.example.com'] },
        scrape: { hosts: ['metrics.internal.example.com'], port: 'metrics' },
      },
    }),
  );
  const settings = { gateways: GATEWAYS };
  assert.deepEqual(ingressPeers(svc, settings), [
    {
      exposure: 'internal',
      gateway: { name: 'internal', namespace: 'gateways' },
      serviceAccount: 'internal-istio',
      podLabels: { 'gateway.networking.k8s.io/gateway-name': 'internal' },
      portName: 'http',
      port: 8080,
      protocol: 'TCP',
      routes: ['admin', 'api'],
    },
    {
      exposure: 'internal',
      gateway: { name: 'internal', namespace: 'gateways' },
      serviceAccount: 'internal-istio',
      podLabels: { 'gateway.networking.k8s.io/gateway-name': 'internal' },
      portName: 'metrics',
      port: 9090,
      protocol: 'TCP',
      routes: ['scrape'],
    },
    {
      exposure: 'public',
      gateway: { name: 'public', namespace: 'gateways' },
      serviceAccount: 'public-gw',
      podLabels: { 'gateway.networking.k8s.io/gateway-name': 'public' },
      portName: 'http',
      port: 8080,
      protocol: 'TCP',
      routes: ['site'],
    },
  ]);
  assert.deepEqual(ingressPeers(svc, { gateways: { internal: GATEWAYS.internal } }).map((p) => p.exposure), ['internal', 'internal'], 'no public gateway: no public peer');
  assert.deepEqual(ingressPeers(latticeServiceSchema.parse(service('plain')), settings), [], 'no routes: no peers');
});

test('an internal route needs an ExposeRoute permit too: without one, the service is denied and nothing is derived', () => {
  const r = derive([policies('', false), platform(), web({ routes: { api: { hosts: ['payments.internal.example.com'] } } })]);
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, []);
  const c = conditionOf(r, 'PolicyAuthorized');
  assert.equal(c.reason, 'RouteExposureDenied');
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.path, d.message]), [[
    'spec.ingress.routes.api.hosts.0',
    'ExposeRoute denied for internal route payments.internal.example.com (route api). No Cedar policy permits Service shop/web to expose Route payments.internal.example.com (internal). Contact the platform team to request a permit policy.',
  ]]);
});

/** A service `name` in `namespace` routing `hosts` (internal unless said), with an http port. */
function router(name: string, namespace: string, hosts: string[], exposure = 'internal', metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return service(name, { workload: { service: { ports: PORTS } }, ingress: { routes: { web: { hosts, exposure } } } }, namespace, metadata);
}

test('a host is claimed by one service only: a second claim fails naming the owner, with its file and line', () => {
  const yaml = [platform(), policies(PUBLIC_PERMIT), router('owner', 'shop', ['shop.example.com'], 'public'), router('thief', 'shop', ['shop.example.com', 'other.shop.example.com'], 'public')]
    .map((d) => JSON.stringify(d, null, 2)).join('\n---\n');
  const result = deriveYaml(yaml, 'fleet.yaml');
  assert.equal(resultOf(result, 'shop/owner').status.phase, 'Ready');
  const thief = resultOf(result, 'shop/thief');
  assert.equal(thief.status.phase, 'Failed');
  assert.deepEqual(thief.objects, [], 'no route, no certificate for the stolen host');
  const errors = thief.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.reason, 'HostAlreadyClaimed');
  assert.equal(errors[0]!.path, 'spec.ingress.routes.web.hosts.0');
  assert.match(errors[0]!.message, /^host shop\.example\.com of route web is already served by service shop\/owner \(fleet\.yaml:\d+\), route web: a host belongs to one service only/);
  assert.equal(errors[0]!.location?.file, 'fleet.yaml');
  // The owner's listener only: the thief gets no listener on the Gateway.
  const gw = result.platformObjects.find((o) => o.kind === 'Gateway' && o.metadata.name === 'public')!;
  assert.deepEqual((gw.spec as { listeners: { name: string }[] }).listeners.map((l) => l.name), ['shop.example.com']);
});

test('host claims across namespaces and exposures; case does not make a new host; the older service (creationTimestamp) owns it', () => {
  const result = deriveObjects([
    platform(),
    policies(PUBLIC_PERMIT),
    router('aaa', 'alpha', ['api.example.com'], 'internal', { creationTimestamp: '2026-03-01T00:00:00Z' }),
    router('zzz', 'zeta', ['api.example.com'], 'internal', { creationTimestamp: '2025-01-01T00:00:00Z' }),
  ]);
  assert.equal(resultOf(result, 'zeta/zzz').status.phase, 'Ready', 'older, though later by name');
  const late = resultOf(result, 'alpha/aaa');
  assert.equal(late.status.phase, 'Failed');
  assert.match(conditionOf(late, 'Validated').message, /already served by service zeta\/zzz, route web/);
});

test('fleet: removing the owner hands the host to the next claimant, re-derived incrementally', () => {
  const result = deriveObjects([
    platform(),
    policies(),
    router('first', 'a', ['x.internal.example.com'], 'internal', { creationTimestamp: '2025-01-01T00:00:00Z' }),
    router('second', 'b', ['x.internal.example.com'], 'internal', { creationTimestamp: '2026-01-01T00:00:00Z' }),
  ]);
  const fleet = result.fleet!;
  assert.equal(fleet.result('b/second')!.status.phase, 'Failed');
  const change = fleet.remove('a/first');
  assert.deepEqual(change.rederived.map((r) => r.key), ['b/second'], 'the other claimant is re-derived');
  assert.equal(fleet.result('b/second')!.status.phase, 'Ready');
  const gw = fleet.platformObjects().find((o) => o.kind === 'Gateway')!;
  const listeners = (gw.spec as { listeners: { hostname: string; allowedRoutes: unknown }[] }).listeners;
  assert.deepEqual(listeners.map((l) => [l.hostname, l.allowedRoutes]), [[
    'x.internal.example.com',
    { namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] },
  ]]);
  // And back: a re-created service (a new creationTimestamp) cannot take the held host back.
  const back = fleet.upsert({ object: router('first', 'a', ['x.internal.example.com'], 'internal', { creationTimestamp: '2027-01-01T00:00:00Z' }) });
  assert.deepEqual(back.rederived.map((r) => [r.key, r.status.phase]), [['a/first', 'Failed'], ['b/second', 'Ready']]);
});

test('Gateway: a TLS listener per host serving the route\'s certificate; the HTTPRoute attaches by sectionName; the grant is used', () => {
  const result = deriveObjects([
    platform(),
    policies(PUBLIC_PERMIT),
    web({ routes: { site: { hosts: ['shop.example.com', '*.shop.example.com'], exposure: 'public' }, api: { hosts: ['web.internal.example.com'] } } }),
  ]);
  const r = resultOf(result, 'shop/web');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const gateways = result.platformObjects.filter((o) => o.kind === 'Gateway');
  assert.deepEqual(gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`), ['gateways/internal', 'gateways/public']);
  for (const g of gateways) assertValid(g);
  const pub = gateways[1]!;
  assert.deepEqual(pub.metadata.labels, { 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'lattice' });
  const wildcard = listenerName('*.shop.example.com');
  assert.match(wildcard, /^wildcard-[0-9a-f]{8}\.shop\.example\.com$/);
  assert.notEqual(listenerName('*.shop.example.com'), listenerName('wildcard.shop.example.com'));
  const long = `*.${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com`;
  assert.ok(listenerName(long).length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(listenerName(long)));
  const allowed = { namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] };
  const tls = { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'web-site-tls', namespace: 'shop' }] };
  assert.deepEqual(pub.spec, {
    gatewayClassName: 'istio',
    listeners: [
      { name: 'shop.example.com', hostname: 'shop.example.com', port: 443, protocol: 'HTTPS', tls, allowedRoutes: allowed },
      { name: wildcard, hostname: '*.shop.example.com', port: 443, protocol: 'HTTPS', tls, allowedRoutes: allowed },
    ].sort((a, b) => (a.name < b.name ? -1 : 1)),
  });
  assert.deepEqual(gateways[0]!.spec, {
    gatewayClassName: 'istio',
    listeners: [{ name: 'web.internal.example.com', hostname: 'web.internal.example.com', port: 80, protocol: 'HTTP', allowedRoutes: allowed }],
  });
  assertWired([...result.platformObjects, ...r.objects]);
});

/**
 * An independent reading of the Gateway API rules over a set of objects: every HTTPRoute parentRef
 * names an existing Gateway listener whose hostname the route serves and whose allowedRoutes admit
 * the route's namespace; every cross-namespace certificateRef is covered by a ReferenceGrant in the
 * Secret's namespace from Gateways of the listener's namespace; every Certificate's Secret is served
 * by a listener; every ReferenceGrant is used. Throws on the first broken rule.
 */
function assertWired(objects: KubeObject[]): void {
  type Listener = { name: string; hostname: string; protocol: string; tls?: { certificateRefs: { name: string; namespace?: string }[] }; allowedRoutes: { namespaces: { from: string; selector?: { matchLabels: Record<string, string> } } } };
  const gateways = objects.filter((o) => o.kind === 'Gateway');
  const listener = (ns: string, name: string, section: string): Listener | undefined =>
    (gateways.find((g) => g.metadata.namespace === ns && g.metadata.name === name)?.spec as { listeners: Listener[] } | undefined)?.listeners.find((l) => l.name === section);
  const admits = (l: Listener, gwNs: string, routeNs: string): boolean =>
    l.allowedRoutes.namespaces.from === 'All' || (l.allowedRoutes.namespaces.from === 'Same' && gwNs === routeNs) ||
    (l.allowedRoutes.namespaces.from === 'Selector' && l.allowedRoutes.namespaces.selector?.matchLabels['kubernetes.io/metadata.name'] === routeNs);
  for (const route of objects.filter((o) => o.kind === 'HTTPRoute')) {
    const spec = route.spec as { hostnames: string[]; parentRefs: { name: string; namespace: string; sectionName?: string }[] };
    assert.ok(spec.parentRefs.length > 0);
    for (const ref of spec.parentRefs) {
      assert.ok(ref.sectionName, `${route.metadata.name}: parentRef without sectionName`);
      const l = listener(ref.namespace, ref.name, ref.sectionName);
      assert.ok(l, `${route.metadata.name}: no listener ${ref.sectionName} on ${ref.namespace}/${ref.name}`);
      assert.ok(spec.hostnames.includes(l.hostname), `${route.metadata.name}: listener ${l.name} serves ${l.hostname}, not a host of the route`);
      assert.ok(admits(l, ref.namespace, route.metadata.namespace!), `${route.metadata.name}: listener ${l.name} does not admit namespace ${route.metadata.namespace}`);
    }
  }
  const servedSecrets = new Set<string>();
  const usedGrants = new Set<string>();
  for (const g of gateways) {
    for (const l of (g.spec as { listeners: Listener[] }).listeners) {
      for (const ref of l.tls?.certificateRefs ?? []) {
        const ns = ref.namespace ?? g.metadata.namespace!;
        servedSecrets.add(`${ns}/${ref.name}`);
        if (ns === g.metadata.namespace) continue;
        const grant = objects.find((o) => o.kind === 'ReferenceGrant' && o.metadata.namespace === ns &&
          (o.spec as { from: { kind: string; namespace: string }[]; to: { kind: string; name?: string }[] }).from.some((f) => f.kind === 'Gateway' && f.namespace === g.metadata.namespace) &&
          (o.spec as { to: { kind: string; name?: string }[] }).to.some((t) => t.kind === 'Secret' && (t.name === undefined || t.name === ref.name)));
        assert.ok(grant, `listener ${l.name}: no ReferenceGrant in ${ns} lets Gateways of ${g.metadata.namespace} read Secret ${ref.name}`);
        usedGrants.add(`${ns}/${grant.metadata.name}`);
      }
    }
  }
  for (const cert of objects.filter((o) => o.kind === 'Certificate')) {
    const secret = `${cert.metadata.namespace}/${(cert.spec as { secretName: string }).secretName}`;
    assert.ok(servedSecrets.has(secret), `Certificate ${cert.metadata.name}: Secret ${secret} is referenced by no listener`);
  }
  for (const grant of objects.filter((o) => o.kind === 'ReferenceGrant')) {
    assert.ok(usedGrants.has(`${grant.metadata.namespace}/${grant.metadata.name}`), `ReferenceGrant ${grant.metadata.name} is dangling`);
  }
}

test('wiring check: catches a route without sectionName, a dangling grant and an unserved certificate (the check can fail)', () => {
  const result = deriveObjects([platform(), policies(PUBLIC_PERMIT), web({ routes: { site: { hosts: ['shop.example.com'], exposure: 'public' } } })]);
  const objects = [...result.platformObjects, ...resultOf(result, 'shop/web').objects];
  assertWired(objects);
  const strip = objects.map((o) => (o.kind === 'HTTPRoute' ? { ...o, spec: { ...(o.spec as object), parentRefs: [{ name: 'public', namespace: 'gateways' }] } } : o));
  assert.throws(() => assertWired(strip), /parentRef without sectionName/);
  const noGateway = objects.filter((o) => o.kind !== 'Gateway' && o.kind !== 'HTTPRoute');
  assert.throws(() => assertWired(noGateway), /referenced by no listener/);
  const noGrant = objects.filter((o) => o.kind !== 'ReferenceGrant');
  assert.throws(() => assertWired(noGrant), /no ReferenceGrant in shop/);
});

test('a failed service gets no listener; no routes at all: no Gateway (a Gateway needs at least one listener)', () => {
  const result = deriveObjects([platform(), policies(), web({ routes: { site: { hosts: ['shop.example.com'], exposure: 'public' } } })]);
  assert.equal(resultOf(result, 'shop/web').status.phase, 'Failed');
  assert.deepEqual(result.platformObjects.filter((o) => o.kind === 'Gateway'), []);
});
