/**
 * The two signature formats Lattice accepts for an image, checked against the provider's trusted keys.
 * Pure: the caller fetches the bytes.
 *
 * 1. cosign's tag-based signatures (github.com/sigstore/cosign, `specs/SIGNATURE_SPEC.md`): a manifest
 *    tagged `sha256-<hex>.sig` in the image's repository whose layers are simple-signing payloads
 *    (media type `application/vnd.dev.cosign.simplesigning.v1+json`), each with its base64 signature in
 *    the layer annotation `dev.cosignproject.cosign/signature`. The payload is the Simple Signing JSON
 *    of containers/image (`containers-signature.5.md`): `critical.image.docker-manifest-digest` must be
 *    the image digest and `critical.identity.docker-reference` the image's repository.
 *
 * 2. Sigstore bundles (sigstore/protobuf-specs `sigstore_bundle.proto`, v0.3), as `cosign sign
 *    --new-bundle-format` writes them: a DSSE envelope around an in-toto Statement whose `subject`
 *    digest is the image digest and whose `predicateType` is `https://sigstore.dev/cosign/sign/v1`,
 *    verified offline with `@sigstore/verify` against the trusted keys only. Transparency-log entries
 *    and timestamps in the bundle are not consulted (thresholds 0): trust comes from the key alone.
 *    Keyless (certificate) bundles and message-signature bundles are refused. The bundle's key hint is
 *    not trusted to pick the key: every trusted key is tried.
 */
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { verifySignature, type TrustedKey } from './keys.ts';
import { parseImageReference } from './reference.ts';
import { normaliseRegistryHost } from './scope.ts';
import { sha256Digest } from './registry.ts';

/** Media type of a cosign simple-signing payload layer. */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** Layer annotation holding the base64 signature of the payload. */
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** `critical.type` values cosign writes into a simple-signing payload. */
export const COSIGN_PAYLOAD_TYPES = ['cosign container image signature', 'https://sigstore.dev/cosign/sign/v1'];
/** `artifactType` (and layer media type) of a Sigstore bundle attached to an image. */
export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Predicate type of the in-toto statement cosign signs for an image signature. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
/** DSSE payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** The tag under which cosign stores the signatures of `digest` (`sha256:abc` gives `sha256-abc.sig`). */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** The image a signature must be about. */
export interface SignatureSubject {
  registry: string;
  repository: string;
  /** `sha256:<64 hex>`. */
  digest: string;
}

/**
 * Why a signature was not accepted, most telling first:
 * `digest-mismatch` (valid signature by a trusted key, for another image digest),
 * `repository-mismatch` (valid signature, for another repository),
 * `payload-tampered` (the payload bytes do not match the digest the signature manifest names),
 * `untrusted` (the signature verifies with none of the trusted keys: another key, or a changed payload),
 * `malformed` (not a readable signature of a supported kind).
 */
export type SignatureProblem = 'digest-mismatch' | 'repository-mismatch' | 'payload-tampered' | 'untrusted' | 'malformed';

/** Result of checking one signature: the key that verified it, or the problem in words. */
export type SignatureCheck = { ok: true; key: string } | { ok: false; problem: SignatureProblem; message: string };

const PROBLEM_RANK: Record<SignatureProblem, number> = { 'digest-mismatch': 0, 'repository-mismatch': 1, 'payload-tampered': 2, untrusted: 3, malformed: 4 };

/** Picks the most telling of several failed checks (see {@link SignatureProblem} for the order). */
export function mostTelling(failures: readonly Extract<SignatureCheck, { ok: false }>[]): Extract<SignatureCheck, { ok: false }> | undefined {
  return [...failures].sort((a, b) => PROBLEM_RANK[a.problem] - PROBLEM_RANK[b.problem])[0];
}

function keyNames(keys: readonly TrustedKey[]): string {
  return keys.map((k) => k.name).join(', ');
}

function field(obj: unknown, name: string): unknown {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/**
 * Checks one cosign simple-signing layer: `payload` as fetched, `payloadDigest` as the signature
 * manifest names it, `signature` the base64 annotation value.
 */
export function checkSimpleSigning(payload: Uint8Array, payloadDigest: string, signature: string, keys: readonly TrustedKey[], subject: SignatureSubject): SignatureCheck {
  if (sha256Digest(payload) !== payloadDigest) {
    return {
      ok: false,
      problem: 'payload-tampered',
      message: `the signed payload served for blob ${payloadDigest} has digest ${sha256Digest(payload)}: it was changed in the registry's storage or on the way`,
    };
  }
  const sig = Buffer.from(signature, 'base64');
  if (sig.length === 0) return { ok: false, problem: 'malformed', message: `the ${SIGNATURE_ANNOTATION} annotation holds no base64 signature` };
  const key = keys.find((k) => verifySignature(k, payload, sig));
  if (key === undefined) {
    return {
      ok: false,
      problem: 'untrusted',
      message: `the signature does not verify with any trusted key (tried: ${keyNames(keys)}): the image was signed with a key this provider does not trust, or the signed payload was changed after signing`,
    };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, problem: 'malformed', message: `the payload signed by key "${key.name}" is not JSON, so it names no image` };
  }
  const critical = field(doc, 'critical');
  const type = field(critical, 'type');
  if (typeof type !== 'string' || !COSIGN_PAYLOAD_TYPES.includes(type)) {
    return { ok: false, problem: 'malformed', message: `the payload signed by key "${key.name}" has critical.type ${JSON.stringify(type)}, not a cosign image signature (${COSIGN_PAYLOAD_TYPES.map((t) => `"${t}"`).join(' or ')})` };
  }
  const signedDigest = field(field(critical, 'image'), 'docker-manifest-digest');
  if (signedDigest !== subject.digest) {
    return {
      ok: false,
      problem: 'digest-mismatch',
      message: `the signature by key "${key.name}" is for image digest ${typeof signedDigest === 'string' ? signedDigest : '(none)'}, not ${subject.digest}: it signs a different image, so it says nothing about this one`,
    };
  }
  const signedRef = field(field(critical, 'identity'), 'docker-reference');
  const repoProblem = repositoryProblem(signedRef, subject);
  if (repoProblem !== undefined) return { ok: false, problem: 'repository-mismatch', message: `the signature by key "${key.name}" ${repoProblem}` };
  return { ok: true, key: key.name };
}

