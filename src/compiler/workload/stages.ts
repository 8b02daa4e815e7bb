/**
 * The shared workload pipeline's stages: the gates and derivers every kind that runs containers goes
 * through, in order, before the kind wraps the pod template (src/compiler/workload/pod.ts) in its own
 * object. A kind adds its own gates (a quota) and derivers (Deployment, Service, Volcano Job...)
 * around these; it never skips them, so every guarantee (namespace protection, digest pinning and
 * signatures, Cedar authorization, secrets by reference, cloud identity) holds for every kind.
 */
import type { DerivationState } from '../types.ts';
import { protectedNamespaceGate } from './protected.ts';
import { imageGate } from './images.ts';
import { authorizationGate } from './authorization.ts';
import { deriveConfig } from './config.ts';
import { deriveExecAllowLists } from './tetragon.ts';
import { deriveTopology } from './topology.ts';
import { derivePersistentVolumes, volumeGate } from './volumes.ts';
import { deriveBackup } from './backup.ts';

/** A step of a derivation. Stages read the state and append objects, diagnostics and conditions. */
export type Stage = (state: DerivationState) => void;

/**
 * Gates of every workload, run before anything is derived; any error stops the derivation:
 * the namespace may host workloads, images are pinned (and verified where an ImageProvider
 * enforces it), Cedar permits the images, secrets, security overrides and shared volumes, and
 * every shared volume has an owner that consents (volumes.ts).
 */
export const WORKLOAD_GATES: readonly Stage[] = [protectedNamespaceGate, imageGate, authorizationGate, volumeGate];

/**
 * Derivers every workload runs first: configuration and secret wiring (ConfigMaps, ExternalSecrets,
 * the env, files and volumes of each container and sidecar, into `state.pod`), then the
 * PersistentVolumeClaims the workload owns and the pod affinity its ReadWriteOnce claims need, Velero's
 * backup annotations, the Tetragon executable allow-lists (tetragon.ts) and the Volcano PodGroup of
 * `spec.topology` (topology.ts). The pod template reads the result.
 */
export const WORKLOAD_DERIVERS: readonly Stage[] = [deriveConfig, derivePersistentVolumes, deriveBackup, deriveExecAllowLists, deriveTopology];

/** True when the state holds an error diagnostic (the derivation is refused as a whole). */
export function hasErrors(state: Pick<DerivationState, 'diagnostics'>): boolean {
  return state.diagnostics.some((d) => d.severity === 'error');
}
