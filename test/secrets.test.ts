import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveObjects, objectOf, resultOf, conditionOf, provider, service, IMAGE } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import type { ServiceResult } from '../src/compiler/types.ts';
import { summary } from '../src/cli/render.ts';

type Pod = { containers: { name: string; env?: unknown[]; envFrom?: unknown[]; volumeMounts?: unknown[]; args?: string[]; command?: string[] }[]; volumes?: unknown[]; imagePullSecrets?: unknown[] };

function pod(r: ServiceResult): Pod {
  return (objectOf(r, 'Deployment').spec as { template: { spec: Pod } }).template.spec;
}

function derive(spec: Record<string, unknown>, extra: unknown[] = [provider()]): ServiceResult {
  return resultOf(deriveObjects([...extra, service('shop-api', spec)]), 'shop/shop-api');
}

const container = (fields: Record<string, unknown>): Record<string, unknown> => ({ image: IMAGE, resources: { limits: { cpu: '1', memory: '1Gi' } }, ...fields });

test('each secret resource derives one ExternalSecret syncing its keys from its provider', () => {
  const r = derive({ workload: { resources: { db: { type: 'secret', params: { keys: ['user', 'password'], refreshInterval: '15m' } } } } });
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const es = objectOf(r, 'ExternalSecret', 'shop-api-db');
  assert.equal(es.apiVersion, 'external-secrets.io/v1');
  assert.equal(es.metadata.namespace, 'shop');
  assert.equal(es.metadata.labels?.['lattice.dev/service'], 'shop-api');
  assert.deepEqual(es.spec, {
    refreshInterval: '15m',
    secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' },
    target: { name: 'shop-api-db', creationPolicy: 'Owner' },
    data: [
      { secretKey: 'user', remoteRef: { key: 'shop/db', property: 'user' } },
      { secretKey: 'password', remoteRef: { key: 'shop/db', property: 'password' } },
    ],
  });
  assertValid(es);
});

test('a secret without keys syncs every key with dataFrom.extract; id overrides the remote key', () => {
  const r = derive({ workload: { resources: { flags: { type: 'secret', id: 'teams/shop/flags' } } } });
  const es = objectOf(r, 'ExternalSecret', 'shop-api-flags');
  assert.deepEqual((es.spec as { dataFrom: unknown }).dataFrom, [{ extract: { key: 'teams/shop/flags' } }]);
  assertValid(es);
});

test('route 1: a variable that is exactly one secret placeholder becomes secretKeyRef', () => {
  const r = derive({ workload: { containers: { main: container({ variables: { PASSWORD: '${resources.db.password}' } }) }, resources: { db: { type: 'secret', params: { keys: ['password'] } } } } });
  assert.deepEqual(pod(r).containers[0]!.env, [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'shop-api-db', key: 'password' } } }]);
  assert.equal(r.objects.filter((o) => o.kind === 'ExternalSecret').length, 1, 'no templated ExternalSecret for route 1');
});

test('route 2: text mixed with secrets is rendered by ESO from a template, never by Lattice', () => {
  const r = derive({
    workload: {
      containers: { main: container({ variables: { DATABASE_URL: 'postgres://${resources.db.user}:${resources.db.password}@${metadata.name}:5432/{{db}}' } }) },
      resources: { db: { type: 'secret', params: { keys: ['user', 'password'] } } },
    },
  });
  const es = objectOf(r, 'ExternalSecret', 'shop-api-main-secret-env');
  assert.deepEqual(es.spec, {
    refreshInterval: '1h',
    secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' },
    target: {
      name: 'shop-api-main-secret-env',
      creationPolicy: 'Owner',
      template: {
        engineVersion: 'v2',
        data: { DATABASE_URL: 'postgres://{{ index . "db.user" }}:{{ index . "db.password" }}{{ "@shop-api:5432/{{db}}" }}' },
      },
    },
    data: [
      { secretKey: 'db.password', remoteRef: { key: 'shop/db', property: 'password' } },
      { secretKey: 'db.user', remoteRef: { key: 'shop/db', property: 'user' } },
    ],
  });
  assert.deepEqual(pod(r).containers[0]!.env, [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'shop-api-main-secret-env', key: 'DATABASE_URL' } } }]);
  assertValid(es);
});