function repositoryProblem(signedRef: unknown, subject: SignatureSubject): string | undefined {
  const expected = `${subject.registry}/${subject.repository}`;
  if (typeof signedRef !== 'string') return `names no repository (critical.identity.docker-reference), so it cannot be tied to ${expected}`;
  const parsed = parseImageReference(signedRef);
  if (!parsed.ok || normaliseRegistryHost(parsed.ref.registry) !== normaliseRegistryHost(subject.registry) || parsed.ref.repository !== subject.repository) {
    return `is for repository ${signedRef}, not ${expected}: a signature only vouches for the repository it names`;
  }
  return undefined;
}

const EMPTY_TRUSTED_ROOT = { mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] };
const KEY_ONLY = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };

/**
 * Checks a Sigstore bundle (parsed JSON) for `subject` against the trusted keys, offline: the DSSE
 * signature must verify with a trusted key, the statement must be a cosign image signature
 * (`predicateType` {@link COSIGN_SIGN_PREDICATE}) and one of its subjects must carry the image digest.
 */
export function checkBundle(json: unknown, keys: readonly TrustedKey[], subject: SignatureSubject): SignatureCheck {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (err) {
    const fields = (err as { fields?: unknown }).fields;
    return { ok: false, problem: 'malformed', message: `the Sigstore bundle is not valid${Array.isArray(fields) && fields.length > 0 ? ` (fields: ${fields.join(', ')})` : ''}` };
  }
  if (bundle.content.$case !== 'dsseEnvelope') {
    return { ok: false, problem: 'malformed', message: 'the Sigstore bundle holds a message signature; for images Lattice accepts DSSE bundles (cosign sign --new-bundle-format) whose statement names the image digest' };
  }
  if (bundle.verificationMaterial.content.$case !== 'publicKey') {
    return { ok: false, problem: 'untrusted', message: 'the Sigstore bundle is signed with a certificate (keyless signing); this provider trusts keys only: sign with cosign sign --key' };
  }
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return { ok: false, problem: 'malformed', message: `the Sigstore bundle's DSSE payload type is "${envelope.payloadType}", not ${IN_TOTO_PAYLOAD_TYPE}` };
  }
  // Key-only verification: the log entries and timestamps are not part of the trust decision.
  const keyOnly: Bundle = { ...bundle, verificationMaterial: { ...bundle.verificationMaterial, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } } };
  const entity = toSignedEntity(keyOnly);
  const key = keys.find((k) => {
    const trust = toTrustMaterial(EMPTY_TRUSTED_ROOT, () => ({ publicKey: k.key, validFor: () => true }));
    try {
      new Verifier(trust, KEY_ONLY).verify(entity);
      return true;
    } catch {
      return false;
    }
  });
  if (key === undefined) {
    return {
      ok: false,
      problem: 'untrusted',
      message: `the Sigstore bundle's signature does not verify with any trusted key (tried: ${keyNames(keys)}): it was made with a key this provider does not trust, or its statement was changed after signing`,
    };
  }
  let statement: unknown;
  try {
    statement = JSON.parse(envelope.payload.toString('utf8'));
  } catch {
    return { ok: false, problem: 'malformed', message: `the statement signed by key "${key.name}" is not JSON` };
  }
  const predicateType = field(statement, 'predicateType');
  if (predicateType !== COSIGN_SIGN_PREDICATE) {
    return {
      ok: false,
      problem: 'malformed',
      message: `the statement signed by key "${key.name}" has predicateType ${JSON.stringify(predicateType)}: it is an attestation about the image, not an image signature (${COSIGN_SIGN_PREDICATE})`,
    };
  }
  const hex = subject.digest.slice('sha256:'.length);
  const subjects = field(statement, 'subject');
  const digests = Array.isArray(subjects) ? subjects.map((s) => field(field(s, 'digest'), 'sha256')).filter((d): d is string => typeof d === 'string') : [];
  if (!digests.includes(hex)) {
    return {
      ok: false,
      problem: 'digest-mismatch',
      message: `the Sigstore bundle signed by key "${key.name}" is for image digest ${digests.length > 0 ? digests.map((d) => `sha256:${d}`).join(', ') : '(none)'}, not ${subject.digest}: it signs a different image`,
    };
  }
  return { ok: true, key: key.name };
}
