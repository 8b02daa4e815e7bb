import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import { conditionOf, deriveObjects, objectOf, resultOf, service } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import { ingressPeers } from '../src/compiler/ingress.ts';
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
  const r = derive([policies(), platform({ internal: { name: 'edge', namespace: 'shop', clusterIssuer: 'internal-ca' } }), web({ routes: { api: { hosts: ['web.shop.internal'] } } })]);
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  assertValid(objectOf(r, 'Certificate', 'web-api'));
  assert.equal(r.objects.some((o) => o.kind === 'ReferenceGrant'), false);
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
    [{ routes: { a: { hosts: ['x.example.com'] } } }, { dns: { port: 53, protocol: 'UDP' } }, 'spec.ingress.routes.a.port', 'port "dns" uses UDP; HTTP routes need a TCP port'],
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
