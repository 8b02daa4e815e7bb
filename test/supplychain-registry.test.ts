/**
 * Image verification against a real registry: Debian's docker-registry (CNCF Distribution 2.8) on a
 * loopback port, with images and cosign-format signatures pushed over the distribution HTTP API and
 * keys generated here with node:crypto. Skipped, with the reason, when docker-registry is not installed.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageProviderSchema, type ImageProvider } from '../src/api/imageprovider/v1alpha1.ts';
import { ImageVerifier, isBlocking, type ImageVerifierOptions } from '../src/supplychain/verify.ts';
import { freePort, pushDescriptor, pushImage, pushManifest, registryMissing, startRegistry, type TestRegistry } from './support/registry.ts';
import { BUNDLE_TYPE, cosignStatement, dsseBundle, generateKey, SIGNATURE_ANNOTATION, SIMPLE_SIGNING, sigTag, signBytes, simpleSigningPayload, type TestKey } from './fixtures/supplychain/signing.ts';

const missing = registryMissing();
const release = generateKey('ecdsa');
const ci = generateKey('ed25519');
const stranger = generateKey('ecdsa');

function provider(registry: string, enforce = true): ImageProvider {
  return imageProviderSchema.parse({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'ImageProvider',
    metadata: { name: 'local', namespace: 'lattice-system' },
    spec: { registry, trust: { enforce, keys: [{ name: 'release', publicKey: release.publicKeyPem }, { name: 'ci', publicKey: ci.publicKeyPem }] } },
  });
}

/** A verifier that does not wait between retries (a registry that is down is known at once). */
function verifier(registry: string, extra: Partial<ImageVerifierOptions> = {}): ImageVerifier {
  return new ImageVerifier({ providers: [provider(`${registry}/team`)], sleep: async () => {}, retry: { attempts: 3, timeoutMs: 5000 }, ...extra });
}

/** Pushes a cosign signature manifest (tag sha256-<hex>.sig) with one simple-signing layer; returns the payload digest. */
async function pushSignature(reg: TestRegistry, repository: string, imageDigest: string, payload: Buffer, signature: Buffer): Promise<string> {
  const config = await pushDescriptor(reg.url, repository, 'application/vnd.oci.image.config.v1+json', Buffer.from('{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}'));
  const layer = await pushDescriptor(reg.url, repository, SIMPLE_SIGNING, payload, { [SIGNATURE_ANNOTATION]: signature.toString('base64') });
  await pushManifest(reg.url, repository, sigTag(imageDigest), { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] });
  return layer.digest;
}

/** Pushes an image and signs it with `key` as cosign would; returns the pinned reference. */
async function pushSigned(reg: TestRegistry, repository: string, key: TestKey, opts: { digestInPayload?: string } = {}) {
  const digest = await pushImage(reg.url, repository);
  const payload = simpleSigningPayload(`${reg.host}/${repository}`, opts.digestInPayload ?? digest);
  const payloadDigest = await pushSignature(reg, repository, digest, payload, signBytes(key, payload));
  return { digest, image: `${reg.host}/${repository}@${digest}`, payload, payloadDigest };
}

function skipWithoutRegistry(t: TestContext): boolean {
  if (missing === undefined) return false;
  t.skip(missing);
  return true;
}

