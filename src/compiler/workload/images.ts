/**
 * The image gate: every container image must be pinned by digest, and signed by a trusted key when
 * an ImageProvider with `trust.enforce` covers it. Verification itself needs the network and runs
 * before derivation (src/supplychain/verify.ts, called by `lattice render` and the controller); this
 * gate reads its results from the context and writes the `ImageVerified` condition.
 *
 * A failing image fails the service (nothing derived) unless a Cedar `SkipImageVerification` permit
 * exists for the service and the image: then `ImageVerified=True`, reason
 * `VerificationSkippedByPolicy`, naming the policy (see {@link DerivationContext.skipImageVerification}).
 */
import { findProvider, isBlocking, type ImageVerification } from '../../supplychain/verify.ts';
import { isDigestPinned, parseImageReference } from '../../supplychain/reference.ts';
import { podContainers } from '../../api/latticeservice/v1alpha1.ts';
import type { DerivationState, Diagnostic } from '../types.ts';

/** Condition type written by this gate. */
export const IMAGE_VERIFIED = 'ImageVerified';

/**
 * The verification of `image` as the gate sees it: the result computed before derivation, or,
 * when none was computed, the checks possible without a registry (digest pinning; an enforcing
 * provider then means the image is not verified).
 */
export function verificationFor(state: DerivationState, image: string): ImageVerification {
  const known = state.ctx.images?.get(image);
  if (known) return known;
  const parsed = parseImageReference(image);
  const base = { image, signed: false, verifiedBy: '' };
  if (!parsed.ok) return { ...base, outcome: 'InvalidReference', enforced: true, message: `image "${image}": ${parsed.error}` };
  if (!isDigestPinned(parsed.ref)) {
    return {
      ...base,
      outcome: 'ImageNotPinned',
      enforced: true,
      message:
        `image ${image} is not pinned by digest: the platform only runs images referenced as name@sha256:<digest>, so what runs is exactly what was reviewed and signed. ` +
        `Find the digest with \`crane digest ${image}\` or \`docker buildx imagetools inspect ${image}\`, and write ${image.replace(/:[^/:@]+$/, '')}@sha256:<digest>.`,
    };
  }
  const provider = findProvider(state.ctx.imageProviders, parsed.ref);
  if (provider?.spec.trust?.enforce) {
    return {
      ...base,
      outcome: 'RegistryUnavailable',
      provider: provider.metadata.name,
      enforced: true,
      message: `image ${image} must be signed by a key of ImageProvider ${provider.metadata.name}, but its signature was not checked in this run. Run with network access to the registry (or give Lattice the image's Sigstore bundle file); an unchecked image is never treated as verified.`,
    };
  }
  return { ...base, outcome: 'NotRequired', digest: parsed.ref.digest ?? '', enforced: false, message: `no ImageProvider requires a signature for ${image}` };
}

/** The gate: one decision per container image; errors for failing images, a summary condition otherwise. */
export function imageGate(state: DerivationState): void {
  const verified: string[] = [];
  const skipped: string[] = [];
  const unsigned: string[] = [];
  for (const { name: cname, container, path: base } of podContainers(state.service.spec)) {
    const v = verificationFor(state, container.image);
    if (v.pinnedImage && v.pinnedImage !== container.image) state.pod.images[cname] = v.pinnedImage;
    if (isBlocking(v)) {
      const skip = state.ctx.skipImageVerification?.(state.service, container.image, v);
      if (skip?.allowed) {
        skipped.push(`${container.image} (${v.outcome}; skipped by policy ${skip.policies.join(', ')})`);
        continue;
      }
      const path = [...base, 'image'];
      const d: Diagnostic = { severity: 'error', condition: IMAGE_VERIFIED, reason: v.outcome, path: path.join('.'), message: v.message };
      if (state.input.locate) d.location = state.input.locate(path);
      state.diagnostics.push(d);
    } else if (v.outcome === 'Verified') {
      verified.push(`${container.image} by key ${v.verifiedBy}${v.provider ? ` of ImageProvider ${v.provider}` : ''}`);
    } else {
      unsigned.push(v.outcome === 'NotRequired' ? container.image : `${container.image} (${v.outcome}, not enforced)`);
    }
  }
  if (state.diagnostics.some((d) => d.condition === IMAGE_VERIFIED)) return;
  const parts: string[] = [];
  if (verified.length > 0) parts.push(`Verified ${verified.join('; ')}.`);
  if (unsigned.length > 0) parts.push(`No signature required for ${unsigned.join('; ')}.`);
  if (skipped.length > 0) parts.push(`Verification skipped for ${skipped.join('; ')}.`);
  state.conditions.set(IMAGE_VERIFIED, {
    type: IMAGE_VERIFIED,
    status: 'True',
    reason: skipped.length > 0 ? 'VerificationSkippedByPolicy' : verified.length > 0 ? 'Verified' : 'NotRequired',
    message: parts.join(' '),
  });
}
