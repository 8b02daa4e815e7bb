/**
 * The mesh stage: per-service network policies derived from the *agreed* edges of the service graph
 * (src/compiler/mesh/graph.ts), enforced at two independent layers, plus the status that tells both owners
 * of a one-sided declaration what to add (docs/mesh.md).
 *
 * The mesh is Istio in **ambient** mode: the service's pods are enrolled with the pod label
 * `istio.io/dataplane-mode: ambient` ({@link AMBIENT_LABEL}), and the node's ztunnel then carries
 * every connection between enrolled pods as mutual TLS inside an HBONE tunnel to TCP 15008 of the
 * destination pod, where it is proxied back to the original port (istio.io, "Ambient and Kubernetes
 * NetworkPolicy"; "Add workloads to the mesh": the label may be put on a namespace or on a pod).
 *
 * Per service:
 * - `CiliumNetworkPolicy` (cilium.io/v2, L3/L4): selects the service's pods; default deny in both
 *   directions (`enableDefaultDeny`); ingress only from the pods of agreed callers, of the gateways
 *   of its routes and of the metrics scraper, on the HBONE port 15008 only; egress only to the pods of
 *   agreed callees on 15008, to the cluster DNS on port 53 with a DNS rule listing the names the
 *   service needs, and to the declared external services (`toFQDNs`, or `toCIDR` for IP addresses),
 *   which ztunnel passes through on their own port. Cilium enforces outside the pod, so it sees the
 *   tunnel (15008), never the application port inside it: the port is checked by the Istio policy.
 * - Istio `AuthorizationPolicy` (security.istio.io/v1, ALLOW), enforced by ztunnel at L4: the SPIFFE
 *   principals `<trustDomain>/ns/<namespace>/sa/<service>` of the agreed callers, on the service's
 *   container ports; none when nothing may call the service (the mesh-wide allow-nothing policy then
 *   denies everything). Only L4 attributes (principals, ports) are used, which ztunnel enforces
 *   without a waypoint (istio.io, "ztunnel: Layer 4 authorization policy");
 * - both policies also let in the platform gateways' proxies that the service's routes attach to
 *   (`spec.ingress`), on the ports those routes use only ({@link ingressPeers}, src/compiler/mesh/ingress.ts),
 *   and the metrics scraper on the metrics port only;
 * - one Istio `ServiceEntry` (networking.istio.io/v1) per external service host, visible to the
 *   service's namespace only (`exportTo: ["."]`).
 *
 * Cilium label semantics (docs.cilium.io, "Using Kubernetes Constructs In Policy"): pod labels are
 * matched with the `k8s:` source prefix; a namespaced policy's selectors are confined to its own
 * namespace unless they name `k8s:io.kubernetes.pod.namespace`, which Lattice always does for peers;
 * `k8s:io.cilium.k8s.policy.serviceaccount` is the pod's ServiceAccount.
 */
