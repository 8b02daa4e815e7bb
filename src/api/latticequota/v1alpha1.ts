/**
 * `LatticeQuota` (lattice.dev/v1alpha1, namespace `lattice-system`): a ceiling on what the services
 * of some namespaces may ask for together. `spec.selector` chooses the namespaces, `spec.hard` the
 * limits. A service's demand is its per-pod requests times its maximum replicas (autoscaling `max`
 * when set, else `replicas`), so a quota holds even when every autoscaler is at its maximum.
 *
 * Unlike a Kubernetes ResourceQuota (checked by the API server when a pod is created), a LatticeQuota
 * is checked when a service is derived: a service that does not fit gets `QuotaSatisfied=False` and
 * nothing is derived for it.
 */
import { z } from 'zod';
import { API_VERSION, dnsLabel, platformObjectMeta, quantity, refusePrototypeKeys } from '../common.ts';

export const KIND = 'LatticeQuota';
export const PLURAL = 'latticequotas';
export const SHORT_NAMES = ['lq'];

/** Which services a quota covers: those in the selected namespaces. */
export const quotaSelectorSchema = z.strictObject({
  namespaces: z
    .array(dnsLabel)
    .min(1)
    .optional()
    .describe('Namespaces covered, by name.'),
  namespaceLabels: z
    .record(z.string().min(1), z.string())
    .optional()
    .describe('Namespaces covered, by labels: a namespace is covered when it has every label listed with the value given (read from its v1 Namespace object).'),
});

/** The limits of a quota; a resource left out is not limited. */
export const quotaHardSchema = z
  .strictObject({
    cpu: quantity.optional().describe('CPU requests in cores, e.g. 8 or 7500m.'),
    memory: quantity.optional().describe('Memory requests in bytes, e.g. 32Gi.'),
    gpu: z.number().int().min(0).optional().describe('GPUs: the params.count of the resources of type gpu of each pod.'),
    pods: z.number().int().min(0).optional().describe('Pods.'),
  })
  .refine((h) => Object.values(h).some((v) => v !== undefined), 'set at least one of cpu, memory, gpu or pods');

/** The spec of a LatticeQuota. */
export const latticeQuotaSpecSchema = z.strictObject({
  selector: quotaSelectorSchema.describe(
    'The services the quota covers: those in namespaces that match. With both namespaces and namespaceLabels, a namespace must match both; an empty selector ({}) covers every namespace.',
  ),
  hard: quotaHardSchema.describe(
    "Limits on the sum of the covered services' demand: per-pod requests times maximum replicas (autoscaling max when set, else replicas).",
  ),
});

/** A LatticeQuota document. */
export const latticeQuotaSchema = refusePrototypeKeys(z.object({
  apiVersion: z.literal(API_VERSION).describe(`Always ${API_VERSION}.`),
  kind: z.literal(KIND).describe(`Always ${KIND}.`),
  metadata: platformObjectMeta(KIND, 'a team must not be able to raise its own quota'),
  spec: latticeQuotaSpecSchema.describe('What the quota covers and its limits.'),
}));

/** A validated LatticeQuota. */
export type LatticeQuota = z.output<typeof latticeQuotaSchema>;
/** The limits of a quota. */
export type QuotaHard = z.output<typeof quotaHardSchema>;
/** The selector of a quota. */
export type QuotaSelector = z.output<typeof quotaSelectorSchema>;
