/**
 * The network corpus (test/reference/network/*.yaml): specs written in the original Lattice's shapes
 * for external services (endpoint maps, host:port, udp://, entity:, resolution), `${secret.R.K}`
 * placeholders, ingress (gatewayClass, rules/matches, tls, GRPCRoute, TCPRoute, listenPort), an
 * exposed Service (serviceType, hostnames, publishDns, service.tls), advertise, metrics.mappings and
 * deploy.canary. Every service renders Ready on a platform whose Cedar policy permits exactly what the
 * corpus needs; each derived object is checked field by field and against its upstream schema; each
 * new way in or out is then refused when its permit, its claim or its platform setting is missing.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the assertions walk derived objects (untyped YAML trees); a wrong path fails the assertion that reads it */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseYamlDocuments } from '../src/api/source.ts';
import { parseExternalEndpoint } from '../src/api/latticeservice/endpoint.ts';
import { derivePlatform, type PlatformDocument, type PlatformResult } from '../src/compiler/platform/snapshot.ts';
import type { KubeObject, ServiceResult } from '../src/compiler/types.ts';
import { NOW, conditionOf, objectOf, resultOf } from './support/fixtures.ts';
import { validateObject } from './support/schemas.ts';

const DIR = new URL('./reference/network/', import.meta.url);

/** The corpus as documents, with their file positions; `edit` may change (or drop) the parsed objects first. */
function corpus(edit: (o: Record<string, unknown>) => Record<string, unknown> | undefined = (o) => o): PlatformDocument[] {
  const docs: PlatformDocument[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    const { documents, errors } = parseYamlDocuments(readFileSync(new URL(file, DIR), 'utf8'), `test/reference/network/${file}`);
    assert.deepEqual(errors, [], file);
    for (const d of documents) {
      const object = edit(structuredClone(d.object) as Record<string, unknown>);
      if (object !== undefined) docs.push({ object, locate: d.locate });
    }
  }
  return docs;
}

function render(edit?: (o: Record<string, unknown>) => Record<string, unknown> | undefined): PlatformResult {
  return derivePlatform(corpus(edit), { now: NOW });
}

/** Edits the LatticeService `name` of the corpus (other documents unchanged). */
function editService(name: string, change: (spec: Record<string, any>) => void): (o: Record<string, unknown>) => Record<string, unknown> {
  return (o) => {
    if (o.kind === 'LatticeService' && (o.metadata as { name: string }).name === name) change(o.spec as Record<string, any>);
    return o;
  };
}

/** Replaces the corpus CedarPolicy text. */
function withPolicies(change: (text: string) => string): (o: Record<string, unknown>) => Record<string, unknown> {
  return (o) => {
    if (o.kind === 'CedarPolicy') (o.spec as { policies: string }).policies = change((o.spec as { policies: string }).policies);
    return o;
  };
}

const platform = render();
const byName = (key: string): ServiceResult => resultOf(platform, key);
const spec = (o: KubeObject): Record<string, any> => o.spec as Record<string, any>;

