/**
 * Scorecards (src/compiler/score/, `lattice score`): each check passing and failing on a service built
 * for it, with its evidence (field path and file:line); the fleet summary; the exit status; and that
 * a secret written in a spec is found and never printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYamlDocuments } from '../src/api/source.ts';
import { derivePlatform, type PlatformDocument } from '../src/compiler/platform/snapshot.ts';
import { failsAt, scorePlatform, scoreOf, type FleetScore, type Scorecard } from '../src/compiler/score/index.ts';
import { secretLiteralReason } from '../src/compiler/score/secrets.ts';
import { IMAGE, NOW } from './support/fixtures.ts';
import { lattice } from './support/cli.ts';

const POLICIES = `apiVersion: lattice.dev/v1alpha1
kind: CedarPolicy
metadata: {name: rules, namespace: lattice-system}
spec:
  policies: |
    permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" || action == Lattice::Action::"ExposeRoute" };
    permit (principal == Lattice::Service::"shop/web", action == Lattice::Action::"ExposeRoute", resource);
`;

const TEAM = `apiVersion: lattice.dev/v1alpha1
kind: LatticePlatform
metadata: {name: default}
spec:
  gateways:
    internal: {name: internal, namespace: gateways, clusterIssuer: internal-ca}
    public: {name: public, namespace: gateways, clusterIssuer: letsencrypt}
---
apiVersion: lattice.dev/v1alpha1
kind: SecretProvider
metadata: {name: vault, namespace: lattice-system}
spec:
  default: true
  provider: {vault: {server: "https://vault.example.com", path: secret, version: v2, auth: {tokenSecretRef: {name: vault-token, key: token, namespace: external-secrets}}}}
---
apiVersion: lattice.dev/v1alpha1
kind: LatticeTeam
metadata: {name: shop, namespace: lattice-system}
spec:
  owner: "#shop on Slack"
  group: shop-devs
  namespaces: {shop: {environment: production}}
  quota: {cpu: 20, memory: 40Gi, pods: 50}
`;

/** A service that passes every check. */
const GOOD = `apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata:
  name: web
  namespace: shop
  annotations:
    lattice.dev/runbook: https://runbooks.example.com/web
    lattice.dev/slo: https://slo.example.com/web
spec:
  replicas: 2
  workload:
    containers:
      main:
        image: ${IMAGE}
        resources: {profile: small}
        readinessProbe: {httpGet: {path: /healthz, port: 8080}}
        variables:
          DB_PASSWORD: \${resources.db.password}
          TOKEN_URL: https://auth.example.com/token
    service: {ports: {http: {port: 80, targetPort: 8080}}}
    resources:
      db: {type: secret, params: {keys: [password]}}
  ingress:
    routes:
      web: {hosts: [shop.example.com], exposure: public}
`;

/** A service in a namespace no team owns, failing most checks. */
const BAD = `apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata:
  name: legacy
  namespace: attic
  annotations:
    lattice.dev/runbook: "see the wiki"
spec:
  workload:
    containers:
      main:
        image: registry.example.com/legacy:1.0
        resources: {profile: small}
        security: {runAsUser: 0}
        variables:
          API_KEY: hunter2-very-secret
          AWS_ID: AKIAABCDEFGHIJKLMNOP
    service: {ports: {http: {port: 80}}}
  ingress:
    routes:
      web: {hosts: [legacy.example.com], exposure: public}
`;

function score(files: Record<string, string>): FleetScore {
  const docs: PlatformDocument[] = [];
  for (const [file, text] of Object.entries(files)) {
    const parsed = parseYamlDocuments(text, file);
    for (const d of parsed.documents) docs.push({ object: d.object, locate: d.locate });
  }
  return scorePlatform(derivePlatform(docs, { now: NOW }), docs);
}

