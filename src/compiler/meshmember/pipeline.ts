/**
 * The LatticeMeshMember kind: a workload Lattice does not run, in the bilateral mesh
 * (src/api/latticemeshmember/v1alpha1.ts, docs/meshmember.md).
 *
 * A member is turned into a LatticeService-shaped unit with no containers and no replicas:
 * `ports` become `spec.workload.service.ports`, `allowedCallers` inbound and `dependencies` outbound
 * resources of type service, `egress` external-service resources (`https://<fqdn>:443`, `tcp://<fqdn>:<port>`), and its
 * pods' selector and ServiceAccount are attached as its mesh identity (src/compiler/mesh/identity.ts).
 * The service graph, quotas (no demand), image verification (no image) and `lattice graph` read that
 * unit like any workload's, so agreements with services, jobs or packages are checked both ways.
 *
 * Derivation: the protected-namespace gate, the Cedar gate (AccessExternalEndpoint for each egress
 * endpoint, AllowWildcard for an inbound "*"), the member's own gate (enrolment in ambient, its
 * ServiceAccount not another workload's), then the mesh stage (src/compiler/mesh/mesh.ts): a
 * CiliumNetworkPolicy and an AuthorizationPolicy selecting the member's pods by its selector, and a
 * ServiceEntry per egress host. Nothing else: no Deployment, Service or ServiceAccount.
 */
import { AMBIENT_POD_LABEL, KIND, latticeMeshMemberSchema, type EgressRule, type LatticeMeshMember } from '../../api/latticemeshmember/v1alpha1.ts';
import type { LatticeService, WorkloadResource } from '../../api/latticeservice/v1alpha1.ts';
import { deriveMesh } from '../mesh/mesh.ts';
import { hasOwnMeshIdentity, meshIdentityOf, withMeshIdentity, type MeshIdentity } from '../mesh/identity.ts';
import { protectedNamespaceGate } from '../workload/protected.ts';
import { authorizationGate } from '../workload/authorization.ts';
import { stage, unitWorkload, type UnitKind } from './run.ts';
import type { WorkloadKind } from '../kinds.ts';
import type { DerivationState, Diagnostic } from '../types.ts';

/** The condition the member's enrolment and identity checks are reported on. */
export const MESH_ENROLLED = 'MeshEnrolled';

/** Reasons of {@link MESH_ENROLLED}. */
export const MESH_REASONS = {
  enrolledByNamespace: 'NamespaceEnrolled',
  enrolledByPodLabel: 'PodLabelEnrolled',
  notEnrolled: 'AmbientEnrolmentMissing',
  serviceAccountInUse: 'ServiceAccountInUse',
} as const;

/** The mesh side of a member or a package: the fields both kinds declare. */
export interface MeshSide {
  selector: Record<string, string>;
  ports: readonly { name: string; port: number; protocol: 'TCP' | 'UDP' | 'SCTP' }[];
  allowedCallers: readonly { name: string; namespace?: string | undefined }[];
  dependencies: readonly { name: string; namespace?: string | undefined }[];
  egress: readonly EgressRule[];
  serviceAccount?: string | undefined;
  serviceNames?: string[] | undefined;
}

/**
 * The workload resources of a mesh side: `caller-<i>` (inbound, `id: "*"` for a wildcard),
 * `dependency-<i>` (outbound) and `egress-<i>` (external-service, one endpoint per port:
 * `https://<fqdn>:443` for port 443, which Istio passes through as TLS and Cedar sees with scheme
 * https; `tcp://<fqdn>:<port>` for any other port), in declaration order.
 */
