/**
 * Image verification: the supply-chain gate run before derivation (by `lattice render` and the
 * controller), whose results the derivation pipeline and the Cedar `DeployImage` gate read.
 *
 * For each container image it decides one {@link VerificationOutcome}:
 * 1. Digest enforcement. An image must be pinned (`name@sha256:<64 hex>`), or it is `ImageNotPinned`.
 *    With `tags: 'resolve'` (a platform setting; `lattice render` only with `--resolve-digests` and
 *    network access) a tag is instead resolved to its digest in the registry, and `pinnedImage` carries
 *    the digest for the derived Deployment.
 * 2. The ImageProvider covering the image ({@link findProvider}: same host, repository at or below
 *    the provider's path prefix on whole components, longest prefix first). No provider, or one
 *    without `trust`, means `NotRequired`.
 * 3. Signatures, checked against the provider's keys (see signatures.ts): Sigstore bundles given by
 *    the caller (e.g. files, so an offline render can verify), then the cosign signature manifest
 *    (tag `sha256-<hex>.sig` in the image's repository), then Sigstore bundles attached to the digest
 *    as OCI referrers (the referrers API, or the referrers tag schema `sha256-<hex>` where the registry
 *    has no such API, as cosign does). One valid signature by one trusted key is `Verified`.
 *    Otherwise `SignatureInvalid` (the most telling problem is named), `SignatureMissing`,
 *    `ImageNotFound`, or `RegistryUnavailable` when the registry could not be asked: an unchecked
 *    image is never treated as verified.
 *
 * `Verified` results are cached by repository and digest (and the provider's trust settings), so an
 * image is checked once per verifier whatever the number of services running it. Failures are not
 * cached: they may be fixed by signing, or be transient.
 */
import { createHash } from 'node:crypto';
import { credentialKey, trustedKeysOf, type ImageProvider } from '../api/imageprovider/v1alpha1.ts';
import { parsePublicKey, type TrustedKey } from './keys.ts';
import { isDigestPinned, parseImageReference, type ImageReference } from './reference.ts';
import { parseRegistryScope, scopeCovers } from './scope.ts';
import { RegistryClient, RegistryError, sha256Digest, type RegistryCredentials, type RetryOptions } from './registry.ts';
import {
  BUNDLE_ARTIFACT_TYPE,
  checkBundle,
  checkSimpleSigning,
  mostTelling,
  SIGNATURE_ANNOTATION,
  signatureTag,
  SIMPLE_SIGNING_MEDIA_TYPE,
  type SignatureCheck,
  type SignatureProblem,
  type SignatureSubject,
} from './signatures.ts';

/**
 * What verification decided for one image. The values double as the CamelCase `reason` of the
 * service's status condition.
 * - `Verified`: a signature by a trusted key was checked (see `verifiedBy`).
 * - `NotRequired`: no ImageProvider with trust keys covers the image.
 * - `ImageNotPinned`: the image has no `@sha256:` digest and tags are not resolved.
 * - `InvalidReference`: the image is not a valid reference (normally caught by schema validation).
 * - `ImageNotFound`: the registry has no such image (digest or tag).
 * - `SignatureMissing`: no signature at all.
 * - `SignatureInvalid`: signatures exist but none is valid for this image and these keys.
 * - `RegistryUnavailable`: the registry could not be asked, or refused access.
 */
export type VerificationOutcome =
  | 'Verified'
  | 'NotRequired'
  | 'ImageNotPinned'
  | 'InvalidReference'
  | 'ImageNotFound'
  | 'SignatureMissing'
  | 'SignatureInvalid'
  | 'RegistryUnavailable';

/** Where the signature that verified an image came from. */
export type SignatureSource = 'cosign-signature' | 'sigstore-bundle' | 'given-bundle';

/** The verification result for one image, as the pipeline and the Cedar DeployImage gate read it. */
export interface ImageVerification {
  /** The image exactly as written in the service. */
  image: string;
  /** The image digest `sha256:<hex>`, when known (written, or resolved from the tag). */
  digest?: string;
  /** The reference the derived Deployment must use: `image` itself when pinned, `image@<digest>` when a tag was resolved. */
  pinnedImage?: string;
  outcome: VerificationOutcome;
  /** True only when a signature by a trusted key was verified for this digest. */
  signed: boolean;
  /** Name of the trusted key that verified the signature, or "" when none did. */
  verifiedBy: string;
  /** Where the verifying signature came from, when `signed`. */
  source?: SignatureSource;
  /** Name of the ImageProvider that covers the image, when one does. */
  provider?: string;
  /**
   * True when a failing outcome must stop the derivation: always for digest problems, and for
   * signature problems when the provider's `trust.enforce` is true. See {@link isBlocking}.
   */
  enforced: boolean;
  /** What was decided, why, and what to do, for the service's status condition. */
  message: string;
}

