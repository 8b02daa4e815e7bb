/**
 * The storage-and-policy part of the reference corpus (test/reference/storage-policy/): specs in the
 * original Lattice's shapes (github.com/evan-hines-js/lattice) for persistent and shared volumes,
 * ImageProvider pull secrets and trust authorities, Velero backup, the reference's Cedar vocabulary
 * and LatticeQuota. Each service must render Ready under the corpus's own (realistic, not
 * permit-all) policies; each derived object is checked field by field and against its upstream
 * schema; each new permission is tried without its permit and must be refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseYamlDocuments } from '../src/api/source.ts';
import { derivePlatform, type PlatformDocument, type PlatformResult } from '../src/compiler/platform/snapshot.ts';
import type { KubeObject } from '../src/compiler/types.ts';
import { NOW, conditionOf, objectOf, resultOf } from './support/fixtures.ts';
import { validateObject } from './support/schemas.ts';

/** Parsed YAML data (what JSON.parse returns): the tests reach into documents by known paths. */
type Json = ReturnType<typeof JSON.parse>;

const DIR = fileURLToPath(new URL('./reference/storage-policy/', import.meta.url));

/** The corpus documents, optionally edited (a deep copy), with their file positions. */
function corpus(edit?: (docs: Json[]) => void): PlatformDocument[] {
  const out: PlatformDocument[] = [];
  const objects: Json[] = [];
  const locates: PlatformDocument['locate'][] = [];
  for (const file of ['platform.yaml', 'media.yaml']) {
    const { documents, errors } = parseYamlDocuments(readFileSync(`${DIR}${file}`, 'utf8'), `${DIR}${file}`);
    assert.deepEqual(errors, []);
    for (const d of documents) {
      objects.push(structuredClone(d.object) as Json);
      locates.push(d.locate);
    }
  }
  edit?.(objects);
  objects.forEach((object, i) => out.push(locates[i] ? { object, locate: locates[i] } : { object }));
  return out;
}

function derive(edit?: (docs: Json[]) => void): PlatformResult {
  return derivePlatform(corpus(edit), { now: NOW });
}

function doc(docs: Json[], kind: string, name: string): Json {
  const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!d) throw new Error(`no ${kind} ${name} in the corpus`);
  return d;
}

const result = derive();
const jellyfin = resultOf(result, 'media/jellyfin');
const sonarr = resultOf(result, 'media/sonarr');

test('the corpus renders: no platform problem, every service Ready', () => {
  // half-broken is broken on purpose (and disabled): it is reported, nothing else is.
  assert.deepEqual(result.problems.filter((p) => p.name !== 'half-broken').map((p) => `${p.kind} ${p.name}: ${p.diagnostics.map((d) => d.message).join('; ')}`), []);
  assert.equal(result.problems.filter((p) => p.name === 'half-broken').length, 1);
  for (const r of result.services) assert.equal(r.status.phase, 'Ready', `${r.key}: ${JSON.stringify(r.status.conditions.filter((c) => c.status !== 'True'))}`);
  assert.equal(conditionOf(jellyfin, 'PolicyAuthorized').status, 'True');
  assert.equal(conditionOf(sonarr, 'VolumesResolved').reason, 'Resolved');
});

test('every derived object validates against its upstream schema', () => {
  const derived = [...result.services.flatMap((r) => r.objects), ...result.platformObjects];
  assert.ok(derived.length > 10);
  const problems = derived.flatMap((d) => validateObject(d).map((p) => `${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name}: ${p}`));
  assert.deepEqual(problems, []);
});

