/**
 * Turning a LatticeService into Cedar authorization requests: one request per gate instance (each
 * secret, each container image, each external endpoint, each relaxed security-context field, each
 * inbound wildcard), each with the entities Cedar needs (the service, its namespace, the resource).
 * Pure data: the entity shapes follow `lattice.cedarschema`, and Cedar checks them against it on
 * every call.
 */
import { RUNTIME_DEFAULT_CAPABILITIES, addedCapabilities, hostNetworkOf, podContainers, type LatticeService, type PodContainer } from '../api/latticeservice/v1alpha1.ts';
import { parseImageReference } from '../supplychain/reference.ts';
import { secretPathProblem } from '../api/secretpath.ts';
import { parsedEndpoints } from '../api/latticeservice/endpoint.ts';
import { volumeRole } from '../api/latticeservice/volumes.ts';
import { CEDAR_NAMESPACE, type CedarValueJson, type EntityJson } from './cedar.ts';

/** The Cedar actions of the Lattice schema. */
export const LATTICE_ACTIONS = [
  'AccessSecret',
  'DeployImage',
  'AccessExternalEndpoint',
  'OverrideSecurity',
  'AllowWildcard',
  'SkipImageVerification',
  'ExposeRoute',
  'AccessCloud',
  'AccessVolume',
  'DeployPackage',
] as const;

/**
 * Actions of the schema Lattice never asks about (the original Lattice's access proxy): policies
 * naming them validate and load, and are kept out of every decision.
 */
export const UNASKED_ACTIONS = ['AccessCluster'] as const;

/** A Cedar action of the Lattice schema. */
export type LatticeAction = (typeof LATTICE_ACTIONS)[number];

/** A Cedar entity reference, e.g. `{type: "Lattice::Service", id: "commerce/checkout"}`. */
export interface EntityRef {
  type: string;
  id: string;
}

/** Labels and annotations of a Kubernetes Namespace (its `metadata`, or the part of it Lattice reads). */
export interface NamespaceMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The outcome of verifying an image's signature (from the supply-chain step). */
export interface ImageVerification {
  /** The image reference exactly as the container names it. */
  image: string;
  signed: boolean;
  /** The identity (key or certificate subject) that signed it. */
  verifiedBy?: string;
}

/**
 * A container's security-context relaxations. Lattice runs every container with the restricted
 * Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards): all
 * capabilities dropped, not privileged, non-root, read-only root filesystem, no privilege
 * escalation. Each field here that departs from that is one OverrideSecurity request.
 */
export interface ContainerSecurity {
  capabilities?: string[] | { add?: string[] };
  dropCapabilities?: string[];
  privileged?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  seccompProfile?: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  seccompLocalhostProfile?: string;
  apparmorProfile?: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  apparmorLocalhostProfile?: string;
  allowedBinaries?: string[];
}

/**
 * The reference implementation's override categories (`category` of a SecurityOverride): `capability`
 * (capabilities added or kept), `container` (privileged, root, filesystem, escalation), `pod`
 * (pod-level settings), `profile` (seccomp and AppArmor), `binary` (the executable allow-list).
 */
export type SecurityOverrideCategory = 'capability' | 'container' | 'pod' | 'profile' | 'binary';

/** One relaxation of the restricted security context, as asked of Cedar. */
export interface SecurityOverrideInput {
  /** The override id, e.g. `capability:NET_ADMIN`, `unconfined:seccomp`, `allowedBinary:/usr/bin/curl`. */
  id: string;
  category: SecurityOverrideCategory;
  /** The field behind it, relative to the container (`security.privileged`) or the spec for pod overrides. */
  field: string;
  /** Extra entity attributes: `capability`, `binary`, `sysctl`, `profile`. */
  attrs?: Record<string, string>;
}

/** Everything authorization needs to know about one service, given by the pipeline. */
export interface ServiceAuthorizationInput {
  /** The validated LatticeService (defaults applied). */
  service: LatticeService;
  /**
   * Namespaces by name, from the Namespace objects the platform knows: the only source of a
   * service's team and owner (a tenant writes its service's labels, not its Namespace). Team: label
   * `lattice.dev/team`, else `team`. Environment: label `lattice.dev/environment`, else `environment`.
   * Owner contact: annotation `lattice.dev/owner`, else label `lattice.dev/owner`.
   */
  namespaces?: Readonly<Record<string, NamespaceMetadata>>;
  /** The SecretProvider used by secrets that name none (default "default"). */
  defaultSecretProvider?: string;
  /** Image signature verification results, matched to containers by the exact reference. */
  imageVerifications?: readonly ImageVerification[];
  /**
   * The registry credential of an ImageProvider a service names in imagePullSecrets: its
   * SecretProvider (undefined: the default) and remote key; undefined when no such provider has one.
   */
  imageProviderCredential?: (name: string) => { provider?: string; remoteKey: string } | undefined;
  /** The owner of a shared volume id in a namespace, when one service owns it (src/compiler/workload/volumes.ts). */
  volumeOwner?: (namespace: string, id: string) => VolumeOwnerFacts | undefined;
}

