/**
 * The mesh stage field by field: the CiliumNetworkPolicy, AuthorizationPolicy and ServiceEntries of a
 * service, the platform baseline, the DependenciesAgreed / InboundRestricted conditions with the lines
 * each owner must add, the mesh settings, and schema validity of every derived mesh object.
 * (Which traffic the policies allow, as a whole, is proven in mesh-policy.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionOf, deriveObjects, deriveYaml, objectOf, resultOf, service } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import { BASELINE_NAMES, excludedNamespaces, prometheusNamespace } from '../src/compiler/platform/baseline.ts';
import { declarationHint, deriveMesh, externalEndpoints, podPorts } from '../src/compiler/mesh/mesh.ts';
import { defaultPlatformSettings, latticePlatformSchema, scraperIdentity } from '../src/api/latticeplatform/v1alpha1.ts';
import { latticeServiceSchema } from '../src/api/latticeservice/v1alpha1.ts';
import type { DerivationContext, DerivationState, KubeObject } from '../src/compiler/types.ts';

/**
 * The metrics scraper (default mesh.metricsScraper: the VictoriaMetrics operator's pods of VMAgent
 * vmagent, ServiceAccount vmagent-vmagent): a Cilium peer on the HBONE port, an Istio rule on the
 * metrics port only.
 */
const scraperSelector = { matchLabels: { 'k8s:app.kubernetes.io/name': 'vmagent', 'k8s:app.kubernetes.io/instance': 'vmagent', 'k8s:io.kubernetes.pod.namespace': 'monitoring', 'k8s:io.cilium.k8s.policy.serviceaccount': 'vmagent-vmagent' } };
const scraperIstio = (port: string): unknown => ({ from: [{ source: { principals: ['cluster.local/ns/monitoring/sa/vmagent-vmagent'] } }], to: [{ operation: { ports: [port] } }] });
/** ztunnel's HBONE port: the only port peers reach a service's pods on, at L4. */
const HBONE = [{ ports: [{ port: '15008', protocol: 'TCP' }] }];

const MESH_KINDS = ['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'AuthorizationPolicy', 'PeerAuthentication', 'ServiceEntry'];

const platformDoc = (spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec });

const YAML = `apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: checkout, namespace: shop}
spec:
  workload:
    containers:
      web: {image: "registry.example.com/app@sha256:${'a'.repeat(64)}", resources: {limits: {cpu: 500m, memory: 256Mi}}}
    service:
      ports:
        http: {port: 80, targetPort: 8080}
    resources:
      orders: {type: service}
      payments: {type: service, namespace: billing}
      ghost: {type: service}
      stripe: {type: external-service, params: {endpoints: ["https://api.stripe.com", "tcp://db.example.com:5432", "http://api.stripe.com:8080"]}}
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: orders, namespace: shop}
spec:
  workload:
    containers:
      api: {image: "registry.example.com/app@sha256:${'a'.repeat(64)}", resources: {limits: {cpu: 500m, memory: 256Mi}}}
    service:
      ports:
        http: {port: 8080}
        grpc: {port: 9090, protocol: TCP}
    resources:
      checkout: {type: service, direction: inbound}
      audit: {type: service, direction: inbound}
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: payments, namespace: billing}
spec:
  workload:
    containers:
      api: {image: "registry.example.com/app@sha256:${'a'.repeat(64)}", resources: {limits: {cpu: 500m, memory: 256Mi}}}
    service:
      ports:
        http: {port: 8443}
    resources:
      checkout: {type: volume}
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: audit, namespace: shop}
spec:
  workload:
    containers:
      api: {image: "registry.example.com/app@sha256:${'a'.repeat(64)}", resources: {limits: {cpu: 500m, memory: 256Mi}}}
`;

const platform = deriveYaml(YAML, 'shop.yaml');
const checkout = resultOf(platform, 'shop/checkout');
const orders = resultOf(platform, 'shop/orders');
const payments = resultOf(platform, 'billing/payments');
const audit = resultOf(platform, 'shop/audit');

test('every derived mesh object validates against the Cilium CRDs and the Istio schemas', () => {
  const objects = [...platform.platformObjects, ...platform.services.flatMap((s) => s.objects)].filter((o) => MESH_KINDS.includes(o.kind));
  assert.ok(objects.length >= 10, `mesh objects derived: ${objects.map((o) => o.kind).join(', ')}`);
  for (const o of objects) assertValid(o);
});