test('route 3: a file with secret placeholders is an ESO-templated Secret mounted read-only with its mode', () => {
  const r = derive({
    workload: {
      containers: { main: container({ files: { '/etc/app/creds.ini': { mode: '0400', content: '[db]\npassword = ${resources.db.password}\n' } } }) },
      resources: { db: { type: 'secret', params: { keys: ['password'] } } },
    },
  });
  const es = objectOf(r, 'ExternalSecret', 'shop-api-main-secret-files');
  assert.deepEqual((es.spec as { target: unknown }).target, {
    name: 'shop-api-main-secret-files',
    creationPolicy: 'Owner',
    template: { engineVersion: 'v2', data: { 'creds.ini': '[db]\npassword = {{ index . "db.password" }}\n' } },
  });
  const p = pod(r);
  assert.deepEqual(p.volumes, [{ name: 'main-secret-dir-0', projected: { sources: [{ secret: { name: 'shop-api-main-secret-files', items: [{ key: 'creds.ini', path: 'creds.ini', mode: 0o400 }] } }] } }]);
  assert.deepEqual(p.containers[0]!.volumeMounts, [{ name: 'main-secret-dir-0', mountPath: '/etc/app', readOnly: true }], 'mounted by directory, no subPath: the kubelet updates it in place');
  assertValid(es);
});

test('route 4: envFrom a secret resource exposes the whole synced Secret', () => {
  const r = derive({ workload: { containers: { main: container({ envFrom: ['flags'], variables: { MODE: 'fast' } }) }, resources: { flags: { type: 'secret' } } } });
  assert.deepEqual(pod(r).containers[0]!.envFrom, [{ secretRef: { name: 'shop-api-flags' } }, { configMapRef: { name: 'shop-api-main-env' } }]);
});

test('route 5: imagePullSecrets sync a dockerconfigjson Secret and wire the pod', () => {
  const r = derive({ imagePullSecrets: ['registry'], workload: { resources: { registry: { type: 'secret', params: { keys: ['.dockerconfigjson'] } } } } });
  const es = objectOf(r, 'ExternalSecret', 'shop-api-registry');
  assert.deepEqual((es.spec as { target: unknown }).target, { name: 'shop-api-registry', creationPolicy: 'Owner', template: { type: 'kubernetes.io/dockerconfigjson', engineVersion: 'v2' } });
  assert.deepEqual(pod(r).imagePullSecrets, [{ name: 'shop-api-registry' }]);
  assertValid(es);
  const wrong = derive({ imagePullSecrets: ['registry'], workload: { resources: { registry: { type: 'secret', params: { keys: ['token'] } } } } });
  assert.equal(wrong.status.phase, 'Failed');
  assert.match(conditionOf(wrong, 'SecretsResolved').message, /must sync the key \.dockerconfigjson/);
});

test('non-secret variables go to a ConfigMap read with envFrom; metadata and service placeholders resolve', () => {
  const r = resultOf(deriveObjects([
    service('orders', { workload: { service: { ports: { http: { port: 8080 } } } } }),
    service('shop-api', {
      workload: {
        containers: { main: container({ variables: { NAME: '${metadata.name}', NS: '${metadata.namespace}', TEAM: '${metadata.annotations.example.com/team}', ORDERS: '${resources.orders.url}', LITERAL: 'cost $${HOME}' } }) },
        resources: { orders: { type: 'service' } },
      },
    }, 'shop', { annotations: { 'example.com/team': 'checkout' } }),
  ]), 'shop/shop-api');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const cm = objectOf(r, 'ConfigMap', 'shop-api-main-env');
  assert.deepEqual(cm.data, { NAME: 'shop-api', NS: 'shop', TEAM: 'checkout', ORDERS: 'http://orders.shop.svc.cluster.local:8080', LITERAL: 'cost ${HOME}' });
  assert.deepEqual(pod(r).containers[0]!.envFrom, [{ configMapRef: { name: 'shop-api-main-env' } }]);
  assertValid(cm);
});

test('plain files go to a ConfigMap mounted with subPath; command and args resolve non-secret placeholders', () => {
  const r = derive({ workload: { containers: { main: container({ files: { '/etc/app/app.yaml': { content: 'name: ${metadata.name}\n' }, '/etc/other/app.yaml': { content: 'raw ${x}', noExpand: true } }, args: ['--name=${metadata.name}'] }) } } });
  assert.deepEqual(objectOf(r, 'ConfigMap', 'shop-api-main-files').data, { 'app.yaml': 'name: shop-api\n', 'app.yaml-2': 'raw ${x}' });
  const c = pod(r).containers[0]!;
  assert.deepEqual(c.args, ['--name=shop-api']);
  assert.deepEqual(c.volumeMounts, [
    { name: 'main-files', mountPath: '/etc/app/app.yaml', subPath: 'app.yaml', readOnly: true },
    { name: 'main-files', mountPath: '/etc/other/app.yaml', subPath: 'app.yaml-2', readOnly: true },
  ]);
});