/** A store of verification results by key; the default keeps the last 1024 in memory. */
export interface VerificationCache {
  get(key: string): ImageVerification | undefined;
  set(key: string, value: ImageVerification): void;
}

/** How to treat images written with a tag and no digest. */
export type TagPolicy = 'reject' | 'resolve';

/** Options of an {@link ImageVerifier}. Only `providers` is required. */
export interface ImageVerifierOptions {
  /** The platform's ImageProviders (from namespace lattice-system). */
  providers: readonly ImageProvider[];
  /** `reject` (default): unpinned images are `ImageNotPinned`. `resolve`: tags are resolved to digests in the registry. */
  tags?: TagPolicy;
  /** HTTP client (default: the global `fetch`). */
  fetch?: typeof fetch;
  /** Retry policy for registry requests (see registry.ts for the defaults). */
  retry?: RetryOptions;
  /** Waits between retries (default: a timer); tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Clock in milliseconds for the retry budget (default `Date.now`). */
  now?: () => number;
  /**
   * Registry credentials for a provider, e.g. read from the pull secret synced from
   * `spec.credentials` (see `credentialsFromDockerConfig`). Called at most once per provider.
   */
  credentials?: (provider: ImageProvider) => Promise<RegistryCredentials | undefined> | RegistryCredentials | undefined;
  /**
   * Sigstore bundles (parsed JSON) given by the caller, e.g. files named on the command line. Each is
   * considered for the images its (not yet verified) statement subject names, before the registry is asked.
   */
  bundles?: readonly unknown[];
  /** Result cache (default: in memory, 1024 entries). */
  cache?: VerificationCache;
}

/** True when the result must stop the service's derivation (a failing outcome that is enforced). */
export function isBlocking(v: ImageVerification): boolean {
  return v.enforced && v.outcome !== 'Verified' && v.outcome !== 'NotRequired';
}

/**
 * The ImageProvider covering `ref`: the one whose `spec.registry` scope covers it with the longest
 * path prefix (ties: the first by name). Providers with an invalid `spec.registry` are skipped.
 */
export function findProvider(providers: readonly ImageProvider[], ref: ImageReference): ImageProvider | undefined {
  let best: { provider: ImageProvider; length: number } | undefined;
  for (const provider of providers) {
    const parsed = parseRegistryScope(provider.spec.registry);
    if (!parsed.ok || !scopeCovers(parsed.scope, ref)) continue;
    const length = parsed.scope.prefix === '' ? 0 : parsed.scope.prefix.split('/').length;
    if (best === undefined || length > best.length || (length === best.length && provider.metadata.name < best.provider.metadata.name)) {
      best = { provider, length };
    }
  }
  return best?.provider;
}

class MemoryCache implements VerificationCache {
  private readonly entries = new Map<string, ImageVerification>();
  constructor(private readonly limit = 1024) {}
  get(key: string): ImageVerification | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: ImageVerification): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

type Failure = Extract<SignatureCheck, { ok: false }>;

interface SignatureSearch {
  verified?: { key: string; source: SignatureSource };
  failures: Failure[];
  imageFound: boolean;
  /** Set when the registry could not be asked; `failures` then holds what was found before. */
  registryError?: RegistryError;
}

const SOURCES: Record<SignatureSource, string> = {
  'cosign-signature': 'its cosign signature',
  'sigstore-bundle': 'a Sigstore bundle attached to it',
  'given-bundle': 'a Sigstore bundle given to Lattice',
};

const MAX_REFERRERS = 16;

/**
 * Verifies container images against the platform's ImageProviders. Create one per reconciliation or
 * render (or keep one for the controller's lifetime: it caches `Verified` results and bearer tokens).
 * `verify` never throws: every problem is an outcome with a message.
 */
export class ImageVerifier {
  private readonly opts: ImageVerifierOptions;
  private readonly cache: VerificationCache;
  private readonly clients = new Map<string, Promise<RegistryClient>>();
  private readonly inflight = new Map<string, Promise<ImageVerification>>();
  private readonly trustedKeys = new Map<string, TrustedKey[]>();

