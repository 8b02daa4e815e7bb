/**
 * Offline tests of the supply-chain library: registry scopes, the ImageProvider schema, digest
 * enforcement, cosign and Sigstore-bundle verification against an in-memory registry (fake fetch),
 * caching, retries and registry authentication. The same outcomes against a real registry are in
 * supplychain-registry.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { imageProviderSchema, type ImageProvider } from '../src/api/imageprovider/v1alpha1.ts';
import { parseImageReference, type ImageReference } from '../src/supplychain/reference.ts';
import { parseRegistryScope, scopeCovers } from '../src/supplychain/scope.ts';
import { parsePublicKey, verifySignature } from '../src/supplychain/keys.ts';
import { credentialsFromDockerConfig, isLoopbackRegistry, parseChallenge, registryBaseUrl } from '../src/supplychain/registry.ts';
import { findProvider, ImageVerifier, isBlocking, type ImageVerifierOptions } from '../src/supplychain/verify.ts';
import { FakeRegistry, type FakeAuth } from './fixtures/supplychain/fake-registry.ts';
import { cosignStatement, dsseBundle, generateKey, signBytes, simpleSigningPayload, BUNDLE_TYPE, type TestKey } from './fixtures/supplychain/signing.ts';
import { generateKeyPairSync, sign } from 'node:crypto';

const HOST = 'registry.example.com';
const REPO = 'team/app';

function ref(text: string): ImageReference {
  const parsed = parseImageReference(text);
  assert.ok(parsed.ok, `test reference ${text} must parse`);
  return parsed.ref;
}

function provider(name: string, registry: string, keys: { name: string; key: TestKey }[] = [], enforce = true): ImageProvider {
  return imageProviderSchema.parse({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'ImageProvider',
    metadata: { name, namespace: 'lattice-system' },
    spec: { registry, ...(keys.length > 0 ? { trust: { enforce, keys: keys.map((k) => ({ name: k.name, publicKey: k.key.publicKeyPem })) } } : {}) },
  });
}

const release = generateKey('ecdsa');
const ci = generateKey('ed25519');
const stranger = generateKey('ecdsa');
const trusted = [
  { name: 'release', key: release },
  { name: 'ci', key: ci },
];

/** A verifier over `reg` that never waits between retries; `sleeps` records the delays asked for. */
function verifierFor(reg: FakeRegistry, providers: ImageProvider[], extra: Partial<ImageVerifierOptions> = {}) {
  const sleeps: number[] = [];
  let clock = 0;
  const verifier = new ImageVerifier({
    providers,
    fetch: reg.fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    ...extra,
  });
  return { verifier, sleeps };
}

function signedImage(reg: FakeRegistry, key: TestKey, opts: { reference?: string; digestInPayload?: string; repo?: string } = {}) {
  const repo = opts.repo ?? REPO;
  const digest = reg.putImage(repo);
  const payload = simpleSigningPayload(opts.reference ?? `${HOST}/${repo}`, opts.digestInPayload ?? digest);
  reg.putSignature(repo, digest, [{ payload, signature: signBytes(key, payload).toString('base64') }]);
  return { digest, image: `${HOST}/${repo}@${digest}`, payload };
}

