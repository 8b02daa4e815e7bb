/**
 * Turning a LatticeService into Cedar authorization requests: one request per gate instance (each
 * secret, each container image, each external endpoint, each relaxed security-context field, each
 * inbound wildcard), each with the entities Cedar needs (the service, its namespace, the resource).
 * Pure data: the entity shapes follow `lattice.cedarschema`, and Cedar checks them against it on
 * every call.
 */
import type { LatticeService } from '../api/latticeservice/v1alpha1.ts';
import { parseImageReference } from '../supplychain/reference.ts';
import { secretPathProblem } from '../api/secretpath.ts';
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
  'DeployPackage',
] as const;

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
  capabilities?: { add?: string[] };
  privileged?: boolean;
  runAsUser?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
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
}

const T = {
  Namespace: `${CEDAR_NAMESPACE}::Namespace`,
  Service: `${CEDAR_NAMESPACE}::Service`,
  Secret: `${CEDAR_NAMESPACE}::Secret`,
  Image: `${CEDAR_NAMESPACE}::Image`,
  ExternalEndpoint: `${CEDAR_NAMESPACE}::ExternalEndpoint`,
  Mesh: `${CEDAR_NAMESPACE}::Mesh`,
  SecurityOverride: `${CEDAR_NAMESPACE}::SecurityOverride`,
  Route: `${CEDAR_NAMESPACE}::Route`,
  CloudPermission: `${CEDAR_NAMESPACE}::CloudPermission`,
  Chart: `${CEDAR_NAMESPACE}::Chart`,
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, grpc: 80, grpcs: 443 };

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
  const attrs: Record<string, CedarValueJson> = {
    namespace,
    name,
    images: sortedContainers(service).map(([, c]) => c.image),
  };
  // Team and owner decide permissions (the same-team rule) and whom a denial names: they come from
  // the Namespace, which the platform manages, never from the service, which its tenant writes.
  if (own.team) attrs.team = own.team;
  if (own.owner) attrs.owner = own.owner;
  const principal = { type: T.Service, id: `${namespace}/${name}` };
  const serviceEntity: EntityJson = { uid: principal, attrs, parents: [{ type: T.Namespace, id: namespace }], tags: serviceTags(service.metadata.labels ?? {}, own.labels) };
  return { input, namespace, name, principal, baseEntities: [serviceEntity, namespaceEntity(own)], facts };
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

function sortedContainers(service: LatticeService): Array<[string, LatticeService['spec']['workload']['containers'][string]]> {
  return Object.entries(service.spec.workload.containers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function sortedResources(service: LatticeService): Array<[string, NonNullable<LatticeService['spec']['workload']['resources']>[string]]> {
  return Object.entries(service.spec.workload.resources ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function request(ctx: ServiceContext, fields: Omit<AuthorizationRequest, 'principal' | 'entities' | 'context'> & { context?: Record<string, CedarValueJson>; extra: EntityJson[] }): AuthorizationRequest {
  const { extra, context, ...rest } = fields;
  const entities = [...ctx.baseEntities];
  for (const e of extra) {
    const uid = e.uid as EntityRef;
    if (!entities.some((x) => (x.uid as EntityRef).type === uid.type && (x.uid as EntityRef).id === uid.id)) entities.push(e);
  }
  return { ...rest, principal: ctx.principal, context: context ?? {}, entities };
}

/** The Image entity of a reference, with its verification result when one is known. */
export function imageEntity(image: string, verifications?: readonly ImageVerification[]): EntityJson {
  const parsed = parseImageReference(image);
  const attrs: Record<string, CedarValueJson> = parsed.ok
    ? { registry: parsed.ref.registry, repository: parsed.ref.repository }
    : { registry: '', repository: image };
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
  for (const [key, res] of sortedResources(ctx.input.service)) {
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
      path: `spec.workload.resources.${key}`,
      extra: [{ uid: resource, attrs, parents }, ...extra],
    });
    if (owner) r.owner = owner;
    out.push(r);
  }
  return out;
}

function imageRequests(ctx: ServiceContext): AuthorizationRequest[] {
  return sortedContainers(ctx.input.service).map(([name, container]) => {
    const entity = imageEntity(container.image, ctx.input.imageVerifications);
    return request(ctx, {
      action: 'DeployImage',
      resource: entity.uid as EntityRef,
      context: { container: name },
      resourceDescription: `image ${container.image} (container ${name})`,
      requestPhrase: `deploy Image ${container.image}`,
      path: `spec.workload.containers.${name}.image`,
      extra: [entity],
    });
  });
}

/** Host, port and scheme of an endpoint URL, or undefined when it is not one (the LatticeService schema rejects those). */
export function parseEndpoint(text: string): { id: string; host: string; port: number; scheme: string } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const scheme = url.protocol.replace(/:$/, '');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port !== '' ? Number(url.port) : DEFAULT_PORTS[scheme];
  if (host === '' || port === undefined) return undefined;
  return { id: `${scheme}://${url.hostname}:${port}`, host, port, scheme };
}

function endpointRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const out: AuthorizationRequest[] = [];
  for (const [key, res] of sortedResources(ctx.input.service)) {
    if (res.type !== 'external-service') continue;
    const endpoints = (res.params as { endpoints?: unknown } | undefined)?.endpoints;
    if (!Array.isArray(endpoints)) continue;
    endpoints.forEach((text: unknown, i) => {
      if (typeof text !== 'string') return;
      const ep = parseEndpoint(text);
      if (!ep) return;
      const resource = { type: T.ExternalEndpoint, id: ep.id };
      out.push(
        request(ctx, {
          action: 'AccessExternalEndpoint',
          resource,
          resourceDescription: `endpoint ${ep.id} (resource ${key})`,
          requestPhrase: `call ExternalEndpoint ${ep.id}`,
          path: `spec.workload.resources.${key}.params.endpoints.${i}`,
          extra: [{ uid: resource, attrs: { host: ep.host, port: ep.port, scheme: ep.scheme }, parents: [] }],
        }),
      );
    });
  }
  return out;
}

