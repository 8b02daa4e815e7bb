/**
 * The registry of Lattice kinds: one entry per kind and version, pointing at its module's schemas.
 * The CRDs, `lattice explain`, the README field reference and input classification all read this list,
 * so adding a kind here is what makes it known everywhere.
 */
import type { z } from 'zod';
import { GROUP, VERSION, SERVICE_V1ALPHA1_WARNING } from './common.ts';
import { editDistance, nearestName } from './names.ts';
import * as latticeService from './latticeservice/v1alpha1.ts';
import * as latticeModel from './latticemodel/v1alpha1.ts';
import * as latticeServiceV1beta1 from './latticeservice/v1beta1.ts';
import * as latticePlatform from './latticeplatform/v1alpha1.ts';
import * as secretProvider from './secretprovider/v1alpha1.ts';
import * as imageProvider from './imageprovider/v1alpha1.ts';
import * as cedarPolicy from './cedarpolicy/v1alpha1.ts';
import * as latticeQuota from './latticequota/v1alpha1.ts';
import * as latticeTeam from './latticeteam/v1alpha1.ts';
import * as latticeJob from './latticejob/v1alpha1.ts';
import * as latticeMeshMember from './latticemeshmember/v1alpha1.ts';
import * as latticePackage from './latticepackage/v1alpha1.ts';

/** A printer column of `kubectl get` (apiextensions.k8s.io/v1 `additionalPrinterColumns`). */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
}

/** An older version of a kind, still served beside {@link KindDefinition.version}. */
export interface OlderVersion {
  version: string;
  spec: z.ZodType;
  status?: z.ZodType;
  /** Set when the version is deprecated: the CRD's `deprecationWarning` (date, replacement, how to migrate). */
  deprecationWarning?: string;
}

/** Everything needed to publish and document one kind. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  group: string;
  version: string;
  /** One paragraph: what the kind is for. */
  description: string;
  spec: z.ZodType;
  status?: z.ZodType;
  printerColumns: PrinterColumn[];
  /**
   * Older versions still served (LatticeService: v1alpha1). `version`, `spec` and `status` above are
   * the newest version's: what `lattice explain`, `lattice schema` and the README document first.
   */
  olderVersions?: OlderVersion[];
  /** The version the API server stores (the CRD's `storage: true`); default `version`. docs/versioning.md says why. */
  storageVersion?: string;
}

/** Every served version of `def`, newest first, as `{version, spec, status, deprecationWarning}`. */
export function servedVersions(def: KindDefinition): OlderVersion[] {
  const newest: OlderVersion = { version: def.version, spec: def.spec };
  if (def.status) newest.status = def.status;
  return [newest, ...(def.olderVersions ?? [])];
}

