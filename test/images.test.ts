import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivePlatform } from '../src/compiler/platform/snapshot.ts';
import type { ImageVerification } from '../src/supplychain/verify.ts';
import { run } from '../src/cli/main.ts';
import { imagesToVerify } from '../src/compiler/platform/snapshot.ts';
import { loadDocuments } from '../src/cli/load.ts';
import { generateKey } from './fixtures/supplychain/signing.ts';
import { NOW, IMAGE, conditionOf, objectOf, permitAll, resultOf, service } from './support/fixtures.ts';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;

function withImages(objects: unknown[], images: ImageVerification[]): ReturnType<typeof derivePlatform> {
  return derivePlatform([permitAll(), ...objects].map((object) => ({ object })), { now: NOW, images: new Map(images.map((v) => [v.image, v])) });
}

const verified: ImageVerification = { image: IMAGE, digest: `sha256:${'a'.repeat(64)}`, outcome: 'Verified', signed: true, verifiedBy: 'release', provider: 'corp', enforced: true, message: 'verified' };

test('a verified image: ImageVerified=True naming the key and the provider', () => {
  const r = resultOf(withImages([service('web')], [verified]), 'shop/web');
  assert.equal(r.status.phase, 'Ready');
  const c = conditionOf(r, 'ImageVerified');
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'Verified');
  assert.equal(c.message, `Verified ${IMAGE} by key release of ImageProvider corp.`);
});

for (const outcome of ['SignatureMissing', 'SignatureInvalid', 'RegistryUnavailable', 'ImageNotFound'] as const) {
  test(`an enforced ${outcome} fails the service with nothing derived and the verifier's message`, () => {
    const v: ImageVerification = { ...verified, outcome, signed: false, verifiedBy: '', message: `because ${outcome}` };
    const r = resultOf(withImages([service('web')], [v]), 'shop/web');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    const c = conditionOf(r, 'ImageVerified');
    assert.equal(c.status, 'False');
    assert.equal(c.reason, outcome);
    assert.equal(c.message, `spec.workload.containers.main.image: because ${outcome}`);
  });
}

test('a failure under a non-enforcing provider is reported but does not block', () => {
  const v: ImageVerification = { ...verified, outcome: 'SignatureMissing', signed: false, verifiedBy: '', enforced: false };
  const r = resultOf(withImages([service('web')], [v]), 'shop/web');
  assert.equal(r.status.phase, 'Ready');
  assert.match(conditionOf(r, 'ImageVerified').message, /\(SignatureMissing, not enforced\)/);
});

test('a resolved tag: the Deployment carries the digest', () => {
  const tagged = 'registry.example.com/app:1.2.3';
  const pinned = `registry.example.com/app:1.2.3@sha256:${'b'.repeat(64)}`;
  const svc = service('web', { workload: { containers: { main: { image: tagged, resources: { limits: { cpu: '1', memory: '1Gi' } } } } } });
  const r = resultOf(withImages([svc], [{ ...verified, image: tagged, pinnedImage: pinned }]), 'shop/web');
  const containers = (objectOf(r, 'Deployment').spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers;
  assert.equal(containers[0]!.image, pinned);
});

test('without verification results: an unpinned image is ImageNotPinned with how to pin it', () => {
  const tagged = 'registry.example.com/app:1.2.3';
  const svc = service('web', { workload: { containers: { main: { image: tagged, resources: { limits: { cpu: '1', memory: '1Gi' } } } } } });
  const r = resultOf(derivePlatform([{ object: permitAll() }, { object: svc }], { now: NOW }), 'shop/web');
  assert.equal(r.status.phase, 'Failed');
  const c = conditionOf(r, 'ImageVerified');
  assert.equal(c.reason, 'ImageNotPinned');
  assert.match(c.message, /image registry\.example\.com\/app:1\.2\.3 is not pinned by digest/);
  assert.match(c.message, /`crane digest registry\.example\.com\/app:1\.2\.3` or `docker buildx imagetools inspect registry\.example\.com\/app:1\.2\.3`, and write registry\.example\.com\/app@sha256:<digest>/);
});

test('without verification results: an image under an enforcing provider is never treated as verified', () => {
  const provider = {
    apiVersion: 'lattice.dev/v1alpha1', kind: 'ImageProvider', metadata: { name: 'corp', namespace: 'lattice-system' },
    spec: { registry: 'registry.example.com', trust: { enforce: true, keys: [{ name: 'k', publicKey: generateKey('ecdsa').publicKeyPem }] } },
  };
  const result = derivePlatform([{ object: permitAll() }, { object: provider }, { object: service('web') }], { now: NOW });
  assert.deepEqual(result.problems, []);
  const r = resultOf(result, 'shop/web');
  assert.equal(r.status.phase, 'Failed');
  assert.equal(conditionOf(r, 'ImageVerified').reason, 'RegistryUnavailable');
  assert.match(conditionOf(r, 'ImageVerified').message, /must be signed by a key of ImageProvider corp, but its signature was not checked in this run/);
});

test('every example image is signed by a bundle in examples/signatures (so rendering the examples needs no network)', async () => {
  const loaded = loadDocuments([EXAMPLES]);
  const { images } = imagesToVerify(loaded.documents);
  assert.ok(images.length > 0);
  let stdout = '';
  const code = await run(['images', 'verify', EXAMPLES], { stdout: (t) => void (stdout += t), stderr: () => undefined });
  assert.equal(code, 0, stdout);
  for (const image of images.filter((i) => i.startsWith('registry.example.com/'))) {
    assert.match(stdout, new RegExp(`${image.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+sha256:\\S+\\s+Verified\\s+key (release|models) \\(ImageProvider example-registry\\)`), `${image} is not verified offline: run npm run examples:sign`);
  }
});

test('lattice images verify: an unpinned image fails with exit 1 and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-images-'));
  writeFileSync(join(dir, 's.yaml'), JSON.stringify(service('web', { workload: { containers: { main: { image: 'nginx:1.27', resources: { limits: { cpu: '1', memory: '1Gi' } } } } } })));
  let stdout = '';
  const code = await run(['images', 'verify', dir], { stdout: (t) => void (stdout += t), stderr: () => undefined });
  assert.equal(code, 1);
  assert.match(stdout, /^IMAGE\s+DIGEST\s+RESULT\s+VERIFIED BY \/ WHY NOT\nnginx:1\.27\s+-\s+FAIL ImageNotPinned\s+.*not pinned/m);
});
