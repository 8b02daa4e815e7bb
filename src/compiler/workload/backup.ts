/**
 * Velero backup annotations on the pod template, from `spec.backup` (src/api/latticeservice/backup.ts
 * cites the Velero documentation for every annotation). Velero reads them from the pods when a
 * Backup runs; nothing else is derived.
 */
import type { DerivationState } from '../types.ts';
import { childName } from '../naming.ts';

/** Velero's pod annotation listing the volumes File System Backup copies (opt-in). */
export const VELERO_BACKUP_VOLUMES = 'backup.velero.io/backup-volumes';
/** Velero's pod annotation listing the volumes File System Backup leaves out (opt-out). */
export const VELERO_BACKUP_VOLUMES_EXCLUDES = 'backup.velero.io/backup-volumes-excludes';

/** The pod volume name config.ts gives a volume resource mounted by a container. */
function podVolumeName(resource: string): string {
  return childName(['shared', resource]);
}

/** Adds the Velero hook and volume annotations of `spec.backup` to the pod template. */
export function deriveBackup(state: DerivationState): void {
  const backup = state.service.spec.backup;
  if (backup === undefined) return;
  const annotations: Record<string, string> = {};
  for (const phase of ['pre', 'post'] as const) {
    const hook = backup.hooks?.[phase]?.[0];
    if (hook === undefined) continue;
    const prefix = `${phase}.hook.backup.velero.io`;
    annotations[`${prefix}/container`] = hook.container;
    annotations[`${prefix}/command`] = JSON.stringify(hook.command);
    if (hook.timeout !== undefined) annotations[`${prefix}/timeout`] = hook.timeout;
    if (hook.onError !== undefined) annotations[`${prefix}/on-error`] = hook.onError;
  }
  const volumes = backup.volumes;
  if (volumes !== undefined) {
    // Only volumes a container mounts are pod volumes; a listed resource nobody mounts has none.
    const mounted = new Set(state.pod.volumes.map((v) => v.name));
    const names = (list: string[] | undefined): string[] => (list ?? []).map(podVolumeName).filter((n) => mounted.has(n));
    if (volumes.defaultPolicy === 'opt-in') {
      const include = names(volumes.include);
      if (include.length > 0) annotations[VELERO_BACKUP_VOLUMES] = include.join(',');
    } else {
      const exclude = names(volumes.exclude);
      if (exclude.length > 0) annotations[VELERO_BACKUP_VOLUMES_EXCLUDES] = exclude.join(',');
    }
  }
  if (Object.keys(annotations).length > 0) state.pod.podAnnotations = { ...state.pod.podAnnotations, ...annotations };
}
