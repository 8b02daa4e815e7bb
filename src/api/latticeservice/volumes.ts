/**
 * Volumes of a LatticeService: the `params` of a `type: volume` resource and the rules that say what
 * a volume resource is. One resource kind, three roles, decided by its fields (the original Lattice's
 * rules, crates/lattice-crd/src/crd/workload/resources.rs in github.com/evan-hines-js/lattice):
 *
 * - **pod-local** (no `params.size`, no `id`): an `emptyDir` shared by the containers of one pod,
 *   gone with the pod (`params.sizeLimit`, `params.medium`);
 * - **owner** (`params.size`): this service owns a PersistentVolumeClaim of that size, named
 *   `vol-<id>` when the volume has an `id` (so others can mount it), else `<service>-<resource>`;
 * - **consumer** (`id`, no `params.size`): mounts the claim `vol-<id>` another service in the same
 *   namespace owns, when the owner lists it in `params.allowedConsumers` and a Cedar `AccessVolume`
 *   permit exists.
 *
 * A claim is namespaced (kubernetes.io/docs/concepts/storage/persistent-volumes/#persistentvolumeclaims:
 * "Claims must exist in the same namespace as the Pod using the claim"), so sharing works within a
 * namespace only.
 */
import { z } from 'zod';
import { quantity } from '../common.ts';

/** Access modes of a claim (kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes). */
export const VOLUME_ACCESS_MODES = ['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany'] as const;
/** An access mode. */
export type VolumeAccessMode = (typeof VOLUME_ACCESS_MODES)[number];

/** A shared volume id: a DNS label of at most 50 characters, so `vol-<id>` is a valid claim name. */
export const VOLUME_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const VOLUME_ID_MAX = 50;

const consumer = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a service name ("sonarr") or "<namespace>/<service>" ("media/sonarr")');

/** `params` of a resource of type volume. */
export const volumeParamsSchema = z
  .strictObject({
    size: quantity
      .optional()
      .describe('Size of a persistent volume this service owns (a PersistentVolumeClaim), e.g. 10Gi. Without size (and without id) the volume is an emptyDir local to the pod.'),
    storageClass: z
      .string()
      .regex(/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/, 'must be a StorageClass name (lower-case DNS subdomain)')
      .optional()
      .describe('StorageClass of the claim (default: the cluster default class). Only with size.'),
    accessMode: z
      .enum(VOLUME_ACCESS_MODES)
      .optional()
      .describe('ReadWriteOnce (default: one node mounts it read-write; every pod using it runs on that node), ReadWriteMany (many nodes, needs a storage class that supports it) or ReadOnlyMany. Only with size.'),
    allowedConsumers: z
      .array(consumer)
      .optional()
      .describe('Services allowed to mount this volume by its id ("name" or "namespace/name"; only the same namespace can mount a claim). Default: none. Only with size and id; each consumer also needs a Cedar permit for AccessVolume.'),
    sizeLimit: quantity.optional().describe('Size limit of a pod-local (emptyDir) volume.'),
    medium: z.enum(['Memory']).optional().describe('Memory: a pod-local tmpfs volume counted against the memory limit.'),
  })
  .superRefine((p, ctx) => {
    if (p.size !== undefined) {
      for (const k of ['sizeLimit', 'medium'] as const) {
        if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} applies to a pod-local emptyDir volume, and size makes this a persistent volume: remove ${k}, or remove size` });
      }
    } else {
      for (const k of ['storageClass', 'accessMode', 'allowedConsumers'] as const) {
        if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} only applies to a persistent volume this service owns: add size (e.g. size: 10Gi), or remove ${k} (a volume naming another service's id takes the owner's settings)` });
      }
    }
  });

/** Parsed params of a volume resource. */
export type VolumeParams = z.output<typeof volumeParamsSchema>;

/** The role of a volume resource (see the module comment). */
export type VolumeRole = 'local' | 'owner' | 'consumer';

/** A volume resource as far as its role is concerned. */
export interface VolumeResourceLike {
  type: string;
  id?: string | undefined;
  params?: Record<string, unknown> | undefined;
}

/** The role of a `type: volume` resource: owner (params.size), consumer (id without size) or local. */
export function volumeRole(r: VolumeResourceLike): VolumeRole {
  if (r.params?.size !== undefined) return 'owner';
  return r.id !== undefined ? 'consumer' : 'local';
}

/**
 * The PersistentVolumeClaim name of an owned or consumed volume: `vol-<id>` for a shared id, else
 * `<service>-<resource>` (the original Lattice's names, so claims keep their data when a service
 * moves over).
 */
export function claimName(service: string, resource: string, r: VolumeResourceLike): string {
  return r.id !== undefined ? `vol-${r.id}` : `${service}-${resource}`;
}

/** Why `id` is not a volume id, or undefined. */
export function volumeIdProblem(id: string): string | undefined {
  if (!VOLUME_ID.test(id)) return 'must be a lower-case DNS label (letters, digits and "-")';
  if (id.length > VOLUME_ID_MAX) return `is ${id.length} characters long; at most ${VOLUME_ID_MAX} (the claim is named vol-<id>, at most 63)`;
  return undefined;
}

/** True when `consumer` (an allowedConsumers entry) names the service `namespace/name`. */
export function consents(allowed: readonly string[] | undefined, ownerNamespace: string, namespace: string, name: string): boolean {
  return (allowed ?? []).some((c) => c === `${namespace}/${name}` || (c === name && namespace === ownerNamespace));
}