test('persistent volumes: the owner derives each claim, field by field, never owned by the service', () => {
  const shared = objectOf(jellyfin, 'PersistentVolumeClaim', 'vol-media-storage');
  assert.deepEqual(shared.spec, { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '500Gi' } }, storageClassName: 'nfs-client' });
  assert.equal(shared.metadata.namespace, 'media');
  assert.equal(shared.metadata.labels?.['app.kubernetes.io/name'], 'jellyfin');
  const own = objectOf(jellyfin, 'PersistentVolumeClaim', 'jellyfin-config');
  assert.deepEqual(own.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } });
  assert.equal(jellyfin.objects.filter((o) => o.kind === 'PersistentVolumeClaim').length, 2);
  assert.equal(sonarr.objects.filter((o) => o.kind === 'PersistentVolumeClaim').length, 0, 'a consumer derives no claim');
});

function podSpec(r: typeof jellyfin): Json {
  return (objectOf(r, 'Deployment').spec as Json).template;
}

test('volumes in the pod: claims, sub-paths, tmpfs on the mount, ReadWriteOnce co-location', () => {
  const tpl = podSpec(jellyfin);
  assert.deepEqual(tpl.spec.volumes.filter((v: Json) => v.persistentVolumeClaim), [
    { name: 'shared-media-storage', persistentVolumeClaim: { claimName: 'vol-media-storage' } },
    { name: 'shared-config', persistentVolumeClaim: { claimName: 'jellyfin-config' } },
  ]);
  assert.deepEqual(tpl.spec.volumes.find((v: Json) => v.emptyDir), { name: 'main-scratch-0', emptyDir: { sizeLimit: '256Mi', medium: 'Memory' } });
  // The private ReadWriteOnce claim keeps the owner's pods on one node (rolling updates included).
  assert.deepEqual(tpl.spec.affinity, {
    podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'jellyfin' } }, topologyKey: 'kubernetes.io/hostname' }] },
  });
  assert.equal(tpl.metadata.labels['lattice.dev/volume-owner-media-storage'], undefined, 'only ReadWriteOnce shared volumes mark their owner');

  const s = podSpec(sonarr);
  assert.deepEqual(s.spec.volumes, [
    { name: 'shared-media', persistentVolumeClaim: { claimName: 'vol-media-storage' } },
    { name: 'main-scratch-0', emptyDir: { sizeLimit: '1Gi', medium: 'Memory' } },
  ]);
  assert.deepEqual(s.spec.containers[0].volumeMounts, [
    { name: 'shared-media', mountPath: '/tv', subPath: 'tv' },
    { name: 'shared-media', mountPath: '/downloads', subPath: 'downloads', readOnly: true },
    { name: 'main-scratch-0', mountPath: '/tmp' },
  ]);
  assert.equal(s.spec.affinity, undefined, 'a ReadWriteMany volume needs no co-location');
  assert.equal(s.spec.containers[0].securityContext.readOnlyRootFilesystem, false);
});

test('a shared ReadWriteOnce volume: the owner is labelled, consumers follow it to its node', () => {
  const r = derive((docs) => {
    doc(docs, 'LatticeService', 'jellyfin').spec.workload.resources['media-storage'].params.accessMode = 'ReadWriteOnce';
  });
  const owner = podSpec(resultOf(r, 'media/jellyfin'));
  assert.equal(owner.metadata.labels['lattice.dev/volume-owner-media-storage'], 'true');
  const consumer = podSpec(resultOf(r, 'media/sonarr'));
  assert.deepEqual(consumer.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution, [
    { labelSelector: { matchLabels: { 'lattice.dev/volume-owner-media-storage': 'true' } }, topologyKey: 'kubernetes.io/hostname' },
  ]);
  // More than one pod on a ReadWriteOnce claim would pin every pod to one node: refused, owner and consumer.
  const scaledOwner = derive((docs) => { doc(docs, 'LatticeService', 'jellyfin').spec.autoscaling = { max: 3 }; });
  const j = resultOf(scaledOwner, 'media/jellyfin');
  assert.equal(j.status.phase, 'Failed');
  assert.match(j.diagnostics.map((d) => d.message).join('\n'), /volume config is ReadWriteOnce \(the default\) and the service runs up to 3 pods: a ReadWriteOnce claim attaches to one node/);
  const many = derive((docs) => {
    doc(docs, 'LatticeService', 'jellyfin').spec.workload.resources['media-storage'].params.accessMode = 'ReadWriteOnce';
    doc(docs, 'LatticeService', 'sonarr').spec.replicas = 2;
  });
  const s = resultOf(many, 'media/sonarr');
  assert.equal(s.status.phase, 'Failed');
  assert.deepEqual(s.diagnostics.filter((d) => d.severity === 'error').map((d) => d.reason), ['ReadWriteOnceReplicas']);
});

