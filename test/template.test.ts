import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate } from '../src/compiler/workload/template.ts';

test('placeholders and text are split in order', () => {
  const r = parseTemplate('postgres://app:${resources.db.dsn}@${metadata.name}:5432');
  assert.ok(r.ok);
  assert.deepEqual(r.parts, [
    { kind: 'text', text: 'postgres://app:' },
    { kind: 'placeholder', path: ['resources', 'db', 'dsn'], raw: '${resources.db.dsn}', offset: 15 },
    { kind: 'text', text: '@' },
    { kind: 'placeholder', path: ['metadata', 'name'], raw: '${metadata.name}', offset: 35 },
    { kind: 'text', text: ':5432' },
  ]);
});

test('$${ escapes a literal ${', () => {
  const r = parseTemplate('cost: $${HOME} and ${metadata.name}');
  assert.ok(r.ok);
  assert.deepEqual(r.parts[0], { kind: 'text', text: 'cost: ${HOME} and ' });
  assert.equal(r.parts.length, 2);
});

test('annotation keys keep their dots and slashes', () => {
  const r = parseTemplate('${metadata.annotations.example.com/team}');
  assert.ok(r.ok);
  assert.deepEqual((r.parts[0] as { path: string[] }).path, ['metadata', 'annotations', 'example.com/team']);
});

test('an unclosed placeholder is an error with its position', () => {
  const r = parseTemplate('abc ${resources.db.dsn');
  assert.ok(!r.ok);
  assert.equal(r.offset, 4);
  assert.match(r.message, /column 5 is not closed/);
  const empty = parseTemplate('x${}');
  assert.ok(!empty.ok);
  assert.match(empty.message, /empty placeholder/);
});

test('text without placeholders is one text part; empty text has none', () => {
  assert.deepEqual(parseTemplate('plain'), { ok: true, parts: [{ kind: 'text', text: 'plain' }] });
  assert.deepEqual(parseTemplate(''), { ok: true, parts: [] });
});