/** One served version of `def` as a kind definition of its own (`version` undefined: the newest); undefined when not served. */
export function atVersion(def: KindDefinition, version?: string): KindDefinition | undefined {
  if (version === undefined || version === def.version) return def;
  const older = def.olderVersions?.find((v) => v.version === version);
  if (!older) return undefined;
  const { olderVersions: _older, storageVersion: _storage, status: _status, ...rest } = def;
  return { ...rest, version: older.version, spec: older.spec, ...(older.status ? { status: older.status } : {}) };
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** All Lattice kinds, in documentation order. */
export const KINDS: KindDefinition[] = [
  {
    kind: latticeService.KIND,
    plural: latticeService.PLURAL,
    singular: 'latticeservice',
    shortNames: latticeService.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: latticeServiceV1beta1.VERSION,
    description:
      "A service's intent: its containers, replicas, the services it calls and accepts calls from, and the secrets it reads. The platform derives its Deployment, Service, ServiceAccount, network policies, secrets wiring, metrics scraping and disruption budget.",
    spec: latticeServiceV1beta1.latticeServiceSpecSchema,
    status: latticeService.latticeServiceStatusSchema,
    // v1alpha1 stays the storage version for this release, so a rollback to a Lattice without
    // v1beta1 still reads every stored object (docs/versioning.md).
    olderVersions: [{ version: VERSION, spec: latticeService.latticeServiceSpecSchema, status: latticeService.latticeServiceStatusSchema, deprecationWarning: SERVICE_V1ALPHA1_WARNING }],
    storageVersion: VERSION,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Ready or Failed.' },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', description: 'Desired (minimum) number of pods.' },
      { name: 'Resources', type: 'integer', jsonPath: '.status.resourceCount', description: 'Number of derived resources.' },
      AGE,
    ],
  },
  {
    kind: latticeJob.KIND,
    plural: latticeJob.PLURAL,
    singular: 'latticejob',
    shortNames: latticeJob.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      "A batch or training job's intent: its tasks (each a set of identical pods with their containers, secrets and resources), gang scheduling, queue, priority, retry policies, distributed training and an optional schedule. The platform derives a Volcano Job (or a Volcano CronJob), its ServiceAccount, configuration and secrets, and its default-deny network policies.",
    spec: latticeJob.latticeJobSpecSchema,
    status: latticeJob.latticeJobStatusSchema,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Ready or Failed (the derivation).' },
      { name: 'Run', type: 'string', jsonPath: '.status.jobPhase', description: 'Pending, Running, Succeeded or Failed (the Volcano Job).' },
      { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule.cron', description: 'Cron schedule, when scheduled.' },
      AGE,
    ],
  },
  {
    kind: latticeModel.KIND,
    plural: latticeModel.PLURAL,
    singular: 'latticemodel',
    shortNames: latticeModel.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      "A served model: its serving containers, the weights' source (credentials by secret reference), replicas and autoscaling, GPUs, and its routes through the Kthena router. Callers agree to it like to a service. The platform derives its Deployment, Service, network policies, secrets wiring, Kthena ModelServer and ModelRoutes.",
    spec: latticeModel.latticeModelSpecSchema,
    status: latticeModel.latticeModelStatusSchema,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Ready or Failed.' },
      { name: 'Source', type: 'string', jsonPath: '.spec.modelSource.uri', description: 'Where the weights come from.' },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', description: 'Desired (minimum) number of pods.' },
      AGE,
    ],
  },
  {
    kind: latticePlatform.KIND,
    plural: latticePlatform.PLURAL,
    singular: 'latticeplatform',
    shortNames: latticePlatform.SHORT_NAMES,
    scope: 'Cluster',
    group: GROUP,
    version: VERSION,
    description: "The platform team's settings (one object, named default). Every setting has a default.",
    spec: latticePlatform.latticePlatformSpecSchema,
    printerColumns: [AGE],
  },
  {
    kind: secretProvider.KIND,
    plural: secretProvider.PLURAL,
    singular: 'secretprovider',
    shortNames: secretProvider.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      'A named secret backend in lattice-system. Derives an ESO ClusterSecretStore of the same name; secret resources of services read through it.',
    spec: secretProvider.secretProviderSpecSchema,
    printerColumns: [
      { name: 'Default', type: 'boolean', jsonPath: '.spec.default', description: 'Used by secret resources that name no provider.' },
      AGE,
    ],
  },
  {
    kind: imageProvider.KIND,
    plural: imageProvider.PLURAL,
    singular: 'imageprovider',
    shortNames: imageProvider.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      'A container registry the platform knows (read in namespace lattice-system): which images it covers (host and repository prefix), the registry credential to pull them with, and the keys that must have signed them.',
    spec: imageProvider.imageProviderSpecSchema,
    printerColumns: [
      { name: 'Registry', type: 'string', jsonPath: '.spec.registry', description: 'Host and repository prefix covered.' },
      { name: 'Enforce', type: 'boolean', jsonPath: '.spec.trust.enforce', description: 'Whether unsigned images are refused.' },
      AGE,
    ],
  },
  {
    kind: cedarPolicy.KIND,
    plural: cedarPolicy.PLURAL,
    singular: 'cedarpolicy',
    shortNames: cedarPolicy.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      'Platform authorization rules in the Cedar policy language (read in lattice-system). Lattice asks them before a service reads a secret, runs an image, calls an external endpoint, relaxes its security context, accepts calls from any service or exposes a route; no permit means deny, and a forbid always wins.',
    spec: cedarPolicy.cedarPolicySpecSchema,
    status: cedarPolicy.cedarPolicyStatusSchema,
    printerColumns: [
      { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled', description: 'Whether the policies are used.' },
      { name: 'Valid', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].status', description: 'Whether every policy validated against the schema.' },
      { name: 'Policies', type: 'integer', jsonPath: '.status.policyCount', description: 'Number of policies.' },
      AGE,
    ],
  },
  {
    kind: latticeQuota.KIND,
    plural: latticeQuota.PLURAL,
    singular: 'latticequota',
    shortNames: latticeQuota.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      'A ceiling, in lattice-system, on what the services of some namespaces may request together: CPU, memory, GPUs and pods, counting each service at its maximum replicas. A service that would take its quota over the limit is not derived (QuotaSatisfied=False).',
    spec: latticeQuota.latticeQuotaSpecSchema,
    printerColumns: [
      { name: 'CPU', type: 'string', jsonPath: '.spec.hard.cpu', description: 'CPU limit in cores.' },
      { name: 'Memory', type: 'string', jsonPath: '.spec.hard.memory', description: 'Memory limit.' },
      { name: 'Pods', type: 'integer', jsonPath: '.spec.hard.pods', description: 'Pod limit.' },
      AGE,
    ],
  },
  {
    kind: latticeTeam.KIND,
    plural: latticeTeam.PLURAL,
    singular: 'latticeteam',
    shortNames: latticeTeam.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      "A team, in lattice-system, and the factory of its namespaces: for each namespace listed, Lattice derives the Namespace (team, environment and cost-centre labels, the restricted Pod Security Standard, Istio ambient enrolment, owner and alert-routing annotations), a ResourceQuota and a LimitRange from the team's quota, and a RoleBinding of the team's group to the ClusterRole lattice-team-developer.",
    spec: latticeTeam.latticeTeamSpecSchema,
    printerColumns: [
      { name: 'Owner', type: 'string', jsonPath: '.spec.owner', description: 'How to reach the team.' },
      { name: 'Group', type: 'string', jsonPath: '.spec.group', description: 'Group bound to lattice-team-developer in each namespace.' },
      AGE,
    ],
  },
  {
    kind: latticeMeshMember.KIND,
    plural: latticeMeshMember.PLURAL,
    singular: 'latticemeshmember',
    shortNames: latticeMeshMember.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      "A workload Lattice does not run (a Helm-installed Deployment, an operator) in the bilateral mesh: its pods, selected by labels, get the CiliumNetworkPolicy and Istio AuthorizationPolicy of their declared ports, callers and dependencies, with their ServiceAccount as mesh identity. No pod, Deployment or Service is derived.",
    spec: latticeMeshMember.latticeMeshMemberSpecSchema,
    status: latticeMeshMember.latticeMeshMemberStatusSchema,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Ready or Failed.' },
      { name: 'Resources', type: 'integer', jsonPath: '.status.resourceCount', description: 'Number of derived resources.' },
      AGE,
    ],
  },
  {
    kind: latticePackage.KIND,
    plural: latticePackage.PLURAL,
    singular: 'latticepackage',
    shortNames: latticePackage.SHORT_NAMES,
    scope: 'Namespaced',
    group: GROUP,
    version: VERSION,
    description:
      "A Helm chart as an escape hatch: derives a Flux HelmRelease and its HelmRepository or OCIRepository, ExternalSecrets for the secrets its values read (passed through valuesFrom, never written in the values), and the mesh policies of its pods. The chart must be permitted by a Cedar policy (action DeployPackage).",
    spec: latticePackage.latticePackageSpecSchema,
    status: latticePackage.latticePackageStatusSchema,
    printerColumns: [
      { name: 'Chart', type: 'string', jsonPath: '.spec.chart.name', description: 'Chart name.' },
      { name: 'Version', type: 'string', jsonPath: '.spec.chart.version', description: 'Chart version.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Ready or Failed.' },
      AGE,
    ],
  },
];

