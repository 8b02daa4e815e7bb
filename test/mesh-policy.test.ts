/**
 * The derived network policies allow exactly the agreed edges, proven by reading the policies back.
 * (test/cluster-model.test.ts proves the same end to end on a fuller model of the ambient cluster:
 * probes, gateways, the scraper, DNS and external hosts.)
 *
 * The mesh is Istio ambient: a TCP connection between enrolled pods leaves the caller as an HBONE
 * tunnel to TCP 15008 of the callee pod, so Cilium (outside the pods) sees port 15008 and Istio's
 * ztunnel checks the application port inside it (istio.io, "Ambient and Kubernetes NetworkPolicy").
 *
 * An independent evaluator below decides, from the derived Cilium and Istio objects alone, whether a
 * pod (namespace, labels, ServiceAccount) may open a connection to another pod on a port:
 * - Cilium (docs.cilium.io, "Policy Enforcement Modes", "Using Kubernetes Constructs In Policy"): an
 *   endpoint selected by a policy with rules in a direction (or `enableDefaultDeny` for it) is in default
 *   deny that way; traffic passes when some selecting policy has a rule whose peer selector matches the
 *   other pod and whose ports match. Selectors of a namespaced policy only see their own namespace unless
 *   they name `k8s:io.kubernetes.pod.namespace`. Both the caller's egress and the callee's ingress must pass.
 * - Istio (istio.io, Authorization Policy reference): ALLOW policies apply to a workload when they are in
 *   the root namespace or in its namespace with a matching selector; with any applicable ALLOW policy,
 *   a request passes only when one of them has a rule matching it (a policy without rules matches nothing).
 * The expected set of allowed (caller, callee) pairs is written by hand from the fixture below, not
 * taken from the compiler's graph.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveObjects, resultOf, service } from './support/fixtures.ts';
import type { KubeObject, ServiceResult } from '../src/compiler/types.ts';

// ---------------------------------------------------------------------------------------------
// The fixture: agreed, one-sided (both ways), missing, wildcard (restricted), both, cross-namespace.

const ports = (p: Record<string, { port: number; targetPort?: number; protocol?: string }>): Record<string, unknown> => ({ service: { ports: p } });
const res = (r: Record<string, unknown>): Record<string, unknown> => r;

const FLEET = [
  // shop/web calls shop/api (accepted), billing/invoices (accepted by name), shop/ghost (does not exist).
  service('web', { workload: { ...ports({ http: { port: 8080 } }), resources: res({ api: { type: 'service' }, invoices: { type: 'service', namespace: 'billing' }, ghost: { type: 'service' } }) } }),
  // The platform: an internal gateway in namespace gateways.
  { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { gateways: { internal: { name: 'internal', namespace: 'gateways' } } } },
  // shop/api accepts web; calls db-proxy, which does not accept it; routes api.example.com to its http port.
  service('api', {
    workload: { ...ports({ http: { port: 80, targetPort: 8080 }, grpc: { port: 9090 } }), resources: res({ web: { type: 'service', direction: 'inbound' }, 'db-proxy': { type: 'service' } }) },
    ingress: { routes: { site: { hosts: ['api.example.com'], port: 'http' } } },
  }),
  // shop/db-proxy accepts batch, which does not call it.
  service('db-proxy', { workload: { ...ports({ pg: { port: 5432 } }), resources: res({ batch: { type: 'service', direction: 'inbound' } }) } }),
  // shop/batch (no ports) calls billing/invoices, whose wildcard only accepts namespace ops.
  service('batch', { workload: { resources: res({ invoices: { type: 'service', namespace: 'billing' } }) } }),
  // shop/both-a and shop/both-b: direction both on each side.
  service('both-a', { workload: { ...ports({ http: { port: 8080 } }), resources: res({ 'both-b': { type: 'service', direction: 'both' } }) } }),
  service('both-b', { workload: { ...ports({ http: { port: 8081 } }), resources: res({ peer: { type: 'service', direction: 'both', id: 'both-a' } }) } }),
  // billing/invoices accepts shop/web by name and any caller from namespace ops.
  service('invoices', {
    workload: {
      ...ports({ http: { port: 8443 } }),
      resources: res({
        web: { type: 'service', direction: 'inbound', namespace: 'shop' },
        'ops-callers': { type: 'service', direction: 'inbound', id: '*', namespace: 'ops' },
        stripe: { type: 'external-service', params: { endpoints: ['https://api.stripe.com', 'tcp://10.20.30.40:5432'] } },
      }),
    },
  }, 'billing'),
  // billing/ledger accepts shop/web, which does not call it.
  service('ledger', { workload: { ...ports({ http: { port: 8080 } }), resources: res({ web: { type: 'service', direction: 'inbound', namespace: 'shop' } }) } }, 'billing'),
  // ops/reporter calls billing/invoices: accepted through the ops wildcard.
  service('reporter', { workload: { ...ports({ http: { port: 8080 } }), resources: res({ invoices: { type: 'service', namespace: 'billing' } }) } }, 'ops'),
];

/** The edges that must carry traffic, by hand from the fixture. */
const EXPECTED = new Set([
  'shop/web>shop/api',
  'shop/web>billing/invoices',
  'ops/reporter>billing/invoices',
  'shop/both-a>shop/both-b',
  'shop/both-b>shop/both-a',
]);

