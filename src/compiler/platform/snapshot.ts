/**
 * The whole platform at once: classify input documents by kind, validate the platform resources
 * (settings, secret providers), build the shared {@link DerivationContext}, derive every service,
 * and derive the platform-level objects (one ClusterSecretStore per SecretProvider).
 *
 * Used by `lattice render` (input from files) and by the controller (input from informer caches).
 */
import { API_VERSION } from '../../api/common.ts';
import { kindProblem } from '../../api/kinds.ts';
import { KIND as SERVICE_KIND, podContainers } from '../../api/latticeservice/v1alpha1.ts';
import { parseLatticeService, SERVICE_API_VERSIONS } from '../../api/latticeservice/index.ts';
import { KIND as PLATFORM_KIND, defaultPlatformSettings, latticePlatformSchema, type PlatformSettings } from '../../api/latticeplatform/v1alpha1.ts';
import { KIND as PROVIDER_KIND, secretProviderSchema, type SecretProvider } from '../../api/secretprovider/v1alpha1.ts';
import { KIND as QUOTA_KIND } from '../../api/latticequota/v1alpha1.ts';
import { KIND as IMAGE_PROVIDER_KIND, imageProviderSchema, type ImageProvider } from '../../api/imageprovider/v1alpha1.ts';
import type { SourceLocation } from '../../api/source.ts';
import { KIND as CEDAR_POLICY_KIND, cedarPolicySchema } from '../../api/cedarpolicy/v1alpha1.ts';
import { KIND as TEAM_KIND } from '../../api/latticeteam/v1alpha1.ts';
import { deriveTeams, type TeamResult } from './team.ts';
import type { NamespaceMetadata, PolicySource } from '../../policy/index.ts';
import { authorizationInput, invalidPoliciesCovering, policyEngineFor } from '../workload/authorization.ts';
import type { ImageVerification } from '../../supplychain/verify.ts';
import { issuesToDiagnostics } from '../service/validate.ts';
import { Fleet, documentKey } from './fleet.ts';
import { indexedWorkload, SERVICE_WORKLOAD, WORKLOAD_KINDS, workloadKindOf, workloadView, type WorkloadKind } from '../kinds.ts';
import { providerSchemaProblems } from '../workload/secrets.ts';
import { computeQuotaUsage, isQuotaDocument, readQuotas, type QuotaUsage } from './quota.ts';
import type { DerivationContext, Diagnostic, IndexedService, InvalidPolicy, KubeObject, ServiceInput, ServiceResult } from '../types.ts';

/** One input document with where it came from. */
export interface PlatformDocument extends ServiceInput {
  /** Human-readable origin, e.g. `examples/commerce/payments.yaml#2`. */
  origin?: string;
  /** For a CedarPolicy from a file: maps a character index in `spec.policies` to its file position. */
  locatePolicyText?: (index: number) => { line: number; column: number };
}

/** A problem with a platform resource (not a service), shown in the summary and failing the render. */
export interface PlatformProblem {
  kind: string;
  name: string;
  diagnostics: Diagnostic[];
}

/** A document Lattice does not handle (yet), listed in the summary. */
export interface IgnoredDocument {
  apiVersion: string;
  kind: string;
  name: string;
  origin?: string;
}

/** Everything derived for a platform. */
export interface PlatformResult {
  services: ServiceResult[];
  /** Platform-level derived objects (ClusterSecretStores, ...). */
  platformObjects: KubeObject[];
  problems: PlatformProblem[];
  ignored: IgnoredDocument[];
  settings: PlatformSettings;
  /** Every valid LatticeQuota with the services it covers and their summed demand, by quota name. */
  quotas: QuotaUsage[];
  /** Each LatticeTeam with the namespace objects derived for it (src/compiler/platform/team.ts). */
  teams: TeamResult[];
  /** The namespace factory's objects: the developer ClusterRole, then each team's namespace objects. */
  teamObjects: KubeObject[];
  /** The fleet the services were derived in, to apply further changes incrementally (src/compiler/platform/fleet.ts). */
  fleet?: Fleet;
}

