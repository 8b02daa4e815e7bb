/**
 * Adoption and health metrics of the platform (prom-client), on the controller's registry next to
 * its own metrics (src/controller/metrics.ts). They answer "is the platform used, and does it work
 * for the teams using it":
 *
 * | metric | type | labels | meaning |
 * | --- | --- | --- | --- |
 * | lattice_platform_services | gauge | team, phase | LatticeServices in the cache by owning team (namespace label lattice.dev/team, `none` without) and status phase |
 * | lattice_first_derivation_total | counter | result (success, failure) | each service's first derivation seen by this controller: did the spec derive on the first try |
 * | lattice_time_to_ready_seconds | histogram | | from a service's creation (`metadata.creationTimestamp`; else when this controller first saw it) to its first Ready |
 * | lattice_escape_hatches | gauge | kind (security-override, host-network, wildcard-caller, public-route), team | escape hatches in the specs of the cached services (src/compiler/score/hatches.ts) |
 *
 * Gauges are computed at scrape time from a snapshot; the counter and the histogram from
 * {@link AdoptionMetrics.observe}, called by the reconciler after each derivation. A service already
 * Ready when this controller first sees it (a restart, a new leader) is not timed and its derivation
 * is not counted as a first try: only what this controller saw from the start counts. State per
 * service is its uid and two flags, dropped by {@link AdoptionMetrics.forget} when the service goes.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LatticeService } from '../api/latticeservice/v1alpha1.ts';
import { parseLatticeService } from '../api/latticeservice/index.ts';
import { ESCAPE_HATCH_KINDS, escapeHatches } from '../compiler/score/hatches.ts';
import type { NamespaceMetadata } from '../policy/index.ts';

/** What the scrape-time gauges read: the cached services and the namespaces' metadata. */
export interface AdoptionSnapshot {
  /** Cached LatticeService objects, as read from the API server. */
  services: readonly unknown[];
  /** Namespaces by name with their labels (team) and annotations. */
  namespaces: Readonly<Record<string, NamespaceMetadata>>;
}

/**
 * Validated services by cached object. The informer cache replaces an object when it changes, so a
 * scrape validates only what changed since the last one instead of every service every time.
 */
const validatedCache = new WeakMap<object, LatticeService | null>();

function validated(object: unknown): LatticeService | undefined {
  if (object === null || typeof object !== 'object') return undefined;
  let service = validatedCache.get(object);
  if (service === undefined) {
    const parsed = parseLatticeService(object);
    service = parsed.success ? parsed.data : null;
    validatedCache.set(object, service);
  }
  return service ?? undefined;
}

/** A service as {@link AdoptionMetrics.observe} needs it. */
export interface ObservedService {
  uid: string;
  /** `metadata.creationTimestamp` (RFC 3339), when set. */
  creationTimestamp?: string;
  /** `status.phase` of the object as cached before this derivation (the previous controller's verdict). */
  previousPhase?: string;
}

/** The team a namespace belongs to (`none` when it has none). */
export function teamOf(namespaces: Readonly<Record<string, NamespaceMetadata>>, namespace: string): string {
  return namespaces[namespace]?.labels?.['lattice.dev/team'] ?? 'none';
}

/** Buckets of lattice_time_to_ready_seconds: from seconds (a spec right first time) to a day (fixed over days). */
export const TIME_TO_READY_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600];

/** The adoption metrics; register once per registry. */
export class AdoptionMetrics {
  readonly firstDerivation: Counter<'result'>;
  readonly timeToReady: Histogram;
  readonly services: Gauge<'team' | 'phase'>;
  readonly escapeHatches: Gauge<'kind' | 'team'>;
  private readonly seen = new Map<string, { firstSeenMs: number; ready: boolean }>();

  /** `snapshot` is read at scrape time; `now` gives milliseconds since the epoch. */
  constructor(registry: Registry, snapshot: () => AdoptionSnapshot, private readonly now: () => number) {
    this.firstDerivation = new Counter({
      name: 'lattice_first_derivation_total',
      help: "Each service's first derivation seen by this controller, by result: success (derived on the first try) or failure.",
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.firstDerivation.inc({ result: 'success' }, 0);
    this.firstDerivation.inc({ result: 'failure' }, 0);
    this.timeToReady = new Histogram({
      name: 'lattice_time_to_ready_seconds',
      help: 'Seconds from a service\'s creation (or first sight by this controller) to its first Ready.',
      buckets: TIME_TO_READY_BUCKETS,
      registers: [registry],
    });
    this.services = new Gauge({
      name: 'lattice_platform_services',
      help: 'LatticeServices on the platform by owning team (namespace label lattice.dev/team; none without) and status phase.',
      labelNames: ['team', 'phase'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const snap = snapshot();
        for (const o of snap.services) {
          const obj = o as { metadata?: { namespace?: string }; status?: { phase?: unknown } };
          const phase = typeof obj.status?.phase === 'string' ? obj.status.phase : 'Pending';
          this.inc({ team: teamOf(snap.namespaces, obj.metadata?.namespace ?? 'default'), phase });
        }
      },
    });
    this.escapeHatches = new Gauge({
      name: 'lattice_escape_hatches',
      help: 'Escape hatches in the specs of the services on the platform (security overrides, host network, wildcard callers, public routes), by kind and team.',
      labelNames: ['kind', 'team'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const snap = snapshot();
        for (const kind of ESCAPE_HATCH_KINDS) this.set({ kind, team: 'none' }, 0);
        for (const o of snap.services) {
          const service = validated(o);
          if (service === undefined) continue;
          const team = teamOf(snap.namespaces, service.metadata.namespace ?? 'default');
          for (const h of escapeHatches(service)) this.inc({ kind: h.kind, team });
        }
      },
    });
  }

  /**
   * Records one derivation of a service: `derived` when objects were derived, `ready` when the new
   * phase is Ready. Counts the first derivation per uid, and times the first Ready.
   */
  observe(service: ObservedService, derived: boolean, ready: boolean): void {
    let state = this.seen.get(service.uid);
    if (state === undefined) {
      const fresh = service.previousPhase === undefined || service.previousPhase === 'Pending';
      const created = service.creationTimestamp !== undefined ? Date.parse(service.creationTimestamp) : NaN;
      state = { firstSeenMs: Number.isNaN(created) ? this.now() : created, ready: !fresh };
      this.seen.set(service.uid, state);
      if (fresh) this.firstDerivation.inc({ result: derived ? 'success' : 'failure' });
    }
    if (ready && !state.ready) {
      state.ready = true;
      this.timeToReady.observe(Math.max(0, (this.now() - state.firstSeenMs) / 1000));
    }
  }

  /** Forgets a deleted service. */
  forget(uid: string): void {
    this.seen.delete(uid);
  }
}
