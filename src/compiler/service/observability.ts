/**
 * Observability: a `VMServiceScrape` (VictoriaMetrics operator, operator.victoriametrics.com/v1beta1)
 * for every service with a port, scraping the port named `metrics`, else
 * `spec.observability.metrics.port`, else the first port, at `spec.observability.metrics.path`
 * (default /metrics). The scrape selects the service's Service by its `lattice.dev/service` label.
 */
import { LABELS } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import type { DerivationState, KubeObject } from '../types.ts';

/** The name of the port to scrape, or undefined when the service has no ports. */
export function metricsPort(state: DerivationState): string | undefined {
  const spec = state.service.spec;
  const ports = Object.keys(spec.workload.service?.ports ?? {});
  return spec.observability?.metrics?.port ?? (ports.includes('metrics') ? 'metrics' : ports[0]);
}

/**
 * The recording rules of `observability.metrics.mappings`, as a `VMRule <name>-metrics`
 * (operator.victoriametrics.com/v1beta1, evaluated by VMAlert): one rule `lattice:<name>:<key>` per
 * mapping, its query with `$SELECTORS` replaced by the selector of the service's series
 * (`namespace="<namespace>",service="<name>"`: the labels the VictoriaMetrics operator puts on series
 * scraped through a VMServiceScrape, after the Service they came from). Keys are sorted.
 */
function mappingsRule(state: DerivationState): KubeObject | undefined {
  const mappings = state.service.spec.observability?.metrics?.mappings;
  if (mappings === undefined || Object.keys(mappings).length === 0) return undefined;
  const name = state.service.metadata.name;
  const namespace = state.service.metadata.namespace ?? 'default';
  const selectors = `namespace="${namespace}",service="${name}"`;
  return {
    apiVersion: 'operator.victoriametrics.com/v1beta1',
    kind: 'VMRule',
    metadata: derivedMeta(state, `${name}-metrics`),
    spec: {
      groups: [{
        name: `lattice-${namespace}-${name}`,
        rules: Object.keys(mappings).sort().map((key) => ({
          record: `lattice:${name.replaceAll('-', '_')}:${key}`,
          expr: mappings[key]!.replaceAll('$SELECTORS', selectors),
          labels: { namespace, service: name },
        })),
      }],
    },
  };
}

/** Derives `VMServiceScrape <name>` for a service with ports (and the VMRule of its metric mappings). */
export function deriveObservability(state: DerivationState): void {
  const port = metricsPort(state);
  if (port === undefined) return;
  const rule = mappingsRule(state);
  if (rule) state.objects.push(rule);
  const name = state.service.metadata.name;
  state.objects.push({
    apiVersion: 'operator.victoriametrics.com/v1beta1',
    kind: 'VMServiceScrape',
    metadata: derivedMeta(state, name),
    spec: {
      selector: { matchLabels: { [LABELS.service]: name, [LABELS.managedBy]: 'lattice' } },
      endpoints: [{ port, path: state.service.spec.observability?.metrics?.path ?? '/metrics' }],
    },
  });
}
