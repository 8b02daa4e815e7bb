/**
 * Ingress: HTTP traffic from outside the mesh, through the platform's Gateway API gateways.
 *
 * For each route of `spec.ingress.routes`, in the service's namespace:
 * - an `HTTPRoute` (gateway.networking.k8s.io/v1) `<service>-<route>` matching the route's hosts and
 *   paths and sending to the route's port of the service's Service. It attaches to the platform's
 *   internal or public Gateway (LatticePlatform `spec.gateways`) with one `parentRefs` entry per
 *   host, each naming that host's listener (`sectionName`, {@link listenerName});
 * - when the gateway has a cert-manager `clusterIssuer`: a `Certificate` (cert-manager.io/v1)
 *   `<service>-<route>` for the route's hosts, stored in Secret `<service>-<route>-tls`, and, when
 *   the Gateway lives in another namespace, a `ReferenceGrant` (gateway.networking.k8s.io/v1beta1)
 *   `<service>-<route>-tls` in the service's namespace letting Gateways of the gateway's namespace
 *   read that one Secret (Gateway API: a cross-namespace reference needs a ReferenceGrant in the
 *   namespace of the target, from the kind and namespace of the referrer; gateway-api.sigs.k8s.io,
 *   "ReferenceGrant").
 *
 * At platform level ({@link deriveGateways}) Lattice derives the Gateways themselves: one listener
 * per host of every successfully derived route, named {@link listenerName}(host), with
 * - `hostname` the host, HTTPS on 443 terminating TLS with the route's certificate Secret
 *   (`certificateRefs`, namespace-qualified and covered by the ReferenceGrant above) when the
 *   gateway has a clusterIssuer, else HTTP on 80;
 * - `allowedRoutes` admitting HTTPRoutes from the owning service's namespace only (`from: Same`, or
 *   `from: Selector` on `kubernetes.io/metadata.name`, the label the API server sets on every
 *   namespace since Kubernetes 1.21): a route attaching to a Gateway in another
 *   namespace is allowed by the listener, not by a ReferenceGrant (Gateway API, "Cross Namespace
 *   routing"), and no other namespace can attach to the host.
 * So a route's certificate is served: the listener for its host references its Secret, the grant
 * lets the Gateway read it, the route attaches to that listener by `sectionName`. A Gateway has at
 * most 64 listeners (Gateway API `spec.listeners` maxItems): more hosts on one gateway need a second
 * gateway setting (Lattice does not split them).
 *
 * Host ownership: a host is claimed by every valid service whose routes list it; the first claim
 * owns it ({@link compareClaims}: oldest `metadata.creationTimestamp`, then `namespace/name`), and a
 * later claimant fails with reason HostAlreadyClaimed naming the owner (and its file and line when
 * it came from a file). The Fleet keeps the claims ({@link HostClaims}) and re-derives every
 * claimant of a host when one of them changes.
 *
 * The mesh lets the gateway's proxies reach the service on the route's port, and nothing else:
 * {@link ingressPeers} says who and where, for src/compiler/mesh/mesh.ts.
 *
 * Every route, internal or public, needs a Cedar permit for action `ExposeRoute` on each of its
 * hosts (resource `Lattice::Route::"<host>"` with attributes host, exposure, namespace). That check
 * is part of the authorization gate (src/compiler/workload/authorization.ts, requests built in
 * src/policy/requests.ts), so a denied host fails the service before anything here runs.
 */
import type { GatewaySetting, PlatformSettings } from '../../api/latticeplatform/v1alpha1.ts';
import type { LatticeService, Route } from '../../api/latticeservice/v1alpha1.ts';
import { childName } from '../naming.ts';
import { derivedMeta, namespaceOf } from '../meta.ts';
import { PLATFORM_CONDITION } from '../service/autoscaling.ts';
import { createHash } from 'node:crypto';
import type { SourceLocation } from '../../api/source.ts';
import { LABELS, MANAGED_BY } from '../naming.ts';
import { VALIDATED } from '../service/validate.ts';
import type { DerivationContext, DerivationState, Diagnostic, IndexedService, KubeObject } from '../types.ts';

