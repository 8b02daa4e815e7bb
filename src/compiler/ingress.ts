/**
 * Ingress: HTTP traffic from outside the mesh, through the platform's Gateway API gateways.
 *
 * For each route of `spec.ingress.routes`:
 * - an `HTTPRoute` (gateway.networking.k8s.io/v1) named `<service>-<route>` in the service's
 *   namespace, attached (`parentRefs`) to the platform's internal or public Gateway (LatticePlatform
 *   `spec.gateways`), matching the route's hosts and paths and sending to the route's port of the
 *   service's Service. The Gateway must allow routes from the service's namespace
 *   (`listeners[].allowedRoutes.namespaces`): that is the platform team's side of the contract.
 * - when the Gateway has a cert-manager `clusterIssuer`: a `Certificate` (cert-manager.io/v1)
 *   `<service>-<route>` for the route's hosts, stored in Secret `<service>-<route>-tls` in the
 *   service's namespace, and, when the Gateway lives in another namespace, a `ReferenceGrant`
 *   (gateway.networking.k8s.io/v1beta1) `<service>-<route>-tls` letting Gateways of that namespace
 *   read that one Secret (Gateway API: a cross-namespace certificateRef needs a ReferenceGrant in the
 *   namespace of the Secret).
 *
 * The mesh lets the gateway's proxies reach the service on the route's port, and nothing else:
 * {@link ingressPeers} says who and where, for src/compiler/mesh.ts.
 *
 * A `public` route needs a Cedar permit for action `ExposeRoute` on each of its hosts (resource
 * `Lattice::Route::"<host>"` with attributes host, exposure, namespace). That check is part of the
 * authorization gate (src/compiler/authorization.ts, requests built in src/policy/requests.ts), so a
 * denied host fails the service before anything here runs. Internal routes need no permit.
 */
import type { GatewaySetting, PlatformSettings } from '../api/latticeplatform/v1alpha1.ts';
import type { LatticeService, Route } from '../api/latticeservice/v1alpha1.ts';
import { childName } from './naming.ts';
import { derivedMeta, namespaceOf } from './meta.ts';
import { PLATFORM_CONDITION } from './autoscaling.ts';
import type { DerivationState, Diagnostic, KubeObject } from './types.ts';

/** The Gateway API group. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** The label Gateway API implementations (Istio among them) put on a Gateway's proxy pods. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** A route of a service with its resolved port. */
export interface ResolvedRoute {
  name: string;
  route: Route;
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
    out.push({ name, route, portName, port: p.port, targetPort: p.targetPort ?? p.port });
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

function httpRoute(state: DerivationState, r: ResolvedRoute, gateway: GatewaySetting): KubeObject {
  const name = state.service.metadata.name;
  const matches = (r.route.paths ?? [{ path: '/', type: 'PathPrefix' as const }]).map((p) => ({ path: { type: p.type, value: p.path } }));
  return {
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: derivedMeta(state, childName([name, r.name])),
    spec: {
      parentRefs: [{ group: GATEWAY_GROUP, kind: 'Gateway', name: gateway.name, namespace: gateway.namespace }],
      hostnames: [...r.route.hosts],
      rules: [{ matches, backendRefs: [{ group: '', kind: 'Service', name, port: r.port }] }],
    },
  };
}

function certificate(state: DerivationState, r: ResolvedRoute, issuer: string): KubeObject {
  const name = state.service.metadata.name;
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: derivedMeta(state, childName([name, r.name])),
    spec: {
      secretName: tlsSecretName(name, r.name),
      dnsNames: [...r.route.hosts],
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: issuer },
    },
  };
}

function referenceGrant(state: DerivationState, r: ResolvedRoute, gateway: GatewaySetting): KubeObject {
  const name = state.service.metadata.name;
  return {
    apiVersion: `${GATEWAY_GROUP}/v1beta1`,
    kind: 'ReferenceGrant',
    metadata: derivedMeta(state, tlsSecretName(name, r.name)),
    spec: {
      from: [{ group: GATEWAY_GROUP, kind: 'Gateway', namespace: gateway.namespace }],
      to: [{ group: '', kind: 'Secret', name: tlsSecretName(name, r.name) }],
    },
  };
}

/** Name of the Secret holding the certificate of route `route` of service `service`. */
export function tlsSecretName(service: string, route: string): string {
  return childName([service, route, 'tls']);
}

/**
 * Derives the HTTPRoutes (and Certificates and ReferenceGrants) of a service's routes. A route whose
 * exposure has no gateway on this platform is an error (condition PlatformSupported, reason
 * GatewayNotConfigured) naming the setting to ask for.
 */
export function deriveIngress(state: DerivationState): void {
  const routes = resolvedRoutes(state.service);
  if (routes.length === 0) return;
  const settings = state.ctx.settings;
  const objects: KubeObject[] = [];
  for (const r of routes) {
    const gateway = gatewayFor(settings, r.route.exposure);
    if (gateway === undefined) {
      const path = ['spec', 'ingress', 'routes', r.name, 'exposure'];
      const d: Diagnostic = {
        severity: 'error',
        condition: PLATFORM_CONDITION,
        reason: 'GatewayNotConfigured',
        path: path.join('.'),
        message: `route ${r.name} is ${r.route.exposure}, but this platform has no ${r.route.exposure} gateway (LatticePlatform spec.gateways.${r.route.exposure}): ask ${settings.platformContact} to configure one, or use another exposure`,
      };
      const location = state.input.locate?.(path);
      if (location) d.location = location;
      state.diagnostics.push(d);
      continue;
    }
    objects.push(httpRoute(state, r, gateway));
    if (gateway.clusterIssuer !== undefined) {
      objects.push(certificate(state, r, gateway.clusterIssuer));
      if (gateway.namespace !== namespaceOf(state)) objects.push(referenceGrant(state, r, gateway));
    }
  }
  state.objects.push(...objects);
}