export function meshResources(side: MeshSide): Record<string, WorkloadResource> {
  const resources: Record<string, WorkloadResource> = {};
  side.allowedCallers.forEach((c, i) => {
    const r: WorkloadResource = { type: 'service', direction: 'inbound', id: c.name };
    if (c.namespace !== undefined) r.namespace = c.namespace;
    resources[`caller-${i}`] = r;
  });
  side.dependencies.forEach((d, i) => {
    const r: WorkloadResource = { type: 'service', direction: 'outbound', id: d.name };
    if (d.namespace !== undefined) r.namespace = d.namespace;
    resources[`dependency-${i}`] = r;
  });
  side.egress.forEach((e, i) => {
    resources[`egress-${i}`] = { type: 'external-service', params: { endpoints: e.ports.map((p) => `${p === 443 ? 'https' : 'tcp'}://${e.target.fqdn ?? ''}:${p}`) } };
  });
  return resources;
}

/** The Service-shaped ports of a mesh side (port names to ports; the pod port is the port itself). */
export function meshPorts(side: MeshSide): Record<string, { port: number; protocol: 'TCP' | 'UDP' | 'SCTP' }> {
  return Object.fromEntries(side.ports.map((p) => [p.name, { port: p.port, protocol: p.protocol }]));
}

/**
 * The unit of a workload whose pods Lattice does not run: no containers, no replicas, the mesh
 * side's ports and peers, and `extraResources` (a package's secrets), with `identity` attached.
 */
export function podlessUnit(metadata: LatticeService['metadata'], side: MeshSide | undefined, identity: MeshIdentity | undefined, extraResources: Record<string, WorkloadResource> = {}): LatticeService {
  const workload: LatticeService['spec']['workload'] = { containers: {}, resources: { ...extraResources, ...(side ? meshResources(side) : {}) } };
  if (side && side.ports.length > 0) workload.service = { ports: meshPorts(side), serviceType: 'ClusterIP' };
  const unit = {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeService',
    metadata: { ...metadata, namespace: metadata.namespace ?? 'default' },
    spec: { replicas: 0, workload },
  } as LatticeService;
  return identity ? withMeshIdentity(unit, identity) : unit;
}

/** The unit (and platform view) of a mesh member. */
export function meshMemberUnit(member: LatticeMeshMember): LatticeService {
  const selector = member.spec.target.selector ?? {};
  return podlessUnit(member.metadata, { ...member.spec, selector }, meshIdentity(member.metadata.name, selector, member.spec, ['spec']));
}

/** The mesh identity of a podless workload: its selector, ServiceAccount (default: its name), Service names (default: its name) and where it declares its peers. */
export function meshIdentity(name: string, selector: Record<string, string>, side: Pick<MeshSide, 'serviceAccount' | 'serviceNames'>, declaredIn: readonly string[]): MeshIdentity {
  return { podLabels: { ...selector }, serviceAccount: side.serviceAccount ?? name, serviceNames: side.serviceNames ?? [name], declaredIn };
}

function error(state: DerivationState, path: (string | number)[], reason: string, message: string): Diagnostic {
  const d: Diagnostic = { severity: 'error', condition: MESH_ENROLLED, reason, path: path.join('.'), message };
  if (state.input.locate) d.location = state.input.locate(path);
  return d;
}

/**
 * The checks of a workload whose pods Lattice does not label (`selectorPath` and
 * `serviceAccountPath` name its fields for messages):
 * - enrolment in ambient: ztunnel carries (and the AuthorizationPolicy is enforced on) only pods
 *   enrolled with `istio.io/dataplane-mode: ambient` on the pod or its namespace (istio.io, "Add
 *   workloads to the mesh"). Lattice owns neither, so it checks what it can see: the namespace's
 *   labels (a Namespace object, or a LatticeTeam namespace) or the selector naming the label (the
 *   policies then select enrolled pods only). Otherwise: error {@link MESH_REASONS.notEnrolled}.
 *   A pod left out is not opened: its callers' ztunnel would not tunnel to it and Cilium allows
 *   only the tunnel port, so the check is about traffic working, the default deny holds either way;
 * - identity: the ServiceAccount is no other workload's of the namespace (a Lattice workload runs
 *   as its own name), since peers authorize by ServiceAccount and a shared one would let the other
 *   workload's pods use this member's agreements. Error {@link MESH_REASONS.serviceAccountInUse}.
 */