/** Options of {@link derivePlatform}. */
export interface PlatformOptions {
  /** RFC 3339 time written on condition transitions. */
  now: string;
  /** Image verification results by image reference, computed before derivation (see src/supplychain/verify.ts). */
  images?: ReadonlyMap<string, ImageVerification>;
  /** Collects the time of each derivation stage (see DerivationContext.stageTimes). */
  stageTimes?: Map<string, number>;
}

function kindOf(object: unknown): { apiVersion: string; kind: string; name: string } {
  const o = (object ?? {}) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  return {
    apiVersion: typeof o.apiVersion === 'string' ? o.apiVersion : '',
    kind: typeof o.kind === 'string' ? o.kind : '',
    name: typeof o.metadata?.name === 'string' ? o.metadata.name : '(unnamed)',
  };
}

/** The documents of a platform, sorted by kind. */
export interface ClassifiedDocuments {
  /** Workloads: LatticeServices and every other workload kind of src/compiler/kinds.ts. */
  services: PlatformDocument[];
  platforms: PlatformDocument[];
  providers: PlatformDocument[];
  /** LatticeQuotas. */
  quotas: PlatformDocument[];
  /** `v1 Namespace` objects: platform context (their labels select quotas and feed policies). */
  namespaces: PlatformDocument[];
  imageProviders: PlatformDocument[];
  cedarPolicies: PlatformDocument[];
  /** LatticeTeams (the namespace factory). */
  teams: PlatformDocument[];
  ignored: IgnoredDocument[];
  /**
   * Documents that are, or look like, Lattice objects but cannot be used: an unknown lattice.dev
   * kind, a version that is not served, a kind not supported yet, a Lattice kind under another
   * API group (src/api/kinds.ts, kindProblem). Each is a problem that fails the render (exit 1).
   */
  rejected: PlatformProblem[];
}

/**
 * Sorts documents by kind. A document of another API group is ignored (listed in the summary); one
 * that claims to be a Lattice object but is not a served kind and version is rejected with a
 * did-you-mean, never ignored: a typo must not make a policy or a service silently disappear.
 */
export function classify(documents: PlatformDocument[]): ClassifiedDocuments {
  const out: ClassifiedDocuments = { services: [], platforms: [], providers: [], quotas: [], namespaces: [], imageProviders: [], cedarPolicies: [], teams: [], ignored: [], rejected: [] };
  for (const doc of documents) {
    const { apiVersion, kind, name } = kindOf(doc.object);
    let rejection: ReturnType<typeof kindProblem>;
    if (WORKLOAD_KINDS.has(kind) && (apiVersion === API_VERSION || (kind === SERVICE_KIND && SERVICE_API_VERSIONS.includes(apiVersion)))) out.services.push(doc);
    else if (apiVersion === API_VERSION && kind === PLATFORM_KIND) out.platforms.push(doc);
    else if (apiVersion === API_VERSION && kind === PROVIDER_KIND) out.providers.push(doc);
    else if (apiVersion === API_VERSION && kind === IMAGE_PROVIDER_KIND) out.imageProviders.push(doc);
    else if (apiVersion === API_VERSION && kind === CEDAR_POLICY_KIND) out.cedarPolicies.push(doc);
    else if (apiVersion === API_VERSION && kind === TEAM_KIND) out.teams.push(doc);
    else if (isQuotaDocument(doc.object)) out.quotas.push(doc);
    else if (apiVersion === 'v1' && kind === 'Namespace') out.namespaces.push(doc);
    else if ((rejection = kindProblem(apiVersion, kind)) !== undefined) {
      out.rejected.push(problem(kind || '(no kind)', name, [platformError(rejection.reason, rejection.message, doc.locate?.([rejection.field]), rejection.field)]));
    } else {
      const ignored: IgnoredDocument = { apiVersion, kind: kind || '(no kind)', name };
      if (doc.origin !== undefined) ignored.origin = doc.origin;
      out.ignored.push(ignored);
    }
  }
  return out;
}

/**
 * The input documents of one command, read once: classified by kind, every LatticeService validated
 * once (its `validated` set when valid). Every command reads the same snapshot (render: image
 * verification then derivation; `authz check`; the controller's rebuild), so no service is
 * validated twice. The documents' objects must not change while the snapshot is in use.
 */
