/**
 * The fleet: every workload of a platform (LatticeServices and the other workload kinds registered in
 * src/compiler/kinds.ts; "service" below means any of them) with its derivation, kept up to date one
 * change at a time.
 *
 * `lattice render` loads a fleet in bulk ({@link Fleet.load}, through `derivePlatform`); the
 * controller keeps one alive and feeds it watch events ({@link Fleet.upsert}, {@link Fleet.remove}).
 * Both derive every service with the same `deriveService` and the same context, so their results
 * are identical.
 *
 * A change re-derives only what it can affect: the changed service and its neighbours in the service
 * graph, i.e. the services that declare it or that it declares, in either direction, including
 * one-sided declarations and wildcard acceptors it declares (src/compiler/mesh/graph.ts). Every other
 * service's policies neither name it nor read anything from it, so their results stay as they are.
 * Quotas are the exception to "neighbours only": a service's quota status states the usage of every
 * service under its quota, so a change that moves a quota's usage also re-derives the services under
 * that quota (only when the platform has quotas). So are claims: services claiming a route host,
 * services sharing a volume, and LatticeModels serving a model name one of them serves (the key
 * that sorts first owns a name) are re-derived together.
 *
 * Name collisions are the other exception (src/compiler/platform/collisions.ts): the fleet indexes every
 * object identity each service derives (and the platform-level objects); a service sharing one with
 * another party is refused with `NameCollision`, and a change that starts or ends a collision also
 * reports the other parties as re-derived.
 *
 * Settings, SecretProviders, ImageProviders, quotas or namespace labels changing affect every
 * service: build a new Fleet then.
 */
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { nameCollision, withErrors } from '../service/pipeline.ts';
import { indexedWorkload, SERVICE_WORKLOAD, workloadKindOf, type WorkloadKind } from '../kinds.ts';
import { KIND as MODEL_KIND, type LatticeModel } from '../../api/latticemodel/v1alpha1.ts';
import { modelNames } from '../model/kthena.ts';
import { ClaimIndex, claimsOf as objectClaimsOf } from './collisions.ts';
import { deriveBaseline } from './baseline.ts';
import { clusterSecretStoreFor, secretStoreBoundary } from '../workload/secrets.ts';
import { addClaims, claimsOf as hostClaimsOf, deriveGateways, removeClaims, type HostClaim } from '../mesh/ingress.ts';
import { ServiceGraph } from '../mesh/graph.ts';
import { computeQuotaUsage, QUOTA_RESOURCES, type NamespaceLabels, type QuotaUsage } from './quota.ts';
import type { DerivationContext, Diagnostic, IndexedService, KubeObject, ServiceInput, ServiceResult } from '../types.ts';

/** The workload kind of a document; LatticeService for anything unregistered (its validation then says what is wrong). */
function kindOf(object: unknown): WorkloadKind {
  return workloadKindOf(object) ?? (SERVICE_WORKLOAD as WorkloadKind);
}

/** The claim-index key of the platform-level objects (a service key always has a "/"). */
const PLATFORM_CLAIMS = '@platform';

/**
 * The platform-wide part of a derivation context: everything but the services, their graph and the
 * quota usage, which the fleet computes. A full context (from `buildContext`) may be passed: those
 * three fields are ignored.
 */
export type FleetContext = Omit<DerivationContext, 'services' | 'graph' | 'quotaUsage'>;

/** Options of a {@link Fleet}. */
export interface FleetOptions {
  /** Labels of each namespace, by name: quotas select namespaces by label. */
  namespaceLabels?: NamespaceLabels;
}

/** What a change re-derived. */
export interface FleetChange {
  /** `namespace/name` of the changed service. */
  key: string;
  /**
   * The new results of the changed service (unless removed) and of its neighbours, changed one first,
   * then by key; then, by key, the services whose name collisions started or ended with the change.
   */
  rederived: ServiceResult[];
}

/**
 * `namespace/name` of a raw LatticeService, read the way the pipeline reads it (namespace
 * `default` when unset, `(unnamed)` without a name), so invalid documents have a key too.
 */