/** The Gateway API group. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** The label Gateway API implementations (Istio among them) put on a Gateway's proxy pods. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** A route of a service with its resolved port. */
export interface ResolvedRoute {
  name: string;
  route: Route;
  /** HTTPRoute, GRPCRoute or TCPRoute. */
  kind: Route['kind'];
  /** The route's hosts (none for a TCPRoute). */
  hosts: string[];
  /** Name of the Service port the route sends to. */
  portName: string;
  /** The Service port number (the HTTPRoute backendRef port). */
  port: number;
  /** The container port behind it (what a mesh policy on the pods must open). */
  targetPort: number;
}

/** The routes of a service, with ports resolved (the port named, else `http`, else the only port), in name order. */
export function resolvedRoutes(service: LatticeService): ResolvedRoute[] {
  const ports = service.spec.workload.service?.ports ?? {};
  const names = Object.keys(ports);
  const out: ResolvedRoute[] = [];
  for (const name of Object.keys(service.spec.ingress?.routes ?? {}).sort()) {
    const route = service.spec.ingress!.routes[name]!;
    const portName = route.port ?? (ports.http !== undefined ? 'http' : names[0]);
    const p = portName === undefined ? undefined : ports[portName];
    // The schema guarantees a resolvable TCP port; a route without one is skipped defensively.
    if (portName === undefined || p === undefined) continue;
    out.push({ name, route, kind: route.kind, hosts: [...(route.hosts ?? [])], portName, port: p.port, targetPort: p.targetPort ?? p.port });
  }
  return out;
}

/** The gateway of an exposure on this platform, or undefined when the platform has none. */
export function gatewayFor(settings: Pick<PlatformSettings, 'gateways'>, exposure: Route['exposure']): GatewaySetting | undefined {
  return settings.gateways?.[exposure];
}

/** ServiceAccount of a gateway's proxy pods: the setting, else Istio's `<gateway>-istio`. */
export function gatewayServiceAccount(gateway: GatewaySetting): string {
  return gateway.serviceAccount ?? `${gateway.name}-istio`;
}

/** Who may reach a service from a gateway, and on which port: one entry per gateway and port. */
export interface IngressPeer {
  exposure: Route['exposure'];
  gateway: { name: string; namespace: string };
  /** ServiceAccount of the gateway's proxy pods, in `gateway.namespace` (Istio principal `<trust domain>/ns/<namespace>/sa/<serviceAccount>`). */
  serviceAccount: string;
  /** Labels of the gateway's proxy pods (Cilium endpoint selector, with the namespace). */
  podLabels: Record<string, string>;
  /** Name of the Service port the routes use. */
  portName: string;
  /** The container port the gateway connects to (Service targetPort). */
  port: number;
  protocol: 'TCP';
  /** Routes using this gateway and port, by name. */
  routes: string[];
}

/**
 * The gateway identities and ports the mesh must allow into the service: for every gateway its
 * routes attach to, the gateway's proxies on each port those routes use, and nothing else. Routes
 * whose exposure has no gateway configured are left out (the service fails for them anyway).
 * Sorted by exposure, then port name, so the result is stable.
 */
export function ingressPeers(service: LatticeService, settings: Pick<PlatformSettings, 'gateways'>): IngressPeer[] {
  const byKey = new Map<string, IngressPeer>();
  for (const r of resolvedRoutes(service)) {
    const gateway = gatewayFor(settings, r.route.exposure);
    if (gateway === undefined) continue;
    const key = `${r.route.exposure}/${r.portName}`;
    const existing = byKey.get(key);
    if (existing) {
      existing.routes.push(r.name);
      continue;
    }
    byKey.set(key, {
      exposure: r.route.exposure,
      gateway: { name: gateway.name, namespace: gateway.namespace },
      serviceAccount: gatewayServiceAccount(gateway),
      podLabels: { [GATEWAY_NAME_LABEL]: gateway.name },
      portName: r.portName,
      port: r.targetPort,
      protocol: 'TCP',
      routes: [r.name],
    });
  }
  return [...byKey.values()].sort((a, b) => (a.exposure === b.exposure ? (a.portName < b.portName ? -1 : 1) : a.exposure < b.exposure ? -1 : 1));
}

