/**
 * What a change does to derived infrastructure: the object-level and field-level difference between
 * two sets of derived objects (two renders, or a render and a cluster), grouped by the service that
 * owns each object, with the traffic it opens or closes and the permissions it grants or revokes.
 *
 * Pure: no I/O. `src/cli/diff.ts` produces the two sides (folders, git refs or a live cluster).
 *
 * - Objects are matched by `apiVersion`, `kind`, namespace and name ({@link objectKey}); an object is
 *   `added`, `removed` or `changed` (at least one field differs after {@link normalizeForDiff}).
 * - Field changes come from `microdiff` (a structural JSON diff), as dotted paths with array indexes.
 * - Traffic is read from the derived policies themselves, not from the specs: every
 *   (caller identity, callee, port) an Istio `AuthorizationPolicy` ALLOW rule admits, and every
 *   external destination a `CiliumNetworkPolicy` egress rule admits (`toFQDNs`, `toCIDR`).
 * - Permissions are what Cedar gates (docs/policy.md): secrets read (ExternalSecret remote keys),
 *   security relaxations of containers and pods, and the hostnames a service's routes publish.
 */
import { CONVERSION_ANNOTATION, SERVICE_API_VERSIONS, V1BETA1, convertLatticeService } from '../api/latticeservice/index.ts';
import diff from 'microdiff';
import { LABELS } from './naming.ts';
import type { KubeObject } from './types.ts';