export interface PlatformSnapshot {
  readonly classified: ClassifiedDocuments;
}

/** Classifies `documents` and validates every LatticeService once (see {@link PlatformSnapshot}). */
export function snapshotPlatform(documents: readonly PlatformDocument[]): PlatformSnapshot {
  const classified = classify([...documents]);
  classified.services = classified.services.map((doc) => {
    const { validated: _given, ...rest } = doc;
    if (workloadKindOf(doc.object) !== SERVICE_WORKLOAD) return rest;
    const parsed = parseLatticeService(doc.object);
    return parsed.success ? { ...rest, validated: parsed.data } : rest;
  });
  return { classified };
}

function snapshotOf(input: readonly PlatformDocument[] | PlatformSnapshot): PlatformSnapshot {
  return Array.isArray(input) ? snapshotPlatform(input) : (input as PlatformSnapshot);
}

/**
 * The validated service of a snapshot's document, or of any document (validated now); for another
 * workload kind, its view (src/compiler/kinds.ts: what graph, quotas and image verification read).
 */
/** The index entry of a valid workload document (its kind's view, kind and parsed value), or undefined. */
function indexEntry(doc: PlatformDocument): IndexedService | undefined {
  if (doc.validated) return indexedWorkload(SERVICE_WORKLOAD, doc.validated);
  const kind = workloadKindOf(doc.object) ?? (SERVICE_WORKLOAD as WorkloadKind);
  const value = kind.parse(doc.object);
  return value === undefined ? undefined : indexedWorkload(kind, value);
}

function problem(kind: string, name: string, diagnostics: Diagnostic[]): PlatformProblem {
  return { kind, name, diagnostics };
}

function platformError(reason: string, message: string, location?: SourceLocation, path?: string): Diagnostic {
  const d: Diagnostic = { severity: 'error', condition: 'Validated', reason, message };
  if (location) d.location = location;
  if (path) d.path = path;
  return d;
}

/** Reads the settings: the single LatticePlatform, or defaults. */
function readSettings(docs: PlatformDocument[], problems: PlatformProblem[]): PlatformSettings {
  let settings = defaultPlatformSettings();
  docs.forEach((doc, i) => {
    const parsed = latticePlatformSchema.safeParse(doc.object);
    const name = kindOf(doc.object).name;
    if (!parsed.success) {
      problems.push(problem(PLATFORM_KIND, name, issuesToDiagnostics(parsed.error.issues, doc)));
    } else if (i > 0) {
      problems.push(problem(PLATFORM_KIND, name, [platformError('DuplicateSettings',
        `only one LatticePlatform is allowed; "${kindOf(docs[0]!.object).name}" is already in use. Merge the settings into one object.`, doc.locate?.([]))]));
    } else {
      settings = parsed.data.spec;
    }
  });
  return settings;
}

/** Reads the SecretProviders; an invalid one is reported and not used, two defaults is an error. */
function readProviders(docs: PlatformDocument[], problems: PlatformProblem[]): { providers: Map<string, SecretProvider>; defaultProvider?: string } {
  const providers = new Map<string, SecretProvider>();
  const defaults: { name: string; doc: PlatformDocument }[] = [];
  for (const doc of docs) {
    const parsed = secretProviderSchema.safeParse(doc.object);
    const name = kindOf(doc.object).name;
    if (!parsed.success) {
      problems.push(problem(PROVIDER_KIND, name, issuesToDiagnostics(parsed.error.issues, doc)));
      continue;
    }
    if (providers.has(name)) {
      problems.push(problem(PROVIDER_KIND, name, [platformError('DuplicateName', `SecretProvider ${name} is declared twice; remove one.`, doc.locate?.(['metadata', 'name']), 'metadata.name')]));
      continue;
    }
    const esoProblems = providerSchemaProblems(parsed.data);
    if (esoProblems.length > 0) {
      problems.push(problem(PROVIDER_KIND, name, esoProblems.map((p: string) => platformError('InvalidProvider',
        `${p}. spec.provider is handed to ESO's ClusterSecretStore as is, and ESO's schema refuses it: fix it as the External Secrets Operator documentation for this provider says.`,
        doc.locate?.(['spec', 'provider', ...p.split(':')[0]!.split('.').slice(2)]), p.split(':')[0]))));
      continue;
    }
    providers.set(name, parsed.data);
    if (parsed.data.spec.default) defaults.push({ name, doc });
  }
  if (defaults.length > 1) {
    for (const d of defaults) {
      problems.push(problem(PROVIDER_KIND, d.name, [platformError('MultipleDefaults',
        `SecretProviders ${defaults.map((x) => x.name).join(' and ')} are all marked default: true, so the default is ambiguous and none is used. Keep default: true on exactly one.`,
        d.doc.locate?.(['spec', 'default']), 'spec.default')]));
    }
    return { providers };
  }
  return defaults[0] ? { providers, defaultProvider: defaults[0].name } : { providers };
}