describe('registry scopes (ImageProvider spec.registry)', () => {
  test('a path prefix matches on whole path components, not as a string prefix', () => {
    const parsed = parseRegistryScope('registry.example.com/team');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.scope, { host: 'registry.example.com', prefix: 'team' });
    assert.equal(scopeCovers(parsed.scope, ref('registry.example.com/team/api@sha256:' + 'a'.repeat(64))), true);
    assert.equal(scopeCovers(parsed.scope, ref('registry.example.com/team')), true);
    assert.equal(scopeCovers(parsed.scope, ref('registry.example.com/teamfoo/x')), false);
    assert.equal(scopeCovers(parsed.scope, ref('registry.example.com/other/team')), false);
    assert.equal(scopeCovers(parsed.scope, ref('other.example.com/team/api')), false);
  });

  test('findProvider picks the longest matching prefix, and no provider for a sibling path', () => {
    const whole = provider('whole', 'registry.example.com');
    const team = provider('team', 'registry.example.com/team');
    const deep = provider('deep', 'registry.example.com/team/payments');
    const all = [whole, team, deep];
    assert.equal(findProvider(all, ref('registry.example.com/team/payments/api'))?.metadata.name, 'deep');
    assert.equal(findProvider(all, ref('registry.example.com/team/paymentsx'))?.metadata.name, 'team');
    assert.equal(findProvider(all, ref('registry.example.com/teamfoo/x'))?.metadata.name, 'whole');
    assert.equal(findProvider([team, deep], ref('registry.example.com/teamfoo/x')), undefined);
    assert.equal(findProvider(all, ref('registry.example.com:5000/team/api')), undefined, 'a port is part of the host');
  });

  test('Docker Hub aliases are one registry; single names are under library/', () => {
    const hub = provider('hub', 'index.docker.io/library');
    assert.equal(findProvider([hub], ref('nginx:1.27'))?.metadata.name, 'hub');
    assert.equal(findProvider([hub], ref('docker.io/library/redis'))?.metadata.name, 'hub');
    assert.equal(findProvider([hub], ref('bitnami/redis')), undefined);
  });

  test('invalid scopes are refused with a message saying what to write', () => {
    const noDot = parseRegistryScope('myregistry/team');
    assert.equal(noDot.ok, false);
    assert.match(!noDot.ok ? noDot.error : '', /has no "\." or port.*docker\.io\/myregistry/);
    const scheme = parseRegistryScope('https://registry.example.com');
    assert.match(!scheme.ok ? scheme.error : '', /has a URL scheme: write the host without it, e.g. registry.example.com/);
    const bad = parseRegistryScope('registry.example.com/Team');
    assert.match(!bad.ok ? bad.error : '', /"Team" is not valid/);
    const port = parseRegistryScope('127.0.0.1:5000/');
    assert.ok(port.ok);
    assert.deepEqual(port.scope, { host: '127.0.0.1:5000', prefix: '' });
  });
});

describe('ImageProvider schema', () => {
  test('the fixture parses, with enforce defaulting to true', () => {
    const doc = parseYaml(readFileSync(new URL('./fixtures/supplychain/imageprovider.yaml', import.meta.url), 'utf8')) as unknown;
    const parsed = imageProviderSchema.parse(doc);
    assert.equal(parsed.spec.registry, 'registry.example.com/team');
    assert.deepEqual(parsed.spec.credentials, { secret: 'registry/team-pull', provider: 'vault' });
    assert.equal(parsed.spec.trust?.enforce, true);
    assert.deepEqual(parsed.spec.trust?.keys?.map((k) => k.name), ['release', 'ci']);
  });

  test('refuses RSA and private keys, duplicate key names, other namespaces and unknown fields', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const base = { apiVersion: 'lattice.dev/v1alpha1', kind: 'ImageProvider', metadata: { name: 'p' } };
    const messages = (doc: unknown) => {
      const r = imageProviderSchema.safeParse(doc);
      assert.equal(r.success, false);
      return r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    };
    assert.deepEqual(messages({ ...base, spec: { registry: HOST, trust: { keys: [{ name: 'k', publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }) }] } } }), [
      'spec.trust.keys.0.publicKey: publicKey is a rsa key: only ECDSA P-256 (cosign\'s default) and Ed25519 keys are accepted',
    ]);
    assert.deepEqual(messages({ ...base, spec: { registry: HOST, trust: { keys: [{ name: 'k', publicKey: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) }] } } }), [
      'spec.trust.keys.0.publicKey: publicKey is a private key: give the public key only (the content of cosign.pub), never the private key',
    ]);
    assert.deepEqual(
      messages({ ...base, spec: { registry: HOST, trust: { keys: [{ name: 'k', publicKey: release.publicKeyPem }, { name: 'k', publicKey: ci.publicKeyPem }] } } }),
      ['spec.trust.keys.1.name: key name "k" is used twice: give each key its own name'],
    );
    assert.deepEqual(messages({ ...base, metadata: { name: 'p', namespace: 'team-a' }, spec: { registry: HOST } }), [
      'metadata.namespace: ImageProvider is a platform resource, read only in namespace lattice-system (which registries and signing keys are trusted is a platform decision), not team-a: move it there, or leave namespace out in a file given to lattice render',
    ]);
    assert.deepEqual(messages({ ...base, spec: { registry: HOST, trust: { keys: [] } } }), ['spec.trust.keys: list at least one trusted key']);
    assert.equal(messages({ ...base, spec: { registry: HOST, pullSecret: 'x' } })[0]?.startsWith('spec: Unrecognized key'), true);
  });

  test('accepts P-256 and Ed25519, refuses P-384', () => {
    assert.equal((parsePublicKey(release.publicKeyPem) as { algorithm?: string }).algorithm, 'ecdsa-p256-sha256');
    assert.equal((parsePublicKey(ci.publicKeyPem) as { algorithm?: string }).algorithm, 'ed25519');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.deepEqual(parsePublicKey(p384), { ok: false, error: "is an ECDSA key on curve secp384r1: only P-256 (cosign's default) and Ed25519 keys are accepted" });
  });

  test('ECDSA signatures verify in DER and IEEE P1363 form', () => {
    const parsed = parsePublicKey(release.publicKeyPem);
    assert.ok(parsed.ok);
    const key = { name: 'release', algorithm: parsed.algorithm, key: parsed.key };
    const data = Buffer.from('payload');
    assert.equal(verifySignature(key, data, sign('sha256', data, release.privateKey)), true);
    assert.equal(verifySignature(key, data, sign('sha256', data, { key: release.privateKey, dsaEncoding: 'ieee-p1363' })), true);
    assert.equal(verifySignature(key, Buffer.from('other'), sign('sha256', data, release.privateKey)), false);
    assert.equal(verifySignature(key, data, Buffer.from('junk')), false);
  });
});