describe('the network corpus renders Ready and every object is valid upstream', () => {
  test('four services, all Ready, no platform problem', () => {
    assert.deepEqual(platform.problems, []);
    assert.deepEqual(platform.services.map((s) => `${s.key} ${s.status.phase}`).sort(), ['media/catalog Ready', 'media/indexer Ready', 'media/player Ready', 'media/resolver Ready']);
  });

  test('every derived object validates against its upstream schema (new kinds included)', () => {
    const kinds = new Set<string>();
    for (const o of [...platform.platformObjects, ...platform.services.flatMap((s) => s.objects)]) {
      assert.deepEqual(validateObject(o), [], `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      kinds.add(`${o.apiVersion} ${o.kind}`);
    }
    for (const k of ['gateway.networking.k8s.io/v1 GRPCRoute', 'gateway.networking.k8s.io/v1alpha2 TCPRoute', 'gateway.networking.k8s.io/v1 HTTPRoute', 'gateway.networking.k8s.io/v1 Gateway', 'security.istio.io/v1 PeerAuthentication', 'operator.victoriametrics.com/v1beta1 VMRule', 'cert-manager.io/v1 Certificate', 'networking.istio.io/v1 ServiceEntry']) {
      assert.ok(kinds.has(k), `${k} derived and validated`);
    }
  });
});

describe('external services (reference item 5) and ${secret.R.K} (item 7)', () => {
  const indexer = byName('media/indexer');

  test('Cilium egress: host:port as TCP by name, udp:// as UDP, addresses by CIDR, the entity by toEntities, and the DNS names to look up', () => {
    const egress = spec(objectOf(indexer, 'CiliumNetworkPolicy')).egress as Record<string, any>[];
    assert.deepEqual(egress[0]!.toPorts[0].rules.dns, [{ matchName: 'api.nzbgeek.info' }, { matchName: 'mirror.example.org' }, { matchName: 'time.example.org' }]);
    const rest = egress.slice(1);
    assert.deepEqual(rest, [
      { toFQDNs: [{ matchName: 'api.nzbgeek.info' }, { matchName: 'mirror.example.org' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
      { toEntities: ['kube-apiserver'], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
      { toFQDNs: [{ matchName: 'time.example.org' }], toPorts: [{ ports: [{ port: '123', protocol: 'UDP' }] }] },
      { toCIDR: ['10.20.30.40/32', '10.20.30.41/32'], toPorts: [{ ports: [{ port: '5432', protocol: 'TCP' }] }] },
    ]);
  });

  test('ServiceEntries: DNS for the host:port, one STATIC entry for both addresses, NONE for the passthrough, none for UDP or the entity', () => {
    const entries = indexer.objects.filter((o) => o.kind === 'ServiceEntry').map((o) => [o.metadata.name, spec(o)] as const);
    assert.deepEqual(entries.map(([n]) => n).sort(), ['indexer-database', 'indexer-mirror', 'indexer-nzbgeek']);
    const get = (n: string): Record<string, any> => entries.find(([x]) => x === n)![1];
    assert.deepEqual(get('indexer-nzbgeek'), { hosts: ['api.nzbgeek.info'], ports: [{ number: 443, name: 'tcp-443', protocol: 'TCP' }], location: 'MESH_EXTERNAL', resolution: 'DNS', exportTo: ['.'] });
    assert.deepEqual(get('indexer-database'), {
      hosts: ['database.indexer.media.lattice.external'], addresses: ['10.20.30.40', '10.20.30.41'], ports: [{ number: 5432, name: 'tcp-5432', protocol: 'TCP' }],
      location: 'MESH_EXTERNAL', resolution: 'STATIC', endpoints: [{ address: '10.20.30.40' }, { address: '10.20.30.41' }], exportTo: ['.'],
    });
    assert.deepEqual(get('indexer-mirror'), { hosts: ['mirror.example.org'], ports: [{ number: 443, name: 'tls-443', protocol: 'TLS' }], location: 'MESH_EXTERNAL', resolution: 'NONE', exportTo: ['.'] });
  });

  test('placeholders: ${resources.R.host|url|port} of map endpoints; ${secret.R.K} read by reference (secretKeyRef or a templated ExternalSecret), never as a value', () => {
    const container = spec(objectOf(indexer, 'Deployment')).template.spec.containers[0];
    const byEnv = Object.fromEntries((container.env as { name: string; value?: string; valueFrom?: any }[]).map((e) => [e.name, e]));
    const config = indexer.objects.find((o) => o.kind === 'ConfigMap' && JSON.stringify(o).includes('NZB_HOST'))!;
    assert.deepEqual(config.data, { NZB_HOST: 'api.nzbgeek.info', NZB_URL: 'tcp://api.nzbgeek.info:443' });
    assert.deepEqual(byEnv.NZB_API_KEY!.valueFrom, { secretKeyRef: { name: 'indexer-nzb-credentials', key: 'api-key' } });
    assert.deepEqual(byEnv.DB_DSN!.valueFrom, { secretKeyRef: { name: 'indexer-main-secret-env', key: 'DB_DSN' } });
    // The secret value is never in a derived object: only the ESO template that reads it.
    const dsn = spec(objectOf(indexer, 'ExternalSecret', 'indexer-main-secret-env'));
    assert.equal(dsn.target.template.data.DB_DSN, 'postgres://indexer:{{ index . "nzb-credentials.db-password" }}@10.20.30.40:5432/indexer');
    assert.deepEqual(dsn.data, [{ secretKey: 'nzb-credentials.db-password', remoteRef: { key: 'media/indexer', property: 'db-password' } }]);
  });
});

describe('ingress (reference item 6)', () => {
  const catalog = byName('media/catalog');

  test('HTTPRoute: rules/matches as written (path, method, RegularExpression header), issuerRef certificate, on the public gateway', () => {
    const route = spec(objectOf(catalog, 'HTTPRoute', 'catalog-web'));
    assert.deepEqual(route.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateways', sectionName: 'www.media.example.com' }]);
    assert.deepEqual(route.rules, [{
      matches: [
        { path: { type: 'PathPrefix', value: '/api' }, method: 'GET' },
        { path: { type: 'Exact', value: '/upload' }, headers: [{ type: 'RegularExpression', name: 'x-client', value: '^web-[0-9]+$' }], method: 'POST' },
      ],
      backendRefs: [{ group: '', kind: 'Service', name: 'catalog', port: 80 }],
    }]);
    assert.deepEqual(spec(objectOf(catalog, 'Certificate', 'catalog-web')), { secretName: 'catalog-web-tls', dnsNames: ['www.media.example.com'], issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt-prod' } });
  });

  test('GRPCRoute v1 with method matches, the team certificate served (no Certificate derived) and granted to the gateway; the port speaks gRPC', () => {
    const route = spec(objectOf(catalog, 'GRPCRoute', 'catalog-rpc'));
    assert.equal(objectOf(catalog, 'GRPCRoute').apiVersion, 'gateway.networking.k8s.io/v1');
    assert.deepEqual(route.rules, [{ matches: [{ method: { type: 'Exact', service: 'media.v1.Catalog', method: 'Search' } }, { method: { type: 'Exact', service: 'media.v1.Catalog' } }], backendRefs: [{ group: '', kind: 'Service', name: 'catalog', port: 9090 }] }]);
    assert.equal(catalog.objects.some((o) => o.kind === 'Certificate' && o.metadata.name === 'catalog-rpc'), false);
    assert.deepEqual(spec(objectOf(catalog, 'ReferenceGrant', 'catalog-rpc-tls')).to, [{ group: '', kind: 'Secret', name: 'catalog-rpc-cert' }]);
    const ports = spec(objectOf(catalog, 'Service')).ports as Record<string, unknown>[];
    assert.deepEqual(ports.find((p) => p.name === 'grpc'), { name: 'grpc', port: 9090, targetPort: 9090, protocol: 'TCP', appProtocol: 'grpc' });
    assert.equal(ports.find((p) => p.name === 'http')!.appProtocol, undefined);
  });

  test('TCPRoute v1alpha2 on listener tcp-<listenPort>; the Gateways get one listener per host and per listen port, each admitting its route kind from media only', () => {
    const tcp = objectOf(catalog, 'TCPRoute', 'catalog-db');
    assert.equal(tcp.apiVersion, 'gateway.networking.k8s.io/v1alpha2');
    assert.deepEqual(spec(tcp), { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'internal', namespace: 'gateways', sectionName: 'tcp-15432' }], rules: [{ backendRefs: [{ group: '', kind: 'Service', name: 'catalog', port: 5432 }] }] });
    const internal = platform.platformObjects.find((o) => o.kind === 'Gateway' && o.metadata.name === 'internal')!;
    const media = { namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'media' } } } };
    assert.deepEqual(spec(internal).listeners, [
      { name: 'rpc.media.example.com', hostname: 'rpc.media.example.com', port: 443, protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'catalog-rpc-cert', namespace: 'media' }] }, allowedRoutes: { ...media, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' }] } },
      { name: 'tcp-15432', port: 15432, protocol: 'TCP', allowedRoutes: { ...media, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }] } },
    ]);
  });

  test('the mesh admits each gateway on the ports its routes use, and nothing else', () => {
    const ap = spec(objectOf(catalog, 'AuthorizationPolicy'));
    const gatewayRules = (ap.rules as any[]).filter((r) => String(r.from[0].source.principals[0]).includes('/ns/gateways/'));
    assert.deepEqual(gatewayRules, [
      { from: [{ source: { principals: ['cluster.local/ns/gateways/sa/internal-istio'] } }], to: [{ operation: { ports: ['9090'] } }] },
      { from: [{ source: { principals: ['cluster.local/ns/gateways/sa/internal-istio'] } }], to: [{ operation: { ports: ['5432'] } }] },
      { from: [{ source: { principals: ['cluster.local/ns/gateways/sa/public-istio'] } }], to: [{ operation: { ports: ['8080'] } }] },
    ]);
  });
});

describe('exposed Service (serviceType, hostnames, publishDns, service.tls)', () => {
  const resolver = byName('media/resolver');

  test('LoadBalancer keeping client addresses, external-dns annotation, certificate mounted read-only', () => {
    const svc = objectOf(resolver, 'Service');
    assert.equal(svc.metadata.annotations?.['external-dns.alpha.kubernetes.io/hostname'], 'dns.media.example.com');
    assert.equal(spec(svc).type, 'LoadBalancer');
    assert.equal(spec(svc).externalTrafficPolicy, 'Local');
    assert.deepEqual(spec(objectOf(resolver, 'Certificate')), { secretName: 'resolver-tls', dnsNames: ['dns.media.example.com'], issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: 'media-issuer' } });
    const pod = spec(objectOf(resolver, 'Deployment')).template.spec;
    assert.deepEqual(pod.volumes.find((v: any) => v.name === 'lattice-service-tls'), { name: 'lattice-service-tls', secret: { secretName: 'resolver-tls' } });
    assert.deepEqual(pod.containers[0].volumeMounts.find((m: any) => m.name === 'lattice-service-tls'), { name: 'lattice-service-tls', mountPath: '/etc/lattice/tls', readOnly: true });
  });

  test('the mesh: world on the exposed pod ports (Cilium), plain text on the TCP one only (PeerAuthentication, AuthorizationPolicy)', () => {
    const cnp = spec(objectOf(resolver, 'CiliumNetworkPolicy'));
    assert.deepEqual(cnp.ingress.at(-1), { fromEntities: ['world'], toPorts: [{ ports: [{ port: '8853', protocol: 'TCP' }, { port: '8053', protocol: 'UDP' }] }] });
    assert.deepEqual(spec(objectOf(resolver, 'PeerAuthentication')), { selector: { matchLabels: { 'app.kubernetes.io/name': 'resolver' } }, mtls: { mode: 'UNSET' }, portLevelMtls: { 8853: { mode: 'PERMISSIVE' } } });
    assert.deepEqual((spec(objectOf(resolver, 'AuthorizationPolicy')).rules as any[]).at(-1), { from: [{ source: { notPrincipals: ['*'] } }], to: [{ operation: { ports: ['8853'] } }] });
  });
});

describe('advertise, metrics.mappings, deploy.canary (reference item 9)', () => {
  test('advertise: the Service is global; the east-west gateway may reach the pods on 15008; the listed principals (or any, behind AllowWildcard) on the service ports', () => {
    const player = byName('media/player');
    assert.equal(objectOf(player, 'Service').metadata.labels?.['istio.io/global'], 'true');
    const peers = spec(objectOf(player, 'CiliumNetworkPolicy')).ingress[0];
    assert.deepEqual(peers.toPorts, [{ ports: [{ port: '15008', protocol: 'TCP' }] }]);
    assert.ok(peers.fromEndpoints.some((e: any) => e.matchLabels['k8s:gateway.networking.k8s.io/gateway-name'] === 'istio-eastwest' && e.matchLabels['k8s:io.kubernetes.pod.namespace'] === 'istio-system' && e.matchLabels['k8s:io.cilium.k8s.policy.serviceaccount'] === 'istio-eastwest'));
    assert.deepEqual((spec(objectOf(player, 'AuthorizationPolicy')).rules as any[]).find((r) => r.from[0].source.principals?.[0]?.includes('haproxy')), { from: [{ source: { principals: ['cluster.local/ns/edge/sa/haproxy-fw'] } }], to: [{ operation: { ports: ['8096'] } }] });
    const catalog = byName('media/catalog');
    assert.deepEqual((spec(objectOf(catalog, 'AuthorizationPolicy')).rules as any[]).find((r) => r.from[0].source.principals?.[0] === '*'), { from: [{ source: { principals: ['*'] } }], to: [{ operation: { ports: ['8080', '9090', '5432', '9102'] } }] });
  });

  test('metrics.mappings: recording rules with $SELECTORS resolved; canary: stepWeight as maxSurge, interval as minReadySeconds', () => {
    const catalog = byName('media/catalog');
    const rules = spec(objectOf(catalog, 'VMRule', 'catalog-metrics')).groups[0].rules;
    assert.deepEqual(rules[1], { record: 'lattice:catalog:request_rate', expr: 'sum(rate(http_requests_total{namespace="media",service="catalog"}[5m]))', labels: { namespace: 'media', service: 'catalog' } });
    const dep = spec(objectOf(catalog, 'Deployment'));
    assert.deepEqual(dep.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    assert.equal(dep.minReadySeconds, 90);
  });
});

describe('each new way in or out is refused without its permit, claim or setting (fail closed)', () => {
  const failed = (r: PlatformResult, key: string): ServiceResult => {
    const s = resultOf(r, key);
    assert.equal(s.status.phase, 'Failed', `${key} should fail`);
    assert.equal(s.objects.length, 0, 'all-or-nothing: nothing derived');
    return s;
  };

  test('Cedar: each endpoint form, host, listen port, exposed Service and advertise wildcard needs its own permit', () => {
    const cases: [string, (t: string) => string, string, string][] = [
      ['entity', (t) => t.replace(/\s*\|\|\s*resource == Lattice::ExternalEndpoint::"entity:kube-apiserver:443"/, ''), 'media/indexer', 'entity:kube-apiserver:443'],
      ['udp', (t) => t.replace(/resource == Lattice::ExternalEndpoint::"udp:\/\/time\.example\.org:123" \|\|/, ''), 'media/indexer', 'udp://time.example.org:123'],
      ['host:port', (t) => t.replace(/resource == Lattice::ExternalEndpoint::"tcp:\/\/api\.nzbgeek\.info:443" \|\|/, ''), 'media/indexer', 'tcp://api.nzbgeek.info:443'],
      ['listen port', (t) => t.replace(' || resource.kind == "TCPRoute"', ''), 'media/catalog', 'tcp:internal:15432'],
      ['exposed Service', (t) => t.replace('@id("exposed-dns")', '@id("exposed-dns")\nforbid (principal, action, resource) when { resource is Lattice::Route && resource.kind == "LoadBalancer" };\n@id("x")'), 'media/resolver', 'dns.media.example.com'],
      ['advertise *', (t) => t.replace(/@id\("advertise-any"\)[\s\S]*$/, ''), 'media/catalog', 'Mesh advertise'],
    ];
    for (const [what, change, key, named] of cases) {
      const s = failed(render(withPolicies(change)), key);
      const authz = s.status.conditions.find((c) => c.type === 'PolicyAuthorized');
      assert.equal(authz?.status, 'False', what);
      assert.ok(authz!.message.includes(named), `${what}: ${authz!.message}`);
    }
  });

  test('a listen port or a Service hostname another service holds is refused (HostAlreadyClaimed), as hosts are', () => {
    const r = render((o) => {
      if (o.kind === 'LatticeService' && (o.metadata as { name: string }).name === 'player') {
        const s = o.spec as Record<string, any>;
        delete s.advertise;
        s.ingress = { routes: { steal: { kind: 'TCPRoute', port: 'http', listenPort: 15432 } } };
      }
      if (o.kind === 'LatticeService' && (o.metadata as { name: string }).name === 'indexer') {
        (o.spec as Record<string, any>).workload.service = { serviceType: 'NodePort', hostnames: ['dns.media.example.com'], ports: { http: { port: 8989 } } };
      }
      if (o.kind === 'CedarPolicy') (o.spec as { policies: string }).policies += '\npermit (principal, action == Lattice::Action::"ExposeRoute", resource);';
      return o;
    });
    const player = failed(r, 'media/player');
    assert.match(player.status.message ?? '', /listen port 15432 \(internal\) of route steal is already served by service media\/catalog/);
    // Without creation times the claims are ordered by namespace/name: media/indexer owns the name now.
    assert.equal(resultOf(r, 'media/indexer').status.phase, 'Ready');
    const resolver = failed(r, 'media/resolver');
    assert.match(resolver.status.message ?? '', /hostname dns\.media\.example\.com is already served by service media\/indexer/);
    assert.equal(resultOf(r, 'media/catalog').status.phase, 'Ready');
  });

  test('platform settings: another gatewayClass, tls {} without an issuer, advertise without an east-west gateway', () => {
    const klass = failed(render(editService('catalog', (s) => { s.ingress.gatewayClass = 'cilium'; })), 'media/catalog');
    assert.equal(conditionOf(klass, 'PlatformSupported').reason, 'GatewayClassMismatch');
    const noIssuer = render((o) => {
      if (o.kind === 'LatticePlatform') delete ((o.spec as any).gateways.internal).clusterIssuer;
      return editService('player', (s) => { delete s.advertise; s.ingress = { routes: { web: { hosts: ['player.media.example.com'], tls: {} } } }; })(o);
    });
    assert.equal(conditionOf(failed(noIssuer, 'media/player'), 'PlatformSupported').reason, 'TLSIssuerNotConfigured');
    const noEw = render((o) => {
      if (o.kind === 'LatticePlatform') delete (o.spec as any).mesh.eastWestGateway;
      return o;
    });
    assert.equal(conditionOf(failed(noEw, 'media/player'), 'PlatformSupported').reason, 'AdvertiseNotConfigured');
  });

  test('schema: mesh-bypassing entities, static with a host name, ${secret.*} of a non-secret, TCP with hosts, grpcMethod on HTTP, ingress with a LoadBalancer', () => {
    const problems = (key: string, change: (s: Record<string, any>) => void): string => {
      const s = failed(render(editService(key, change)), `media/${key}`);
      return s.status.conditions.map((c) => c.message).join('\n');
    };
    assert.match(problems('indexer', (s) => { s.workload.resources.kubernetes.params.endpoints.apiserver = 'entity:cluster'; }), /Cilium entity "cluster", which is not allowed here/);
    assert.match(problems('indexer', (s) => { s.workload.resources.database.params.endpoints.primary = 'tcp://db.example.com:5432'; }), /resolution static needs addresses/);
    assert.match(problems('indexer', (s) => { s.workload.containers.main.variables.NZB_HOST = '${secret.nzbgeek.host}'; }), /reads resource "nzbgeek" as a secret, but it is of type external-service/);
    assert.match(problems('catalog', (s) => { s.ingress.routes.db.hosts = ['db.media.example.com']; }), /a TCPRoute matches no host names/);
    assert.match(problems('catalog', (s) => { s.ingress.routes.web.rules[0].matches[0].grpcMethod = { service: 'a.B' }; }), /grpcMethod matches GRPCRoute only/);
    assert.match(problems('catalog', (s) => { s.workload.service.serviceType = 'LoadBalancer'; }), /choose one/);
  });
});


describe('endpoint forms, parsed once for the mesh, the placeholders and Cedar', () => {
  test('each form and its Cedar id; refusals name the fix', () => {
    const ok = (text: string): Record<string, unknown> => {
      const p = parseExternalEndpoint(text);
      assert.ok(!('error' in p), `${text}: ${'error' in p ? p.error : ''}`);
      return p as unknown as Record<string, unknown>;
    };
    assert.deepEqual(ok('api.nzbgeek.info:443'), { form: 'host-port', scheme: 'tcp', host: 'api.nzbgeek.info', ip: false, port: 443, protocol: 'TCP', id: 'tcp://api.nzbgeek.info:443' });
    assert.deepEqual(ok('[2001:db8::1]:53'), { form: 'host-port', scheme: 'tcp', host: '2001:db8::1', ip: true, port: 53, protocol: 'TCP', id: 'tcp://[2001:db8::1]:53' });
    assert.deepEqual(ok('UDP://Time.Example.org.:123'), { form: 'url', scheme: 'udp', host: 'time.example.org', ip: false, port: 123, protocol: 'UDP', id: 'udp://time.example.org:123' });
    assert.deepEqual(ok('https://api.stripe.com/v1/charges'), { form: 'url', scheme: 'https', host: 'api.stripe.com', ip: false, port: 443, protocol: 'TCP', id: 'https://api.stripe.com:443' });
    assert.deepEqual(ok('entity:world'), { form: 'entity', scheme: 'entity', entity: 'world', host: 'world', ip: false, port: 0, protocol: 'ANY', id: 'entity:world' });
    const refused = (text: string): string => {
      const p = parseExternalEndpoint(text);
      assert.ok('error' in p, `${text} should be refused`);
      return p.error;
    };
    assert.match(refused('udp://ntp.example.org'), /needs a port for scheme udp/);
    assert.match(refused('https://user:pw@api.example.com'), /carries credentials in the URL/);
    assert.match(refused('api.example.com'), /write a URL .*host:port/);
    assert.match(refused('entity:all'), /not allowed here/);
    assert.match(refused('entity:kube-apiserver:70000'), /not between 1 and 65535/);
    assert.match(refused('ftp://files.example.com:21'), /has scheme "ftp"/);
  });
});
