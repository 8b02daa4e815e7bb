/**
 * A model of the target cluster, written from the upstream documentation and independent of Lattice's
 * derivers (it imports nothing from src/): it reads derived objects as a cluster would and answers
 * whether a given flow gets through. Used by test/cluster-model.test.ts.
 *
 * What it models, and from where:
 *
 * - **Cilium L3/L4** (docs.cilium.io, "Policy Enforcement Modes", "Layer 3 Examples", "Layer 4
 *   Examples", "Using Kubernetes Constructs In Policy", "DNS based" policy):
 *   - an endpoint's identity is its pod labels (source `k8s:`), `k8s:io.kubernetes.pod.namespace`,
 *     `k8s:io.cilium.k8s.policy.serviceaccount` and its namespace's labels
 *     (`k8s:io.cilium.k8s.namespace.labels.<key>`); a selector key without a source matches any source;
 *   - a CiliumNetworkPolicy selects endpoints of its own namespace only, and its peer selectors see its
 *     own namespace only unless they name the namespace label; a CiliumClusterwideNetworkPolicy sees all;
 *   - an endpoint is in default deny in a direction when a policy selecting it sets
 *     `enableDefaultDeny.<direction>: true`, or leaves it unset and has at least one rule in that
 *     direction (cilium.io/v2 CRD, field `enableDefaultDeny`: "If not specified, the default is true
 *     for each traffic direction that has rules, and false otherwise"); then traffic passes only when a
 *     rule of a selecting policy matches (peer and port); with no such policy, all passes;
 *   - a rule's peers are the union of its `from*`/`to*` fields (`Endpoints`, `Entities`, `CIDR`,
 *     `CIDRSet`, `FQDNs`); a rule with ports and no peer field matches every peer; the empty rule `{}`
 *     matches nothing (the documented default-deny idiom); `toPorts` ports match on number (or range
 *     `endPort`) and protocol (`ANY` or absent: any);
 *   - CIDR rules match only peers outside the cluster (world), never pods; `toFQDNs` matches a world
 *     peer by the name the pod looked up, and only when the DNS proxy let that lookup through (an egress
 *     rule to the DNS server on port 53 with `rules.dns` matching the name; no `rules.dns`: any name);
 *   - traffic from the local host (kubelet) to a pod is always allowed (Cilium's host allowance).
 * - **Istio ambient** (istio.io, "Ambient data plane", "Add workloads to the mesh", "Ambient and
 *   Kubernetes NetworkPolicy", "HBONE"):
 *   - a pod is in the mesh when it or its namespace carries `istio.io/dataplane-mode: ambient` (a pod
 *     label `none` opts out);
 *   - a TCP connection from a mesh pod or an Istio gateway proxy to a mesh pod travels as mutual TLS
 *     in an HBONE tunnel to TCP 15008 of the destination pod (the source address stays the source
 *     pod's): Cilium sees port 15008, ztunnel at the destination sees the original port and the
 *     caller's SPIFFE identity `<trustDomain>/ns/<ns>/sa/<sa>`; any other connection to a mesh pod is
 *     plain text on the original port, refused by ztunnel under STRICT PeerAuthentication;
 *   - ztunnel carries TCP only; UDP leaves and arrives as it is;
 *   - kubelet probes of a mesh pod are SNATed to 169.254.7.127 by the Istio CNI (so Cilium sees a
 *     world address, not the host) and ztunnel lets them through without policy.
 * - **Istio PeerAuthentication** (istio.io, "Peer authentication"): workload (selector), then namespace,
 *   then root-namespace (mesh) policy; `portLevelMtls` on a workload policy overrides per port.
 * - **Istio AuthorizationPolicy** (istio.io, "Authorization Policy" reference and "Authorization policy
 *   conditions"), enforced by ztunnel for mesh pods and by the gateway proxy for a gateway: a policy in
 *   the root namespace applies mesh-wide (to the selected workloads of every namespace when it has a
 *   selector), one elsewhere to its namespace (its selected workloads); DENY first: a matching DENY
 *   rule denies; then, if any ALLOW policy applies, a request passes only when an ALLOW rule matches
 *   (a policy without rules matches nothing, the rule `{}` matches everything); rules AND their
 *   `from`, `to` and `when`, each an OR of sources/operations whose fields AND. Only the L4 attributes
 *   ztunnel enforces are modelled (principals, namespaces, ipBlocks, ports, and their `not` forms);
 *   anything else (L7 fields, `when`, CUSTOM, targetRefs) makes the model throw rather than guess.
 * - **Gateway API + Istio gateways**: an external client reaches the gateway proxy pods on a listener
 *   port; an HTTPRoute attached to the Gateway (`parentRefs`) with a matching hostname sends to a
 *   Service port, which the proxy connects to on the Service's targetPort of a selected pod.
 * - **Volcano** (volcano.sh, "VolcanoJob"; volcano-sh/volcano pkg/controllers/job): a Job runs
 *   `replicas` pods per task, named `<job>-<task>-<index>`, with the task template's labels plus
 *   `volcano.sh/job-name`, `volcano.sh/job-namespace` and `volcano.sh/task-spec`; the `pytorch`
 *   plugin opens its `--port` on every container; a CronJob runs its `jobTemplate` (a run is named
 *   `<cronjob>-<suffix>`, the pods as for a Job of that name).
 * - **Kthena router** (kthena.volcano.sh, "Router Routing"): a request's model name picks a ModelRoute,
 *   its rule a ModelServer, whose label selector and workload port name the pods the router connects to.
 * - **Gateway API listeners** (`gateway()`): listeners by port and hostname, route attachment by
 *   parentRef sectionName, allowedRoutes kinds and namespaces, HTTPRoute/GRPCRoute/TCPRoute matching.
 * - **Exposed Services** (`external()`): NodePort/LoadBalancer with externalTrafficPolicy Local; the
 *   client keeps its address, so Cilium sees `world`, and arrives in plain text on the target port.
 * - **Ambient multi-network** (`relay()`): an east-west gateway pod relays a remote caller's tunnel to
 *   15008; the destination sees the caller's identity.
 * - **Cilium reserved entities** for outside peers (`entity`, e.g. kube-apiserver), matched by name.
 * - **VictoriaMetrics operator**: a VMServiceScrape selects Services of its namespace by labels and
 *   scrapes an endpoint port by name; the VMAgent's pods connect to each selected pod on its targetPort.
 */

/** Any Kubernetes object, as read by the model. */
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  [key: string]: unknown;
}

/** A pod as the cluster knows it. */
export interface Pod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** Container ports by name (number when unnamed ports are listed under their number). */
  ports: { name?: string; port: number; protocol: string }[];
  /** An Istio gateway proxy (Envoy; HBONE-capable, enforces AuthorizationPolicies itself). */
  istioProxy?: boolean;
  /** Ports the kubelet probes. */
  probes?: number[];
}

