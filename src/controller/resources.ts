/**
 * What the controller reads and writes, in one place. The ClusterRole of `lattice install`, the
 * prune scan, the fake API server of the tests and the documentation all read these tables, so a
 * kind added here is known everywhere; a kind the compiler derives that is missing here is refused
 * at apply time with a message naming this file (and a test compares this table with the compiler's
 * `KIND_ORDER`).
 */
import { API_VERSION, GROUP } from '../api/common.ts';
import { KINDS, type KindDefinition } from '../api/kinds.ts';
import { KIND as SERVICE_KIND, PLURAL as SERVICE_PLURAL } from '../api/latticeservice/v1alpha1.ts';
import { WORKLOAD_KINDS } from '../compiler/kinds.ts';
import { LABELS, MANAGED_BY } from '../compiler/naming.ts';

/** The server-side apply field manager of every write the controller makes. */
export const FIELD_MANAGER = 'lattice-controller';

/** `reportingController` of the Events the controller writes (events.k8s.io/v1 wants `<domain>/<name>`). */
export const REPORTING_CONTROLLER = 'lattice.dev/lattice-controller';

/** A Kubernetes resource type: apiVersion + kind, with its REST name and scope. */
export interface ResourceType {
  /** `group/version`, or `v1` for the core group. */
  apiVersion: string;
  kind: string;
  /** Lower-case plural, the REST path segment (`deployments`). */
  plural: string;
  namespaced: boolean;
}

/** A kind the compiler derives. */
export interface DerivedKind extends ResourceType {
  /**
   * Where it is derived. `service`: per LatticeService, in its namespace, owned by it (owner
   * reference) and labelled `lattice.dev/service`. `platform`: once per platform (ClusterSecretStores,
   * the mesh baseline), labelled `app.kubernetes.io/managed-by: lattice` without `lattice.dev/service`.
   */
  levels: readonly ('service' | 'platform')[];
  /** What installs the kind in a cluster, named when the cluster does not serve it. */
  providedBy: string;
  /**
   * Objects that sync secret material. They are removed whenever a service's derivation fails; the
   * rest of what was derived goes too, except when the failure only means "could not decide now"
   * (an invalid CedarPolicy, an unreachable registry: `UNDECIDED_REASONS` in reconcile.ts).
   */
  secretBearing?: boolean;
  /**
   * Objects that hold data (PersistentVolumeClaims): applied without an owner reference, so neither
   * Kubernetes' garbage collector (when the LatticeService is deleted) nor the controller's prune
   * (which only deletes objects owned by the service) ever deletes them. Removing one is a person's
   * decision (`kubectl delete pvc`), never a side effect of a rename, a refused spec or a policy change.
   */
  retained?: boolean;
}

const SERVICE = ['service'] as const;
const PLATFORM = ['platform'] as const;

/**
 * Every kind the compiler derives, in apply order (the compiler's `KIND_ORDER`), with the apiVersions
 * the compiler emits. Not here on purpose: `Secret` (in KIND_ORDER, but derived by nothing: ESO and
 * cert-manager create the Secrets, and a grant on Secrets would let the controller read every one).
 */
