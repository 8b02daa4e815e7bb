import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allCrds } from '../src/api/crd.ts';
import { KINDS } from '../src/api/kinds.ts';
import { crdProblems } from './support/structural.ts';
import { assertValid, validateAgainstCrd } from './support/schemas.ts';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

test('every Lattice CRD would be accepted by the API server (structural schema rules, descriptions everywhere)', () => {
  const crds = allCrds();
  assert.equal(crds.length, KINDS.length);
  for (const crd of crds) {
    assert.deepEqual(crdProblems(crd), [], `${(crd.metadata as { name: string }).name}`);
    assertValid(crd as never);
  }
});

test('the LatticeService CRD: short name ls, printer columns, status subresource, namespaced', () => {
  const crd = allCrds().find((c) => (c.metadata as { name: string }).name === 'latticeservices.lattice.dev') as {
    spec: { scope: string; names: { shortNames: string[]; kind: string }; versions: { name: string; served: boolean; storage: boolean; subresources: unknown; additionalPrinterColumns: { name: string; jsonPath: string }[] }[] };
  };
  assert.equal(crd.spec.scope, 'Namespaced');
  assert.deepEqual(crd.spec.names.shortNames, ['ls']);
  // Both versions served, newest first; v1alpha1 is stored (docs/versioning.md) and deprecated.
  assert.deepEqual(crd.spec.versions.map((v) => [v.name, v.served, v.storage]), [['v1beta1', true, false], ['v1alpha1', true, true]]);
  for (const v of crd.spec.versions) {
    assert.deepEqual(v.subresources, { status: {} });
    assert.deepEqual(v.additionalPrinterColumns.map((c) => [c.name, c.jsonPath]), [
      ['Phase', '.status.phase'], ['Replicas', '.spec.replicas'], ['Resources', '.status.resourceCount'], ['Age', '.metadata.creationTimestamp'],
    ]);
  }
});

test('the example documents are valid against the generated CRDs (what the API server would store)', () => {
  const crds = new Map(allCrds().map((c) => [(c.spec as { names: { kind: string } }).names.kind, c]));
  const dir = new URL('../examples/', import.meta.url);
  const files = ['commerce/payments.yaml', 'platform/platform.yaml', 'platform/images.yaml', 'platform/policies.yaml'];
  let checked = 0;
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(new URL(f, dir), 'utf8'))) {
      const o = doc.toJS() as { kind: string; apiVersion: string };
      const crd = crds.get(o.kind);
      if (!crd || !o.apiVersion.startsWith('lattice.dev/')) continue;
      assert.deepEqual(validateAgainstCrd(crd, o), [], `${f} ${o.kind}`);
      checked++;
    }
  }
  assert.ok(checked >= 5, `only ${checked} documents checked`);
});
