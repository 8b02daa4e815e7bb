/**
 * The whole platform at once: classify input documents by kind, validate the platform resources
 * (settings, secret providers), build the shared {@link DerivationContext}, derive every service,
 * and derive the platform-level objects (one ClusterSecretStore per SecretProvider).
 *
 * Used by `lattice render` (input from files) and by the controller (input from informer caches).
 */
import { API_VERSION, PLATFORM_NAMESPACE } from '../api/common.ts';
import { KIND as SERVICE_KIND, latticeServiceSchema } from '../api/latticeservice/v1alpha1.ts';
import { KIND as PLATFORM_KIND, defaultPlatformSettings, latticePlatformSchema, type PlatformSettings } from '../api/latticeplatform/v1alpha1.ts';
import { KIND as PROVIDER_KIND, secretProviderSchema, type SecretProvider } from '../api/secretprovider/v1alpha1.ts';
import type { SourceLocation } from '../api/source.ts';
import { issuesToDiagnostics } from './validate.ts';
import { deriveService } from './pipeline.ts';
import { clusterSecretStoreFor } from './secrets.ts';
import type { DerivationContext, Diagnostic, IndexedService, KubeObject, ServiceInput, ServiceResult } from './types.ts';

/** One input document with where it came from. */
export interface PlatformDocument extends ServiceInput {
  /** Human-readable origin, e.g. `examples/commerce/payments.yaml#2`. */
  origin?: string;
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
}

/** Options of {@link derivePlatform}. */
export interface PlatformOptions {
  /** RFC 3339 time written on condition transitions. */
  now: string;
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
  services: PlatformDocument[];
  platforms: PlatformDocument[];
  providers: PlatformDocument[];
  ignored: IgnoredDocument[];
}

/** Sorts documents by kind; anything that is not a Lattice kind handled here is ignored. */
export function classify(documents: PlatformDocument[]): ClassifiedDocuments {
  const out: ClassifiedDocuments = { services: [], platforms: [], providers: [], ignored: [] };
  for (const doc of documents) {
    const { apiVersion, kind, name } = kindOf(doc.object);
    if (apiVersion === API_VERSION && kind === SERVICE_KIND) out.services.push(doc);
    else if (apiVersion === API_VERSION && kind === PLATFORM_KIND) out.platforms.push(doc);
    else if (apiVersion === API_VERSION && kind === PROVIDER_KIND) out.providers.push(doc);
    else {
      const ignored: IgnoredDocument = { apiVersion, kind: kind || '(no kind)', name };
      if (doc.origin !== undefined) ignored.origin = doc.origin;
      out.ignored.push(ignored);
    }
  }
  return out;
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
    const namespace = parsed.data.metadata.namespace ?? PLATFORM_NAMESPACE;
    if (namespace !== PLATFORM_NAMESPACE) {
      problems.push(problem(PROVIDER_KIND, name, [platformError('WrongNamespace',
        `SecretProvider ${name} is in namespace ${namespace}; SecretProviders are platform resources and must be in ${PLATFORM_NAMESPACE}. Move it there.`, doc.locate?.(['metadata', 'namespace']), 'metadata.namespace')]));
      continue;
    }
    if (providers.has(name)) {
      problems.push(problem(PROVIDER_KIND, name, [platformError('DuplicateName', `SecretProvider ${name} is declared twice; remove one.`, doc.locate?.(['metadata', 'name']), 'metadata.name')]));
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

/**
 * Builds the derivation context for a set of documents: settings, providers, and the index of valid
 * services (other services' derivations read their ports from it).
 */
export function buildContext(classified: ClassifiedDocuments, now: string, problems: PlatformProblem[]): DerivationContext {
  const settings = readSettings(classified.platforms, problems);
  const { providers, defaultProvider } = readProviders(classified.providers, problems);
  const services = new Map<string, IndexedService>();
  for (const doc of classified.services) {
    const parsed = latticeServiceSchema.safeParse(doc.object);
    if (!parsed.success) continue;
    const key = `${parsed.data.metadata.namespace ?? 'default'}/${parsed.data.metadata.name}`;
    if (!services.has(key)) services.set(key, { key, service: parsed.data });
  }
  const ctx: DerivationContext = { settings, services, secretProviders: providers, now };
  if (defaultProvider !== undefined) ctx.defaultSecretProvider = defaultProvider;
  return ctx;
}

/** Derives every service of the platform and the platform-level objects. */
export function derivePlatform(documents: PlatformDocument[], options: PlatformOptions): PlatformResult {
  const classified = classify(documents);
  const problems: PlatformProblem[] = [];
  const ctx = buildContext(classified, options.now, problems);
  const seen = new Set<string>();
  const services: ServiceResult[] = [];
  for (const doc of classified.services) {
    const result = deriveService(doc, ctx);
    if (seen.has(result.key)) {
      problems.push(problem(SERVICE_KIND, result.key, [platformError('DuplicateName',
        `LatticeService ${result.key} is declared more than once; only the first is derived. Remove or rename the duplicate.`, doc.locate?.(['metadata', 'name']), 'metadata.name')]));
      continue;
    }
    seen.add(result.key);
    services.push(result);
  }
  const platformObjects = [...ctx.secretProviders.values()].map(clusterSecretStoreFor);
  return { services, platformObjects, problems, ignored: classified.ignored, settings: ctx.settings };
}