test('any change of the rendered configuration changes the config hash', () => {
  const hash = (vars: Record<string, string>, files: Record<string, unknown> = {}): string => {
    const r = derive({ workload: { containers: { main: container({ variables: vars, files }) }, resources: { db: { type: 'secret', params: { keys: ['a', 'b'] } } } } });
    return ((objectOf(r, 'Deployment').spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations)['lattice.dev/config-hash']!;
  };
  const base = hash({ A: '1' });
  assert.equal(hash({ A: '1' }), base, 'same input, same hash');
  assert.notEqual(hash({ A: '2' }), base, 'plain variable');
  assert.notEqual(hash({ A: '1', S: '${resources.db.a}' }), base, 'secret reference added');
  assert.notEqual(hash({ A: '1', S: '${resources.db.b}' }), hash({ A: '1', S: '${resources.db.a}' }), 'secret key changed');
  assert.notEqual(hash({ A: '1' }, { '/etc/x': { content: 'x' } }), base, 'file added');
});

test('error: a secret resource with no provider and no default provider', () => {
  const r = derive({ workload: { resources: { db: { type: 'secret' } } } }, []);
  assert.equal(r.status.phase, 'Failed');
  assert.deepEqual(r.objects, []);
  const c = conditionOf(r, 'SecretsResolved');
  assert.equal(c.reason, 'NoSecretProvider');
  assert.match(c.message, /spec\.workload\.resources\.db\.params\.provider: secret resource "db" names no provider and the platform has no default SecretProvider/);
});

test('error: two default providers make the default ambiguous', () => {
  const result = deriveObjects([provider('a'), provider('b'), service('x', { workload: { resources: { db: { type: 'secret' } } } })]);
  assert.match(result.problems.map((p) => p.diagnostics[0]!.message).join('\n'), /SecretProviders a and b are all marked default: true/);
  assert.equal(conditionOf(resultOf(result, 'shop/x'), 'SecretsResolved').reason, 'NoSecretProvider');
});

test('error: a key used but not declared in keys names the key and the fix', () => {
  const r = derive({ workload: { containers: { main: container({ variables: { P: '${resources.db.pasword}' } }) }, resources: { db: { type: 'secret', params: { keys: ['password'] } } } } });
  const c = conditionOf(r, 'SecretsResolved');
  assert.equal(c.reason, 'SecretKeyNotDeclared');
  assert.equal(c.message, 'spec.workload.containers.main.variables.P: placeholder ${resources.db.pasword} uses key "pasword" of secret "db", which is not in its params.keys (password). Add "pasword" to spec.workload.resources.db.params.keys or use one of the declared keys.');
});

test('error: a placeholder for an undeclared resource lists the declared ones', () => {
  const r = derive({ workload: { containers: { main: container({ variables: { P: '${resources.dbb.password}' } }) }, resources: { db: { type: 'secret' } } } });
  const c = conditionOf(r, 'Validated');
  assert.equal(c.reason, 'UnknownResource');
  assert.match(c.message, /placeholder \$\{resources\.dbb\.password\} names resource "dbb", which is not declared in spec\.workload\.resources \(declared: db\)/);
});

test('error: a secret placeholder in a field that cannot carry secrets says which fields can', () => {
  const r = derive({ workload: { containers: { main: container({ args: ['--token=${resources.db.token}'] }) }, resources: { db: { type: 'secret', params: { keys: ['token'] } } } } });
  const c = conditionOf(r, 'SecretsResolved');
  assert.equal(c.reason, 'SecretInUnsupportedField');
  assert.match(c.message, /spec\.workload\.containers\.main\.args\[0\]: placeholder \$\{resources\.db\.token\} reads a secret, but this field cannot carry secrets/);
  assert.match(c.message, /Secret placeholders are allowed in variables and file content\. Put the secret in a variable and refer to it here as \$\(VARIABLE_NAME\)/);
});

test('error: unknown keys and unclosed placeholders are reported with valid keys and position', () => {
  const r = resultOf(deriveObjects([
    service('orders', { workload: { service: { ports: { http: { port: 8080 } } } } }),
    service('shop-api', { workload: { containers: { main: container({ variables: { A: '${resources.orders.hostname}', B: 'x ${metadata.name' } }) }, resources: { orders: { type: 'service' } } } }),
  ]), 'shop/shop-api');
  const c = conditionOf(r, 'Validated');
  assert.match(c.message, /^2 problems: /);
  assert.match(c.message, /names key "hostname", which resource "orders" \(type service\) does not have\. Valid keys: host, port, url\./);
  assert.match(c.message, /variables\.B: placeholder at column 3 is not closed/);
});

test('guarantee: a canary secret value in the backend appears in no derived object, status or summary', () => {
  const CANARY = 'CANARY-7f3e9a-do-not-leak';
  // The fake backend: ESO's `fake` provider holds the values, as a test platform would. Its
  // ClusterSecretStore is the backend itself, so it is the one object allowed to hold them.
  const backend = {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'SecretProvider',
    metadata: { name: 'fake', namespace: 'lattice-system' },
    spec: { default: true, provider: { fake: { data: [{ key: 'shop/db', value: `{"password":"${CANARY}","user":"${CANARY}-user"}` }] } } },
  };
  const result = deriveObjects([backend, service('shop-api', {
    workload: {
      containers: { main: container({ envFrom: ['db'], variables: { A: '${resources.db.password}', B: 'x${resources.db.user}y' }, files: { '/etc/app/f': { content: '${resources.db.password}' } } }) },
      resources: { db: { type: 'secret', params: { keys: ['password', 'user'] } } },
    },
  }), service('broken', { workload: { containers: { main: container({ args: ['${resources.db.password}'] }) }, resources: { db: { type: 'secret', params: { keys: ['password'] } } } } })]);
  const r = resultOf(result, 'shop/shop-api');
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  assert.equal(resultOf(result, 'shop/broken').status.phase, 'Failed');
  const everythingButTheBackend = JSON.stringify([
    result.services.map((s) => [s.objects, s.status, s.diagnostics]),
    result.platformObjects.filter((o) => !(o.kind === 'ClusterSecretStore' && o.metadata.name === 'fake')),
    summary(result),
  ]);
  assert.ok(everythingButTheBackend.length > 1000, 'the check covers real output');
  assert.ok(!everythingButTheBackend.includes(CANARY), 'the canary leaked into derived output');
  const store = result.platformObjects.find((o) => o.kind === 'ClusterSecretStore');
  assert.ok(JSON.stringify(store).includes(CANARY), 'sanity: the canary is in the backend fixture');
});

test('a SecretProvider whose provider block ESO would refuse is reported with the field and not used', () => {
  const bad = provider('vault');
  ((bad.spec as { provider: { vault: Record<string, unknown> } }).provider.vault).version = 'v3';
  const result = deriveObjects([bad, service('web', { workload: { resources: { db: { type: 'secret' } } } })]);
  const p = result.problems.find((x) => x.kind === 'SecretProvider' && x.name === 'vault');
  assert.ok(p, JSON.stringify(result.problems));
  assert.equal(p.diagnostics[0]!.reason, 'InvalidProvider');
  assert.match(p.diagnostics[0]!.message, /^spec\.provider\.vault\.version: must be equal to one of the allowed values \("v1", "v2"\)\. spec\.provider is handed to ESO's ClusterSecretStore as is/);
  assert.ok(!result.platformObjects.some((o) => o.kind === 'ClusterSecretStore'), 'an invalid provider derives no store');
  assert.equal(conditionOf(resultOf(result, 'shop/web'), 'SecretsResolved').reason, 'NoSecretProvider');
});

test('rotation: files sharing a secret file\'s directory (and below it) go into one projected volume; other files keep subPath', () => {
  const r = derive({
    workload: {
      containers: {
        main: container({
          files: {
            '/etc/app/creds.ini': { mode: '0400', content: 'password=${resources.db.password}' },
            '/etc/app/app.yaml': { content: 'name: ${metadata.name}' },
            '/etc/app/conf.d/extra.conf': { content: 'x' },
            '/etc/app/tls/key.pem': { mode: '0600', content: '${resources.db.key}' },
            '/srv/www/index.html': { content: 'hi' },
          },
        }),
      },
      resources: { db: { type: 'secret', params: { keys: ['password', 'key'] } } },
    },
  });
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const p = pod(r);
  assert.deepEqual(p.volumes, [
    {
      name: 'main-secret-dir-0',
      projected: {
        sources: [
          { secret: { name: 'shop-api-main-secret-files', items: [{ key: 'creds.ini', path: 'creds.ini', mode: 0o400 }, { key: 'key.pem', path: 'tls/key.pem', mode: 0o600 }] } },
          { configMap: { name: 'shop-api-main-files', items: [{ key: 'app.yaml', path: 'app.yaml' }, { key: 'extra.conf', path: 'conf.d/extra.conf' }] } },
        ],
      },
    },
    { name: 'main-files', configMap: { name: 'shop-api-main-files', items: [{ key: 'index.html', path: 'index.html' }] } },
  ]);
  assert.deepEqual(p.containers[0]!.volumeMounts, [
    { name: 'main-secret-dir-0', mountPath: '/etc/app', readOnly: true },
    { name: 'main-files', mountPath: '/srv/www/index.html', subPath: 'index.html', readOnly: true },
  ]);
  assertValid(objectOf(r, 'Deployment'));
});

test('rotation: no Secret-backed volume is ever mounted with subPath (a subPath mount never receives a rotated value)', () => {
  const r = derive({
    workload: {
      containers: {
        main: container({ files: { '/etc/a/one': { content: '${resources.db.password}' }, '/etc/b/two': { content: 'plain' }, '/etc/b/c/three': { content: '${resources.db.password}' } } }),
        side: container({ files: { '/opt/side/cfg/x': { content: 'u=${resources.db.password}' } } }),
      },
      resources: { db: { type: 'secret', params: { keys: ['password'] } } },
    },
  });
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const p = pod(r);
  const volumes = p.volumes as { name: string; secret?: unknown; projected?: { sources: { secret?: unknown }[] } }[];
  const secretVolumes = new Set(volumes.filter((v) => v.secret !== undefined || v.projected?.sources.some((s) => s.secret !== undefined)).map((v) => v.name));
  assert.equal(secretVolumes.size, 3);
  for (const c of p.containers) {
    for (const m of c.volumeMounts as { name: string; subPath?: string; mountPath: string }[]) {
      if (secretVolumes.has(m.name)) assert.equal(m.subPath, undefined, `${c.name} mounts ${m.name} at ${m.mountPath} with subPath`);
    }
  }
});

test('rotation: a secret file directly in a system directory is refused, since its directory mount would hide the image\'s files', () => {
  for (const path of ['/etc/token', '/usr/lib/key', '/tmp/pw']) {
    const r = derive({ workload: { containers: { main: container({ files: { [path]: { content: '${resources.db.password}' } } }) }, resources: { db: { type: 'secret', params: { keys: ['password'] } } } } });
    assert.equal(r.objects.length, 0, path);
    const c = conditionOf(r, 'Validated');
    assert.equal(c.reason, 'SecretFileShadowsImage');
    assert.match(c.message, new RegExp(`file ${path}.*would hide the image's own files.*Move the file to a directory of its own`));
  }
  // A plain file there is fine: it is mounted with subPath and hides nothing.
  const ok = derive({ workload: { containers: { main: container({ files: { '/etc/motd': { content: 'hello' } } }) } } });
  assert.equal(ok.status.phase, 'Ready', JSON.stringify(ok.status.conditions));
});

test('rotation: the Deployment lists every Secret read as environment variables for Stakater Reloader, and nothing else', () => {
  const r = derive({
    imagePullSecrets: ['regcred'],
    workload: {
      containers: {
        main: container({ envFrom: ['flags'], variables: { PW: '${resources.db.password}', URL: 'postgres://u:${resources.db.password}@db' }, files: { '/etc/app/f': { content: '${resources.tls.key}' } } }),
      },
      resources: {
        db: { type: 'secret', params: { keys: ['password'] } },
        flags: { type: 'secret' },
        tls: { type: 'secret', params: { keys: ['key'] } },
        regcred: { type: 'secret' },
      },
    },
  });
  assert.equal(r.status.phase, 'Ready', JSON.stringify(r.status.conditions));
  const d = objectOf(r, 'Deployment');
  assert.deepEqual(d.metadata.annotations, { 'secret.reloader.stakater.com/reload': 'shop-api-db,shop-api-flags,shop-api-main-secret-env' });
  assertValid(d);
  const none = derive({ workload: { containers: { main: container({ variables: { A: 'b' } }) } } });
  assert.equal(objectOf(none, 'Deployment').metadata.annotations, undefined, 'no env secrets: no annotation');
});
