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

/** Seconds of a Go duration (`1h30m`, `45s`, `500ms`), as validated by the API's `duration`. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]!]!;
  return total;
}

function deployment(state: DerivationState): Deployment {
  const { service } = state;
  const name = service.metadata.name;
  const spec = service.spec;
  const canary = spec.deploy?.strategy === 'canary';
  const strategy: DeploymentStrategy = {
    type: 'RollingUpdate',
    rollingUpdate: canary
      ? { maxUnavailable: CANARY.maxUnavailable, maxSurge: spec.deploy?.canary?.stepWeight !== undefined ? `${spec.deploy.canary.stepWeight}%` : CANARY.maxSurge }
      : { ...ROLLING },
  };
  // The reference's canary.interval is the time between steps: each new pod must stay ready that long.
  const interval = spec.deploy?.canary?.interval;
  const minReadySeconds = spec.deploy?.minReadySeconds ?? (interval !== undefined ? Math.ceil(durationSeconds(interval)) : canary ? CANARY.minReadySeconds : undefined);
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
