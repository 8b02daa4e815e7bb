/**
 * A LatticeService's workload: its ServiceAccount and Deployment, wrapping the shared pod template
 * (src/compiler/workload/pod.ts) in a rolling (or canary) Deployment.
 */
import type { Deployment, DeploymentStrategy } from 'kubernetes-types/apps/v1.d.ts';
import { selectorLabels } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import { RELOADER_SECRET_ANNOTATION, envSecretNames, podTemplate, serviceAccount } from '../workload/pod.ts';
import type { DerivationState, KubeObject } from '../types.ts';

/** Rolling update settings (README, "Rollouts"): never below the desired count. */
export const ROLLING = { maxUnavailable: 0, maxSurge: '25%' } as const;
/** Canary: one extra pod at a time, each ready for minReadySeconds before the next. */
export const CANARY = { maxUnavailable: 0, maxSurge: 1, minReadySeconds: 30 } as const;

/** Derives the ServiceAccount and the Deployment; reads the pod wiring built by the config stage. */
export function deriveWorkload(state: DerivationState): void {
  const name = state.service.metadata.name;
  state.objects.push(serviceAccount(state, name));
  state.objects.push(deployment(state) as unknown as KubeObject);
}

function deployment(state: DerivationState): Deployment {
  const { service } = state;
  const name = service.metadata.name;
  const spec = service.spec;
  const canary = spec.deploy?.strategy === 'canary';
  const strategy: DeploymentStrategy = {
    type: 'RollingUpdate',
    rollingUpdate: canary ? { maxUnavailable: CANARY.maxUnavailable, maxSurge: CANARY.maxSurge } : { ...ROLLING },
  };
  const minReadySeconds = spec.deploy?.minReadySeconds ?? (canary ? CANARY.minReadySeconds : undefined);
  const deploymentSpec: NonNullable<Deployment['spec']> = {
    // With autoscaling, the ScaledObject's HPA owns the replica count: leaving the field out keeps
    // the controller's server-side apply from resetting it (see autoscaling.ts).
    ...(spec.autoscaling === undefined ? { replicas: spec.replicas } : {}),
    selector: { matchLabels: selectorLabels(name) },
    strategy,
    template: podTemplate(state, name, { spreadMatchLabelKeys: ['pod-template-hash'] }),
  };
  if (minReadySeconds !== undefined) deploymentSpec.minReadySeconds = minReadySeconds;
  const metadata = derivedMeta(state, name);
  const envSecrets = envSecretNames(state);
  if (envSecrets.length > 0) metadata.annotations = { [RELOADER_SECRET_ANNOTATION]: envSecrets.join(',') };
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec: deploymentSpec };
}