/**
 * The TLS of a route at its gateway (the reference's `tls` shape, src/api/latticeservice/v1alpha1.ts
 * tlsSchema): `none` (plain HTTP or TCP), `secret` (a kubernetes.io/tls Secret the team provides,
 * served as is), `issued` (a cert-manager Certificate Lattice derives, signed by `issuer`), or
 * `unconfigured` (`tls: {}` on a gateway without a clusterIssuer: an error).
 */
export type RouteTls =
  | { mode: 'none' }
  | { mode: 'secret'; secretName: string }
  | { mode: 'issued'; secretName: string; issuer: { name: string; kind: 'ClusterIssuer' | 'Issuer' } }
  | { mode: 'unconfigured' };

/** The TLS of route `r` of service `service` on `gateway` (see {@link RouteTls}). */
export function routeTls(service: string, r: ResolvedRoute, gateway: GatewaySetting): RouteTls {
  const tls = r.route.tls;
  if (tls?.secretName !== undefined) return { mode: 'secret', secretName: tls.secretName };
  if (r.kind === 'TCPRoute') return { mode: 'none' };
  const secretName = tlsSecretName(service, r.name);
  if (tls?.issuerRef !== undefined) return { mode: 'issued', secretName, issuer: { name: tls.issuerRef.name, kind: tls.issuerRef.kind ?? 'ClusterIssuer' } };
  if (gateway.clusterIssuer !== undefined) return { mode: 'issued', secretName, issuer: { name: gateway.clusterIssuer, kind: 'ClusterIssuer' } };
  return tls === undefined ? { mode: 'none' } : { mode: 'unconfigured' };
}

/** Name of the Secret holding the certificate Lattice has issued for route `route` of service `service`. */
export function tlsSecretName(service: string, route: string): string {
  return childName([service, route, 'tls']);
}

/** The listener name of a TCP route's listen port: `tcp-<port>`. */
export function tcpListenerName(port: number): string {
  return `tcp-${port}`;
}

function parentRef(gateway: GatewaySetting, sectionName: string): Record<string, unknown> {
  return { group: GATEWAY_GROUP, kind: 'Gateway', name: gateway.name, namespace: gateway.namespace, sectionName };
}

/** The HTTPRoute matches of a route: its `rules` (path, headers, method), else its `paths`, else every path. */
function httpRules(r: ResolvedRoute, backendRefs: unknown[]): Record<string, unknown>[] {
  if (r.route.rules !== undefined) {
    return r.route.rules.map((rule) => ({
      matches: rule.matches.map((m) => {
        const out: Record<string, unknown> = {};
        if (m.path !== undefined) out.path = { type: m.path.type, value: m.path.value };
        if (m.headers !== undefined) out.headers = m.headers.map((h) => ({ type: h.type ?? 'Exact', name: h.name, value: h.value }));
        if (m.method !== undefined) out.method = m.method;
        return out;
      }),
      backendRefs,
    }));
  }
  const matches = (r.route.paths ?? [{ path: '/', type: 'PathPrefix' as const }]).map((p) => ({ path: { type: p.type, value: p.path } }));
  return [{ matches, backendRefs }];
}

/**
 * The Gateway API route object of a route: an HTTPRoute (gateway.networking.k8s.io/v1), a GRPCRoute
 * (v1, standard channel since Gateway API v1.1) or a TCPRoute (v1alpha2, experimental channel),
 * attached by `sectionName` to the listener of each host (TCP: of its listen port).
 */
function routeObject(state: DerivationState, r: ResolvedRoute, gateway: GatewaySetting): KubeObject {
  const name = state.service.metadata.name;
  const backendRefs = [{ group: '', kind: 'Service', name, port: r.port }];
  const metadata = derivedMeta(state, childName([name, r.name]));
  if (r.kind === 'TCPRoute') {
    return {
      apiVersion: `${GATEWAY_GROUP}/v1alpha2`,
      kind: 'TCPRoute',
      metadata,
      spec: { parentRefs: [parentRef(gateway, tcpListenerName(r.route.listenPort!))], rules: [{ backendRefs }] },
    };
  }
  const parentRefs = r.hosts.map((host) => parentRef(gateway, listenerName(host)));
  if (r.kind === 'GRPCRoute') {
    const rules = r.route.rules === undefined
      ? [{ backendRefs }]
      : r.route.rules.map((rule) => ({
          matches: rule.matches.map((m) => ({ method: { type: 'Exact', ...(m.grpcMethod?.service !== undefined ? { service: m.grpcMethod.service } : {}), ...(m.grpcMethod?.method !== undefined ? { method: m.grpcMethod.method } : {}) } })),
          backendRefs,
        }));
    return { apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'GRPCRoute', metadata, spec: { parentRefs, hostnames: [...r.hosts], rules } };
  }
  return { apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'HTTPRoute', metadata, spec: { parentRefs, hostnames: [...r.hosts], rules: httpRules(r, backendRefs) } };
}

