/**
 * Availability: a `PodDisruptionBudget` (policy/v1) for services with more than one replica, keeping
 * `replicas - 1` pods up during voluntary disruptions (node drains, upgrades). A single-replica
 * service gets none: a budget of 0 would block every drain without protecting anything.
 * Unhealthy pods may always be evicted (`unhealthyPodEvictionPolicy: AlwaysAllow`), so a broken
 * rollout never blocks a node drain.
 */
import { selectorLabels } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import type { DerivationState } from '../types.ts';

/** The minimum number of pods of the service (`replicas`, the autoscaling minimum). */
export function minimumReplicas(state: DerivationState): number {
  return state.service.spec.replicas;
}

/** Derives `PodDisruptionBudget <name>` when the service runs more than one pod. */
export function deriveAvailability(state: DerivationState): void {
  const replicas = minimumReplicas(state);
  if (replicas <= 1) return;
  const name = state.service.metadata.name;
  state.objects.push({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: derivedMeta(state, name),
    spec: {
      minAvailable: replicas - 1,
      selector: { matchLabels: selectorLabels(name) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}