// ---------------------------------------------------------------------------------------------
// The evaluator.

interface Pod {
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const NS = 'io.kubernetes.pod.namespace';
const SA = 'io.cilium.k8s.policy.serviceaccount';

/** The identity labels Cilium gives a pod: its labels, namespace and ServiceAccount, all of source k8s. */
function ciliumLabels(pod: Pod): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(pod.labels)) out.set(`k8s:${k}`, v);
  out.set(`k8s:${NS}`, pod.namespace);
  out.set(`k8s:${SA}`, pod.serviceAccount);
  return out;
}

/** A selector key's value on a pod: `source:key` must match the source; a key without a known source matches any. */
function labelValue(labels: Map<string, string>, key: string): string | undefined {
  const m = /^(k8s|any|reserved|container|unspec):(.*)$/.exec(key);
  const [source, bare] = m ? [m[1]!, m[2]!] : ['any', key];
  if (source === 'any') return labels.get(`k8s:${bare}`);
  return labels.get(`${source}:${bare}`);
}

function selects(selector: Selector, pod: Pod, policyNamespace: string | undefined): boolean {
  const labels = ciliumLabels(pod);
  const keys = [...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((e) => e.key)];
  const namesNamespace = keys.some((k) => k.replace(/^(k8s|any):/, '') === NS);
  // A namespaced policy's selectors see its own namespace only, unless they name the namespace label.
  if (policyNamespace !== undefined && !namesNamespace && pod.namespace !== policyNamespace) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labelValue(labels, k) !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = labelValue(labels, e.key);
    const ok =
      e.operator === 'In' ? value !== undefined && e.values!.includes(value)
        : e.operator === 'NotIn' ? value === undefined || !e.values!.includes(value)
          : e.operator === 'Exists' ? value !== undefined
            : e.operator === 'DoesNotExist' ? value === undefined
              : assert.fail(`unknown operator ${e.operator}`);
    if (!ok) return false;
  }
  return true;
}

interface CiliumRule {
  fromEndpoints?: Selector[];
  toEndpoints?: Selector[];
  toPorts?: { ports: { port: string; protocol?: string }[]; rules?: { dns?: { matchName?: string; matchPattern?: string }[] } }[];
  toFQDNs?: { matchName?: string; matchPattern?: string }[];
  toCIDR?: string[];
}

function ciliumPolicies(objects: KubeObject[]): { namespace: string | undefined; spec: { endpointSelector: Selector; enableDefaultDeny?: { ingress?: boolean; egress?: boolean }; ingress?: CiliumRule[]; egress?: CiliumRule[] } }[] {
  return objects
    .filter((o) => o.apiVersion === 'cilium.io/v2' && (o.kind === 'CiliumNetworkPolicy' || o.kind === 'CiliumClusterwideNetworkPolicy'))
    .map((o) => ({ namespace: o.kind === 'CiliumNetworkPolicy' ? o.metadata.namespace ?? 'default' : undefined, spec: o.spec as never }));
}

function portMatches(toPorts: CiliumRule['toPorts'], port: number, protocol: string): boolean {
  if (toPorts === undefined) return true;
  return toPorts.some((tp) => tp.ports.some((p) => Number(p.port) === port && (p.protocol === undefined || p.protocol === 'ANY' || p.protocol === protocol)));
}

type Peer = { pod: Pod } | { fqdn: string } | { ip: string };