test('CiliumNetworkPolicy of a callee: default deny both ways, ingress only from agreed callers and the scraper on the HBONE port', () => {
  const cnp = objectOf(orders, 'CiliumNetworkPolicy', 'orders');
  assert.equal(cnp.apiVersion, 'cilium.io/v2');
  assert.equal(cnp.metadata.namespace, 'shop');
  assert.equal(cnp.metadata.labels?.['lattice.dev/service'], 'orders');
  const spec = cnp.spec as Record<string, unknown>;
  assert.deepEqual(spec.endpointSelector, { matchLabels: { 'k8s:app.kubernetes.io/name': 'orders' } });
  assert.deepEqual(spec.enableDefaultDeny, { ingress: true, egress: true });
  // checkout is agreed; audit is accepted but does not call orders, so it is not a source.
  // The metrics scraper reads the first port (no port is named metrics), and only that one.
  // In ambient mode every peer arrives through ztunnel's tunnel on 15008; the ports are Istio's to check.
  assert.deepEqual(spec.ingress, [{
    fromEndpoints: [{ matchLabels: { 'k8s:app.kubernetes.io/name': 'checkout', 'k8s:io.kubernetes.pod.namespace': 'shop', 'k8s:io.cilium.k8s.policy.serviceaccount': 'checkout' } }, scraperSelector],
    toPorts: HBONE,
  }]);
});

test('CiliumNetworkPolicy of a caller: egress to DNS (exact names), agreed callees on the HBONE port and external endpoints only', () => {
  const spec = objectOf(checkout, 'CiliumNetworkPolicy', 'checkout').spec as { ingress?: unknown; egress: unknown[] };
  // Nobody calls checkout: the only ingress is the metrics scraper.
  assert.deepEqual(spec.ingress, [{ fromEndpoints: [scraperSelector], toPorts: HBONE }]);
  assert.deepEqual(spec.egress, [
    {
      toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }],
      toPorts: [{
        ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }],
        // orders is agreed; payments does not accept checkout and ghost does not exist: no names for them.
        // In ambient mode the pods never talk to istiod (ztunnel does): no name and no rule for it.
        rules: { dns: [{ matchName: 'api.stripe.com' }, { matchName: 'db.example.com' }, { matchName: 'orders.shop.svc.cluster.local' }] },
      }],
    },
    { toEndpoints: [{ matchLabels: { 'k8s:app.kubernetes.io/name': 'orders', 'k8s:io.kubernetes.pod.namespace': 'shop' } }], toPorts: HBONE },
    { toFQDNs: [{ matchName: 'api.stripe.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
    { toFQDNs: [{ matchName: 'db.example.com' }], toPorts: [{ ports: [{ port: '5432', protocol: 'TCP' }] }] },
    { toFQDNs: [{ matchName: 'api.stripe.com' }], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] },
  ]);
});

test('AuthorizationPolicy: ALLOW the SPIFFE principals of agreed callers on the container ports; none without callers', () => {
  const ap = objectOf(orders, 'AuthorizationPolicy', 'orders');
  assert.equal(ap.apiVersion, 'security.istio.io/v1');
  assert.equal(ap.metadata.namespace, 'shop');
  assert.deepEqual(ap.spec, {
    selector: { matchLabels: { 'app.kubernetes.io/name': 'orders' } },
    action: 'ALLOW',
    rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/checkout'] } }], to: [{ operation: { ports: ['8080', '9090'] } }] }, scraperIstio('8080')],
  });
  // Without agreed callers, only the scraper is allowed in.
  assert.deepEqual((objectOf(checkout, 'AuthorizationPolicy').spec as { rules: unknown }).rules, [scraperIstio('8080')]);
  assert.deepEqual((objectOf(payments, 'AuthorizationPolicy').spec as { rules: unknown }).rules, [scraperIstio(String(((payments.objects.find((o) => o.kind === 'Service')!.spec as { ports: { targetPort: number }[] }).ports[0]!.targetPort)))]);
});

