/**
 * LatticePackage field by field: the Flux chart source and HelmRelease, secrets through an ExternalSecret
 * and valuesFrom (never in the values), the Cedar DeployPackage gate with tests that try to get
 * around it, the mesh member side of the chart's pods, validation, and upstream-schema validity of
 * every derived object. (Flows as a whole: test/cluster-model.test.ts.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionOf, deriveObjects, deriveYaml, objectOf, provider, resultOf, service } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import { parse as parseYaml } from 'yaml';
import { run } from '../src/cli/main.ts';

const pkg = (name: string, spec: Record<string, unknown>, namespace = 'shop'): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePackage', metadata: { name, namespace }, spec });
const REDIS_OCI = { repository: 'oci://registry.example.com/charts', name: 'redis', version: '18.6.1' };
const REDIS_HTTPS = { repository: 'https://charts.example.com/stable', name: 'redis', version: '18.6.1' };
const policy = (text: string, name = 'charts'): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name, namespace: 'lattice-system' }, spec: { policies: text } });
const PERMIT_OTHERS = 'permit (principal, action, resource) unless { action == Lattice::Action::"DeployPackage" || action == Lattice::Action::"SkipImageVerification" };';
const PERMIT_REDIS = `${PERMIT_OTHERS}\npermit (principal, action == Lattice::Action::"DeployPackage", resource) when { resource.host == "registry.example.com" && resource.name == "redis" && resource.version == "18.6.1" };`;

describe('the Flux objects of a package', () => {
  test('oci:// chart: an OCIRepository at <repository>/<chart> with the version as tag, and a HelmRelease with chartRef', () => {
    const r = resultOf(deriveObjects([provider(), pkg('cache', { chart: REDIS_OCI })]), 'shop/cache');
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.equal(r.kind, 'LatticePackage');
    assert.deepEqual(r.objects.map((o) => `${o.kind}/${o.metadata.name}`), ['OCIRepository/cache', 'HelmRelease/cache']);
    for (const o of r.objects) assertValid(o);
    const source = objectOf(r, 'OCIRepository');
    assert.equal(source.apiVersion, 'source.toolkit.fluxcd.io/v1');
    assert.deepEqual(source.metadata.labels, { 'app.kubernetes.io/name': 'cache', 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'shop', 'lattice.dev/service': 'cache' });
    assert.deepEqual(source.spec, {
      interval: '1h',
      url: 'oci://registry.example.com/charts/redis',
      ref: { tag: '18.6.1' },
      layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: 'copy' },
    });
    const release = objectOf(r, 'HelmRelease');
    assert.equal(release.apiVersion, 'helm.toolkit.fluxcd.io/v2');
    assert.deepEqual(release.spec, { interval: '10m', releaseName: 'cache', chartRef: { kind: 'OCIRepository', name: 'cache' }, install: { crds: 'Create' }, upgrade: { crds: 'Skip' } });
  });

  test('https:// chart: a HelmRepository and a HelmRelease naming the chart and exact version in it', () => {
    const r = resultOf(deriveObjects([pkg('cache', { chart: REDIS_HTTPS, skipCrds: true, timeout: '10m30s' })]), 'shop/cache');
    assert.deepEqual(r.objects.map((o) => `${o.kind}/${o.metadata.name}`), ['HelmRepository/cache', 'HelmRelease/cache']);
    for (const o of r.objects) assertValid(o);
    assert.deepEqual(objectOf(r, 'HelmRepository').spec, { interval: '1h', url: 'https://charts.example.com/stable' });
    assert.deepEqual(objectOf(r, 'HelmRelease').spec, {
      interval: '10m',
      releaseName: 'cache',
      chart: { spec: { chart: 'redis', version: '18.6.1', sourceRef: { kind: 'HelmRepository', name: 'cache' } } },
      timeout: '10m30s',
      install: { crds: 'Skip' },
      upgrade: { crds: 'Skip' },
    });
  });

  test('a build-metadata version becomes an OCI tag with "_" for "+" (Helm\'s OCI tag convention)', () => {
    const r = resultOf(deriveObjects([pkg('cache', { chart: { ...REDIS_OCI, version: '1.2.3+build.7' } })]), 'shop/cache');
    assert.deepEqual((objectOf(r, 'OCIRepository').spec as { ref: unknown }).ref, { tag: '1.2.3_build.7' });
  });

  test('the oracles catch a wrong HelmRelease: unknown field, bad targetPath, both chart and chartRef missing a required field', () => {
    const r = resultOf(deriveObjects([pkg('cache', { chart: REDIS_OCI })]), 'shop/cache');
    const release = objectOf(r, 'HelmRelease');
    assert.throws(() => assertValid({ ...release, spec: { ...(release.spec as object), bogus: 1 } } as typeof release), /bogus/);
    assert.throws(() => assertValid({ ...release, spec: { ...(release.spec as object), valuesFrom: [{ kind: 'Secret', name: 'x', targetPath: 'a b' }] } } as typeof release), /targetPath/);
    assert.throws(() => assertValid({ ...release, spec: { ...(release.spec as object), valuesFrom: [{ kind: 'Vault', name: 'x' }] } } as typeof release), /kind/);
    assert.throws(() => assertValid({ ...release, spec: { chartRef: { kind: 'OCIRepository', name: 'cache' } } } as typeof release), /interval/);
  });
});

describe('secrets in values: through ExternalSecrets and valuesFrom, never in the HelmRelease', () => {
  const values = {
    architecture: 'standalone',
    auth: { enabled: true, password: '${resources.redis-auth.password}' },
    'replica.example.com': { url: 'redis://:${resources.redis-auth.password}@cache:6379/0' },
    literal: 'costs $${price}',
    list: ['a', 'b'],
  };
  const spec = { chart: REDIS_OCI, resources: { 'redis-auth': { type: 'secret', id: 'shop/redis', params: { keys: ['password'] } } }, values };
  const r = resultOf(deriveObjects([provider(), pkg('cache', spec)]), 'shop/cache');

  test('Ready; the synced Secret, the templated Secret and the release, each valid', () => {
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.deepEqual(r.objects.map((o) => `${o.kind}/${o.metadata.name}`), ['ExternalSecret/cache-redis-auth', 'ExternalSecret/cache-values', 'OCIRepository/cache', 'HelmRelease/cache']);
    for (const o of r.objects) assertValid(o);
  });

  test('secret strings are removed from values; the release reads them from the Secret <package>-values', () => {
    const release = objectOf(r, 'HelmRelease').spec as { values: Record<string, unknown>; valuesFrom: unknown[] };
    assert.deepEqual(release.values, { architecture: 'standalone', auth: { enabled: true }, 'replica.example.com': {}, literal: 'costs ${price}', list: ['a', 'b'] });
    assert.deepEqual(release.valuesFrom, [{ kind: 'Secret', name: 'cache-values', valuesKey: 'values.yaml' }]);
    assert.deepEqual(objectOf(r, 'ExternalSecret', 'cache-redis-auth').spec, {
      refreshInterval: '1h',
      secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' },
      target: { name: 'cache-redis-auth', creationPolicy: 'Owner' },
      data: [{ secretKey: 'password', remoteRef: { key: 'shop/redis', property: 'password' } }],
    });
  });

  const template = (objectOf(r, 'ExternalSecret', 'cache-values').spec as { target: { template: { data: Record<string, string> } } }).target.template.data['values.yaml']!;

  test('ESO renders the secret part as one YAML document, each secret string through toJson', () => {
    const es = objectOf(r, 'ExternalSecret', 'cache-values').spec as { target: { name: string; template: { engineVersion: string } }; data: unknown[]; secretStoreRef: unknown };
    assert.equal(es.target.name, 'cache-values');
    assert.equal(es.target.template.engineVersion, 'v2');
    assert.deepEqual(es.secretStoreRef, { name: 'vault', kind: 'ClusterSecretStore' });
    assert.deepEqual(es.data, [{ secretKey: 'redis-auth.password', remoteRef: { key: 'shop/redis', property: 'password' } }]);
    assert.equal(template, "{'auth': {'password': {{ (index . `redis-auth.password`) | toJson }}}, 'replica.example.com': {'url': {{ print `redis://:` (index . `redis-auth.password`) `@cache:6379/0` | toJson }}}}");
  });

  const render = (tpl: string, data: Record<string, string>): string =>
    tpl.replace(/\{\{ (.*?) \| toJson \}\}/g, (_m, expr: string) => {
      const literal = (a: string): string => (a.startsWith('`') ? a.slice(1, -1) : (JSON.parse(a) as string));
      const arg = (a: string): string => (a.startsWith('(index . ') ? data[literal(a.slice('(index . '.length, -1))]! : literal(a));
      const parts = expr.startsWith('print ') ? [...expr.slice(6).matchAll(/\(index \. `[^`]*`\)|`[^`]*`|"(?:[^"\\]|\\.)*"/g)].map((m) => m[0]) : [expr];
      return JSON.stringify(parts.map(arg).join(''));
    });

  test('whatever the secret holds (commas, quotes, newlines, digits only) arrives as that exact string', () => {
    // Go text/template as ESO runs it, for the two forms Lattice writes: (index . `k`) and `print` of
    // string literals and such indexes, piped to toJson (sprig: JSON encoding of the string).
    for (const password of ['p,a"ss=1\n{x}', '012345', 'true', '${not.a.placeholder}']) {
      const doc = parseYaml(render(template, { 'redis-auth.password': password })) as Record<string, Record<string, unknown>>;
      assert.deepEqual(doc, { auth: { password }, 'replica.example.com': { url: `redis://:${password}@cache:6379/0` } });
    }
  });

  test('keys with quotes and text with backquotes survive the template', () => {
    const odd = resultOf(deriveObjects([provider(), pkg('cache', { ...spec, values: { "it's": { 'v"x': 'a`b ${resources.redis-auth.password}' } } })]), 'shop/cache');
    const tpl = (objectOf(odd, 'ExternalSecret', 'cache-values').spec as { target: { template: { data: Record<string, string> } } }).target.template.data['values.yaml']!;
    assert.deepEqual(parseYaml(render(tpl, { 'redis-auth.password': 's3cr,et' })), { "it's": { 'v"x': 'a`b s3cr,et' } });
  });

  test('no placeholder is left anywhere in the HelmRelease', () => {
    assert.ok(!JSON.stringify(objectOf(r, 'HelmRelease')).includes('${resources'), 'placeholders must not reach Helm');
  });

  test('each wrong placeholder names the value and the fix; nothing is derived', () => {
    const cases: [unknown, RegExp][] = [
      [{ a: '${resources.nope.password}' }, /spec\.values\.a: .*"nope", which is not a secret resource of this package/],
      [{ a: '${metadata.name}' }, /spec\.values\.a: .*may only name a key of a secret resource/],
      [{ a: '${resources.redis-auth.user}' }, /does not sync \(params\.keys: password\)/],
      [{ a: ['${resources.redis-auth.password}'] }, /spec\.values\.a\[0\]: a secret placeholder inside a list/],
      [{ 'a{{b': { c: '${resources.redis-auth.password}' } }, /holds "\{\{" or "\}\}"/],
      [{ '${resources.redis-auth.password}': 'x' }, /placeholder in a values key/],
      [{ a: '${resources.redis-auth.password' }, /not closed/],
    ];
    for (const [v, re] of cases) {
      const bad = resultOf(deriveObjects([provider(), pkg('cache', { ...spec, values: v })]), 'shop/cache');
      assert.equal(bad.status.phase, 'Failed', JSON.stringify(v));
      assert.deepEqual(bad.objects, []);
      assert.match(bad.diagnostics.map((d) => `${d.path}: ${d.message}`).join('\n'), re);
    }
  });

  test('a secret resource needs a permit (AccessSecret); a package resource must be a secret', () => {
    const denied = resultOf(deriveObjects([provider(), policy(`permit (principal, action == Lattice::Action::"DeployPackage", resource);`), pkg('cache', spec)]), 'shop/cache');
    assert.equal(conditionOf(denied, 'PolicyAuthorized').reason, 'AccessSecretDenied');
    const wrong = resultOf(deriveObjects([pkg('cache', { chart: REDIS_OCI, resources: { db: { type: 'service' } } })]), 'shop/cache');
    assert.match(conditionOf(wrong, 'Validated').message, /a package resource must be of type secret/);
  });
});

describe('Cedar DeployPackage: default deny, and attempts to get around it', () => {
  test('no permit: Failed with DeployPackageDenied on spec.chart, nothing derived, and the denial names the chart and whom to ask', () => {
    const p = deriveYaml(`apiVersion: lattice.dev/v1alpha1
kind: CedarPolicy
metadata: {name: others, namespace: lattice-system}
spec:
  owner: "#platform"
  policies: '${PERMIT_OTHERS}'
---
apiVersion: lattice.dev/v1alpha1
kind: LatticePackage
metadata: {name: cache, namespace: shop}
spec:
  chart: {repository: "oci://registry.example.com/charts", name: redis, version: 18.6.1}
`);
    const r = resultOf(p, 'shop/cache');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    const c = conditionOf(r, 'PolicyAuthorized');
    assert.equal(c.reason, 'DeployPackageDenied');
    assert.match(c.message, /DeployPackage denied for chart oci:\/\/registry\.example\.com\/charts\/redis:18\.6\.1/);
    assert.match(c.message, /input\.yaml:12:3/);
  });

  test('a permit for the chart allows exactly that chart: another version, name or registry is still denied', () => {
    const allowed = resultOf(deriveObjects([policy(PERMIT_REDIS), pkg('cache', { chart: REDIS_OCI })]), 'shop/cache');
    assert.equal(allowed.status.phase, 'Ready');
    for (const chart of [{ ...REDIS_OCI, version: '18.6.2' }, { ...REDIS_OCI, name: 'redis-evil' }, { ...REDIS_OCI, repository: 'oci://registry.example.com.evil.io/charts' }, { ...REDIS_OCI, repository: 'https://registry.example.com/charts' }]) {
      const r = resultOf(deriveObjects([policy(PERMIT_REDIS), pkg('cache', { chart })]), 'shop/cache');
      if (chart.repository.startsWith('https://')) {
        // Same host and name: the policy above does not look at the scheme, so this one is allowed;
        // a policy that cares writes resource.scheme (the next test).
        assert.equal(r.status.phase, 'Ready');
        continue;
      }
      assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'DeployPackageDenied', JSON.stringify(chart));
    }
  });

  test('a forbid wins over a permit (a registry forbidden outright)', () => {
    const r = resultOf(deriveObjects([policy(`${PERMIT_REDIS}\nforbid (principal, action == Lattice::Action::"DeployPackage", resource) unless { resource.scheme == "oci" };`), pkg('cache', { chart: REDIS_HTTPS })]), 'shop/cache');
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'DeployPackageDenied');
    assert.match(conditionOf(r, 'PolicyAuthorized').message, /forbid/);
  });

  test('the chart cannot be made to look like a permitted one: ranges, tags, credentials, paths and plain http are refused before Cedar', () => {
    const refused = [
      { ...REDIS_OCI, version: '^18.6.1' },
      { ...REDIS_OCI, version: '18.x' },
      { ...REDIS_OCI, version: 'latest' },
      { ...REDIS_OCI, name: '../redis' },
      { ...REDIS_OCI, name: 'charts/redis' },
      { ...REDIS_OCI, repository: 'oci://user:pass@registry.example.com/charts' },
      { ...REDIS_OCI, repository: 'https://registry.example.com/charts?x=redis:18.6.1' },
      { ...REDIS_OCI, repository: 'http://registry.example.com/charts' },
      { ...REDIS_OCI, repository: 'file:///etc/charts' },
    ];
    for (const chart of refused) {
      const r = resultOf(deriveObjects([policy(`${PERMIT_OTHERS}\npermit (principal, action == Lattice::Action::"DeployPackage", resource);`), pkg('cache', { chart })]), 'shop/cache');
      assert.equal(r.status.phase, 'Failed', JSON.stringify(chart));
      assert.equal(conditionOf(r, 'Validated').status, 'False', JSON.stringify(chart));
    }
  });

  test('a package in a protected namespace is refused whatever the policies say', () => {
    const r = resultOf(deriveObjects([pkg('cache', { chart: REDIS_OCI }, 'kube-system')]), 'kube-system/cache');
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'ProtectedNamespace');
  });

  test('while a CedarPolicy holds a forbid that cannot be read, every package is refused (fail closed); a broken permit only permits nothing', () => {
    // A forbid naming an unknown action could have forbidden anything: every request is refused.
    const r = resultOf(deriveObjects([policy(PERMIT_REDIS), policy('forbid (principal, action == Lattice::Action::"Nope", resource);', 'broken'), pkg('cache', { chart: REDIS_OCI })]), 'shop/cache');
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'PolicyInvalid');
    assert.deepEqual(r.objects, []);
    // A broken permit is left out: default deny already covers what it would have allowed.
    const p = resultOf(deriveObjects([policy(PERMIT_REDIS), policy('permit (principal, action == Lattice::Action::"Nope", resource);', 'broken'), pkg('cache', { chart: REDIS_OCI })]), 'shop/cache');
    assert.equal(conditionOf(p, 'PolicyAuthorized').status, 'True');
    // ... and does not excuse the chart from its own question: without a permit for it, refused.
    const unpermitted = resultOf(deriveObjects([policy('permit (principal, action == Lattice::Action::"Nope", resource);', 'broken'), pkg('cache', { chart: REDIS_OCI })]), 'shop/cache');
    assert.equal(conditionOf(unpermitted, 'PolicyAuthorized').status, 'False');
    assert.deepEqual(unpermitted.objects, []);
    // A forbid on DeployPackage that cannot be read refuses the chart even though a permit exists.
    const forbidden = resultOf(deriveObjects([policy(PERMIT_REDIS), policy('forbid (principal, action == Lattice::Action::"DeployPackage", resource) when { resource.nope };', 'broken'), pkg('cache', { chart: REDIS_OCI })]), 'shop/cache');
    assert.equal(conditionOf(forbidden, 'PolicyAuthorized').reason, 'PolicyInvalid');
    assert.deepEqual(forbidden.objects, []);
  });

  test('lattice authz check lists DeployPackage among a package\'s decisions', async () => {
    let out = '';
    const code = await run(['authz', 'check', new URL('../examples/', import.meta.url).pathname, '--service', 'commerce/cache'], { stdout: (t) => void (out += t), stderr: () => undefined });
    assert.equal(code, 0, out);
    assert.match(out, /DeployPackage\s+chart oci:\/\/registry\.example\.com\/charts\/redis:18\.6\.1\s+ALLOW\s+approved-charts\/redis-from-mirror/);
    assert.match(out, /AccessSecret\s+secret commerce\/redis\s+ALLOW/);
  });
});

describe('the chart\'s pods in the mesh', () => {
  const mesh = { selector: { 'app.kubernetes.io/instance': 'cache' }, serviceAccount: 'cache-redis', serviceNames: ['cache-master'], ports: [{ name: 'redis', port: 6379 }], allowedCallers: [{ name: 'web' }] };
  const web = service('web', { workload: { resources: { cache: { type: 'service' } } } });
  const p = deriveObjects([pkg('cache', { chart: REDIS_OCI, mesh }), web]);
  const r = resultOf(p, 'shop/cache');

  test('the release labels the chart\'s pod templates ambient; the policies select the selector plus that label', () => {
    assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
    assert.deepEqual(r.objects.map((o) => o.kind), ['OCIRepository', 'HelmRelease', 'CiliumNetworkPolicy', 'AuthorizationPolicy']);
    for (const o of r.objects) assertValid(o);
    const patch = '- op: add\n  path: /spec/template/metadata/labels/istio.io~1dataplane-mode\n  value: ambient\n';
    assert.deepEqual((objectOf(r, 'HelmRelease').spec as { postRenderers: unknown }).postRenderers, [{ kustomize: { patches: ['Deployment', 'StatefulSet', 'DaemonSet'].map((kind) => ({ target: { kind }, patch })) } }]);
    assert.deepEqual((objectOf(r, 'CiliumNetworkPolicy').spec as { endpointSelector: unknown }).endpointSelector, { matchLabels: { 'k8s:app.kubernetes.io/instance': 'cache', 'k8s:istio.io/dataplane-mode': 'ambient' } });
    assert.deepEqual(objectOf(r, 'AuthorizationPolicy').spec, {
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'cache', 'istio.io/dataplane-mode': 'ambient' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/web'] } }], to: [{ operation: { ports: ['6379'] } }] }],
    });
    assert.equal(conditionOf(r, 'MeshEnrolled').reason, 'PodLabelEnrolled');
  });

  test('a caller reaches the chart\'s pods by their labels and resolves the chart\'s Service', () => {
    const spec = objectOf(resultOf(p, 'shop/web'), 'CiliumNetworkPolicy').spec as { egress: { toEndpoints?: unknown; toPorts: { rules?: unknown }[] }[] };
    assert.deepEqual(spec.egress[0]!.toPorts[0]!.rules, { dns: [{ matchName: 'cache-master.shop.svc.cluster.local' }] });
    assert.deepEqual(spec.egress[1]!.toEndpoints, [{ matchLabels: { 'k8s:app.kubernetes.io/instance': 'cache', 'k8s:istio.io/dataplane-mode': 'ambient', 'k8s:io.kubernetes.pod.namespace': 'shop' } }]);
  });

  test('without mesh: no policies and no post-renderer (the platform default deny leaves the pods no traffic)', () => {
    const bare = resultOf(deriveObjects([pkg('cache', { chart: REDIS_OCI })]), 'shop/cache');
    assert.ok(!bare.objects.some((o) => o.kind === 'CiliumNetworkPolicy' || o.kind === 'AuthorizationPolicy'));
    assert.equal((objectOf(bare, 'HelmRelease').spec as { postRenderers?: unknown }).postRenderers, undefined);
  });

  test('a package mesh declares each port and port name once, as a mesh member does', () => {
    const twice = resultOf(deriveObjects([pkg('cache', { chart: REDIS_OCI, mesh: { ...mesh, ports: [{ name: 'redis', port: 6379 }, { name: 'redis', port: 6380 }, { name: 'other', port: 6379 }] } })]), 'shop/cache');
    const message = conditionOf(twice, 'Validated').message;
    assert.match(message, /spec\.mesh\.ports\[1\]\.name: port name "redis" is used twice/);
    assert.match(message, /spec\.mesh\.ports\[2\]\.port: port 6379\/TCP is declared twice \(ports\.0\)/);
    assert.deepEqual(twice.objects, []);
  });

  test('attack: a package mesh selector of Lattice labels, or the ServiceAccount of a service, is refused', () => {
    const sel = resultOf(deriveObjects([pkg('cache', { chart: REDIS_OCI, mesh: { ...mesh, selector: { 'app.kubernetes.io/name': 'web' } } }), web]), 'shop/cache');
    assert.match(conditionOf(sel, 'Validated').message, /could select a Lattice workload's pods/);
    const sa = resultOf(deriveObjects([pkg('cache', { chart: REDIS_OCI, mesh: { ...mesh, serviceAccount: 'web' } }), web]), 'shop/cache');
    assert.equal(conditionOf(sa, 'MeshEnrolled').reason, 'ServiceAccountInUse');
    assert.deepEqual(sa.objects, []);
  });
});

describe('validation', () => {
  test('the release name limit of Helm (53 characters)', () => {
    const name = `c${'a'.repeat(53)}`;
    const r = resultOf(deriveObjects([pkg(name, { chart: REDIS_OCI })]), `shop/${name}`);
    assert.equal(r.status.phase, 'Failed');
    assert.match(conditionOf(r, 'Validated').message, /Helm limits to 53 characters \(this one has 54\)/);
  });

  test('unknown fields and missing chart fields are named', () => {
    const r = resultOf(deriveObjects([pkg('cache', { chart: { repository: REDIS_OCI.repository, name: 'redis' }, targetNamespace: 'kube-system' })]), 'shop/cache');
    const text = r.diagnostics.map((d) => `${d.path}: ${d.message}`).join('\n');
    assert.match(text, /spec\.chart\.version: is required/);
    assert.match(text, /unknown field "targetNamespace"/);
  });
});