test('sharing needs the owner\'s consent: a service missing from allowedConsumers is refused, whatever Cedar permits', () => {
  const r = derive((docs) => {
    doc(docs, 'LatticeService', 'jellyfin').spec.workload.resources['media-storage'].params.allowedConsumers = ['radarr'];
  });
  const s = resultOf(r, 'media/sonarr');
  assert.equal(s.status.phase, 'Failed');
  assert.deepEqual(s.objects, []);
  const d = s.diagnostics.find((x) => x.reason === 'VolumeConsentMissing');
  assert.ok(d, JSON.stringify(s.diagnostics));
  assert.equal(d.path, 'spec.workload.resources.media.id');
  assert.match(d.message, /owned by media\/jellyfin, which does not list this service in params\.allowedConsumers/);
  assert.ok(d.location?.line, 'the error points at the line of the id');
  // The owner is unaffected.
  assert.equal(resultOf(r, 'media/jellyfin').status.phase, 'Ready');
  // The qualified form names the same service.
  const qualified = derive((docs) => {
    doc(docs, 'LatticeService', 'jellyfin').spec.workload.resources['media-storage'].params.allowedConsumers = ['media/sonarr'];
  });
  assert.equal(resultOf(qualified, 'media/sonarr').status.phase, 'Ready');
});

test('sharing needs a Cedar AccessVolume permit (default deny), and a forbid wins', () => {
  const withoutPermit = derive((docs) => {
    const p = doc(docs, 'CedarPolicy', 'media-policies');
    p.spec.policies = p.spec.policies.replace(/@id\("share-media"\)[\s\S]*?};\n/, '');
  });
  const s = resultOf(withoutPermit, 'media/sonarr');
  assert.equal(s.status.phase, 'Failed');
  const c = conditionOf(s, 'PolicyAuthorized');
  assert.equal(c.reason, 'VolumeAccessDenied');
  assert.match(c.message, /No Cedar policy permits Service media\/sonarr to mount Volume media\/media-storage/);
  // Consent alone is not enough, and a claim that no one owns cannot be reached by naming its id.
  const orphan = derive((docs) => {
    doc(docs, 'LatticeService', 'sonarr').spec.workload.resources.media.id = 'someone-elses';
  });
  const o = resultOf(orphan, 'media/sonarr');
  assert.equal(o.status.phase, 'Failed');
  assert.ok(o.diagnostics.some((d) => d.reason === 'VolumeNotFound'));
  // A forbid on the Volume entity wins over the permit.
  const forbidden = derive((docs) => {
    doc(docs, 'CedarPolicy', 'media-policies').spec.policies += '\n@id("no-sharing")\nforbid (principal, action == Lattice::Action::"AccessVolume", resource == Lattice::Volume::"media/media-storage");\n';
  });
  assert.match(conditionOf(resultOf(forbidden, 'media/sonarr'), 'PolicyAuthorized').message, /Denied by policy media-policies\/no-sharing \(forbid\)/);
});

test('a second owner of the same id is refused for the consumer (one owner per shared volume)', () => {
  const r = derive((docs) => {
    const copy = structuredClone(doc(docs, 'LatticeService', 'jellyfin'));
    copy.metadata.name = 'plex';
    delete copy.spec.backup;
    docs.push(copy);
  });
  const s = resultOf(r, 'media/sonarr');
  assert.equal(s.status.phase, 'Failed');
  assert.ok(s.diagnostics.some((d) => d.reason === 'VolumeOwnerConflict'), JSON.stringify(s.diagnostics));
});