test('ServiceEntry per external host, exported to the service namespace only, protocol from the scheme', () => {
  const entries = checkout.objects.filter((o) => o.kind === 'ServiceEntry');
  assert.deepEqual(entries.map((e) => e.metadata.name), ['checkout-stripe-api-stripe-com', 'checkout-stripe-db-example-com']);
  assert.deepEqual(entries[0]!.spec, {
    hosts: ['api.stripe.com'],
    ports: [{ number: 443, name: 'tls-443', protocol: 'TLS' }, { number: 8080, name: 'http-8080', protocol: 'HTTP' }],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    exportTo: ['.'],
  });
  assert.deepEqual(entries[1]!.spec, { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp-5432', protocol: 'TCP' }], location: 'MESH_EXTERNAL', resolution: 'DNS', exportTo: ['.'] });
  assert.equal(entries[0]!.metadata.namespace, 'shop');
});

test('an external IP address derives toCIDR and a STATIC ServiceEntry', () => {
  const r = resultOf(deriveObjects([service('etl', { workload: { resources: { warehouse: { type: 'external-service', params: { endpoints: ['tcp://10.1.2.3:5439'] } } } } })]), 'shop/etl');
  const egress = (objectOf(r, 'CiliumNetworkPolicy').spec as { egress: Record<string, unknown>[] }).egress;
  assert.deepEqual(egress.at(-1), { toCIDR: ['10.1.2.3/32'], toPorts: [{ ports: [{ port: '5439', protocol: 'TCP' }] }] });
  const se = objectOf(r, 'ServiceEntry', 'etl-warehouse');
  assert.deepEqual(se.spec, {
    hosts: ['warehouse.etl.shop.lattice.external'],
    addresses: ['10.1.2.3'],
    ports: [{ number: 5439, name: 'tcp-5439', protocol: 'TCP' }],
    location: 'MESH_EXTERNAL',
    resolution: 'STATIC',
    endpoints: [{ address: '10.1.2.3' }],
    exportTo: ['.'],
  });
  assertValid(se);
  assertValid(objectOf(r, 'CiliumNetworkPolicy'));
  // An IP needs no DNS name, and a service that needs no name gets no DNS rule at all (an empty
  // rules.dns list would let every name through).
  assert.deepEqual(egress, [{ toCIDR: ['10.1.2.3/32'], toPorts: [{ ports: [{ port: '5439', protocol: 'TCP' }] }] }]);
});

test('one-sided and unknown dependencies: warnings on both sides with the exact line to add, the service stays Ready', () => {
  assert.equal(checkout.status.phase, 'Ready');
  assert.equal(payments.status.phase, 'Ready');
  const byReason = (r: typeof checkout): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const d of r.diagnostics.filter((x) => x.condition === 'DependenciesAgreed')) {
      assert.equal(d.severity, 'warning');
      (out[d.reason] ??= []).push(`${d.path} @${d.location?.line}: ${d.message}`);
    }
    return out;
  };
  const c = byReason(checkout);
  assert.deepEqual(Object.keys(c).sort(), ['InboundNotDeclared', 'ServiceNotFound']);
  // payments already has a resource named checkout (a volume): the hint picks another name and sets id.
  assert.deepEqual(c.InboundNotDeclared, [
    'spec.workload.resources.payments @13: this service declares that it calls billing/payments, but billing/payments does not accept calls from it, so both network layers deny that traffic. ' +
      'The owners of billing/payments must add under spec.workload.resources: `shop-checkout: {type: service, direction: inbound, id: checkout, namespace: shop}`. This service is still deployed and Ready; only this dependency is denied.',
  ]);
  assert.match(c.ServiceNotFound![0]!, /^spec\.workload\.resources\.ghost @14: this service declares that it calls shop\/ghost, but no service shop\/ghost is among the services Lattice sees;/);

  const p = byReason(payments);
  assert.deepEqual(p, {
    InboundNotDeclared: [
      'spec.workload.resources @42: shop/checkout declares that it calls this service (its resources.payments), but this service does not accept it, so that traffic is denied. ' +
        'To accept it, add under spec.workload.resources: `shop-checkout: {type: service, direction: inbound, id: checkout, namespace: shop}`; if not, ask the owners of shop/checkout to remove the dependency. This service is still deployed and Ready; only this dependency is denied.',
    ],
  });
  const o = byReason(orders);
  assert.deepEqual(o, {
    OutboundNotDeclared: [
      'spec.workload.resources.audit @30: this service accepts calls from shop/audit, but shop/audit does not declare that it calls this service, so no traffic from it is allowed. ' +
        'The owners of shop/audit must add under spec.workload.resources: `orders: {type: service, direction: outbound}`; or remove this resource if the call is not wanted. This service is still deployed and Ready; only this dependency is denied.',
    ],
  });
  const a = byReason(audit);
  assert.deepEqual(Object.keys(a), ['OutboundNotDeclared']);
  assert.match(a.OutboundNotDeclared![0]!, /^spec\.workload\.resources @\d+: shop\/orders accepts calls from this service \(its resources\.audit\), but this service does not declare that it calls shop\/orders, so that traffic is denied\. If this service calls it, add under spec\.workload\.resources: `orders: \{type: service, direction: outbound\}`/);

  // The condition: False with the first reason, every message joined; Ready stays True and says there are warnings.
  const cond = conditionOf(checkout, 'DependenciesAgreed');
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'InboundNotDeclared');
  assert.match(cond.message, /^2 problems: shop\.yaml:13:7 spec\.workload\.resources\.payments: this service declares/);
  const ready = conditionOf(checkout, 'Ready');
  assert.equal(ready.status, 'True');
  assert.match(ready.message, /2 warnings: see the other conditions/);
});