describe('image verification against docker-registry', () => {
  let reg: TestRegistry | undefined;
  before(async () => {
    if (missing === undefined) reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
  });

  for (const [kind, key, name] of [
    ['ECDSA P-256', release, 'release'],
    ['Ed25519', ci, 'ci'],
  ] as const) {
    test(`a valid ${kind} cosign signature is Verified by key "${name}"`, async (t) => {
      if (skipWithoutRegistry(t) || reg === undefined) return;
      const { digest, image } = await pushSigned(reg, `team/${key.kind}`, key);
      const v = await verifier(reg.host).verify(image);
      assert.equal(v.outcome, 'Verified', v.message);
      assert.equal(v.signed, true);
      assert.equal(v.verifiedBy, name);
      assert.equal(v.source, 'cosign-signature');
      assert.equal(v.digest, digest);
      assert.equal(v.provider, 'local');
      assert.equal(isBlocking(v), false);
    });
  }

  test('a signature by a key the provider does not trust is SignatureInvalid', async (t) => {
    if (skipWithoutRegistry(t) || reg === undefined) return;
    const { image, digest } = await pushSigned(reg, 'team/wrong-key', stranger);
    const v = await verifier(reg.host).verify(image);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.equal(v.signed, false);
    assert.equal(v.verifiedBy, '');
    assert.ok(v.message.includes('does not verify with any trusted key (tried: release, ci)'), v.message);
    assert.ok(v.message.includes(`cosign sign --key cosign.key ${reg.host}/team/wrong-key@${digest}`));
  });

  test('a payload changed in the registry storage after signing is SignatureInvalid (tampered)', async (t) => {
    if (skipWithoutRegistry(t) || reg === undefined) return;
    const { image, payloadDigest } = await pushSigned(reg, 'team/tampered', release);
    const hex = payloadDigest.slice('sha256:'.length);
    const file = join(reg.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const original = await readFile(file, 'utf8');
    const changed = original.replace('"optional":null', '"optional":1234');
    assert.equal(changed.length, original.length, 'the tampered payload keeps its size');
    await writeFile(file, changed);
    const v = await verifier(reg.host).verify(image);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.ok(v.message.includes(`the signed payload served for blob ${payloadDigest} has digest`), v.message);
    assert.ok(v.message.includes("it was changed in the registry's storage or on the way"));
  });

  test('a payload re-pushed with changes under the old signature is SignatureInvalid', async (t) => {
    if (skipWithoutRegistry(t) || reg === undefined) return;
    const digest = await pushImage(reg.url, 'team/rewritten');
    const signed = simpleSigningPayload(`${reg.host}/team/rewritten`, digest);
    const rewritten = Buffer.from(signed.toString().replace('"optional":null', '"optional":{"approved":true}'));
    await pushSignature(reg, 'team/rewritten', digest, rewritten, signBytes(release, signed));
    const v = await verifier(reg.host).verify(`${reg.host}/team/rewritten@${digest}`);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.ok(v.message.includes('or the signed payload was changed after signing'), v.message);
  });

  test('a valid signature of another digest is SignatureInvalid (digest mismatch)', async (t) => {
    if (skipWithoutRegistry(t) || reg === undefined) return;
    const other = await pushImage(reg.url, 'team/mismatch', 'other');
    const { image, digest } = await pushSigned(reg, 'team/mismatch', release, { digestInPayload: other });
    const v = await verifier(reg.host).verify(image);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.ok(v.message.includes(`the signature by key "release" is for image digest ${other}, not ${digest}`), v.message);
  });

  test('an unsigned image is SignatureMissing', async (t) => {
    if (skipWithoutRegistry(t) || reg === undefined) return;
    const digest = await pushImage(reg.url, 'team/unsigned');
    const v = await verifier(reg.host).verify(`${reg.host}/team/unsigned@${digest}`);
    assert.equal(v.outcome, 'SignatureMissing', v.message);
    assert.ok(v.message.includes(`cosign sign --key cosign.key ${reg.host}/team/unsigned@${digest}`));
    assert.equal(isBlocking(v), true);
  });

  test('a Sigstore bundle attached with the referrers tag schema is Verified', async (t) => {
    if (skipWithoutRegistry(t) || reg === undefined) return;
    const repository = 'team/bundled';
    const digest = await pushImage(reg.url, repository);
    const bundle = Buffer.from(JSON.stringify(dsseBundle(ci, cosignStatement(digest))));
    const config = await pushDescriptor(reg.url, repository, 'application/vnd.oci.empty.v1+json', Buffer.from('{}'));
    const layer = await pushDescriptor(reg.url, repository, BUNDLE_TYPE, bundle);
    const artifact = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: BUNDLE_TYPE, config, layers: [layer], subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1 } };
    const artifactDigest = await pushManifest(reg.url, repository, 'bundle', artifact);
    await pushManifest(reg.url, repository, digest.replace(':', '-'), {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: artifactDigest, size: JSON.stringify(artifact).length, artifactType: BUNDLE_TYPE }],
    });
    const v = await verifier(reg.host).verify(`${reg.host}/${repository}@${digest}`);
    assert.equal(v.outcome, 'Verified', v.message);
    assert.equal(v.source, 'sigstore-bundle');
    assert.equal(v.verifiedBy, 'ci');
  });

  test('with tags: resolve, a tag is resolved to its digest and verified', async (t) => {
    if (skipWithoutRegistry(t) || reg === undefined) return;
    const { digest } = await pushSigned(reg, 'team/tagged', release);
    const v = await verifier(reg.host, { tags: 'resolve' }).verify(`${reg.host}/team/tagged:v1`);
    assert.equal(v.outcome, 'Verified', v.message);
    assert.equal(v.digest, digest);
    assert.equal(v.pinnedImage, `${reg.host}/team/tagged:v1@${digest}`);
  });
});

describe('registry down', () => {
  test('a registry that was stopped is RegistryUnavailable, never Verified', async (t) => {
    if (skipWithoutRegistry(t)) return;
    const reg = await startRegistry();
    let image: string;
    try {
      ({ image } = await pushSigned(reg, 'team/app', release));
      assert.equal((await verifier(reg.host).verify(image)).outcome, 'Verified');
    } finally {
      await reg.stop();
    }
    const v = await verifier(reg.host).verify(image);
    assert.equal(v.outcome, 'RegistryUnavailable');
    assert.equal(v.signed, false);
    assert.equal(v.verifiedBy, '');
    assert.equal(isBlocking(v), true);
    assert.match(v.message, new RegExp(`registry ${reg.host.replace(/\./g, '\\.')} did not answer usefully \\(ECONNREFUSED: .*\\) after 3 tries`));
  });

  test('a closed port is RegistryUnavailable', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const v = await verifier(host).verify(`${host}/team/app@sha256:${'a'.repeat(64)}`);
    assert.equal(v.outcome, 'RegistryUnavailable');
    assert.ok(v.message.includes(`check that ${host} is up and reachable from where Lattice runs`), v.message);
  });
});
