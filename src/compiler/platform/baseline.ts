/**
 * The platform baseline: the cluster-level objects that make every workload namespace default deny in
 * an Istio **ambient** mesh on Cilium, derived once per platform and emitted with the platform-level
 * objects (docs/mesh.md):
 *
 * 1. `CiliumClusterwideNetworkPolicy lattice-default-deny` (cilium.io/v2): selects every pod outside
 *    the excluded (platform) namespaces and puts it in default deny for ingress and egress, allowing
 *    nothing. The per-service CiliumNetworkPolicies then allow the agreed edges. Pods are selected by
 *    their `k8s:io.kubernetes.pod.namespace` label; requiring the label to exist keeps endpoints that
 *    are not pods (Cilium's health and host endpoints carry no namespace label) out of the selection.
 *    The empty rules `ingress: [{}]` / `egress: [{}]` are Cilium's documented default-deny idiom
 *    (docs.cilium.io, policy language, "Ingress/Egress Default Deny"); `enableDefaultDeny` states it.
 * 2. `CiliumClusterwideNetworkPolicy lattice-ambient-host-probes`: Istio's documented allowance for
 *    kubelet probes under Cilium (istio.io, "Platform-Specific Prerequisites", Cilium; and "Ambient
 *    and Kubernetes NetworkPolicy"): the Istio CNI SNATs probes to ambient pods to the link-local
 *    169.254.7.127 so ztunnel can tell them apart and let them through, which makes them lose Cilium's
 *    implicit host allowance; this policy allows ingress from that one address to every pod. It sets
 *    `enableDefaultDeny` false both ways, so selecting every pod adds an allowance and never puts a pod
 *    into default deny (docs.cilium.io, policy language, "enableDefaultDeny").
 * 3. Istio `PeerAuthentication default` in the Istio root namespace (security.istio.io/v1): mesh-wide
 *    mutual TLS in `STRICT` mode, so every workload-to-workload connection carries the caller's
 *    verified SPIFFE identity that the AuthorizationPolicies check; ztunnel rejects plain text.
 * 4. Istio `AuthorizationPolicy lattice-allow-nothing` in the root namespace: an ALLOW policy without
 *    rules. A policy in the root namespace applies to every workload of the mesh; an ALLOW policy
 *    that matches nothing means a request is allowed only when another ALLOW policy (a service's own)
 *    matches it (istio.io, Authorization Policy reference: "allow-nothing").
 * 5. Per platform gateway (`spec.gateways`): `AuthorizationPolicy lattice-gateway-<name>` in the
 *    gateway's namespace, selecting its proxy pods (`gateway.networking.k8s.io/gateway-name`), ALLOW
 *    with one empty rule (Istio's "allow-all" for the selected workload). The root allow-nothing policy
 *    applies to gateway proxies too, which would answer every request with 403 (RBAC: access denied);
 *    a gateway is the mesh's entry point and accepts clients without a mesh identity. What a gateway
 *    serves is decided by its listeners and the HTTPRoutes attached to it; where it may go is decided
 *    by the services' own policies (gateway principal on the routed port only).
 */
import { PLATFORM_NAMESPACE } from '../../api/common.ts';
import type { PlatformSettings } from '../../api/latticeplatform/v1alpha1.ts';
import { LABELS, MANAGED_BY } from '../naming.ts';
import { CILIUM_LABELS } from '../mesh/mesh.ts';
import { GATEWAY_NAME_LABEL } from '../mesh/ingress.ts';
import type { KubeObject } from '../types.ts';

/** Names of the baseline objects. */
export const BASELINE_NAMES = {
  defaultDeny: 'lattice-default-deny',
  hostProbes: 'lattice-ambient-host-probes',
  peerAuthentication: 'default',
  allowNothing: 'lattice-allow-nothing',
  /** Prefix of the per-gateway ALLOW policies: `lattice-gateway-<gateway name>`. */
  gatewayPrefix: 'lattice-gateway-',
} as const;

/**
 * The address the Istio CNI SNATs kubelet probes of ambient pods to (istio.io, "Ambient and
 * Kubernetes NetworkPolicy": "169.254.7.127"), as a CIDR.
 */