test('DependenciesAgreed is True (AllAgreed) when every edge is agreed, and says so when there are none', () => {
  const p = deriveObjects([
    service('a', { workload: { resources: { b: { type: 'service', direction: 'both' } }, service: { ports: { http: { port: 80 } } } } }),
    service('b', { workload: { resources: { a: { type: 'service', direction: 'both' } }, service: { ports: { http: { port: 80 } } } } }),
    service('c'),
  ]);
  assert.deepEqual(conditionOf(resultOf(p, 'shop/a'), 'DependenciesAgreed'), { ...conditionOf(resultOf(p, 'shop/a'), 'DependenciesAgreed'), status: 'True', reason: 'AllAgreed', message: 'All 2 service dependencies are declared by both sides.' });
  const c = conditionOf(resultOf(p, 'shop/c'), 'DependenciesAgreed');
  assert.equal(c.status, 'True');
  assert.equal(c.message, 'This service declares no service dependencies and no service declares it.');
});

test('a dependency on a service that fails validation is reported as ServiceInvalid', () => {
  const p = deriveObjects([service('a', { workload: { resources: { b: { type: 'service' } } } }), service('b', { replicas: -1 })]);
  const d = resultOf(p, 'shop/a').diagnostics.find((x) => x.condition === 'DependenciesAgreed')!;
  assert.equal(d.reason, 'ServiceInvalid');
  assert.match(d.message, /shop\/b exists but fails validation, so it has no policies/);
  assert.equal(resultOf(p, 'shop/b').status.phase, 'Failed');
});

const WILDCARD_FLEET = [
  service('catalog', { workload: { service: { ports: { http: { port: 8080 } } }, resources: { any: { type: 'service', direction: 'inbound', id: '*' } } } }),
  service('web', { workload: { resources: { catalog: { type: 'service' } } } }),
  service('report', { workload: { resources: { catalog: { type: 'service', namespace: 'shop' } } } }, 'ops'),
  service('idle'),
];

test('an inbound wildcard permitted by the platform policies accepts callers that declare the service, named one by one', () => {
  const p = deriveObjects(WILDCARD_FLEET);
  const catalog = resultOf(p, 'shop/catalog');
  const ap = objectOf(catalog, 'AuthorizationPolicy');
  assert.deepEqual((ap.spec as { rules: { from: { source: { principals: string[] } }[] }[] }).rules[0]!.from[0]!.source.principals, [
    'cluster.local/ns/ops/sa/report',
    'cluster.local/ns/shop/sa/web',
  ]);
  const agreed = conditionOf(catalog, 'DependenciesAgreed');
  assert.equal(agreed.status, 'True');
  assert.equal(agreed.message, "All 2 service dependencies are declared by both sides. 2 callers are accepted through the wildcard resources.any, which the platform's authorization policies permit.");
  assert.equal(catalog.status.phase, 'Ready');
  // The authorization gate decided: nothing left to flag.
  assert.equal(catalog.status.conditions.some((c) => c.type === 'InboundRestricted'), false);
  assert.equal(conditionOf(resultOf(p, 'shop/web'), 'DependenciesAgreed').status, 'True');
});