test('imagePullSecrets naming an ImageProvider: its credential is synced as the pod\'s pull secret', () => {
  const es = objectOf(jellyfin, 'ExternalSecret', 'jellyfin-ghcr');
  assert.deepEqual(es.spec, {
    refreshInterval: '1h',
    secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' },
    target: { name: 'jellyfin-ghcr', creationPolicy: 'Owner', template: { type: 'kubernetes.io/dockerconfigjson', engineVersion: 'v2' } },
    data: [{ secretKey: '.dockerconfigjson', remoteRef: { key: 'ci/ghcr-token', property: '.dockerconfigjson' } }],
  });
  assert.deepEqual(podSpec(jellyfin).spec.imagePullSecrets, [{ name: 'jellyfin-ghcr' }]);
  assert.deepEqual(podSpec(sonarr).spec.imagePullSecrets, [{ name: 'sonarr-ghcr' }]);
});

test('the registry credential is a secret like any other: refused without an AccessSecret permit', () => {
  const r = derive((docs) => {
    const p = doc(docs, 'CedarPolicy', 'media-policies');
    p.spec.policies = p.spec.policies.replace(/@id\("registry-credential"\)[\s\S]*?};\n/, '');
  });
  const s = resultOf(r, 'media/sonarr');
  assert.equal(s.status.phase, 'Failed');
  const c = conditionOf(s, 'PolicyAuthorized');
  assert.equal(c.reason, 'AccessSecretDenied');
  assert.ok(s.diagnostics.some((d) => d.path === 'spec.imagePullSecrets.0'), JSON.stringify(s.diagnostics.map((d) => d.path)));
  // A name that is neither a secret resource nor an ImageProvider is an error naming both options.
  const typo = resultOf(derive((docs) => { doc(docs, 'LatticeService', 'sonarr').spec.imagePullSecrets = ['ghrc']; }), 'media/sonarr');
  assert.equal(typo.status.phase, 'Failed');
  assert.match(typo.diagnostics.map((d) => d.message).join('\n'), /imagePullSecrets names "ghrc", which is neither a secret resource of this service nor an ImageProvider/);
});