export function podlessMeshGate(state: DerivationState, paths: { selector: (string | number)[]; serviceAccount: (string | number)[] }): void {
  const identity = meshIdentityOf(state.service);
  const namespace = state.service.metadata.namespace ?? 'default';
  const nsLabels = state.ctx.namespaces[namespace]?.labels ?? {};
  let reason: string | undefined;
  if (nsLabels[AMBIENT_POD_LABEL.key] === AMBIENT_POD_LABEL.value) reason = MESH_REASONS.enrolledByNamespace;
  else if (identity.podLabels[AMBIENT_POD_LABEL.key] === AMBIENT_POD_LABEL.value) reason = MESH_REASONS.enrolledByPodLabel;
  if (reason === undefined) {
    state.diagnostics.push(error(state, paths.selector, MESH_REASONS.notEnrolled,
      `Lattice cannot see that these pods are in the ambient mesh: neither namespace ${namespace} nor the selector carries the label ${AMBIENT_POD_LABEL.key}: ${AMBIENT_POD_LABEL.value}, ` +
        'and Lattice labels neither pods it does not run nor namespaces. Without it ztunnel does not carry the pods\' traffic, so their policies would allow nothing. ' +
        `Set the pod label through the workload's own configuration (a Helm chart's podLabels value, for example) and add ${AMBIENT_POD_LABEL.key}: ${AMBIENT_POD_LABEL.value} to the selector; or ask the platform team to enrol namespace ${namespace} (a LatticeTeam namespace is).`));
  } else {
    state.conditions.set(MESH_ENROLLED, {
      type: MESH_ENROLLED,
      status: 'True',
      reason,
      message: reason === MESH_REASONS.enrolledByNamespace
        ? `Namespace ${namespace} is enrolled in the ambient mesh (${AMBIENT_POD_LABEL.key}: ${AMBIENT_POD_LABEL.value}); the pods run as ServiceAccount ${identity.serviceAccount}.`
        : `The policies select only pods labelled ${AMBIENT_POD_LABEL.key}: ${AMBIENT_POD_LABEL.value}; the pods run as ServiceAccount ${identity.serviceAccount}.`,
    });
  }
  for (const [key, other] of state.ctx.services) {
    if (key === state.key || (other.service.metadata.namespace ?? 'default') !== namespace) continue;
    const theirs = meshIdentityOf(other.service);
    if (theirs.serviceAccount !== identity.serviceAccount) continue;
    const what = hasOwnMeshIdentity(other.service) ? `workload ${key}, whose pods run as ServiceAccount ${theirs.serviceAccount}` : `workload ${key}, which Lattice runs as ServiceAccount ${theirs.serviceAccount}`;
    state.diagnostics.push(error(state, paths.serviceAccount, MESH_REASONS.serviceAccountInUse,
      `ServiceAccount ${identity.serviceAccount} is the mesh identity of ${what}. Peers authorize callers by ServiceAccount, so sharing it would give that workload's pods this one's agreements (and the other way round). ` +
        'Run these pods as a ServiceAccount of their own and name it here.'));
  }
}

function meshMemberGate(state: DerivationState): void {
  podlessMeshGate(state, { selector: ['spec', 'target', 'selector'], serviceAccount: ['spec', 'serviceAccount'] });
}

const MESH_MEMBER_UNIT: UnitKind<LatticeMeshMember> = {
  kind: KIND,
  schema: latticeMeshMemberSchema,
  unit: meshMemberUnit,
  gates: [stage(protectedNamespaceGate), stage(authorizationGate), stage(meshMemberGate)],
  derivers: [stage(deriveMesh)],
};

/** LatticeMeshMember: a workload Lattice does not run, in the mesh (src/compiler/meshmember/). */
export const MESH_MEMBER_WORKLOAD: WorkloadKind<LatticeMeshMember> = unitWorkload(MESH_MEMBER_UNIT);