export const PROBE_SNAT_CIDR = '169.254.7.127/32';

/**
 * The namespaces the cluster-wide default deny does not select, sorted: the platform setting
 * `mesh.systemNamespaces` (by default the Kubernetes, Istio, Lattice, ESO, cert-manager and KEDA
 * namespaces), plus, always, the platform components the settings name: the cluster DNS namespace,
 * the Istio root namespace, lattice-system, the metrics scraper's namespace (it must reach every
 * service's metrics port and its remote-write target), the namespace of the Prometheus-compatible
 * query address KEDA reads (`prometheusAddress`, when it is a cluster Service name
 * `<service>.<namespace>[.svc...]`), and the namespaces of the platform gateways (`spec.gateways`).
 * Without them no pod could resolve names or be managed, no route could reach a service and no
 * metric be scraped or read. They stay behind the services' own policies, which let gateways and
 * the scraper in on their ports only.
 */
export function excludedNamespaces(settings: PlatformSettings): string[] {
  const mesh = settings.mesh;
  const gateways = Object.values(settings.gateways ?? {}).flatMap((g) => (g ? [g.namespace] : []));
  const query = prometheusNamespace(settings.prometheusAddress);
  return [...new Set([...mesh.systemNamespaces, mesh.dns.namespace, mesh.istioNamespace, PLATFORM_NAMESPACE, mesh.metricsScraper.namespace, ...(query ? [query] : []), ...gateways])].sort();
}

/** The namespace of a cluster Service address `http://<service>.<namespace>[.svc[.<domain>]][:port]`, else undefined. */
export function prometheusNamespace(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const labels = new URL(address).hostname.split('.');
  if (labels.length < 2 || (labels.length > 2 && labels[2] !== 'svc')) return undefined;
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(labels[1]!) ? labels[1] : undefined;
}

function baselineMeta(name: string, namespace?: string): KubeObject['metadata'] {
  const meta: KubeObject['metadata'] = { name, labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: 'lattice' } };
  if (namespace !== undefined) meta.namespace = namespace;
  return meta;
}

/** The baseline objects of a platform, in apply order: default deny, probe allowance, mutual TLS, allow-nothing, gateway allowances. */
export function deriveBaseline(settings: PlatformSettings): KubeObject[] {
  const root = settings.mesh.istioNamespace;
  const gateways = new Map<string, { name: string; namespace: string }>();
  for (const g of Object.values(settings.gateways ?? {})) if (g) gateways.set(`${g.namespace}/${g.name}`, g);
  return [
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: baselineMeta(BASELINE_NAMES.defaultDeny),
      spec: {
        description: 'Derived by Lattice: every pod outside the system namespaces denies all traffic that no policy allows.',
        endpointSelector: {
          matchExpressions: [
            { key: CILIUM_LABELS.namespace, operator: 'Exists' },
            { key: CILIUM_LABELS.namespace, operator: 'NotIn', values: excludedNamespaces(settings) },
          ],
        },
        enableDefaultDeny: { ingress: true, egress: true },
        ingress: [{}],
        egress: [{}],
      },
    },
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: baselineMeta(BASELINE_NAMES.hostProbes),
      spec: {
        description: 'Derived by Lattice: allows the SNAT-ed kubelet health probes of Istio ambient pods (source 169.254.7.127).',
        endpointSelector: {},
        enableDefaultDeny: { ingress: false, egress: false },
        ingress: [{ fromCIDR: [PROBE_SNAT_CIDR] }],
      },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: baselineMeta(BASELINE_NAMES.peerAuthentication, root),
      spec: { mtls: { mode: 'STRICT' } },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: baselineMeta(BASELINE_NAMES.allowNothing, root),
      spec: { action: 'ALLOW' },
    },
    ...[...gateways.values()].map((g) => ({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: baselineMeta(`${BASELINE_NAMES.gatewayPrefix}${g.name}`, g.namespace),
      spec: { selector: { matchLabels: { [GATEWAY_NAME_LABEL]: g.name } }, action: 'ALLOW', rules: [{}] },
    })),
  ];
}