describe('digest enforcement', () => {
  test('a tag without digest is ImageNotPinned, with the commands that print the digest, and no registry request', async () => {
    const reg = new FakeRegistry(HOST);
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(`${HOST}/team/app:1.4.2`);
    assert.equal(v.outcome, 'ImageNotPinned');
    assert.equal(v.signed, false);
    assert.equal(v.verifiedBy, '');
    assert.equal(v.enforced, true);
    assert.equal(v.provider, 'team');
    assert.equal(isBlocking(v), true);
    assert.match(v.message, /^image "registry\.example\.com\/team\/app:1\.4\.2" is not pinned to a digest: /);
    assert.ok(v.message.includes('`crane digest registry.example.com/team/app:1.4.2`'));
    assert.ok(v.message.includes('`docker buildx imagetools inspect registry.example.com/team/app:1.4.2`'));
    assert.ok(v.message.endsWith('write registry.example.com/team/app:1.4.2@sha256:<digest>.'));
    assert.equal(reg.count(), 0);
  });

  test('an image with no tag and no digest, and one without a provider, are both ImageNotPinned', async () => {
    const { verifier } = verifierFor(new FakeRegistry(HOST), []);
    for (const image of ['nginx', 'nginx:latest']) {
      const v = await verifier.verify(image);
      assert.equal(v.outcome, 'ImageNotPinned');
      assert.equal(v.provider, undefined);
    }
  });

  test('an invalid reference is InvalidReference with the parser message', async () => {
    const { verifier } = verifierFor(new FakeRegistry(HOST), []);
    const v = await verifier.verify('Registry.example.com/Team/App');
    assert.equal(v.outcome, 'InvalidReference');
    assert.match(v.message, /is not a valid image reference: repository component "Team" is not valid/);
  });

  test('with tags: resolve, the tag is resolved to its digest and the result carries the pinned image', async () => {
    const reg = new FakeRegistry(HOST);
    const { digest } = signedImage(reg, release);
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)], { tags: 'resolve' });
    const v = await verifier.verify(`${HOST}/${REPO}:v1`);
    assert.equal(v.outcome, 'Verified');
    assert.equal(v.digest, digest);
    assert.equal(v.pinnedImage, `${HOST}/${REPO}:v1@${digest}`);
    assert.equal(reg.requests[0]?.method, 'HEAD');
    assert.equal(reg.requests[0]?.url, `https://${HOST}/v2/${REPO}/manifests/v1`);
  });

  test('with tags: resolve, an image without provider is NotRequired but still pinned; a missing tag is ImageNotFound', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = reg.putImage('other/app', 'stable');
    const { verifier } = verifierFor(reg, [], { tags: 'resolve' });
    const v = await verifier.verify(`${HOST}/other/app:stable`);
    assert.equal(v.outcome, 'NotRequired');
    assert.equal(v.pinnedImage, `${HOST}/other/app:stable@${digest}`);
    assert.equal(isBlocking(v), false);
    const missing = await verifier.verify(`${HOST}/other/app:nope`);
    assert.equal(missing.outcome, 'ImageNotFound');
    assert.equal(missing.enforced, true);
    assert.match(missing.message, /has no tag nope, so it cannot be resolved to a digest/);
  });
});

