/**
 * The protected-namespace gate: no LatticeService is derived in a namespace where the platform's own
 * components run. A service there could replace or sit beside the platform's objects: an Istio
 * AuthorizationPolicy in the root namespace applies to the whole mesh
 * (istio.io/latest/docs/reference/config/security/authorization-policy: "a policy in the root
 * namespace applies to all workloads in the mesh"), a CiliumNetworkPolicy in kube-system selects
 * the DNS pods every service depends on, and the system namespaces left out of the default deny
 * (src/compiler/platform/baseline.ts) have no baseline protecting them.
 */
import { PLATFORM_NAMESPACE } from '../../api/common.ts';
import type { PlatformSettings } from '../../api/latticeplatform/v1alpha1.ts';
import type { DerivationState } from '../types.ts';

/** Condition the refusal is written on: it is a question of permission, like the Cedar decisions. */
const CONDITION = 'PolicyAuthorized';

/**
 * Every protected namespace, sorted: `spec.protectedNamespaces`, plus, whatever it says,
 * lattice-system, the system namespaces the default deny leaves alone (mesh.systemNamespaces, the
 * DNS namespace, the Istio root namespace) and the metrics scraper's namespace. The gateways'
 * namespaces are not added: a platform may run a Gateway in a service's own namespace (ingress.ts
 * then needs no ReferenceGrant); list them in spec.protectedNamespaces when they are the gateways' only.
 */
export function protectedNamespaces(settings: PlatformSettings): string[] {
  const mesh = settings.mesh;
  return [...new Set([...settings.protectedNamespaces, ...mesh.systemNamespaces, mesh.dns.namespace, mesh.istioNamespace, mesh.metricsScraper.namespace, PLATFORM_NAMESPACE])].sort();
}

/** The gate: an error (reason `ProtectedNamespace`, field metadata.namespace) for a service in a protected namespace. */
export function protectedNamespaceGate(state: DerivationState): void {
  const namespace = state.service.metadata.namespace ?? 'default';
  if (!protectedNamespaces(state.ctx.settings).includes(namespace)) return;
  const path = ['metadata', 'namespace'];
  state.diagnostics.push({
    severity: 'error',
    condition: CONDITION,
    reason: 'ProtectedNamespace',
    path: path.join('.'),
    message:
      `namespace ${namespace} is reserved for the platform's own components, so no LatticeService is derived there: ` +
      `its objects could replace or weaken the platform's (mesh-wide Istio policies, DNS, the default deny). ` +
      `Deploy the service in a namespace of your team; the platform team sets the reserved list (LatticePlatform spec.protectedNamespaces).`,
    ...(state.input.locate ? { location: state.input.locate(path) } : {}),
  });
}
