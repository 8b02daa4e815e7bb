#!/usr/bin/env node
// The `lattice` executable: loads the TypeScript sources through tsx's ESM loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/bin.ts');
