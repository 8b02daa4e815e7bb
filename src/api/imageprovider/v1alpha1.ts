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

/**
 * A reference to a registry credential held by a SecretProvider (never the credential itself). Ours
 * names the remote key `secret`; the original Lattice's CredentialSpec names it `id` (both accepted,
 * one of them required).
 */
export const registryCredentialsSchema = z
  .strictObject({
    secret: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Name (remote key) of the registry credential in the secret store. The remote secret holds a Docker config JSON under the key .dockerconfigjson, the content of a kubernetes.io/dockerconfigjson Secret; it is synced as an image pull secret (for services naming this provider in imagePullSecrets) and used to read signatures.',
      ),
    id: z.string().min(1).optional().describe('The original Lattice\'s name for secret (the remote key); give one of secret or id.'),
    provider: dnsLabel.optional().describe('SecretProvider holding the credential (default: the provider marked default).'),
    keys: z
      .array(z.literal('.dockerconfigjson'))
      .optional()
      .describe('The original Lattice\'s list of keys to sync; Lattice syncs .dockerconfigjson, the only key it accepts here (credentialData, which assembles it from other keys, is not supported).'),
  })
  .superRefine((c, ctx) => {
    if ((c.secret === undefined) === (c.id === undefined)) ctx.addIssue({ code: 'custom', message: 'give the remote key of the credential as secret (or id, the original Lattice\'s name), exactly once' });
  });

/** The remote key of a credential reference, from either spelling. */
export function credentialKey(c: RegistryCredentialsRef): string {
  return (c.secret ?? c.id)!;
}

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

/**
 * A trusted signer in the original Lattice's shape (`trust.authorities[]`): its key is either inline
 * (`publicKey`, as our `keys[]`) or a secret-store reference (`key`, the reference's form). Lattice
 * verifies with inline keys only, so an authority whose key is only in a secret store verifies
 * nothing: images under an enforcing provider with no inline key are refused (fail closed).
 */
export const trustAuthoritySchema = z
  .strictObject({
    name: dnsLabel.describe('Name of the authority, shown in messages and passed to policies as verifiedBy.'),
    publicKey: trustedKeySchema.shape.publicKey.optional().describe('PEM public key (cosign.pub): ECDSA P-256 or Ed25519.'),
    key: z
      .strictObject({ id: z.string().min(1).describe('Remote key of the PEM in the secret store.'), provider: dnsLabel.optional().describe('SecretProvider holding it.'), keys: z.array(z.string()).optional().describe('Keys to read.') })
      .optional()
      .describe('The original Lattice\'s secret-store reference to the PEM key. Not read by Lattice (verification needs the key at derivation time): copy the PEM into publicKey.'),
  })
  .superRefine((a, ctx) => {
    if ((a.publicKey === undefined) === (a.key === undefined)) ctx.addIssue({ code: 'custom', message: 'give the authority\'s key as publicKey (inline PEM) or key (secret-store reference), exactly once' });
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
      .optional()
      .describe('Keys whose signature is accepted; one valid signature by any of them verifies an image.'),
    authorities: z
      .array(trustAuthoritySchema)
      .min(1, 'list at least one authority')
      .optional()
      .describe('The original Lattice\'s form of keys: {name, publicKey} (inline, used) or {name, key: {id, provider}} (secret-store reference, not read: verifies nothing).'),
  })
  .superRefine((t, ctx) => {
    if (t.keys === undefined && t.authorities === undefined) ctx.addIssue({ code: 'custom', path: ['keys'], message: 'list at least one trusted key (keys, or authorities in the original Lattice\'s form)' });
    const seen = new Set<string>();
    for (const [field, list] of [['keys', t.keys ?? []], ['authorities', t.authorities ?? []]] as const) {
      list.forEach((k, i) => {
        if (seen.has(k.name)) ctx.addIssue({ code: 'custom', path: [field, i, 'name'], message: `key name "${k.name}" is used twice: give each key its own name` });
        seen.add(k.name);
      });
    }
  });

/** The inline trusted keys of a trust section: `keys` and the authorities with a `publicKey`. */
export function trustedKeysOf(trust: ImageTrust | undefined): Array<{ name: string; publicKey: string }> {
  if (trust === undefined) return [];
  const out = (trust.keys ?? []).map((k) => ({ name: k.name, publicKey: k.publicKey }));
  for (const a of trust.authorities ?? []) if (a.publicKey !== undefined) out.push({ name: a.name, publicKey: a.publicKey });
  return out;
}

/** Registry types of the original Lattice's ImageProvider (`spec.type`). */
export const IMAGE_PROVIDER_TYPES = ['ghcr', 'dockerhub', 'ecr', 'gar', 'acr', 'harbor', 'generic'] as const;

/** The `spec` of an ImageProvider. */
export const imageProviderSpecSchema = z.strictObject({
  type: z
    .enum(IMAGE_PROVIDER_TYPES)
    .optional()
    .describe('The original Lattice\'s registry type (ghcr, dockerhub, ecr, gar, acr, harbor, generic). Accepted as a label; Lattice treats every registry as an OCI distribution registry.'),
  insecure: z
    .literal(false)
    .optional()
    .describe('The original Lattice\'s plain-HTTP switch. Only false is accepted: Lattice reads registries over HTTPS only (digests and signatures read over plain HTTP could be forged in transit).'),
  ecr: z
    .strictObject({ region: z.string().min(1).describe('AWS region.'), accountId: z.string().optional().describe('AWS account id.') })
    .optional()
    .describe('The original Lattice\'s ECR settings. Accepted and not used: Lattice derives no ECR token refresher; give ECR credentials through credentials like any registry.'),
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
