/**
 * LatticeQuota: the arithmetic, the usage of each quota across a platform snapshot, and the
 * `QuotaSatisfied` gate.
 *
 * Demand of a service: the requests of one pod (CPU and memory summed over its containers, size
 * profiles resolved; GPUs summed over its resources of type gpu; one pod) times its maximum replicas
 * (`autoscaling.max` when set, else `replicas`). Counting the maximum means a quota holds even when
 * every autoscaler under it is at its ceiling.
 *
 * Who counts as "the other services": every valid LatticeService under the quota in the snapshot
 * except the service being checked, whether or not that other service fails for another reason
 * (a denied policy, an unverified image). Its demand is declared, and counting it regardless keeps the
 * result independent of input order and of the other gates. A service is never counted against
 * itself. Consequence: when the services under a quota together ask for more than it allows, every
 * one of them that asks for some of the exceeded resource fails, each told what the others use; a
 * service asking for none of it (demand 0) is not failed for it.
 */
import { API_VERSION } from '../../api/common.ts';
import { latticeQuotaSchema, limitsAsHard, quotaHardOf, quotaSelectorOf, KIND as QUOTA_KIND, type LatticeQuota, type QuotaHard } from '../../api/latticequota/v1alpha1.ts';
import { podContainers, type LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import type { PlatformSettings } from '../../api/latticeplatform/v1alpha1.ts';
import { parseQuantity } from '../../api/quantity.ts';
import { podRequests } from '../workload/profiles.ts';
import { issuesToDiagnostics } from '../service/validate.ts';
import type { DerivationState, Diagnostic, IndexedService, ServiceInput } from '../types.ts';

/** Type of the status condition the quota gate sets. */
export const QUOTA_CONDITION = 'QuotaSatisfied';
/** Reason of a service that does not fit its quota. */
export const REASON_QUOTA_EXCEEDED = 'QuotaExceeded';
/** Reason of a service that fits every quota covering it. */
export const REASON_WITHIN_QUOTA = 'WithinQuota';

/** The resources a quota limits. */
export const QUOTA_RESOURCES = ['cpu', 'memory', 'gpu', 'pods'] as const;
/** One resource a quota limits. */
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/**
 * An amount of every quota resource in whole units, so that sums are exact: `cpu` in millicores,
 * `memory` in bytes, `gpu` and `pods` as counts.
 */
export type Demand = Record<QuotaResource, number>;

/** What one service asks of its quotas. */
export interface ServiceDemand {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  /** Maximum replicas: `autoscaling.max` when set, else `replicas`. */
  replicas: number;
  /** True when `replicas` is the autoscaling maximum. */
  autoscaled: boolean;
  /** The demand of one pod. */
  perPod: Demand;
  /** `perPod` × `replicas`. */
  total: Demand;
}

/** A quota with the services it covers and their summed demand, for one platform snapshot. */
export interface QuotaUsage {
  name: string;
  quota: LatticeQuota;
  /** The limits in the units of {@link Demand}; a resource the quota does not limit is absent. */
  limits: Partial<Demand>;
  /** Every valid service under the quota, sorted by key. */
  services: ServiceDemand[];
  /** The same services by key, to find one without scanning `services`. */
  byKey: ReadonlyMap<string, ServiceDemand>;
  /** Sum of the services' total demand. */
  used: Demand;
  /** Caps on any single service (the original Lattice's maxPerWorkload), in the units of {@link Demand}. */
  caps?: Partial<Demand>;
}

/** Labels of each namespace, by name, read from `v1 Namespace` objects. */
export type NamespaceLabels = ReadonlyMap<string, Readonly<Record<string, string>>>;

function zero(): Demand {
  return { cpu: 0, memory: 0, gpu: 0, pods: 0 };
}

/** GPUs one pod asks for: the `params.count` of every resource of type gpu. */
function gpusPerPod(service: LatticeService): number {
  let n = 0;
  for (const r of Object.values(service.spec.workload.resources ?? {})) {
    if (r.type !== 'gpu') continue;
    const count = (r.params as { count?: unknown } | undefined)?.count;
    if (typeof count === 'number') n += count;
  }
  return n;
}

/** The demand of a validated service (see the module docs). */
export function serviceDemand(service: LatticeService, settings: Pick<PlatformSettings, 'sizeProfiles'>): ServiceDemand {
  const namespace = service.metadata.namespace ?? 'default';
  const name = service.metadata.name;
  const autoscaled = service.spec.autoscaling !== undefined;
  const replicas = service.spec.autoscaling?.max ?? service.spec.replicas;
  const pod = podRequests(Object.fromEntries(podContainers(service.spec).map((c) => [c.name, c.container])), settings);
  const perPod: Demand = { cpu: pod.milliCpu, memory: pod.memory, gpu: gpusPerPod(service), pods: 1 };
  const total = zero();
  for (const r of QUOTA_RESOURCES) total[r] = perPod[r] * replicas;
  return { key: `${namespace}/${name}`, namespace, name, replicas, autoscaled, perPod, total };
}

/**
 * Whether a quota covers namespace `namespace`: its name is in `selector.namespaces` (when given)
 * and it carries every label of `selector.namespaceLabels` with the same value (when given). An
 * empty selector covers every namespace. A namespace with no Namespace object has no labels. A
 * quota in the original Lattice's form covers what its principal names (`quotaSelectorOf`): a
 * `Lattice::Service` principal only the service `key` (`namespace/name`). A disabled quota covers nothing.
 */
export function quotaCovers(quota: LatticeQuota, namespace: string, namespaceLabels: NamespaceLabels, key?: string): boolean {
  if (!quota.spec.enabled) return false;
  const { namespaces, namespaceLabels: wanted, services } = quotaSelectorOf(quota.spec);
  if (namespaces !== undefined && !namespaces.includes(namespace)) return false;
  if (services !== undefined && (key === undefined || !services.includes(key))) return false;
  if (wanted !== undefined) {
    const labels = namespaceLabels.get(namespace) ?? {};
    for (const [k, v] of Object.entries(wanted)) if (labels[k] !== v) return false;
  }
  return true;
}

/** The limits of `hard` in the units of {@link Demand}. */
export function quotaLimits(hard: QuotaHard): Partial<Demand> {
  const out: Partial<Demand> = {};
  if (hard.cpu !== undefined) out.cpu = Math.round(parseQuantity(hard.cpu) * 1000);
  if (hard.memory !== undefined) out.memory = Math.round(parseQuantity(hard.memory));
  if (hard.gpu !== undefined) out.gpu = hard.gpu;
  if (hard.pods !== undefined) out.pods = hard.pods;
  return out;
}

/**
 * The usage of every quota: which valid services each covers and their summed demand. Services and
 * quotas are sorted by key and name, so the result does not depend on input order.
 */
export function computeQuotaUsage(
  quotas: Iterable<LatticeQuota>,
  services: Iterable<IndexedService>,
  namespaceLabels: NamespaceLabels,
  settings: Pick<PlatformSettings, 'sizeProfiles'>,
): Map<string, QuotaUsage> {
  const demands = [...services].map((s) => serviceDemand(s.service, settings)).sort((a, b) => compare(a.key, b.key));
  const out = new Map<string, QuotaUsage>();
  for (const quota of [...quotas].sort((a, b) => compare(a.metadata.name, b.metadata.name))) {
    const covered = demands.filter((d) => quotaCovers(quota, d.namespace, namespaceLabels, d.key));
    const used = zero();
    for (const d of covered) for (const r of QUOTA_RESOURCES) used[r] += d.total[r];
    const byKey = new Map(covered.map((d) => [d.key, d]));
    const usage: QuotaUsage = { name: quota.metadata.name, quota, limits: quotaLimits(quotaHardOf(quota.spec)), services: covered, byKey, used };
    if (quota.spec.maxPerWorkload !== undefined) usage.caps = quotaLimits(limitsAsHard(quota.spec.maxPerWorkload));
    out.set(quota.metadata.name, usage);
  }
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Formats an amount of a quota resource the way the quota messages write it (`1.5`, `768Mi`, `3`). */
export function formatAmount(resource: QuotaResource, amount: number): string {
  if (resource === 'cpu') {
    const cores = amount / 1000;
    return Number.isInteger(cores) ? String(cores) : String(Number(cores.toFixed(3)));
  }
  if (resource === 'memory') {
    // The shortest exact form with a binary (Ki..Ti) or decimal (k..T) suffix and at most two
    // decimals, the binary one on a tie: 13.5Gi rather than 13824Mi, 2G rather than 1953125Ki.
    let best = String(amount);
    for (const [suffix, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10], ['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) {
      if (amount < size || (amount * 100) % size !== 0) continue;
      const text = `${amount / size}${suffix}`;
      if (text.length < best.length) best = text;
    }
    return best;
  }
  return String(amount);
}

/** `8 CPU`, `32Gi memory`, `1 GPU`, `20 pods`: an amount with its unit, for the limit. */
export function formatLimit(resource: QuotaResource, amount: number): string {
  const text = formatAmount(resource, amount);
  switch (resource) {
    case 'cpu':
      return `${text} CPU`;
    case 'memory':
      return `${text} memory`;
    case 'gpu':
      return `${text} GPU${amount === 1 ? '' : 's'}`;
    case 'pods':
      return `${text} pod${amount === 1 ? '' : 's'}`;
  }
}

/** One way a service does not fit a quota. */
export interface QuotaViolation {
  quota: string;
  resource: QuotaResource;
  /** All in the units of {@link Demand}. */
  limit: number;
  /** Summed demand of the other services under the quota. */
  others: number;
  /** This service's demand. */
  requested: number;
  /** `max(0, limit - others)`. */
  available: number;
  message: string;
}

/**
 * Checks one service against one quota's usage. The service is never counted against itself: the
 * others' usage is the sum over every other service under the quota. A resource the service asks
 * none of is never a violation. Returns one violation per exceeded resource, in the order cpu,
 * memory, gpu, pods, each with the message developers see, for example:
 * `Quota team-payments allows 8 CPU; other services use 6; payments requests 3 (3 replicas × 1); 2 are available. Lower the replicas or requests, or ask the platform team to raise the quota.`
 */
export function checkQuota(demand: ServiceDemand, usage: QuotaUsage, contact: string): QuotaViolation[] {
  const out: QuotaViolation[] = [];
  // The others' usage is the total less this service's own entry: O(1) per service instead of a
  // sum over the quota's services (which made a quota over n services cost O(n²)). Exact: every
  // amount is a whole number of units (see Demand) and the sums stay far below 2^53.
  const own = usage.byKey.get(demand.key);
  const others = zero();
  for (const r of QUOTA_RESOURCES) others[r] = usage.used[r] - (own?.total[r] ?? 0);
  // The original Lattice's maxPerWorkload: a cap on one service, whatever the others use.
  const caps = usage.caps ?? {};
  for (const resource of QUOTA_RESOURCES) {
    const cap = caps[resource];
    const asked = demand.total[resource];
    if (cap === undefined || asked <= cap) continue;
    const f = (n: number): string => formatAmount(resource, n);
    const replicas = `${demand.autoscaled ? 'max ' : ''}${demand.replicas} replica${demand.replicas === 1 ? '' : 's'}`;
    const message =
      `Quota ${usage.name} allows at most ${formatLimit(resource, cap)} for one service (maxPerWorkload); ` +
      `${demand.name} requests ${f(asked)} (${replicas} × ${f(demand.perPod[resource])}). Lower the replicas or requests, or ask ${contact} to raise the cap.`;
    out.push({ quota: usage.name, resource, limit: cap, others: 0, requested: asked, available: cap, message });
  }
  for (const resource of QUOTA_RESOURCES) {
    const limit = usage.limits[resource];
    const requested = demand.total[resource];
    if (limit === undefined || requested === 0 || others[resource] + requested <= limit) continue;
    const available = Math.max(0, limit - others[resource]);
    const f = (n: number): string => formatAmount(resource, n);
    const replicas = `${demand.autoscaled ? 'max ' : ''}${demand.replicas} replica${demand.replicas === 1 ? '' : 's'}`;
    const verb = resource === 'memory' || f(available) === '1' ? 'is' : 'are';
    const message =
      `Quota ${usage.name} allows ${formatLimit(resource, limit)}; other services use ${f(others[resource])}; ` +
      `${demand.name} requests ${f(requested)} (${replicas} × ${f(demand.perPod[resource])}); ${f(available)} ${verb} available. ` +
      `Lower the replicas or requests, or ask ${contact} to raise the quota.`;
    out.push({ quota: usage.name, resource, limit, others: others[resource], requested, available, message });
  }
  return out;
}

/** The quotas covering service `key`, from the context's usage (sorted by quota name). */
export function quotasOf(key: string, usage: ReadonlyMap<string, QuotaUsage> | undefined): QuotaUsage[] {
  return [...(usage?.values() ?? [])].filter((u) => u.byKey.has(key));
}

/**
 * The quota gate. Checks the service against every quota covering it; each exceeded resource is an
 * error on `QuotaSatisfied` (reason `QuotaExceeded`), so nothing is derived. A service under at least
 * one quota and within all of them gets `QuotaSatisfied=True` (reason `WithinQuota`); a service under
 * no quota gets no QuotaSatisfied condition.
 */
export function gateQuota(state: DerivationState): void {
  const covering = quotasOf(state.key, state.ctx.quotaUsage);
  if (covering.length === 0) return;
  const demand = serviceDemand(state.service, state.ctx.settings);
  const path = state.service.spec.autoscaling !== undefined ? ['spec', 'autoscaling', 'max'] : ['spec', 'replicas'];
  let violated = false;
  for (const usage of covering) {
    for (const v of checkQuota(demand, usage, state.ctx.settings.platformContact)) {
      violated = true;
      const d: Diagnostic = { severity: 'error', condition: QUOTA_CONDITION, reason: REASON_QUOTA_EXCEEDED, path: path.join('.'), message: v.message };
      const location = state.input.locate?.(path);
      if (location) d.location = location;
      state.diagnostics.push(d);
    }
  }
  if (violated) return;
  const summary = covering.map((u) => {
    const parts = QUOTA_RESOURCES.filter((r) => u.limits[r] !== undefined).map((r) => `${r === 'cpu' ? 'CPU' : r === 'gpu' ? 'GPUs' : r} ${formatAmount(r, u.used[r])} of ${formatAmount(r, u.limits[r]!)}`);
    return `quota ${u.name} (all its services: ${parts.join(', ')})`;
  });
  state.conditions.set(QUOTA_CONDITION, {
    type: QUOTA_CONDITION,
    status: 'True',
    reason: REASON_WITHIN_QUOTA,
    message: `Within ${summary.join('; ')}.`,
  });
}

/** A LatticeQuota that cannot be used, with why. */
export interface QuotaProblem {
  name: string;
  diagnostics: Diagnostic[];
}

/**
 * Reads LatticeQuota documents: validates each, requires namespace `lattice-system` (quotas are
 * platform resources) and unique names. Invalid ones are reported and not enforced.
 */
export function readQuotas(docs: readonly ServiceInput[]): { quotas: Map<string, LatticeQuota>; problems: QuotaProblem[] } {
  const quotas = new Map<string, LatticeQuota>();
  const problems: QuotaProblem[] = [];
  for (const doc of docs) {
    const name = nameOf(doc.object);
    const parsed = latticeQuotaSchema.safeParse(doc.object);
    if (!parsed.success) {
      problems.push({ name, diagnostics: issuesToDiagnostics(parsed.error.issues, doc) });
      continue;
    }
    if (quotas.has(name)) {
      problems.push({ name, diagnostics: [platformError('DuplicateName', `${QUOTA_KIND} ${name} is declared twice; only the first is enforced. Remove or rename one.`, doc, ['metadata', 'name'])] });
      continue;
    }
    quotas.set(name, parsed.data);
  }
  return { quotas, problems };
}

/** True when `object` is a LatticeQuota document (by apiVersion and kind). */
export function isQuotaDocument(object: unknown): boolean {
  const o = object as { apiVersion?: unknown; kind?: unknown } | null;
  return o?.apiVersion === API_VERSION && o.kind === QUOTA_KIND;
}

function nameOf(object: unknown): string {
  const name = (object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  return typeof name === 'string' ? name : '(unnamed)';
}

function platformError(reason: string, message: string, doc: ServiceInput, path: string[]): Diagnostic {
  const d: Diagnostic = { severity: 'error', condition: 'Validated', reason, message, path: path.join('.') };
  const location = doc.locate?.(path);
  if (location) d.location = location;
  return d;
}

/**
 * The per-quota usage table of the `lattice render` summary: one row per quota and limited resource,
 * with the limit, the summed demand of every valid service under the quota, what is left (or by how
 * much the quota is exceeded) and how many services it covers. Empty when there are no quotas.
 */
export function quotaUsageTable(usages: readonly QuotaUsage[]): string[] {
  if (usages.length === 0) return [];
  const header = ['QUOTA', 'RESOURCE', 'LIMIT', 'USED', 'AVAILABLE', 'SERVICES'];
  const rows: string[][] = [];
  for (const u of usages) {
    for (const r of QUOTA_RESOURCES) {
      const limit = u.limits[r];
      if (limit === undefined) continue;
      const left = limit - u.used[r];
      rows.push([
        u.name,
        r,
        formatAmount(r, limit),
        formatAmount(r, u.used[r]),
        left >= 0 ? formatAmount(r, left) : `exceeded by ${formatAmount(r, -left)}`,
        String(u.services.length),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
