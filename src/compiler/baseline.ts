/**
 * The platform baseline: the three cluster-level objects that make every workload namespace default
 * deny, derived once per platform and emitted with the platform-level objects (docs/mesh.md):
 *
 * 1. `CiliumClusterwideNetworkPolicy lattice-default-deny` (cilium.io/v2): selects every pod outside
 *    the excluded (system) namespaces and puts it in default deny for ingress and egress, allowing
 *    nothing. The per-service CiliumNetworkPolicies then allow the agreed edges. Pods are selected by
 *    their `k8s:io.kubernetes.pod.namespace` label; requiring the label to exist keeps endpoints that
 *    are not pods (Cilium's health and host endpoints carry no namespace label) out of the selection.
 *    The empty rules `ingress: [{}]` / `egress: [{}]` are Cilium's documented default-deny idiom
 *    (docs.cilium.io, policy language, "Ingress/Egress Default Deny"); `enableDefaultDeny` states it.
 * 2. Istio `PeerAuthentication default` in the Istio root namespace (security.istio.io/v1): mesh-wide
 *    mutual TLS in `STRICT` mode, so every workload-to-workload connection carries the caller's
 *    verified SPIFFE identity that the AuthorizationPolicies check.
 * 3. Istio `AuthorizationPolicy lattice-allow-nothing` in the root namespace: an ALLOW policy without
 *    rules. A policy in the root namespace applies to every workload of the mesh; an ALLOW policy
 *    that matches nothing means a request is allowed only when another ALLOW policy (a service's own)
 *    matches it (istio.io, Authorization Policy reference: "allow-nothing").
 */
import { PLATFORM_NAMESPACE } from '../api/common.ts';
import type { PlatformSettings } from '../api/latticeplatform/v1alpha1.ts';
import { LABELS, MANAGED_BY } from './naming.ts';
import { CILIUM_LABELS } from './mesh.ts';
import type { KubeObject } from './types.ts';

/** Names of the baseline objects. */
export const BASELINE_NAMES = {
  defaultDeny: 'lattice-default-deny',
  peerAuthentication: 'default',
  allowNothing: 'lattice-allow-nothing',
} as const;

/**
 * The namespaces the cluster-wide default deny does not select, sorted: the platform setting
 * `mesh.systemNamespaces`, plus, always, the cluster DNS namespace, the Istio root namespace,
 * lattice-system and the namespaces of the platform gateways (`spec.gateways`): without them no pod
 * could resolve names, get mesh configuration or be managed, and no route could reach a service.
 * The gateways stay behind the services' own policies, which let them in on routed ports only.
 */
export function excludedNamespaces(settings: PlatformSettings): string[] {
  const mesh = settings.mesh;
  const gateways = Object.values(settings.gateways ?? {}).flatMap((g) => (g ? [g.namespace] : []));
  return [...new Set([...mesh.systemNamespaces, mesh.dns.namespace, mesh.istioNamespace, PLATFORM_NAMESPACE, ...gateways])].sort();
}

function baselineMeta(name: string, namespace?: string): KubeObject['metadata'] {
  const meta: KubeObject['metadata'] = { name, labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: 'lattice' } };
  if (namespace !== undefined) meta.namespace = namespace;
  return meta;
}

/** The baseline objects of a platform, in apply order: default deny, mutual TLS, allow-nothing. */
export function deriveBaseline(settings: PlatformSettings): KubeObject[] {
  const root = settings.mesh.istioNamespace;
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
  ];
}
