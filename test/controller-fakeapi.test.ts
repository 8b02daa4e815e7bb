/**
 * The fake API server itself (test/fakeapi/), so the controller tests stand on API semantics that
 * were checked: discovery through the real client, server-side apply and field ownership,
 * generation and the status subresource, preconditions, garbage collection, watch resumption and
 * expiry, label selectors, and Status bodies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LatticeObjectApi, apiFailure } from '../src/controller/kube.ts';
import { FakeApiServer } from './fakeapi/server.ts';
import { matches, parseSelector } from './fakeapi/selectors.ts';
import type { WatchEvent } from './fakeapi/store.ts';

const api = new FakeApiServer({ historyLimit: 50 });
let client: LatticeObjectApi;
const cm = (data: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'team', ...extra }, data });

before(async () => {
  await api.start();
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  client = LatticeObjectApi.make(api.kubeConfig('tester'));
});
after(() => api.stop());

describe('fake API server', () => {
  it('serves discovery the client resolves kinds with', async () => {
    assert.equal(await client.serves('apps/v1', 'Deployment'), true);
    assert.equal(await client.serves('lattice.dev/v1alpha1', 'LatticeService'), true);
    assert.equal(await client.serves('v1', 'ConfigMap'), true);
    assert.equal(await client.serves('cilium.io/v2', 'NoSuchKind'), false);
    assert.equal(await client.serves('nothing.example.com/v1', 'Thing'), false);
    assert.equal(await client.objectPath({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name: 'x', namespace: 'team' } }), '/apis/lattice.dev/v1alpha1/namespaces/team/latticeservices/x');
  });

  it('applies server-side: creates, keeps a no-op apply a no-op, removes fields the manager stopped applying', async () => {
    const created = await client.apply(cm({ a: '1', b: '2' }) as never);
    assert.equal(created.metadata?.generation, 1);
    const rv = created.metadata?.resourceVersion;
    const again = await client.apply(cm({ a: '1', b: '2' }) as never);
    assert.equal(again.metadata?.resourceVersion, rv, 'a no-op apply must not change the resourceVersion');
    await client.apply(cm({ a: '1' }) as never);
    assert.deepEqual(api.get('v1', 'ConfigMap', 'team', 'cfg')!.data, { a: '1' });
  });

  it('keeps fields of other managers, and reports conflicts unless forced', async () => {
    const current = api.get('v1', 'ConfigMap', 'team', 'cfg')!;
    api.update({ ...current, data: { a: 'edited', c: '3' } }, 'kubectl-edit');
    // The controller's field manager applies a again: conflict without force.
    const res = await fetch(`${api.url}/api/v1/namespaces/team/configmaps/cfg?fieldManager=lattice-controller`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/apply-patch+yaml', authorization: 'Bearer tester' },
      body: JSON.stringify(cm({ a: '1' })),
    });
    assert.equal(res.status, 409);
    const status = (await res.json()) as { kind: string; reason: string; message: string; code: number };
    assert.deepEqual([status.kind, status.reason, status.code], ['Status', 'Conflict', 409]);
    assert.match(status.message, /conflict with "kubectl-edit".*\.data\.a/);
    await client.apply(cm({ a: '1' }) as never); // force=true
    const after = api.get('v1', 'ConfigMap', 'team', 'cfg')!;
    assert.deepEqual(after.data, { a: '1', c: '3' }, 'the other manager\'s field c stays');
    const managers = Object.fromEntries((after.metadata.managedFields ?? []).map((f) => [f.manager, JSON.stringify(f.fieldsV1)]));
    assert.match(managers['lattice-controller']!, /"f:a"/);
    assert.doesNotMatch(managers['kubectl-edit']!, /"f:a"/);
    assert.match(managers['kubectl-edit']!, /"f:c"/);
  });

  it('bumps generation on spec changes only, and keeps status and spec apart through the status subresource', async () => {
    const svc = api.create({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name: 's', namespace: 'team' }, spec: { replicas: 1 }, status: { phase: 'Ready' } });
    assert.equal(svc.metadata.generation, 1);
    assert.equal(svc.status, undefined, 'status is dropped on create for kinds with a status subresource');
    const labelled = api.update({ ...svc, metadata: { ...svc.metadata, labels: { a: 'b' } } });
    assert.equal(labelled.metadata.generation, 1);
    const patched = await client.patchStatus({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name: 's', namespace: 'team', resourceVersion: labelled.metadata.resourceVersion } }, { phase: 'Ready', message: 'x' }, undefined);
    assert.deepEqual(patched.status, { phase: 'Ready', message: 'x' });
    assert.equal(patched.metadata?.generation, 1);
    const respec = api.update({ ...api.get('lattice.dev/v1alpha1', 'LatticeService', 'team', 's')!, spec: { replicas: 2 }, status: { phase: 'Failed' } });
    assert.equal(respec.metadata.generation, 2);
    assert.deepEqual(respec.status, { phase: 'Ready', message: 'x' }, 'the main endpoint ignores status');
    // A stale resourceVersion is a 409 Conflict; removed keys are sent as null.
    await assert.rejects(
      client.patchStatus({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name: 's', namespace: 'team', resourceVersion: labelled.metadata.resourceVersion } }, { phase: 'Failed' }, { phase: 'Ready', message: 'x' }),
      (err) => apiFailure(err).code === 409 && apiFailure(err).reason === 'Conflict',
    );
    const fresh = api.get('lattice.dev/v1alpha1', 'LatticeService', 'team', 's')!;
    const replaced = await client.patchStatus({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name: 's', namespace: 'team', resourceVersion: fresh.metadata.resourceVersion } }, { phase: 'Failed' }, fresh.status as Record<string, unknown>);
    assert.deepEqual(replaced.status, { phase: 'Failed' });
  });

  it('checks delete preconditions and garbage-collects dependents whose owners are all gone', async () => {
    const owner1 = api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner1', namespace: 'team' } });
    const owner2 = api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner2', namespace: 'team' } });
    const ref = (o: typeof owner1): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name, uid: o.metadata.uid });
    api.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'one-owner', namespace: 'team', ownerReferences: [ref(owner1)] } });
    api.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'two-owners', namespace: 'team', ownerReferences: [ref(owner1), ref(owner2)] } });
    await assert.rejects(client.deleteObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner1', namespace: 'team', uid: 'not-its-uid' } }), (err) => apiFailure(err).code === 409);
    await client.deleteObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner1', namespace: 'team', uid: owner1.metadata.uid } });
    assert.equal(api.get('v1', 'ServiceAccount', 'team', 'one-owner'), undefined);
    assert.ok(api.get('v1', 'ServiceAccount', 'team', 'two-owners'), 'a dependent with a remaining owner stays');
    api.delete('v1', 'ConfigMap', 'team', 'owner2');
    assert.equal(api.get('v1', 'ServiceAccount', 'team', 'two-owners'), undefined);
    await client.deleteObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner1', namespace: 'team' } }); // 404 counts as done
  });

  it('resumes a watch from a resourceVersion, and answers 410 Expired once it was compacted away', () => {
    const r = api.resource('v1', 'ConfigMap');
    const from = api.store.rv;
    api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1', namespace: 'team', labels: { pick: 'yes' } } });
    api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w2', namespace: 'team' } });
    const seen: WatchEvent[] = [];
    const stop = api.store.watch(r, String(from), 'team', 'pick=yes', (e) => seen.push(e));
    assert.deepEqual(seen.map((e) => [e.type, (e.object.metadata as { name: string }).name]), [['ADDED', 'w1']]);
    const w2 = api.get('v1', 'ConfigMap', 'team', 'w2')!;
    api.update({ ...w2, metadata: { ...w2.metadata, labels: { pick: 'yes' } } });
    api.update({ ...w2, metadata: { ...w2.metadata, labels: { pick: 'no' } } });
    assert.deepEqual(seen.slice(1).map((e) => [e.type, (e.object.metadata as { name: string }).name]), [['ADDED', 'w2'], ['DELETED', 'w2']], 'objects entering and leaving a selection');
    stop();
    api.compact();
    assert.throws(() => api.store.watch(r, String(from), undefined, undefined, () => undefined), (err: Error & { code?: number; reason?: string }) => err.code === 410 && err.reason === 'Expired');
  });

  it('lists built-in kinds without apiVersion/kind on items, and pages with limit/continue', async () => {
    for (const n of ['p1', 'p2', 'p3']) api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, namespace: 'team', labels: { page: 'yes' } } });
    const res = await fetch(`${api.url}/api/v1/namespaces/team/configmaps?labelSelector=page%3Dyes&limit=2`, { headers: { authorization: 'Bearer tester' } });
    const page = (await res.json()) as { items: Record<string, unknown>[]; metadata: { continue?: string } };
    assert.equal(page.items.length, 2);
    assert.equal(page.items[0]!.kind, undefined);
    assert.equal(page.metadata.continue, '2');
    const all = await client.listObjects({ apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true }, { namespace: 'team', labelSelector: 'page=yes', limit: 2 });
    assert.deepEqual(all.items.map((o) => [o.kind, o.metadata?.name]), [['ConfigMap', 'p1'], ['ConfigMap', 'p2'], ['ConfigMap', 'p3']], 'the client follows continue and stamps the kind back');
  });

  it('refuses objects in a namespace that does not exist, and unknown patch types', async () => {
    await assert.rejects(client.apply(cm({ a: '1' }, { namespace: 'nowhere' }) as never), (err) => apiFailure(err).code === 404 && /namespaces "nowhere" not found/.test(apiFailure(err).message));
    const res = await fetch(`${api.url}/api/v1/namespaces/team/configmaps/cfg`, { method: 'PATCH', headers: { 'content-type': 'application/strategic-merge-patch+json' }, body: '{}' });
    assert.equal(res.status, 415);
  });

  it('parses label selectors as the API server does', () => {
    const req = parseSelector('app=web,tier!=db,env in (prod, staging),!legacy,team');
    assert.equal(matches(req, { app: 'web', env: 'prod', team: 'x' }), true);
    assert.equal(matches(req, { app: 'web', env: 'dev', team: 'x' }), false);
    assert.equal(matches(req, { app: 'web', env: 'prod', team: 'x', legacy: '1' }), false);
    assert.equal(matches(req, { app: 'web', env: 'prod' }), false);
    assert.equal(matches(parseSelector('a notin (x)'), {}), true);
    assert.throws(() => parseSelector('a=b=c'), /unable to parse requirement/);
  });
});