/** What the Volume entity says about the service owning a shared volume. */
export interface VolumeOwnerFacts {
  /** `<namespace>/<name>` of the owning service. */
  owner: string;
  accessMode: string;
}

/** Who owns the resource of a request, for "who to contact" in a denial. */
export interface ResourceOwner {
  namespace: string;
  team?: string;
  contact?: string;
}

/** One Cedar authorization request, with what a message about it needs. */
export interface AuthorizationRequest {
  action: LatticeAction;
  principal: EntityRef;
  resource: EntityRef;
  context: Record<string, CedarValueJson>;
  /** Entities Cedar may read: the principal, its namespace, the resource and its namespace. */
  entities: EntityJson[];
  /** What the request is about, e.g. `secret payments/api-key` or `image nginx:1.27 (container web)`. */
  resourceDescription: string;
  /** The request in words after "Service X to", e.g. `access Secret payments/api-key`. */
  requestPhrase: string;
  /** The field of the LatticeService behind the request, e.g. `spec.workload.resources.api-key`. */
  path: string;
  /** The owner of the resource, when it has one (secrets under a namespace path). */
  owner?: ResourceOwner;
  /**
   * The same question under another name (the original Lattice's vocabulary: a `SecretPath`, an
   * endpoint id `host:port`, the override id `readWriteRootFilesystem`). The engine asks each alias
   * too and combines: a forbid satisfied under any name denies, else a permit under any name allows
   * (fail closed: the primary request is always asked). `onlyIf`: ask the alias only when some policy
   * of the action contains this text (an alias type no policy names cannot change the answer).
   */
  aliases?: RequestAlias[];
}

/** Another name for the resource of a request (see {@link AuthorizationRequest.aliases}). */
export interface RequestAlias {
  resource: EntityRef;
  /** The alias resource's entity (the principal and namespaces are the request's). */
  entity: EntityJson;
  onlyIf?: string;
}

const T = {
  Namespace: `${CEDAR_NAMESPACE}::Namespace`,
  Service: `${CEDAR_NAMESPACE}::Service`,
  Secret: `${CEDAR_NAMESPACE}::Secret`,
  SecretPath: `${CEDAR_NAMESPACE}::SecretPath`,
  Volume: `${CEDAR_NAMESPACE}::Volume`,
  Image: `${CEDAR_NAMESPACE}::Image`,
  ExternalEndpoint: `${CEDAR_NAMESPACE}::ExternalEndpoint`,
  Mesh: `${CEDAR_NAMESPACE}::Mesh`,
  SecurityOverride: `${CEDAR_NAMESPACE}::SecurityOverride`,
  Route: `${CEDAR_NAMESPACE}::Route`,
  CloudPermission: `${CEDAR_NAMESPACE}::CloudPermission`,
  Chart: `${CEDAR_NAMESPACE}::Chart`,
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Namespace facts read from labels and annotations (see {@link ServiceAuthorizationInput.namespaces}). */
export interface NamespaceFacts {
  name: string;
  team?: string;
  environment?: string;
  owner?: string;
  labels: Record<string, string>;
}

/** Reads team, environment and owner of a namespace from its metadata. */
export function namespaceFacts(name: string, meta: NamespaceMetadata | undefined): NamespaceFacts {
  const labels = meta?.labels ?? {};
  const annotations = meta?.annotations ?? {};
  const facts: NamespaceFacts = { name, labels };
  const team = labels['lattice.dev/team'] ?? labels.team;
  const environment = labels['lattice.dev/environment'] ?? labels.environment;
  const owner = annotations['lattice.dev/owner'] ?? labels['lattice.dev/owner'];
  if (team) facts.team = team;
  if (environment) facts.environment = environment;
  if (owner) facts.owner = owner;
  return facts;
}

/** The Cedar entity of a namespace. */
function namespaceEntity(facts: NamespaceFacts): EntityJson {
  const attrs: Record<string, CedarValueJson> = { name: facts.name };
  if (facts.team !== undefined) attrs.team = facts.team;
  if (facts.environment !== undefined) attrs.environment = facts.environment;
  if (facts.owner !== undefined) attrs.owner = facts.owner;
  return { uid: { type: T.Namespace, id: facts.name }, attrs, parents: [], tags: { ...facts.labels } };
}

/** The pieces shared by every request of one service. */
interface ServiceContext {
  input: ServiceAuthorizationInput;
  namespace: string;
  name: string;
  principal: EntityRef;
  baseEntities: EntityJson[];
  /** The service's resources and containers in name order, sorted once for all its requests. */
  resources: ReturnType<typeof sortedResources>;
  containers: PodContainer[];
  facts(namespace: string): NamespaceFacts;
}

function serviceContext(input: ServiceAuthorizationInput): ServiceContext {
  const { service } = input;
  const namespace = service.metadata.namespace ?? 'default';
  const name = service.metadata.name;
  const factsCache = new Map<string, NamespaceFacts>();
  const facts = (ns: string): NamespaceFacts => {
    let f = factsCache.get(ns);
    if (!f) {
      f = namespaceFacts(ns, input.namespaces?.[ns]);
      factsCache.set(ns, f);
    }
    return f;
  };
  const own = facts(namespace);
  const containers = sortedContainers(service);
  const attrs: Record<string, CedarValueJson> = {
    namespace,
    name,
    images: containers.map((c) => c.container.image),
  };
  // Team and owner decide permissions (the same-team rule) and whom a denial names: they come from
  // the Namespace, which the platform manages, never from the service, which its tenant writes.
  if (own.team) attrs.team = own.team;
  if (own.owner) attrs.owner = own.owner;
  const principal = { type: T.Service, id: `${namespace}/${name}` };
  const serviceEntity: EntityJson = { uid: principal, attrs, parents: [{ type: T.Namespace, id: namespace }], tags: serviceTags(service.metadata.labels ?? {}, own.labels) };
  return { input, namespace, name, principal, baseEntities: [serviceEntity, namespaceEntity(own)], resources: sortedResources(service), containers, facts };
}

/** Label keys under this prefix are the platform's: on a Service entity they come from its namespace only. */
export const RESERVED_LABEL_PREFIX = 'lattice.dev/';

/**
 * The tags of a Service entity: the service's own labels except those under `lattice.dev/` (which a
 * tenant could set to claim a team or an environment), plus the `lattice.dev/` labels of its
 * Namespace. So `principal.getTag("lattice.dev/environment")` reads what the platform says about
 * the namespace; other tags are the tenant's own choice and only fit decisions the tenant may make.
 */
export function serviceTags(serviceLabels: Readonly<Record<string, string>>, namespaceLabels: Readonly<Record<string, string>>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(serviceLabels)) if (!k.startsWith(RESERVED_LABEL_PREFIX)) tags[k] = v;
  for (const [k, v] of Object.entries(namespaceLabels)) if (k.startsWith(RESERVED_LABEL_PREFIX)) tags[k] = v;
  return tags;
}

