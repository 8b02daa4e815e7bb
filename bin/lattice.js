#!/usr/bin/env node
// The `lattice` executable: loads the TypeScript sources through tsx's ESM loader (no build step).
import v8 from 'node:v8';

// Node 20's V8 aborts ("Fatal error ... unreachable code" in Deoptimizer::DoComputeBuiltinContinuation)
// when code calling the Cedar WebAssembly engine is deoptimized after a full garbage collection, which
// a long-running controller reaches. Not inlining JS-to-Wasm calls avoids it (ordinary inlining stays
// on, so everything else keeps its speed); it must be set before any code is optimized. Regression test: test/cedar-gc.test.ts.
v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');

const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/bin.ts');
