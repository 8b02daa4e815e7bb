/**
 * Network-topology-aware placement (`spec.topology`, the reference's `WorkloadNetworkTopology`):
 * the pods run under the Volcano scheduler in one PodGroup (scheduling.volcano.sh/v1beta1) whose
 * `networkTopology` keeps them within a HyperNode tier (volcano.sh docs, "Network Topology Aware
 * Scheduling": `mode` hard or soft, `highestTierAllowed`). Pods join the group through the
 * `scheduling.k8s.io/group-name` annotation. `minMember` is 1, so a rollout or a scale-up never
 * waits for a whole gang: a service's replicas are independent.
 */
import { derivedMeta } from '../meta.ts';
import type { DerivationState } from '../types.ts';

/** The Volcano scheduler's name (pod `schedulerName`). */
export const VOLCANO_SCHEDULER = 'volcano';
/** Pod annotation naming the Volcano PodGroup a pod belongs to. */
export const TOPOLOGY_GROUP_ANNOTATION = 'scheduling.k8s.io/group-name';

/** Derives the PodGroup of `spec.topology`, named like the workload; nothing without topology. */
export function deriveTopology(state: DerivationState): void {
  const topology = state.service.spec.topology;
  if (topology === undefined) return;
  const name = state.service.metadata.name;
  const networkTopology: Record<string, unknown> = { mode: topology.mode === 'Hard' ? 'hard' : 'soft' };
  if (topology.maxTier !== undefined) networkTopology.highestTierAllowed = topology.maxTier;
  state.objects.push({
    apiVersion: 'scheduling.volcano.sh/v1beta1',
    kind: 'PodGroup',
    metadata: derivedMeta(state, name),
    spec: { minMember: 1, networkTopology },
  });
}
