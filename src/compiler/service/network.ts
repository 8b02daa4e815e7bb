/** The Kubernetes `Service` of a workload that declares ports (ClusterIP, selecting its pods). */
import { selectorLabels } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import type { DerivationState } from '../types.ts';

/** Derives `Service <name>` when `workload.service.ports` is declared. */
export function deriveNetworkService(state: DerivationState): void {
  const ports = Object.entries(state.service.spec.workload.service?.ports ?? {});
  if (ports.length === 0) return;
  const name = state.service.metadata.name;
  state.objects.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: derivedMeta(state, name),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(name),
      ports: ports.map(([pname, p]) => ({ name: pname, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol })),
    },
  });
}