/** Reads the ImageProviders; an invalid one is reported and not used. */
export function readImageProviders(docs: PlatformDocument[], problems: PlatformProblem[]): ImageProvider[] {
  const out: ImageProvider[] = [];
  for (const doc of docs) {
    const parsed = imageProviderSchema.safeParse(doc.object);
    const name = kindOf(doc.object).name;
    if (!parsed.success) {
      problems.push(problem(IMAGE_PROVIDER_KIND, name, issuesToDiagnostics(parsed.error.issues, doc)));
    } else if (out.some((p) => p.metadata.name === name)) {
      problems.push(problem(IMAGE_PROVIDER_KIND, name, [platformError('DuplicateName', `ImageProvider ${name} is declared twice; remove one.`, doc.locate?.(['metadata', 'name']), 'metadata.name')]));
    } else {
      out.push(parsed.data);
    }
  }
  return out;
}

/**
 * Builds the derivation context for a set of documents: settings, providers, and the index of valid
 * services (other services' derivations read their ports from it).
 */
export function buildContext(classified: ClassifiedDocuments, now: string, problems: PlatformProblem[], images?: ReadonlyMap<string, ImageVerification>): DerivationContext {
  const settings = readSettings(classified.platforms, problems);
  const { providers, defaultProvider } = readProviders(classified.providers, problems);
  const services = new Map<string, IndexedService>();
  for (const doc of classified.services) {
    const entry = indexEntry(doc);
    if (entry && !services.has(entry.key)) services.set(entry.key, entry);
  }
  const { quotas, problems: quotaProblems } = readQuotas(classified.quotas);
  for (const p of quotaProblems) problems.push(problem(QUOTA_KIND, p.name, p.diagnostics));
  // LatticeTeams (platform-owned, in lattice-system) decide the team metadata of their namespaces:
  // for the keys a team sets, its values win over labels written on the Namespace object itself.
  const teams = deriveTeams(classified.teams, settings);
  for (const t of teams.teams) if (t.diagnostics.length > 0) problems.push(problem(TEAM_KIND, t.name, t.diagnostics));
  const namespaces = mergeNamespaceMetadata(namespaceMetadata(classified.namespaces), teams.namespaces);
  const quotaUsage = computeQuotaUsage(quotas.values(), services.values(), namespaceLabels(namespaces), settings);
  const imageProviders = readImageProviders(classified.imageProviders, problems);
  const firstProblem = problems.length;
  const policySources = readCedarPolicies(classified.cedarPolicies, problems);
  // A CedarPolicy that is not even a valid document: its enabled flag is unknown, so it counts as enabled.
  const invalidPolicies: InvalidPolicy[] = problems.slice(firstProblem).map((p) => {
    const d = p.diagnostics[0];
    const where = d?.location ? `${d.location.file}:${d.location.line}:${d.location.column}` : undefined;
    return { name: p.name, message: d ? `${d.path ? `${d.path}: ` : ''}${d.message}` : 'not a valid CedarPolicy', ...(where ? { where } : {}) };
  });
  const policyEngine = policyEngineFor(policySources, settings.platformContact);
  for (const p of policyEngine.problems) {
    if (p.severity !== 'error') continue;
    const d = platformError('InvalidPolicy', p.policyId ? `policy ${p.policyId}: ${p.message}` : p.message, p.location?.file !== undefined ? { file: p.location.file, line: p.location.line, column: p.location.column } : undefined, 'spec.policies');
    problems.push(problem(CEDAR_POLICY_KIND, p.cedarPolicy, [d]));
  }
  for (const v of policyEngine.validations) {
    if (v.valid || !v.enabled) continue;
    if (v.usable) {
      // One bad policy does not drop the good ones of its CedarPolicy; a bad forbid still blocks
      // the actions it names (a bad permit permits nothing, which default deny covers).
      for (const r of v.rejectedPolicies) {
        if (r.effect !== 'forbid') continue;
        const at = r.location ?? (r.position ? { file: 'spec.policies', ...r.position } : undefined);
        const entry: InvalidPolicy = { name: v.name, policyId: r.id, message: `policy ${r.id}: ${r.message}` };
        if (r.actions !== undefined) entry.actions = r.actions;
        if (at) entry.where = `${at.file ?? v.source.file ?? 'spec.policies'}:${at.line}:${at.column}`;
        if (v.owner !== undefined) entry.owner = v.owner;
        invalidPolicies.push(entry);
      }
      continue;
    }
    const first = v.problems.find((p) => p.severity === 'error');
    // The file position when the CedarPolicy came from a file, else the position in spec.policies.
    const at = first?.location ?? (first?.position ? { file: 'spec.policies', ...first.position } : undefined);
    const entry: InvalidPolicy = { name: v.name, message: first ? `${first.policyId ? `policy ${first.policyId}: ` : ''}${first.message}` : 'invalid' };
    if (at) entry.where = `${at.file ?? v.source.file ?? 'spec.policies'}:${at.line}:${at.column}`;
    if (v.owner !== undefined) entry.owner = v.owner;
    invalidPolicies.push(entry);
  }
  const ctx: DerivationContext = {
    settings, services, secretProviders: providers, imageProviders, now, quotas, quotaUsage,
    policyEngine, namespaces, invalidPolicies, teams,
  };
  if (images !== undefined) ctx.images = images;
  ctx.skipImageVerification = (service, image) => {
    const blocking = invalidPoliciesCovering(invalidPolicies, 'SkipImageVerification');
    if (blocking.length > 0) return { allowed: false, policies: blocking.map((p) => p.policyId ?? p.name) };
    const decision = policyEngine.canSkipImageVerification(authorizationInput(service, ctx), image);
    return { allowed: decision.outcome === 'allow', policies: decision.determiningPolicies };
  };
  if (defaultProvider !== undefined) ctx.defaultSecretProvider = defaultProvider;
  return ctx;
}