describe('signature verification (in-memory registry)', () => {
  test('NotRequired without a provider, or with a provider without trust keys; no registry request', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = reg.putImage(REPO);
    const { verifier } = verifierFor(reg, [provider('creds-only', `${HOST}/team`)]);
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'NotRequired');
    assert.equal(v.signed, false);
    assert.equal(v.verifiedBy, '');
    assert.equal(v.message, `ImageProvider "creds-only" covers image "${HOST}/${REPO}@${digest}" but lists no trusted keys, so no signature is required`);
    const other = await verifier.verify(`other.example.com/x@${digest}`);
    assert.equal(other.outcome, 'NotRequired');
    assert.equal(other.provider, undefined);
    assert.equal(reg.count(), 0);
  });

  for (const [kind, key, name] of [
    ['ECDSA P-256', release, 'release'],
    ['Ed25519', ci, 'ci'],
  ] as const) {
    test(`a valid ${kind} cosign signature is Verified and names the key`, async () => {
      const reg = new FakeRegistry(HOST);
      const { digest, image } = signedImage(reg, key);
      const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
      const v = await verifier.verify(image);
      assert.deepEqual(v, {
        image,
        digest,
        pinnedImage: image,
        provider: 'team',
        outcome: 'Verified',
        signed: true,
        verifiedBy: name,
        source: 'cosign-signature',
        enforced: true,
        message: `image "${image}" (${digest}) is verified: its cosign signature is signed by key "${name}" of ImageProvider "team" (${HOST}/team).`,
      });
      assert.equal(isBlocking(v), false);
      assert.deepEqual(
        reg.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`),
        [`HEAD /v2/${REPO}/manifests/${digest}`, `GET /v2/${REPO}/manifests/${digest.replace(':', '-')}.sig`, `GET /v2/${REPO}/blobs/${JSON.parse(reg.manifests.get(`${REPO}:${digest.replace(':', '-')}.sig`)!.bytes.toString()).layers[0].digest}`],
      );
    });
  }

  test('a signature by an untrusted key is SignatureInvalid, naming the keys tried and how to sign', async () => {
    const reg = new FakeRegistry(HOST);
    const { digest, image } = signedImage(reg, stranger);
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(image);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.equal(v.signed, false);
    assert.equal(v.verifiedBy, '');
    assert.equal(isBlocking(v), true);
    assert.ok(v.message.includes('the signature does not verify with any trusted key (tried: release, ci): the image was signed with a key this provider does not trust, or the signed payload was changed after signing'));
    assert.ok(v.message.includes(`\`cosign sign --key cosign.key ${HOST}/${REPO}@${digest}\``));
    assert.ok(v.message.includes('ask the platform team to add your public key to ImageProvider "team"'));
  });

  test('a payload changed in storage is SignatureInvalid saying it was tampered with', async () => {
    const reg = new FakeRegistry(HOST);
    const { image, payload } = signedImage(reg, release);
    const payloadDigest = [...reg.blobs.entries()].find(([, b]) => b.equals(payload))![0];
    reg.tamperedBlobs.set(payloadDigest, Buffer.from(payload.toString().replace('"optional":null', '"optional":{"x":1}')));
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(image);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.match(v.message, new RegExp(`the signed payload served for blob ${payloadDigest} has digest sha256:[a-f0-9]{64}: it was changed in the registry's storage or on the way`));
    assert.ok(v.message.includes('Treat the signature stored in the registry as suspect'));
  });

  test('a payload re-uploaded with changes after signing fails as not verifying with any trusted key', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = reg.putImage(REPO);
    const signedPayload = simpleSigningPayload(`${HOST}/${REPO}`, digest);
    const changed = simpleSigningPayload(`${HOST}/${REPO}`, digest, 'cosign container image signature ');
    reg.putSignature(REPO, digest, [{ payload: changed, signature: signBytes(release, signedPayload).toString('base64') }]);
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.ok(v.message.includes('or the signed payload was changed after signing'));
  });

  test('a valid signature of another digest is SignatureInvalid naming both digests', async () => {
    const reg = new FakeRegistry(HOST);
    const otherDigest = `sha256:${'b'.repeat(64)}`;
    const { digest, image } = signedImage(reg, release, { digestInPayload: otherDigest });
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(image);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.ok(v.message.includes(`the signature by key "release" is for image digest ${otherDigest}, not ${digest}: it signs a different image`));
    assert.ok(v.message.includes(`Sign this exact image: \`cosign sign --key cosign.key ${HOST}/${REPO}@${digest}\``));
  });

  test('a valid signature naming another repository is SignatureInvalid; Docker Hub host aliases are the same repository', async () => {
    const reg = new FakeRegistry(HOST);
    const { image } = signedImage(reg, release, { reference: `${HOST}/team/other` });
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(image);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.ok(v.message.includes(`the signature by key "release" is for repository ${HOST}/team/other, not ${HOST}/${REPO}: a signature only vouches for the repository it names`));

    const hub = new FakeRegistry('registry-1.docker.io');
    const digest = hub.putImage('library/nginx');
    const payload = simpleSigningPayload(`index.docker.io/library/nginx@${digest}`, digest);
    hub.putSignature('library/nginx', digest, [{ payload, signature: signBytes(release, payload).toString('base64') }]);
    const { verifier: hubVerifier } = verifierFor(hub, [provider('hub', 'docker.io/library', trusted)]);
    const ok = await hubVerifier.verify(`nginx@${digest}`);
    assert.equal(ok.outcome, 'Verified');
    assert.equal(hub.requests[0]?.url, `https://registry-1.docker.io/v2/library/nginx/manifests/${digest}`);
  });

  test('one valid layer among invalid ones verifies; all invalid reports the most telling problem', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = reg.putImage(REPO);
    const good = simpleSigningPayload(`${HOST}/${REPO}`, digest);
    const wrongDigest = simpleSigningPayload(`${HOST}/${REPO}`, `sha256:${'c'.repeat(64)}`);
    reg.putSignature(REPO, digest, [
      { payload: good, signature: signBytes(stranger, good).toString('base64') },
      { payload: wrongDigest, signature: signBytes(release, wrongDigest).toString('base64') },
    ]);
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.ok(v.message.includes(`is for image digest sha256:${'c'.repeat(64)}`), v.message);

    reg.putSignature(REPO, digest, [
      { payload: good, signature: signBytes(stranger, good).toString('base64') },
      { payload: good, signature: signBytes(ci, good).toString('base64') },
    ]);
    const again = await new ImageVerifier({ providers: [provider('team', `${HOST}/team`, trusted)], fetch: reg.fetch }).verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(again.outcome, 'Verified');
    assert.equal(again.verifiedBy, 'ci');
  });

  test('no signature at all is SignatureMissing with the cosign sign command', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = reg.putImage(REPO);
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'SignatureMissing');
    assert.equal(v.signed, false);
    assert.equal(
      v.message,
      `image "${HOST}/${REPO}@${digest}" is not signed: ImageProvider "team" (${HOST}/team) requires its images to be signed by one of the keys release, ci, and the registry has no cosign signature (tag ${digest.replace(':', '-')}.sig in ${REPO}) and no Sigstore bundle attached to ${digest}. ` +
        `Sign it with one of those keys: \`cosign sign --key cosign.key ${HOST}/${REPO}@${digest}\`, then deploy again.`,
    );
    // The referrers API is asked first, then the referrers tag schema.
    assert.ok(reg.requests.some((r) => r.url.endsWith(`/referrers/${digest}?artifactType=${encodeURIComponent(BUNDLE_TYPE)}`)));
    assert.ok(reg.requests.some((r) => r.url.endsWith(`/manifests/${digest.replace(':', '-')}`)));
  });

  test('a digest the registry does not have is ImageNotFound', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = `sha256:${'d'.repeat(64)}`;
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'ImageNotFound');
    assert.match(v.message, /has no manifest sha256:d{64}, so there is nothing to verify or run/);
  });

  test('with trust.enforce false, a missing signature is reported but not blocking', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = reg.putImage(REPO);
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted, false)]);
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'SignatureMissing');
    assert.equal(v.enforced, false);
    assert.equal(isBlocking(v), false);
    assert.ok(v.message.endsWith('This is reported, not enforced: ImageProvider "team" (registry.example.com/team) has trust.enforce false.'));
  });
});

