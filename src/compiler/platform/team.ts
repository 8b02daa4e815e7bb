/**
 * The namespace factory: from each `LatticeTeam` (src/api/latticeteam/v1alpha1.ts), the objects that
 * make a namespace ready for the team's services. Pure: documents in, objects and problems out.
 *
 * Per namespace of a team, in apply order:
 * 1. `v1 Namespace` with the labels
 *    - `lattice.dev/team` (the team's name), `lattice.dev/environment`, `lattice.dev/cost-center`:
 *      what Cedar reads as `principal.team` / `principal.environment` (src/policy/requests.ts), what
 *      LatticeQuota `namespaceLabels` select, and what cost reports group by;
 *    - `pod-security.kubernetes.io/enforce: restricted` (or baseline) with `enforce-version` pinned to
 *      {@link POD_SECURITY_VERSION}, and `warn: restricted` at `latest` so that a tightening in a newer
 *      Kubernetes shows as a warning before a pin bump makes it an error (kubernetes.io, "Enforce Pod
 *      Security Standards with Namespace Labels": pin the version);
 *    - `istio.io/dataplane-mode: ambient`: enrols every pod of the namespace in the ambient mesh, so
 *      ztunnel carries its traffic as mutual TLS and the platform's AuthorizationPolicies apply
 *      (istio.io, ambient "Add workloads to the mesh");
 *    and the annotations `lattice.dev/owner` (the team's contact, shown in denials) and the alert
 *    routing `lattice.dev/alert-receiver`, `lattice.dev/alert-channel`, `lattice.dev/alert-escalation`;
 * 2. `ResourceQuota lattice-team`: the team's quota as `requests.cpu`, `requests.memory`,
 *    `limits.memory`, `pods`, `requests.nvidia.com/gpu`. No `limits.cpu`: a ResourceQuota on a
 *    resource makes every pod declare it, and Lattice leaves CPU limits out so containers may burst;
 * 3. `LimitRange lattice-defaults`: requests and a memory limit for containers that declare none
 *    (which a ResourceQuota on requests would otherwise reject), and at most the namespace's memory
 *    quota per container;
 * 4. `RoleBinding lattice-team-developer`: the team's group to the ClusterRole of the same name.
 *
 * Once per platform, when any team exists: the `ClusterRole lattice-team-developer`
 * ({@link developerRules}). Least privilege: a developer writes LatticeServices and nothing else, so
 * every change goes through validation, Cedar and the quota gates; everything Lattice derives is
 * readable (to debug), Secrets and `pods/exec` are not (they would reveal secret values).
 *
 * Default deny needs nothing per namespace: the cluster-wide `lattice-default-deny`
 * (src/compiler/platform/baseline.ts) selects every pod outside the excluded platform namespaces, which a team
 * therefore cannot claim. DNS egress is allowed per service by its CiliumNetworkPolicy
 * (src/compiler/mesh/mesh.ts), so a pod Lattice did not derive resolves and reaches nothing.
 */
import { PLATFORM_NAMESPACE } from '../../api/common.ts';
import { KIND as TEAM_KIND, latticeTeamSchema, type LatticeTeam, type TeamQuota } from '../../api/latticeteam/v1alpha1.ts';
import type { PlatformSettings } from '../../api/latticeplatform/v1alpha1.ts';
import type { NamespaceMetadata } from '../../policy/index.ts';
import { excludedNamespaces } from './baseline.ts';
import { LABELS, MANAGED_BY } from '../naming.ts';
import { issuesToDiagnostics } from '../service/validate.ts';
import type { Diagnostic, KubeObject, ServiceInput } from '../types.ts';

/** Labels the namespace factory sets on each namespace. */
export const TEAM_LABELS = {
  team: 'lattice.dev/team',
  environment: 'lattice.dev/environment',
  costCenter: 'lattice.dev/cost-center',
  podSecurityEnforce: 'pod-security.kubernetes.io/enforce',
  podSecurityEnforceVersion: 'pod-security.kubernetes.io/enforce-version',
  podSecurityWarn: 'pod-security.kubernetes.io/warn',
  podSecurityWarnVersion: 'pod-security.kubernetes.io/warn-version',
  dataplaneMode: 'istio.io/dataplane-mode',
} as const;

/** Annotations the namespace factory sets on each namespace. */
export const TEAM_ANNOTATIONS = {
  owner: 'lattice.dev/owner',
  alertReceiver: 'lattice.dev/alert-receiver',
  alertChannel: 'lattice.dev/alert-channel',
  alertEscalation: 'lattice.dev/alert-escalation',
} as const;

/** The Pod Security Standards version enforced (pinned; `warn` follows `latest`). */
export const POD_SECURITY_VERSION = 'v1.33';

/** Name of the ClusterRole (and of each RoleBinding) granted to team groups. */
export const DEVELOPER_ROLE = 'lattice-team-developer';
/** Name of the ResourceQuota derived in each team namespace. */
export const TEAM_QUOTA_NAME = 'lattice-team';
/** Name of the LimitRange derived in each team namespace. */
export const TEAM_LIMITS_NAME = 'lattice-defaults';

