/**
 * LatticeMeshMember field by field: the unit the platform sees, the derived CiliumNetworkPolicy,
 * AuthorizationPolicy and ServiceEntry, what services see of a member as a peer, the enrolment and
 * identity checks, validation, the Cedar gates, and tests that try to use a member to get around the
 * bilateral mesh. (Flows as a whole: test/cluster-model.test.ts.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionOf, deriveObjects, deriveYaml, objectOf, resultOf, service } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import { isLatticePodLabelKey, LATTICE_POD_LABEL_KEYS, latticeMeshMemberSchema } from '../src/api/latticemeshmember/v1alpha1.ts';
import { meshMemberUnit } from '../src/compiler/meshmember/pipeline.ts';
import { meshIdentityOf } from '../src/compiler/mesh/identity.ts';

const ambientNamespace = (name: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'istio.io/dataplane-mode': 'ambient' } } });
const member = (name: string, spec: Record<string, unknown>, namespace = 'shop'): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeMeshMember', metadata: { name, namespace }, spec });
const SELECTOR = { 'app.kubernetes.io/name': 'pricing', 'app.kubernetes.io/instance': 'legacy' };
const LEGACY = member('legacy', {
  target: { selector: SELECTOR },
  serviceAccount: 'legacy-sa',
  ports: [{ name: 'http', port: 7070 }, { name: 'admin', port: 9000 }],
  allowedCallers: [{ name: 'web' }],
  dependencies: [{ name: 'api' }],
  egress: [{ target: { fqdn: 'rates.example.com' }, ports: [443, 8443] }],
});
const WEB = service('web', { workload: { service: { ports: { http: { port: 80, targetPort: 8080 } } }, resources: { legacy: { type: 'service' } } } });
const API = service('api', { workload: { service: { ports: { http: { port: 8080 } } }, resources: { legacy: { type: 'service', direction: 'inbound' } } } });
const fleet = (...extra: unknown[]) => deriveObjects([ambientNamespace('shop'), LEGACY, WEB, API, ...extra]);

describe('the derived policies of a member', () => {
  const platform = fleet();
  const r = resultOf(platform, 'shop/legacy');

  test('Ready with a CiliumNetworkPolicy, an AuthorizationPolicy and a ServiceEntry only: no pod, Deployment, Service or ServiceAccount', () => {
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.equal(r.kind, 'LatticeMeshMember');
    assert.deepEqual(r.objects.map((o) => `${o.kind}/${o.metadata.name}`), ['CiliumNetworkPolicy/legacy', 'AuthorizationPolicy/legacy', 'ServiceEntry/legacy-egress-0']);
    for (const o of r.objects) assertValid(o);
    const enrolled = conditionOf(r, 'MeshEnrolled');
    assert.deepEqual([enrolled.status, enrolled.reason], ['True', 'NamespaceEnrolled']);
    assert.match(enrolled.message, /ServiceAccount legacy-sa/);
  });

  test('CiliumNetworkPolicy: selects the member\'s pods by its selector; in from web only, out to api, DNS and the egress host', () => {
    const spec = objectOf(r, 'CiliumNetworkPolicy').spec as Record<string, unknown>;
    assert.deepEqual(spec.endpointSelector, { matchLabels: { 'k8s:app.kubernetes.io/name': 'pricing', 'k8s:app.kubernetes.io/instance': 'legacy' } });
    assert.deepEqual(spec.enableDefaultDeny, { ingress: true, egress: true });
    assert.deepEqual(spec.ingress, [{
      fromEndpoints: [{ matchLabels: { 'k8s:app.kubernetes.io/name': 'web', 'k8s:io.kubernetes.pod.namespace': 'shop', 'k8s:io.cilium.k8s.policy.serviceaccount': 'web' } }],
      toPorts: [{ ports: [{ port: '15008', protocol: 'TCP' }] }],
    }], 'no metrics scraper: Lattice derives no scrape for pods it does not run');
    assert.deepEqual(spec.egress, [
      {
        toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }],
        toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }], rules: { dns: [{ matchName: 'api.shop.svc.cluster.local' }, { matchName: 'rates.example.com' }] } }],
      },
      { toEndpoints: [{ matchLabels: { 'k8s:app.kubernetes.io/name': 'api', 'k8s:io.kubernetes.pod.namespace': 'shop' } }], toPorts: [{ ports: [{ port: '15008', protocol: 'TCP' }] }] },
      { toFQDNs: [{ matchName: 'rates.example.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
      { toFQDNs: [{ matchName: 'rates.example.com' }], toPorts: [{ ports: [{ port: '8443', protocol: 'TCP' }] }] },
    ]);
  });

  test('AuthorizationPolicy: the member\'s selector, web\'s principal, the member\'s declared ports', () => {
    assert.deepEqual(objectOf(r, 'AuthorizationPolicy').spec, {
      selector: { matchLabels: SELECTOR },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/web'] } }], to: [{ operation: { ports: ['7070', '9000'] } }] }],
    });
  });

  test('ServiceEntry: the egress host with its ports (443 as TLS, others as TCP)', () => {
    assert.deepEqual(objectOf(r, 'ServiceEntry').spec, {
      hosts: ['rates.example.com'],
      ports: [{ number: 443, name: 'tls-443', protocol: 'TLS' }, { number: 8443, name: 'tcp-8443', protocol: 'TCP' }],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      exportTo: ['.'],
    });
  });
});

describe('what services see of a member', () => {
  const platform = fleet();

  test('a caller selects the member\'s pods by its labels and resolves its Service name', () => {
    const spec = objectOf(resultOf(platform, 'shop/web'), 'CiliumNetworkPolicy').spec as { egress: { toEndpoints?: unknown; toPorts: { rules?: unknown }[] }[] };
    assert.deepEqual(spec.egress[0]!.toPorts[0]!.rules, { dns: [{ matchName: 'legacy.shop.svc.cluster.local' }] });
    assert.deepEqual(spec.egress[1]!.toEndpoints, [{ matchLabels: { 'k8s:app.kubernetes.io/name': 'pricing', 'k8s:app.kubernetes.io/instance': 'legacy', 'k8s:io.kubernetes.pod.namespace': 'shop' } }]);
    assert.equal(conditionOf(resultOf(platform, 'shop/web'), 'DependenciesAgreed').status, 'True');
  });

  test('a callee lets in the member\'s pods by labels, namespace and ServiceAccount, and authorizes its ServiceAccount', () => {
    const api = resultOf(platform, 'shop/api');
    const cnp = objectOf(api, 'CiliumNetworkPolicy').spec as { ingress: { fromEndpoints: unknown[] }[] };
    assert.deepEqual(cnp.ingress[0]!.fromEndpoints[0], { matchLabels: { 'k8s:app.kubernetes.io/name': 'pricing', 'k8s:app.kubernetes.io/instance': 'legacy', 'k8s:io.kubernetes.pod.namespace': 'shop', 'k8s:io.cilium.k8s.policy.serviceaccount': 'legacy-sa' } });
    const ap = objectOf(api, 'AuthorizationPolicy').spec as { rules: { from: { source: { principals: string[] } }[] }[] };
    assert.deepEqual(ap.rules[0]!.from[0]!.source.principals, ['cluster.local/ns/shop/sa/legacy-sa']);
  });

  test('serviceNames: callers may resolve the names of the chart\'s Services instead of the member\'s name', () => {
    const named = member('legacy', { target: { selector: SELECTOR }, serviceNames: ['pricing-http', 'pricing-grpc'], ports: [{ name: 'http', port: 7070 }], allowedCallers: [{ name: 'web' }] });
    const p = deriveObjects([ambientNamespace('shop'), named, WEB]);
    const spec = objectOf(resultOf(p, 'shop/web'), 'CiliumNetworkPolicy').spec as { egress: { toPorts: { rules?: unknown }[] }[] };
    assert.deepEqual(spec.egress[0]!.toPorts[0]!.rules, { dns: [{ matchName: 'pricing-grpc.shop.svc.cluster.local' }, { matchName: 'pricing-http.shop.svc.cluster.local' }] });
  });

  test('one-sided declarations are reported to both sides, and the traffic is not allowed', () => {
    const p = deriveObjects([ambientNamespace('shop'), member('legacy', { target: { selector: SELECTOR }, dependencies: [{ name: 'api' }] }), service('api', { workload: { service: { ports: { http: { port: 8080 } } } } })]);
    const legacy = resultOf(p, 'shop/legacy');
    assert.equal(legacy.status.phase, 'Ready');
    const c = conditionOf(legacy, 'DependenciesAgreed');
    assert.deepEqual([c.status, c.reason], ['False', 'InboundNotDeclared']);
    assert.match(c.message, /shop\/api does not accept calls from it/);
    const spec = objectOf(legacy, 'CiliumNetworkPolicy').spec as { egress: unknown[] };
    assert.deepEqual(spec.egress, [{}], 'no egress at all: the dependency is not agreed');
    assert.equal(objectOf(resultOf(p, 'shop/api'), 'AuthorizationPolicy').spec !== undefined, true);
    const apiAp = objectOf(resultOf(p, 'shop/api'), 'AuthorizationPolicy').spec as { rules: { from: { source: { principals: string[] } }[] }[] };
    assert.ok(apiAp.rules.every((rule) => !rule.from[0]!.source.principals.some((x) => x.includes('legacy'))));
  });

  test('one-sided messages name the member\'s own fields, at their position', () => {
    const p = deriveYaml(`apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeMeshMember
metadata: {name: legacy, namespace: shop}
spec:
  target: {selector: {app: legacy}}
  ports: [{name: http, port: 7070}]
  dependencies:
    - name: api
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: web, namespace: shop}
spec:
  workload:
    containers:
      main: {image: "registry.example.com/app@sha256:${'a'.repeat(64)}", resources: {limits: {cpu: 500m, memory: 256Mi}}}
    resources:
      legacy: {type: service}
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: api, namespace: shop}
spec:
  workload:
    containers:
      main: {image: "registry.example.com/app@sha256:${'a'.repeat(64)}", resources: {limits: {cpu: 500m, memory: 256Mi}}}
    service: {ports: {http: {port: 8080}}}
`);
    // web calls legacy, which does not list it: web's owners are told what legacy's owners must add.
    assert.match(conditionOf(resultOf(p, 'shop/web'), 'DependenciesAgreed').message, /The owners of shop\/legacy must add `\{name: web\}` to spec\.allowedCallers/);
    const legacy = resultOf(p, 'shop/legacy');
    assert.match(conditionOf(legacy, 'DependenciesAgreed').message, /shop\/web declares that it calls this service \(its resources\.legacy\)/);
    const d = legacy.diagnostics.find((x) => x.reason === 'InboundNotDeclared' && x.path === 'spec.dependencies.0');
    assert.ok(d, JSON.stringify(legacy.diagnostics.map((x) => x.path)));
    assert.equal(`${d.location?.line}:${d.location?.column}`, '12:7');
    // api does not accept legacy: legacy's owners are told the service's line to add.
    assert.match(d.message, /The owners of shop\/api must add under spec\.workload\.resources: `legacy: \{type: service, direction: inbound\}`/);
  });

  test('the unit carries the identity; it is never serialised', () => {
    const unit = meshMemberUnit(latticeMeshMemberSchema.parse(LEGACY));
    assert.deepEqual(meshIdentityOf(unit), { podLabels: SELECTOR, serviceAccount: 'legacy-sa', serviceNames: ['legacy'], declaredIn: ['spec'] });
    assert.deepEqual(Object.keys(unit.spec.workload.resources ?? {}), ['caller-0', 'dependency-0', 'egress-0']);
    assert.deepEqual(unit.spec.workload.containers, {});
    assert.equal(unit.spec.replicas, 0);
    assert.ok(!JSON.stringify(unit).includes('legacy-sa'), 'the identity is a symbol property, not a field');
  });
});

describe('enrolment and identity', () => {
  test('a namespace not enrolled and a selector without the ambient label: refused, with both fixes named', () => {
    const p = deriveYaml(`apiVersion: lattice.dev/v1alpha1
kind: LatticeMeshMember
metadata: {name: legacy, namespace: plain}
spec:
  target:
    selector: {app.kubernetes.io/instance: legacy}
  ports: [{name: http, port: 7070}]
`);
    const r = resultOf(p, 'plain/legacy');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    const c = conditionOf(r, 'MeshEnrolled');
    assert.deepEqual([c.status, c.reason], ['False', 'AmbientEnrolmentMissing']);
    assert.match(c.message, /podLabels/);
    assert.match(c.message, /add istio\.io\/dataplane-mode: ambient to the selector/);
    assert.match(c.message, /input\.yaml:6:5/);
  });

  test('the ambient label in the selector enrols: the policies then select enrolled pods only', () => {
    const p = deriveObjects([member('legacy', { target: { selector: { 'app.kubernetes.io/instance': 'legacy', 'istio.io/dataplane-mode': 'ambient' } }, ports: [{ name: 'http', port: 7070 }] }, 'plain')]);
    const r = resultOf(p, 'plain/legacy');
    assert.equal(r.status.phase, 'Ready');
    assert.equal(conditionOf(r, 'MeshEnrolled').reason, 'PodLabelEnrolled');
    assert.deepEqual((objectOf(r, 'CiliumNetworkPolicy').spec as { endpointSelector: unknown }).endpointSelector, { matchLabels: { 'k8s:app.kubernetes.io/instance': 'legacy', 'k8s:istio.io/dataplane-mode': 'ambient' } });
  });

  test('a namespace derived by a LatticeTeam is enrolled', () => {
    const team = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeTeam', metadata: { name: 'shop', namespace: 'lattice-system' }, spec: { owner: 'shop@example.com', group: 'shop-devs', quota: { cpu: 4 }, namespaces: { shop: { environment: 'production' } } } };
    const r = resultOf(deriveObjects([team, member('legacy', { target: { selector: SELECTOR }, ports: [{ name: 'http', port: 7070 }] })]), 'shop/legacy');
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.equal(conditionOf(r, 'MeshEnrolled').reason, 'NamespaceEnrolled');
  });

  test('attack: borrowing a service\'s ServiceAccount to inherit its agreements is refused', () => {
    // api accepts web; a member claiming ServiceAccount web would be let in by api's policy as web.
    const thief = member('thief', { target: { selector: { app: 'thief' } }, serviceAccount: 'web', dependencies: [{ name: 'api' }] });
    const api = service('api', { workload: { service: { ports: { http: { port: 8080 } } }, resources: { web: { type: 'service', direction: 'inbound' } } } });
    const r = resultOf(deriveObjects([ambientNamespace('shop'), thief, WEB, api]), 'shop/thief');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    const c = conditionOf(r, 'MeshEnrolled');
    assert.equal(c.reason, 'ServiceAccountInUse');
    assert.match(c.message, /workload shop\/web, which Lattice runs as ServiceAccount web/);
  });

  test('attack: two members sharing one ServiceAccount are both refused', () => {
    const a = member('a', { target: { selector: { app: 'a' } }, serviceAccount: 'shared', ports: [{ name: 'http', port: 1 }] });
    const b = member('b', { target: { selector: { app: 'b' } }, serviceAccount: 'shared', ports: [{ name: 'http', port: 1 }] });
    const p = deriveObjects([ambientNamespace('shop'), a, b]);
    for (const key of ['shop/a', 'shop/b']) assert.equal(conditionOf(resultOf(p, key), 'MeshEnrolled').reason, 'ServiceAccountInUse', key);
  });

  test('attack: a selector made of labels Lattice sets on its own pods (it could select a service\'s pods) is refused', () => {
    for (const selector of [{ 'app.kubernetes.io/name': 'api' }, { 'lattice.dev/service': 'api' }, { 'app.kubernetes.io/name': 'api', 'istio.io/dataplane-mode': 'ambient' }, { 'app.kubernetes.io/managed-by': 'lattice' }]) {
      const r = resultOf(deriveObjects([ambientNamespace('shop'), member('sneaky', { target: { selector }, allowedCallers: [{ name: 'web' }], ports: [{ name: 'http', port: 8080 }] })]), 'shop/sneaky');
      assert.equal(r.status.phase, 'Failed', JSON.stringify(selector));
      assert.match(conditionOf(r, 'Validated').message, /could select a Lattice workload's pods/);
    }
  });

  test('every label Lattice puts on a pod it runs is one a member selector cannot be made of', () => {
    const p = deriveObjects([service('api', { workload: { service: { ports: { http: { port: 8080 } } } } })]);
    const deployment = objectOf(resultOf(p, 'shop/api'), 'Deployment');
    const labels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    assert.ok(Object.keys(labels).length >= 5, JSON.stringify(labels));
    // The Azure Workload Identity pod label (workload/cloud.ts) is listed too.
    assert.ok(isLatticePodLabelKey('azure.workload.identity/use'));
    for (const key of Object.keys(labels)) assert.ok(isLatticePodLabelKey(key), `${key} is set on Lattice pods but not in LATTICE_POD_LABEL_KEYS`);
    assert.ok(LATTICE_POD_LABEL_KEYS.includes('istio.io/dataplane-mode'));
  });
});

describe('validation', () => {
  const problems = (spec: Record<string, unknown>): string[] => {
    const r = resultOf(deriveObjects([ambientNamespace('shop'), member('m', spec)]), 'shop/m');
    assert.equal(r.status.phase, 'Failed');
    return r.diagnostics.map((d) => `${d.path}: ${d.message}`);
  };

  test('each field rule names the field and the fix', () => {
    assert.match(problems({ target: { selector: {} }, ports: [{ name: 'http', port: 1 }] }).join('\n'), /spec\.target\.selector: name at least one pod label/);
    assert.match(problems({ target: { namespace: 'shop' }, ports: [{ name: 'http', port: 1 }] }).join('\n'), /spec\.target\.namespace: a namespace target is not supported/);
    assert.match(problems({ target: { selector: { app: 'x' } } }).join('\n'), /declare at least one port, dependency or egress rule/);
    assert.match(problems({ target: { selector: { app: 'x' } }, ports: [{ name: 'http', port: 1, peerAuth: 'Permissive' }] }).join('\n'), /peerAuth must be Strict/);
    assert.match(problems({ target: { selector: { app: 'x' } }, egress: [{ target: { cidr: '10.0.0.0/8' }, ports: [443] }] }).join('\n'), /cidr and entity egress targets are not supported/);
    assert.match(problems({ target: { selector: { 'bad key!': 'x' } }, ports: [{ name: 'http', port: 1 }] }).join('\n'), /is not a label key/);
    assert.match(problems({ target: { selector: { app: 'x' } }, ports: [{ name: 'http', port: 1 }, { name: 'http', port: 2 }] }).join('\n'), /port name "http" is used twice/);
    assert.match(problems({ target: { selector: { app: 'x' } }, dependencies: [{ name: 'Bad_Name' }] }).join('\n'), /must be a workload name/);
    assert.match(problems({ target: { selector: { app: 'x' } }, ports: [{ name: 'http', port: 1 }], bogus: true }).join('\n'), /unknown field "bogus"/);
  });

  test('a member in a protected namespace is refused', () => {
    const r = resultOf(deriveObjects([member('m', { target: { selector: { app: 'x', 'istio.io/dataplane-mode': 'ambient' } }, ports: [{ name: 'http', port: 1 }] }, 'kube-system')]), 'kube-system/m');
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'ProtectedNamespace');
    assert.deepEqual(r.objects, []);
  });

  test('a member and a service of one name clash (one workload name space)', () => {
    const p = deriveObjects([ambientNamespace('shop'), member('api', { target: { selector: { app: 'x' } }, ports: [{ name: 'http', port: 1 }] }), service('api')]);
    assert.deepEqual(p.services.filter((s) => s.key === 'shop/api').map((s) => s.kind), ['LatticeMeshMember']);
    const dup = p.problems.find((x) => x.kind === 'LatticeService' && x.name === 'shop/api');
    assert.equal(dup?.diagnostics[0]?.reason, 'DuplicateName');
    assert.match(dup?.diagnostics[0]?.message ?? '', /has the namespace and name of LatticeMeshMember shop\/api/);
  });
});

describe('Cedar gates hold for members', () => {
  const policy = (text: string): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name: 'p', namespace: 'lattice-system' }, spec: { policies: text } });

  test('default deny: an egress host without an AccessExternalEndpoint permit fails the member', () => {
    const r = resultOf(deriveObjects([policy('permit (principal, action == Lattice::Action::"DeployImage", resource);'), ambientNamespace('shop'), LEGACY, WEB, API]), 'shop/legacy');
    assert.equal(r.status.phase, 'Failed');
    const c = conditionOf(r, 'PolicyAuthorized');
    assert.equal(c.reason, 'ExternalEndpointDenied');
    assert.match(c.message, /rates\.example\.com/);
    assert.deepEqual(r.objects, []);
  });

  test('an inbound wildcard needs AllowWildcard; a forbid wins over a permit', () => {
    const wildcard = member('open', { target: { selector: { app: 'open' } }, ports: [{ name: 'http', port: 1 }], allowedCallers: [{ name: '*' }] });
    const denied = resultOf(deriveObjects([policy('permit (principal, action == Lattice::Action::"AccessSecret", resource);'), ambientNamespace('shop'), wildcard]), 'shop/open');
    assert.equal(conditionOf(denied, 'PolicyAuthorized').reason, 'WildcardDenied');
    const forbidden = resultOf(deriveObjects([policy('permit (principal, action, resource);\nforbid (principal, action == Lattice::Action::"AllowWildcard", resource);'), ambientNamespace('shop'), wildcard]), 'shop/open');
    assert.equal(conditionOf(forbidden, 'PolicyAuthorized').reason, 'WildcardDenied');
    const allowed = resultOf(deriveObjects([policy('permit (principal == Lattice::Service::"shop/open", action == Lattice::Action::"AllowWildcard", resource);'), ambientNamespace('shop'), wildcard]), 'shop/open');
    assert.equal(allowed.status.phase, 'Ready');
  });
});

describe('lattice graph and quotas cover members and packages', () => {
  test('the graph of examples/mesh: the member and the package are nodes, their agreement an allowed edge', async () => {
    const { graphOfDocuments, graphView } = await import('../src/cli/graph.ts');
    const { loadDocuments } = await import('../src/cli/load.ts');
    const loaded = loadDocuments([new URL('../examples/mesh/', import.meta.url).pathname]);
    const view = graphView(graphOfDocuments(loaded.documents));
    assert.deepEqual(view.nodes.filter((n) => n.kind === 'service').map((n) => [n.id, n.status]), [['commerce/cache', 'valid'], ['commerce/legacy-pricing', 'valid']]);
    const edges = view.edges.map((e) => `${e.from} > ${e.to}: ${e.state}${e.allowed ? '' : ' (denied)'}`);
    assert.ok(edges.includes('commerce/legacy-pricing > commerce/cache: agreed'), edges.join('\n'));
    assert.equal(edges.filter((e) => e.endsWith('(denied)')).length, 0, edges.join('\n'));
  });

  test('a quota covers them with no demand: they never take a quota over its limit', () => {
    const quota = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeQuota', metadata: { name: 'tiny', namespace: 'lattice-system' }, spec: { selector: { namespaces: ['shop'] }, hard: { pods: 1, cpu: '1' } } };
    const p = deriveObjects([ambientNamespace('shop'), quota, member('legacy', { target: { selector: SELECTOR }, ports: [{ name: 'http', port: 7070 }] }), service('one', { replicas: 1 })]);
    for (const key of ['shop/legacy', 'shop/one']) assert.equal(resultOf(p, key).status.phase, 'Ready', key);
    const usage = p.quotas.find((q) => q.name === 'tiny')!;
    const legacy = usage.byKey.get('shop/legacy')!;
    assert.equal(legacy.replicas, 0);
    assert.deepEqual(Object.values(legacy.total).filter((v) => v !== 0), []);
    assert.equal(usage.used.pods, 1);
  });
});