  constructor(opts: ImageVerifierOptions) {
    this.opts = opts;
    this.cache = opts.cache ?? new MemoryCache();
  }

  /** Verifies one image reference as written in a service. */
  verify(image: string): Promise<ImageVerification> {
    const running = this.inflight.get(image);
    if (running !== undefined) return running;
    const p = this.run(image).finally(() => this.inflight.delete(image));
    this.inflight.set(image, p);
    return p;
  }

  /** Verifies several images (duplicates checked once); results in the order given. */
  verifyAll(images: readonly string[]): Promise<ImageVerification[]> {
    return Promise.all(images.map((i) => this.verify(i)));
  }

  private async run(image: string): Promise<ImageVerification> {
    const parsed = parseImageReference(image);
    if (!parsed.ok) {
      return result(image, 'InvalidReference', true, `image "${image}" is not a valid image reference: ${parsed.error}. Write registry/repository[:tag]@sha256:<digest>.`);
    }
    const ref = parsed.ref;
    const provider = findProvider(this.opts.providers, ref);
    let digest = ref.digest;
    let pinnedImage = image;
    if (!isDigestPinned(ref)) {
      if (this.opts.tags !== 'resolve') return { ...result(image, 'ImageNotPinned', true, notPinnedMessage(image)), ...(provider ? { provider: provider.metadata.name } : {}) };
      const resolved = await this.resolveTag(ref, provider);
      if ('outcome' in resolved) return resolved;
      digest = resolved.digest;
      pinnedImage = `${image}@${digest}`;
    }
    const base = { image, digest, pinnedImage, ...(provider ? { provider: provider.metadata.name } : {}) } as const;
    if (digest === undefined) return result(image, 'ImageNotPinned', true, notPinnedMessage(image));
    const keys = provider === undefined ? [] : this.keysOf(provider);
    if (provider !== undefined && provider.spec.trust !== undefined && keys.length === 0 && (provider.spec.trust.authorities ?? []).length > 0) {
      // Authorities whose keys are only in a secret store: nothing can verify, so nothing is verified.
      const names = (provider.spec.trust.authorities ?? []).map((a) => a.name).join(', ');
      const message = `ImageProvider "${provider.metadata.name}" requires signatures by ${names}, whose keys are secret-store references (trust.authorities[].key) that Lattice does not read, so no signature of image "${image}" can be verified. Ask the platform team to put each PEM key inline (trust.authorities[].publicKey or trust.keys).`;
      return { ...base, outcome: 'SignatureMissing', signed: false, verifiedBy: '', enforced: provider.spec.trust.enforce, message };
    }
    if (provider === undefined || provider.spec.trust === undefined || keys.length === 0) {
      const why =
        provider === undefined
          ? `no ImageProvider covers image "${image}", so no signature is required`
          : `ImageProvider "${provider.metadata.name}" covers image "${image}" but lists no trusted keys, so no signature is required`;
      return { ...base, outcome: 'NotRequired', signed: false, verifiedBy: '', enforced: false, message: why };
    }
    const trust = provider.spec.trust;
    const cacheKey = `${ref.registry}/${ref.repository}@${digest}|${provider.metadata.name}|${fingerprint(provider)}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return { ...cached, ...base };

    const subject: SignatureSubject = { registry: ref.registry, repository: ref.repository, digest };
    const signName = `${ref.registry}/${ref.repository}@${digest}`;
    const who = `ImageProvider "${provider.metadata.name}" (${provider.spec.registry})`;
    const keyList = keys.map((k) => k.name).join(', ');
    const notEnforced = trust.enforce ? '' : ` This is reported, not enforced: ${who} has trust.enforce false.`;

    const search = await this.searchSignatures(ref, subject, keys, provider);
    if (search.registryError !== undefined) {
      const found = mostTelling(search.failures);
      const alsoGiven = found === undefined ? '' : ` A signature found before that did not verify: ${found.message}.`;
      return {
        ...base,
        outcome: 'RegistryUnavailable',
        signed: false,
        verifiedBy: '',
        enforced: trust.enforce,
        message: unavailableMessage(search.registryError, `check the signature of image "${image}"`, provider) + alsoGiven + notEnforced,
      };
    }
    if (search.verified !== undefined) {
      const verified: ImageVerification = {
        ...base,
        outcome: 'Verified',
        signed: true,
        verifiedBy: search.verified.key,
        source: search.verified.source,
        enforced: trust.enforce,
        message: `image "${image}" (${digest}) is verified: ${SOURCES[search.verified.source]} is signed by key "${search.verified.key}" of ${who}.`,
      };
      this.cache.set(cacheKey, verified);
      return verified;
    }
    if (!search.imageFound) {
      return {
        ...base,
        outcome: 'ImageNotFound',
        signed: false,
        verifiedBy: '',
        enforced: trust.enforce,
        message: `image "${image}" was not found: repository ${ref.repository} in registry ${ref.registry} has no manifest ${digest}, so there is nothing to verify or run. Check the digest (\`crane digest <image>:<tag>\` prints it) and that the image was pushed to this repository.${notEnforced}`,
      };
    }
    const failure = mostTelling(search.failures);
    if (failure === undefined) {
      return {
        ...base,
        outcome: 'SignatureMissing',
        signed: false,
        verifiedBy: '',
        enforced: trust.enforce,
        message:
          `image "${image}" is not signed: ${who} requires its images to be signed by one of the keys ${keyList}, and the registry has no cosign signature (tag ${signatureTag(digest)} in ${ref.repository}) and no Sigstore bundle attached to ${digest}. ` +
          `Sign it with one of those keys: \`cosign sign --key cosign.key ${signName}\`, then deploy again.${notEnforced}`,
      };
    }
    return {
      ...base,
      outcome: 'SignatureInvalid',
      signed: false,
      verifiedBy: '',
      enforced: trust.enforce,
      message: `image "${image}" is not verified: ${failure.message}. ${who} requires a valid signature of this digest by one of the keys ${keyList}. ${advice(failure.problem, signName, provider.metadata.name)}${notEnforced}`,
    };
  }

  /** Resolves the tag of `ref` (default `latest`) to a digest, or returns the failing verification. */
  private async resolveTag(ref: ImageReference, provider: ImageProvider | undefined): Promise<{ digest: string } | ImageVerification> {
    const tag = ref.tag ?? 'latest';
    const image = ref.original;
    const p = provider ? { provider: provider.metadata.name } : {};
    try {
      const client = await this.client(ref.registry, provider);
      const manifest = await client.manifest(ref.repository, tag, true);
      if (manifest === undefined) {
        return { ...result(image, 'ImageNotFound', true, `image "${image}" was not found: repository ${ref.repository} in registry ${ref.registry} has no tag ${tag}, so it cannot be resolved to a digest. Check the name and tag, or pin the digest yourself (\`crane digest <image>:<tag>\`).`), ...p };
      }
      if (!/^sha256:[a-f0-9]{64}$/.test(manifest.digest)) {
        return { ...result(image, 'ImageNotPinned', true, `registry ${ref.registry} answered tag ${tag} with digest "${manifest.digest}", not a sha256 digest: pin the image yourself. ${notPinnedMessage(image)}`), ...p };
      }
      return { digest: manifest.digest };
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      return { ...result(image, 'RegistryUnavailable', true, unavailableMessage(err, `resolve tag ${tag} of image "${image}" to a digest`, provider)), ...p };
    }
  }

  /** Looks for a signature of `subject` by one of `keys`; stops at the first that verifies. Never throws a RegistryError. */
  private async searchSignatures(ref: ImageReference, subject: SignatureSubject, keys: TrustedKey[], provider: ImageProvider): Promise<SignatureSearch> {
    const failures: Failure[] = [];
    const hex = subject.digest.slice('sha256:'.length);
    for (const bundle of this.opts.bundles ?? []) {
      if (!statementDigests(bundle).includes(hex)) continue;
      const check = checkBundle(bundle, keys, subject);
      if (check.ok) return { verified: { key: check.key, source: 'given-bundle' }, failures, imageFound: true };
      failures.push(check);
    }
    try {
      return await this.searchRegistry(ref, subject, keys, provider, failures);
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      return { failures, imageFound: true, registryError: err };
    }
  }

  /** The registry part of {@link searchSignatures}: cosign signature manifest, then attached bundles. */
  private async searchRegistry(ref: ImageReference, subject: SignatureSubject, keys: TrustedKey[], provider: ImageProvider, failures: Failure[]): Promise<SignatureSearch> {
    const client = await this.client(ref.registry, provider);
    const image = await client.manifest(ref.repository, subject.digest, true);
    if (image === undefined) return { failures, imageFound: false };

    const sigManifest = await client.manifest(ref.repository, signatureTag(subject.digest));
    if (sigManifest !== undefined) {
      for (const layer of layersOf(sigManifest.json)) {
        if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
        const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
        if (signature === undefined) {
          failures.push({ ok: false, problem: 'malformed', message: `the cosign signature manifest ${signatureTag(subject.digest)} has a payload layer without the ${SIGNATURE_ANNOTATION} annotation` });
          continue;
        }
        const payload = await client.blob(ref.repository, layer.digest);
        if (payload === undefined) {
          failures.push({ ok: false, problem: 'malformed', message: `the signed payload ${layer.digest} named by the cosign signature manifest is missing from the registry` });
          continue;
        }
        const check = checkSimpleSigning(payload, layer.digest, signature, keys, subject);
        if (check.ok) return { verified: { key: check.key, source: 'cosign-signature' }, failures, imageFound: true };
        failures.push(check);
      }
    }

    for (const entry of await this.bundleReferrers(client, ref.repository, subject.digest)) {
      const manifest = await client.manifest(ref.repository, entry);
      if (manifest === undefined) continue;
      if (manifest.digest !== entry) {
        failures.push({ ok: false, problem: 'payload-tampered', message: `the bundle manifest served for ${entry} has digest ${manifest.digest}: it was changed in the registry's storage or on the way` });
        continue;
      }
      const layer = layersOf(manifest.json)[0];
      if (layer === undefined) continue;
      const bytes = await client.blob(ref.repository, layer.digest);
      if (bytes === undefined) {
        failures.push({ ok: false, problem: 'malformed', message: `the Sigstore bundle blob ${layer.digest} is missing from the registry` });
        continue;
      }
      if (sha256Digest(bytes) !== layer.digest) {
        failures.push({ ok: false, problem: 'payload-tampered', message: `the Sigstore bundle served for blob ${layer.digest} has digest ${sha256Digest(bytes)}: it was changed in the registry's storage or on the way` });
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        failures.push({ ok: false, problem: 'malformed', message: `the Sigstore bundle blob ${layer.digest} is not JSON` });
        continue;
      }
      const check = checkBundle(json, keys, subject);
      if (check.ok) return { verified: { key: check.key, source: 'sigstore-bundle' }, failures, imageFound: true };
      failures.push(check);
    }
    return { failures, imageFound: true };
  }

  /** Digests of the Sigstore bundle manifests referring to `digest`: referrers API, else the tag schema. */
  private async bundleReferrers(client: RegistryClient, repository: string, digest: string): Promise<string[]> {
    const listed = await client.referrers(repository, digest, BUNDLE_ARTIFACT_TYPE);
    let index: unknown;
    if (listed.supported) {
      index = listed.index;
    } else {
      const tagged = await client.manifest(repository, digest.replace(':', '-'));
      index = tagged?.json;
    }
    const manifests = (index as { manifests?: unknown } | undefined)?.manifests;
    if (!Array.isArray(manifests)) return [];
    return manifests
      .filter((m): m is { digest: string; artifactType?: string } => typeof m === 'object' && m !== null && typeof (m as { digest?: unknown }).digest === 'string')
      .filter((m) => m.artifactType === BUNDLE_ARTIFACT_TYPE || (m.artifactType ?? '').startsWith('application/vnd.dev.sigstore.bundle'))
      .filter((m) => /^sha256:[a-f0-9]{64}$/.test(m.digest))
      .slice(0, MAX_REFERRERS)
      .map((m) => m.digest);
  }

  /** The registry client for `host` with the credentials of `provider` (one per host and provider). */
  private client(host: string, provider: ImageProvider | undefined): Promise<RegistryClient> {
    const key = `${host}|${provider?.metadata.name ?? ''}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      client = (async () => {
        const credentials = provider !== undefined && this.opts.credentials !== undefined ? await this.opts.credentials(provider) : undefined;
        return new RegistryClient(host, {
          ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
          ...(this.opts.retry ? { retry: this.opts.retry } : {}),
          ...(this.opts.sleep ? { sleep: this.opts.sleep } : {}),
          ...(this.opts.now ? { now: this.opts.now } : {}),
          ...(credentials ? { credentials } : {}),
        });
      })();
      this.clients.set(key, client);
    }
    return client;
  }

  /** The parsed trusted keys of a provider; keys that do not parse are left out (schema validation reports them). */
  private keysOf(provider: ImageProvider): TrustedKey[] {
    const id = `${provider.metadata.name}|${fingerprint(provider)}`;
    let keys = this.trustedKeys.get(id);
    if (keys === undefined) {
      keys = [];
      for (const k of trustedKeysOf(provider.spec.trust)) {
        const parsed = parsePublicKey(k.publicKey);
        if (parsed.ok) keys.push({ name: k.name, algorithm: parsed.algorithm, key: parsed.key });
      }
      this.trustedKeys.set(id, keys);
    }
    return keys;
  }
}

function result(image: string, outcome: VerificationOutcome, enforced: boolean, message: string): ImageVerification {
  return { image, outcome, signed: false, verifiedBy: '', enforced, message };
}

function fingerprint(provider: ImageProvider): string {
  const trust = provider.spec.trust;
  return createHash('sha256')
    .update(JSON.stringify([provider.spec.registry, trust?.enforce, trustedKeysOf(trust).map((k) => [k.name, k.publicKey.trim()])]))
    .digest('hex')
    .slice(0, 16);
}

interface Layer {
  mediaType: string;
  digest: string;
  annotations?: Record<string, string>;
}

function layersOf(manifest: unknown): Layer[] {
  const layers = (manifest as { layers?: unknown } | undefined)?.layers;
  if (!Array.isArray(layers)) return [];
  return layers.filter(
    (l): l is Layer => typeof l === 'object' && l !== null && typeof (l as Layer).mediaType === 'string' && typeof (l as Layer).digest === 'string' && /^sha256:[a-f0-9]{64}$/.test((l as Layer).digest),
  );
}

/** Subject digests (hex) named by a bundle's DSSE statement, read without verifying anything. */
function statementDigests(bundle: unknown): string[] {
  try {
    const payload = (bundle as { dsseEnvelope?: { payload?: unknown } }).dsseEnvelope?.payload;
    if (typeof payload !== 'string') return [];
    const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { subject?: unknown };
    if (!Array.isArray(statement.subject)) return [];
    return statement.subject.map((s: { digest?: { sha256?: unknown } }) => s?.digest?.sha256).filter((d): d is string => typeof d === 'string');
  } catch {
    return [];
  }
}

function notPinnedMessage(image: string): string {
  return (
    `image "${image}" is not pinned to a digest: the platform runs only images referenced by digest (name@sha256:<64 hex digits>), so that the image that was reviewed and signed is exactly the one that runs, whatever later happens to the tag. ` +
    `Print the digest with \`crane digest ${image}\` or \`docker buildx imagetools inspect ${image}\` and write ${image}@sha256:<digest>.`
  );
}