/** A peer that is not a pod: the local host (kubelet) or an address outside the cluster. */
export type Outside = { host: true } | { ip: string; fqdn?: string; entity?: string };

/** The outcome of a flow, with where it was stopped. */
export interface Verdict {
  allowed: boolean;
  /** Which layer stopped the flow (`cilium-egress`, `cilium-ingress`, `dns`, `ztunnel-mtls`, `istio-authz`, `route`), or `ok`. */
  stage: string;
  detail: string;
}

const OK: Verdict = { allowed: true, stage: 'ok', detail: '' };
const deny = (stage: string, detail: string): Verdict => ({ allowed: false, stage, detail });

/** Cluster facts the objects do not carry. */
export interface ClusterFacts {
  /** Labels of every namespace (namespaces not listed have none). */
  namespaces?: Record<string, Record<string, string>>;
  /** Pods not derived from Deployments in the objects: platform components, strangers. */
  pods?: Pod[];
  trustDomain?: string;
  rootNamespace?: string;
  clusterDomain?: string;
}

const NS_LABEL = 'io.kubernetes.pod.namespace';
const SA_LABEL = 'io.cilium.k8s.policy.serviceaccount';
const NS_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';
const AMBIENT = 'istio.io/dataplane-mode';
export const HBONE_PORT = 15008;
export const PROBE_SNAT = '169.254.7.127';

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface PortProtocol {
  port?: string;
  endPort?: number;
  protocol?: string;
}

interface CiliumRule {
  fromEndpoints?: Selector[];
  toEndpoints?: Selector[];
  fromEntities?: string[];
  toEntities?: string[];
  fromCIDR?: string[];
  toCIDR?: string[];
  fromCIDRSet?: { cidr: string; except?: string[] }[];
  toCIDRSet?: { cidr: string; except?: string[] }[];
  toFQDNs?: { matchName?: string; matchPattern?: string }[];
  toPorts?: { ports?: PortProtocol[]; rules?: { dns?: { matchName?: string; matchPattern?: string }[]; [k: string]: unknown } }[];
  [k: string]: unknown;
}

interface CiliumPolicy {
  name: string;
  /** Undefined for a clusterwide policy. */
  namespace: string | undefined;
  endpointSelector: Selector;
  enableDefaultDeny?: { ingress?: boolean; egress?: boolean };
  ingress?: CiliumRule[];
  egress?: CiliumRule[];
}

const KNOWN_RULE_FIELDS = new Set(['fromEndpoints', 'toEndpoints', 'fromEntities', 'toEntities', 'fromCIDR', 'toCIDR', 'fromCIDRSet', 'toCIDRSet', 'toFQDNs', 'toPorts']);

type Peer = { pod: Pod } | { outside: Outside };

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`cluster model: only IPv4 addresses are modelled, got ${ip}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string | undefined];
  const n = bits === undefined ? 32 : Number(bits);
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (ipToInt(ip) & mask) === (ipToInt(base) & mask);
}

/** Cilium DNS pattern: `*` alone matches every name; elsewhere `*` matches DNS characters within a label. */
function dnsPatternMatches(pattern: string, name: string): boolean {
  const p = pattern.replace(/\.$/, '').toLowerCase();
  const n = name.replace(/\.$/, '').toLowerCase();
  if (p === '*') return true;
  const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[-a-z0-9_]*')}$`);
  return re.test(n);
}