/** Finds a kind by kind name, plural, singular or short name, case-insensitively. */
export function findKind(name: string): KindDefinition | undefined {
  const n = name.toLowerCase();
  return KINDS.find((k) => k.kind.toLowerCase() === n || k.plural === n || k.singular === n || k.shortNames.includes(n));
}

/**
 * Kinds of the reference design (github.com/evan-hines-js/lattice) that this version does not
 * implement yet. A document of one of them is refused with "not supported yet" rather than
 * ignored, so that a platform never believes a job, model or team was set up when nothing was
 * derived. A kind leaves this list by being added to {@link KINDS}.
 */
export const RESERVED_KINDS: readonly string[] = [];

/** Why a document that claims to be (or looks like) a Lattice object cannot be used: which field and what to do. */
export interface KindProblem {
  /** CamelCase reason: UnknownKind, UnsupportedVersion, UnsupportedKind or WrongAPIGroup. */
  reason: 'UnknownKind' | 'UnsupportedVersion' | 'UnsupportedKind' | 'WrongAPIGroup';
  /** The field to point at: `kind` or `apiVersion`. */
  field: 'kind' | 'apiVersion';
  message: string;
}

/**
 * Classifies a document's `apiVersion` and `kind` against the Lattice kinds. Returns undefined when
 * the document is not a Lattice object at all (another group: Lattice ignores it) or is a served
 * Lattice kind and version; otherwise the problem, with a did-you-mean:
 * - group lattice.dev, kind known, version not served: UnsupportedVersion, naming the served one;
 * - group lattice.dev, kind of the reference design not implemented yet: UnsupportedKind;
 * - group lattice.dev, kind unknown: UnknownKind, with the nearest kind name;
 * - a Lattice kind name under an apiVersion with no group or a group close to lattice.dev
 *   (`v1alpha1`, `lattice/v1alpha1`, `lattice.io/v1alpha1`): WrongAPIGroup.
 * Group names compare case-insensitively, as DNS names do; kinds and versions exactly, as the API server does.
 */
