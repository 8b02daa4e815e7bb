/**
 * The LatticePackage kind: a Helm chart installed by Flux (src/api/latticepackage/v1alpha1.ts,
 * docs/package.md).
 *
 * The unit the platform sees has no containers (Lattice does not template the chart's pods, so
 * image gates and quotas cannot see them: the Cedar DeployPackage permit is the platform's decision
 * on what the chart runs), the package's secret resources, and, with `spec.mesh`, the mesh member
 * side of its pods: ports, callers, dependencies, egress, and the identity selector + ambient label
 * and ServiceAccount (src/compiler/meshmember/pipeline.ts).
 *
 * Gates: protected namespace; Cedar for each secret (AccessSecret), egress endpoint
 * (AccessExternalEndpoint) and inbound wildcard (AllowWildcard); Cedar DeployPackage on the chart;
 * the mesh member checks. Derivers: ExternalSecrets, the chart source and the HelmRelease
 * (release.ts), then the mesh policies of the chart's pods. The mesh member is derived with the
 * package rather than emitted as a LatticeMeshMember object: a second workload under the package's
 * name would clash in the one workload name space, and the release and its policies stay
 * all-or-nothing together.
 */
import { AMBIENT_POD_LABEL } from '../../api/latticemeshmember/v1alpha1.ts';
import { KIND, latticePackageSchema, type LatticePackage } from '../../api/latticepackage/v1alpha1.ts';
import { deriveMesh } from '../mesh/mesh.ts';
import { protectedNamespaceGate } from '../workload/protected.ts';
import { authorizationGate, authorizationInput, invalidPoliciesCovering, POLICY_AUTHORIZED } from '../workload/authorization.ts';
import { meshIdentity, podlessMeshGate, podlessUnit } from '../meshmember/pipeline.ts';
import { stage, unitWorkload, type UnitKind } from '../meshmember/run.ts';
import { derivePackageRelease } from './release.ts';
import type { WorkloadKind } from '../kinds.ts';
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import type { DerivationState, Diagnostic } from '../types.ts';
import { deployPackageRequest, serviceRequests, type AuthorizationRequest, type ServiceAuthorizationInput } from '../../policy/index.ts';

/**
 * The unit (and platform view) of a package. With `spec.mesh`, its identity selects the chart's pods
 * by `mesh.selector` plus the ambient label (which the HelmRelease's post-renderer sets on them), so
 * the policies cover exactly the enrolled pods.
 */
export function packageUnit(pkg: LatticePackage): LatticeService {
  const mesh = pkg.spec.mesh;
  const selector = mesh ? { ...mesh.selector, [AMBIENT_POD_LABEL.key]: AMBIENT_POD_LABEL.value } : undefined;
  return podlessUnit(
    pkg.metadata,
    mesh && selector ? { ...mesh, selector } : undefined,
    mesh && selector ? meshIdentity(pkg.metadata.name, selector, mesh, ['spec', 'mesh']) : undefined,
    { ...(pkg.spec.resources ?? {}) },
  );
}

/**
 * The Cedar gate of the chart: action DeployPackage on `Lattice::Chart::"<repository>/<name>:<version>"`
 * (src/policy/requests.ts `deployPackageRequest`). No permit, or a forbid: error on PolicyAuthorized,
 * nothing derived. While a policy that could forbid DeployPackage is invalid, refused (PolicyInvalid).
 */
export function deployPackageGate(state: DerivationState, pkg: LatticePackage): void {
  const engine = state.ctx.policyEngine;
  if (!engine) throw new Error('the derivation context has no policy engine: build it with buildContext');
  // Fail closed: a left-out policy that could forbid DeployPackage (a whole CedarPolicy, a forbid
  // naming the action, or one naming an action the schema lacks) refuses the chart, whatever the
  // valid policies decide. Another left-out policy does not excuse the chart from being asked.
  const covering = invalidPoliciesCovering(state.ctx.invalidPolicies ?? [], 'DeployPackage');
  if (covering.length > 0) {
    const names = covering.map((p) => `CedarPolicy ${p.name}${p.policyId === undefined ? '' : ` (policy ${p.policyId})`}${p.where ? ` (${p.where})` : ''}: ${p.message}`).join('; ');
    const owners = [...new Set(covering.map((p) => p.owner ?? engine.platformContact))].join(', ');
    const d: Diagnostic = {
      severity: 'error',
      condition: POLICY_AUTHORIZED,
      reason: 'PolicyInvalid',
      path: 'spec.chart',
      message: `no authorization decision can be made for DeployPackage of this chart while a Cedar policy that could forbid it is invalid: ${names}. Lattice refuses the chart instead of deciding without that policy. Contact ${owners} to fix or disable it (spec.enabled: false); \`lattice authz validate\` shows every error.`,
    };
    if (state.input.locate) d.location = state.input.locate(['spec', 'chart']);
    state.diagnostics.push(d);
    return;
  }
  const decision = engine.canDeployPackage(authorizationInput(state.service, state.ctx), {
    repository: pkg.spec.chart.repository,
    name: pkg.spec.chart.name,
    version: pkg.spec.chart.version,
    path: 'spec.chart',
  });
  if (decision.allowed) return;
  const d: Diagnostic = { severity: 'error', condition: POLICY_AUTHORIZED, reason: decision.reason, path: 'spec.chart', message: decision.message };
  if (state.input.locate) d.location = state.input.locate(['spec', 'chart']);
  state.diagnostics.push(d);
}

/**
 * Every Cedar request of a package, as `lattice authz check` lists them: those of its unit
 * (AccessSecret, AccessExternalEndpoint, AllowWildcard) and DeployPackage on its chart.
 */
export function packageRequests(pkg: LatticePackage, input: ServiceAuthorizationInput): AuthorizationRequest[] {
  const { repository, name, version } = pkg.spec.chart;
  return [...serviceRequests(input), deployPackageRequest(input, { repository, name, version, path: 'spec.chart' })];
}

function packageMeshGate(state: DerivationState, pkg: LatticePackage): void {
  if (pkg.spec.mesh) podlessMeshGate(state, { selector: ['spec', 'mesh', 'selector'], serviceAccount: ['spec', 'mesh', 'serviceAccount'] });
}

function derivePackageMesh(state: DerivationState, pkg: LatticePackage): void {
  if (pkg.spec.mesh) deriveMesh(state);
}

const PACKAGE_UNIT: UnitKind<LatticePackage> = {
  kind: KIND,
  schema: latticePackageSchema,
  unit: packageUnit,
  gates: [stage(protectedNamespaceGate), stage(authorizationGate), deployPackageGate, packageMeshGate],
  derivers: [derivePackageRelease, derivePackageMesh],
};

/** LatticePackage: a Helm chart installed by Flux, its secrets and its pods' mesh policies (src/compiler/package/). */
export const PACKAGE_WORKLOAD: WorkloadKind<LatticePackage> = unitWorkload(PACKAGE_UNIT);