test('an inbound wildcard the platform policies do not permit fails the service at the authorization gate', () => {
  const policy = {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'CedarPolicy',
    metadata: { name: 'no-wildcards', namespace: 'lattice-system' },
    spec: { policies: 'permit (principal, action, resource) unless { action == Lattice::Action::"AllowWildcard" || action == Lattice::Action::"SkipImageVerification" };' },
  };
  const p = deriveObjects([policy, ...WILDCARD_FLEET]);
  const catalog = resultOf(p, 'shop/catalog');
  assert.equal(catalog.status.phase, 'Failed');
  assert.equal(catalog.objects.length, 0);
  assert.equal(conditionOf(catalog, 'PolicyAuthorized').status, 'False');
  // The callers still see an agreed edge (their policies allow egress to catalog's pods, which do not run).
  assert.equal(resultOf(p, 'shop/web').status.phase, 'Ready');
});

test('without a policy engine an inbound wildcard is allowed and flagged InboundRestricted=False', () => {
  const services = WILDCARD_FLEET.map((o) => latticeServiceSchema.parse(o));
  const ctx = {
    settings: defaultPlatformSettings(),
    services: new Map(services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, { key: `${s.metadata.namespace}/${s.metadata.name}`, service: s }])),
    secretProviders: new Map(),
    imageProviders: [],
    namespaces: {},
    now: '2026-01-01T00:00:00Z',
  } as unknown as DerivationContext;
  const state = {
    key: 'shop/catalog', service: services[0]!, input: { object: WILDCARD_FLEET[0] }, ctx,
    objects: [], diagnostics: [], conditions: new Map(), pod: { containers: {}, volumes: [], imagePullSecrets: [], images: {}, configInputs: {} },
  } as unknown as DerivationState;
  deriveMesh(state);
  assert.deepEqual(state.diagnostics.map((d) => [d.severity, d.condition, d.reason, d.path]), [['warning', 'InboundRestricted', 'WildcardInbound', 'spec.workload.resources.any']]);
  assert.match(state.diagnostics[0]!.message, /no authorization policy engine is configured .* it is allowed and flagged here\. Name each caller with direction: inbound to clear this\. Callers accepted through the wildcard: ops\/report, shop\/web\.$/);
  assert.equal(state.conditions.get('DependenciesAgreed')?.message, 'All 2 service dependencies are declared by both sides. 2 callers are accepted through the wildcard resources.any.');
  assert.equal(state.objects.filter((o) => o.kind === 'AuthorizationPolicy').length, 1);
});

test('a wildcard restricted to a namespace does not accept callers from elsewhere', () => {
  const p = deriveObjects([
    service('catalog', { workload: { service: { ports: { http: { port: 8080 } } }, resources: { any: { type: 'service', direction: 'inbound', id: '*', namespace: 'ops' } } } }),
    service('web', { workload: { resources: { catalog: { type: 'service' } } } }),
  ]);
  assert.deepEqual((objectOf(resultOf(p, 'shop/catalog'), 'AuthorizationPolicy').spec as { rules: unknown }).rules, [scraperIstio('8080')], 'no caller is admitted, only the scraper');
  assert.equal(resultOf(p, 'shop/web').diagnostics.find((d) => d.condition === 'DependenciesAgreed')?.reason, 'InboundNotDeclared');
});

test('declarationHint: `both` when the other direction is already declared, namespace when it differs', () => {
  const svc = (resources: Record<string, unknown>) => latticeServiceSchema.parse(service('orders', { workload: { resources } }));
  assert.equal(declarationHint(svc({ checkout: { type: 'service' } }), 'shop/orders', 'shop/checkout', 'inbound'), 'change spec.workload.resources.checkout.direction to both');
  assert.equal(declarationHint(svc({}), 'shop/orders', 'ops/checkout', 'inbound'), 'add under spec.workload.resources: `checkout: {type: service, direction: inbound, namespace: ops}`');
  assert.equal(declarationHint(svc({ checkout: { type: 'secret' }, 'shop-checkout': { type: 'volume' } }), 'shop/orders', 'shop/checkout', 'inbound'),
    'add under spec.workload.resources: `shop-checkout-2: {type: service, direction: inbound, id: checkout}`');
  assert.equal(declarationHint(undefined, 'shop/orders', 'shop/checkout', 'outbound'), 'add under spec.workload.resources: `checkout: {type: service, direction: outbound}`');
});