import type { ExternalServiceParams, LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { scraperIdentity, type MeshSettings } from '../../api/latticeplatform/v1alpha1.ts';
import { ServiceGraph, splitKey, type Edge } from './graph.ts';
import { parsedEndpoints } from '../../api/latticeservice/endpoint.ts';
import { cloudEgress } from '../workload/cloud.ts';
import { ingressPeers, type IngressPeer } from './ingress.ts';
import { hasOwnMeshIdentity, meshIdentityOf, type MeshIdentity } from './identity.ts';
import { LABELS, childName } from '../naming.ts';
import { metricsPort } from '../service/observability.ts';
import { derivedMeta, namespaceOf } from '../meta.ts';
import type { DerivationContext, DerivationState, Diagnostic, IndexedService, KubeObject } from '../types.ts';

/** The condition one-sided and unknown dependencies are reported on. */
export const DEPENDENCIES_AGREED = 'DependenciesAgreed';
/** The condition an inbound wildcard is flagged on (False) when no policy engine authorized it. */
export const INBOUND_RESTRICTED = 'InboundRestricted';

/** Reasons of {@link DEPENDENCIES_AGREED} and {@link INBOUND_RESTRICTED}. */
export const REASONS = {
  allAgreed: 'AllAgreed',
  inboundNotDeclared: 'InboundNotDeclared',
  outboundNotDeclared: 'OutboundNotDeclared',
  serviceNotFound: 'ServiceNotFound',
  serviceInvalid: 'ServiceInvalid',
  wildcardInbound: 'WildcardInbound',
} as const;

/** Cilium endpoint label keys, with their source prefix (docs.cilium.io, "Using Kubernetes Constructs In Policy"). */
export const CILIUM_LABELS = {
  /** The pod's namespace. */
  namespace: 'k8s:io.kubernetes.pod.namespace',
  /** The pod's ServiceAccount. */
  serviceAccount: 'k8s:io.cilium.k8s.policy.serviceaccount',
} as const;

/**
 * The pod label that enrols a pod in Istio's ambient mesh (istio.io, "Add workloads to the mesh":
 * `istio.io/dataplane-mode=ambient` on a namespace or on an individual pod).
 */
export const AMBIENT_LABEL = { key: 'istio.io/dataplane-mode', value: 'ambient' } as const;

/**
 * ztunnel's HBONE port: in ambient mode, traffic between enrolled pods arrives at the destination pod
 * on TCP 15008 and is proxied back to the original port inside the pod, so a network policy must allow
 * 15008 (istio.io, "Ambient and Kubernetes NetworkPolicy").
 */
export const HBONE_PORT = 15008;

/** The HBONE port as a {@link PodPort}. */
const HBONE: PodPort = { port: HBONE_PORT, protocol: 'TCP' };

/** A Cilium label key for a Kubernetes pod label. */
export function ciliumPodLabel(key: string): string {
  return `k8s:${key}`;
}

/**
 * The Cilium endpoint selector of the pods of workload `name` in `namespace`: by its pod labels,
 * namespace and ServiceAccount. Without `identity`, those of a workload Lattice runs (name label,
 * ServiceAccount `name`); with it, those of a mesh member (src/compiler/mesh/identity.ts).
 */
export function ciliumPeerSelector(name: string, namespace: string, identity?: MeshIdentity): { matchLabels: Record<string, string> } {
  const matchLabels: Record<string, string> = {};
  if (identity) {
    for (const [k, v] of Object.entries(identity.podLabels)) matchLabels[ciliumPodLabel(k)] = v;
  } else {
    matchLabels[ciliumPodLabel(LABELS.name)] = name;
  }
  matchLabels[CILIUM_LABELS.namespace] = namespace;
  matchLabels[CILIUM_LABELS.serviceAccount] = identity?.serviceAccount ?? name;
  return { matchLabels };
}

/** The SPIFFE identity Istio gives pods running as ServiceAccount `name` in `namespace` (a service's ServiceAccount is its name), as written in `principals`. */
export function principalOf(trustDomain: string, namespace: string, name: string): string {
  return `${trustDomain}/ns/${namespace}/sa/${name}`;
}

/** The DNS name of a service: `<name>.<namespace>.svc.<clusterDomain>`. */
export function serviceHost(name: string, namespace: string, clusterDomain: string): string {
  return `${name}.${namespace}.svc.${clusterDomain}`;
}

/** A port a service's pods listen on, as policies see it: the container (target) port. */
export interface PodPort {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

/**
 * The pod ports of a service: the `targetPort` (or `port`) of every declared Service port, unique,
 * in declaration order. Both Cilium and Istio match the port of the pod after Service translation.
 */
export function podPorts(service: LatticeService): PodPort[] {
  const seen = new Set<string>();
  const out: PodPort[] = [];
  for (const p of Object.values(service.spec.workload.service?.ports ?? {})) {
    const port = p.targetPort ?? p.port;
    const id = `${port}/${p.protocol}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ port, protocol: p.protocol });
  }
  return out;
}

/** One endpoint of an external-service resource, as the mesh allows it. */
export interface ExternalEndpoint {
  /** The resource name. */
  resource: string;
  /** Host name, IP address when `ip` is true, or the Cilium entity name when `entity` is set. */
  host: string;
  ip: boolean;
  /** The port; 0 for an entity endpoint without a port (every port). */
  port: number;
  /** http, https, grpc, grpcs, tcp, tls, udp, or entity. */
  scheme: string;
  /** TCP, UDP, or ANY (an entity endpoint without a port). */
  protocol: 'TCP' | 'UDP' | 'ANY';
  /** A Cilium entity (`entity:NAME`): derived as `toEntities`, with no ServiceEntry. */
  entity?: string;
  /** The resource's `params.resolution` (default dns). */
  resolution: 'dns' | 'static' | 'none';
}

/** Istio ServiceEntry port protocol per endpoint scheme: TLS is passed through, the app originates it. */
const ISTIO_PROTOCOLS: Record<string, string> = { http: 'HTTP', https: 'TLS', grpc: 'GRPC', grpcs: 'TLS', tcp: 'TCP', tls: 'TLS' };

/**
 * The endpoints of every external-service resource of a service, in declaration order (a map of
 * endpoints in name order), parsed by src/api/latticeservice/endpoint.ts.
 */
export function externalEndpoints(service: LatticeService): ExternalEndpoint[] {
  const out: ExternalEndpoint[] = [];
  for (const [resource, r] of Object.entries(service.spec.workload.resources ?? {})) {
    if (r.type !== 'external-service') continue;
    const resolution = (r.params as ExternalServiceParams | undefined)?.resolution ?? 'dns';
    for (const { endpoint: e } of parsedEndpoints(r.params)) {
      const base = { resource, host: e.host, ip: e.ip, port: e.port, scheme: e.scheme, protocol: e.protocol, resolution } as ExternalEndpoint;
      if (e.form === 'entity') base.entity = e.entity;
      out.push(base);
    }
  }
  return out;
}

const graphs = new WeakMap<ReadonlyMap<string, IndexedService>, ServiceGraph>();

/**
 * The graph of a derivation context: `ctx.graph` when the caller keeps one (the Fleet does), else
 * one built from `ctx.services` once per services map.
 */
export function graphOf(ctx: DerivationContext): ServiceGraph {
  if (ctx.graph) return ctx.graph;
  let graph = graphs.get(ctx.services);
  if (!graph) {
    graph = ServiceGraph.from([...ctx.services].map(([key, s]) => [key, s.service] as const));
    graphs.set(ctx.services, graph);
  }
  return graph;
}

/** The namespaces and labels policies use, from the platform settings. */
function meshOf(ctx: DerivationContext): MeshSettings {
  return ctx.settings.mesh;
}

/** Derives the CiliumNetworkPolicy, the AuthorizationPolicy and the ServiceEntries of a service, and reports its edges. */
export function deriveMesh(state: DerivationState): void {
  const graph = graphOf(state.ctx);
  const { outbound, inbound } = graph.edgesOf(state.key);
  report(state, graph, outbound, inbound);

  // Each peer with its mesh identity: the pods of a mesh member are selected by its own labels and
  // ServiceAccount (src/compiler/mesh/identity.ts), those of a workload Lattice runs by its name.
  const callers = inbound.filter((e) => e.state === 'agreed').map((e) => ({ ...splitKey(e.caller), identity: meshIdentityOf(graph.service(e.caller)!) }));
  const callees = outbound
    .filter((e) => e.state === 'agreed')
    .map((e) => ({ ...splitKey(e.callee), identity: meshIdentityOf(graph.service(e.callee)!), ports: podPorts(graph.service(e.callee)!) }))
    .filter((c) => c.ports.length > 0);
  const externals = externalEndpoints(state.service);
  const ports = podPorts(state.service);
  const gateways = ingressPeers(state.service, state.ctx.settings);
  const scraper = scraperPeer(state);

  const exposed = exposedPorts(state.service);
  const advertised = advertisePeer(state);

  enrolInAmbient(state);
  state.objects.push(ciliumPolicy(state, callers, callees, externals, ports, gateways, scraper, exposed, advertised));
  if ((callers.length > 0 && ports.length > 0) || gateways.length > 0 || scraper || exposed.some((p) => p.protocol === 'TCP') || advertised) {
    state.objects.push(authorizationPolicy(state, callers, ports, gateways, scraper, exposed, advertised));
  }
  const plaintext = exposedPeerAuthentication(state, exposed);
  if (plaintext) state.objects.push(plaintext);
  state.objects.push(...serviceEntries(state, externals));
}

/** The label that makes a Service global in Istio's ambient multicluster (its endpoints are shared with the other clusters). */
export const ISTIO_GLOBAL_LABEL = { key: 'istio.io/global', value: 'true' } as const;

/** Who reaches an advertised service from other clusters: the east-west gateway's pods, carrying the listed identities. */
interface AdvertisePeer {
  gateway: { namespace: string; podLabels: Record<string, string>; serviceAccount: string };
  /** SPIFFE principals of the allowed services; `*` for any. */
  principals: string[];
}

/**
 * `spec.advertise` (the reference's field): the service is reachable from the other clusters of an
 * Istio ambient multi-network mesh. A call from another cluster goes from the caller's ztunnel to this
 * cluster's east-west gateway, which forwards it in HBONE to TCP 15008 of the pod; the inner tunnel
 * keeps the caller's identity end to end (istio.io, "Install Multicluster" (ambient) and "Install
 * ambient multi-primary on different networks"). So Cilium must admit the east-west gateway's pods
 * on 15008, and ztunnel the listed callers' principals on the service's ports. The Service gets the
 * label `istio.io/global: "true"`, the ambient multicluster service scope (services are local to their
 * cluster unless marked global; src/compiler/service/network.ts). A "*" entry admits any principal
 * (Cedar AllowWildcard on Mesh "advertise", asked by the authorization gate). Entries name
 * `namespace/name`, read as `<trustDomain>/ns/<namespace>/sa/<name>` (the clusters share a trust domain).
 * Undefined without `spec.advertise`; an error (AdvertiseNotConfigured) when the platform names no
 * east-west gateway.
 */
function advertisePeer(state: DerivationState): AdvertisePeer | undefined {
  const advertise = state.service.spec.advertise;
  if (advertise === undefined) return undefined;
  const mesh = meshOf(state.ctx);
  if (mesh.eastWestGateway === undefined) {
    const path = ['spec', 'advertise'];
    const d: Diagnostic = {
      severity: 'error',
      condition: 'PlatformSupported',
      reason: 'AdvertiseNotConfigured',
      path: path.join('.'),
      message: `advertise makes the service reachable from other clusters through the mesh's east-west gateway, but this platform names none (LatticePlatform spec.mesh.eastWestGateway): ask ${state.ctx.settings.platformContact} to configure it, or remove advertise`,
    };
    const location = state.input.locate?.(path);
    if (location) d.location = location;
    state.diagnostics.push(d);
    return undefined;
  }
  const principals = advertise.allowedServices.includes('*')
    ? ['*']
    : [...new Set(advertise.allowedServices.map((e) => {
        const [ns, name] = e.split('/') as [string, string];
        return principalOf(mesh.trustDomain, ns, name);
      }))].sort();
  return { gateway: mesh.eastWestGateway, principals };
}

/**
 * The pod ports a Service of type NodePort or LoadBalancer exposes outside the cluster
 * (`workload.service.serviceType`), or none. Clients outside the cluster have no mesh identity and
 * arrive in plain text on these ports, not through ztunnel's HBONE port.
 */
export function exposedPorts(service: LatticeService): PodPort[] {
  const svc = service.spec.workload.service;
  if (svc === undefined || svc.serviceType === 'ClusterIP') return [];
  return podPorts(service);
}

/**
 * A workload PeerAuthentication letting plain text in on the exposed TCP ports only: the mesh-wide
 * STRICT mode (platform baseline) refuses connections without mutual TLS, which is every client of a
 * NodePort or LoadBalancer Service. `mtls: UNSET` keeps STRICT on every other port; `portLevelMtls`
 * names workload (container) ports (istio.io, PeerAuthentication reference: "the port value in the
 * portLevelMtls field refers to the port of the workload"; in ambient mode DISABLE is not supported,
 * PERMISSIVE is). Who may then connect is the AuthorizationPolicy's and Cilium's decision.
 */
function exposedPeerAuthentication(state: DerivationState, exposed: PodPort[]): KubeObject | undefined {
  const tcp = exposed.filter((p) => p.protocol === 'TCP');
  if (tcp.length === 0) return undefined;
  const name = state.service.metadata.name;
  const portLevelMtls: Record<string, { mode: string }> = {};
  for (const p of tcp) portLevelMtls[String(p.port)] = { mode: 'PERMISSIVE' };
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: derivedMeta(state, name),
    spec: { selector: { matchLabels: { [LABELS.name]: name } }, mtls: { mode: 'UNSET' }, portLevelMtls },
  };
}