/** One field that differs, as a dotted path (`spec.template.spec.containers.0.image`). */
export interface FieldChange {
  path: string;
  type: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

/** One object that differs between the two sides. */
export interface ObjectChange {
  /** `<namespace>/<service>` of the owning service, or `platform` for platform-level objects. */
  owner: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** For `changed`: the fields that differ. */
  fields: FieldChange[];
}

/** The whole difference, with its summary. */
export interface DerivedDiff {
  changes: ObjectChange[];
  summary: {
    added: number;
    changed: number;
    removed: number;
    /** Owners (services, or `platform`) with at least one change, sorted. */
    owners: string[];
  };
  /** Flows the policies on side B allow and side A did not (`caller -> callee:port`), sorted. */
  trafficOpened: string[];
  /** Flows side A allowed and side B no longer does, sorted. */
  trafficClosed: string[];
  /** Permissions (secret reads, security relaxations, published hostnames) new on side B, sorted. */
  permissionsGranted: string[];
  /** Permissions side A had and side B no longer has, sorted. */
  permissionsRevoked: string[];
  /** LatticeService phase changes, `namespace/name: Ready -> Failed`, sorted. */
  phaseChanges: string[];
}

/** The identity of an object: `apiVersion|kind|namespace|name` (namespace empty for cluster-scoped objects). */
export function objectKey(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

/** The owner an object is grouped under: its service (`lattice.dev/service` label), the service itself, or `platform`. */
export function ownerOf(o: KubeObject): string {
  const service = o.metadata.labels?.[LABELS.service];
  if (service !== undefined && o.metadata.namespace !== undefined) return `${o.metadata.namespace}/${service}`;
  if (o.kind === 'LatticeService' && o.metadata.namespace !== undefined) return `${o.metadata.namespace}/${o.metadata.name}`;
  return 'platform';
}

/** Server-set metadata that says nothing about intent (kubernetes.io/docs/reference/using-api/api-concepts). */
const SERVER_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionGracePeriodSeconds'];

/**
 * A copy of `o` without what churns between two renders or between a render and the cluster:
 * server-set metadata, the `kubectl.kubernetes.io/last-applied-configuration` annotation, and the
 * condition timestamps (`lastTransitionTime`) and `observedGeneration` of a status. A LatticeService
 * is compared at `lattice.dev/v1beta1` (converted when written as v1alpha1, without the
 * `lattice.dev/conversion-data` annotation): moving a tree to a new API version is not a change of
 * intent, so `lattice diff` of a v1alpha1 tree and its `lattice migrate`d copy shows nothing.
 */
export function normalizeForDiff(o: KubeObject): KubeObject {
  let copy = structuredClone(o);
  if (o.kind === 'LatticeService' && o.apiVersion !== V1BETA1 && SERVICE_API_VERSIONS.includes(o.apiVersion)) {
    copy = convertLatticeService(copy, V1BETA1) as unknown as KubeObject;
    if (copy.metadata.annotations) delete copy.metadata.annotations[CONVERSION_ANNOTATION];
  }
  for (const key of SERVER_METADATA) delete copy.metadata[key];
  if (copy.metadata.annotations) {
    delete copy.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  }
  const status = copy.status as { observedGeneration?: unknown; conditions?: { lastTransitionTime?: unknown }[] } | undefined;
  if (status && typeof status === 'object') {
    delete status.observedGeneration;
    for (const c of Array.isArray(status.conditions) ? status.conditions : []) delete c.lastTransitionTime;
  }
  return copy;
}

/** Indexes objects by {@link objectKey}; a later duplicate replaces an earlier one. */
function index(objects: readonly KubeObject[]): Map<string, KubeObject> {
  return new Map(objects.map((o) => {
    const n = normalizeForDiff(o);
    return [objectKey(n), n];
  }));
}

function fieldChanges(a: KubeObject, b: KubeObject): FieldChange[] {
  return diff(a as Record<string, unknown>, b as Record<string, unknown>).map((d) => {
    const change: FieldChange = { path: d.path.join('.'), type: d.type === 'CREATE' ? 'added' : d.type === 'REMOVE' ? 'removed' : 'changed' };
    if ('oldValue' in d) change.before = d.oldValue;
    if ('value' in d) change.after = d.value;
    return change;
  });
}

/**
 * The difference from side `a` to side `b`. Changes are sorted by owner (`platform` first), kind,
 * namespace and name, so the output is stable whatever the input order.
 */
export function diffDerived(a: readonly KubeObject[], b: readonly KubeObject[]): DerivedDiff {
  const before = index(a);
  const after = index(b);
  const changes: ObjectChange[] = [];
  const record = (o: KubeObject, change: ObjectChange['change'], fields: FieldChange[]): void => {
    const c: ObjectChange = { owner: ownerOf(o), apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, change, fields };
    if (o.metadata.namespace !== undefined) c.namespace = o.metadata.namespace;
    changes.push(c);
  };
  for (const [key, o] of after) {
    const old = before.get(key);
    if (!old) record(o, 'added', []);
    else {
      const fields = fieldChanges(old, o);
      if (fields.length > 0) record(o, 'changed', fields);
    }
  }
  for (const [key, o] of before) if (!after.has(key)) record(o, 'removed', []);
  const rank = (owner: string): string => (owner === 'platform' ? '' : owner);
  changes.sort((x, y) => rank(x.owner).localeCompare(rank(y.owner)) || x.kind.localeCompare(y.kind) || (x.namespace ?? '').localeCompare(y.namespace ?? '') || x.name.localeCompare(y.name));
  const [opened, closed] = setDifference(trafficOf(a), trafficOf(b));
  const [granted, revoked] = setDifference(permissionsOf(a), permissionsOf(b));
  return {
    changes,
    summary: {
      added: changes.filter((c) => c.change === 'added').length,
      changed: changes.filter((c) => c.change === 'changed').length,
      removed: changes.filter((c) => c.change === 'removed').length,
      owners: [...new Set(changes.map((c) => c.owner))].sort((x, y) => rank(x).localeCompare(rank(y))),
    },
    trafficOpened: opened,
    trafficClosed: closed,
    permissionsGranted: granted,
    permissionsRevoked: revoked,
    phaseChanges: phaseChanges(a, b),
  };
}

/** `[in b but not a, in a but not b]`, each sorted. */
function setDifference(a: Set<string>, b: Set<string>): [string[], string[]] {
  return [[...b].filter((x) => !a.has(x)).sort(), [...a].filter((x) => !b.has(x)).sort()];
}

/** `cluster.local/ns/<ns>/sa/<sa>` as `<ns>/<sa>`; other principals as written. */
function shortPrincipal(principal: string): string {
  const m = /^[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
  return m ? `${m[1]}/${m[2]}` : principal;
}

interface AuthzRule {
  from?: { source?: { principals?: string[]; namespaces?: string[] } }[];
  to?: { operation?: { ports?: string[] } }[];
}

interface CiliumPort {
  ports?: { port?: string; protocol?: string }[];
}

/**
 * Every flow the derived policies allow, as `caller -> target:port` strings:
 * - from each Istio `AuthorizationPolicy` with action ALLOW (the default): each source principal
 *   (or namespace) of a rule, to the workloads its selector names (`app.kubernetes.io/name`, else
 *   the policy's namespace as a whole), on each port of the rule (`*` when the rule names none);
 * - from each `CiliumNetworkPolicy` egress rule with `toFQDNs` or `toCIDR`: the selected service to
 *   that external name or range, on each port.
 * Policies that allow nothing (`lattice-allow-nothing`) contribute nothing.
 */
export function trafficOf(objects: readonly KubeObject[]): Set<string> {
  const flows = new Set<string>();
  for (const o of objects) {
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    if (o.kind === 'AuthorizationPolicy' && (spec.action === undefined || spec.action === 'ALLOW')) {
      const selected = (spec.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels?.[LABELS.name];
      const target = `${o.metadata.namespace ?? ''}/${selected ?? '*'}`;
      for (const rule of (spec.rules ?? []) as AuthzRule[]) {
        const callers = (rule.from ?? []).flatMap((f) => [...(f.source?.principals ?? []).map(shortPrincipal), ...(f.source?.namespaces ?? []).map((n) => `${n}/*`)]);
        const ports = (rule.to ?? []).flatMap((t) => t.operation?.ports ?? []);
        for (const caller of callers.length > 0 ? callers : ['*']) {
          for (const port of ports.length > 0 ? ports : ['*']) flows.add(`${caller} -> ${target}:${port}`);
        }
      }
    }
    if (o.kind === 'CiliumNetworkPolicy') {
      const selected = (spec.endpointSelector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels?.[`k8s:${LABELS.name}`] ?? o.metadata.name;
      const caller = `${o.metadata.namespace ?? ''}/${selected}`;
      for (const rule of (spec.egress ?? []) as { toFQDNs?: { matchName?: string; matchPattern?: string }[]; toCIDR?: string[]; toPorts?: CiliumPort[] }[]) {
        const targets = [...(rule.toFQDNs ?? []).map((f) => f.matchName ?? f.matchPattern ?? '?'), ...(rule.toCIDR ?? [])];
        const ports = (rule.toPorts ?? []).flatMap((p) => (p.ports ?? []).map((x) => `${x.port ?? '*'}/${x.protocol ?? 'ANY'}`));
        for (const t of targets) for (const port of ports.length > 0 ? ports : ['*']) flows.add(`${caller} -> ${t}:${port}`);
      }
    }
  }
  return flows;
}

interface ContainerLike {
  name?: string;
  securityContext?: { privileged?: boolean; allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; capabilities?: { add?: string[] } };
}

/**
 * The permissions the derived objects hold, as `<owner>: <permission>` strings: each secret path an
 * ExternalSecret reads (`reads secret <key>`), each security relaxation of a container or pod
 * (added capabilities, privileged, privilege escalation, running as root, writable root filesystem,
 * host network), and each hostname a route publishes.
 */
export function permissionsOf(objects: readonly KubeObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    const owner = ownerOf(o);
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    if (o.kind === 'ExternalSecret') {
      for (const d of (spec.data ?? []) as { remoteRef?: { key?: string } }[]) if (d.remoteRef?.key) out.add(`${owner}: reads secret ${d.remoteRef.key}`);
      for (const d of (spec.dataFrom ?? []) as { extract?: { key?: string } }[]) if (d.extract?.key) out.add(`${owner}: reads secret ${d.extract.key}`);
    }
    if (o.kind === 'HTTPRoute' || o.kind === 'GRPCRoute' || o.kind === 'TLSRoute') {
      for (const h of (spec.hostnames ?? []) as string[]) out.add(`${owner}: publishes ${h}`);
    }
    const pod = podSpecOf(o);
    if (!pod) continue;
    if (pod.hostNetwork === true) out.add(`${owner}: host network`);
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      const sc = c.securityContext ?? {};
      const where = `container ${c.name ?? '?'}`;
      for (const cap of sc.capabilities?.add ?? []) out.add(`${owner}: capability ${cap} (${where})`);
      if (sc.privileged === true) out.add(`${owner}: privileged (${where})`);
      if (sc.allowPrivilegeEscalation === true) out.add(`${owner}: privilege escalation (${where})`);
      if (sc.runAsNonRoot === false || sc.runAsUser === 0) out.add(`${owner}: runs as root (${where})`);
      if (sc.readOnlyRootFilesystem === false) out.add(`${owner}: writable root filesystem (${where})`);
    }
  }
  return out;
}

function podSpecOf(o: KubeObject): { hostNetwork?: boolean; containers?: ContainerLike[]; initContainers?: ContainerLike[] } | undefined {
  const spec = o.spec as { template?: { spec?: unknown }; jobTemplate?: { spec?: { template?: { spec?: unknown } } } } | undefined;
  if (!spec) return undefined;
  if (o.kind === 'Pod') return spec as ReturnType<typeof podSpecOf>;
  return (spec.template?.spec ?? spec.jobTemplate?.spec?.template?.spec) as ReturnType<typeof podSpecOf>;
}

function phaseChanges(a: readonly KubeObject[], b: readonly KubeObject[]): string[] {
  const phases = (objects: readonly KubeObject[]): Map<string, string> =>
    new Map(objects.filter((o) => o.kind === 'LatticeService').map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, String((o.status as { phase?: unknown } | undefined)?.phase ?? 'Unknown')]));
  const pa = phases(a);
  const pb = phases(b);
  const out: string[] = [];
  for (const [k, p] of pb) {
    const old = pa.get(k);
    if (old === undefined) out.push(`${k}: (new) -> ${p}`);
    else if (old !== p) out.push(`${k}: ${old} -> ${p}`);
  }
  for (const [k, p] of pa) if (!pb.has(k)) out.push(`${k}: ${p} -> (removed)`);
  return out.sort();
}