function istioStringMatch(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

/** The cluster: the derived objects plus the facts, and flows through it. */
export class ClusterModel {
  readonly pods: Pod[];
  private readonly objects: Obj[];
  private readonly namespaces: Record<string, Record<string, string>>;
  private readonly cilium: CiliumPolicy[];
  readonly trustDomain: string;
  readonly rootNamespace: string;
  readonly clusterDomain: string;

  constructor(objects: Obj[], facts: ClusterFacts = {}) {
    this.objects = objects;
    this.namespaces = facts.namespaces ?? {};
    this.trustDomain = facts.trustDomain ?? 'cluster.local';
    this.rootNamespace = facts.rootNamespace ?? 'istio-system';
    this.clusterDomain = facts.clusterDomain ?? 'cluster.local';
    this.pods = [
      ...objects.filter((o) => o.apiVersion === 'apps/v1' && o.kind === 'Deployment').map((d) => podOfDeployment(d)),
      ...objects.filter((o) => o.apiVersion === 'batch.volcano.sh/v1alpha1' && (o.kind === 'Job' || o.kind === 'CronJob')).flatMap((j) => podsOfVolcanoJob(j)),
      ...(facts.pods ?? []),
    ];
    this.cilium = objects
      .filter((o) => o.apiVersion === 'cilium.io/v2' && (o.kind === 'CiliumNetworkPolicy' || o.kind === 'CiliumClusterwideNetworkPolicy'))
      .map((o) => {
        const spec = (o.spec ?? {}) as Omit<CiliumPolicy, 'name' | 'namespace'> & { specs?: unknown; ingressDeny?: unknown; egressDeny?: unknown; nodeSelector?: unknown };
        for (const unsupported of ['specs', 'ingressDeny', 'egressDeny', 'nodeSelector'] as const) {
          if (spec[unsupported] !== undefined) throw new Error(`cluster model: ${o.kind} ${o.metadata.name} uses ${unsupported}, which the model does not implement`);
        }
        for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
          for (const k of Object.keys(rule)) if (!KNOWN_RULE_FIELDS.has(k)) throw new Error(`cluster model: ${o.kind} ${o.metadata.name} uses rule field ${k}, which the model does not implement`);
        }
        return { ...spec, name: o.metadata.name, namespace: o.kind === 'CiliumNetworkPolicy' ? o.metadata.namespace ?? 'default' : undefined };
      });
  }

  /** The pod named `namespace/name`; throws when absent. */
  pod(key: string): Pod {
    const p = this.pods.find((x) => `${x.namespace}/${x.name}` === key);
    if (!p) throw new Error(`cluster model: no pod ${key}; have ${this.pods.map((x) => `${x.namespace}/${x.name}`).join(', ')}`);
    return p;
  }

  /** Whether a pod is in the ambient mesh (pod label, else namespace label). */
  inMesh(pod: Pod): boolean {
    const own = pod.labels[AMBIENT];
    if (own !== undefined) return own === 'ambient';
    return this.namespaces[pod.namespace]?.[AMBIENT] === 'ambient';
  }

  /** The SPIFFE principal of a pod, as AuthorizationPolicies write it. */
  principal(pod: Pod): string {
    return `${this.trustDomain}/ns/${pod.namespace}/sa/${pod.serviceAccount}`;
  }

  // ------------------------------------------------------------------------------------------
  // Cilium

  private identity(pod: Pod): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(pod.labels)) out.set(`k8s:${k}`, v);
    out.set(`k8s:${NS_LABEL}`, pod.namespace);
    out.set(`k8s:${SA_LABEL}`, pod.serviceAccount);
    for (const [k, v] of Object.entries(this.namespaces[pod.namespace] ?? {})) out.set(`k8s:${NS_LABELS_PREFIX}${k}`, v);
    return out;
  }

  private selects(selector: Selector, pod: Pod, policyNamespace: string | undefined): boolean {
    const labels = this.identity(pod);
    const value = (key: string): string | undefined => {
      const m = /^([a-z0-9-]+):(.*)$/.exec(key);
      if (m && ['k8s', 'any', 'reserved', 'container', 'unspec', 'cidr', 'fqdn'].includes(m[1]!)) {
        return m[1] === 'any' ? labels.get(`k8s:${m[2]}`) : labels.get(`${m[1]}:${m[2]}`);
      }
      return labels.get(`k8s:${key}`);
    };
    const keys = [...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((e) => e.key)];
    const namesNamespace = keys.some((k) => k.replace(/^(k8s|any):/, '') === NS_LABEL);
    if (policyNamespace !== undefined && !namesNamespace && pod.namespace !== policyNamespace) return false;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (value(k) !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
      const v = value(e.key);
      let ok: boolean;
      if (e.operator === 'In') ok = v !== undefined && (e.values ?? []).includes(v);
      else if (e.operator === 'NotIn') ok = v === undefined || !(e.values ?? []).includes(v);
      else if (e.operator === 'Exists') ok = v !== undefined;
      else if (e.operator === 'DoesNotExist') ok = v === undefined;
      else throw new Error(`cluster model: unknown selector operator ${e.operator}`);
      if (!ok) return false;
    }
    return true;
  }

  private defaultDeny(selecting: CiliumPolicy[], direction: 'ingress' | 'egress'): boolean {
    return selecting.some((p) => p.enableDefaultDeny?.[direction] ?? (p[direction]?.length ?? 0) > 0);
  }

  private selecting(pod: Pod): CiliumPolicy[] {
    return this.cilium.filter((p) => (p.namespace === undefined || p.namespace === pod.namespace) && this.selects(p.endpointSelector, pod, p.namespace));
  }

  private portMatches(rule: CiliumRule, port: number, protocol: string, target: Pod | undefined): boolean {
    if (rule.toPorts === undefined) return true;
    return rule.toPorts.some((tp) =>
      (tp.ports ?? [{}]).some((p) => {
        if (p.protocol !== undefined && p.protocol !== 'ANY' && p.protocol !== protocol) return false;
        if (p.port === undefined || p.port === '0') return true;
        let first: number;
        if (/^\d+$/.test(p.port)) first = Number(p.port);
        else {
          const named = target?.ports.find((x) => x.name === p.port);
          if (!named) return false;
          first = named.port;
        }
        return p.endPort === undefined ? port === first : port >= first && port <= p.endPort;
      }),
    );
  }

  /** Whether the peer fields of `rule` match `peer` (ingress: from*, egress: to*). */
  private peerMatches(rule: CiliumRule, direction: 'ingress' | 'egress', peer: Peer, policyNamespace: string | undefined, lookedUp: ReadonlySet<string>): boolean {
    const f = direction === 'ingress'
      ? { endpoints: rule.fromEndpoints, entities: rule.fromEntities, cidr: rule.fromCIDR, cidrSet: rule.fromCIDRSet, fqdns: undefined }
      : { endpoints: rule.toEndpoints, entities: rule.toEntities, cidr: rule.toCIDR, cidrSet: rule.toCIDRSet, fqdns: rule.toFQDNs };
    const hasPeerField = [f.endpoints, f.entities, f.cidr, f.cidrSet, f.fqdns].some((x) => x !== undefined);
    if (!hasPeerField) return rule.toPorts !== undefined; // ports only: every peer; the empty rule: nothing
    if ('pod' in peer) {
      if ((f.endpoints ?? []).some((s) => this.selects(s, peer.pod, policyNamespace))) return true;
      return (f.entities ?? []).some((e) => e === 'all' || e === 'cluster');
    }
    const o = peer.outside;
    if ('host' in o) return (f.entities ?? []).some((e) => e === 'all' || e === 'cluster' || e === 'host');
    // A reserved identity (kube-apiserver, remote-node, ...) is matched by its entity name only (and all).
    if (o.entity !== undefined) return (f.entities ?? []).some((e) => e === 'all' || e === o.entity);
    if ((f.entities ?? []).some((e) => e === 'all' || e === 'world')) return true;
    if ((f.cidr ?? []).some((c) => inCidr(o.ip, c))) return true;
    if ((f.cidrSet ?? []).some((c) => inCidr(o.ip, c.cidr) && !(c.except ?? []).some((x) => inCidr(o.ip, x)))) return true;
    if (o.fqdn !== undefined && lookedUp.has(o.fqdn)) {
      return (f.fqdns ?? []).some((q) => (q.matchName !== undefined && q.matchName.replace(/\.$/, '') === o.fqdn) || (q.matchPattern !== undefined && dnsPatternMatches(q.matchPattern, o.fqdn!)));
    }
    return false;
  }

  /** Whether Cilium lets `subject` receive from (ingress) or send to (egress) `peer` on port/protocol. */
  ciliumAllows(direction: 'ingress' | 'egress', subject: Pod, peer: Peer, port: number, protocol: string, lookedUp: ReadonlySet<string> = new Set()): boolean {
    if (direction === 'ingress' && 'outside' in peer && 'host' in peer.outside) return true; // the local host (kubelet) always reaches its pods
    const selecting = this.selecting(subject);
    if (!this.defaultDeny(selecting, direction)) return true;
    const target = direction === 'ingress' ? subject : 'pod' in peer ? peer.pod : undefined;
    return selecting.some((p) => (p[direction] ?? []).some((rule) => this.portMatches(rule, port, protocol, target) && this.peerMatches(rule, direction, peer, p.namespace, lookedUp)));
  }

  /** Whether `pod` may look up `name`: egress to a DNS pod on UDP 53 passes Cilium both ways and the DNS proxy's rules allow the name. */
  resolves(pod: Pod, name: string, dnsPods: Pod[]): Verdict {
    for (const server of dnsPods) {
      if (!this.ciliumAllows('ingress', server, { pod }, 53, 'UDP')) continue;
      const selecting = this.selecting(pod);
      if (!this.defaultDeny(selecting, 'egress')) return OK;
      for (const p of selecting) {
        for (const rule of p.egress ?? []) {
          if (!this.portMatches(rule, 53, 'UDP', server) || !this.peerMatches(rule, 'egress', { pod: server }, p.namespace, new Set())) continue;
          const dnsRules = (rule.toPorts ?? []).flatMap((tp) => tp.rules?.dns ?? []);
          const hasL7 = (rule.toPorts ?? []).some((tp) => tp.rules?.dns !== undefined);
          if (!hasL7) return OK;
          if (dnsRules.some((d) => (d.matchName !== undefined && d.matchName.replace(/\.$/, '') === name) || (d.matchPattern !== undefined && dnsPatternMatches(d.matchPattern, name)))) return OK;
        }
      }
    }
    return deny('dns', `${pod.namespace}/${pod.name} may not look up ${name}`);
  }

  // ------------------------------------------------------------------------------------------
  // Istio

  private authorizationPolicies(): Obj[] {
    return this.objects.filter((o) => o.apiVersion.startsWith('security.istio.io/') && o.kind === 'AuthorizationPolicy');
  }

  private appliesTo(policy: Obj, workload: Pod): boolean {
    const spec = (policy.spec ?? {}) as { selector?: { matchLabels?: Record<string, string> }; targetRef?: unknown; targetRefs?: unknown };
    if (spec.targetRef !== undefined || spec.targetRefs !== undefined) throw new Error(`cluster model: AuthorizationPolicy ${policy.metadata.name} uses targetRef(s), which the model does not implement`);
    const ns = policy.metadata.namespace ?? 'default';
    if (ns !== this.rootNamespace && ns !== workload.namespace) return false;
    return Object.entries(spec.selector?.matchLabels ?? {}).every(([k, v]) => workload.labels[k] === v);
  }

  /**
   * Istio's decision for a connection to `workload` on `port` from `source` (principal undefined: plain
   * text, no identity; ip: the source address).
   */
  istioAllows(workload: Pod, port: number, source: { principal?: string; ip?: string }): Verdict {
    const applicable = this.authorizationPolicies().filter((p) => this.appliesTo(p, workload));
    const action = (p: Obj): string => ((p.spec ?? {}) as { action?: string }).action ?? 'ALLOW';
    for (const p of applicable) if (!['ALLOW', 'DENY', 'AUDIT'].includes(action(p))) throw new Error(`cluster model: AuthorizationPolicy ${p.metadata.name} has action ${action(p)}, which the model does not implement`);
    const rules = (p: Obj): Record<string, unknown>[] | undefined => ((p.spec ?? {}) as { rules?: Record<string, unknown>[] }).rules;
    const matches = (rule: Record<string, unknown>): boolean => this.ruleMatches(rule, port, source);
    for (const p of applicable.filter((x) => action(x) === 'DENY')) {
      if ((rules(p) ?? []).some(matches)) return deny('istio-authz', `DENY policy ${p.metadata.namespace}/${p.metadata.name} matches`);
    }
    const allows = applicable.filter((x) => action(x) === 'ALLOW');
    if (allows.length === 0) return OK;
    if (allows.some((p) => (rules(p) ?? []).some(matches))) return OK;
    return deny('istio-authz', `no ALLOW rule of ${allows.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ')} matches ${source.principal ?? 'a plain-text source'} on port ${port} of ${workload.namespace}/${workload.name}`);
  }

  private ruleMatches(rule: Record<string, unknown>, port: number, source: { principal?: string; ip?: string }): boolean {
    for (const k of Object.keys(rule)) if (!['from', 'to', 'when'].includes(k)) throw new Error(`cluster model: AuthorizationPolicy rule field ${k} is not modelled`);
    if (rule.when !== undefined) throw new Error('cluster model: AuthorizationPolicy `when` conditions are not modelled');
    const namespace = source.principal === undefined ? undefined : /\/ns\/([^/]+)\/sa\//.exec(source.principal)?.[1];
    const from = rule.from as { source: Record<string, string[] | undefined> }[] | undefined;
    const to = rule.to as { operation: Record<string, string[] | undefined> }[] | undefined;
    const sourceOk = (s: Record<string, string[] | undefined>): boolean => {
      for (const k of Object.keys(s)) if (!['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks'].includes(k)) throw new Error(`cluster model: source field ${k} is not modelled (not an L4 attribute ztunnel enforces)`);
      if (s.principals && !s.principals.some((p) => istioStringMatch(p, source.principal))) return false;
      if (s.notPrincipals && s.notPrincipals.some((p) => istioStringMatch(p, source.principal))) return false;
      if (s.namespaces && !s.namespaces.some((p) => istioStringMatch(p, namespace))) return false;
      if (s.notNamespaces && s.notNamespaces.some((p) => istioStringMatch(p, namespace))) return false;
      if (s.ipBlocks && !(source.ip !== undefined && s.ipBlocks.some((c) => inCidr(source.ip!, c.includes('/') ? c : `${c}/32`)))) return false;
      if (s.notIpBlocks && source.ip !== undefined && s.notIpBlocks.some((c) => inCidr(source.ip!, c.includes('/') ? c : `${c}/32`))) return false;
      return true;
    };
    const operationOk = (o: Record<string, string[] | undefined>): boolean => {
      for (const k of Object.keys(o)) if (!['ports', 'notPorts'].includes(k)) throw new Error(`cluster model: operation field ${k} is not modelled (not an L4 attribute ztunnel enforces)`);
      if (o.ports && !o.ports.includes(String(port))) return false;
      if (o.notPorts && o.notPorts.includes(String(port))) return false;
      return true;
    };
    if (from !== undefined && !from.some((f) => sourceOk(f.source ?? {}))) return false;
    if (to !== undefined && !to.some((t) => operationOk(t.operation ?? {}))) return false;
    return true;
  }

  /** The mutual TLS mode of `workload` on `port`: workload policy (port level first), namespace policy, mesh policy; default PERMISSIVE. */
  mtlsMode(workload: Pod, port: number): string {
    const pas = this.objects.filter((o) => o.apiVersion.startsWith('security.istio.io/') && o.kind === 'PeerAuthentication');
    type Spec = { selector?: { matchLabels?: Record<string, string> }; mtls?: { mode?: string }; portLevelMtls?: Record<string, { mode?: string }> };
    const spec = (o: Obj): Spec => (o.spec ?? {}) as Spec;
    const selected = (o: Obj): boolean => Object.entries(spec(o).selector?.matchLabels ?? {}).every(([k, v]) => workload.labels[k] === v);
    const workloadLevel = pas.filter((o) => o.metadata.namespace === workload.namespace && spec(o).selector !== undefined && selected(o));
    for (const o of workloadLevel) {
      const m = spec(o).portLevelMtls?.[String(port)]?.mode;
      if (m !== undefined && m !== 'UNSET') return m;
    }
    for (const o of workloadLevel) {
      const m = spec(o).mtls?.mode;
      if (m !== undefined && m !== 'UNSET') return m;
    }
    const namespaceLevel = pas.find((o) => o.metadata.namespace === workload.namespace && spec(o).selector === undefined && workload.namespace !== this.rootNamespace);
    const nm = namespaceLevel && spec(namespaceLevel).mtls?.mode;
    if (nm !== undefined && nm !== 'UNSET') return nm;
    const mesh = pas.find((o) => o.metadata.namespace === this.rootNamespace && spec(o).selector === undefined);
    const mm = mesh && spec(mesh).mtls?.mode;
    return mm !== undefined && mm !== 'UNSET' ? mm : 'PERMISSIVE';
  }

  // ------------------------------------------------------------------------------------------
  // Flows

  /**
   * A connection from a pod, the host or an outside address to pod `dst` on `port`/`protocol`, through
   * both layers: Cilium on the wire (HBONE 15008 between mesh-capable ends), then ztunnel (mutual TLS
   * and the AuthorizationPolicies) at a mesh destination, or the gateway proxy's own policies.
   */
  connect(src: Pod | Outside, dst: Pod, port: number, protocol = 'TCP'): Verdict {
    const srcPod = 'namespace' in src ? src : undefined;
    const dstMesh = this.inMesh(dst);
    const tunnelled = protocol === 'TCP' && dstMesh && srcPod !== undefined && (this.inMesh(srcPod) || srcPod.istioProxy === true);
    const wirePort = tunnelled ? HBONE_PORT : port;
    const peerOfDst: Peer = srcPod ? { pod: srcPod } : { outside: src as Outside };
    if (srcPod && !this.ciliumAllows('egress', srcPod, { pod: dst }, wirePort, protocol)) return deny('cilium-egress', `${srcPod.namespace}/${srcPod.name} may not send to ${dst.namespace}/${dst.name}:${wirePort}/${protocol}`);
    if (!this.ciliumAllows('ingress', dst, peerOfDst, wirePort, protocol)) return deny('cilium-ingress', `${dst.namespace}/${dst.name} may not receive from ${srcPod ? `${srcPod.namespace}/${srcPod.name}` : JSON.stringify(src)} on ${wirePort}/${protocol}`);
    if (protocol !== 'TCP') return OK; // ztunnel carries TCP only
    const source = { principal: tunnelled ? this.principal(srcPod!) : undefined, ip: srcPod ? undefined : 'ip' in src ? src.ip : undefined };
    if (dstMesh) {
      if (!tunnelled && this.mtlsMode(dst, port) === 'STRICT') return deny('ztunnel-mtls', `plain text to ${dst.namespace}/${dst.name}:${port} refused under STRICT mutual TLS`);
      return this.istioAllows(dst, port, source);
    }
    if (dst.istioProxy) return this.istioAllows(dst, port, source);
    return OK;
  }

  /** A kubelet probe of `pod` on `port`: SNATed to 169.254.7.127 for a mesh pod (ztunnel lets it through), from the host otherwise. */
  probe(pod: Pod, port: number): Verdict {
    const from: Outside = this.inMesh(pod) ? { ip: PROBE_SNAT } : { host: true };
    if (!this.ciliumAllows('ingress', pod, { outside: from }, port, 'TCP')) return deny('cilium-ingress', `probe of ${pod.namespace}/${pod.name}:${port} from ${JSON.stringify(from)} dropped`);
    return OK;
  }

  /** A connection from `pod` to a host outside the cluster: a DNS lookup first when `fqdn` is given, then Cilium egress (ztunnel passes it through). */
  connectOutside(pod: Pod, target: { fqdn?: string; ip: string; entity?: string }, port: number, dnsPods: Pod[], protocol = 'TCP'): Verdict {
    const looked = new Set<string>();
    if (target.fqdn !== undefined) {
      const r = this.resolves(pod, target.fqdn, dnsPods);
      if (!r.allowed) return r;
      looked.add(target.fqdn);
    }
    if (!this.ciliumAllows('egress', pod, { outside: target }, port, protocol, looked)) return deny('cilium-egress', `${pod.namespace}/${pod.name} may not send to ${target.fqdn ?? target.entity ?? target.ip}:${port}/${protocol}`);
    return OK;
  }

  /** The pods selected by Service `namespace/name`, with the Service. */
  private endpointsOf(namespace: string, name: string): { service: Obj; pods: Pod[] } | undefined {
    const service = this.objects.find((o) => o.apiVersion === 'v1' && o.kind === 'Service' && o.metadata.namespace === namespace && o.metadata.name === name);
    if (!service) return undefined;
    const selector = ((service.spec ?? {}) as { selector?: Record<string, string> }).selector ?? {};
    return { service, pods: this.pods.filter((p) => p.namespace === namespace && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => p.labels[k] === v)) };
  }

  private targetPort(service: Obj, pick: (p: { name?: string; port: number }) => boolean): number | undefined {
    const p = ((service.spec ?? {}) as { ports?: { name?: string; port: number; targetPort?: number | string }[] }).ports?.find(pick);
    if (!p) return undefined;
    return typeof p.targetPort === 'number' ? p.targetPort : p.targetPort === undefined ? p.port : undefined;
  }

  /** A caller pod reaching Service `namespace/name` on Service port `port`: name lookup, then a connection to every endpoint. */
  callService(caller: Pod, namespace: string, name: string, port: number, dnsPods: Pod[]): Verdict {
    const r = this.resolves(caller, `${name}.${namespace}.svc.${this.clusterDomain}`, dnsPods);
    if (!r.allowed) return r;
    const ep = this.endpointsOf(namespace, name);
    if (!ep || ep.pods.length === 0) return deny('route', `Service ${namespace}/${name} has no endpoints`);
    const target = this.targetPort(ep.service, (p) => p.port === port);
    if (target === undefined) return deny('route', `Service ${namespace}/${name} has no port ${port}`);
    for (const pod of ep.pods) {
      const v = this.connect(caller, pod, target);
      if (!v.allowed) return v;
    }
    return OK;
  }

  /**
   * An inference request through the Kthena router (kthena.volcano.sh, "Router Routing"; CRDs
   * networking.serving.volcano.sh/v1alpha1): the router matches the request's `model` field against
   * the `modelName` (or `loraAdapters`) of every ModelRoute, takes the first rule whose
   * `modelMatch.headers` (exact) all match, sends to a target ModelServer of the route's namespace,
   * and connects from its own pod to every pod the ModelServer's `workloadSelector.matchLabels`
   * selects in that namespace, on `workloadPort.port` (no Service in between).
   */
  modelRequest(router: Pod, model: string, headers: Record<string, string> = {}): Verdict & { backend?: string } {
    const routes = this.objects.filter((o) => o.apiVersion === 'networking.serving.volcano.sh/v1alpha1' && o.kind === 'ModelRoute');
    type RouteSpec = { modelName?: string; loraAdapters?: string[]; rules: { modelMatch?: { headers?: Record<string, { exact?: string }> }; targetModels: { modelServerName?: string }[] }[] };
    const route = routes.find((o) => {
      const spec = o.spec as RouteSpec;
      return spec.modelName === model || (spec.loraAdapters ?? []).includes(model);
    });
    if (!route) return deny('route', `no ModelRoute serves model ${model}`);
    const namespace = route.metadata.namespace ?? 'default';
    const rule = (route.spec as RouteSpec).rules.find((r) => Object.entries(r.modelMatch?.headers ?? {}).every(([h, m]) => m.exact === undefined || headers[h] === m.exact));
    if (!rule) return deny('route', `no rule of ModelRoute ${namespace}/${route.metadata.name} matches the headers`);
    const serverName = rule.targetModels[0]?.modelServerName;
    const server = this.objects.find((o) => o.apiVersion === 'networking.serving.volcano.sh/v1alpha1' && o.kind === 'ModelServer' && (o.metadata.namespace ?? 'default') === namespace && o.metadata.name === serverName);
    if (!server) return deny('route', `ModelServer ${namespace}/${String(serverName)} not found`);
    const spec = server.spec as { workloadSelector: { matchLabels?: Record<string, string> }; workloadPort: { port: number } };
    const selector = spec.workloadSelector.matchLabels ?? {};
    const pods = this.pods.filter((p) => p.namespace === namespace && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => p.labels[k] === v));
    if (pods.length === 0) return deny('route', `ModelServer ${namespace}/${server.metadata.name} selects no pod`);
    for (const pod of pods) {
      const v = this.connect(router, pod, spec.workloadPort.port);
      if (!v.allowed) return v;
    }
    return { ...OK, backend: pods.map((p) => `${p.namespace}/${p.name}:${spec.workloadPort.port}`).join(',') };
  }

  /**
   * A request from a client outside the cluster for `https://<host><path>` through the gateway
   * `gatewayNamespace/gatewayName` on listener port `listenerPort`: client to the gateway's proxy pods,
   * the HTTPRoutes attached to the gateway matching the host and path, then the proxy to the backend.
   */
  route(host: string, path: string, gateway: { name: string; namespace: string; listenerPort: number }, client = '203.0.113.7'): Verdict & { backend?: string } {
    const proxies = this.pods.filter((p) => p.istioProxy && p.namespace === gateway.namespace && p.labels['gateway.networking.k8s.io/gateway-name'] === gateway.name);
    if (proxies.length === 0) return deny('route', `no proxy pods for gateway ${gateway.namespace}/${gateway.name}`);
    for (const proxy of proxies) {
      const v = this.connect({ ip: client }, proxy, gateway.listenerPort);
      if (!v.allowed) return v;
    }
    type Route = { parentRefs?: { name: string; namespace?: string; group?: string; kind?: string }[]; hostnames?: string[]; rules?: { matches?: { path?: { type?: string; value?: string } }[]; backendRefs?: { name: string; namespace?: string; port?: number; kind?: string; group?: string }[] }[] };
    for (const r of this.objects.filter((o) => o.apiVersion.startsWith('gateway.networking.k8s.io/') && o.kind === 'HTTPRoute')) {
      const spec = (r.spec ?? {}) as Route;
      const attached = (spec.parentRefs ?? []).some((p) => (p.kind ?? 'Gateway') === 'Gateway' && p.name === gateway.name && (p.namespace ?? r.metadata.namespace) === gateway.namespace);
      if (!attached || !(spec.hostnames ?? []).includes(host)) continue;
      for (const rule of spec.rules ?? []) {
        const matched = (rule.matches ?? [{ path: { type: 'PathPrefix', value: '/' } }]).some((m) => {
          const v = m.path?.value ?? '/';
          return (m.path?.type ?? 'PathPrefix') === 'Exact' ? path === v : path === v || path.startsWith(v.endsWith('/') ? v : `${v}/`) || v === '/';
        });
        if (!matched) continue;
        return this.toBackend(r, rule.backendRefs?.[0], proxies);
      }
    }
    return deny('route', `no HTTPRoute attached to ${gateway.namespace}/${gateway.name} serves ${host}${path}`);
  }

  /**
   * A relayed connection in an ambient multi-network mesh: a caller of another cluster reaches `dst`
   * through this cluster's east-west gateway pod `via`, which forwards the caller's inner HBONE tunnel
   * (istio.io, "Install ambient multi-primary on different networks"; the inner tunnel is end to end):
   * Cilium sees `via` sending to `dst` on 15008, ztunnel at `dst` sees `principal` on `port`.
   */
  relay(via: Pod, dst: Pod, port: number, principal: string): Verdict {
    if (!this.inMesh(dst)) return deny('route', `${dst.namespace}/${dst.name} is not in the mesh`);
    if (!this.ciliumAllows('egress', via, { pod: dst }, HBONE_PORT, 'TCP')) return deny('cilium-egress', `${via.namespace}/${via.name} may not send to ${dst.namespace}/${dst.name}:${HBONE_PORT}`);
    if (!this.ciliumAllows('ingress', dst, { pod: via }, HBONE_PORT, 'TCP')) return deny('cilium-ingress', `${dst.namespace}/${dst.name} may not receive from ${via.namespace}/${via.name} on ${HBONE_PORT}`);
    return this.istioAllows(dst, port, { principal });
  }

  /**
   * A client outside the cluster connecting to Service `namespace/name` of type NodePort or
   * LoadBalancer on Service port `port`: the Service must be of such a type, and the client reaches
   * each endpoint pod on the target port with its own address (externalTrafficPolicy Local), in plain
   * text (Kubernetes, "Create an External Load Balancer", "Preserving the client source IP").
   */
  external(namespace: string, name: string, port: number, protocol = 'TCP', client = '203.0.113.7'): Verdict {
    const ep = this.endpointsOf(namespace, name);
    if (!ep || ep.pods.length === 0) return deny('route', `Service ${namespace}/${name} has no endpoints`);
    const spec = (ep.service.spec ?? {}) as { type?: string; externalTrafficPolicy?: string; ports?: { port: number; protocol?: string }[] };
    if (spec.type !== 'LoadBalancer' && spec.type !== 'NodePort') return deny('route', `Service ${namespace}/${name} is ${spec.type ?? 'ClusterIP'}: not reachable from outside the cluster`);
    if (spec.externalTrafficPolicy !== 'Local') throw new Error('cluster model: only externalTrafficPolicy Local (client address kept) is modelled');
    const target = this.targetPort(ep.service, (p) => p.port === port && ((p as { protocol?: string }).protocol ?? 'TCP') === protocol);
    if (target === undefined) return deny('route', `Service ${namespace}/${name} has no port ${port}/${protocol}`);
    for (const pod of ep.pods) {
      const v = this.connect({ ip: client }, pod, target, protocol);
      if (!v.allowed) return v;
    }
    return OK;
  }

  /**
   * A request through a Gateway (Gateway API, "Gateway", "Listeners", "Route attachment", and the
   * HTTPRoute, GRPCRoute and TCPRoute references): the client reaches the gateway's proxy pods on
   * `port`; the listeners on that port whose hostname matches `host` (none: any host) are tried in
   * order; a route attaches to a listener when one of its parentRefs names the Gateway and either no
   * sectionName or the listener's name, its kind is among the listener's allowedRoutes.kinds (default:
   * HTTPRoute and GRPCRoute on HTTP/HTTPS, TCPRoute on TCP/TLS) and its namespace is allowed
   * (`Same`, `All`, or `Selector` on `kubernetes.io/metadata.name`). A `grpc` request is served by
   * GRPCRoutes (method match: service and method, each when given), a request on a TCP or TLS listener
   * by TCPRoutes, any other by HTTPRoutes (hostname, path, method and header matches). The proxy then
   * connects to the backend Service's target port on every endpoint pod.
   */
  gateway(req: { gateway: { name: string; namespace: string }; port: number; host?: string; path?: string; method?: string; headers?: Record<string, string>; grpc?: { service: string; method: string } }, client = '203.0.113.7'): Verdict & { backend?: string } {
    const gw = this.objects.find((o) => o.apiVersion.startsWith('gateway.networking.k8s.io/') && o.kind === 'Gateway' && o.metadata.name === req.gateway.name && o.metadata.namespace === req.gateway.namespace);
    if (!gw) return deny('route', `no Gateway ${req.gateway.namespace}/${req.gateway.name}`);
    const proxies = this.pods.filter((p) => p.istioProxy && p.namespace === req.gateway.namespace && p.labels['gateway.networking.k8s.io/gateway-name'] === req.gateway.name);
    if (proxies.length === 0) return deny('route', `no proxy pods for gateway ${req.gateway.namespace}/${req.gateway.name}`);
    for (const proxy of proxies) {
      const v = this.connect({ ip: client }, proxy, req.port);
      if (!v.allowed) return v;
    }
    type Listener = { name: string; port: number; protocol: string; hostname?: string; allowedRoutes?: { namespaces?: { from?: string; selector?: { matchLabels?: Record<string, string> } }; kinds?: { group?: string; kind: string }[] } };
    const hostMatches = (pattern: string | undefined, host: string | undefined): boolean => {
      if (pattern === undefined) return true;
      if (host === undefined) return false;
      return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : pattern === host;
    };
    const listeners = (((gw.spec ?? {}) as { listeners?: Listener[] }).listeners ?? []).filter((l) => l.port === req.port && hostMatches(l.hostname, req.host));
    if (listeners.length === 0) return deny('listener', `Gateway ${req.gateway.namespace}/${req.gateway.name} has no listener on port ${req.port} for ${req.host ?? 'a TCP client'}`);
    type Rule = { matches?: { path?: { type?: string; value?: string }; method?: unknown; headers?: { name: string; value: string; type?: string }[] }[]; backendRefs?: { name: string; namespace?: string; port?: number; kind?: string }[] };
    type Route = { parentRefs?: { name: string; namespace?: string; kind?: string; sectionName?: string }[]; hostnames?: string[]; rules?: Rule[] };
    const tcpListener = (l: Listener): boolean => l.protocol === 'TCP' || l.protocol === 'TLS';
    const wanted = (l: Listener): string => (tcpListener(l) ? 'TCPRoute' : req.grpc ? 'GRPCRoute' : 'HTTPRoute');
    for (const l of listeners) {
      const kinds = l.allowedRoutes?.kinds?.map((k) => k.kind) ?? (tcpListener(l) ? ['TCPRoute'] : ['HTTPRoute', 'GRPCRoute']);
      const from = l.allowedRoutes?.namespaces?.from ?? 'Same';
      const nsAllowed = (ns: string): boolean => from === 'All' || (from === 'Same' && ns === req.gateway.namespace)
        || (from === 'Selector' && Object.entries(l.allowedRoutes?.namespaces?.selector?.matchLabels ?? {}).every(([k, v]) => k === 'kubernetes.io/metadata.name' && v === ns));
      if (from === 'Selector' && Object.keys(l.allowedRoutes?.namespaces?.selector?.matchLabels ?? {}).some((k) => k !== 'kubernetes.io/metadata.name')) throw new Error('cluster model: namespace selectors on other labels than kubernetes.io/metadata.name are not modelled');
      const kind = wanted(l);
      for (const r of this.objects.filter((o) => o.apiVersion.startsWith('gateway.networking.k8s.io/') && o.kind === kind)) {
        if (!kinds.includes(r.kind) || !nsAllowed(r.metadata.namespace ?? 'default')) continue;
        const spec = (r.spec ?? {}) as Route;
        const attached = (spec.parentRefs ?? []).some((p) => (p.kind ?? 'Gateway') === 'Gateway' && p.name === req.gateway.name && (p.namespace ?? r.metadata.namespace) === req.gateway.namespace && (p.sectionName === undefined || p.sectionName === l.name));
        if (!attached) continue;
        if (kind !== 'TCPRoute' && spec.hostnames !== undefined && !spec.hostnames.some((h) => hostMatches(h, req.host))) continue;
        for (const rule of spec.rules ?? []) {
          const matched = kind === 'TCPRoute' || (rule.matches ?? [{}]).some((m) => {
            if (kind === 'GRPCRoute') {
              const mm = m.method as { service?: string; method?: string } | undefined;
              return mm === undefined || ((mm.service === undefined || mm.service === req.grpc!.service) && (mm.method === undefined || mm.method === req.grpc!.method));
            }
            const path = req.path ?? '/';
            const p = m.path ?? { type: 'PathPrefix', value: '/' };
            const v = p.value ?? '/';
            const pathOk = (p.type ?? 'PathPrefix') === 'Exact' ? path === v : v === '/' || path === v || path.startsWith(v.endsWith('/') ? v : `${v}/`);
            const methodOk = m.method === undefined || m.method === (req.method ?? 'GET');
            const headersOk = (m.headers ?? []).every((h) => {
              const got = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === h.name.toLowerCase())?.[1];
              return got !== undefined && ((h.type ?? 'Exact') === 'RegularExpression' ? new RegExp(h.value).test(got) : got === h.value);
            });
            return pathOk && methodOk && headersOk;
          });
          if (!matched) continue;
          return this.toBackend(r, rule.backendRefs?.[0], proxies);
        }
      }
    }
    return deny('route', `no ${listeners.map(wanted).join('/')} attached to ${req.gateway.namespace}/${req.gateway.name} port ${req.port} serves this request`);
  }

  /**
   * A gateway's proxies forwarding a matched route rule to its first backend: the Service's
   * endpoints on the targetPort of the referenced port, checked from every proxy pod to every
   * endpoint pod (Cilium and ztunnel), or why not.
   */
  private toBackend(r: Obj, ref: { name: string; namespace?: string; port?: number; kind?: string } | undefined, proxies: Pod[]): Verdict & { backend?: string } {
    if (!ref || (ref.kind ?? 'Service') !== 'Service') return deny('route', `route ${r.metadata.name} has no Service backend`);
    const ns = ref.namespace ?? r.metadata.namespace!;
    const ep = this.endpointsOf(ns, ref.name);
    if (!ep || ep.pods.length === 0) return deny('route', `backend ${ns}/${ref.name} has no endpoints`);
    const target = this.targetPort(ep.service, (p) => p.port === ref.port);
    if (target === undefined) return deny('route', `backend ${ns}/${ref.name} has no port ${ref.port}`);
    for (const proxy of proxies) {
      for (const pod of ep.pods) {
        const v = this.connect(proxy, pod, target);
        if (!v.allowed) return v;
      }
    }
    return { ...OK, backend: `${ns}/${ref.name}:${target}` };
  }

  /** Every scrape target of every VMServiceScrape: the scraper pods to each selected pod on the endpoint's target port. */
  scrapes(scraper: Pod): { target: string; verdict: Verdict }[] {
    const out: { target: string; verdict: Verdict }[] = [];
    for (const s of this.objects.filter((o) => o.apiVersion === 'operator.victoriametrics.com/v1beta1' && o.kind === 'VMServiceScrape')) {
      const spec = (s.spec ?? {}) as { selector?: { matchLabels?: Record<string, string> }; endpoints?: { port?: string }[] };
      const services = this.objects.filter((o) => o.apiVersion === 'v1' && o.kind === 'Service' && o.metadata.namespace === s.metadata.namespace
        && Object.entries(spec.selector?.matchLabels ?? {}).every(([k, v]) => o.metadata.labels?.[k] === v));
      for (const svc of services) {
        const ep = this.endpointsOf(svc.metadata.namespace!, svc.metadata.name)!;
        for (const e of spec.endpoints ?? []) {
          const target = this.targetPort(svc, (p) => p.name === e.port);
          for (const pod of ep.pods) {
            const key = `${pod.namespace}/${pod.name}:${target ?? e.port}`;
            out.push({ target: key, verdict: target === undefined ? deny('route', `Service ${svc.metadata.name} has no port ${e.port}`) : this.connect(scraper, pod, target) });
          }
        }
      }
    }
    return out;
  }
}