test('podPorts and externalEndpoints read the declared ports and URLs', () => {
  const s = latticeServiceSchema.parse(service('x', {
    workload: {
      service: { ports: { http: { port: 80, targetPort: 8080 }, alt: { port: 81, targetPort: 8080, protocol: 'UDP' }, dns: { port: 53, protocol: 'UDP' } } },
      resources: { e: { type: 'external-service', params: { endpoints: ['grpcs://api.example.com', 'tls://[2001:db8::1]:6379', 'http://plain.example.com.'] } } },
    },
  }));
  assert.deepEqual(podPorts(s), [{ port: 8080, protocol: 'TCP' }, { port: 8080, protocol: 'UDP' }, { port: 53, protocol: 'UDP' }]);
  assert.deepEqual(externalEndpoints(s), [
    { resource: 'e', host: 'api.example.com', ip: false, port: 443, scheme: 'grpcs', protocol: 'TCP', resolution: 'dns' },
    { resource: 'e', host: '2001:db8::1', ip: true, port: 6379, scheme: 'tls', protocol: 'TCP', resolution: 'dns' },
    { resource: 'e', host: 'plain.example.com', ip: false, port: 80, scheme: 'http', protocol: 'TCP', resolution: 'dns' },
  ]);
});

test('the platform baseline: cluster-wide default deny outside the platform namespaces, the ambient probe allowance, STRICT mTLS, allow-nothing', () => {
  const baseline = platform.platformObjects.filter((o) => MESH_KINDS.includes(o.kind));
  assert.deepEqual(baseline, [
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: { name: BASELINE_NAMES.defaultDeny, labels: { 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'lattice' } },
      spec: {
        description: 'Derived by Lattice: every pod outside the system namespaces denies all traffic that no policy allows.',
        endpointSelector: {
          matchExpressions: [
            { key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists' },
            { key: 'k8s:io.kubernetes.pod.namespace', operator: 'NotIn', values: ['cert-manager', 'external-secrets', 'istio-system', 'keda', 'kthena-system', 'kube-node-lease', 'kube-public', 'kube-system', 'lattice-system', 'monitoring'] },
          ],
        },
        enableDefaultDeny: { ingress: true, egress: true },
        ingress: [{}],
        egress: [{}],
      },
    },
    {
      // Istio's documented allowance for SNAT-ed kubelet probes under Cilium; never a default deny itself.
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: { name: BASELINE_NAMES.hostProbes, labels: { 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'lattice' } },
      spec: {
        description: 'Derived by Lattice: allows the SNAT-ed kubelet health probes of Istio ambient pods (source 169.254.7.127).',
        endpointSelector: {},
        enableDefaultDeny: { ingress: false, egress: false },
        ingress: [{ fromCIDR: ['169.254.7.127/32'] }],
      },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'istio-system', labels: { 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'lattice' } },
      spec: { mtls: { mode: 'STRICT' } },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'lattice-allow-nothing', namespace: 'istio-system', labels: { 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'lattice' } },
      spec: { action: 'ALLOW' },
    },
  ]);
});

test('mesh settings: trust domain, Istio namespace, DNS pods and system namespaces change the derived policies', () => {
  const p = deriveObjects([
    platformDoc({ mesh: { trustDomain: 'prod.example.org', istioNamespace: 'mesh', systemNamespaces: ['monitoring'], dns: { namespace: 'dns', podLabels: { app: 'coredns' } } } }),
    service('a', { workload: { resources: { b: { type: 'service' } } } }),
    service('b', { workload: { service: { ports: { http: { port: 80 } } }, resources: { a: { type: 'service', direction: 'inbound' } } } }),
  ]);
  const ap = objectOf(resultOf(p, 'shop/b'), 'AuthorizationPolicy');
  assert.deepEqual((ap.spec as { rules: { from: { source: { principals: string[] } }[] }[] }).rules[0]!.from[0]!.source.principals, ['prod.example.org/ns/shop/sa/a']);
  const egress = (objectOf(resultOf(p, 'shop/a'), 'CiliumNetworkPolicy').spec as { egress: { toEndpoints: unknown[]; toPorts: { rules?: { dns: unknown[] } }[] }[] }).egress;
  assert.deepEqual(egress[0]!.toEndpoints, [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'dns', 'k8s:app': 'coredns' } }]);
  assert.deepEqual(egress[0]!.toPorts[0]!.rules!.dns, [{ matchName: 'b.shop.svc.cluster.local' }]);
  assert.equal(egress.length, 2, 'DNS and the callee b; nothing for istiod');
  const [deny, , peer, nothing] = p.platformObjects.filter((o) => MESH_KINDS.includes(o.kind)) as [KubeObject, KubeObject, KubeObject, KubeObject];
  // The DNS, Istio and scraper namespaces and lattice-system are always excluded, whatever the list says.
  assert.deepEqual((deny.spec as { endpointSelector: { matchExpressions: { values?: string[] }[] } }).endpointSelector.matchExpressions[1]!.values, ['dns', 'lattice-system', 'mesh', 'monitoring']);
  assert.equal(peer.metadata.namespace, 'mesh');
  assert.equal(nothing.metadata.namespace, 'mesh');
});