test('Velero backup: hook and volume annotations on the pod template, by derived volume names', () => {
  const annotations = podSpec(jellyfin).metadata.annotations;
  const velero = Object.fromEntries(Object.entries(annotations).filter(([k]) => k.includes('velero.io')));
  assert.deepEqual(velero, {
    'pre.hook.backup.velero.io/container': 'main',
    'pre.hook.backup.velero.io/command': '["/bin/sh","-c","sync"]',
    'pre.hook.backup.velero.io/timeout': '120s',
    'pre.hook.backup.velero.io/on-error': 'Fail',
    'post.hook.backup.velero.io/container': 'main',
    'post.hook.backup.velero.io/command': '["/bin/true"]',
    'post.hook.backup.velero.io/on-error': 'Continue',
    'backup.velero.io/backup-volumes': 'shared-config,shared-media-storage',
  });
  const volumes = podSpec(jellyfin).spec.volumes.map((v: { name: string }) => v.name);
  for (const name of velero['backup.velero.io/backup-volumes']!.split(',')) assert.ok(volumes.includes(name), `${name} is a pod volume`);
  // Opt-out writes the excludes annotation instead.
  const optOut = derive((docs) => { doc(docs, 'LatticeService', 'jellyfin').spec.backup.volumes = { exclude: ['config'] }; });
  const a = podSpec(resultOf(optOut, 'media/jellyfin')).metadata.annotations;
  assert.equal(a['backup.velero.io/backup-volumes-excludes'], 'shared-config');
  assert.equal(a['backup.velero.io/backup-volumes'], undefined);
  // Two pre hooks cannot be written as Velero pod annotations: refused, not silently dropped.
  const two = derive((docs) => {
    const hooks = doc(docs, 'LatticeService', 'jellyfin').spec.backup.hooks;
    hooks.pre.push({ name: 'again', container: 'main', command: ['/bin/true'] });
  });
  const j = resultOf(two, 'media/jellyfin');
  assert.equal(j.status.phase, 'Failed');
  assert.match(j.diagnostics.map((d) => d.message).join('\n'), /Velero's pod annotations hold one pre hook/);
  const badContainer = derive((docs) => { doc(docs, 'LatticeService', 'jellyfin').spec.backup.hooks.pre[0].container = 'db'; });
  assert.match(resultOf(badContainer, 'media/jellyfin').diagnostics.map((d) => d.message).join('\n'), /container "db" is not declared in workload\.containers/);
});

test('reference Cedar vocabulary decides: SecretPath, host:port endpoints, readWriteRootFilesystem, ImageRef name', () => {
  const policy = (cut: string) => derive((docs) => {
    const p = doc(docs, 'CedarPolicy', 'media-policies');
    p.spec.policies = p.spec.policies.replace(new RegExp(`@id\\("${cut}"\\)[\\s\\S]*?};\\n`), '');
  });
  // Each permit written in the reference's vocabulary is what allows its request: without it, denied.
  assert.equal(conditionOf(resultOf(policy('indexer'), 'media/sonarr'), 'PolicyAuthorized').reason, 'ExternalEndpointDenied');
  assert.equal(conditionOf(resultOf(policy('writable-root'), 'media/sonarr'), 'PolicyAuthorized').reason, 'SecurityOverrideDenied');
  // A forbid in the reference vocabulary wins over a permit in ours.
  const forbid = derive((docs) => {
    doc(docs, 'CedarPolicy', 'media-policies').spec.policies +=
      '\n@id("no-indexer")\nforbid (principal, action == Lattice::Action::"AccessExternalEndpoint", resource == Lattice::ExternalEndpoint::"api.nzbgeek.info:443");\n' +
      '@id("all-endpoints")\npermit (principal, action == Lattice::Action::"AccessExternalEndpoint", resource == Lattice::ExternalEndpoint::"https://api.nzbgeek.info:443");\n';
  });
  assert.match(conditionOf(resultOf(forbid, 'media/sonarr'), 'PolicyAuthorized').message, /Denied by policy media-policies\/no-indexer \(forbid\)/);
  const forbidSecretPath = derive((docs) => {
    doc(docs, 'CedarPolicy', 'media-policies').spec.policies += '\n@id("no-api")\nforbid (principal, action == Lattice::Action::"AccessSecret", resource == Lattice::SecretPath::"vault:media/jellyfin-api");\n';
  });
  assert.match(conditionOf(resultOf(forbidSecretPath, 'media/jellyfin'), 'PolicyAuthorized').message, /Denied by policy media-policies\/no-api \(forbid\)/);
  const forbidReadWrite = derive((docs) => {
    doc(docs, 'CedarPolicy', 'media-policies').spec.policies += '\n@id("ro")\nforbid (principal, action, resource == Lattice::SecurityOverride::"readWriteRootFilesystem");\n';
  });
  assert.equal(resultOf(forbidReadWrite, 'media/sonarr').status.phase, 'Failed');
  // The image's `name` (the reference's ImageRef.name): a forbid by name holds.
  const noDebug = derive((docs) => {
    doc(docs, 'CedarPolicy', 'media-policies').spec.policies += '\n@id("no-sonarr-image")\nforbid (principal, action == Lattice::Action::"DeployImage", resource) when { resource.name == "sonarr" };\n';
  });
  assert.equal(conditionOf(resultOf(noDebug, 'media/sonarr'), 'PolicyAuthorized').reason, 'DeployImageDenied');
});

test('one bad policy in a CedarPolicy does not drop the others; its forbid still fails closed for its action', () => {
  const r = derive((docs) => { doc(docs, 'CedarPolicy', 'half-broken').spec.enabled = true; });
  const problem = r.problems.find((p) => p.name === 'half-broken');
  assert.ok(problem, 'the bad policy is reported');
  assert.match(problem.diagnostics.map((d) => d.message).join('\n'), /half-broken\/no-foreign-volumes.*volume_owner/);
  // jellyfin asks no AccessVolume question: the bad forbid cannot concern it.
  assert.equal(resultOf(r, 'media/jellyfin').status.phase, 'Ready');
  // sonarr's AccessVolume is exactly what the bad forbid could have refused: refused, and said so.
  const s = resultOf(r, 'media/sonarr');
  assert.equal(s.status.phase, 'Failed');
  const c = conditionOf(s, 'PolicyAuthorized');
  assert.equal(c.reason, 'PolicyInvalid');
  assert.match(c.message, /AccessVolume for volume media-storage/);
  assert.match(c.message, /half-broken\/no-foreign-volumes, a forbid/);
  assert.match(c.message, /Contact the storage team/);
  assert.doesNotMatch(c.message, /DeployImage for/);
});

test('CedarPolicy priority/propagate and AccessCluster policies are accepted and decide nothing else', () => {
  const p = doc(corpus().map((d) => d.object as Json), 'CedarPolicy', 'media-policies');
  assert.equal(p.spec.priority, 100);
  assert.ok(!result.problems.some((x) => x.name === 'media-policies'));
});

test('LatticeQuota in the reference shape: the group principal covers the namespace; maxPerWorkload caps one service', () => {
  assert.equal(conditionOf(jellyfin, 'QuotaSatisfied').status, 'True');
  assert.match(conditionOf(jellyfin, 'QuotaSatisfied').message, /quota media-team-budget/);
  const capped = derive((docs) => { doc(docs, 'LatticeService', 'jellyfin').spec.workload.containers.main.resources.requests.memory = '9Gi'; doc(docs, 'LatticeService', 'jellyfin').spec.workload.containers.main.resources.limits.memory = '9Gi'; });
  const j = resultOf(capped, 'media/jellyfin');
  assert.equal(j.status.phase, 'Failed');
  assert.match(conditionOf(j, 'QuotaSatisfied').message, /Quota media-team-budget allows at most 8Gi memory for one service \(maxPerWorkload\)/);
  // A User principal is refused: the team writes the annotation that would select it.
  const user = derive((docs) => { doc(docs, 'LatticeQuota', 'media-team-budget').spec.principal = 'Lattice::User::"alice@example.com"'; });
  assert.match(user.problems.find((x) => x.name === 'media-team-budget')!.diagnostics[0]!.message, /lattice\.dev\/owner annotation, which the service's own team writes/);
  // A disabled quota covers nothing.
  const off = derive((docs) => { doc(docs, 'LatticeQuota', 'media-team-budget').spec.enabled = false; });
  assert.throws(() => conditionOf(resultOf(off, 'media/jellyfin'), 'QuotaSatisfied'));
});

test('field errors of the reference volume shapes name the field and the fix', () => {
  const r = derive((docs) => {
    const res = doc(docs, 'LatticeService', 'jellyfin').spec.workload.resources;
    res.config.params.sizeLimit = '1Gi';
    res.scratch = { type: 'volume', params: { storageClass: 'fast' } };
    res.lonely = { type: 'volume', params: { size: '1Gi', allowedConsumers: ['x'] } };
    doc(docs, 'LatticeService', 'jellyfin').spec.workload.containers.main.volumes['/media'].path = '../etc';
  });
  const messages = resultOf(r, 'media/jellyfin').diagnostics.map((d) => `${d.path}: ${d.message}`).join('\n');
  assert.match(messages, /resources\.config\.params\.sizeLimit: sizeLimit applies to a pod-local emptyDir volume, and size makes this a persistent volume/);
  assert.match(messages, /resources\.scratch\.params\.storageClass: storageClass only applies to a persistent volume this service owns: add size/);
  assert.match(messages, /resources\.lonely\.params\.allowedConsumers: allowedConsumers shares the volume by its id, and this volume has none/);
  assert.match(messages, /\/media.*\.path: must be a relative path inside the volume/);
});

test('derived claims are retained: the controller gives them no owner reference and never prunes them', async () => {
  const { derivedKind } = await import('../src/controller/resources.ts');
  assert.equal(derivedKind('v1', 'PersistentVolumeClaim')?.retained, true);
  assert.equal(derivedKind('v1', 'ConfigMap')?.retained, undefined);
  const claims: KubeObject[] = jellyfin.objects.filter((o) => o.kind === 'PersistentVolumeClaim');
  for (const c of claims) assert.equal((c.metadata as { ownerReferences?: unknown }).ownerReferences, undefined);
});

test('the incremental fleet re-derives a shared volume\'s consumers when its owner changes', () => {
  const fleet = derive().fleet;
  assert.ok(fleet);
  const owner = structuredClone(doc(corpus().map((d) => d.object as Json), 'LatticeService', 'jellyfin'));
  owner.spec.workload.resources['media-storage'].params.allowedConsumers = [];
  const change = fleet.upsert({ object: owner });
  const s = change.rederived.find((r) => r.key === 'media/sonarr');
  assert.ok(s, `sonarr is re-derived: ${change.rederived.map((r) => r.key).join(', ')}`);
  assert.equal(s.status.phase, 'Failed');
  assert.ok(s.diagnostics.some((d) => d.reason === 'VolumeConsentMissing'));
});

test('ImageProvider in the reference shape: authorities with inline keys verify; keys only in a secret store verify nothing (fail closed)', async () => {
  const { imageProviderSchema } = await import('../src/api/imageprovider/v1alpha1.ts');
  const { ImageVerifier, isBlocking } = await import('../src/supplychain/verify.ts');
  const { FakeRegistry } = await import('./fixtures/supplychain/fake-registry.ts');
  const host = 'registry.example.com';
  const parse = (trust: Json) => imageProviderSchema.parse({
    apiVersion: 'lattice.dev/v1alpha1', kind: 'ImageProvider', metadata: { name: 'ref', namespace: 'lattice-system' },
    spec: { type: 'harbor', registry: `${host}/team`, credentials: { id: 'ci/registry', provider: 'vault' }, trust },
  });
  const remoteOnly = parse({ authorities: [{ name: 'release', key: { id: 'signing/release-pub', provider: 'vault' } }] });
  const reg = new FakeRegistry(host);
  const digest = reg.putImage('team/app');
  const v = await new ImageVerifier({ providers: [remoteOnly], fetch: reg.fetch }).verify(`${host}/team/app@${digest}`);
  assert.equal(v.outcome, 'SignatureMissing', v.message);
  assert.equal(v.enforced, true);
  assert.ok(isBlocking(v), 'an image under an enforcing provider whose keys cannot be read is refused, not waved through');
  assert.match(v.message, /secret-store references .* that Lattice does not read/);
  // The same provider with no trust at all requires no signature: the difference is the point.
  const none = imageProviderSchema.parse({ apiVersion: 'lattice.dev/v1alpha1', kind: 'ImageProvider', metadata: { name: 'ref', namespace: 'lattice-system' }, spec: { registry: `${host}/team` } });
  assert.equal((await new ImageVerifier({ providers: [none], fetch: reg.fetch }).verify(`${host}/team/app@${digest}`)).outcome, 'NotRequired');
  // Shapes that cannot be honoured are refused with the field named.
  const bad = imageProviderSchema.safeParse({ apiVersion: 'lattice.dev/v1alpha1', kind: 'ImageProvider', metadata: { name: 'x', namespace: 'lattice-system' }, spec: { registry: host, insecure: true, credentials: { id: 'a', secret: 'b' } } });
  assert.ok(!bad.success);
  const paths = bad.error.issues.map((i) => i.path.join('.'));
  assert.ok(paths.includes('spec.insecure') && paths.includes('spec.credentials'), paths.join(', '));
});
