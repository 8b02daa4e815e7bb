/**
 * The fleet: every service of a platform with its derivation, kept up to date one change at a time.
 *
 * `lattice render` loads a fleet in bulk ({@link Fleet.load}, through `derivePlatform`); the
 * controller keeps one alive and feeds it watch events ({@link Fleet.upsert}, {@link Fleet.remove}).
 * Both derive every service with the same `deriveService` and the same context, so their results
 * are identical.
 *
 * A change re-derives only what it can affect: the changed service and its neighbours in the service
 * graph, i.e. the services that declare it or that it declares, in either direction, including
 * one-sided declarations and wildcard acceptors it declares (src/compiler/graph.ts). Every other
 * service's policies neither name it nor read anything from it, so their results stay as they are.
 * Quotas are the exception to "neighbours only": a service's quota status states the usage of every
 * service under its quota, so a change that moves a quota's usage also re-derives the services under
 * that quota (only when the platform has quotas).
 *
 * Settings, SecretProviders, ImageProviders, quotas or namespace labels changing affect every
 * service: build a new Fleet then.
 */
import { latticeServiceSchema } from '../api/latticeservice/v1alpha1.ts';
import { deriveService } from './pipeline.ts';
import { deriveBaseline } from './baseline.ts';
import { clusterSecretStoreFor } from './secrets.ts';
import { ServiceGraph } from './graph.ts';
import { computeQuotaUsage, QUOTA_RESOURCES, type NamespaceLabels, type QuotaUsage } from './quota.ts';
import type { DerivationContext, IndexedService, KubeObject, ServiceInput, ServiceResult } from './types.ts';

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
  /** The new results of the changed service (unless removed) and of its neighbours, changed one first, then by key. */
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
  private readonly derived = new Map<string, ServiceResult>();
  private readonly namespaceLabels: NamespaceLabels;

  /** An empty fleet over the platform-wide context (settings, providers, quotas, time). */
  constructor(context: FleetContext, options: FleetOptions = {}) {
    this.graph = new ServiceGraph();
    const { services: _services, graph: _graph, quotaUsage: _usage, ...platform } = context as DerivationContext;
    this.ctx = { ...platform, services: this.index, graph: this.graph };
    this.namespaceLabels = options.namespaceLabels ?? new Map();
    this.refreshQuotas();
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
    for (const key of added) this.derive(key);
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
    this.index_(key, input);
    for (const k of this.graph.neighbours(key)) affected.add(k);
    for (const k of this.refreshQuotas()) affected.add(k);
    affected.delete(key);
    return { key, rederived: [this.derive(key), ...this.rederive(affected)] };
  }

  /** Removes one service and re-derives its neighbours; unknown keys change nothing. */
  remove(key: string, now?: string): FleetChange {
    if (now !== undefined) this.ctx.now = now;
    if (!this.inputs.has(key)) return { key, rederived: [] };
    const affected = this.graph.neighbours(key);
    this.inputs.delete(key);
    this.index.delete(key);
    this.derived.delete(key);
    this.graph.delete(key);
    for (const k of this.refreshQuotas()) affected.add(k);
    return { key, rederived: this.rederive(affected) };
  }

  /** The current result of one service. */
  result(key: string): ServiceResult | undefined {
    return this.derived.get(key);
  }

  /** Every current result, in the order the services were first added. */
  results(): ServiceResult[] {
    return [...this.derived.values()];
  }

  /**
   * The platform-level objects: one ClusterSecretStore per SecretProvider, then the baseline
   * (src/compiler/baseline.ts). They depend on the platform context only, not on the services.
   */
  platformObjects(): KubeObject[] {
    return [...[...this.ctx.secretProviders.values()].map(clusterSecretStoreFor), ...deriveBaseline(this.ctx.settings)];
  }

  /**
   * Indexes one input. Validated once here, and the pipeline reuses it; `load` passes
   * `trustValidated` so that an input already validated by a PlatformSnapshot is not validated again,
   * while `upsert` always validates (a changed object may come with a stale `validated`).
   */
  private index_(key: string, input: ServiceInput, trustValidated = false): void {
    const { validated: given, ...rest } = input;
    let service = trustValidated ? given : undefined;
    if (service === undefined) {
      const parsed = latticeServiceSchema.safeParse(input.object);
      if (parsed.success) service = parsed.data;
    }
    this.inputs.set(key, service !== undefined ? { ...rest, validated: service } : rest);
    if (service !== undefined) {
      this.index.set(key, { key, service });
      this.graph.set(key, service);
    } else {
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

  private derive(key: string): ServiceResult {
    const result = deriveService(this.inputs.get(key)!, this.ctx);
    this.derived.set(key, result);
    return result;
  }

  private rederive(keys: Set<string>): ServiceResult[] {
    return [...keys].filter((k) => this.inputs.has(k)).sort().map((k) => this.derive(k));
  }
}
