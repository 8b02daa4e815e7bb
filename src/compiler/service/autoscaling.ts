/**
 * Autoscaling: a KEDA `ScaledObject` (keda.sh/v1alpha1) for a service with `spec.autoscaling`,
 * scaling its Deployment between `spec.replicas` (KEDA `minReplicaCount`) and `autoscaling.max`
 * (`maxReplicaCount`). KEDA creates and drives a HorizontalPodAutoscaler from it.
 *
 * Triggers (KEDA docs, "ScaledObject specification" and the cpu, memory and prometheus scalers):
 * - `cpu` / `memory`: the resource scalers with the trigger-level `metricType: Utilization` and
 *   `metadata.value` the target percentage of the pods' requests (the deprecated `metadata.type` is
 *   not written). Needs the Kubernetes Metrics Server. Every container has a CPU and memory request
 *   (the schema and the size profiles guarantee it), which Utilization needs.
 * - any other name: a Prometheus metric, read with the `prometheus` scaler from the platform's
 *   Prometheus-compatible query address (LatticePlatform `spec.prometheusAddress`). The query sums
 *   the metric over the service's pods, selected by the `namespace` and `service` labels that
 *   Lattice's VMServiceScrape attaches to every sample it scrapes; a counter (a name ending in
 *   `_total`, the Prometheus naming convention) is turned into a per-second rate over 2 minutes
 *   first. The trigger uses `metricType: AverageValue` with `threshold` = the target: the HPA then
 *   divides the sum by the current number of pods and compares it with the target, so the target
 *   reads as the value per pod (desired pods = ceil(sum / target)).
 * - no metrics: cpu at 80%.
 *
 * The Deployment derived for an autoscaled service leaves `spec.replicas` out (workload.ts), so the
 * controller's server-side apply never takes the field back from the HPA, and its
 * PodDisruptionBudget follows the minimum (availability.ts).
 */
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import type { PlatformSettings } from '../../api/latticeplatform/v1alpha1.ts';
import { derivedMeta, namespaceOf } from '../meta.ts';
import type { DerivationState } from '../types.ts';

/** The metric and target used when `autoscaling.metrics` is omitted. */
export const DEFAULT_METRIC = { metric: 'cpu', target: 80 } as const;

/** Window of the rate taken over a counter metric. */
export const COUNTER_RATE_WINDOW = '2m';

/** Condition type of a platform capability a service needs but the platform lacks. */
export const PLATFORM_CONDITION = 'PlatformSupported';

/** One KEDA trigger as derived. */
export interface KedaTrigger {
  type: string;
  metricType: 'Utilization' | 'AverageValue';
  metadata: Record<string, string>;
  name?: string;
}

/** True for the metrics KEDA's resource scalers handle (cpu, memory). */
export function isResourceMetric(metric: string): metric is 'cpu' | 'memory' {
  return metric === 'cpu' || metric === 'memory';
}

/**
 * The PromQL query for metric `metric` of service `name` in `namespace`: the sum over its pods,
 * a rate for counters (`_total`). Names are validated against the Prometheus name grammar by the
 * schema, and namespace and service names are DNS labels, so nothing here needs escaping.
 */
export function prometheusQuery(metric: string, namespace: string, name: string): string {
  const selector = `${metric}{namespace="${namespace}",service="${name}"}`;
  return metric.endsWith('_total') ? `sum(rate(${selector}[${COUNTER_RATE_WINDOW}]))` : `sum(${selector})`;
}

/** Formats a target for KEDA metadata (a string): `80`, `0.5`. */
function targetText(n: number): string {
  return String(n);
}

/**
 * The triggers of an autoscaled service, in the order of `autoscaling.metrics` (cpu at 80% when
 * none). `prometheusAddress` is required when any metric is a Prometheus metric.
 */
export function kedaTriggers(service: LatticeService, prometheusAddress: string | undefined): KedaTrigger[] {
  const metrics = service.spec.autoscaling?.metrics ?? [DEFAULT_METRIC];
  const namespace = service.metadata.namespace ?? 'default';
  return metrics.map((m): KedaTrigger => {
    if (isResourceMetric(m.metric)) return { type: m.metric, metricType: 'Utilization', metadata: { value: targetText(m.target) } };
    const trigger: KedaTrigger = {
      type: 'prometheus',
      metricType: 'AverageValue',
      metadata: {
        serverAddress: prometheusAddress ?? '',
        query: prometheusQuery(m.metric, namespace, service.metadata.name),
        threshold: targetText(m.target),
      },
    };
    // KEDA names the trigger's metrics after `name` (default: the trigger type, the same for every
    // Prometheus trigger), so each one is named after its metric.
    const name = m.metric.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
    return name === '' ? trigger : { type: trigger.type, name, metricType: trigger.metricType, metadata: trigger.metadata };
  });
}

/** The ScaledObject of an autoscaled service (or undefined without `spec.autoscaling`). */
export function scaledObject(state: Pick<DerivationState, 'service' | 'ctx'>): Record<string, unknown> | undefined {
  const { service } = state;
  const autoscaling = service.spec.autoscaling;
  if (autoscaling === undefined) return undefined;
  const name = service.metadata.name;
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: derivedMeta(state, name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicaCount: service.spec.replicas,
      maxReplicaCount: autoscaling.max,
      triggers: kedaTriggers(service, state.ctx.settings.prometheusAddress),
    },
  };
}

/** The Prometheus metrics a service scales on (none without autoscaling). */
export function prometheusMetrics(service: LatticeService): string[] {
  return (service.spec.autoscaling?.metrics ?? []).map((m) => m.metric).filter((m) => !isResourceMetric(m));
}

/**
 * Derives `ScaledObject <name>` for a service with `spec.autoscaling`. A Prometheus metric on a
 * platform without `prometheusAddress` is an error (condition PlatformSupported, reason
 * PrometheusNotConfigured): the service cannot scale as declared, and silently scaling on something
 * else would be worse.
 */
export function deriveAutoscaling(state: DerivationState): void {
  const object = scaledObject(state);
  if (object === undefined) return;
  const missing = prometheusMetrics(state.service);
  if (missing.length > 0 && !hasPrometheus(state.ctx.settings)) {
    const i = (state.service.spec.autoscaling?.metrics ?? []).findIndex((m) => !isResourceMetric(m.metric));
    const path = ['spec', 'autoscaling', 'metrics', i, 'metric'];
    const d: DerivationState['diagnostics'][number] = {
      severity: 'error',
      condition: PLATFORM_CONDITION,
      reason: 'PrometheusNotConfigured',
      path: `spec.autoscaling.metrics[${i}].metric`,
      message: `autoscaling on ${missing.join(', ')} in namespace ${namespaceOf(state)} needs the platform's Prometheus-compatible query address (LatticePlatform spec.prometheusAddress), which is not set: ask ${state.ctx.settings.platformContact} to set it, or scale on cpu or memory`,
    };
    const location = state.input.locate?.(path);
    if (location) d.location = location;
    state.diagnostics.push(d);
    return;
  }
  state.objects.push(object as DerivationState['objects'][number]);
}

function hasPrometheus(settings: PlatformSettings): boolean {
  return settings.prometheusAddress !== undefined && settings.prometheusAddress !== '';
}