describe('Sigstore bundles', () => {
  function attachBundle(reg: FakeRegistry, digest: string, bundle: object) {
    const config = reg.putBlob('application/vnd.oci.empty.v1+json', Buffer.from('{}'));
    const layer = reg.putBlob(BUNDLE_TYPE, Buffer.from(JSON.stringify(bundle)));
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: BUNDLE_TYPE, config, layers: [layer], subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1 } };
    const manifestDigest = reg.putManifest(REPO, manifest);
    const size = JSON.stringify(manifest).length;
    reg.putManifest(REPO, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size, artifactType: BUNDLE_TYPE }] }, digest.replace(':', '-'));
  }

  for (const [kind, key, name] of [
    ['ECDSA P-256', release, 'release'],
    ['Ed25519', ci, 'ci'],
  ] as const) {
    test(`a ${kind} DSSE bundle attached as a referrer (tag schema) is Verified`, async () => {
      const reg = new FakeRegistry(HOST);
      const digest = reg.putImage(REPO);
      attachBundle(reg, digest, dsseBundle(key, cosignStatement(digest)));
      const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
      const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
      assert.equal(v.outcome, 'Verified', v.message);
      assert.equal(v.verifiedBy, name);
      assert.equal(v.source, 'sigstore-bundle');
      assert.ok(v.message.includes(`a Sigstore bundle attached to it is signed by key "${name}"`));
    });
  }

  test('a bundle listed by the OCI 1.1 referrers API is Verified without the tag-schema fallback', async () => {
    const reg = new FakeRegistry(HOST);
    reg.referrersApi = true;
    const digest = reg.putImage(REPO);
    const config = reg.putBlob('application/vnd.oci.empty.v1+json', Buffer.from('{}'));
    const layer = reg.putBlob(BUNDLE_TYPE, Buffer.from(JSON.stringify(dsseBundle(release, cosignStatement(digest)))));
    reg.putManifest(REPO, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: BUNDLE_TYPE, config, layers: [layer], subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1 } });
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'Verified', v.message);
    assert.equal(v.source, 'sigstore-bundle');
    assert.equal(reg.requests.filter((r) => r.url.endsWith(`/manifests/${digest.replace(':', '-')}`)).length, 0, 'no fallback to the referrers tag schema');
  });

  test('a bundle given by the caller verifies without any registry request (offline render)', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = `sha256:${'e'.repeat(64)}`;
    const unrelated = dsseBundle(release, cosignStatement(`sha256:${'f'.repeat(64)}`));
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)], { bundles: [unrelated, dsseBundle(release, cosignStatement(digest))] });
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'Verified');
    assert.equal(v.source, 'given-bundle');
    assert.equal(v.verifiedBy, 'release');
    assert.equal(reg.count(), 0);
  });

  test('an invalid given bundle with the registry unreachable is RegistryUnavailable, and the message names the bundle problem', async () => {
    const reg = new FakeRegistry(HOST);
    reg.failures = Array<'network'>(10).fill('network');
    const digest = `sha256:${'e'.repeat(64)}`;
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)], { bundles: [dsseBundle(stranger, cosignStatement(digest))], retry: { attempts: 1 } });
    const v = await verifier.verify(`${HOST}/${REPO}@${digest}`);
    assert.equal(v.outcome, 'RegistryUnavailable');
    assert.ok(v.message.includes("A signature found before that did not verify: the Sigstore bundle's signature does not verify with any trusted key (tried: release, ci)"), v.message);
  });

  test('bundles that are attestations, signed by other keys, changed, or for another digest are SignatureInvalid', async () => {
    const shared = new FakeRegistry(HOST);
    const digest = shared.putImage(REPO);
    const image = `${HOST}/${REPO}@${digest}`;
    const cases: [string, Record<string, unknown>, string][] = [
      ['attestation', dsseBundle(release, cosignStatement(digest, 'https://slsa.dev/provenance/v1')), 'has predicateType "https://slsa.dev/provenance/v1": it is an attestation about the image, not an image signature'],
      ['untrusted', dsseBundle(stranger, cosignStatement(digest)), "the Sigstore bundle's signature does not verify with any trusted key (tried: release, ci)"],
    ];
    const changed = dsseBundle(release, cosignStatement(digest));
    const env = changed.dsseEnvelope as { payload: string };
    env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('"predicate":{}', '"predicate":{"x":1}')).toString('base64');
    cases.push(['changed', changed, 'or its statement was changed after signing']);
    for (const [label, bundle, expected] of cases) {
      const { verifier } = verifierFor(shared, [provider('team', `${HOST}/team`, trusted)], { bundles: [bundle] });
      const v = await verifier.verify(image);
      assert.equal(v.outcome, 'SignatureInvalid', label);
      assert.ok(v.message.includes(expected), `${label}: ${v.message}`);
    }
    // A bundle for another digest attached to this image in the registry: the signature is valid, the subject is not this image.
    const reg = new FakeRegistry(HOST);
    const real = reg.putImage(REPO);
    attachBundle(reg, real, dsseBundle(release, cosignStatement(`sha256:${'e'.repeat(64)}`)));
    const v = await verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]).verifier.verify(`${HOST}/${REPO}@${real}`);
    assert.equal(v.outcome, 'SignatureInvalid');
    assert.ok(v.message.includes(`the Sigstore bundle signed by key "release" is for image digest sha256:${'e'.repeat(64)}, not ${real}`), v.message);
  });
});

