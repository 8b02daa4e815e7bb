/**
 * Loading CedarPolicies: strict validation against the Lattice schema, Cedar's messages with line and
 * column (in the policies text and in the YAML file), invalid CedarPolicies left out while the others
 * load, the CedarPolicy resource schema, and the schema file itself.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  PolicyEngine,
  validateCedarPolicies,
  loadCedarPolicy,
  formatPolicyProblem,
  policyTextLocator,
  serviceRequests,
  LATTICE_ACTIONS,
  UNASKED_ACTIONS,
  LATTICE_SCHEMA,
} from '../src/policy/index.ts';
import { schemaJson } from '../src/policy/cedar.ts';
import { cedarPolicySchema } from '../src/api/cedarpolicy/v1alpha1.ts';
import { cedarPolicy, container, examplePolicies, FIXTURES, latticeService, loadFile, sources } from './fixtures/policy/helpers.ts';

describe('the example policies', () => {
  test('all validate in strict mode without a single warning, with their @id ids', () => {
    const results = validateCedarPolicies(examplePolicies());
    assert.deepEqual(
      results.map((r) => [r.name, r.valid, r.problems, r.policies.map((p) => `${p.id} ${p.effect}`)]),
      [
        ['external-https', true, [], ['external-https/https permit', 'external-https/card-processor permit']],
        ['org-registry', true, [], ['org-registry/org-registry permit', 'org-registry/other-registries forbid']],
        ['security-baseline', true, [], ['security-baseline/bind-low-ports permit', 'security-baseline/root-in-dev permit', 'security-baseline/no-privileged forbid']],
        ['team-secrets', true, [], ['team-secrets/own-namespace permit', 'team-secrets/same-team permit']],
      ],
    );
  });
});

describe('invalid CedarPolicies', () => {
  const broken = loadFile(`${FIXTURES}invalid/broken.yaml`);

  test('are reported with Cedar\'s message and the line and column in the YAML file and in the policies text', () => {
    const results = validateCedarPolicies(broken);
    assert.deepEqual(
      results.map((r) => [r.name, r.valid, r.policies]),
      [
        ['syntax-error', false, []],
        ['unguarded-optional', false, []],
      ],
    );
    const file = `${FIXTURES}invalid/broken.yaml`;
    assert.deepEqual(results[0]?.problems, [
      {
        severity: 'error',
        cedarPolicy: 'syntax-error',
        message:
          'unexpected token `}` (expected `!`, `(`, `-`, `[`, `{`, `false`, identifier, `if`, number, `?principal`, `?resource`, string literal, or `true`)',
        position: { line: 6, column: 29 },
        location: { file, line: 15, column: 33 },
      },
    ]);
    assert.deepEqual(
      results[1]?.problems.map((p) => [p.policyId, p.position, p.location, p.message]),
      [
        [
          'unguarded-optional/team-match',
          { line: 3, column: 8 },
          { file, line: 27, column: 12 },
          "for policy `unguarded-optional/team-match`, unable to guarantee safety of access to optional attribute `team` on entity type `Lattice::Service` (hint: try testing for the attribute's presence with `e has team && ..`)",
        ],
        [
          'unguarded-optional/team-match',
          { line: 3, column: 26 },
          { file, line: 27, column: 30 },
          "for policy `unguarded-optional/team-match`, unable to guarantee safety of access to optional attribute `team` on entity type `Lattice::Secret` (hint: try testing for the attribute's presence with `e has team && ..`)",
        ],
      ],
    );
    assert.equal(
      formatPolicyProblem(results[0]?.problems[0] as never),
      `${file}:15:33: error: CedarPolicy syntax-error: unexpected token \`}\` (expected \`!\`, \`(\`, \`-\`, \`[\`, \`{\`, \`false\`, identifier, \`if\`, number, \`?principal\`, \`?resource\`, string literal, or \`true\`)`,
    );
  });

  test('are left out while the others load and decide', () => {
    const e = PolicyEngine.fromPolicies([...examplePolicies(), ...broken]);
    try {
      assert.deepEqual(e.rejected, ['syntax-error', 'unguarded-optional']);
      assert.equal(e.problems.length, 3);
      assert.ok(!e.policyIds.some((id) => id.startsWith('syntax-error/')), 'the valid policy of an invalid CedarPolicy is not used either');
      assert.equal(e.policyIds.length, 9);
      const input = { service: latticeService({ name: 'api', namespace: 'shop', spec: { workload: { containers: { api: container('registry.example.com/api:1') } } } }) };
      const d = e.authorizeService(input).decisions;
      assert.deepEqual(
        d.map((x) => [x.action, x.outcome, x.determiningPolicies]),
        [['DeployImage', 'allow', ['org-registry/org-registry']]],
      );
    } finally {
      e.dispose();
    }
  });

  test('without a file, positions are relative to the policies text; columns count characters, not UTF-8 bytes', () => {
    // Cedar reports byte offsets; "é" is 2 bytes and "☕" 3, so a byte column would be off.
    const text = '// Règles de l\'équipe — café ☕\npermit (principal, action == Lattice::Action::"DeployImage", resource)\nwhen { resource.registry == "café" && resource.tagg == "x" };';
    const r = loadCedarPolicy({ policy: cedarPolicy('accents', text) });
    assert.equal(r.valid, false);
    const column = (text.split('\n')[2] ?? '').indexOf('resource.tagg') + 1;
    assert.equal(column, 39);
    assert.deepEqual(
      r.problems.map((p) => [p.position, p.location, p.message]),
      [[{ line: 3, column }, undefined, 'for policy `accents/0`, attribute `tagg` on entity type `Lattice::Image` not found (hint: did you mean `tag`?)']],
    );
    assert.equal(formatPolicyProblem(r.problems[0] as never), `spec.policies:3:39: error: CedarPolicy accents, policy accents/0: ${r.problems[0]?.message}`);
    // Identifiers are ASCII in Cedar: a syntax error, at the character column of "é".
    const line2 = 'permit (principal, action, resource) when { resource.régistry == "x" };';
    const ident = loadCedarPolicy({ policy: cedarPolicy('ident', `// ☕\n${line2}`) });
    assert.deepEqual(
      ident.problems.map((p) => [p.position, p.message]),
      [[{ line: 2, column: line2.indexOf('é') + 1 }, 'invalid token']],
    );
  });

  test('unknown actions and entity types are strict-mode errors', () => {
    const r = loadCedarPolicy({
      policy: cedarPolicy(
        'typos',
        [
          'permit (principal, action == Lattice::Action::"ReadSecret", resource);',
          'permit (principal is Lattice::Person, action == Lattice::Action::"AccessSecret", resource);',
          'permit (principal, action == Lattice::Action::"AccessSecret", resource) when { context.container == "x" };',
        ].join('\n'),
      ),
    });
    assert.equal(r.valid, false);
    const messages = r.problems.map((p) => `${p.policyId} ${p.position?.line}: ${p.message}`);
    assert.ok(messages.some((m) => m.startsWith('typos/0 1: ') && m.includes('ReadSecret')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('typos/1 2: ') && m.includes('Lattice::Person')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('typos/2 3: ') && m.includes('container')), messages.join('\n'));
  });

  test('duplicate ids, empty @id, templates and duplicate CedarPolicy names are errors; an empty text is a warning', () => {
    const dup = loadCedarPolicy({ policy: cedarPolicy('dup', '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);') });
    assert.deepEqual(
      dup.problems.map((p) => [p.severity, p.policyId, p.position, p.message]),
      [['error', 'dup/a', { line: 2, column: 1 }, 'two policies have the id dup/a: give each policy a distinct @id']],
    );
    const clash = loadCedarPolicy({ policy: cedarPolicy('clash', '@id("1") permit (principal, action, resource);\npermit (principal, action, resource);') });
    assert.equal(clash.problems[0]?.message, 'two policies have the id clash/1: give each policy a distinct @id');

    const empty = loadCedarPolicy({ policy: cedarPolicy('empty-id', '@id("") permit (principal, action, resource);') });
    assert.match(empty.problems[0]?.message ?? '', /^the @id annotation is empty/);
    assert.equal(empty.valid, false);

    const template = loadCedarPolicy({ policy: cedarPolicy('tpl', 'permit (principal, action, resource);\n\npermit (principal == ?principal, action, resource);') });
    assert.equal(template.valid, false);
    assert.deepEqual(template.problems[0]?.position, { line: 3, column: 1 });
    assert.match(template.problems[0]?.message ?? '', /^this policy is a template/);

    const comments = loadCedarPolicy({ policy: cedarPolicy('comments', '// nothing yet\n') });
    assert.deepEqual(
      [comments.valid, comments.problems.map((p) => [p.severity, p.message])],
      [true, [['warning', 'spec.policies contains no policy (only comments or blanks): this CedarPolicy permits and forbids nothing']]],
    );

    const twice = validateCedarPolicies(sources(cedarPolicy('same', 'permit (principal, action, resource);'), cedarPolicy('same', 'forbid (principal, action, resource);')));
    assert.deepEqual(twice.map((r) => r.valid), [true, false]);
    assert.match(twice[1]?.problems[0]?.message ?? '', /^another CedarPolicy is already named same/);
  });

  test('a commented-out copy of a policy does not shift its position', () => {
    const text = '// permit (principal, action == Lattice::Action::"DeployImage", resource);\npermit (principal, action == Lattice::Action::"DeployImage", resource);';
    const r = loadCedarPolicy({ policy: cedarPolicy('copy', text) });
    assert.equal(r.policies[0]?.offset, text.indexOf('\n') + 1);
  });
});

describe('disabled CedarPolicies', () => {
  test('are validated but not used', () => {
    const doc = cedarPolicy('off', 'permit (principal, action == Lattice::Action::"DeployImage", resource);', { enabled: false });
    const [v] = validateCedarPolicies(sources(doc));
    assert.deepEqual([v?.enabled, v?.valid, v?.policies.map((p) => p.id)], [false, true, ['off/0']]);
    const e = PolicyEngine.fromPolicies(sources(doc));
    try {
      assert.deepEqual(e.policyIds, []);
      const [r] = serviceRequests({ service: latticeService({ name: 'api', namespace: 'shop', spec: { workload: { containers: { api: container('registry.example.com/api:1') } } } }) });
      assert.equal(e.authorize(r as never).outcome, 'deny');
    } finally {
      e.dispose();
    }
  });
});

describe('policyTextLocator', () => {
  const yaml = (header: string, body: string): string =>
    `apiVersion: lattice.dev/v1alpha1\nkind: CedarPolicy\nmetadata:\n  name: x\nspec:\n  policies: ${header}\n${body}`;

  test('maps literal block scalars line by line, whatever the chomping and indentation', () => {
    const body = '      permit (principal, action, resource);\n\n      forbid (principal, action, resource);\n';
    for (const header of ['|', '|-', '|+', '|2']) {
      const text = yaml(header, body);
      const locate = policyTextLocator(text, 0);
      assert.ok(locate, header);
      // |2: the content is indented 2 beyond the parent mapping (at 2), so 2 spaces stay in the value.
      const keep = header === '|2' ? '  ' : '';
      const value = `${keep}permit (principal, action, resource);\n\n${keep}forbid (principal, action, resource);\n`;
      assert.deepEqual(locate(value.indexOf('forbid')), { line: 9, column: 7 }, header);
      assert.deepEqual(locate(0), { line: 7, column: header === '|2' ? 5 : 7 }, header);
    }
  });

  test('finds the policies of a later document of the file', () => {
    const text = `${yaml('|', '    permit (principal, action, resource);\n')}---\n${yaml('|', '    forbid (principal, action, resource);\n')}`;
    assert.deepEqual(policyTextLocator(text, 1)?.(0), { line: 15, column: 5 });
  });

  test('gives up for other scalar styles and missing fields', () => {
    assert.equal(policyTextLocator(yaml('"permit (principal, action, resource);"', ''), 0), undefined);
    assert.equal(policyTextLocator(yaml('>', '    permit (principal, action, resource);\n'), 0), undefined);
    assert.equal(policyTextLocator('kind: CedarPolicy\n', 0), undefined);
    assert.equal(policyTextLocator(yaml('|', '    permit (principal, action, resource);\n'), 3), undefined);
  });
});

describe('the CedarPolicy resource', () => {
  const doc = (spec: Record<string, unknown>, namespace?: string) => ({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'CedarPolicy',
    metadata: namespace === undefined ? { name: 'p' } : { name: 'p', namespace },
    spec,
  });

  test('enabled defaults to true; description and owner are optional', () => {
    const p = cedarPolicySchema.parse(doc({ policies: 'permit (principal, action, resource);' }, 'lattice-system'));
    assert.deepEqual(p.spec, { policies: 'permit (principal, action, resource);', enabled: true });
  });

  test('lives in lattice-system, needs a non-empty text, and rejects unknown fields', () => {
    const issues = (d: unknown): string[] => {
      const r = cedarPolicySchema.safeParse(d);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.deepEqual(issues(doc({ policies: 'permit (principal, action, resource);' }, 'shop')), [
      'metadata.namespace: CedarPolicy is a platform resource, read only in namespace lattice-system (platform-wide rules must not be writable from a team namespace), not shop: move it there, or leave namespace out in a file given to lattice render',
    ]);
    assert.deepEqual(issues(doc({ policies: 'permit (principal, action, resource);' })), []);
    assert.match(issues(doc({ policies: '  \n' }))[0] ?? '', /^spec\.policies: is empty/);
    assert.match(issues(doc({ policies: 'permit (principal, action, resource);', enable: false }))[0] ?? '', /^spec: Unrecognized key: "enable"/);
  });
});

describe('the schema file', () => {
  test('declares exactly the Lattice actions and entity types, in namespace Lattice', () => {
    const json = schemaJson();
    assert.equal(json.type, 'success');
    if (json.type !== 'success') return;
    assert.deepEqual(Object.keys(json.json), ['Lattice']);
    const ns = json.json.Lattice;
    assert.deepEqual(Object.keys(ns?.actions ?? {}).sort(), [...LATTICE_ACTIONS, ...UNASKED_ACTIONS].sort());
    assert.deepEqual(Object.keys(ns?.entityTypes ?? {}).sort(), ['Chart', 'CloudPermission', 'Cluster', 'ExternalEndpoint', 'Group', 'Image', 'Mesh', 'Namespace', 'Route', 'Secret', 'SecretPath', 'SecurityOverride', 'Service', 'User', 'Volume']);
    assert.match(LATTICE_SCHEMA, /^namespace Lattice \{$/m);
  });
});