export function documentKey(object: unknown): string {
  const meta = (object as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const namespace = typeof meta?.namespace === 'string' ? meta.namespace : 'default';
  const name = typeof meta?.name === 'string' ? meta.name : '(unnamed)';
  return `${namespace}/${name}`;
}

/**
 * Every service of a platform and its derivation. Not thread-safe and not re-entrant: one change
 * at a time. Results keep the order in which services were first added.
 */
export class Fleet {
  /** The context every derivation reads; its `services` and `graph` are kept by the fleet. */
  readonly ctx: DerivationContext;
  /** The service graph over every known service. */
  readonly graph: ServiceGraph;
  private readonly index = new Map<string, IndexedService>();
  private readonly inputs = new Map<string, ServiceInput>();
  /** The validated document of each valid workload (its kind's `parse`), by key. */
  private readonly values = new Map<string, unknown>();
  private readonly derived = new Map<string, ServiceResult>();
  private readonly namespaceLabels: NamespaceLabels;
  /** Which service (or the platform) claims which object identity: collisions across the fleet. */
  private readonly nameClaims = new ClaimIndex();
  /** Route host claims of every valid service, owner first (the context's `hostClaims`). */
  private readonly hostClaims = new Map<string, HostClaim[]>();
  /** The hosts each service claims, by key. */
  private readonly claimedHosts = new Map<string, string[]>();

  /** An empty fleet over the platform-wide context (settings, providers, quotas, time). */
  constructor(context: FleetContext, options: FleetOptions = {}) {
    this.graph = new ServiceGraph();
    const { services: _services, graph: _graph, quotaUsage: _usage, ...platform } = context as DerivationContext;
    this.ctx = { ...platform, services: this.index, graph: this.graph, hostClaims: this.hostClaims };
    this.namespaceLabels = options.namespaceLabels ?? new Map();
    this.refreshQuotas();
    this.nameClaims.set(PLATFORM_CLAIMS, objectClaimsOf(this.platformObjects()));
  }

  /** Number of services (valid or not). */
  get size(): number {
    return this.inputs.size;
  }

  /**
   * Adds many services at once and derives them all: the graph is complete before the first
   * derivation, so each service is derived exactly once. The first document of a key wins; the
   * later ones are returned as duplicates and not derived. An input's `validated`, when set (by
   * snapshotPlatform, from the same object), is used as is.
   */
  load(inputs: readonly ServiceInput[]): { duplicates: ServiceInput[] } {
    const duplicates: ServiceInput[] = [];
    const added: string[] = [];
    for (const input of inputs) {
      const key = documentKey(input.object);
      if (this.inputs.has(key)) {
        duplicates.push(input);
        continue;
      }
      this.index_(key, input, true);
      added.push(key);
    }
    this.refreshQuotas();
    for (const key of added) this.derive(key, new Set());
    return { duplicates };
  }

  /**
   * Adds or replaces one service and re-derives it and its neighbours (before and after the change).
   * `now`, when given, becomes the time written on condition transitions from here on.
   */
  upsert(input: ServiceInput, now?: string): FleetChange {
    if (now !== undefined) this.ctx.now = now;
    const key = documentKey(input.object);
    const affected = this.graph.neighbours(key);
    for (const k of this.claimantsOf(key)) affected.add(k);
    for (const k of this.volumePeersOf(key)) affected.add(k);
    for (const k of this.modelPeersOf(key)) affected.add(k);
    this.index_(key, input);
    for (const k of this.graph.neighbours(key)) affected.add(k);
    for (const k of this.claimantsOf(key)) affected.add(k);
    for (const k of this.volumePeersOf(key)) affected.add(k);
    for (const k of this.modelPeersOf(key)) affected.add(k);
    for (const k of this.refreshQuotas()) affected.add(k);
    affected.delete(key);
    const collided = new Set<string>();
    this.derive(key, collided);
    const rederived = this.rederive(affected, collided);
    return { key, rederived: [key, ...rederived, ...this.extra(collided, new Set([key, ...rederived]))].map((k) => this.result(k)!) };
  }

  /** Removes one service and re-derives its neighbours; unknown keys change nothing. */
  remove(key: string, now?: string): FleetChange {
    if (now !== undefined) this.ctx.now = now;
    if (!this.inputs.has(key)) return { key, rederived: [] };
    const affected = this.graph.neighbours(key);
    for (const k of this.claimantsOf(key)) affected.add(k);
    for (const k of this.volumePeersOf(key)) affected.add(k);
    for (const k of this.modelPeersOf(key)) affected.add(k);
    this.unclaim(key);
    this.inputs.delete(key);
    this.values.delete(key);
    this.index.delete(key);
    this.derived.delete(key);
    this.graph.delete(key);
    const collided = this.nameClaims.set(key, []);
    for (const k of this.refreshQuotas()) affected.add(k);
    const rederived = this.rederive(affected, collided);
    return { key, rederived: [...rederived, ...this.extra(collided, new Set(rederived))].map((k) => this.result(k)!) };
  }

  /**
   * The current result of one service: its derivation, or, when one of its objects has the identity
   * of another service's (or a platform object's), that derivation refused with `NameCollision`, one
   * error per other party naming the shared objects and where the other party is declared.
   */
  result(key: string): ServiceResult | undefined {
    const raw = this.derived.get(key);
    if (!raw) return undefined;
    const conflicts = this.nameClaims.conflicts(key);
    if (conflicts.length === 0) return raw;
    const byOther = new Map<string, string[]>();
    for (const c of conflicts) for (const o of c.others) byOther.set(o.key, [...(byOther.get(o.key) ?? []), c.description]);
    return withErrors(raw, [...byOther].sort(([a], [b]) => (a < b ? -1 : 1)).map(([other, shared]) => this.collision(key, other, shared)), this.ctx.now);
  }

  /** Every current result, in the order the services were first added. */
  results(): ServiceResult[] {
    return [...this.derived.keys()].map((k) => this.result(k)!);
  }

  private collision(key: string, other: string, shared: string[]): Diagnostic {
    let who: string;
    if (other === PLATFORM_CLAIMS) {
      who = "the platform's own objects (the mesh baseline, ClusterSecretStores, the secret store boundary)";
    } else {
      const at = this.inputs.get(other)?.locate?.(['metadata', 'name']);
      who = `${kindOf(this.inputs.get(other)?.object).kind} ${other}${at ? ` (${at.file}:${at.line}:${at.column})` : ''}`;
    }
    return nameCollision(
      `${shared.join(' and ')} ${shared.length === 1 ? 'is' : 'are'} also derived by ${who}. ` +
        'Derived names join the service, container and resource names with "-" (service a with resource b-c and service a-b with resource c meet), and two objects with one name would overwrite each other, so neither service is derived. ' +
        'Rename a container, resource or service on one side.',
      this.inputs.get(key)?.locate?.(['metadata', 'name']),
    );
  }

  /** Keys of `keys` that are services of this fleet and not in `done`, sorted. */
  private extra(keys: Set<string>, done: Set<string>): string[] {
    return [...keys].filter((k) => k !== PLATFORM_CLAIMS && !done.has(k) && this.derived.has(k)).sort();
  }

  /**
   * The platform-level objects: one ClusterSecretStore per SecretProvider, the secret store boundary
   * (src/compiler/workload/secrets.ts), the baseline (src/compiler/platform/baseline.ts), then the Gateways. All but the
   * Gateways depend on the platform context only, not on the services.
   */
  platformObjects(): KubeObject[] {
    const providers = [...this.ctx.secretProviders.values()];
    return [
      ...providers.map(clusterSecretStoreFor),
      ...secretStoreBoundary(providers.map((p) => p.metadata.name), this.ctx.settings.externalSecretWriters),
      ...deriveBaseline(this.ctx.settings),
      ...this.gatewayObjects(),
    ];
  }

  /**
   * The Gateways (src/compiler/mesh/ingress.ts, deriveGateways): a listener per host of every service
   * whose derivation succeeded, so they change with the services, unlike the other platform objects.
   */
  gatewayObjects(): KubeObject[] {
    const routed: LatticeService[] = [];
    for (const key of [...this.claimedHosts.keys()].sort()) {
      const result = this.derived.get(key);
      const service = this.index.get(key)?.service;
      if (service && result && result.objects.length > 0) routed.push(service);
    }
    return deriveGateways(this.ctx.settings, routed);
  }

  /** Every service claiming a host that service `key` claims (itself included). */
  /**
   * The services of `key`'s namespace that name one of its volume ids (owner and consumers of a
   * shared volume): a change to an owner's allowedConsumers or access mode changes its consumers'
   * derivations, and a consumer appearing changes nothing of the owner's, but re-deriving both is cheap.
   */
  private volumePeersOf(key: string): Set<string> {
    const out = new Set<string>();
    const me = this.index.get(key)?.service;
    if (!me) return out;
    const namespace = me.metadata.namespace ?? 'default';
    const ids = new Set(Object.values(me.spec.workload.resources ?? {}).filter((r) => r.type === 'volume' && r.id !== undefined).map((r) => r.id!));
    if (ids.size === 0) return out;
    for (const [k, { service }] of this.index) {
      if (k === key || (service.metadata.namespace ?? 'default') !== namespace) continue;
      if (Object.values(service.spec.workload.resources ?? {}).some((r) => r.type === 'volume' && r.id !== undefined && ids.has(r.id))) out.add(k);
    }
    return out;
  }

  /**
   * The other LatticeModels serving a model name `key` serves (one owns each name: the key that sorts
   * first, src/compiler/model/kthena.ts), so that a change of who claims a name re-derives them.
   */
  private modelPeersOf(key: string): Set<string> {
    const out = new Set<string>();
    const me = this.index.get(key);
    if (me?.kind !== MODEL_KIND) return out;
    const names = new Set(modelNames(me.value as LatticeModel));
    if (names.size === 0) return out;
    for (const [k, other] of this.index) {
      if (k !== key && other.kind === MODEL_KIND && modelNames(other.value as LatticeModel).some((n) => names.has(n))) out.add(k);
    }
    return out;
  }

  private claimantsOf(key: string): Set<string> {
    const out = new Set<string>();
    for (const host of this.claimedHosts.get(key) ?? []) for (const c of this.hostClaims.get(host) ?? []) out.add(c.key);
    return out;
  }

  private unclaim(key: string): void {
    removeClaims(this.hostClaims, key, this.claimedHosts.get(key) ?? []);
    this.claimedHosts.delete(key);
  }

  /**
   * Indexes one input. Validated once here, and the pipeline reuses it; `load` passes
   * `trustValidated` so that an input already validated by a PlatformSnapshot is not validated again,
   * while `upsert` always validates (a changed object may come with a stale `validated`).
   */
  private index_(key: string, input: ServiceInput, trustValidated = false): void {
    const { validated: given, ...rest } = input;
    const kind = kindOf(input.object);
    let value: unknown = trustValidated && kind === SERVICE_WORKLOAD ? given : undefined;
    if (value === undefined) value = kind.parse(input.object);
    this.inputs.set(key, value !== undefined && kind === SERVICE_WORKLOAD ? { ...rest, validated: value as LatticeService } : rest);
    this.unclaim(key);
    if (value !== undefined) {
      const entry = indexedWorkload(kind, value, key);
      const service = entry.service;
      this.values.set(key, value);
      const claims = hostClaimsOf(key, service, input.locate);
      addClaims(this.hostClaims, claims);
      if (claims.length > 0) this.claimedHosts.set(key, claims.map(([host]) => host));
      this.index.set(key, entry);
      this.graph.set(key, service);
    } else {
      this.values.delete(key);
      this.index.delete(key);
      this.graph.set(key, null);
    }
  }

  /**
   * Recomputes the usage of every quota (when the platform has quotas) and returns the services
   * under each quota whose usage changed, before or after: their QuotaSatisfied status reads it.
   */
  private refreshQuotas(): Set<string> {
    const affected = new Set<string>();
    const quotas = this.ctx.quotas;
    if (quotas === undefined || quotas.size === 0) return affected;
    const before = this.ctx.quotaUsage;
    const after = computeQuotaUsage(quotas.values(), this.index.values(), this.namespaceLabels, this.ctx.settings);
    this.ctx.quotaUsage = after;
    // Same services with the same demand, compared entry by entry (no per-change strings).
    const same = (a: QuotaUsage | undefined, b: QuotaUsage): boolean =>
      a !== undefined && a.services.length === b.services.length &&
      a.services.every((d, i) => { const e = b.services[i]!; return e.key === d.key && QUOTA_RESOURCES.every((r) => e.total[r] === d.total[r]); });
    for (const [name, usage] of after) {
      const old = before?.get(name);
      if (same(old, usage)) continue;
      for (const d of usage.services) affected.add(d.key);
      for (const d of old?.services ?? []) affected.add(d.key);
    }
    return affected;
  }

  /** Derives `key`; adds to `collided` the services whose collisions with it changed. */
  private derive(key: string, collided: Set<string>): void {
    const input = this.inputs.get(key)!;
    const result = kindOf(input.object).derive(input, this.values.get(key), this.ctx);
    this.derived.set(key, result);
    for (const k of this.nameClaims.set(key, objectClaimsOf(result.objects))) collided.add(k);
  }

  /** Derives `keys` again (those still present), sorted; returns them. */
  private rederive(keys: Set<string>, collided: Set<string>): string[] {
    const todo = [...keys].filter((k) => this.inputs.has(k)).sort();
    for (const k of todo) this.derive(k, collided);
    return todo;
  }
}