function certificate(state: DerivationState, r: ResolvedRoute, tls: Extract<RouteTls, { mode: 'issued' }>): KubeObject {
  const name = state.service.metadata.name;
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: derivedMeta(state, childName([name, r.name])),
    spec: {
      secretName: tls.secretName,
      dnsNames: [...r.hosts],
      issuerRef: { group: 'cert-manager.io', kind: tls.issuer.kind, name: tls.issuer.name },
    },
  };
}

function referenceGrant(state: DerivationState, r: ResolvedRoute, gateway: GatewaySetting, secretName: string): KubeObject {
  const name = state.service.metadata.name;
  return {
    apiVersion: `${GATEWAY_GROUP}/v1beta1`,
    kind: 'ReferenceGrant',
    metadata: derivedMeta(state, tlsSecretName(name, r.name)),
    spec: {
      from: [{ group: GATEWAY_GROUP, kind: 'Gateway', namespace: gateway.namespace }],
      to: [{ group: '', kind: 'Secret', name: secretName }],
    },
  };
}

/**
 * Derives the HTTPRoutes (and Certificates and ReferenceGrants) of a service's routes. A route whose
 * exposure has no gateway on this platform is an error (condition PlatformSupported, reason
 * GatewayNotConfigured) naming the setting to ask for; a host another service owns is an error
 * (condition Validated, reason HostAlreadyClaimed) naming the owner.
 */
export function deriveIngress(state: DerivationState): void {
  const routes = resolvedRoutes(state.service);
  if (routes.length === 0) return;
  const settings = state.ctx.settings;
  const objects: KubeObject[] = [];
  const fail = (path: (string | number)[], condition: string, reason: string, message: string): void => {
    const d: Diagnostic = { severity: 'error', condition, reason, path: path.join('.'), message };
    const location = state.input.locate?.(path);
    if (location) d.location = location;
    state.diagnostics.push(d);
  };
  const wantedClass = state.service.spec.ingress?.gatewayClass;
  for (const r of routes) {
    const gateway = gatewayFor(settings, r.route.exposure);
    if (gateway === undefined) {
      fail(['spec', 'ingress', 'routes', r.name, 'exposure'], PLATFORM_CONDITION, 'GatewayNotConfigured',
        `route ${r.name} is ${r.route.exposure}, but this platform has no ${r.route.exposure} gateway (LatticePlatform spec.gateways.${r.route.exposure}): ask ${settings.platformContact} to configure one, or use another exposure`);
      continue;
    }
    const className = gateway.className ?? DEFAULT_GATEWAY_CLASS;
    if (wantedClass !== undefined && wantedClass !== className) {
      fail(['spec', 'ingress', 'gatewayClass'], PLATFORM_CONDITION, 'GatewayClassMismatch',
        `ingress.gatewayClass is ${wantedClass}, but route ${r.name} attaches to the platform's ${r.route.exposure} gateway ${gateway.namespace}/${gateway.name} of class ${className}: gateways are shared and chosen by the platform, so remove gatewayClass (or set it to ${className}), or ask ${settings.platformContact} for a ${wantedClass} gateway`);
      continue;
    }
    const tls = routeTls(state.service.metadata.name, r, gateway);
    if (tls.mode === 'unconfigured') {
      fail(['spec', 'ingress', 'routes', r.name, 'tls'], PLATFORM_CONDITION, 'TLSIssuerNotConfigured',
        `route ${r.name} asks for TLS with the platform's issuer (tls: {}), but the ${r.route.exposure} gateway has no clusterIssuer (LatticePlatform spec.gateways.${r.route.exposure}.clusterIssuer): name one with tls.issuerRef, bring a certificate with tls.secretName, or ask ${settings.platformContact} to configure the issuer`);
      continue;
    }
    if (!checkClaims(state, r)) continue;
    objects.push(routeObject(state, r, gateway));
    if (tls.mode === 'issued') objects.push(certificate(state, r, tls));
    if (tls.mode !== 'none' && gateway.namespace !== namespaceOf(state)) objects.push(referenceGrant(state, r, gateway, tls.secretName));
  }
  state.objects.push(...objects);
}