/** Every container of the pod (main containers and sidecars), in name order. */
function sortedContainers(service: LatticeService): PodContainer[] {
  return podContainers(service.spec).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function sortedResources(service: LatticeService): Array<[string, NonNullable<LatticeService['spec']['workload']['resources']>[string]]> {
  return Object.entries(service.spec.workload.resources ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function request(ctx: ServiceContext, fields: Pick<AuthorizationRequest, 'action' | 'resource' | 'resourceDescription' | 'requestPhrase' | 'path'> & { context?: Record<string, CedarValueJson>; extra: EntityJson[] }): AuthorizationRequest {
  const entities = ctx.baseEntities.slice();
  for (const e of fields.extra) {
    const uid = e.uid as EntityRef;
    if (!entities.some((x) => (x.uid as EntityRef).type === uid.type && (x.uid as EntityRef).id === uid.id)) entities.push(e);
  }
  // Built field by field: object rest and spread cost a runtime call per request on a fleet's hot path.
  return {
    action: fields.action,
    principal: ctx.principal,
    resource: fields.resource,
    context: fields.context ?? {},
    entities,
    resourceDescription: fields.resourceDescription,
    requestPhrase: fields.requestPhrase,
    path: fields.path,
  };
}

/** The Image entity of a reference, with its verification result when one is known. */
export function imageEntity(image: string, verifications?: readonly ImageVerification[]): EntityJson {
  const parsed = parseImageReference(image);
  const attrs: Record<string, CedarValueJson> = parsed.ok
    ? { registry: parsed.ref.registry, repository: parsed.ref.repository, name: parsed.ref.repository.split('/').pop() ?? parsed.ref.repository }
    : { registry: '', repository: image, name: image };
  if (parsed.ok && parsed.ref.tag !== undefined) attrs.tag = parsed.ref.tag;
  if (parsed.ok && parsed.ref.digest !== undefined) attrs.digest = parsed.ref.digest;
  const verification = verifications?.find((v) => v.image === image);
  if (verification) {
    attrs.signed = verification.signed;
    if (verification.verifiedBy !== undefined) attrs.verifiedBy = verification.verifiedBy;
  }
  return { uid: { type: T.Image, id: image }, attrs, parents: [] };
}

function secretRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const out: AuthorizationRequest[] = [];
  const resources = ctx.input.service.spec.workload.resources ?? {};
  // Registry credentials of ImageProviders named in imagePullSecrets: synced into the service's
  // namespace, so read like any secret (AccessSecret, default deny).
  const pulls: Array<[string, { type: string; id?: string; params?: Record<string, unknown> }, string]> = [];
  (ctx.input.service.spec.imagePullSecrets ?? []).forEach((name, i) => {
    if (Object.hasOwn(resources, name)) return;
    const cred = ctx.input.imageProviderCredential?.(name);
    if (cred) pulls.push([name, { type: 'secret', id: cred.remoteKey, params: cred.provider === undefined ? {} : { provider: cred.provider } }, `spec.imagePullSecrets.${i}`]);
  });
  const all: Array<[string, { type: string; id?: string | undefined; params?: Record<string, unknown> | undefined }, string]> = [
    ...ctx.resources.map(([k, r]): [string, typeof r, string] => [k, r, `spec.workload.resources.${k}`]),
    ...pulls,
  ];
  for (const [key, res, fieldPath] of all) {
    if (res.type !== 'secret') continue;
    const params = (res.params ?? {}) as { provider?: unknown };
    const provider = typeof params.provider === 'string' ? params.provider : (ctx.input.defaultSecretProvider ?? 'default');
    const path = res.id ?? `${ctx.namespace}/${key}`;
    const first = path.split('/')[0] ?? '';
    // Only a normal path names its owning namespace (src/api/secretpath.ts; validation refuses the
    // others before authorization, this keeps it so for any caller that skips validation).
    const ownerNs = secretPathProblem(path) === undefined && path.includes('/') && DNS_LABEL.test(first) && first.length <= 63 ? first : undefined;
    const attrs: Record<string, CedarValueJson> = { provider, path };
    const extra: EntityJson[] = [];
    const parents: EntityRef[] = [];
    let owner: ResourceOwner | undefined;
    if (ownerNs !== undefined) {
      const facts = ctx.facts(ownerNs);
      attrs.namespace = ownerNs;
      if (facts.team !== undefined) attrs.team = facts.team;
      parents.push({ type: T.Namespace, id: ownerNs });
      extra.push(namespaceEntity(facts));
      owner = { namespace: ownerNs };
      if (facts.team !== undefined) owner.team = facts.team;
      if (facts.owner !== undefined) owner.contact = facts.owner;
    }
    const resource = { type: T.Secret, id: `${provider}:${path}` };
    const label = provider === (ctx.input.defaultSecretProvider ?? 'default') ? path : `${path} (provider ${provider})`;
    const r = request(ctx, {
      action: 'AccessSecret',
      resource,
      resourceDescription: `secret ${label}`,
      requestPhrase: `access Secret ${label}`,
      path: fieldPath,
      extra: [{ uid: resource, attrs, parents }, ...extra],
    });
    // The original Lattice's type name for the same secret (same id and attributes).
    r.aliases = [{ resource: { type: T.SecretPath, id: resource.id }, entity: { uid: { type: T.SecretPath, id: resource.id }, attrs, parents }, onlyIf: 'SecretPath' }];
    if (owner) r.owner = owner;
    out.push(r);
  }
  return out;
}

function imageRequests(ctx: ServiceContext): AuthorizationRequest[] {
  return ctx.containers.map(({ name, container, path, role }) => {
    const entity = imageEntity(container.image, ctx.input.imageVerifications);
    return request(ctx, {
      action: 'DeployImage',
      resource: entity.uid as EntityRef,
      context: { container: name },
      resourceDescription: `image ${container.image} (${role === 'container' ? 'container' : 'sidecar'} ${name})`,
      requestPhrase: `deploy Image ${container.image}`,
      path: `${path.join('.')}.image`,
      extra: [entity],
    });
  });
}

function endpointRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const out: AuthorizationRequest[] = [];
  for (const [key, res] of ctx.resources) {
    if (res.type !== 'external-service') continue;
    // Every accepted form (URL, host:port, entity:NAME, list or map) is one request, parsed the way
    // the mesh reads it (src/api/latticeservice/endpoint.ts), so what Cedar permits is what is opened.
    for (const { key: at, endpoint: ep } of parsedEndpoints(res.params)) {
      const resource = { type: T.ExternalEndpoint, id: ep.id };
      const attrs = { host: ep.host, port: ep.port, scheme: ep.scheme, protocol: ep.scheme };
      const r = request(ctx, {
        action: 'AccessExternalEndpoint',
        resource,
        resourceDescription: `endpoint ${ep.id} (resource ${key})`,
        requestPhrase: `call ExternalEndpoint ${ep.id}`,
        path: `spec.workload.resources.${key}.params.endpoints.${at}`,
        extra: [{ uid: resource, attrs, parents: [] }],
      });
      // The original Lattice's id, "<host>:<port>" (IPv6 hosts in brackets, as in the URL); an
      // entity endpoint has no reference form.
      const sep = ep.id.indexOf('://');
      if (sep !== -1) {
        const refId = ep.id.slice(sep + 3);
        r.aliases = [{ resource: { type: T.ExternalEndpoint, id: refId }, entity: { uid: { type: T.ExternalEndpoint, id: refId }, attrs, parents: [] } }];
      }
      out.push(r);
    }
  }
  return out;
}

/**
 * The security overrides of one container (fields relative to the container), with the reference
 * implementation's ids and categories (its `authorization/security.rs` collector):
 * - `capability:NAME` (capability) for each added capability, and, when `dropCapabilities` does not
 *   drop ALL, for each runtime default capability it keeps (not for a privileged container, which
 *   `privileged` already covers);
 * - `privileged`, `runAsRoot` (runAsUser 0 or runAsNonRoot false), `runAsRootGroup` (runAsGroup 0),
 *   `readOnlyRootFilesystem` (false), `allowPrivilegeEscalation` (true) (container);
 * - `unconfined:seccomp`, `localhost:seccomp`, `unconfined:apparmor`, `localhost:apparmor` (profile;
 *   a Localhost profile is asked too, with its name as `profile`, since a node-local profile can
 *   allow anything; the reference asks only for Unconfined);
 * - `allowedBinary:<path>` for each allow-list entry, `allowedBinary:*` for the wildcard (binary).
 *   A container without an allow-list is not asked about: here the allow-list is opt-in (the
 *   reference asks `allowedBinary:*` for a container with neither command nor allow-list).
 */
export function securityOverrides(security: ContainerSecurity | undefined): SecurityOverrideInput[] {
  if (!security) return [];
  const out: SecurityOverrideInput[] = [];
  const add = (o: SecurityOverrideInput): void => {
    if (!out.some((x) => x.id === o.id)) out.push(o);
  };
  const capName = (c: string): string => c.toUpperCase().replace(/^CAP_/, '');
  for (const cap of addedCapabilities(security)) {
    const name = capName(cap.name);
    add({ id: `capability:${name}`, category: 'capability', field: `security.${cap.field}`, attrs: { capability: name } });
  }
  const drops = security.dropCapabilities;
  if (drops !== undefined && security.privileged !== true && !drops.some((d) => d.toUpperCase() === 'ALL')) {
    const dropped = new Set(drops.map(capName));
    for (const name of RUNTIME_DEFAULT_CAPABILITIES) {
      if (!dropped.has(name)) add({ id: `capability:${name}`, category: 'capability', field: 'security.dropCapabilities', attrs: { capability: name } });
    }
  }
  if (security.privileged === true) add({ id: 'privileged', category: 'container', field: 'security.privileged' });
  if (security.runAsUser === 0) add({ id: 'runAsRoot', category: 'container', field: 'security.runAsUser' });
  else if (security.runAsNonRoot === false) add({ id: 'runAsRoot', category: 'container', field: 'security.runAsNonRoot' });
  if (security.runAsGroup === 0) add({ id: 'runAsRootGroup', category: 'container', field: 'security.runAsGroup' });
  if (security.readOnlyRootFilesystem === false) add({ id: 'readOnlyRootFilesystem', category: 'container', field: 'security.readOnlyRootFilesystem' });
  if (security.allowPrivilegeEscalation === true) add({ id: 'allowPrivilegeEscalation', category: 'container', field: 'security.allowPrivilegeEscalation' });
  for (const kind of ['seccomp', 'apparmor'] as const) {
    const type = security[`${kind}Profile`];
    if (type === 'Unconfined') add({ id: `unconfined:${kind}`, category: 'profile', field: `security.${kind}Profile` });
    if (type === 'Localhost') {
      const profile = security[`${kind}LocalhostProfile`];
      add({ id: `localhost:${kind}`, category: 'profile', field: `security.${kind}Profile`, ...(profile !== undefined ? { attrs: { profile } } : {}) });
    }
  }
  (security.allowedBinaries ?? []).forEach((binary, i) => add({ id: `allowedBinary:${binary}`, category: 'binary', field: `security.allowedBinaries.${i}`, attrs: { binary } }));
  return out;
}

/**
 * The pod-level overrides of a service (fields relative to the spec): `hostNetwork`,
 * `shareProcessNamespace`, `automountServiceAccountToken` (reference ids, category pod), and
 * `sysctl:<name>` for each sysctl (ours: the reference sets sysctls without asking; here every
 * relaxation is asked, and a platform may permit the safe set by `resource.sysctl`).
 */
export function podSecurityOverrides(service: LatticeService): SecurityOverrideInput[] {
  const spec = service.spec;
  const out: SecurityOverrideInput[] = [];
  const host = hostNetworkOf(spec);
  if (host.value) out.push({ id: 'hostNetwork', category: 'pod', field: host.path });
  if (spec.shareProcessNamespace === true) out.push({ id: 'shareProcessNamespace', category: 'pod', field: 'spec.shareProcessNamespace' });
  if (spec.automountServiceAccountToken === true) out.push({ id: 'automountServiceAccountToken', category: 'pod', field: 'spec.automountServiceAccountToken' });
  for (const name of Object.keys(spec.sysctls ?? {}).sort()) out.push({ id: `sysctl:${name}`, category: 'pod', field: `spec.sysctls.${name}`, attrs: { sysctl: name } });
  return out;
}

/**
 * The SecurityOverride entity: `kind` (the id up to its parameter: `capability`, `allowedBinary`,
 * `sysctl`, else the whole id), `category` and `override_id` (the reference's attribute names), and
 * the parameter as `capability`, `binary`, `sysctl` or `profile`.
 */
function overrideEntity(o: Pick<SecurityOverrideInput, 'id' | 'category' | 'attrs'>): EntityJson {
  const colon = o.id.indexOf(':');
  const prefix = colon === -1 ? o.id : o.id.slice(0, colon);
  const kind = ['capability', 'allowedBinary', 'sysctl'].includes(prefix) ? prefix : o.id;
  const attrs: Record<string, CedarValueJson> = { kind, category: o.category, override_id: o.id, ...(o.attrs ?? {}) };
  return { uid: { type: T.SecurityOverride, id: o.id }, attrs, parents: [] };
}

/**
 * Override ids of the original Lattice that name one of ours: a policy may write either, both are
 * asked (crates/lattice-workload/src/authorization/security.rs in github.com/evan-hines-js/lattice
 * asks `readWriteRootFilesystem` for `readOnlyRootFilesystem: false`).
 */
export const SECURITY_OVERRIDE_ALIASES: Readonly<Record<string, string>> = { readOnlyRootFilesystem: 'readWriteRootFilesystem' };

function securityRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const out: AuthorizationRequest[] = [];
  const overrideRequest = (o: SecurityOverrideInput, path: string, container?: string): AuthorizationRequest => {
    const entity = overrideEntity(o);
    const id = o.id;
    const r = request(ctx, {
      action: 'OverrideSecurity',
      resource: entity.uid as EntityRef,
      context: container === undefined ? {} : { container },
      resourceDescription: container === undefined ? `security override ${o.id} (pod)` : `security override ${o.id} (container ${container})`,
      requestPhrase: `use SecurityOverride ${o.id}`,
      path,
      extra: [entity],
    });
    const alias = SECURITY_OVERRIDE_ALIASES[id];
    if (alias !== undefined) r.aliases = [{ resource: { type: T.SecurityOverride, id: alias }, entity: { uid: { type: T.SecurityOverride, id: alias }, attrs: entity.attrs, parents: [] } }];
    return r;
  };
  for (const c of ctx.containers) {
    const security = (c.container as { security?: ContainerSecurity }).security;
    for (const o of securityOverrides(security)) out.push(overrideRequest(o, `${c.path.join('.')}.${o.field}`, c.name));
  }
  for (const o of podSecurityOverrides(ctx.input.service)) out.push(overrideRequest(o, o.field));
  return out;
}

function wildcardRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const out: AuthorizationRequest[] = [];
  for (const [key, res] of ctx.resources) {
    if (res.type !== 'service' || res.id !== '*' || (res.direction !== 'inbound' && res.direction !== 'both')) continue;
    out.push(
      request(ctx, {
        action: 'AllowWildcard',
        resource: { type: T.Mesh, id: 'inbound' },
        resourceDescription: `inbound wildcard (resource ${key})`,
        requestPhrase: 'accept calls from any service (Mesh inbound)',
        path: `spec.workload.resources.${key}.id`,
        extra: [],
      }),
    );
  }
  const advertised = ctx.input.service.spec.advertise?.allowedServices ?? [];
  const star = advertised.indexOf('*');
  if (star >= 0) {
    out.push(
      request(ctx, {
        action: 'AllowWildcard',
        resource: { type: T.Mesh, id: 'advertise' },
        resourceDescription: 'advertise wildcard (spec.advertise.allowedServices)',
        requestPhrase: 'accept calls from any service of another cluster (Mesh advertise)',
        path: `spec.advertise.allowedServices.${star}`,
        extra: [],
      }),
    );
  }
  return out;
}

/**
 * Every authorization request a service needs, in gate order: AccessSecret (each secret resource),
 * DeployImage (each container), AccessExternalEndpoint (each endpoint), OverrideSecurity (each
 * relaxed field of each container and sidecar, see {@link securityOverrides}, then the pod-level
 * ones, see {@link podSecurityOverrides}), AllowWildcard (each inbound `id: "*"`),
 * ExposeRoute (each host of each route of spec.ingress, internal or public), AccessCloud (each
 * action on each resource of spec.cloudAccess), AccessVolume (each volume resource mounting another
 * service's shared volume id). Containers, resources and routes
 * are taken in name order, so the list is the same however the input was read.
 */
