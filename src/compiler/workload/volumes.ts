/**
 * Persistent volumes of a workload (src/api/latticeservice/volumes.ts says which role a volume
 * resource has): the PersistentVolumeClaims a service owns, the owner's consent for services that
 * mount its shared volume, and the scheduling a ReadWriteOnce claim needs.
 *
 * ReadWriteOnce (kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes): "the volume
 * can be mounted as read-write by a single node. ReadWriteOnce access mode still can allow multiple
 * pods to access the volume when the pods are running on the same node." So every pod mounting a
 * ReadWriteOnce claim must run on the node where it is attached:
 * - the owner's pods get a required pod affinity to the owner's own pods (`kubernetes.io/hostname`),
 *   so a rolling update starts the new pod beside the old one instead of on a node where the claim
 *   cannot attach (a Multi-Attach error that would stall the rollout). The first pod schedules
 *   anywhere: the scheduler lets a pod that matches its own affinity term start when no pod matches
 *   yet (kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#inter-pod-affinity-and-anti-affinity);
 * - the owner's pods carry the label `lattice.dev/volume-owner-<id>: "true"` and consumers of the
 *   shared id get a required pod affinity to it (the original Lattice's label and rule);
 * - more than one pod per service is refused at validation for owners, and here for consumers: the
 *   pods would all be pinned to one node, which is not what replicas promise.
 *
 * The claims themselves are never deleted by Lattice (src/controller/resources.ts `retained`).
 */
import type { PersistentVolumeClaim, PodAffinityTerm } from 'kubernetes-types/core/v1.d.ts';
import { claimName, consents, volumeRole, type VolumeParams } from '../../api/latticeservice/volumes.ts';
import type { LatticeService, WorkloadResource } from '../../api/latticeservice/v1alpha1.ts';
import { selectorLabels } from '../naming.ts';
import { derivedMeta, namespaceOf } from '../meta.ts';
import type { DerivationContext, DerivationState, KubeObject } from '../types.ts';

/** Condition written by the volume gate. */
export const VOLUMES_RESOLVED = 'VolumesResolved';

/** Pod label marking the owner of a shared ReadWriteOnce volume (the original Lattice's prefix). */
export const VOLUME_OWNER_LABEL_PREFIX = 'lattice.dev/volume-owner-';

/** A service owning a shared volume id. */
export interface VolumeOwner {
  /** `<namespace>/<name>`. */
  key: string;
  service: LatticeService;
  /** The owner's resource name of the volume. */
  resource: string;
  params: VolumeParams;
}

/** The services of the platform that own shared volume `id` in `namespace` (normally one). */
export function volumeOwners(ctx: Pick<DerivationContext, 'services'>, namespace: string, id: string): VolumeOwner[] {
  const out: VolumeOwner[] = [];
  for (const { key, service } of ctx.services.values()) {
    if ((service.metadata.namespace ?? 'default') !== namespace) continue;
    for (const [resource, r] of Object.entries(service.spec.workload.resources ?? {})) {
      if (r.type === 'volume' && r.id === id && volumeRole(r) === 'owner') out.push({ key, service, resource, params: (r.params ?? {}) as VolumeParams });
    }
  }
  return out;
}

function volumeResources(service: LatticeService): Array<[string, WorkloadResource]> {
  return Object.entries(service.spec.workload.resources ?? {}).filter(([, r]) => r.type === 'volume');
}

/**
 * The volume gate: every volume naming another service's id must find exactly one owner in its
 * namespace that lists this service in `allowedConsumers` (owner consent; the Cedar `AccessVolume`
 * permit is asked by the authorization gate), and a consumer of a ReadWriteOnce volume runs one pod.
 */
