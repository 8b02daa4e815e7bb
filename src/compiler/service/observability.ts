/**
 * Observability: a `VMServiceScrape` (VictoriaMetrics operator, operator.victoriametrics.com/v1beta1)
 * for every service with a port, scraping the port named `metrics`, else
 * `spec.observability.metrics.port`, else the first port, at `spec.observability.metrics.path`
 * (default /metrics). The scrape selects the service's Service by its `lattice.dev/service` label.
 */
import { LABELS } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import type { DerivationState } from '../types.ts';

/** The name of the port to scrape, or undefined when the service has no ports. */
export function metricsPort(state: DerivationState): string | undefined {
  const spec = state.service.spec;
  const ports = Object.keys(spec.workload.service?.ports ?? {});
  return spec.observability?.metrics?.port ?? (ports.includes('metrics') ? 'metrics' : ports[0]);
}

/** Derives `VMServiceScrape <name>` for a service with ports. */
export function deriveObservability(state: DerivationState): void {
  const port = metricsPort(state);
  if (port === undefined) return;
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
