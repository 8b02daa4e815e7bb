/**
 * Golden files: the rendered examples, reviewed and committed under test/golden/. Any change in
 * derived output shows up as a diff here. Refresh after an intended change with
 * `npm run golden:update`, then review the diff of test/golden/ before committing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { run } from '../src/cli/main.ts';
import { validateObject } from './support/schemas.ts';

const GOLDEN = new URL('./golden/examples.yaml', import.meta.url);
const SUMMARY = new URL('./golden/examples.summary.txt', import.meta.url);
const ROOT = new URL('..', import.meta.url).pathname;

test('lattice render examples/ matches the reviewed golden output', async () => {
  const prev = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = '1767225600';
  let stdout = '';
  let stderr = '';
  // Render as a user does from a checkout: `lattice render examples/` in the repository root, so the
  // file names in messages are the same on every machine.
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    await run(['render', 'examples/'], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  } finally {
    process.chdir(cwd);
    if (prev === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = prev;
  }
  const summary = stderr;
  if (process.env.LATTICE_UPDATE_GOLDEN === '1') {
    writeFileSync(GOLDEN, stdout);
    writeFileSync(SUMMARY, summary);
  }
  assert.ok(existsSync(GOLDEN), 'no golden file yet: run `npm run golden:update` and review test/golden/');
  assert.equal(stdout, readFileSync(GOLDEN, 'utf8'), 'derived output changed: if intended, run `npm run golden:update` and review the diff');
  assert.equal(summary, readFileSync(SUMMARY, 'utf8'));
});

test('every object of the reviewed golden output validates against its upstream schema', () => {
  const docs = parseAllDocuments(readFileSync(GOLDEN, 'utf8')).map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } });
  // The input workloads (every lattice.dev kind, with their status) are Lattice's own; the rest is derived.
  const derived = docs.filter((d) => d.apiVersion !== 'lattice.dev/v1alpha1');
  for (const kind of ['Gateway', 'HTTPRoute', 'ReferenceGrant', 'Certificate', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'Deployment']) {
    assert.ok(derived.some((d) => d.kind === kind), `the golden output has no ${kind}`);
  }
  const problems = derived.flatMap((d) => validateObject(d).map((p) => `${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name}: ${p}`));
  assert.deepEqual(problems, []);
});