test('mesh settings defaults and validation', () => {
  const d = defaultPlatformSettings().mesh;
  assert.deepEqual(d, {
    trustDomain: 'cluster.local',
    istioNamespace: 'istio-system',
    systemNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'lattice-system', 'external-secrets', 'cert-manager', 'keda', 'kthena-system'],
    dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
    metricsScraper: { namespace: 'monitoring', vmAgent: 'vmagent' },
  });
  // The VictoriaMetrics operator's names for the pods of VMAgent <name>: ServiceAccount vmagent-<name>.
  assert.deepEqual(scraperIdentity(d), { namespace: 'monitoring', serviceAccount: 'vmagent-vmagent', podLabels: { 'app.kubernetes.io/name': 'vmagent', 'app.kubernetes.io/instance': 'vmagent' } });
  assert.deepEqual(scraperIdentity({ ...d, metricsScraper: { namespace: 'obs', vmAgent: 'main' } }), { namespace: 'obs', serviceAccount: 'vmagent-main', podLabels: { 'app.kubernetes.io/name': 'vmagent', 'app.kubernetes.io/instance': 'main' } });
  assert.deepEqual(scraperIdentity({ ...d, metricsScraper: { namespace: 'obs', vmAgent: 'main', serviceAccount: 'scraper', podLabels: { app: 'scraper' } } }), { namespace: 'obs', serviceAccount: 'scraper', podLabels: { app: 'scraper' } });
  assert.deepEqual(excludedNamespaces(defaultPlatformSettings()), ['cert-manager', 'external-secrets', 'istio-system', 'keda', 'kthena-system', 'kube-node-lease', 'kube-public', 'kube-system', 'lattice-system', 'monitoring']);
  // The namespace of the Prometheus-compatible address KEDA reads is excluded too.
  assert.ok(excludedNamespaces({ ...defaultPlatformSettings(), prometheusAddress: 'http://vmsingle.metrics.svc:8429' }).includes('metrics'));
  assert.equal(prometheusNamespace('http://vmsingle.metrics.svc.cluster.local:8429'), 'metrics');
  assert.equal(prometheusNamespace('http://vmsingle.metrics:8429'), 'metrics');
  assert.equal(prometheusNamespace('https://prometheus.example.com'), undefined);
  assert.equal(prometheusNamespace('http://vmsingle:8429'), undefined);
  const bad = latticePlatformSchema.safeParse(platformDoc({ mesh: { trustDomain: 'Not A Domain' } }));
  assert.equal(bad.success, false);
  assert.match(bad.error!.issues[0]!.message, /SPIFFE trust domain/);
  // Partial settings keep the other defaults.
  const partial = latticePlatformSchema.parse(platformDoc({ mesh: { dns: { namespace: 'dns' } } })).spec.mesh;
  assert.deepEqual(partial.dns, { namespace: 'dns', podLabels: { 'k8s-app': 'kube-dns' } });
  assert.equal(partial.trustDomain, 'cluster.local');
});