/**
 * Enrols the service's pods in the ambient mesh: the label {@link AMBIENT_LABEL} on the pod template
 * of its Deployment (derived by workload.ts, earlier in the pipeline). Pods rather than the namespace:
 * Lattice owns the pods it derives but not the namespace (created by the platform team or Flux, and
 * possibly holding other workloads), the label takes effect without a restart, and a Namespace
 * object in the output would be pruned by the controller with everything in it.
 */
function enrolInAmbient(state: DerivationState): void {
  for (const o of state.objects) {
    if (o.kind !== 'Deployment' || o.apiVersion !== 'apps/v1') continue;
    const template = (o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
    if (!template) continue;
    template.metadata ??= {};
    template.metadata.labels = { ...template.metadata.labels, [AMBIENT_LABEL.key]: AMBIENT_LABEL.value };
  }
}

/** The metrics scraper and the one container port it may reach (the port the VMServiceScrape reads). */
interface ScraperPeer {
  namespace: string;
  serviceAccount: string;
  podLabels: Record<string, string>;
  port: PodPort;
}

/**
 * The scraper peer of a service with a metrics port (observability.ts decides which port), else
 * undefined. A workload whose pods Lattice does not run (a mesh member, a package) gets no
 * VMServiceScrape and so no scraper: none of its ports is opened to it.
 */
function scraperPeer(state: DerivationState): ScraperPeer | undefined {
  if (hasOwnMeshIdentity(state.service)) return undefined;
  const portName = metricsPort(state);
  const port = portName === undefined ? undefined : state.service.spec.workload.service?.ports[portName];
  if (!port) return undefined;
  const scraper = scraperIdentity(meshOf(state.ctx));
  return { ...scraper, port: { port: port.targetPort ?? port.port, protocol: port.protocol } };
}

function ciliumPorts(ports: readonly PodPort[]): { ports: { port: string; protocol: string }[] }[] {
  return [{ ports: ports.map((p) => ({ port: String(p.port), protocol: p.protocol })) }];
}

/** An agreed peer of the workload, with the identity its pods are selected and authenticated by. */
interface Peer {
  namespace: string;
  name: string;
  identity: MeshIdentity;
}

function ciliumPolicy(
  state: DerivationState,
  callers: Peer[],
  callees: (Peer & { ports: PodPort[] })[],
  externals: ExternalEndpoint[],
  ports: PodPort[],
  gateways: IngressPeer[],
  scraper: ScraperPeer | undefined,
  exposed: PodPort[],
  advertised: AdvertisePeer | undefined,
): KubeObject {
  const { settings } = state.ctx;
  const mesh = meshOf(state.ctx);
  const name = state.service.metadata.name;
  // Every name the pods need to resolve: agreed callees and external hosts. In ambient mode the pods
  // do not talk to istiod (ztunnel does, from its own pod), so neither istiod's name nor its port is allowed.
  const names = new Set<string>();
  for (const c of callees) for (const n of c.identity.serviceNames ?? [c.name]) names.add(serviceHost(n, c.namespace, settings.clusterDomain));
  for (const e of externals) if (!e.ip && e.entity === undefined) names.add(e.host);
  const cloud = cloudEgress(state.service);
  for (const n of cloud.names) names.add(n);

  const dnsSelector: Record<string, string> = { [CILIUM_LABELS.namespace]: mesh.dns.namespace };
  for (const [k, v] of Object.entries(mesh.dns.podLabels)) dnsSelector[ciliumPodLabel(k)] = v;

  // No name needed, no DNS rule: an empty `rules.dns` list would not restrict the names at all.
  const egress: Record<string, unknown>[] = names.size === 0 ? [] : [
    {
      toEndpoints: [{ matchLabels: dnsSelector }],
      toPorts: [{
        ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }],
        rules: { dns: [...names].sort().map((n) => ({ matchName: n })) },
      }],
    },
  ];
  // ztunnel opens the tunnel to the callee's pod on 15008 from inside this pod (its address and identity).
  if (callees.length > 0) {
    const selectors = callees.map((c) => {
      const sel = ciliumPeerSelector(c.name, c.namespace, c.identity);
      // The callee's pods are matched by name label and namespace; its ServiceAccount is not needed to select it.
      delete sel.matchLabels[CILIUM_LABELS.serviceAccount];
      return sel;
    });
    egress.push({ toEndpoints: selectors, toPorts: ciliumPorts([HBONE]) });
  }
  // External endpoints: one rule per port and protocol, host names through toFQDNs, addresses through
  // toCIDR, Cilium entities through toEntities (an entity without a port: every port and protocol).
  const byPort = new Map<string, { port: number; protocol: string; names: Set<string>; cidrs: Set<string>; entities: Set<string> }>();
  for (const e of externals) {
    const key = `${e.port}/${e.protocol}`;
    let group = byPort.get(key);
    if (!group) byPort.set(key, (group = { port: e.port, protocol: e.protocol, names: new Set(), cidrs: new Set(), entities: new Set() }));
    if (e.entity !== undefined) group.entities.add(e.entity);
    else if (e.ip) group.cidrs.add(e.host.includes(':') ? `${e.host}/128` : `${e.host}/32`);
    else group.names.add(e.host);
  }
  for (const group of byPort.values()) {
    const toPorts = group.port === 0 ? undefined : ciliumPorts([{ port: group.port, protocol: group.protocol as PodPort['protocol'] }]);
    const withPorts = (rule: Record<string, unknown>): Record<string, unknown> => (toPorts ? { ...rule, toPorts } : rule);
    if (group.names.size > 0) egress.push(withPorts({ toFQDNs: [...group.names].map((n) => ({ matchName: n })) }));
    if (group.cidrs.size > 0) egress.push(withPorts({ toCIDR: [...group.cidrs] }));
    if (group.entities.size > 0) egress.push(withPorts({ toEntities: [...group.entities].sort() }));
  }
  // Cloud identity (cloud.ts): the EKS Pod Identity agent or the Entra token endpoint.
  egress.push(...cloud.rules);

  const spec: Record<string, unknown> = {
    description: `Derived by Lattice for ${state.key}: only agreed service dependencies${gateways.length > 0 ? ', the gateways of its routes' : ''}${scraper ? ', the metrics scraper' : ''} over ztunnel's HBONE port 15008, DNS and declared external services.`,
    endpointSelector: { matchLabels: ciliumLabels(meshIdentityOf(state.service).podLabels) },
    enableDefaultDeny: { ingress: true, egress: true },
  };
  // Every peer arrives through ztunnel on 15008; which application port it may use is the Istio
  // policy's decision (ztunnel sees the original port inside the tunnel, Cilium does not).
  const peers: { matchLabels: Record<string, string> }[] = [];
  if (ports.length > 0) for (const c of callers) peers.push(ciliumPeerSelector(c.name, c.namespace, c.identity));
  const gatewaySelectors = new Map<string, { matchLabels: Record<string, string> }>();
  for (const g of gateways) gatewaySelectors.set(`${g.gateway.namespace}/${g.gateway.name}/${g.serviceAccount}`, gatewaySelector(g));
  peers.push(...gatewaySelectors.values());
  if (scraper) {
    const matchLabels: Record<string, string> = {};
    for (const [k, v] of Object.entries(scraper.podLabels)) matchLabels[ciliumPodLabel(k)] = v;
    matchLabels[CILIUM_LABELS.namespace] = scraper.namespace;
    matchLabels[CILIUM_LABELS.serviceAccount] = scraper.serviceAccount;
    peers.push({ matchLabels });
  }
  if (advertised && ports.length > 0) {
    const matchLabels: Record<string, string> = {};
    for (const [k, v] of Object.entries(advertised.gateway.podLabels)) matchLabels[ciliumPodLabel(k)] = v;
    matchLabels[CILIUM_LABELS.namespace] = advertised.gateway.namespace;
    matchLabels[CILIUM_LABELS.serviceAccount] = advertised.gateway.serviceAccount;
    peers.push({ matchLabels });
  }
  const ingress: Record<string, unknown>[] = [];
  if (peers.length > 0) ingress.push({ fromEndpoints: peers, toPorts: ciliumPorts([HBONE]) });
  // A NodePort or LoadBalancer Service: clients outside the cluster (the `world` entity; the Service
  // keeps their address with externalTrafficPolicy Local) on the exposed ports, in plain text.
  if (exposed.length > 0) ingress.push({ fromEntities: ['world'], toPorts: ciliumPorts(exposed) });
  if (ingress.length > 0) spec.ingress = ingress;
  // Nothing to allow: the empty rule, Cilium's documented deny-all (the CRD needs ingress or egress);
  // `enableDefaultDeny` states the deny either way.
  spec.egress = egress.length > 0 ? egress : [{}];
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: derivedMeta(state, name), spec };
}

