/**
 * Public keys a platform trusts to sign images, and the two signature schemes Lattice verifies with
 * them: ECDSA on the NIST P-256 curve with SHA-256 (cosign's default key type, `cosign generate-key-pair`)
 * and Ed25519 (RFC 8032). Keys are PEM-encoded SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`), the
 * format of `cosign.pub`.
 *
 * This module only uses `node:crypto` and does no I/O, so the API layer may use it for validation.
 */
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';

/** The signature schemes Lattice accepts for image signatures. */
export type KeyAlgorithm = 'ecdsa-p256-sha256' | 'ed25519';

/** A trusted public key, parsed. `name` is how messages and the Cedar gate (`verifiedBy`) refer to it. */
export interface TrustedKey {
  name: string;
  algorithm: KeyAlgorithm;
  key: KeyObject;
}

/** Result of {@link parsePublicKey}: the key and its scheme, or a message saying what is wrong. */
export type KeyParseResult = { ok: true; key: KeyObject; algorithm: KeyAlgorithm } | { ok: false; error: string };

/**
 * Parses a PEM public key and checks that it is ECDSA P-256 or Ed25519. Never throws.
 * Other key types (RSA, P-384, private keys) are refused with a message saying which types work.
 */
export function parsePublicKey(pem: string): KeyParseResult {
  const text = pem.trim();
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    return { ok: false, error: 'is a private key: give the public key only (the content of cosign.pub), never the private key' };
  }
  if (!text.startsWith('-----BEGIN PUBLIC KEY-----')) {
    return { ok: false, error: 'is not a PEM public key: it must start with "-----BEGIN PUBLIC KEY-----" (the content of cosign.pub)' };
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch {
    return { ok: false, error: 'is not a readable PEM public key: copy the whole content of cosign.pub, BEGIN and END lines included' };
  }
  if (key.asymmetricKeyType === 'ed25519') return { ok: true, key, algorithm: 'ed25519' };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { ok: true, key, algorithm: 'ecdsa-p256-sha256' };
    return { ok: false, error: `is an ECDSA key on curve ${curve ?? 'unknown'}: only P-256 (cosign's default) and Ed25519 keys are accepted` };
  }
  return { ok: false, error: `is a ${key.asymmetricKeyType ?? 'unknown'} key: only ECDSA P-256 (cosign's default) and Ed25519 keys are accepted` };
}

/**
 * Verifies `signature` over `data` with `key`. ECDSA signatures may be ASN.1 DER (what cosign writes)
 * or the 64-byte IEEE P1363 form r||s; Ed25519 signatures are the 64-byte RFC 8032 form.
 * Returns false for any malformed input instead of throwing.
 */
export function verifySignature(key: TrustedKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (key.algorithm === 'ed25519') return cryptoVerify(null, data, key.key, signature);
    if (cryptoVerify('sha256', data, key.key, signature)) return true;
    return signature.length === 64 && cryptoVerify('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
