/**
 * Regression: on Node 20 and 22, authorizing many services, forcing a full garbage collection and
 * authorizing again aborted the process inside V8's deoptimizer. The `lattice` executable turns off
 * TurboFan's JS-to-Wasm inlining on those versions to avoid it, and not on Node 24, where the abort
 * does not happen (bin/lattice.js); this test runs the same workload in a child process set up the same
 * way for the Node.js running it, through the real engine, and requires it to finish. On Node 24 (CI)
 * it thus checks that the workaround is still unneeded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

test('authorizing again after a full GC does not crash the process started like bin/lattice.js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-gc-'));
  const script = join(dir, 'gc.mjs');
  writeFileSync(script, `
import v8 from 'node:v8';
if (Number(process.versions.node.split('.')[0]) < 24) v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
const { register } = await import(${JSON.stringify(join(ROOT, 'node_modules/tsx/dist/esm/api/index.mjs'))});
register();
const { PolicyEngine } = await import(${JSON.stringify(join(ROOT, 'src/policy/index.ts'))});
const { cedarPolicySchema } = await import(${JSON.stringify(join(ROOT, 'src/api/cedarpolicy/v1alpha1.ts'))});
const { latticeServiceSchema } = await import(${JSON.stringify(join(ROOT, 'src/api/latticeservice/v1alpha1.ts'))});
const { generateFleet, PLATFORM_DOCUMENTS } = await import(${JSON.stringify(join(ROOT, 'bench/fleet.ts'))});
const g = generateFleet({ services: 1000, namespaces: 5, dependencies: 4, secrets: 2, ports: 2, agreed: 0.9, seed: 42 });
const engine = PolicyEngine.fromPolicies([{ policy: cedarPolicySchema.parse(g.objects[2]) }], { platformContact: 'x' });
const services = g.objects.slice(PLATFORM_DOCUMENTS).map((o) => latticeServiceSchema.parse(o));
let total = 0;
for (let k = 0; k < 4; k++) {
  for (const service of services) total += engine.authorizeService({ service, namespaces: {}, defaultSecretProvider: 'vault' }).decisions.length;
  globalThis.gc();
}
console.log('decisions', total);
`);
  const r = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.signal, null, `the process was killed by ${r.signal}: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.match(r.stdout, /^decisions [1-9][0-9]*$/m);
});