/** The Cilium selector of a gateway's proxy pods: their gateway-name label, namespace and ServiceAccount. */
function gatewaySelector(g: IngressPeer): { matchLabels: Record<string, string> } {
  const matchLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(g.podLabels)) matchLabels[ciliumPodLabel(k)] = v;
  matchLabels[CILIUM_LABELS.namespace] = g.gateway.namespace;
  matchLabels[CILIUM_LABELS.serviceAccount] = g.serviceAccount;
  return { matchLabels };
}

/** Pod labels as Cilium endpoint labels (`k8s:` source prefix). */
function ciliumLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [ciliumPodLabel(k), v]));
}

function authorizationPolicy(state: DerivationState, callers: Peer[], ports: PodPort[], gateways: IngressPeer[], scraper: ScraperPeer | undefined, exposed: PodPort[], advertised: AdvertisePeer | undefined): KubeObject {
  const name = state.service.metadata.name;
  const trustDomain = meshOf(state.ctx).trustDomain;
  const rules: Record<string, unknown>[] = [];
  if (callers.length > 0 && ports.length > 0) {
    rules.push({
      from: [{ source: { principals: callers.map((c) => principalOf(trustDomain, c.namespace, c.identity.serviceAccount)) } }],
      to: [{ operation: { ports: ports.map((p) => String(p.port)) } }],
    });
  }
  for (const g of gateways) {
    rules.push({ from: [{ source: { principals: [principalOf(trustDomain, g.gateway.namespace, g.serviceAccount)] } }], to: [{ operation: { ports: [String(g.port)] } }] });
  }
  if (scraper) {
    rules.push({ from: [{ source: { principals: [principalOf(trustDomain, scraper.namespace, scraper.serviceAccount)] } }], to: [{ operation: { ports: [String(scraper.port.port)] } }] });
  }
  const tcpPorts = ports.filter((p) => p.protocol === 'TCP');
  if (advertised && tcpPorts.length > 0) {
    // Callers of other clusters (through the east-west gateway, identity kept), on the service's ports.
    rules.push({ from: [{ source: { principals: advertised.principals } }], to: [{ operation: { ports: tcpPorts.map((p) => String(p.port)) } }] });
  }
  const exposedTcp = exposed.filter((p) => p.protocol === 'TCP');
  if (exposedTcp.length > 0) {
    // Plain-text clients of the exposed Service (no mesh identity: `notPrincipals: ["*"]` matches only
    // a connection without one), on the exposed ports only.
    rules.push({ from: [{ source: { notPrincipals: ['*'] } }], to: [{ operation: { ports: exposedTcp.map((p) => String(p.port)) } }] });
  }
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: derivedMeta(state, name),
    spec: { selector: { matchLabels: { ...meshIdentityOf(state.service).podLabels } }, action: 'ALLOW', rules },
  };
}

