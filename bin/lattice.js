#!/usr/bin/env node
// The `lattice` executable. Runs the bundle `dist/lattice.mjs` (`npm run build`, also run by `npm ci`),
// which starts in a fraction of the time the TypeScript sources take through tsx. It runs the sources
// instead, with a one-line note on stderr, when the bundle is missing or older than a file under src/
// (a checkout or an edit since the last build), and always when LATTICE_FROM_SOURCE=1 (the tests set it
// to test the sources they import). The sources need tsx, a devDependency.
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

// The V8 of Node.js 20 and 22 aborts ("Fatal error ... unreachable code" in
// Deoptimizer::DoComputeBuiltinContinuation) when code calling the Cedar WebAssembly engine is
// deoptimized after a full garbage collection, which a long-running controller reaches (reproduced on
// 20.20.2 and 22.23.5; not on 24.22.3, V8 13.6). Not inlining JS-to-Wasm calls avoids it (ordinary
// inlining stays on); it must be set before any code is optimized. Regression test: test/cedar-gc.test.ts.
if (Number(process.versions.node.split('.')[0]) < 24) v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');

// Grow the young generation four times at a step instead of twice (V8's default): a render keeps
// most of what it allocates (the input and every derived object until they are written), so small
// young generations copy the same objects scavenge after scavenge. Measured on a 5,000-service
// render (2 cores, median of 5 interleaved runs): 4.43 s -> 4.08 s wall, peak RSS 661 -> 501 MiB;
// a factor of 8 was no better. Takes effect at runtime, unlike the semi-space size flags.
v8.setFlagsFromString('--semi-space-growth-factor=4');

// Node 22.1+: keep V8's compiled code of the modules on disk (os.tmpdir()/node-compile-cache) for the
// next start. Best effort: on a read-only file system it does nothing.
module.enableCompileCache?.();

const bundle = new URL('../dist/lattice.mjs', import.meta.url);
const sources = new URL('../src/', import.meta.url);

/** Why the sources run instead of the bundle, or undefined to run the bundle. */
function reasonForSources() {
  if (process.env.LATTICE_FROM_SOURCE === '1') return 'LATTICE_FROM_SOURCE=1';
  if (!existsSync(bundle)) return 'dist/lattice.mjs is not built';
  if (!existsSync(sources)) return undefined; // an installed copy (the operator image): no sources to compare
  const built = statSync(bundle).mtimeMs;
  const dir = fileURLToPath(sources);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = `${entry.parentPath}/${entry.name}`;
    if (entry.isFile() && statSync(file).mtimeMs > built) return `dist/lattice.mjs is older than src/${file.slice(dir.length)}`;
  }
  return undefined;
}

const reason = reasonForSources();
if (reason === undefined) {
  await import(bundle.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(`lattice: ${reason}, and tsx (a devDependency) is not installed to run the sources: run \`npm ci\` (it builds dist/) or \`npm run build\`.\n`);
    process.exit(3);
  }
  if (process.env.LATTICE_FROM_SOURCE !== '1') {
    process.stderr.write(`lattice: ${reason}; running the TypeScript sources through tsx (slower start). \`npm run build\` rebuilds it.\n`);
  }
  register();
  await import('../src/cli/bin.ts');
}