/** The security overrides of one container, as `[id, field]` pairs (field relative to the container). */
export function securityOverrides(security: ContainerSecurity | undefined): Array<{ id: string; field: string }> {
  if (!security) return [];
  const out: Array<{ id: string; field: string }> = [];
  (security.capabilities?.add ?? []).forEach((cap, i) => {
    const name = cap.toUpperCase().replace(/^CAP_/, '');
    if (!out.some((o) => o.id === `capability:${name}`)) out.push({ id: `capability:${name}`, field: `security.capabilities.add.${i}` });
  });
  if (security.privileged === true) out.push({ id: 'privileged', field: 'security.privileged' });
  if (security.runAsUser === 0) out.push({ id: 'runAsRoot', field: 'security.runAsUser' });
  else if (security.runAsNonRoot === false) out.push({ id: 'runAsRoot', field: 'security.runAsNonRoot' });
  if (security.readOnlyRootFilesystem === false) out.push({ id: 'readOnlyRootFilesystem', field: 'security.readOnlyRootFilesystem' });
  if (security.allowPrivilegeEscalation === true) out.push({ id: 'allowPrivilegeEscalation', field: 'security.allowPrivilegeEscalation' });
  return out;
}

function overrideEntity(id: string): EntityJson {
  const colon = id.indexOf(':');
  const attrs: Record<string, CedarValueJson> = colon === -1 ? { kind: id } : { kind: id.slice(0, colon), capability: id.slice(colon + 1) };
  return { uid: { type: T.SecurityOverride, id }, attrs, parents: [] };
}

function securityRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const out: AuthorizationRequest[] = [];
  const overrideRequest = (id: string, path: string, container?: string): AuthorizationRequest => {
    const entity = overrideEntity(id);
    return request(ctx, {
      action: 'OverrideSecurity',
      resource: entity.uid as EntityRef,
      context: container === undefined ? {} : { container },
      resourceDescription: container === undefined ? `security override ${id} (pod)` : `security override ${id} (container ${container})`,
      requestPhrase: `use SecurityOverride ${id}`,
      path,
      extra: [entity],
    });
  };
  for (const [name, container] of sortedContainers(ctx.input.service)) {
    const security = (container as { security?: ContainerSecurity }).security;
    for (const o of securityOverrides(security)) out.push(overrideRequest(o.id, `spec.workload.containers.${name}.${o.field}`, name));
  }
  if ((ctx.input.service.spec.workload as { hostNetwork?: boolean }).hostNetwork === true) {
    out.push(overrideRequest('hostNetwork', 'spec.workload.hostNetwork'));
  }
  return out;
}

function wildcardRequests(ctx: ServiceContext): AuthorizationRequest[] {
  const out: AuthorizationRequest[] = [];
  for (const [key, res] of sortedResources(ctx.input.service)) {
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
  return out;
}

/**
 * Every authorization request a service needs, in gate order: AccessSecret (each secret resource),
 * DeployImage (each container), AccessExternalEndpoint (each endpoint), OverrideSecurity (each
 * relaxed field: `capability:NAME` per capabilities.add entry, `privileged`, `runAsRoot` for
 * runAsUser 0 or runAsNonRoot false, `readOnlyRootFilesystem` for false, `allowPrivilegeEscalation`
 * for true, `hostNetwork` for spec.workload.hostNetwork), AllowWildcard (each inbound `id: "*"`),
 * ExposeRoute (each host of each route of spec.ingress, internal or public), AccessCloud (each
 * action on each resource of spec.cloudAccess). Containers, resources and routes
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
  ];
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
  const container = sortedContainers(input.service).find(([, c]) => c.image === image)?.[0];
  return request(ctx, {
    action: 'SkipImageVerification',
    resource: entity.uid as EntityRef,
    resourceDescription: container === undefined ? `image ${image}` : `image ${image} (container ${container})`,
    requestPhrase: `skip signature verification of Image ${image}`,
    path: container === undefined ? 'spec.workload.containers' : `spec.workload.containers.${container}.image`,
    extra: [entity],
  });
}

/** One host of a route to expose, for the ExposeRoute gate. */
export interface RouteInput {
  host: string;
  exposure: 'internal' | 'public';
  /** Field of the LatticeService declaring the host, for messages, e.g. `spec.ingress.routes.web.hosts.0`. */
  path: string;
  /** Name of the route in spec.ingress.routes, when it comes from there. */
  route?: string;
}

function routeRequest(ctx: ServiceContext, route: RouteInput): AuthorizationRequest {
  const resource = { type: T.Route, id: route.host };
  const of = route.route === undefined ? '' : ` (route ${route.route})`;
  return request(ctx, {
    action: 'ExposeRoute',
    resource,
    resourceDescription: `${route.exposure} route ${route.host}${of}`,
    requestPhrase: `expose Route ${route.host} (${route.exposure})`,
    path: route.path,
    extra: [{ uid: resource, attrs: { host: route.host, exposure: route.exposure, namespace: ctx.namespace }, parents: [] }],
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
    route.hosts.forEach((host, i) => out.push(routeRequest(ctx, { host, exposure: route.exposure, path: `spec.ingress.routes.${name}.hosts.${i}`, route: name })));
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