/** Whether Cilium lets `subject` send (egress) to or receive (ingress) from `peer` on port/protocol. */
function ciliumAllows(objects: KubeObject[], direction: 'ingress' | 'egress', subject: Pod, peer: Peer, port: number, protocol = 'TCP'): boolean {
  const selecting = ciliumPolicies(objects).filter((p) => (p.namespace === undefined || p.namespace === subject.namespace) && selects(p.spec.endpointSelector, subject, p.namespace));
  const defaultDeny = selecting.some((p) => p.spec.enableDefaultDeny?.[direction] ?? p.spec[direction] !== undefined);
  if (!defaultDeny) return true;
  return selecting.some((p) =>
    (p.spec[direction] ?? []).some((rule) => {
      if (!portMatches(rule.toPorts, port, protocol)) return false;
      if ('pod' in peer) {
        const peers = direction === 'ingress' ? rule.fromEndpoints : rule.toEndpoints;
        return (peers ?? []).some((s) => selects(s, peer.pod, p.namespace));
      }
      if ('fqdn' in peer) return (rule.toFQDNs ?? []).some((f) => f.matchName === peer.fqdn);
      return (rule.toCIDR ?? []).some((c) => c === `${peer.ip}/32`);
    }),
  );
}

/** The DNS names a pod may look up: matchName entries of the DNS rules of egress rules to `dns`. */
function allowedDnsNames(objects: KubeObject[], subject: Pod, dns: Pod): Set<string> {
  const out = new Set<string>();
  for (const p of ciliumPolicies(objects)) {
    if (!(p.namespace === undefined || p.namespace === subject.namespace) || !selects(p.spec.endpointSelector, subject, p.namespace)) continue;
    for (const rule of p.spec.egress ?? []) {
      if (!(rule.toEndpoints ?? []).some((s) => selects(s, dns, p.namespace))) continue;
      for (const tp of rule.toPorts ?? []) for (const d of tp.rules?.dns ?? []) out.add(d.matchName ?? `pattern:${d.matchPattern}`);
    }
  }
  return out;
}

interface IstioRule {
  from?: { source: { principals?: string[]; namespaces?: string[] } }[];
  to?: { operation: { ports?: string[] } }[];
}

function istioMatch(patterns: string[] | undefined, value: string): boolean {
  if (patterns === undefined) return true;
  return patterns.some((p) => p === '*' || p === value || (p.startsWith('*') && value.endsWith(p.slice(1))) || (p.endsWith('*') && value.startsWith(p.slice(0, -1))));
}

/** Whether Istio lets `caller` reach `callee` on port, from the AuthorizationPolicies (mutual TLS: the caller's principal is known). */
function istioAllows(objects: KubeObject[], caller: Pod, callee: Pod, port: number, trustDomain = 'cluster.local', root = 'istio-system'): boolean {
  const principal = `${trustDomain}/ns/${caller.namespace}/sa/${caller.serviceAccount}`;
  const applicable = objects.filter((o) => {
    if (o.apiVersion !== 'security.istio.io/v1' || o.kind !== 'AuthorizationPolicy') return false;
    const spec = o.spec as { selector?: { matchLabels: Record<string, string> } };
    if (o.metadata.namespace === root) return true;
    if (o.metadata.namespace !== callee.namespace) return false;
    return Object.entries(spec.selector?.matchLabels ?? {}).every(([k, v]) => callee.labels[k] === v);
  });
  const allows = applicable.filter((o) => ((o.spec as { action?: string }).action ?? 'ALLOW') === 'ALLOW');
  assert.equal(applicable.length, allows.length, 'only ALLOW policies are derived');
  if (allows.length === 0) return true;
  return allows.some((o) =>
    ((o.spec as { rules?: IstioRule[] }).rules ?? []).some((rule) => {
      const fromOk = rule.from === undefined || rule.from.some((f) => istioMatch(f.source.principals, principal) && istioMatch(f.source.namespaces, caller.namespace));
      const toOk = rule.to === undefined || rule.to.some((t) => istioMatch(t.operation.ports, String(port)));
      return fromOk && toOk;
    }),
  );
}

/** The pod a service runs, read from its derived Deployment. */
function podOf(result: ServiceResult): Pod {
  const d = result.objects.find((o) => o.kind === 'Deployment');
  assert.ok(d, `${result.key} derived a Deployment`);
  const template = (d.spec as { template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string } } }).template;
  return { namespace: d.metadata.namespace!, labels: template.metadata.labels, serviceAccount: template.spec.serviceAccountName };
}

/** The container ports a service's pods listen on, read from its derived Service. */
function podPortsOf(result: ServiceResult): { port: number; protocol: string }[] {
  const s = result.objects.find((o) => o.kind === 'Service');
  if (!s) return [];
  return (s.spec as { ports: { targetPort: number; protocol: string }[] }).ports.map((p) => ({ port: p.targetPort, protocol: p.protocol }));
}

/** ztunnel's HBONE port. */
const HBONE = 15008;

/**
 * A connection between two ambient pods: TCP travels through the HBONE tunnel (Cilium sees 15008,
 * Istio the application port); ztunnel carries TCP only, so UDP goes out as it is, on its own port.
 */