function unavailableMessage(err: RegistryError, action: string, provider: ImageProvider | undefined): string {
  if (err.kind === 'denied') {
    const fix =
      provider === undefined
        ? `add an ImageProvider for ${err.registry} with spec.credentials naming a registry credential`
        : provider.spec.credentials === undefined
          ? `give ImageProvider "${provider.metadata.name}" spec.credentials naming a registry credential that can pull from it`
          : `check that the credential "${credentialKey(provider.spec.credentials)}" of ImageProvider "${provider.metadata.name}" is current and can pull from it`;
    return `could not ${action}: ${err.message}. An image that cannot be checked is never treated as verified: ${fix}.`;
  }
  return `could not ${action}: ${err.message}. An image that cannot be checked is never treated as verified: check that ${err.registry} is up and reachable from where Lattice runs; the check is repeated on the next reconciliation or render.`;
}

function advice(problem: SignatureProblem, signName: string, provider: string): string {
  switch (problem) {
    case 'untrusted':
      return `Sign the image with one of the trusted keys (\`cosign sign --key cosign.key ${signName}\`), or ask the platform team to add your public key to ImageProvider "${provider}".`;
    case 'digest-mismatch':
    case 'repository-mismatch':
      return `Sign this exact image: \`cosign sign --key cosign.key ${signName}\`.`;
    case 'payload-tampered':
      return `Treat the signature stored in the registry as suspect: tell the platform team, delete the signature tag ${signName.split('@')[1]?.replace(':', '-') ?? ''}.sig and sign again with \`cosign sign --key cosign.key ${signName}\`.`;
    case 'malformed':
      return `Sign the image again with cosign: \`cosign sign --key cosign.key ${signName}\`.`;
  }
}
