/**
 * `SecretProvider` (lattice.dev/v1alpha1, namespace `lattice-system`): a named secret backend.
 * `spec.provider` is an External Secrets Operator provider block (`vault`, `aws`, `kubernetes`,
 * `webhook`, ...) handed unchanged to the derived `ClusterSecretStore` of the same name
 * (external-secrets.io/v1), where ESO's own schema applies.
 */
import { z } from 'zod';
import { API_VERSION, platformObjectMeta, refusePrototypeKeys } from '../common.ts';

export const KIND = 'SecretProvider';
export const PLURAL = 'secretproviders';
export const SHORT_NAMES = ['lsp'];

/** The spec of a SecretProvider. */
export const secretProviderSpecSchema = z.strictObject({
  provider: z
    .record(z.string(), z.record(z.string(), z.unknown()))
    .refine((p) => Object.keys(p).length === 1, 'name exactly one ESO provider, e.g. `vault: {...}` or `aws: {...}`')
    .describe('An ESO SecretStore provider block with exactly one provider key (vault, aws, gcpsm, azurekv, kubernetes, webhook, fake, ...), copied to the ClusterSecretStore.'),
  default: z
    .boolean()
    .default(false)
    .describe('Use this provider for secret resources that name none. At most one provider may be the default.'),
  refreshInterval: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Seconds between ESO store health checks (ClusterSecretStore spec.refreshInterval).'),
});

/** A SecretProvider document. */
export const secretProviderSchema = refusePrototypeKeys(z.object({
  apiVersion: z.literal(API_VERSION).describe(`Always ${API_VERSION}.`),
  kind: z.literal(KIND).describe(`Always ${KIND}.`),
  metadata: platformObjectMeta(KIND, 'a secret backend serves every team; a team must not redirect another team\'s secrets'),
  spec: secretProviderSpecSchema.describe('The secret backend.'),
}));

/** A validated SecretProvider. */
export type SecretProvider = z.output<typeof secretProviderSchema>;
