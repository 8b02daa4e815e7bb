/**
 * `LatticeTeam` (lattice.dev/v1alpha1, namespace `lattice-system`): a team as the platform knows it,
 * and the factory of its namespaces. The platform team writes one per team; Lattice derives, for each
 * namespace listed, a `v1 Namespace` with the standard labels (team, environment, cost centre, the
 * restricted Pod Security Standard, Istio ambient enrolment) and the owner and alert-routing
 * annotations, a `ResourceQuota` and a `LimitRange` from the team's quota, and a `RoleBinding` of the
 * team's group to the ClusterRole `lattice-team-developer` (src/compiler/platform/team.ts).
 *
 * Why in lattice-system and not in the team's namespaces (or cluster-scoped): a LatticeTeam decides
 * what the team's namespaces are labelled with, and those labels are what Cedar reads as the team and
 * owner of every service there, what quotas select, and who gets RBAC. A team that could write its
 * own LatticeTeam could raise its quota, claim another team's namespace or grant itself access; like
 * every platform resource it is read only in lattice-system, where teams have no write access.
 */
import { z } from 'zod';
import { API_VERSION, dnsLabel, platformObjectMeta, quantity } from '../common.ts';

export const KIND = 'LatticeTeam';
export const PLURAL = 'latticeteams';
export const SHORT_NAMES = ['lt'];

/** A label value (Kubernetes: at most 63 characters, alphanumerics with `-`, `_`, `.` inside, or empty). */
const labelValue = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'is not a valid label value: use at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit');

/** Per-namespace limits, the fields of a Kubernetes ResourceQuota `spec.hard` Lattice sets. */
export const teamQuotaSchema = z
  .strictObject({
    cpu: quantity.optional().describe('CPU requests of all pods of the namespace together, in cores (ResourceQuota requests.cpu), e.g. 8.'),
    memory: quantity.optional().describe('Memory requests of all pods together (ResourceQuota requests.memory), e.g. 16Gi; memory limits get the same ceiling (limits.memory).'),
    pods: z.number().int().min(0).optional().describe('Number of pods (ResourceQuota pods). Leave room for rolling updates: a rollout runs up to 25% more pods.'),
    gpu: z.number().int().min(0).optional().describe('NVIDIA GPUs requested (ResourceQuota requests.nvidia.com/gpu).'),
  })
  .refine((h) => Object.values(h).some((v) => v !== undefined), 'set at least one of cpu, memory, pods or gpu');

/** Defaults for containers that declare no resources (pods not derived by Lattice). */
export const containerDefaultsSchema = z.strictObject({
  cpu: quantity.default('100m').describe('CPU request of a container that declares none (LimitRange defaultRequest.cpu; default 100m). No CPU limit is set: containers may burst.'),
  memory: quantity.default('128Mi').describe('Memory request of a container that declares none (LimitRange defaultRequest.memory; default 128Mi).'),
  memoryLimit: quantity.default('256Mi').describe('Memory limit of a container that declares none (LimitRange default.memory; default 256Mi).'),
});

/** One namespace of the team. */
export const teamNamespaceSchema = z.strictObject({
  environment: labelValue.min(1).describe('Environment of the namespace, e.g. production or staging: label lattice.dev/environment, readable by Cedar policies as principal.environment.'),
  costCenter: labelValue.optional().describe('Cost centre charged for the namespace (label lattice.dev/cost-center); default: the team\'s spec.costCenter.'),
  quota: teamQuotaSchema.optional().describe('Limits of this namespace; default: the team\'s spec.quota.'),
  podSecurity: z
    .enum(['restricted', 'baseline'])
    .default('restricted')
    .describe('Pod Security Standard enforced in the namespace (label pod-security.kubernetes.io/enforce): restricted (default; what every Lattice-derived pod meets), or baseline for a namespace whose services hold Cedar permits for security overrides beyond restricted (running as root).'),
});

/** Where the team's alerts go. */
export const alertRoutingSchema = z.strictObject({
  receiver: z.string().min(1).max(253).describe('Alertmanager receiver the alerts of the team\'s namespaces are routed to (annotation lattice.dev/alert-receiver), e.g. commerce-oncall.'),
  channel: z.string().min(1).max(253).optional().describe('Chat channel for non-paging alerts (annotation lattice.dev/alert-channel), e.g. #commerce-alerts.'),
  escalation: z.string().url().optional().describe('URL of the escalation policy or runbook index (annotation lattice.dev/alert-escalation).'),
});

/** The spec of a LatticeTeam. */
export const latticeTeamSpecSchema = z.strictObject({
  displayName: z.string().min(1).max(128).optional().describe('Human name of the team, shown in the service catalog (default: the object name).'),
  owner: z.string().min(1).max(256).describe('How to reach the team, e.g. "#commerce on Slack" or an e-mail address: annotation lattice.dev/owner on every namespace, shown in denials and the catalog.'),
  group: z
    .string()
    .min(1)
    .max(256)
    .describe('The group, as the cluster\'s authenticator names it (OIDC groups claim, e.g. commerce-developers), bound in each namespace to the ClusterRole lattice-team-developer.'),
  costCenter: labelValue.optional().describe('Default cost centre of the team\'s namespaces (label lattice.dev/cost-center).'),
  namespaces: z
    .record(dnsLabel, teamNamespaceSchema)
    .refine((n) => Object.keys(n).length > 0, 'list at least one namespace')
    .describe('The team\'s namespaces, name to settings. Each derives a Namespace, a ResourceQuota, a LimitRange and a RoleBinding. A namespace belongs to one team; platform namespaces cannot be claimed.'),
  quota: teamQuotaSchema.describe('Limits of each namespace (a Kubernetes ResourceQuota, enforced at pod admission), unless the namespace sets its own.'),
  containerDefaults: containerDefaultsSchema.default({ cpu: '100m', memory: '128Mi', memoryLimit: '256Mi' }).describe('Requests and limits given to containers that declare none (a LimitRange). Lattice-derived pods always declare theirs.'),
  alerts: alertRoutingSchema.optional().describe('Alert routing metadata, written as annotations on each namespace for the alerting pipeline to read.'),
});

/** A LatticeTeam document. */
export const latticeTeamSchema = z.object({
  apiVersion: z.literal(API_VERSION).describe(`Always ${API_VERSION}.`),
  kind: z.literal(KIND).describe(`Always ${KIND}.`),
  metadata: platformObjectMeta(KIND, 'its labels decide the team and owner Cedar sees, its quota and its RBAC; a team must not write its own'),
  spec: latticeTeamSpecSchema.describe('The team, its namespaces, quota, group and alert routing.'),
});

/** A validated LatticeTeam. */
export type LatticeTeam = z.output<typeof latticeTeamSchema>;
/** A team's per-namespace limits. */
export type TeamQuota = z.output<typeof teamQuotaSchema>;
/** One namespace of a team. */
export type TeamNamespace = z.output<typeof teamNamespaceSchema>;
