import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fieldReference } from '../src/api/reference.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('the README field reference is generated from the current schemas', () => {
  assert.ok(readme.includes(fieldReference()), 'README.md field reference is stale: run `npm run docs:fields`');
});

test('the README quick start is two commands, and .ci/run runs its test command', () => {
  const quick = readme.split('## Quick start')[1]?.split('```sh\n')[1]?.split('```')[0] ?? '';
  const commands = quick.trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
  assert.equal(commands.length, 2, quick);
  assert.match(commands[0]!, /lattice render examples\//);
  const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
  assert.ok(ci.split('\n').some((l) => l.trim() === commands[1]), `.ci/run must run exactly "${commands[1]}"`);
});
