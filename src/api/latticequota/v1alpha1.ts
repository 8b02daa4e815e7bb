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

/** Keys of the original Lattice's `limits`/`maxPerWorkload` maps and the `hard` field each one is. */
export const REFERENCE_LIMIT_KEYS: Readonly<Record<string, 'cpu' | 'memory' | 'gpu' | 'pods'>> = { cpu: 'cpu', memory: 'memory', 'nvidia.com/gpu': 'gpu', gpu: 'gpu', pods: 'pods' };

/**
 * The original Lattice's principal forms (crates/lattice-crd/src/crd/quota.rs in
 * github.com/evan-hines-js/lattice): `Lattice::Service::"ns/name"`, `Lattice::Group::"g"` (namespaces
 * labelled `lattice.dev/group: g`), `Lattice::User::"email"`.
 */
export const QUOTA_PRINCIPAL = /^Lattice::(Service|Group|User)::"([^"\\]+)"$/;

const referenceLimits = z
  .record(z.string(), z.union([z.string(), z.number()]))
  .superRefine((m, ctx) => {
    for (const [k, v] of Object.entries(m)) {
      const field = REFERENCE_LIMIT_KEYS[k];
      if (field === undefined) {
        ctx.addIssue({ code: 'custom', path: [k], message: `"${k}" is not a resource Lattice counts: use cpu, memory, nvidia.com/gpu (or gpu) or pods` });
      } else if (field === 'gpu' || field === 'pods') {
        if (!/^[0-9]+$/.test(String(v))) ctx.addIssue({ code: 'custom', path: [k], message: `${k} must be a whole number, e.g. "8"` });
      } else if (!quantity.safeParse(String(v)).success) {
        ctx.addIssue({ code: 'custom', path: [k], message: `${k} ${JSON.stringify(v)} is not a Kubernetes quantity (e.g. ${field === 'cpu' ? '"8" or "7500m"' : '"32Gi"'})` });
      }
    }
  });

/** The spec of a LatticeQuota: ours (`selector`, `hard`) or the original Lattice's (`principal`, `limits`). */
export const latticeQuotaSpecSchema = z
  .strictObject({
    selector: quotaSelectorSchema
      .optional()
      .describe(
        'The services the quota covers: those in namespaces that match. With both namespaces and namespaceLabels, a namespace must match both; an empty selector ({}) covers every namespace. Give selector and hard, or principal and limits.',
      ),
    hard: quotaHardSchema
      .optional()
      .describe(
        "Limits on the sum of the covered services' demand: per-pod requests times maximum replicas (autoscaling max when set, else replicas).",
      ),
    principal: z
      .string()
      .regex(QUOTA_PRINCIPAL, 'must be a Cedar principal: Lattice::Group::"team" or Lattice::Service::"namespace/name"')
      .optional()
      .describe(
        'The original Lattice\'s form of selector: Lattice::Group::"g" covers the namespaces labelled lattice.dev/group: g (the same as selector.namespaceLabels), Lattice::Service::"ns/name" one service. Lattice::User::"email" is refused: it selects by an annotation the service\'s own team writes, so a team could leave the quota by removing it.',
      ),
    limits: referenceLimits
      .optional()
      .describe('The original Lattice\'s form of hard: resource name to quantity, keys cpu, memory, nvidia.com/gpu and pods, e.g. {cpu: "32", memory: 128Gi, nvidia.com/gpu: "4"}.'),
    maxPerWorkload: referenceLimits
      .optional()
      .describe('Caps for any single covered service (its per-pod requests times maximum replicas), same keys as limits; a service above a cap is refused whatever the total.'),
    enabled: z.boolean().default(true).describe('When false the quota is kept but not enforced. Default true.'),
  })
  .superRefine((s, ctx) => {
    const ours = s.selector !== undefined || s.hard !== undefined;
    const theirs = s.principal !== undefined || s.limits !== undefined;
    if (ours && theirs) {
      ctx.addIssue({ code: 'custom', message: 'give either selector and hard, or principal and limits (the original Lattice\'s form), not both' });
      return;
    }
    if (!theirs) {
      if (s.selector === undefined) ctx.addIssue({ code: 'custom', path: ['selector'], message: 'selector is required (or use principal and limits)' });
      if (s.hard === undefined) ctx.addIssue({ code: 'custom', path: ['hard'], message: 'hard is required (or use principal and limits)' });
      return;
    }
    if (s.principal === undefined) ctx.addIssue({ code: 'custom', path: ['principal'], message: 'principal is required with limits, e.g. Lattice::Group::"team"' });
    if (s.limits === undefined) ctx.addIssue({ code: 'custom', path: ['limits'], message: 'limits is required with principal, e.g. {cpu: "32", memory: 128Gi}' });
    else if (Object.keys(s.limits).length === 0) ctx.addIssue({ code: 'custom', path: ['limits'], message: 'set at least one of cpu, memory, nvidia.com/gpu or pods' });
    const m = s.principal === undefined ? null : QUOTA_PRINCIPAL.exec(s.principal);
    if (m?.[1] === 'User') {
      ctx.addIssue({ code: 'custom', path: ['principal'], message: 'a Lattice::User principal selects services by their lattice.dev/owner annotation, which the service\'s own team writes: it could leave the quota by removing it. Select by namespace instead: Lattice::Group::"<group>" with the namespaces labelled lattice.dev/group, or selector.namespaces' });
    } else if (m?.[1] === 'Service' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(m[2] ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['principal'], message: 'a Lattice::Service principal names "<namespace>/<name>", e.g. Lattice::Service::"payments/checkout"' });
    }
  });

/** The label of a namespace that puts it in a group (the original Lattice's `Lattice::Group` principals). */
export const GROUP_LABEL = 'lattice.dev/group';

/** What a quota covers, from either form: namespaces by name and labels, and optionally single services (`ns/name`). */
export function quotaSelectorOf(spec: LatticeQuotaSpec): QuotaSelector & { services?: string[] } {
  if (spec.selector !== undefined) return spec.selector;
  const m = QUOTA_PRINCIPAL.exec(spec.principal ?? '');
  if (m?.[1] === 'Group') return { namespaceLabels: { [GROUP_LABEL]: m[2]! } };
  if (m?.[1] === 'Service') return { namespaces: [m[2]!.split('/')[0]!], services: [m[2]!] };
  return { namespaces: [] }; // not reached: validation refuses other principals
}

/** A `limits`-style map (the original Lattice's) as our `hard` fields. */
export function limitsAsHard(limits: Readonly<Record<string, string | number>>): QuotaHard {
  const out: QuotaHard = {};
  for (const [k, v] of Object.entries(limits)) {
    const field = REFERENCE_LIMIT_KEYS[k];
    if (field === 'cpu' || field === 'memory') out[field] = String(v);
    else if (field === 'gpu' || field === 'pods') out[field] = Number(v);
  }
  return out;
}

/** The limits of a quota, from either form. */
export function quotaHardOf(spec: LatticeQuotaSpec): QuotaHard {
  return spec.hard ?? limitsAsHard(spec.limits ?? {});
}

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
/** The spec of a quota with defaults applied. */
export type LatticeQuotaSpec = z.output<typeof latticeQuotaSpecSchema>;