/** The CedarPolicies as policy sources; a document that is not a valid CedarPolicy is reported and not used. */
export function readCedarPolicies(docs: readonly PlatformDocument[], problems: PlatformProblem[]): PolicySource[] {
  const out: PolicySource[] = [];
  for (const doc of docs) {
    const parsed = cedarPolicySchema.safeParse(doc.object);
    if (!parsed.success) {
      problems.push(problem(CEDAR_POLICY_KIND, kindOf(doc.object).name, issuesToDiagnostics(parsed.error.issues, doc)));
      continue;
    }
    const source: PolicySource = { policy: parsed.data };
    if (doc.origin !== undefined) source.file = doc.origin.replace(/#[0-9]+$/, '');
    if (doc.locatePolicyText) source.locateText = doc.locatePolicyText;
    out.push(source);
  }
  return out;
}

/** Labels and annotations of each namespace, by name (team, environment, owner for Cedar). */
export function namespaceMetadata(docs: readonly PlatformDocument[]): Record<string, NamespaceMetadata> {
  const out: Record<string, NamespaceMetadata> = {};
  for (const doc of docs) {
    const meta = (doc.object as { metadata?: { name?: unknown; labels?: unknown; annotations?: unknown } } | null)?.metadata;
    if (typeof meta?.name !== 'string' || meta.name in out) continue;
    const strings = (v: unknown): Record<string, string> =>
      Object.fromEntries(Object.entries(v !== null && typeof v === 'object' ? v : {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
    out[meta.name] = { labels: strings(meta.labels), annotations: strings(meta.annotations) };
  }
  return out;
}

/** `base` with `over`'s labels and annotations laid on top, namespace by namespace (`over` wins per key). */
export function mergeNamespaceMetadata(base: Record<string, NamespaceMetadata>, over: Readonly<Record<string, NamespaceMetadata>>): Record<string, NamespaceMetadata> {
  const out: Record<string, NamespaceMetadata> = { ...base };
  for (const [name, meta] of Object.entries(over)) {
    const b = out[name] ?? {};
    out[name] = { labels: { ...b.labels, ...meta.labels }, annotations: { ...b.annotations, ...meta.annotations } };
  }
  return out;
}

/** Labels of each namespace, by name, as quotas select them (read once, by {@link namespaceMetadata}). */
export function namespaceLabels(namespaces: Readonly<Record<string, NamespaceMetadata>>): Map<string, Record<string, string>> {
  return new Map(Object.entries(namespaces).map(([name, meta]) => [name, meta.labels ?? {}]));
}

/** What image verification needs to know before derivation: the images of valid services, the ImageProviders, the settings. */
export interface ImagesToVerify {
  images: string[];
  providers: ImageProvider[];
  settings: PlatformSettings;
}

/** Collects the images of every valid service (sorted, unique), with the providers and settings. */
export function imagesToVerify(input: readonly PlatformDocument[] | PlatformSnapshot): ImagesToVerify {
  const { classified } = snapshotOf(input);
  const problems: PlatformProblem[] = [];
  const settings = readSettings(classified.platforms, problems);
  const providers = readImageProviders(classified.imageProviders, problems);
  const images = new Set<string>();
  for (const doc of classified.services) {
    const service = doc.validated ?? workloadView(doc.object);
    if (!service) continue;
    for (const c of podContainers(service.spec)) images.add(c.container.image);
  }
  return { images: [...images].sort(), providers, settings };
}

/**
 * The Fleet of a set of classified documents (src/compiler/platform/fleet.ts): the context `buildContext`
 * builds, every service loaded and derived once, duplicates reported in `problems`. derivePlatform
 * starts here, and so can anything that then keeps the fleet up to date one change at a time.
 */
export function openFleet(classified: ClassifiedDocuments, options: PlatformOptions, problems: PlatformProblem[]): Fleet {
  problems.push(...classified.rejected);
  // The fleet validates and indexes the services itself: the context is built without them.
  const ctx = buildContext({ ...classified, services: [] }, options.now, problems, options.images);
  if (options.stageTimes) ctx.stageTimes = options.stageTimes;
  const fleet = new Fleet(ctx, { namespaceLabels: namespaceLabels(ctx.namespaces) });
  for (const doc of fleet.load(classified.services).duplicates) {
    const key = documentKey(doc.object);
    const kind = kindOf(doc.object).kind;
    const first = classified.services.find((d) => documentKey(d.object) === key);
    const firstKind = first ? kindOf(first.object).kind : kind;
    const what = firstKind === kind
      ? `${kind} ${key} is declared more than once; only the first is derived. Remove or rename the duplicate.`
      : `${kind} ${key} has the namespace and name of ${firstKind} ${key}, declared first: workloads of every kind share one name space per namespace (callers name their peers by it), so only the first is derived. Rename one of them.`;
    problems.push(problem(kind, key, [platformError('DuplicateName', what, doc.locate?.(['metadata', 'name']), 'metadata.name')]));
  }
  return fleet;
}

/**
 * Derives every service of the platform and the platform-level objects (ClusterSecretStores, the
 * network baseline), from documents or from the snapshot a command already took of them.
 */
export function derivePlatform(input: PlatformDocument[] | PlatformSnapshot, options: PlatformOptions): PlatformResult {
  const { classified } = snapshotOf(input);
  const problems: PlatformProblem[] = [];
  const fleet = openFleet(classified, options, problems);
  return {
    services: fleet.results(),
    platformObjects: fleet.platformObjects(),
    problems,
    ignored: classified.ignored,
    settings: fleet.ctx.settings,
    quotas: [...(fleet.ctx.quotaUsage?.values() ?? [])],
    teams: fleet.ctx.teams?.teams ?? [],
    teamObjects: fleet.ctx.teams?.objects ?? [],
    fleet,
  };
}