/** The pod a Deployment runs (one representative replica): template labels, ServiceAccount, container ports and probe ports. */
export function podOfDeployment(d: Obj): Pod {
  type C = { ports?: { name?: string; containerPort: number; protocol?: string }[]; livenessProbe?: P; readinessProbe?: P; startupProbe?: P };
  type P = { httpGet?: { port: number | string }; tcpSocket?: { port: number | string }; grpc?: { port: number } };
  const spec = d.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: { serviceAccountName?: string; containers: C[] } } };
  const containers = spec.template.spec.containers;
  const ports = containers.flatMap((c) => (c.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort, protocol: p.protocol ?? 'TCP' })));
  const probes: number[] = [];
  for (const c of containers) {
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      if (!p) continue;
      const port = p.httpGet?.port ?? p.tcpSocket?.port ?? p.grpc?.port;
      if (port === undefined) continue;
      const n = typeof port === 'number' ? port : ports.find((x) => x.name === port)?.port;
      if (n === undefined) throw new Error(`cluster model: probe port ${String(port)} of ${d.metadata.name} names no container port`);
      probes.push(n);
    }
  }
  return {
    name: d.metadata.name,
    namespace: d.metadata.namespace ?? 'default',
    labels: { ...(spec.template.metadata?.labels ?? {}) },
    serviceAccount: spec.template.spec.serviceAccountName ?? 'default',
    ports,
    probes,
  };
}