export function volumeGate(state: DerivationState): void {
  const namespace = namespaceOf(state);
  const name = state.service.metadata.name;
  const maxReplicas = Math.max(state.service.spec.replicas, state.service.spec.autoscaling?.max ?? 0);
  for (const [resource, r] of volumeResources(state.service)) {
    if (volumeRole(r) !== 'consumer' || r.id === undefined) continue;
    const path = `spec.workload.resources.${resource}.id`;
    const fail = (reason: string, message: string): void => {
      const d: DerivationState['diagnostics'][number] = { severity: 'error', condition: VOLUMES_RESOLVED, reason, path, message };
      if (state.input.locate) d.location = state.input.locate(['spec', 'workload', 'resources', resource, 'id']);
      state.diagnostics.push(d);
    };
    const owners = volumeOwners(state.ctx, namespace, r.id).filter((o) => o.key !== state.key);
    if (owners.length === 0) {
      fail('VolumeNotFound', `volume ${resource} mounts the shared volume id ${r.id}, but no service in namespace ${namespace} owns it (a volume resource with id: ${r.id} and params.size). Declare it on the owning service, or give this volume params.size to own it here.`);
      continue;
    }
    if (owners.length > 1) {
      fail('VolumeOwnerConflict', `volume id ${r.id} is owned by ${owners.length} services (${owners.map((o) => o.key).join(', ')}); a shared volume has one owner: remove params.size from all but one of them.`);
      continue;
    }
    const owner = owners[0]!;
    if (!consents(owner.params.allowedConsumers, namespace, namespace, name)) {
      fail('VolumeConsentMissing', `volume ${resource} mounts ${r.id}, owned by ${owner.key}, which does not list this service in params.allowedConsumers of its resource ${owner.resource}. The owner decides who shares its data: ask its team to add "${name}" there.`);
      continue;
    }
    if ((owner.params.accessMode ?? 'ReadWriteOnce') === 'ReadWriteOnce' && maxReplicas > 1) {
      fail('ReadWriteOnceReplicas', `volume ${resource} mounts ${r.id}, a ReadWriteOnce volume (owned by ${owner.key}): it attaches to one node, so all ${maxReplicas} pods of this service would have to run on the owner's node. Run 1 replica, or have the owner use accessMode: ReadWriteMany with a storage class that supports it.`);
    }
  }
  if (!state.diagnostics.some((d) => d.condition === VOLUMES_RESOLVED) && volumeResources(state.service).some(([, r]) => volumeRole(r) !== 'local')) {
    state.conditions.set(VOLUMES_RESOLVED, { type: VOLUMES_RESOLVED, status: 'True', reason: 'Resolved', message: 'Every persistent volume is owned here or shared with this service by its owner.' });
  }
}

/**
 * Derives the PersistentVolumeClaim of each volume the service owns (`params.size`; named by
 * {@link claimName}), and the pod labels and affinity of ReadWriteOnce claims (see the module
 * comment). Mounts are wired by config.ts.
 */
export function derivePersistentVolumes(state: DerivationState): void {
  const namespace = namespaceOf(state);
  const name = state.service.metadata.name;
  const terms: PodAffinityTerm[] = [];
  const labels: Record<string, string> = {};
  let selfAffinity = false;
  for (const [resource, r] of volumeResources(state.service)) {
    const role = volumeRole(r);
    if (role === 'owner') {
      const params = (r.params ?? {}) as VolumeParams;
      const mode = params.accessMode ?? 'ReadWriteOnce';
      const spec: NonNullable<PersistentVolumeClaim['spec']> = { accessModes: [mode], resources: { requests: { storage: params.size! } } };
      if (params.storageClass !== undefined) spec.storageClassName = params.storageClass;
      const pvc: PersistentVolumeClaim & KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: derivedMeta(state, claimName(name, resource, r)), spec };
      state.objects.push(pvc);
      if (mode === 'ReadWriteOnce') {
        selfAffinity = true;
        if (r.id !== undefined) labels[`${VOLUME_OWNER_LABEL_PREFIX}${r.id}`] = 'true';
      }
    } else if (role === 'consumer' && r.id !== undefined) {
      const owner = volumeOwners(state.ctx, namespace, r.id).find((o) => o.key !== state.key);
      if (owner && (owner.params.accessMode ?? 'ReadWriteOnce') === 'ReadWriteOnce') {
        terms.push({ labelSelector: { matchLabels: { [`${VOLUME_OWNER_LABEL_PREFIX}${r.id}`]: 'true' } }, topologyKey: 'kubernetes.io/hostname' });
      }
    }
  }
  if (selfAffinity) terms.unshift({ labelSelector: { matchLabels: selectorLabels(name) }, topologyKey: 'kubernetes.io/hostname' });
  if (terms.length > 0) state.pod.podAffinity = [...(state.pod.podAffinity ?? []), ...terms];
  if (Object.keys(labels).length > 0) state.pod.podLabels = { ...state.pod.podLabels, ...labels };
}

/** The volume owner facts the authorization requests put on a `Volume` entity. */
export function volumeOwnerFacts(ctx: Pick<DerivationContext, 'services'>, exclude: string): (namespace: string, id: string) => { owner: string; accessMode: string } | undefined {
  return (namespace, id) => {
    const owners = volumeOwners(ctx, namespace, id).filter((o) => o.key !== exclude);
    if (owners.length !== 1) return undefined;
    return { owner: owners[0]!.key, accessMode: owners[0]!.params.accessMode ?? 'ReadWriteOnce' };
  };
}
