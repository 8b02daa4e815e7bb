/**
 * The controller's view of the platform for the compiler: the informer caches turned into the same
 * input documents `lattice render` reads from files, derived by the same code (the compiler's
 * `Fleet`, opened with `openFleet` exactly as `derivePlatform` opens it). Nothing here derives
 * anything itself.
 *
 * - A LatticeService change goes to `Fleet.upsert` / `Fleet.remove`, which re-derive the service and
 *   its neighbours in the service graph (and the services under a quota whose usage moved); the
 *   keys it re-derived are returned for the work queue.
 * - Any other input change (settings, SecretProviders, ImageProviders, CedarPolicies, quotas,
 *   Namespaces) rebuilds the fleet, which re-derives every service; the keys whose derivation
 *   changed (objects or status) are returned.
 * - Image verification needs the network, so it runs before derivation, per service, when the
 *   service runs an image without a result yet (or whose registry was unavailable last time); new
 *   results are added to the map the fleet's context reads, and the service is derived again.
 */
import type { Logger } from 'pino';
import { imagesToVerify, openFleet, snapshotPlatform, type PlatformDocument, type PlatformProblem } from '../compiler/platform/snapshot.ts';
import type { Fleet } from '../compiler/platform/fleet.ts';
import type { KubeObject, ServiceResult } from '../compiler/types.ts';
import { ImageVerifier, type ImageVerification, type ImageVerifierOptions } from '../supplychain/verify.ts';
import type { Unstructured } from './kube.ts';
import type { NamespaceMetadata } from '../policy/index.ts';
import type { ResourceType } from './resources.ts';
import { stableJson } from './stable.ts';

/** Read access to cached objects. */
export interface ObjectSource {
  list(type: ResourceType): readonly Unstructured[];
}

/** Verification results that are retried at the next reconcile instead of being kept. */
const TRANSIENT_OUTCOMES = new Set(['RegistryUnavailable']);

/** Fingerprint of a derivation result: what the controller would write for it. */
function fingerprint(r: ServiceResult): string {
  return stableJson({ objects: r.objects, status: r.status });
}

/** `namespace/name` of a cached service. */
export function serviceKey(object: { metadata?: { name?: string; namespace?: string } }): string {
  return `${object.metadata?.namespace ?? 'default'}/${object.metadata?.name}`;
}

/** The platform as the compiler sees it, from the caches. */
export class PlatformView {
  private fleet: Fleet | undefined;
  private problemList: PlatformProblem[] = [];
  private verifier: ImageVerifier | undefined;
  private verifierFor = '';
  /** Verification results by image reference; the fleet's context reads this map. */
  readonly images = new Map<string, ImageVerification>();

  /**
   * `types`: every type whose objects are compiler input (the Lattice kinds and Namespaces);
   * `verifierOptions`: extra options of the image verifier (its providers come from the caches).
   */
  constructor(
    private readonly source: ObjectSource,
    private readonly types: readonly ResourceType[],
    private readonly logger: Logger,
    private readonly verifierOptions: Omit<ImageVerifierOptions, 'providers'> = {},
  ) {}

  /** True once the fleet was built. */
  get built(): boolean {
    return this.fleet !== undefined;
  }

  /**
   * Every cached input object as a compiler input document: no origin and no file positions (the
   * objects come from the cluster; the compiler names them by kind and name in its messages).
   */
  documents(): PlatformDocument[] {
    const docs: PlatformDocument[] = [];
    for (const type of this.types) for (const object of this.source.list(type)) docs.push({ object });
    return docs;
  }

  /**
   * (Re)builds the fleet from every cached object and derives every service. Returns the keys whose
   * result changed since the previous build (every key on the first build).
   */
  rebuild(now: string): Set<string> {
    const before = new Map((this.fleet?.results() ?? []).map((r) => [r.key, fingerprint(r)]));
    // Classified and validated once, for image verification and the fleet alike.
    const snapshot = snapshotPlatform(this.documents());
    const { providers, settings } = imagesToVerify(snapshot);
    const tags = settings.imageTags === 'resolve' ? 'resolve' : 'reject';
    const verifierFor = stableJson({ providers: providers.map((p) => ({ name: p.metadata.name, spec: p.spec })), tags });
    if (verifierFor !== this.verifierFor) {
      // Results depend on the providers and the tag policy: start over with a new verifier (and cache).
      this.verifier = new ImageVerifier({ ...this.verifierOptions, providers, tags });
      this.verifierFor = verifierFor;
      this.images.clear();
    }
    const problems: PlatformProblem[] = [];
    this.fleet = openFleet(snapshot.classified, { now, images: this.images }, problems);
    this.problemList = problems;
    const changed = new Set<string>();
    for (const r of this.fleet.results()) if (before.get(r.key) !== fingerprint(r)) changed.add(r.key);
    for (const key of before.keys()) if (!this.fleet.result(key)) changed.add(key);
    return changed;
  }

  private requireFleet(): Fleet {
    if (!this.fleet) throw new Error('the platform view was used before it was built');
    return this.fleet;
  }

  /** A service was added or changed: re-derives it and its neighbours; returns their keys. */
  upsert(object: Unstructured, now: string): Set<string> {
    return new Set(this.requireFleet().upsert({ object }, now).rederived.map((r) => r.key));
  }

  /** A service was deleted: re-derives its neighbours; returns their keys and the deleted one. */
  remove(key: string, now: string): Set<string> {
    return new Set([key, ...this.requireFleet().remove(key, now).rederived.map((r) => r.key)]);
  }

  /** The current derivation of one service. */
  result(key: string): ServiceResult | undefined {
    return this.requireFleet().result(key);
  }

  /** The platform-level objects (ClusterSecretStores, the mesh baseline). */
  platformObjects(): KubeObject[] {
    return this.requireFleet().platformObjects();
  }

  /** The derived Gateways (they depend on the services' routes; see Fleet.gatewayObjects). */
  gatewayObjects(): KubeObject[] {
    return this.requireFleet().gatewayObjects();
  }

  /**
   * Namespaces by name with their labels and annotations as the compiler sees them: the Namespace
   * objects with the LatticeTeams' metadata laid on top (src/compiler/platform/team.ts). Empty
   * before the first build.
   */
  namespaces(): Readonly<Record<string, NamespaceMetadata>> {
    return this.fleet?.ctx.namespaces ?? {};
  }

  /** Problems of platform resources (invalid settings, providers, policies, quotas) found at the last build. */
  get problems(): PlatformProblem[] {
    return this.problemList;
  }

  /**
   * Verifies the images of `object` that have no result yet (or whose registry was unavailable).
   * Returns true when a result was added or changed (the service must be derived again).
   */
  async verifyImages(object: Unstructured): Promise<boolean> {
    const verifier = this.verifier;
    if (!verifier) return false;
    const { images } = imagesToVerify([{ object }]);
    const todo = images.filter((i) => {
      const known = this.images.get(i);
      return known === undefined || TRANSIENT_OUTCOMES.has(known.outcome);
    });
    if (todo.length === 0) return false;
    const results = await verifier.verifyAll(todo);
    if (verifier !== this.verifier) return false; // the platform was rebuilt meanwhile: its verifier decides
    let changed = false;
    for (const v of results) {
      const old = this.images.get(v.image);
      if (old === undefined || stableJson(old) !== stableJson(v)) changed = true;
      this.images.set(v.image, v);
      if (v.outcome !== 'Verified' && v.outcome !== 'NotRequired') this.logger.info({ service: serviceKey(object), image: v.image, outcome: v.outcome }, v.message);
    }
    return changed;
  }
}