export function serviceRequests(input: ServiceAuthorizationInput): AuthorizationRequest[] {
  const ctx = serviceContext(input);
  return [
    ...secretRequests(ctx),
    ...imageRequests(ctx),
    ...endpointRequests(ctx),
    ...securityRequests(ctx),
    ...wildcardRequests(ctx),
    ...routeRequests(ctx),
    ...cloudRequests(ctx),
    ...volumeRequests(ctx),
  ];
}

/**
 * AccessVolume requests: one per volume resource that mounts another service's shared volume (an
 * `id` without `params.size`). The resource is `Lattice::Volume::"<namespace>/<id>"` (the original
 * Lattice's id), member of its Namespace, with the owner and access mode when an owner exists.
 * Asked in addition to the owner's consent (its allowedConsumers), never instead of it.
 */
function volumeRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const out: AuthorizationRequest[] = [];
  for (const [key, res] of ctx.resources) {
    if (res.type !== 'volume' || res.id === undefined || volumeRole(res) !== 'consumer') continue;
    const id = `${ctx.namespace}/${res.id}`;
    const resource = { type: T.Volume, id };
    const attrs: Record<string, CedarValueJson> = { namespace: ctx.namespace, volume_id: res.id };
    const owner = ctx.input.volumeOwner?.(ctx.namespace, res.id);
    if (owner) {
      attrs.owner = owner.owner;
      attrs.accessMode = owner.accessMode;
    }
    out.push(
      request(ctx, {
        action: 'AccessVolume',
        resource,
        resourceDescription: `volume ${res.id} (resource ${key})`,
        requestPhrase: `mount Volume ${id}`,
        path: `spec.workload.resources.${key}.id`,
        extra: [{ uid: resource, attrs, parents: [{ type: T.Namespace, id: ctx.namespace }] }],
      }),
    );
  }
  return out;
}