/** The ClusterIssuer-less default GatewayClass of a derived Gateway. */
export const DEFAULT_GATEWAY_CLASS = 'istio';
/** Gateway API: at most 64 listeners per Gateway (`spec.listeners` maxItems). */
export const MAX_LISTENERS = 64;

/**
 * The listener name (Gateway API SectionName, a DNS-1123 subdomain of at most 253 characters) of a
 * host: the host itself, or for a wildcard `*.example.com` the name `wildcard-<8 hex of sha256>.example.com`
 * (a `*` is not allowed in a SectionName; the hash keeps it apart from a real host `wildcard.example.com`),
 * or `wildcard-<16 hex>` when that would pass 253 characters.
 */
export function listenerName(host: string): string {
  const lower = host.toLowerCase();
  if (!lower.startsWith('*.')) return lower;
  const hash = createHash('sha256').update(lower).digest('hex');
  const name = `wildcard-${hash.slice(0, 8)}${lower.slice(1)}`;
  return name.length <= 253 ? name : `wildcard-${hash.slice(0, 16)}`;
}

/** One service's claim of a host. */
export interface HostClaim {
  /** `namespace/name` of the claiming service. */
  key: string;
  /** Route of the service that lists the host. */
  route: string;
  /** Index of the host in the route's `hosts`. */
  index: number;
  /** The service's `metadata.creationTimestamp` (RFC 3339), when it has one (objects read from a cluster). */
  createdAt?: string;
  /** Where the claim is written, when the service came from a file (computed on demand). */
  locate?: () => SourceLocation | undefined;
}

/** Claims by host (lower case), owner first ({@link compareClaims}). */
export type HostClaims = ReadonlyMap<string, readonly HostClaim[]>;

/**
 * Precedence of claims: an older service (`creationTimestamp`) first, so a running service keeps its
 * host when a new one claims it; claims without a timestamp (a render) after those with one; then by
 * `namespace/name`, so the order never depends on the order documents were read in.
 */