test('routes: the gateway proxies get in on the HBONE port and their principal on the routed port; their namespace leaves the default deny and their proxies get an ALLOW policy', () => {
  const p = deriveObjects([
    platformDoc({ gateways: { internal: { name: 'internal', namespace: 'gateways' }, public: { name: 'edge', namespace: 'edge-gw', serviceAccount: 'edge-proxy' } } }),
    service('web', {
      workload: { service: { ports: { http: { port: 80, targetPort: 8080 }, admin: { port: 9000 } } } },
      ingress: { routes: { site: { hosts: ['shop.example.com'], exposure: 'public', port: 'http' }, ops: { hosts: ['ops.internal.example.com'], port: 'admin' } } },
    }),
  ]);
  const web = resultOf(p, 'shop/web');
  assert.equal(web.status.phase, 'Ready');
  const cnp = objectOf(web, 'CiliumNetworkPolicy');
  assert.deepEqual((cnp.spec as { ingress: unknown }).ingress, [{
    fromEndpoints: [
      { matchLabels: { 'k8s:gateway.networking.k8s.io/gateway-name': 'internal', 'k8s:io.kubernetes.pod.namespace': 'gateways', 'k8s:io.cilium.k8s.policy.serviceaccount': 'internal-istio' } },
      { matchLabels: { 'k8s:gateway.networking.k8s.io/gateway-name': 'edge', 'k8s:io.kubernetes.pod.namespace': 'edge-gw', 'k8s:io.cilium.k8s.policy.serviceaccount': 'edge-proxy' } },
      scraperSelector,
    ],
    toPorts: HBONE,
  }]);
  const ap = objectOf(web, 'AuthorizationPolicy');
  assert.deepEqual((ap.spec as { rules: unknown }).rules, [
    { from: [{ source: { principals: ['cluster.local/ns/gateways/sa/internal-istio'] } }], to: [{ operation: { ports: ['9000'] } }] },
    { from: [{ source: { principals: ['cluster.local/ns/edge-gw/sa/edge-proxy'] } }], to: [{ operation: { ports: ['8080'] } }] },
    scraperIstio('8080'),
  ]);
  assertValid(cnp);
  assertValid(ap);
  const deny = p.platformObjects.find((o) => o.kind === 'CiliumClusterwideNetworkPolicy')!;
  const values = (deny.spec as { endpointSelector: { matchExpressions: { values?: string[] }[] } }).endpointSelector.matchExpressions[1]!.values!;
  assert.ok(values.includes('gateways') && values.includes('edge-gw'), values.join(','));
  // The root allow-nothing policy covers gateway proxies too: each gets its own ALLOW policy.
  const gatewayPolicies = p.platformObjects.filter((o) => o.kind === 'AuthorizationPolicy' && o.metadata.name.startsWith(BASELINE_NAMES.gatewayPrefix));
  assert.deepEqual(gatewayPolicies.map((o) => [o.metadata.namespace, o.metadata.name, o.spec]), [
    ['gateways', 'lattice-gateway-internal', { selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'internal' } }, action: 'ALLOW', rules: [{}] }],
    ['edge-gw', 'lattice-gateway-edge', { selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'edge' } }, action: 'ALLOW', rules: [{}] }],
  ]);
  for (const o of gatewayPolicies) assertValid(o);
});

test('every pod a service runs is enrolled in the ambient mesh by its pod template label', () => {
  for (const r of platform.services) {
    const d = objectOf(r, 'Deployment');
    const labels = (d.spec as { template: { metadata: { labels: Record<string, string> } }; selector: { matchLabels: Record<string, string> } }).template.metadata.labels;
    assert.equal(labels['istio.io/dataplane-mode'], 'ambient', r.key);
    // The selector is unchanged (it is immutable): enrolment is a template label only.
    assert.equal((d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels['istio.io/dataplane-mode'], undefined);
  }
  // Lattice derives no Namespace objects: it does not own the namespaces.
  assert.equal(platform.platformObjects.filter((o) => o.kind === 'Namespace').length, 0);
});

test('a wildcard acceptor nobody calls yet says so', () => {
  const p = deriveObjects([service('catalog', { workload: { service: { ports: { http: { port: 8080 } } }, resources: { any: { type: 'service', direction: 'inbound', id: '*' } } } })]);
  const c = conditionOf(resultOf(p, 'shop/catalog'), 'DependenciesAgreed');
  assert.equal(c.status, 'True');
  assert.equal(c.message, 'No service calls this one yet; it accepts any service that declares it (resources.any).');
  assert.deepEqual((objectOf(resultOf(p, 'shop/catalog'), 'AuthorizationPolicy').spec as { rules: unknown }).rules, [scraperIstio('8080')], 'no caller yet: only the scraper');
});