/** True when an IAM action or ARN pattern holds an IAM wildcard (`*` or `?`, IAM's two wildcard characters). */
export function hasIamWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

/** One permission of spec.cloudAccess, as the AccessCloud gate asks about it. */
export interface CloudPermissionInput {
  provider: 'aws' | 'azure';
  action: string;
  resource: string;
  /** Field of the LatticeService behind it, e.g. `spec.cloudAccess.aws.0.actions.1`. */
  path: string;
}

/**
 * Every (action, resource) pair of spec.cloudAccess, AWS first: each IAM action on each ARN of a
 * statement, each Azure role on each scope. Duplicates are kept out (one decision per pair).
 */
export function cloudPermissions(service: LatticeService): CloudPermissionInput[] {
  const out: CloudPermissionInput[] = [];
  const seen = new Set<string>();
  const add = (p: CloudPermissionInput): void => {
    const key = `${p.provider}\u0000${p.action}\u0000${p.resource}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(p);
  };
  const access = service.spec.cloudAccess;
  access?.aws?.forEach((st, i) => st.actions.forEach((action, a) => st.resources.forEach((resource) => add({ provider: 'aws', action, resource, path: `spec.cloudAccess.aws.${i}.actions.${a}` }))));
  access?.azure?.forEach((r, i) => r.scopes.forEach((scope, s) => add({ provider: 'azure', action: r.role, resource: scope, path: `spec.cloudAccess.azure.${i}.scopes.${s}` })));
  return out;
}

/**
 * AccessCloud requests: one per permission of {@link cloudPermissions}. The resource is a
 * `CloudPermission` entity with `provider`, `action`, `resource` and the `wildcard` and
 * `resourceWildcard` flags, so a forbid can refuse `s3:*` or `*` without listing every spelling.
 */
function cloudRequests(ctx: ServiceContext): AuthorizationRequest[] {
  return cloudPermissions(ctx.input.service).map((p) => {
    const resource = { type: T.CloudPermission, id: `${p.provider}:${p.action} on ${p.resource}` };
    const wildcard = p.provider === 'aws' && hasIamWildcard(p.action);
    const resourceWildcard = p.provider === 'aws' && hasIamWildcard(p.resource);
    const what = p.provider === 'aws' ? `AWS action ${p.action} on ${p.resource}` : `Azure role ${p.action} on ${p.resource}`;
    return request(ctx, {
      action: 'AccessCloud',
      resource,
      resourceDescription: `cloud permission ${what}`,
      requestPhrase: `get cloud permission ${what}`,
      path: p.path,
      extra: [{ uid: resource, attrs: { provider: p.provider, action: p.action, resource: p.resource, wildcard, resourceWildcard }, parents: [] }],
    });
  });
}

/** The SkipImageVerification request for one image of the service (asked by the supply-chain step). */
export function skipImageVerificationRequest(input: ServiceAuthorizationInput, image: string): AuthorizationRequest {
  const ctx = serviceContext(input);
  const entity = imageEntity(image, input.imageVerifications);
  const container = ctx.containers.find((c) => c.container.image === image);
  return request(ctx, {
    action: 'SkipImageVerification',
    resource: entity.uid as EntityRef,
    resourceDescription: container === undefined ? `image ${image}` : `image ${image} (container ${container.name})`,
    requestPhrase: `skip signature verification of Image ${image}`,
    path: container === undefined ? 'spec.workload.containers' : `${container.path.join('.')}.image`,
    extra: [entity],
  });
}

/** One host of a route to expose, for the ExposeRoute gate. */
export interface RouteInput {
  /** The host name; empty for a route without one (a TCPRoute, a Service exposed without hostnames). */
  host: string;
  /** The Route id when it is not the host: `tcp:<exposure>:<listenPort>` (a TCPRoute), `service:<namespace>/<name>` (a Service exposure without hostnames). */
  id?: string;
  exposure: 'internal' | 'public';
  /** HTTPRoute (default), GRPCRoute, TCPRoute, or LoadBalancer / NodePort for a Service exposed outside the cluster. */
  kind?: string;
  /** The gateway listener port of a TCPRoute. */
  listenPort?: number;
  /** Field of the LatticeService declaring the host, for messages, e.g. `spec.ingress.routes.web.hosts.0`. */
  path: string;
  /** Name of the route in spec.ingress.routes, when it comes from there. */
  route?: string;
}

function routeRequest(ctx: ServiceContext, route: RouteInput): AuthorizationRequest {
  const id = route.id ?? route.host;
  const resource = { type: T.Route, id };
  const of = route.route === undefined ? '' : ` (route ${route.route})`;
  const attrs: Record<string, CedarValueJson> = { host: route.host, exposure: route.exposure, namespace: ctx.namespace, kind: route.kind ?? 'HTTPRoute' };
  if (route.listenPort !== undefined) attrs.listenPort = route.listenPort;
  return request(ctx, {
    action: 'ExposeRoute',
    resource,
    resourceDescription: `${route.exposure} route ${id}${of}`,
    requestPhrase: `expose Route ${id} (${route.exposure})`,
    path: route.path,
    extra: [{ uid: resource, attrs, parents: [] }],
  });
}

/**
 * ExposeRoute requests for every route of spec.ingress, internal and public alike, one per host.
 * Internal routes are asked about too: a route and its certificate claim a host name on a shared
 * gateway, so without a permit a service could take over another service's internal host (the
 * resource's `exposure` attribute lets a policy treat the two differently).
 */
function routeRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const routes = Object.entries(ctx.input.service.spec.ingress?.routes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out: AuthorizationRequest[] = [];
  for (const [name, route] of routes) {
    (route.hosts ?? []).forEach((host, i) => out.push(routeRequest(ctx, { host, exposure: route.exposure, kind: route.kind, path: `spec.ingress.routes.${name}.hosts.${i}`, route: name })));
    // A TCPRoute has no host: the Route is its listen port on the gateway of its exposure.
    if (route.kind === 'TCPRoute' && route.listenPort !== undefined) {
      out.push(routeRequest(ctx, { host: '', id: `tcp:${route.exposure}:${route.listenPort}`, listenPort: route.listenPort, exposure: route.exposure, kind: route.kind, path: `spec.ingress.routes.${name}.listenPort`, route: name }));
    }
  }
  // A Service exposed outside the cluster (NodePort, LoadBalancer) bypasses the gateways: one request
  // per hostname, or one for the Service itself when it has none. Always "public".
  const svc = ctx.input.service.spec.workload.service;
  if (svc !== undefined && svc.serviceType !== 'ClusterIP' && Object.keys(svc.ports).length > 0) {
    const kind = svc.serviceType;
    if (svc.hostnames === undefined) {
      out.push(routeRequest(ctx, { host: '', id: `service:${ctx.namespace}/${ctx.input.service.metadata.name}`, exposure: 'public', kind, path: 'spec.workload.service.serviceType' }));
    } else {
      svc.hostnames.forEach((host, i) => out.push(routeRequest(ctx, { host, exposure: 'public', kind, path: `spec.workload.service.hostnames.${i}` })));
    }
  }
  return out;
}

/** The ExposeRoute request for one host, for callers that build routes themselves. */
export function exposeRouteRequest(input: ServiceAuthorizationInput, route: RouteInput): AuthorizationRequest {
  return routeRequest(serviceContext(input), route);
}

/** A Helm chart a LatticePackage installs, for the DeployPackage gate. */
export interface ChartInput {
  /** Repository URL as written (https://... or oci://...). */
  repository: string;
  name: string;
  version: string;
  /** Field of the LatticePackage naming the chart, for messages (`spec.chart`). */
  path: string;
}

/**
 * The DeployPackage request of a package's chart: principal the package (as a Lattice::Service:
 * `<namespace>/<name>`, member of its Namespace), resource a `Chart` entity with the repository,
 * its scheme and host, the chart name and the exact version. One request per package.
 */
export function deployPackageRequest(input: ServiceAuthorizationInput, chart: ChartInput): AuthorizationRequest {
  const ctx = serviceContext(input);
  let scheme = '';
  let host = '';
  try {
    const url = new URL(chart.repository);
    scheme = url.protocol.replace(/:$/, '');
    host = url.host;
  } catch {
    // The LatticePackage schema refuses such a repository; attributes stay empty for any other caller.
  }
  const id = `${chart.repository.replace(/\/+$/, '')}/${chart.name}:${chart.version}`;
  const resource = { type: T.Chart, id };
  return request(ctx, {
    action: 'DeployPackage',
    resource,
    resourceDescription: `chart ${id}`,
    requestPhrase: `deploy Chart ${id}`,
    path: chart.path,
    extra: [{ uid: resource, attrs: { repository: chart.repository, scheme, host, name: chart.name, version: chart.version }, parents: [] }],
  });
}