/**
 * The pods a Volcano Job (or a run of a Volcano CronJob) runs, up to two per task (index 0 and 1 are
 * enough to tell one task's pods from another's): see the module doc for names, labels and ports.
 */
export function podsOfVolcanoJob(o: Obj): Pod[] {
  type C = { ports?: { name?: string; containerPort: number; protocol?: string }[] };
  type Task = { name: string; replicas?: number; template: { metadata?: { labels?: Record<string, string> }; spec: { serviceAccountName?: string; containers: C[] } } };
  type Spec = { plugins?: Record<string, string[]>; tasks: Task[] };
  const isCron = o.kind === 'CronJob';
  const spec = (isCron ? (o.spec as { jobTemplate: { spec: Spec } }).jobTemplate.spec : o.spec) as Spec;
  const job = isCron ? `${o.metadata.name}-29000000` : o.metadata.name;
  const namespace = o.metadata.namespace ?? 'default';
  const torchPort = spec.plugins?.pytorch?.map((a) => /^--port=([0-9]+)$/.exec(a)?.[1]).find((x) => x !== undefined);
  const out: Pod[] = [];
  for (const task of spec.tasks) {
    const ports = task.template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort, protocol: p.protocol ?? 'TCP' })));
    if (torchPort !== undefined && !ports.some((p) => p.port === Number(torchPort))) ports.push({ name: 'pytorchjob-port', port: Number(torchPort), protocol: 'TCP' });
    for (let i = 0; i < Math.min(task.replicas ?? 1, 2); i++) {
      out.push({
        name: `${job}-${task.name}-${i}`,
        namespace,
        labels: { ...(task.template.metadata?.labels ?? {}), 'volcano.sh/job-name': job, 'volcano.sh/job-namespace': namespace, 'volcano.sh/task-spec': task.name },
        serviceAccount: task.template.spec.serviceAccountName ?? 'default',
        ports,
        probes: [],
      });
    }
  }
  return out;
}