function connects(objects: KubeObject[], from: Pod, to: Pod, port: number, protocol = 'TCP'): { cilium: boolean; istio: boolean } {
  const [wirePort, wireProtocol] = protocol === 'TCP' ? [HBONE, 'TCP'] : [port, protocol];
  return {
    cilium: ciliumAllows(objects, 'egress', from, { pod: to }, wirePort, wireProtocol) && ciliumAllows(objects, 'ingress', to, { pod: from }, wirePort, wireProtocol),
    istio: istioAllows(objects, from, to, port),
  };
}

// ---------------------------------------------------------------------------------------------

const platform = deriveObjects(FLEET);
const all = [...platform.platformObjects, ...platform.services.flatMap((s) => s.objects)];
const results = platform.services;
const DNS_POD: Pod = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, serviceAccount: 'coredns' };
const ISTIOD_POD: Pod = { namespace: 'istio-system', labels: { app: 'istiod' }, serviceAccount: 'istiod' };

test('every fixture service is derived and Ready (one-sided edges do not fail a service)', () => {
  assert.deepEqual(results.map((r) => `${r.key}:${r.status.phase}`).sort(), FLEET.filter((s) => (s as { kind: string }).kind === 'LatticeService').map((s) => {
    const m = (s as { metadata: { name: string; namespace: string } }).metadata;
    return `${m.namespace}/${m.name}:Ready`;
  }).sort());
});

test('the gateway a route attaches to reaches the routed port of that service only', () => {
  const gateway: Pod = { namespace: 'gateways', labels: { 'gateway.networking.k8s.io/gateway-name': 'internal' }, serviceAccount: 'internal-istio' };
  const api = podOf(resultOf(platform, 'shop/api'));
  assert.deepEqual(connects(all, gateway, api, 8080), { cilium: true, istio: true });
  // Cilium lets the gateway's tunnel in; the port inside it is Istio's to refuse.
  assert.deepEqual(connects(all, gateway, api, 9090), { cilium: true, istio: false });
  for (const r of results.filter((x) => x.key !== 'shop/api')) {
    for (const p of podPortsOf(r)) assert.deepEqual(connects(all, gateway, podOf(r), p.port), { cilium: false, istio: false }, `gateway to ${r.key}:${p.port}`);
  }
  // Another identity with the gateway's labels is not the gateway.
  assert.deepEqual(connects(all, { ...gateway, serviceAccount: 'default' }, api, 8080), { cilium: false, istio: false });
  // Gateway namespaces are outside the default deny (the gateway must reach every routed service).
  assert.equal(ciliumAllows(all, 'egress', gateway, { pod: api }, 8080), true);
});

test('Cilium and Istio each allow exactly the agreed edges, on every port of the callee', () => {
  const cilium = new Set<string>();
  const istio = new Set<string>();
  for (const caller of results) {
    for (const callee of results) {
      if (caller === callee) continue;
      const ports = podPortsOf(callee);
      const verdicts = ports.map((p) => connects(all, podOf(caller), podOf(callee), p.port, p.protocol));
      const pair = `${caller.key}>${callee.key}`;
      if (verdicts.length > 0 && verdicts.every((v) => v.cilium)) cilium.add(pair);
      if (verdicts.length > 0 && verdicts.every((v) => v.istio)) istio.add(pair);
      // All or nothing per pair: a pair is never allowed on some ports of the callee and not others.
      assert.ok(verdicts.every((v) => v.cilium === verdicts[0]!.cilium && v.istio === verdicts[0]!.istio), `${pair}: same verdict on every port`);
    }
  }
  assert.deepEqual([...cilium].sort(), [...EXPECTED].sort());
  assert.deepEqual([...istio].sort(), [...EXPECTED].sort());
});

test('agreed edges carry no traffic on ports the callee does not declare', () => {
  const web = podOf(resultOf(platform, 'shop/web'));
  const api = podOf(resultOf(platform, 'shop/api'));
  assert.deepEqual(connects(all, web, api, 8080), { cilium: true, istio: true });
  assert.deepEqual(connects(all, web, api, 9090), { cilium: true, istio: true });
  // 80 is the Service port; the pods listen on 8080 (targetPort), which is what policies see. Inside
  // the tunnel only ztunnel sees the port, so Istio alone refuses undeclared ports.
  assert.deepEqual(connects(all, web, api, 80), { cilium: true, istio: false });
  assert.deepEqual(connects(all, web, api, 22), { cilium: true, istio: false });
  // UDP is not tunnelled: Cilium sees the port and allows none.
  assert.equal(connects(all, web, api, 8080, 'UDP').cilium, false);
  // Plain TCP straight to the application port (a pod outside the mesh) is refused by Cilium.
  assert.equal(ciliumAllows(all, 'ingress', api, { pod: web }, 8080), false);
});