/** What one team derived, or why it derived less. */
export interface TeamResult {
  name: string;
  /** The namespaces derived for the team (conflicting or refused ones left out), sorted. */
  namespaces: string[];
  /** Namespace, ResourceQuota, LimitRange, RoleBinding per namespace, in that order. */
  objects: KubeObject[];
  /** Errors: an invalid team derives nothing; a refused namespace is left out. */
  diagnostics: Diagnostic[];
  /** The validated team, when valid. */
  team?: LatticeTeam;
}

/** Everything the namespace factory derived for a platform. */
export interface TeamsResult {
  teams: TeamResult[];
  /** The ClusterRole, then each team's objects; empty without teams. */
  objects: KubeObject[];
  /** Metadata of every derived namespace, by name, as Cedar and quotas read it. */
  namespaces: Record<string, NamespaceMetadata>;
}

/**
 * The ClusterRole rules of a team developer (rbac.authorization.k8s.io/v1 PolicyRule[]): write
 * LatticeServices, read what Lattice derives from them, pod logs and events. Deliberately absent:
 * Secrets (values), `pods/exec`, `pods/attach`, `pods/portforward` (a shell reads the secrets mounted
 * in the pod), and any write to derived objects (the controller would overwrite it, and a direct
 * write skips Cedar).
 */
export function developerRules(): Record<string, unknown>[] {
  const read = ['get', 'list', 'watch'];
  return [
    { apiGroups: ['lattice.dev'], resources: ['latticeservices'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    { apiGroups: ['lattice.dev'], resources: ['latticeservices/status'], verbs: ['get'] },
    { apiGroups: [''], resources: ['pods', 'pods/log', 'services', 'serviceaccounts', 'configmaps', 'events', 'resourcequotas', 'limitranges'], verbs: read },
    { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: read },
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: read },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: read },
    { apiGroups: ['external-secrets.io'], resources: ['externalsecrets'], verbs: read },
    { apiGroups: ['cilium.io'], resources: ['ciliumnetworkpolicies'], verbs: read },
    { apiGroups: ['security.istio.io'], resources: ['authorizationpolicies', 'peerauthentications'], verbs: read },
    { apiGroups: ['networking.istio.io'], resources: ['serviceentries'], verbs: read },
    { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: read },
    { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes', 'grpcroutes', 'tcproutes'], verbs: read },
    { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: read },
    { apiGroups: ['operator.victoriametrics.com'], resources: ['vmservicescrapes', 'vmrules'], verbs: read },
  ];
}

function teamMeta(name: string, team: string, namespace?: string): KubeObject['metadata'] {
  const meta: KubeObject['metadata'] = { name, labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: 'lattice', [TEAM_LABELS.team]: team } };
  if (namespace !== undefined) meta.namespace = namespace;
  return meta;
}

/** The ResourceQuota `spec.hard` of a team quota (Kubernetes quantities as strings). */
export function resourceQuotaHard(quota: TeamQuota): Record<string, string> {
  const hard: Record<string, string> = {};
  if (quota.cpu !== undefined) hard['requests.cpu'] = quota.cpu;
  if (quota.memory !== undefined) {
    hard['requests.memory'] = quota.memory;
    hard['limits.memory'] = quota.memory;
  }
  if (quota.pods !== undefined) hard.pods = String(quota.pods);
  if (quota.gpu !== undefined) hard['requests.nvidia.com/gpu'] = String(quota.gpu);
  return hard;
}

/** The objects of one namespace of a valid team. */
function namespaceObjects(team: LatticeTeam, ns: string): { objects: KubeObject[]; metadata: NamespaceMetadata } {
  const spec = team.spec;
  const settings = spec.namespaces[ns]!;
  const name = team.metadata.name;
  const costCenter = settings.costCenter ?? spec.costCenter;
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.partOf]: 'lattice',
    [TEAM_LABELS.team]: name,
    [TEAM_LABELS.environment]: settings.environment,
  };
  if (costCenter !== undefined) labels[TEAM_LABELS.costCenter] = costCenter;
  labels[TEAM_LABELS.podSecurityEnforce] = settings.podSecurity;
  labels[TEAM_LABELS.podSecurityEnforceVersion] = POD_SECURITY_VERSION;
  labels[TEAM_LABELS.podSecurityWarn] = 'restricted';
  labels[TEAM_LABELS.podSecurityWarnVersion] = 'latest';
  labels[TEAM_LABELS.dataplaneMode] = 'ambient';
  const annotations: Record<string, string> = { [TEAM_ANNOTATIONS.owner]: spec.owner };
  if (spec.alerts !== undefined) {
    annotations[TEAM_ANNOTATIONS.alertReceiver] = spec.alerts.receiver;
    if (spec.alerts.channel !== undefined) annotations[TEAM_ANNOTATIONS.alertChannel] = spec.alerts.channel;
    if (spec.alerts.escalation !== undefined) annotations[TEAM_ANNOTATIONS.alertEscalation] = spec.alerts.escalation;
  }
  const quota = settings.quota ?? spec.quota;
  const defaults = spec.containerDefaults;
  const limitItem: Record<string, unknown> = {
    type: 'Container',
    default: { memory: defaults.memoryLimit },
    defaultRequest: { cpu: defaults.cpu, memory: defaults.memory },
  };
  if (quota.memory !== undefined) limitItem.max = { memory: quota.memory };
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels, annotations } },
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: teamMeta(TEAM_QUOTA_NAME, name, ns), spec: { hard: resourceQuotaHard(quota) } },
    { apiVersion: 'v1', kind: 'LimitRange', metadata: teamMeta(TEAM_LIMITS_NAME, name, ns), spec: { limits: [limitItem] } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: teamMeta(DEVELOPER_ROLE, name, ns),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: DEVELOPER_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: spec.group }],
    },
  ];
  return { objects, metadata: { labels: { ...labels }, annotations: { ...annotations } } };
}