function check(card: Scorecard, id: string): Scorecard['checks'][number] {
  const c = card.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}`);
  return c;
}

const both = (): FleetScore => score({ 'policies.yaml': POLICIES, 'team.yaml': TEAM, 'good.yaml': GOOD, 'bad.yaml': BAD });

test('a service meeting every platform check passes each of them and scores 100', () => {
  const web = both().services.find((s) => s.key === 'shop/web')!;
  assert.equal(web.phase, 'Ready', JSON.stringify(web.checks[0]));
  assert.deepEqual(web.checks.map((c) => [c.id, c.status]), [
    ['derived', 'pass'], ['owner-known', 'pass'], ['probes-declared', 'pass'], ['image-digest-pinned', 'pass'], ['non-root', 'pass'],
    ['redundant', 'pass'], ['under-quota', 'pass'], ['runbook-link', 'pass'], ['slo-link', 'pass'], ['public-route-approved', 'pass'], ['secrets-externalized', 'pass'],
  ]);
  assert.equal(web.score, 100);
  assert.match(check(web, 'owner-known').message, /team shop, reached at #shop on Slack/);
  assert.match(check(web, 'under-quota').message, /ResourceQuota of LatticeTeam shop/);
});

test('each failing check carries its severity and evidence: the field path and file:line', () => {
  const legacy = both().services.find((s) => s.key === 'attic/legacy')!;
  const failed = Object.fromEntries(legacy.checks.filter((c) => c.status === 'fail').map((c) => [c.id, [c.severity, c.evidence.map((e) => `${e.location?.file}:${e.location?.line} ${e.path}`)]]));
  assert.deepEqual(failed, {
    derived: ['error', ['bad.yaml:12 spec.workload.containers.main.image']],
    'owner-known': ['error', ['bad.yaml:5 metadata.namespace']],
    'probes-declared': ['warning', ['bad.yaml:11 spec.workload.containers.main']],
    'image-digest-pinned': ['error', ['bad.yaml:12 spec.workload.containers.main.image']],
    'non-root': ['error', ['bad.yaml:14 spec.workload.containers.main.security.runAsUser']],
    redundant: ['warning', ['bad.yaml:8 spec.replicas']],
    'under-quota': ['warning', ['bad.yaml:5 metadata.namespace']],
    'runbook-link': ['warning', ['bad.yaml:7 metadata.annotations.lattice.dev/runbook']],
    'slo-link': ['info', ['bad.yaml:3 metadata']],
    'public-route-approved': ['error', ['bad.yaml:21 spec.ingress.routes.web.hosts.0']],
    'secrets-externalized': ['error', ['bad.yaml:16 spec.workload.containers.main.variables.API_KEY', 'bad.yaml:17 spec.workload.containers.main.variables.AWS_ID']],
  });
  assert.ok(legacy.score < 20, `score ${legacy.score}`);
});

test('a public route Cedar denies fails public-route-approved with the denial as evidence', () => {
  const denied = GOOD.replace('name: web', 'name: other').replace('shop.example.com', 'other.example.com').replace(/image: .*/, `image: ${IMAGE}`);
  const card = score({ 'policies.yaml': POLICIES, 'team.yaml': TEAM, 'other.yaml': denied }).services[0]!;
  const c = check(card, 'public-route-approved');
  assert.equal(c.status, 'fail');
  assert.match(c.message, /Cedar denied exposing a route: ExposeRoute denied/);
  assert.equal(c.evidence[0]!.location?.file, 'other.yaml');
  assert.equal(check(card, 'derived').status, 'fail');
  // No public route: the check does not apply and does not count.
  const internal = score({ 'policies.yaml': POLICIES, 'team.yaml': TEAM, 'i.yaml': GOOD.replace('exposure: public', 'exposure: internal') }).services[0]!;
  assert.equal(check(internal, 'public-route-approved').status, 'skip');
  assert.equal(internal.score, 100);
});

test('secret-looking literals: named like a secret or shaped like a credential; placeholders and plain URLs are not', () => {
  assert.match(secretLiteralReason('hunter2-very-secret', 'DB_PASSWORD')!, /named like a secret/);
  assert.match(secretLiteralReason('AKIAABCDEFGHIJKLMNOP')!, /AWS access key id/);
  assert.match(secretLiteralReason('-----BEGIN RSA PRIVATE KEY-----\nMIIE')!, /PEM private key/);
  assert.match(secretLiteralReason('postgres://app:s3cr3t@db:5432/x')!, /password in a URL/);
  assert.match(secretLiteralReason(`sk_live_${'a'.repeat(24)}`)!, /Stripe live key/);
  assert.equal(secretLiteralReason('${resources.stripe.api-key}', 'STRIPE_API_KEY'), undefined);
  assert.equal(secretLiteralReason('postgres://app:${resources.db.dsn}@db:5432/orders', 'DATABASE_URL'), undefined);
  assert.equal(secretLiteralReason('https://auth.example.com/token', 'TOKEN_URL'), undefined);
  assert.equal(secretLiteralReason('3600', 'TOKEN_TTL'), undefined);
  assert.equal(secretLiteralReason('info', 'LOG_LEVEL'), undefined);
});

test('the fleet summary sorts checks by failures, and the score weighs severities', () => {
  const fleet = both();
  assert.deepEqual(fleet.checks.slice(0, 3).map((c) => [c.id, c.failing.length, c.applicable]), [['derived', 1, 2], ['owner-known', 1, 2], ['image-digest-pinned', 1, 2]]);
  assert.deepEqual(fleet.checks.find((c) => c.id === 'public-route-approved')!.failing, ['attic/legacy']);
  assert.equal(scoreOf([{ id: 'a', severity: 'error', status: 'pass', message: '', evidence: [] }, { id: 'b', severity: 'info', status: 'fail', message: '', evidence: [] }, { id: 'c', severity: 'warning', status: 'skip', message: '', evidence: [] }]), 75);
  assert.equal(failsAt(fleet, 'error'), true);
  const goodOnly = score({ 'policies.yaml': POLICIES, 'team.yaml': TEAM, 'good.yaml': GOOD });
  assert.equal(failsAt(goodOnly, 'info'), false);
});


test('lattice score: table and JSON, exit 1 on an error-severity failure, --fail-on, and no secret value printed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-score-'));
  for (const [f, t] of Object.entries({ 'policies.yaml': POLICIES, 'team.yaml': TEAM, 'good.yaml': GOOD, 'bad.yaml': BAD })) writeFileSync(join(dir, f), t);
  const table = await lattice('score', dir);
  assert.equal(table.code, 1);
  assert.match(table.stdout, /^SERVICE +SCORE +PHASE +FAILING CHECKS$/m);
  assert.match(table.stdout, /^shop\/web +100 +Ready +-$/m);
  assert.match(table.stdout, new RegExp(`at ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/bad\\.yaml:16:\\d+ spec\\.workload\\.containers\\.main\\.variables\\.API_KEY`));
  assert.match(table.stdout, /Most failed: derived \(Derived by the platform\), by 1 of 2 services\./);
  const json = await lattice('score', dir, '-o', 'json');
  const parsed = JSON.parse(json.stdout) as FleetScore;
  assert.deepEqual(parsed.services.map((s) => s.key), ['attic/legacy', 'shop/web']);
  for (const out of [table.stdout, json.stdout, table.stderr, json.stderr]) {
    assert.ok(!out.includes('hunter2') && !out.includes('AKIAABCDEFGHIJKLMNOP'), 'a secret value was printed');
  }
  writeFileSync(join(dir, 'bad.yaml'), '');
  assert.equal((await lattice('score', dir)).code, 0, 'the good service alone fails nothing at error');
  writeFileSync(join(dir, 'good.yaml'), GOOD.replace('replicas: 2', 'replicas: 1'));
  assert.equal((await lattice('score', dir)).code, 0);
  assert.equal((await lattice('score', dir, '--fail-on', 'warning')).code, 1);
  assert.equal((await lattice('score', dir, '--fail-on', 'bogus')).code, 2);
});
