/**
 * `CedarPolicy` (lattice.dev/v1alpha1, in the lattice-system namespace): platform authorization
 * policies written in the Cedar policy language (docs.cedarpolicy.com). Lattice asks Cedar before
 * it lets a service read a secret, run an image, call an external endpoint, relax its security
 * context or accept calls from any service; no permitting policy means the request is denied.
 * This module is the single source of truth for the kind's types, defaults, validation, CRD schema
 * and field documentation. The schema policies are written against is `src/policy/lattice.cedarschema`
 * (described in docs/policy.md).
 */
import { z } from 'zod';
import { API_VERSION, condition, platformObjectMeta, refusePrototypeKeys } from '../common.ts';

export const KIND = 'CedarPolicy';
export const PLURAL = 'cedarpolicies';
export const SHORT_NAMES = ['cpol'];

/** The `spec` of a CedarPolicy. */
export const cedarPolicySpecSchema = z.strictObject({
  policies: z
    .string()
    .refine((text) => text.trim() !== '', 'is empty: write at least one Cedar policy, e.g. permit(principal, action == Lattice::Action::"AccessSecret", resource) when { ... };')
    .describe(
      'Cedar policies (Cedar policy language), usually as a YAML literal block (`policies: |`). Each policy is known as <metadata.name>/<its @id annotation>, or <metadata.name>/<its 0-based position> when it has no @id. Every policy is validated against the Lattice Cedar schema in strict mode; when one fails, this CedarPolicy is not used and the error is reported with its line and column.',
    ),
  enabled: z.boolean().default(true).describe('When false, the policies are kept but not used. Default true.'),
  description: z.string().optional().describe('What these policies are for, in a sentence.'),
  priority: z
    .number()
    .int()
    .optional()
    .describe('Accepted from the original Lattice (its evaluation order, default 0) and has no effect: a Cedar decision does not depend on the order of policies (a satisfied forbid always wins, then any satisfied permit allows; docs.cedarpolicy.com, "Policy evaluation").'),
  propagate: z
    .boolean()
    .optional()
    .describe('Accepted from the original Lattice (copy to child clusters, default true) and has no effect: Lattice manages one cluster.'),
  owner: z
    .string()
    .optional()
    .describe('Who to contact about these policies, e.g. "the security team" or "#security on Slack". Named in the message when one of them forbids a request; the platform contact is named when absent.'),
});

/** The `status` of a CedarPolicy, written by the controller. */
export const cedarPolicyStatusSchema = z.object({
  observedGeneration: z.number().int().optional().describe('The .metadata.generation the status describes.'),
  conditions: z
    .array(condition)
    .describe('Valid: True when every policy parses and validates against the Lattice Cedar schema; False with Cedar\'s message, line and column otherwise.'),
  policyCount: z.number().int().optional().describe('Number of policies in use (0 when invalid or disabled).'),
  policyIds: z.array(z.string()).optional().describe('Ids of the policies in use, <metadata.name>/<@id or position>.'),
});

/** A CedarPolicy document as written (before defaults). */
export const cedarPolicySchema = refusePrototypeKeys(z.object({
    apiVersion: z.literal(API_VERSION).describe(`Always ${API_VERSION}.`),
    kind: z.literal(KIND).describe(`Always ${KIND}.`),
    metadata: platformObjectMeta(KIND, 'platform-wide rules must not be writable from a team namespace'),
    spec: cedarPolicySpecSchema.describe('The policies.'),
    status: z.unknown().optional(),
  }));

/** A validated CedarPolicy with defaults applied. */
export type CedarPolicy = z.output<typeof cedarPolicySchema>;
/** The spec with defaults applied. */
export type CedarPolicySpec = z.output<typeof cedarPolicySpecSchema>;
/** The status written back onto a CedarPolicy. */
export type CedarPolicyStatus = z.output<typeof cedarPolicyStatusSchema>;