export const DERIVED_KINDS: readonly DerivedKind[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, levels: SERVICE, providedBy: 'Kubernetes' },
  { apiVersion: 'iam.services.k8s.aws/v1alpha1', kind: 'Role', plural: 'roles', namespaced: true, levels: SERVICE, providedBy: 'AWS Controllers for Kubernetes (ACK) iam-controller' },
  { apiVersion: 'eks.services.k8s.aws/v1alpha1', kind: 'PodIdentityAssociation', plural: 'podidentityassociations', namespaced: true, levels: SERVICE, providedBy: 'AWS Controllers for Kubernetes (ACK) eks-controller' },
  { apiVersion: 'managedidentity.azure.com/v1api20230131', kind: 'UserAssignedIdentity', plural: 'userassignedidentities', namespaced: true, levels: SERVICE, providedBy: 'Azure Service Operator v2 (managedidentity.azure.com CRDs)' },
  { apiVersion: 'managedidentity.azure.com/v1api20230131', kind: 'FederatedIdentityCredential', plural: 'federatedidentitycredentials', namespaced: true, levels: SERVICE, providedBy: 'Azure Service Operator v2 (managedidentity.azure.com CRDs)' },
  { apiVersion: 'authorization.azure.com/v1api20220401', kind: 'RoleAssignment', plural: 'roleassignments', namespaced: true, levels: SERVICE, providedBy: 'Azure Service Operator v2 (authorization.azure.com CRDs)' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, levels: SERVICE, providedBy: 'Kubernetes', retained: true },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, levels: SERVICE, providedBy: 'Kubernetes' },
  { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', plural: 'externalsecrets', namespaced: true, levels: SERVICE, providedBy: 'External Secrets Operator (v0.17 or later serves external-secrets.io/v1)', secretBearing: true },
  { apiVersion: 'scheduling.volcano.sh/v1beta1', kind: 'PodGroup', plural: 'podgroups', namespaced: true, levels: SERVICE, providedBy: 'Volcano' },
  { apiVersion: 'cilium.io/v1alpha1', kind: 'TracingPolicyNamespaced', plural: 'tracingpoliciesnamespaced', namespaced: true, levels: SERVICE, providedBy: 'Tetragon' },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true, levels: SERVICE, providedBy: 'Kubernetes' },
  { apiVersion: 'batch.volcano.sh/v1alpha1', kind: 'Job', plural: 'jobs', namespaced: true, levels: SERVICE, providedBy: 'Volcano' },
  { apiVersion: 'batch.volcano.sh/v1alpha1', kind: 'CronJob', plural: 'cronjobs', namespaced: true, levels: SERVICE, providedBy: 'Volcano (1.13 or later serves batch.volcano.sh/v1alpha1 CronJob)' },
  { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'HelmRepository', plural: 'helmrepositories', namespaced: true, levels: SERVICE, providedBy: 'Flux source-controller (v1.6 or later serves source.toolkit.fluxcd.io/v1 OCIRepository)' },
  { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', plural: 'ocirepositories', namespaced: true, levels: SERVICE, providedBy: 'Flux source-controller (v1.6 or later serves source.toolkit.fluxcd.io/v1 OCIRepository)' },
  { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', plural: 'helmreleases', namespaced: true, levels: SERVICE, providedBy: 'Flux helm-controller (v1.0 or later serves helm.toolkit.fluxcd.io/v2)' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true, levels: SERVICE, providedBy: 'Kubernetes' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, levels: SERVICE, providedBy: 'Kubernetes' },
  { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMServiceScrape', plural: 'vmservicescrapes', namespaced: true, levels: SERVICE, providedBy: 'the VictoriaMetrics operator' },
  { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', plural: 'vmrules', namespaced: true, levels: SERVICE, providedBy: 'the VictoriaMetrics operator' },
  { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', plural: 'ciliumnetworkpolicies', namespaced: true, levels: SERVICE, providedBy: 'Cilium' },
  { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', namespaced: true, levels: ['service', 'platform'], providedBy: 'Istio (1.22 or later serves security.istio.io/v1)' },
  { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', plural: 'serviceentries', namespaced: true, levels: SERVICE, providedBy: 'Istio (1.22 or later serves networking.istio.io/v1)' },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', plural: 'scaledobjects', namespaced: true, levels: SERVICE, providedBy: 'KEDA' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', plural: 'httproutes', namespaced: true, levels: SERVICE, providedBy: 'the Gateway API CRDs' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', plural: 'grpcroutes', namespaced: true, levels: SERVICE, providedBy: 'the Gateway API CRDs (v1.1 or later serves GRPCRoute v1)' },
  { apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', plural: 'tcproutes', namespaced: true, levels: SERVICE, providedBy: 'the Gateway API experimental-channel CRDs (TCPRoute v1alpha2)' },
  { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', plural: 'referencegrants', namespaced: true, levels: SERVICE, providedBy: 'the Gateway API CRDs' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', plural: 'gateways', namespaced: true, levels: PLATFORM, providedBy: 'the Gateway API CRDs' },
  { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', plural: 'certificates', namespaced: true, levels: SERVICE, providedBy: 'cert-manager' },
  { apiVersion: 'networking.serving.volcano.sh/v1alpha1', kind: 'ModelServer', plural: 'modelservers', namespaced: true, levels: SERVICE, providedBy: 'Kthena (its networking CRDs)' },
  { apiVersion: 'networking.serving.volcano.sh/v1alpha1', kind: 'ModelRoute', plural: 'modelroutes', namespaced: true, levels: SERVICE, providedBy: 'Kthena (its networking CRDs)' },
  { apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', plural: 'clustersecretstores', namespaced: false, levels: PLATFORM, providedBy: 'External Secrets Operator (v0.17 or later serves external-secrets.io/v1)' },
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', plural: 'validatingadmissionpolicies', namespaced: false, levels: PLATFORM, providedBy: 'Kubernetes (1.30 or later serves admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy)' },
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', plural: 'validatingadmissionpolicybindings', namespaced: false, levels: PLATFORM, providedBy: 'Kubernetes (1.30 or later serves admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy)' },
  { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', plural: 'ciliumclusterwidenetworkpolicies', namespaced: false, levels: PLATFORM, providedBy: 'Cilium' },
  { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', plural: 'peerauthentications', namespaced: true, levels: ['service', 'platform'], providedBy: 'Istio (1.22 or later serves security.istio.io/v1)' },
];

/** Kubernetes kinds (not Lattice's) the controller reads: namespaces carry the team labels policies look at. */
export const READ_KINDS: readonly ResourceType[] = [{ apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false }];

/**
 * Lattice kinds as resource types. Derived from the kind registry, so new kinds are watched and
 * granted without a change here. The controller reads each kind at its storage version: no
 * conversion webhook call on its own watches, so it keeps working while the webhook is down.
 */
export function latticeResourceTypes(kinds: readonly KindDefinition[] = KINDS): ResourceType[] {
  return kinds.map((k) => ({ apiVersion: `${k.group}/${k.storageVersion ?? k.version}`, kind: k.kind, plural: k.plural, namespaced: k.scope === 'Namespaced' }));
}

/**
 * The workload kinds as resource types (LatticeService and every kind the compiler derives, see
 * src/compiler/kinds.ts): the objects the controller derives, owns children for and writes status on.
 */
export function workloadResourceTypes(kinds: readonly KindDefinition[] = KINDS): ResourceType[] {
  return latticeResourceTypes(kinds).filter((t) => WORKLOAD_KINDS.has(t.kind));
}

/** The LatticeService resource type. */
export const SERVICE_RESOURCE: ResourceType = { apiVersion: API_VERSION, kind: SERVICE_KIND, plural: SERVICE_PLURAL, namespaced: true };

/** The group of an apiVersion (`''` for the core group `v1`). */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** The derived kind of `apiVersion`/`kind` (matched by group and kind), or undefined when the controller does not know it. */
export function derivedKind(apiVersion: string, kind: string): DerivedKind | undefined {
  const group = groupOf(apiVersion);
  return DERIVED_KINDS.find((k) => groupOf(k.apiVersion) === group && k.kind === kind);
}

/** Label selector of everything derived for service `name` (in its namespace). */
export function serviceSelector(name: string): string {
  return `${LABELS.service}=${name},${LABELS.managedBy}=${MANAGED_BY}`;
}

/** Label selector of platform-level derived objects: managed by Lattice, not derived for a service. */
export const PLATFORM_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY},!${LABELS.service}`;

/** An owner reference as written in `metadata.ownerReferences`. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/**
 * The owner reference every namespaced object derived for a workload (a service, a job...) carries:
 * the workload's own apiVersion and kind (LatticeService when not given). `controller: true`
 * marks Lattice as its managing controller; `blockOwnerDeletion: true` makes a foreground deletion
 * of the service wait for it (and needs `update` on `latticeservices/finalizers` where the
 * OwnerReferencesPermissionEnforcement admission plugin is on).
 */
export function ownerReferenceFor(owner: { apiVersion?: string; kind?: string; metadata: { name: string; uid: string } }): OwnerReference {
  return { apiVersion: owner.apiVersion ?? API_VERSION, kind: owner.kind ?? SERVICE_KIND, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** True when `object` has an owner reference to the object with `uid`. */
export function isOwnedBy(object: { metadata?: { ownerReferences?: unknown } }, uid: string): boolean {
  const refs = object.metadata?.ownerReferences;
  return Array.isArray(refs) && refs.some((r) => (r as OwnerReference | null)?.uid === uid);
}

/** The Lattice API group, re-exported for RBAC rules. */
export const LATTICE_GROUP = GROUP;

/**
 * `<kind>.<group> <namespace>/<name>` (namespace omitted for cluster-scoped objects): identifies one
 * object whatever version it is read at, in logs and in the set of objects to keep when pruning.
 */
export function objectId(o: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  const ns = o.metadata?.namespace;
  const group = groupOf(o.apiVersion ?? '');
  return `${o.kind}${group ? `.${group}` : ''} ${ns ? `${ns}/` : ''}${o.metadata?.name}`;
}

/** True when `object` was written by the controller's server-side apply (its managedFields name the field manager). */
export function appliedByController(object: { metadata?: { managedFields?: unknown } }): boolean {
  const fields = object.metadata?.managedFields;
  return Array.isArray(fields) && fields.some((f) => (f as { manager?: unknown; operation?: unknown } | null)?.manager === FIELD_MANAGER && (f as { operation?: unknown }).operation === 'Apply');
}