describe('cache, retries and registry access', () => {
  test('a Verified result is cached by digest: the second verification makes no request', async () => {
    const reg = new FakeRegistry(HOST);
    const { digest, image } = signedImage(reg, release);
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    assert.equal((await verifier.verify(image)).outcome, 'Verified');
    const first = reg.count();
    assert.ok(first > 0);
    const again = await verifier.verify(`${HOST}/${REPO}:v1@${digest}`);
    assert.equal(again.outcome, 'Verified');
    assert.equal(again.image, `${HOST}/${REPO}:v1@${digest}`, 'the cached result is reported for the image as written');
    assert.equal(reg.count(), first);
  });

  test('failures are not cached; concurrent verifications of one image share one check', async () => {
    const reg = new FakeRegistry(HOST);
    const digest = reg.putImage(REPO);
    const image = `${HOST}/${REPO}@${digest}`;
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const [a, b] = await verifier.verifyAll([image, image]);
    assert.equal(a?.outcome, 'SignatureMissing');
    assert.equal(b?.outcome, 'SignatureMissing');
    const once = reg.count();
    const payload = simpleSigningPayload(`${HOST}/${REPO}`, digest);
    reg.putSignature(REPO, digest, [{ payload, signature: signBytes(release, payload).toString('base64') }]);
    assert.equal((await verifier.verify(image)).outcome, 'Verified');
    assert.ok(reg.count() > once);
  });

  test('503 answers are retried with exponential backoff, a bounded number of times, then RegistryUnavailable', async () => {
    const reg = new FakeRegistry(HOST);
    reg.failures = Array<number>(10).fill(503);
    const { verifier, sleeps } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(`${HOST}/${REPO}@sha256:${'a'.repeat(64)}`);
    assert.equal(v.outcome, 'RegistryUnavailable');
    assert.equal(v.signed, false);
    assert.equal(v.enforced, true);
    assert.deepEqual(sleeps, [250, 500, 1000]);
    assert.equal(reg.count(), 4);
    assert.ok(v.message.includes(`registry ${HOST} did not answer usefully (HTTP 503) after 4 tries over 1.8 s`), v.message);
    assert.ok(v.message.includes('An image that cannot be checked is never treated as verified'));
  });

  test('the retry budget stops retrying early; delays are injectable', async () => {
    const reg = new FakeRegistry(HOST);
    reg.failures = Array<'network'>(10).fill('network');
    const { verifier, sleeps } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)], { retry: { attempts: 6, baseDelayMs: 100, budgetMs: 350 } });
    const v = await verifier.verify(`${HOST}/${REPO}@sha256:${'a'.repeat(64)}`);
    assert.equal(v.outcome, 'RegistryUnavailable');
    assert.deepEqual(sleeps, [100, 200], 'a third delay (400 ms) would pass the 350 ms budget');
    assert.equal(reg.count(), 3);
    assert.ok(v.message.includes('(ECONNREFUSED: connect ECONNREFUSED registry.example.com) after 3 tries'), v.message);
  });

  test('a transient failure followed by success verifies', async () => {
    const reg = new FakeRegistry(HOST);
    const { image } = signedImage(reg, ci);
    reg.failures = [502, 'network'];
    const { verifier, sleeps } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]);
    const v = await verifier.verify(image);
    assert.equal(v.outcome, 'Verified');
    assert.deepEqual(sleeps, [250, 500]);
  });

  test('bearer token flow: the token service is asked with the credentials, once per repository', async () => {
    const auth: FakeAuth = { kind: 'bearer', realm: 'https://auth.example.com/token', username: 'robot', password: 's3cret', token: 'tok-123' };
    const reg = new FakeRegistry(HOST, auth);
    const { image } = signedImage(reg, release);
    const seen: string[] = [];
    const { verifier } = verifierFor(reg, [provider('team', `${HOST}/team`, trusted)], {
      credentials: (p) => {
        seen.push(p.metadata.name);
        return { username: 'robot', password: 's3cret' };
      },
    });
    const v = await verifier.verify(image);
    assert.equal(v.outcome, 'Verified', v.message);
    assert.equal(reg.tokenRequests, 1);
    assert.deepEqual(seen, ['team']);
    const tokenUrl = new URL(reg.requests.find((r) => r.url.startsWith(auth.realm))!.url);
    assert.equal(tokenUrl.searchParams.get('service'), HOST);
    assert.equal(tokenUrl.searchParams.get('scope'), `repository:${REPO}:pull`);
    assert.ok(reg.requests.filter((r) => r.url.includes('/v2/')).slice(1).every((r) => r.authorization === 'Bearer tok-123'));
  });

  test('refused credentials are RegistryUnavailable saying which credential to check, never Verified', async () => {
    const reg = new FakeRegistry(HOST, { kind: 'bearer', realm: 'https://auth.example.com/token', username: 'robot', password: 'right', token: 't' });
    const { image } = signedImage(reg, release);
    const p = imageProviderSchema.parse({
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'ImageProvider',
      metadata: { name: 'team' },
      spec: { registry: `${HOST}/team`, credentials: { secret: 'registry/pull' }, trust: { keys: [{ name: 'release', publicKey: release.publicKeyPem }] } },
    });
    const { verifier } = verifierFor(reg, [p], { credentials: () => ({ username: 'robot', password: 'wrong' }) });
    const v = await verifier.verify(image);
    assert.equal(v.outcome, 'RegistryUnavailable');
    assert.ok(v.message.includes('the token service of registry registry.example.com refused the configured credentials (HTTP 401)'), v.message);
    assert.ok(v.message.includes('check that the credential "registry/pull" of ImageProvider "team" is current and can pull from it'));
    assert.ok(!v.message.includes('wrong'), 'the secret value never appears');
  });

  test('credentials are never sent to a token service over plain HTTP', async () => {
    const reg = new FakeRegistry(HOST, { kind: 'bearer', realm: 'http://auth.example.com/token', username: 'robot', password: 'pw', token: 't' });
    const { image } = signedImage(reg, release);
    const v = await verifierFor(reg, [provider('team', `${HOST}/team`, trusted)], { credentials: () => ({ username: 'robot', password: 'pw' }) }).verifier.verify(image);
    assert.equal(v.outcome, 'RegistryUnavailable');
    assert.ok(v.message.includes('asks for credentials to be sent to http://auth.example.com, which is not HTTPS'), v.message);
    assert.equal(reg.tokenRequests, 0);
  });

  test('basic authentication challenge is answered with the credentials', async () => {
    const reg = new FakeRegistry(HOST, { kind: 'basic', username: 'u', password: 'p' });
    const { image } = signedImage(reg, release);
    const ok = await verifierFor(reg, [provider('team', `${HOST}/team`, trusted)], { credentials: () => ({ username: 'u', password: 'p' }) }).verifier.verify(image);
    assert.equal(ok.outcome, 'Verified');
    const anonymous = await verifierFor(reg, [provider('team', `${HOST}/team`, trusted)]).verifier.verify(image);
    assert.equal(anonymous.outcome, 'RegistryUnavailable');
    assert.match(anonymous.message, /refused access to team\/app \(HTTP 401\) and no credentials are configured for it.*give ImageProvider "team" spec.credentials/);
  });

  test('registry helpers: loopback over http, challenges, Docker config credentials', () => {
    assert.equal(registryBaseUrl('127.0.0.1:5000'), 'http://127.0.0.1:5000');
    assert.equal(registryBaseUrl('localhost:5000'), 'http://localhost:5000');
    assert.equal(registryBaseUrl('[::1]:5000'), 'http://[::1]:5000');
    assert.equal(registryBaseUrl('registry.example.com'), 'https://registry.example.com');
    assert.equal(registryBaseUrl('docker.io'), 'https://registry-1.docker.io');
    assert.equal(isLoopbackRegistry('127.0.0.1.example.com'), false);
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
    });
    const config = JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hubpass').toString('base64') }, 'registry.example.com': { username: 'u', password: 'p:x' } } });
    assert.deepEqual(credentialsFromDockerConfig(config, 'docker.io'), { username: 'hubuser', password: 'hubpass' });
    assert.deepEqual(credentialsFromDockerConfig(config, 'registry.example.com'), { username: 'u', password: 'p:x' });
    assert.equal(credentialsFromDockerConfig(config, 'other.example.com'), undefined);
    assert.equal(credentialsFromDockerConfig('not json', 'docker.io'), undefined);
  });
});
