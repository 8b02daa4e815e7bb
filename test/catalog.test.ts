/**
 * The service catalog (src/catalog/site.ts, `lattice catalog`): the pages' content from the example
 * platform and from services built to try to leak a secret; then the real thing in headless Chromium
 * (Debian's `chromium`, driven by playwright-core): the site as a browser shows it, with no request
 * leaving file://, and a screenshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { consumedSecrets, dependencySvg, escapeHatches, esc } from '../src/catalog/site.ts';
import { latticeServiceSchema } from '../src/api/latticeservice/v1alpha1.ts';
import { IMAGE } from './support/fixtures.ts';
import { lattice } from './support/cli.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';


let examplesSite: string | undefined;
/** The catalog of examples/, written once. */
async function examples(): Promise<string> {
  if (examplesSite) return examplesSite;
  const out = mkdtempSync(join(tmpdir(), 'lattice-catalog-'));
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const r = await lattice('catalog', 'examples/', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Catalog of 15 services written to .*index\.html \(16 pages\)/);
  } finally {
    process.chdir(cwd);
  }
  examplesSite = out;
  return out;
}

function allHtml(dir: string): string {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [readFileSync(join(d, e.name), 'utf8')]));
  return walk(dir).join('\n');
}

test('the index lists every example service with owner, namespace, image, status and score', async () => {
  const index = readFileSync(join(await examples(), 'index.html'), 'utf8');
  const rows = [...index.matchAll(/<tr data-service="([^"]+)">(.*?)<\/tr>/g)];
  assert.deepEqual(rows.map((r) => r[1]), ['analytics/nightly-report', 'analytics/train-ranker', 'commerce/cache', 'commerce/catalog', 'commerce/checkout', 'commerce/ledger-export', 'commerce/legacy-pricing', 'commerce/notifications', 'commerce/orders', 'commerce/payments', 'commerce/search', 'commerce/search-ranker', 'commerce/storefront', 'ml/assistant', 'ml/chat']);
  const payments = rows.find((r) => r[1] === 'commerce/payments')![2]!;
  assert.match(payments, /<a href="services\/commerce\/payments.html">payments<\/a>/);
  assert.match(payments, /#commerce on Slack <span class="muted">\(commerce\)<\/span>/);
  assert.match(payments, /registry\.example\.com\/payments@sha256:9f2b7c1d4e5a…/);
  assert.match(payments, /<span class="badge Ready">Ready<\/span>/);
  assert.match(payments, /<span class="score">\d+<\/span>/);
  assert.match(rows.find((r) => r[1] === 'commerce/ledger-export')![2]!, /badge Failed/);
  assert.match(index, /<td>Commerce<\/td><td>#commerce on Slack<\/td><td><code>commerce<\/code>, <code>commerce-staging<\/code><\/td>/);
  assert.match(index, /content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"/);
  assert.doesNotMatch(index, /<script|<link|https?:\/\/[^"<]*\.(js|css|woff2?)/);
});

test('a service page shows dependencies, secrets by name, routes and escape hatches', async () => {
  const site = await examples();
  const payments = readFileSync(join(site, 'services/commerce/payments.html'), 'utf8');
  assert.match(payments, /<g class="edge" data-from="commerce\/payments" data-to="commerce\/orders">/);
  const orders = readFileSync(join(site, 'services/commerce/orders.html'), 'utf8');
  assert.match(orders, /<g class="node caller" data-id="commerce\/payments">/, 'the caller is drawn on its callee\'s page');
  // checkout -> notifications is one-sided (notifications accepts it, checkout does not declare it): dashed.
  const notifications = readFileSync(join(site, 'services/commerce/notifications.html'), 'utf8');
  assert.match(notifications, /<g class="edge denied" data-from="commerce\/checkout" data-to="commerce\/notifications"><title>[^<]*not agreed \(outbound not declared by commerce\/checkout\)/);
  assert.match(payments, /data-to="external:commerce\/payments\/stripe-api\/api\.stripe\.com:443"/);
  const secrets = [...payments.matchAll(/<tr><td><code>([^<]+)<\/code><\/td><td>([^<]+)<\/td><td><code>([^<]+)<\/code><\/td>/g)].map((m) => [m[1], m[2], m[3]]);
  assert.deepEqual(secrets, [
    ['feature-flags', 'vault', 'commerce/feature-flags'], ['payments-db', 'vault', 'commerce/payments-db'],
    ['registry-credentials', 'vault', 'commerce/registry-credentials'], ['stripe', 'vault', 'commerce/stripe'],
  ]);
  assert.match(payments, /api variable STRIPE_API_KEY; api file \/etc\/payments\/stripe\.toml/);
  // Values are not shown, not even non-secret ones: the catalog lists names.
  assert.ok(!payments.includes('postgres://') && !payments.includes('webhook_secret =') && !payments.includes('LOG_LEVEL'));
  const storefront = readFileSync(join(site, 'services/commerce/storefront.html'), 'utf8');
  assert.match(storefront, /<td>web<\/td><td>public<\/td><td><code>shop\.example\.com<\/code><\/td>/);
  assert.match(storefront, /<td>public-route<\/td><td><code>spec\.ingress\.routes\.web<\/code><\/td>/);
  const catalog = readFileSync(join(site, 'services/commerce/catalog.html'), 'utf8');
  assert.match(catalog, /<td>wildcard-caller<\/td>/);
  const ledger = readFileSync(join(site, 'services/commerce/ledger-export.html'), 'utf8');
  assert.match(ledger, /<h2>Why it is not Ready<\/h2><ul id="problems"><li><code>spec\.workload\.resources\.stripe<\/code>: AccessSecret denied/);
});

test('no secret value reaches the site, even one pasted into a spec', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-catalog-leak-'));
  writeFileSync(join(dir, 'policy.yaml'), `apiVersion: lattice.dev/v1alpha1
kind: CedarPolicy
metadata: {name: all, namespace: lattice-system}
spec: {policies: 'permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };'}
`);
  writeFileSync(join(dir, 'svc.yaml'), `apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: leaky, namespace: shop}
spec:
  workload:
    containers:
      main:
        image: ${IMAGE}
        resources: {profile: small}
        args: ["--password=hunter2-in-args"]
        variables: {API_KEY: hunter2-very-secret, AWS: AKIAABCDEFGHIJKLMNOP}
        files: {/etc/key.pem: {content: "-----BEGIN PRIVATE KEY-----\\nMIIEvQhunter2\\n"}}
`);
  const out = join(dir, 'site');
  assert.equal((await lattice('catalog', dir, '--out', out)).code, 0);
  const html = allHtml(out);
  assert.match(html, /data-service="shop\/leaky"/);
  for (const value of ['hunter2', 'AKIAABCDEFGHIJKLMNOP', 'MIIEv']) assert.ok(!html.includes(value), `${value} in the catalog`);
  assert.match(html, /variables\.API_KEY is named like a secret/, 'the scorecard names the field instead');
});

test('pieces: escaping, escape hatches, secrets, and the graph layout', () => {
  assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  const service = latticeServiceSchema.parse({
    apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name: 'x', namespace: 'ns' },
    spec: {
      imagePullSecrets: ['creds'],
      workload: {
        hostNetwork: true,
        containers: { c: { image: IMAGE, resources: { profile: 'small' }, security: { capabilities: { add: ['NET_ADMIN'] }, runAsUser: 0 }, envFrom: ['flags'] } },
        resources: { any: { type: 'service', direction: 'inbound', id: '*' }, flags: { type: 'secret', id: 'shared/flags', params: { provider: 'aws' } }, creds: { type: 'secret' } },
      },
    },
  });
  assert.deepEqual(escapeHatches(service).map((h) => [h.kind, h.path]), [
    ['security-override', 'spec.workload.containers.c.security.capabilities.add'],
    ['security-override', 'spec.workload.containers.c.security.runAsUser'],
    ['host-network', 'spec.workload.hostNetwork'],
    ['wildcard-caller', 'spec.workload.resources.any'],
  ]);
  assert.deepEqual(consumedSecrets(service, 'vault'), [
    { resource: 'creds', provider: 'vault', remote: 'ns/creds', keys: ['all keys'], usedBy: ['imagePullSecrets'] },
    { resource: 'flags', provider: 'aws', remote: 'shared/flags', keys: ['all keys'], usedBy: ['c envFrom'] },
  ]);
  const svg = dependencySvg('ns/x', {
    nodes: [{ id: 'ns/x', kind: 'service', status: 'valid', label: 'x' }, { id: 'ns/a', kind: 'service', status: 'valid', label: 'a' }, { id: 'ns/b', kind: 'service', status: 'missing', label: 'b' }],
    edges: [{ from: 'ns/a', to: 'ns/x', allowed: true }, { from: 'ns/x', to: 'ns/b', allowed: false, missing: 'ns/b not found' }],
  });
  assert.match(svg, /<g class="edge" data-from="ns\/a" data-to="ns\/x"><title>ns\/a calls ns\/x<\/title><line x1="220" y1="[0-9.]+" x2="308"/);
  assert.match(svg, /<g class="edge denied" data-from="ns\/x" data-to="ns\/b"><title>ns\/x -&gt; ns\/b: not agreed \(ns\/b not found\)<\/title><line [^>]*stroke-dasharray="6 4"/);
  assert.equal([...svg.matchAll(/<g class="node (\w+)"/g)].map((m) => m[1]).join(','), 'caller,callee,self');
});

test('in headless Chromium: the example catalog renders, links work, nothing is fetched, screenshot taken', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium; .ci/run does) to run the browser test`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const site = await examples();
  const profile = mkdtempSync(join(tmpdir(), 'lattice-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  try {
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requests.push(url);
      return url.startsWith('file://') ? route.continue() : route.abort();
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    assert.equal(await page.title(), 'Service catalog');
    const rows = await page.$$eval('#services tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
    assert.equal(rows.length, 15);
    const byName = new Map(rows.map((r) => [r[0], r]));
    assert.deepEqual(byName.get('payments')!.slice(0, 3), ['payments', 'commerce', '#commerce on Slack (commerce)']);
    assert.equal(byName.get('payments')![4], 'Ready');
    assert.equal(byName.get('search-ranker')![4], 'Failed');
    assert.match(byName.get('storefront')![5]!, /^\d+$/);
    const indexShot = join(site, 'index.png');
    await page.screenshot({ path: indexShot, fullPage: true });
    await page.click('a[href="services/commerce/payments.html"]');
    assert.equal(await page.title(), 'commerce/payments · Service catalog');
    const edge = page.locator('svg.graph g.edge[data-from="commerce/payments"][data-to="commerce/orders"] line');
    assert.equal(await edge.count(), 1);
    const box = await edge.boundingBox();
    assert.ok(box !== null && box.width > 50, 'the edge is drawn with a visible length');
    const text = await page.locator('body').innerText();
    assert.match(text, /Secrets consumed/);
    assert.match(text, /stripe\s+vault\s+commerce\/stripe\s+api-key, webhook-secret/);
    assert.ok(!text.includes('postgres://') && !text.includes('webhook_secret ='));
    const serviceShot = join(site, 'payments.png');
    await page.screenshot({ path: serviceShot, fullPage: true });
    assert.ok(readFileSync(serviceShot).length > 10_000, 'the screenshot has content');
    assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'the catalog fetched something over the network');
    t.diagnostic(`screenshots: ${indexShot} ${serviceShot}`);
  } finally {
    await context.close();
  }
});
