/**
 * `ImageProvider` (lattice.dev/v1alpha1, namespaced, only read in the platform namespace
 * `lattice-system`): a container registry the platform knows. It says which images it covers
 * (`registry`: a host and optional repository prefix), how to authenticate to it (`credentials`, a
 * registry credential in a SecretProvider) and which keys must have signed its images (`trust`).
 *
 * Signatures are cosign key-based signatures (github.com/sigstore/cosign, `specs/SIGNATURE_SPEC.md`)
 * or Sigstore bundles signed with one of the keys; see src/supplychain/verify.ts.
 */
import { z } from 'zod';
import { API_VERSION, dnsLabel, platformObjectMeta, refusePrototypeKeys } from '../common.ts';
import { parseRegistryScope } from '../../supplychain/scope.ts';
import { parsePublicKey } from '../../supplychain/keys.ts';

export const KIND = 'ImageProvider';
export const PLURAL = 'imageproviders';
export const SHORT_NAMES = ['ip'];

const registry = z.string().superRefine((v, ctx) => {
  const parsed = parseRegistryScope(v);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

/** A reference to a registry credential held by a SecretProvider (never the credential itself). */
export const registryCredentialsSchema = z.strictObject({
  secret: z
    .string()
    .min(1)
    .describe(
      'Name (remote key) of the registry credential in the secret store. The remote secret holds a Docker config JSON under the key .dockerconfigjson, the content of a kubernetes.io/dockerconfigjson Secret; it is synced as an image pull secret and used to read signatures.',
    ),
  provider: dnsLabel.optional().describe('SecretProvider holding the credential (default: the provider marked default).'),
});

/** A public key trusted to sign images. */
export const trustedKeySchema = z.strictObject({
  name: dnsLabel.describe('Name of the key, shown in messages and passed to policies as verifiedBy, e.g. release or ci-2025.'),
  publicKey: z
    .string()
    .superRefine((v, ctx) => {
      const parsed = parsePublicKey(v);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `publicKey ${parsed.error}` });
    })
    .describe('PEM public key (the content of cosign.pub): ECDSA P-256 or Ed25519.'),
});

/** Signature requirements for the images a provider covers. */
export const imageTrustSchema = z
  .strictObject({
    enforce: z
      .boolean()
      .default(true)
      .describe('true (default): an image without a valid signature by one of the keys is refused. false: signatures are checked and reported (and seen by policies) but do not block.'),
    keys: z
      .array(trustedKeySchema)
      .min(1, 'list at least one trusted key')
      .describe('Keys whose signature is accepted; one valid signature by any of them verifies an image.'),
  })
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.keys.forEach((k, i) => {
      if (seen.has(k.name)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'name'], message: `key name "${k.name}" is used twice: give each key its own name` });
      seen.add(k.name);
    });
  });

/** The `spec` of an ImageProvider. */
export const imageProviderSpecSchema = z.strictObject({
  registry: registry.describe(
    'Registry host with optional port and repository path prefix, e.g. registry.example.com, 127.0.0.1:5000 or registry.example.com/team. Covers images on that host whose repository is the prefix or below it, on whole path components (registry.example.com/team covers registry.example.com/team/api, not registry.example.com/teamfoo/api). When several providers cover an image, the longest prefix wins. Hosts are compared in normal form: case-insensitive, port 443 the same as none, and docker.io, index.docker.io and registry-1.docker.io (and images without a host) all Docker Hub.',
  ),
  credentials: registryCredentialsSchema
    .optional()
    .describe('Credential for pulling images and reading signatures; omitted for public registries.'),
  trust: imageTrustSchema
    .optional()
    .describe('Keys that must have signed the images this provider covers (cosign signatures or Sigstore bundles); omitted: no signature is required.'),
});

/** An ImageProvider document. */
export const imageProviderSchema = refusePrototypeKeys(z.object({
  apiVersion: z.literal(API_VERSION).describe(`Always ${API_VERSION}.`),
  kind: z.literal(KIND).describe(`Always ${KIND}.`),
  metadata: platformObjectMeta(KIND, 'which registries and signing keys are trusted is a platform decision'),
  spec: imageProviderSpecSchema.describe('The registry, its credential and its signing keys.'),
}));

/** A validated ImageProvider with defaults applied. */
export type ImageProvider = z.output<typeof imageProviderSchema>;
/** The spec with defaults applied. */
export type ImageProviderSpec = z.output<typeof imageProviderSpecSchema>;
/** A reference to a registry credential. */
export type RegistryCredentialsRef = z.output<typeof registryCredentialsSchema>;
/** The trust settings with defaults applied. */
export type ImageTrust = z.output<typeof imageTrustSchema>;