export function kindProblem(apiVersion: string, kind: string): KindProblem | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const known = KINDS.find((k) => k.kind === kind);
  const served = (k: KindDefinition): string => `${k.group}/${k.version}`;
  if (group.toLowerCase() === GROUP) {
    if (known) {
      const versions = servedVersions(known).map((v) => v.version);
      if (group === known.group && versions.includes(version)) return undefined;
      return {
        reason: 'UnsupportedVersion',
        field: 'apiVersion',
        message: `apiVersion ${apiVersion} is not served for ${kind}: Lattice serves ${versions.length > 1 ? versions.map((v) => `${known.group}/${v}`).join(' and ') : `only ${served(known)}`}. Did you mean apiVersion: ${served(known)}?`,
      };
    }
    if (RESERVED_KINDS.includes(kind)) {
      return {
        reason: 'UnsupportedKind',
        field: 'kind',
        message: `${kind} is a Lattice kind this version of Lattice does not support yet, so nothing would be derived from it. Remove the document, or render it with a Lattice version that supports ${kind} (supported kinds: ${KINDS.map((k) => k.kind).join(', ')}).`,
      };
    }
    const suggestion = nearestName(kind, [...KINDS.map((k) => k.kind), ...RESERVED_KINDS], 2);
    return {
      reason: 'UnknownKind',
      field: 'kind',
      message: `kind ${kind === '' ? '(none)' : `"${kind}"`} is not a Lattice kind, so Lattice cannot read this document. ${
        suggestion !== undefined ? `Did you mean ${suggestion}? ` : ''
      }Lattice kinds: ${KINDS.map((k) => k.kind).join(', ')}.`,
    };
  }
  if (known && (!group.includes('.') || editDistance(group.toLowerCase(), GROUP) <= 3)) {
    // Keep the version the document names when it is served (lattice.io/v1alpha1 -> lattice.dev/v1alpha1).
    const same = servedVersions(known).some((v) => v.version === version) ? `${known.group}/${version}` : served(known);
    return {
      reason: 'WrongAPIGroup',
      field: 'apiVersion',
      message: `${kind} is a Lattice kind, but apiVersion ${apiVersion === '' ? '(none)' : apiVersion} is not Lattice's API group, so Lattice cannot read this document. Did you mean apiVersion: ${same}?`,
    };
  }
  return undefined;
}