test('a pod that only copies a caller\'s labels is denied at both layers', () => {
  const web = podOf(resultOf(platform, 'shop/web'));
  const api = podOf(resultOf(platform, 'shop/api'));
  // Same labels, other ServiceAccount: Cilium checks the ServiceAccount label, Istio the SPIFFE identity.
  assert.deepEqual(connects(all, { ...web, serviceAccount: 'default' }, api, 8080), { cilium: false, istio: false });
  // Same labels and ServiceAccount name in another namespace.
  assert.deepEqual(connects(all, { ...web, namespace: 'ops' }, api, 8080), { cilium: false, istio: false });
});

test('the baseline puts every other pod of a workload namespace in default deny, and leaves system namespaces alone', () => {
  const stranger: Pod = { namespace: 'shop', labels: { app: 'debug' }, serviceAccount: 'default' };
  const api = podOf(resultOf(platform, 'shop/api'));
  assert.equal(ciliumAllows(all, 'egress', stranger, { pod: api }, 8080), false);
  assert.equal(ciliumAllows(all, 'ingress', stranger, { pod: api }, 8080), false);
  assert.equal(ciliumAllows(all, 'egress', stranger, { fqdn: 'example.com' }, 443), false);
  // Namespaces with no LatticeService are covered too.
  assert.equal(ciliumAllows(all, 'ingress', { namespace: 'fresh', labels: {}, serviceAccount: 'default' }, { pod: api }, 80), false);
  // System namespaces are not selected by the baseline: the DNS pods answer anyone.
  assert.equal(ciliumAllows(all, 'ingress', DNS_POD, { pod: api }, 53, 'UDP'), true);
  assert.equal(ciliumAllows(all, 'egress', DNS_POD, { pod: stranger }, 8080), true);
});

test('a service reaches DNS when it needs a name, looks up only those names, and never reaches istiod (ztunnel does)', () => {
  // batch's only callee does not accept it; api's and db-proxy's neither: they need no name.
  const needsNames = new Set(['shop/web', 'billing/invoices', 'ops/reporter', 'shop/both-a', 'shop/both-b']);
  for (const r of results) {
    const pod = podOf(r);
    assert.equal(ciliumAllows(all, 'egress', pod, { pod: DNS_POD }, 53, 'UDP'), needsNames.has(r.key), `${r.key} DNS over UDP`);
    assert.equal(ciliumAllows(all, 'egress', pod, { pod: DNS_POD }, 53, 'TCP'), needsNames.has(r.key), `${r.key} DNS over TCP`);
    assert.equal(ciliumAllows(all, 'egress', pod, { pod: ISTIOD_POD }, 15012), false, `${r.key} istiod`);
  }
  const names = (key: string): string[] => [...allowedDnsNames(all, podOf(resultOf(platform, key)), DNS_POD)].sort();
  assert.deepEqual(names('shop/web'), ['api.shop.svc.cluster.local', 'invoices.billing.svc.cluster.local']);
  // api calls db-proxy, which does not accept it: no name for it, so no DNS at all.
  assert.deepEqual(names('shop/api'), []);
  assert.deepEqual(names('billing/invoices'), ['api.stripe.com']);
  assert.deepEqual(names('ops/reporter'), ['invoices.billing.svc.cluster.local']);
});

test('external services are reachable from the declaring service only, on their ports only', () => {
  const invoices = podOf(resultOf(platform, 'billing/invoices'));
  const ledger = podOf(resultOf(platform, 'billing/ledger'));
  assert.equal(ciliumAllows(all, 'egress', invoices, { fqdn: 'api.stripe.com' }, 443), true);
  assert.equal(ciliumAllows(all, 'egress', invoices, { fqdn: 'api.stripe.com' }, 80), false);
  assert.equal(ciliumAllows(all, 'egress', invoices, { ip: '10.20.30.40' }, 5432), true);
  assert.equal(ciliumAllows(all, 'egress', invoices, { ip: '10.20.30.40' }, 443), false);
  assert.equal(ciliumAllows(all, 'egress', invoices, { fqdn: 'evil.example.com' }, 443), false);
  assert.equal(ciliumAllows(all, 'egress', ledger, { fqdn: 'api.stripe.com' }, 443), false);
  assert.equal(ciliumAllows(all, 'egress', ledger, { ip: '10.20.30.40' }, 5432), false);
});