function teamError(reason: string, message: string, doc: ServiceInput, path: (string | number)[]): Diagnostic {
  const d: Diagnostic = { severity: 'error', condition: 'Validated', reason, message, path: path.join('.') };
  const location = doc.locate?.(path);
  if (location) d.location = location;
  return d;
}

function nameOf(object: unknown): string {
  const name = (object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  return typeof name === 'string' ? name : '(unnamed)';
}

/**
 * Derives every team's objects. Refused, each with an error on the team naming the field:
 * an invalid LatticeTeam (derives nothing); a second team of the same name; a namespace claimed by
 * two teams (derived for neither: who owns it decides its Cedar identity, so no guess); a platform
 * namespace ({@link excludedNamespaces}, lattice-system), which the cluster-wide default deny does
 * not cover. The rest of a team's namespaces are derived.
 */
export function deriveTeams(docs: readonly ServiceInput[], settings: PlatformSettings): TeamsResult {
  const results: TeamResult[] = [];
  const valid: { team: LatticeTeam; doc: ServiceInput; result: TeamResult }[] = [];
  for (const doc of docs) {
    const name = nameOf(doc.object);
    const result: TeamResult = { name, namespaces: [], objects: [], diagnostics: [] };
    results.push(result);
    const parsed = latticeTeamSchema.safeParse(doc.object);
    if (!parsed.success) {
      result.diagnostics.push(...issuesToDiagnostics(parsed.error.issues, doc));
      continue;
    }
    if (valid.some((v) => v.team.metadata.name === name)) {
      result.diagnostics.push(teamError('DuplicateName', `LatticeTeam ${name} is declared twice; only the first is used. Merge the two into one.`, doc, ['metadata', 'name']));
      continue;
    }
    result.team = parsed.data;
    valid.push({ team: parsed.data, doc, result });
  }
  const claims = new Map<string, string[]>();
  for (const { team } of valid) {
    for (const ns of Object.keys(team.spec.namespaces)) claims.set(ns, [...(claims.get(ns) ?? []), team.metadata.name]);
  }
  const platformNamespaces = new Set([...excludedNamespaces(settings), PLATFORM_NAMESPACE]);
  const objects: KubeObject[] = [];
  const namespaces: Record<string, NamespaceMetadata> = {};
  for (const { team, doc, result } of valid) {
    for (const ns of Object.keys(team.spec.namespaces).sort()) {
      const at = ['spec', 'namespaces', ns];
      const owners = claims.get(ns)!;
      if (platformNamespaces.has(ns)) {
        result.diagnostics.push(teamError('PlatformNamespace',
          `namespace ${ns} is a platform namespace (excluded from the cluster-wide default deny, see LatticePlatform spec.mesh.systemNamespaces), so a team's pods there would run without network isolation; it was not derived. Give the team a namespace of its own.`, doc, at));
        continue;
      }
      if (owners.length > 1) {
        const others = owners.filter((o) => o !== team.metadata.name);
        result.diagnostics.push(teamError('NamespaceClaimed',
          `namespace ${ns} is also listed by LatticeTeam ${others.join(', ')}; a namespace belongs to one team (its label lattice.dev/team is the team Cedar sees), so it was derived for neither. Remove it from all teams but one.`, doc, at));
        continue;
      }
      const derived = namespaceObjects(team, ns);
      result.objects.push(...derived.objects);
      result.namespaces.push(ns);
      namespaces[ns] = derived.metadata;
    }
  }
  if (valid.length > 0) {
    objects.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: DEVELOPER_ROLE, labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: 'lattice' } }, rules: developerRules() });
  }
  for (const r of results) objects.push(...r.objects);
  return { teams: results, objects, namespaces };
}

/** The kind name, for problem reports. */
export { TEAM_KIND };