export function compareClaims(a: HostClaim, b: HostClaim): number {
  if (a.createdAt !== b.createdAt) {
    if (a.createdAt === undefined) return 1;
    if (b.createdAt === undefined) return -1;
    return a.createdAt < b.createdAt ? -1 : 1;
  }
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The claim key of a TCP route's listen port on an exposure: `tcp:<exposure>:<port>` (never a host name). */
export function tcpClaimKey(exposure: Route['exposure'], port: number): string {
  return `tcp:${exposure}:${port}`;
}

/** The host claims of one valid service (and the listen ports of its TCP routes), first route (by name) first. */
export function claimsOf(key: string, service: LatticeService, locate?: (path: readonly (string | number)[]) => SourceLocation): [string, HostClaim][] {
  const created = (service.metadata as { creationTimestamp?: unknown }).creationTimestamp;
  const out: [string, HostClaim][] = [];
  const seen = new Set<string>();
  for (const name of Object.keys(service.spec.ingress?.routes ?? {}).sort()) {
    const route = service.spec.ingress!.routes[name]!;
    if (route.kind === 'TCPRoute' && route.listenPort !== undefined) {
      // A listen port is claimed like a host: one service per port and exposure.
      const portKey = tcpClaimKey(route.exposure, route.listenPort);
      if (!seen.has(portKey)) {
        seen.add(portKey);
        const claim: HostClaim = { key, route: name, index: 0 };
        if (typeof created === 'string') claim.createdAt = created;
        if (locate) claim.locate = () => locate(['spec', 'ingress', 'routes', name, 'listenPort']);
        out.push([portKey, claim]);
      }
    }
    (route.hosts ?? []).forEach((host, index) => {
      const h = host.toLowerCase();
      if (seen.has(h)) return;
      seen.add(h);
      const claim: HostClaim = { key, route: name, index };
      if (typeof created === 'string') claim.createdAt = created;
      if (locate) claim.locate = () => locate(['spec', 'ingress', 'routes', name, 'hosts', index]);
      out.push([h, claim]);
    });
  }
  // The hostnames of a Service exposed outside the cluster are claimed like route hosts.
  (service.spec.workload.service?.hostnames ?? []).forEach((host, index) => {
    const h = host.toLowerCase();
    if (seen.has(h)) return;
    seen.add(h);
    const claim: HostClaim = { key, route: SERVICE_CLAIM_ROUTE, index };
    if (typeof created === 'string') claim.createdAt = created;
    if (locate) claim.locate = () => locate(['spec', 'workload', 'service', 'hostnames', index]);
    out.push([h, claim]);
  });
  return out;
}

/** The `route` of a claim made by `workload.service.hostnames`. */
export const SERVICE_CLAIM_ROUTE = 'workload.service';

/**
 * Fails the service when another service owns one of its `workload.service.hostnames`; true when
 * every hostname is this service's (or it has none).
 */
export function checkServiceHostClaims(state: DerivationState): boolean {
  const claims = hostClaimsOf(state.ctx);
  let ok = true;
  (state.service.spec.workload.service?.hostnames ?? []).forEach((host, i) => {
    const owner = claims.get(host.toLowerCase())?.[0];
    if (owner === undefined || owner.key === state.key) return;
    ok = false;
    const where = owner.locate?.();
    const at = where ? ` (${where.file}:${where.line})` : '';
    const path = ['spec', 'workload', 'service', 'hostnames', i];
    const d: Diagnostic = {
      severity: 'error',
      condition: VALIDATED,
      reason: 'HostAlreadyClaimed',
      path: path.join('.'),
      message: `hostname ${host} is already served by service ${owner.key}${at} (${owner.route === SERVICE_CLAIM_ROUTE ? 'its workload.service.hostnames' : `route ${owner.route}`}): a host belongs to one service only. Use another name, or ask the owners of ${owner.key} to give this one up.`,
    };
    const location = state.input.locate?.(path);
    if (location) d.location = location;
    state.diagnostics.push(d);
  });
  return ok;
}

/** Builds the claims of a set of services (what the Fleet keeps up to date one change at a time). */
export function buildHostClaims(services: Iterable<IndexedService>): Map<string, HostClaim[]> {
  const claims = new Map<string, HostClaim[]>();
  for (const s of services) addClaims(claims, claimsOf(s.key, s.service));
  return claims;
}

/** Adds claims to a claims map, keeping each host's list in precedence order. */
export function addClaims(claims: Map<string, HostClaim[]>, add: readonly [string, HostClaim][]): void {
  for (const [host, claim] of add) {
    const list = claims.get(host) ?? [];
    list.push(claim);
    list.sort(compareClaims);
    claims.set(host, list);
  }
}

/** Removes the claims of service `key` on `hosts` (the hosts it claimed). */
export function removeClaims(claims: Map<string, HostClaim[]>, key: string, hosts: Iterable<string>): void {
  for (const host of hosts) {
    const list = claims.get(host)?.filter((c) => c.key !== key);
    if (list === undefined) continue;
    if (list.length === 0) claims.delete(host);
    else claims.set(host, list);
  }
}

function hostClaimsOf(ctx: DerivationContext): HostClaims {
  return ctx.hostClaims ?? buildHostClaims(ctx.services.values());
}

/** Fails a route whose hosts (or listen port) another service owns; true when all are this service's. */
function checkClaims(state: DerivationState, r: ResolvedRoute): boolean {
  const claims = hostClaimsOf(state.ctx);
  let ok = true;
  const check = (claimKey: string, what: string, path: (string | number)[]): void => {
    const owner = claims.get(claimKey)?.[0];
    if (owner === undefined || owner.key === state.key) return;
    ok = false;
    const where = owner.locate?.();
    const at = where ? ` (${where.file}:${where.line})` : '';
    const d: Diagnostic = {
      severity: 'error',
      condition: VALIDATED,
      reason: 'HostAlreadyClaimed',
      path: path.join('.'),
      message: `${what} of route ${r.name} is already served by service ${owner.key}${at}, route ${owner.route}: a ${r.kind === 'TCPRoute' ? 'listen port' : 'host'} belongs to one service only, so its certificate and traffic cannot be taken over. Use another one, or ask the owners of ${owner.key} to give this one up.`,
    };
    const location = state.input.locate?.(path);
    if (location) d.location = location;
    state.diagnostics.push(d);
  };
  if (r.kind === 'TCPRoute') check(tcpClaimKey(r.route.exposure, r.route.listenPort!), `listen port ${r.route.listenPort} (${r.route.exposure})`, ['spec', 'ingress', 'routes', r.name, 'listenPort']);
  r.hosts.forEach((host, i) => check(host.toLowerCase(), `host ${host}`, ['spec', 'ingress', 'routes', r.name, 'hosts', i]));
  return ok;
}

/**
 * The Gateways of the platform (see the module documentation): for each configured gateway that has
 * at least one listener, a Gateway with one listener per host of every route of `services`. Pass
 * only services whose derivation succeeded: a failed service's route, certificate and grant were
 * not derived, so its hosts get no listener. Gateways are sorted by namespace and name, listeners
 * by name; a gateway setting used for both exposures yields one Gateway.
 */
export function deriveGateways(settings: Pick<PlatformSettings, 'gateways'>, services: Iterable<LatticeService>): KubeObject[] {
  type Entry = { listener: Record<string, unknown>; kinds: Set<string> };
  const gateways = new Map<string, { setting: GatewaySetting; listeners: Map<string, Entry> }>();
  for (const service of services) {
    const namespace = service.metadata.namespace ?? 'default';
    for (const r of resolvedRoutes(service)) {
      const gateway = gatewayFor(settings, r.route.exposure);
      if (gateway === undefined) continue;
      const tls = routeTls(service.metadata.name, r, gateway);
      if (tls.mode === 'unconfigured') continue; // the service failed for it
      const id = `${gateway.namespace}/${gateway.name}`;
      const entry = gateways.get(id) ?? { setting: gateway, listeners: new Map<string, Entry>() };
      gateways.set(id, entry);
      const namespaces = namespace === gateway.namespace
        ? { from: 'Same' }
        : { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } };
      const certificateRefs = tls.mode === 'none' ? undefined : [{ group: '', kind: 'Secret', name: tls.secretName, ...(namespace === gateway.namespace ? {} : { namespace }) }];
      const names = r.kind === 'TCPRoute' ? [tcpListenerName(r.route.listenPort!)] : r.hosts.map((h) => listenerName(h));
      names.forEach((name, i) => {
        const existing = entry.listeners.get(name);
        if (existing) {
          existing.kinds.add(r.kind);
          return;
        }
        let listener: Record<string, unknown>;
        if (r.kind === 'TCPRoute') {
          // A TCP listener: TCPRoutes only; with a certificate, TLS terminated at the gateway (Gateway
          // API: a TLS listener in Terminate mode accepts TCPRoutes).
          listener = certificateRefs === undefined
            ? { name, port: r.route.listenPort!, protocol: 'TCP' }
            : { name, port: r.route.listenPort!, protocol: 'TLS', tls: { mode: 'Terminate', certificateRefs } };
        } else {
          const host = r.hosts[i]!;
          listener = certificateRefs === undefined
            ? { name, hostname: host, port: 80, protocol: 'HTTP' }
            : { name, hostname: host, port: 443, protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs } };
        }
        listener.allowedRoutes = { namespaces };
        entry.listeners.set(name, { listener, kinds: new Set([r.kind]) });
      });
    }
  }
  return [...gateways.keys()].sort().map((id) => {
    const { setting, listeners } = gateways.get(id)!;
    return {
      apiVersion: `${GATEWAY_GROUP}/v1`,
      kind: 'Gateway',
      metadata: {
        name: setting.name,
        namespace: setting.namespace,
        labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: 'lattice' },
      },
      spec: {
        gatewayClassName: setting.className ?? DEFAULT_GATEWAY_CLASS,
        listeners: [...listeners.keys()].sort().map((k) => {
          const { listener, kinds } = listeners.get(k)!;
          const allowed = listener.allowedRoutes as Record<string, unknown>;
          // Only the route kinds that use the listener may attach to it.
          return { ...listener, allowedRoutes: { ...allowed, kinds: [...kinds].sort().map((kind) => ({ group: GATEWAY_GROUP, kind })) } };
        }),
      },
    };
  });
}
