/** Metadata shared by every object derived for one service. */
import { standardLabels } from './naming.ts';
import type { DerivationState, KubeObject } from './types.ts';

/** Namespace of the service (Kubernetes' default when unset). */
export function namespaceOf(state: Pick<DerivationState, 'service'>): string {
  return state.service.metadata.namespace ?? 'default';
}

/** Metadata for a derived object named `name` in the service's namespace, with the standard labels. */
export function derivedMeta(state: Pick<DerivationState, 'service' | 'ctx'>, name: string): KubeObject['metadata'] {
  const namespace = namespaceOf(state);
  return { name, namespace, labels: standardLabels(state.service.metadata.name, state.ctx.settings.partOf ?? namespace) };
}