/**
 * One ServiceEntry per external host of each resource. Entity endpoints get none (Cilium alone
 * allows them), and neither do UDP endpoints: Istio does not proxy UDP, which passes as it is
 * (istio.io, "Protocol Selection": "Non-TCP based protocols, such as UDP, are not proxied"), so
 * Istio has nothing to route and Cilium alone allows it.
 * `resolution` follows the resource's `params.resolution`: dns (host names resolved by DNS; an IP
 * address is a STATIC entry with that endpoint), static (IP addresses, STATIC), none (NONE: the
 * connection keeps the address the application resolved; istio.io, ServiceEntry reference,
 * "Resolution").
 */
/** The key grouping the IP-address endpoints of a resource (never a host name: it has a NUL). */
const IP_GROUP = '\u0000addresses';

function serviceEntries(state: DerivationState, externals: ExternalEndpoint[]): KubeObject[] {
  const svc = state.service.metadata.name;
  const namespace = namespaceOf(state);
  const byResource = new Map<string, Map<string, ExternalEndpoint[]>>();
  for (const e of externals) {
    if (e.entity !== undefined || e.protocol !== 'TCP') continue;
    let hosts = byResource.get(e.resource);
    if (!hosts) byResource.set(e.resource, (hosts = new Map()));
    // The addresses of a resource share one entry (one made-up host name can have one entry only).
    const key = e.ip ? IP_GROUP : e.host;
    const list = hosts.get(key) ?? [];
    list.push(e);
    hosts.set(key, list);
  }
  const out: KubeObject[] = [];
  for (const [resource, hosts] of byResource) {
    for (const [host, endpoints] of hosts) {
      const first = endpoints[0]!;
      const suffix = host === IP_GROUP ? 'addresses' : host.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      const name = hosts.size === 1 ? childName([svc, resource], 253) : childName([svc, resource, suffix], 253);
      const seen = new Set<number>();
      const ports = endpoints
        .filter((e) => !seen.has(e.port) && seen.add(e.port))
        .map((e) => {
          const protocol = ISTIO_PROTOCOLS[e.scheme] ?? 'TCP';
          return { number: e.port, name: `${protocol.toLowerCase()}-${e.port}`, protocol };
        });
      let spec: Record<string, unknown>;
      if (first.ip) {
        const addresses = [...new Set(endpoints.map((e) => e.host))];
        spec = {
          // An address has no name to route on: Istio matches it by address, and still needs a host name.
          hosts: [`${resource}.${svc}.${namespace}.lattice.external`],
          addresses,
          ports,
          location: 'MESH_EXTERNAL',
          resolution: first.resolution === 'none' ? 'NONE' : 'STATIC',
          ...(first.resolution === 'none' ? {} : { endpoints: addresses.map((address) => ({ address })) }),
          exportTo: ['.'],
        };
      } else {
        spec = { hosts: [host], ports, location: 'MESH_EXTERNAL', resolution: first.resolution === 'none' ? 'NONE' : 'DNS', exportTo: ['.'] };
      }
      out.push({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: derivedMeta(state, name), spec });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Status: one-sided and unknown dependencies, reported to both owners.

const STILL_DEPLOYED = 'This service is still deployed and Ready; only this dependency is denied.';

/**
 * What the owners of `targetKey` must write so that it declares `peerKey` in `direction`: a line
 * to add under `spec.workload.resources`, or, when it already declares the peer the other way, a
 * change of that resource's direction to `both`.
 */
export function declarationHint(target: LatticeService | undefined, targetKey: string, peerKey: string, direction: 'inbound' | 'outbound'): string {
  const targetNamespace = splitKey(targetKey).namespace;
  const peer = splitKey(peerKey);
  // A mesh member or a package declares its peers in lists of its own (src/compiler/mesh/identity.ts).
  const declaredIn = target ? meshIdentityOf(target).declaredIn : undefined;
  if (declaredIn) {
    const ref = peer.namespace !== targetNamespace ? `{name: ${peer.name}, namespace: ${peer.namespace}}` : `{name: ${peer.name}}`;
    return `add \`${ref}\` to ${[...declaredIn, direction === 'inbound' ? 'allowedCallers' : 'dependencies'].join('.')}`;
  }
  const resources = target?.spec.workload.resources ?? {};
  for (const [r, res] of Object.entries(resources)) {
    if (res.type !== 'service' || res.id === '*') continue;
    if (`${res.namespace ?? targetNamespace}/${res.id ?? r}` === peerKey) {
      return `change spec.workload.resources.${r}.direction to both`;
    }
  }
  let name = peer.name;
  let withId = false;
  if (Object.hasOwn(resources, name)) {
    withId = true;
    name = `${peer.namespace}-${peer.name}`;
    for (let n = 2; Object.hasOwn(resources, name); n++) name = `${peer.namespace}-${peer.name}-${n}`;
  }
  const fields = ['type: service', `direction: ${direction}`];
  if (withId) fields.push(`id: ${peer.name}`);
  if (peer.namespace !== targetNamespace) fields.push(`namespace: ${peer.namespace}`);
  return `add under spec.workload.resources: \`${name}: {${fields.join(', ')}}\``;
}

/** The list a podless unit's resource name (`caller-<i>`, `dependency-<i>`, `egress-<i>`) stands for. */
const PODLESS_FIELDS: Record<string, string> = { caller: 'allowedCallers', dependency: 'dependencies', egress: 'egress' };

/**
 * Where `service` declares `resource`, as its owners write it: `spec.workload.resources.<name>` for a
 * service; for a mesh member or a package, the entry of its own list (`spec.allowedCallers.0`,
 * `spec.mesh.dependencies.1`, ...). Without a resource: the whole declaration section.
 */
export function declarationPath(service: LatticeService | undefined, resource: string | undefined): (string | number)[] {
  const declaredIn = service ? meshIdentityOf(service).declaredIn : undefined;
  if (!declaredIn) return resource === undefined ? ['spec', 'workload', 'resources'] : ['spec', 'workload', 'resources', resource];
  const m = resource === undefined ? null : /^(caller|dependency|egress)-(\d+)$/.exec(resource);
  return m ? [...declaredIn, PODLESS_FIELDS[m[1]!]!, Number(m[2])] : [...declaredIn];
}

/** {@link declarationPath} as written in a message, relative to `spec.workload` for a service (`resources.<name>`). */
function declared(service: LatticeService | undefined, resource: string | undefined): string {
  const path = declarationPath(service, resource);
  return (path[1] === 'workload' ? path.slice(2) : path).join('.');
}

function warn(state: DerivationState, condition: string, reason: string, resource: string | undefined, message: string): void {
  const path = declarationPath(state.service, resource);
  const d: Diagnostic = { severity: 'warning', condition, reason, path: path.join('.'), message };
  if (state.input.locate) d.location = state.input.locate(path);
  state.diagnostics.push(d);
}

function report(state: DerivationState, graph: ServiceGraph, outbound: Edge[], inbound: Edge[]): void {
  const self = state.key;
  const missingPeer = (peer: string): { reason: string; what: string } =>
    graph.isInvalid(peer)
      ? { reason: REASONS.serviceInvalid, what: `${peer} exists but fails validation, so it has no policies and its declarations are not read; its owners must fix it (see its Validated condition)` }
      : { reason: REASONS.serviceNotFound, what: `no service ${peer} is among the services Lattice sees; check the name and namespace (the resource's id and namespace), or create that service` };
  let problems = 0;
  for (const e of outbound) {
    if (e.state === 'agreed') continue;
    problems++;
    if (e.state === 'inbound-missing') {
      warn(state, DEPENDENCIES_AGREED, REASONS.inboundNotDeclared, e.callerResource,
        `this service declares that it calls ${e.callee}, but ${e.callee} does not accept calls from it, so both network layers deny that traffic. ` +
          `The owners of ${e.callee} must ${declarationHint(graph.service(e.callee), e.callee, self, 'inbound')}. ${STILL_DEPLOYED}`);
    } else if (e.state === 'outbound-missing') {
      warn(state, DEPENDENCIES_AGREED, REASONS.outboundNotDeclared, undefined,
        `${e.callee} accepts calls from this service (its ${declared(graph.service(e.callee), e.calleeResource)}), but this service does not declare that it calls ${e.callee}, so that traffic is denied. ` +
          `If this service calls it, ${declarationHint(state.service, self, e.callee, 'outbound')}; if not, ask the owners of ${e.callee} to remove ${declared(graph.service(e.callee), e.calleeResource)}. ${STILL_DEPLOYED}`);
    } else {
      const m = missingPeer(e.callee);
      warn(state, DEPENDENCIES_AGREED, m.reason, e.callerResource, `this service declares that it calls ${e.callee}, but ${m.what}. Until then that traffic is denied. ${STILL_DEPLOYED}`);
    }
  }
  for (const e of inbound) {
    if (e.state === 'agreed' || e.caller === self) continue; // a self-edge was reported as outbound
    problems++;
    if (e.state === 'inbound-missing') {
      warn(state, DEPENDENCIES_AGREED, REASONS.inboundNotDeclared, undefined,
        `${e.caller} declares that it calls this service (its ${declared(graph.service(e.caller), e.callerResource)}), but this service does not accept it, so that traffic is denied. ` +
          `To accept it, ${declarationHint(state.service, self, e.caller, 'inbound')}; if not, ask the owners of ${e.caller} to remove the dependency. ${STILL_DEPLOYED}`);
    } else if (e.state === 'outbound-missing') {
      warn(state, DEPENDENCIES_AGREED, REASONS.outboundNotDeclared, e.calleeResource,
        `this service accepts calls from ${e.caller}, but ${e.caller} does not declare that it calls this service, so no traffic from it is allowed. ` +
          `The owners of ${e.caller} must ${declarationHint(graph.service(e.caller), e.caller, self, 'outbound')}; or remove this resource if the call is not wanted. ${STILL_DEPLOYED}`);
    } else {
      const m = missingPeer(e.caller);
      warn(state, DEPENDENCIES_AGREED, m.reason, e.calleeResource, `this service accepts calls from ${e.caller}, but ${m.what}; or remove this resource. ${STILL_DEPLOYED}`);
    }
  }
  const wildcard = graph.wildcardOf(self);
  const throughWildcard = inbound.filter((e) => e.wildcard).map((e) => e.caller);
  const shown = throughWildcard.length > 10 ? `${throughWildcard.slice(0, 10).join(', ')} and ${throughWildcard.length - 10} more` : throughWildcard.join(', ');
  if (problems === 0) {
    const agreed = new Set([...outbound, ...inbound].map((e) => `${e.caller}>${e.callee}`)).size;
    const viaWildcard = wildcard && throughWildcard.length > 0
      ? ` ${throughWildcard.length} caller${throughWildcard.length === 1 ? ' is' : 's are'} accepted through the wildcard ${declared(state.service, wildcard.resource)}${state.ctx.policyEngine ? ', which the platform\'s authorization policies permit' : ''}.`
      : '';
    state.conditions.set(DEPENDENCIES_AGREED, {
      type: DEPENDENCIES_AGREED,
      status: 'True',
      reason: REASONS.allAgreed,
      message: (agreed > 0
        ? `All ${agreed} service dependenc${agreed === 1 ? 'y is' : 'ies are'} declared by both sides.`
        : wildcard
          ? `No service calls this one yet; it accepts any service that declares it (${declared(state.service, wildcard.resource)}).`
          : 'This service declares no service dependencies and no service declares it.') + viaWildcard,
    });
  }
  // With a policy engine, the authorization gate has already permitted the wildcard (Cedar action
  // AllowWildcard) or failed the service. Without one, nothing authorized it: allowed, and flagged.
  if (wildcard && !state.ctx.policyEngine) {
    warn(state, INBOUND_RESTRICTED, REASONS.wildcardInbound, wildcard.resource,
      `id "*" accepts calls from every service${wildcard.namespace ? ` in namespace ${wildcard.namespace}` : ''} that declares this one as a dependency, without naming it, ` +
        'and no authorization policy engine is configured to decide who may use a wildcard: it is allowed and flagged here. ' +
        `Name each caller with direction: inbound to clear this. Callers accepted through the wildcard: ${shown || 'none yet'}.`);
  }
}
