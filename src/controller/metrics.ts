/**
 * Prometheus metrics of the controller (prom-client), on a registry of its own so that several
 * controllers in one process (tests) do not share counters. Served at `/metrics` in the Prometheus
 * text format 0.0.4.
 *
 * | metric | type | labels | meaning |
 * | --- | --- | --- | --- |
 * | lattice_reconcile_total | counter | kind (service, platform), result (success, error) | reconciles finished |
 * | lattice_reconcile_duration_seconds | histogram | kind | time of one reconcile, derivation to status |
 * | lattice_workqueue_depth | gauge | | keys waiting in the work queue |
 * | lattice_derivations_total | counter | result (success, failure) | service derivations; the success rate is `rate(...{result="success"}) / rate(...)` |
 * | lattice_services | gauge | phase (Pending, Ready, Failed) | LatticeServices by `.status.phase` in the cache (no status yet counts as Pending) |
 * | lattice_leader | gauge | | 1 while this replica holds the Lease |
 *
 * plus prom-client's default process metrics (`process_*`, `nodejs_*`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The controller's metrics. */
export interface ControllerMetrics {
  registry: Registry;
  reconciles: Counter<'kind' | 'result'>;
  reconcileDuration: Histogram<'kind'>;
  queueDepth: Gauge;
  derivations: Counter<'result'>;
  services: Gauge<'phase'>;
  leader: Gauge;
}

/** Phases a LatticeService can be in, as counted by `lattice_services`. */
export const PHASES = ['Pending', 'Ready', 'Failed'] as const;

/**
 * Creates the metrics on a new registry. `servicePhases` is called at scrape time and returns the
 * phase of every cached LatticeService.
 */
export function createMetrics(servicePhases: () => Iterable<string>, opts: { defaultMetrics?: boolean } = {}): ControllerMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const reconciles = new Counter({
    name: 'lattice_reconcile_total',
    help: 'Reconciles finished, by kind of key (service or platform) and result (success or error).',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
  });
  const reconcileDuration = new Histogram({
    name: 'lattice_reconcile_duration_seconds',
    help: 'Duration of one reconcile, from derivation to status write, in seconds.',
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const queueDepth = new Gauge({ name: 'lattice_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [registry] });
  const derivations = new Counter({
    name: 'lattice_derivations_total',
    help: 'Service derivations by result: success (objects derived) or failure (validation, authorization, image verification or another gate failed).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const services = new Gauge({
    name: 'lattice_services',
    help: 'LatticeServices by status phase (Pending includes services without a status yet).',
    labelNames: ['phase'] as const,
    registers: [registry],
    collect() {
      const counts = new Map<string, number>(PHASES.map((p) => [p, 0]));
      for (const phase of servicePhases()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
      for (const [phase, n] of counts) this.set({ phase }, n);
    },
  });
  const leader = new Gauge({ name: 'lattice_leader', help: '1 while this replica holds the leader Lease, else 0.', registers: [registry] });
  for (const result of ['success', 'error']) for (const kind of ['service', 'platform']) reconciles.inc({ kind, result }, 0);
  derivations.inc({ result: 'success' }, 0);
  derivations.inc({ result: 'failure' }, 0);
  leader.set(0);
  return { registry, reconciles, reconcileDuration, queueDepth, derivations, services, leader };
}
