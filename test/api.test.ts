import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isQuantity, parseQuantity, formatCpu, formatBytes } from '../src/api/quantity.ts';
import { parseImageReference, isDigestPinned } from '../src/supplychain/reference.ts';
import { dns1035LabelProblem, portNameProblem } from '../src/api/names.ts';
import { latticeServiceSchema } from '../src/api/latticeservice/v1alpha1.ts';
import { service, IMAGE } from './support/fixtures.ts';
import { issuesToDiagnostics } from '../src/compiler/service/validate.ts';

test('quantities follow the Kubernetes grammar and parse to base units', () => {
  for (const ok of ['500m', '2', '0.5', '512Mi', '1Gi', '1e3', '1.5G', '100k']) assert.ok(isQuantity(ok), ok);
  for (const bad of ['', 'Mi', '1 Gi', '1GB', '1.2.3', '-', 'five']) assert.ok(!isQuantity(bad), bad);
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('2'), 2);
  assert.equal(parseQuantity('512Mi'), 512 * 1024 * 1024);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.throws(() => parseQuantity('lots'), /not a Kubernetes quantity/);
  assert.equal(formatCpu(0.25), '250m');
  assert.equal(formatCpu(3), '3');
  assert.equal(formatBytes(3 * 2 ** 30), '3Gi');
  assert.equal(formatBytes(384 * 2 ** 20), '384Mi');
});

test('image references are parsed with the OCI distribution grammar', () => {
  const digest = 'sha256:' + 'b'.repeat(64);
  const cases: [string, { registry: string; repository: string; tag?: string; digest?: string }][] = [
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['team/app', { registry: 'docker.io', repository: 'team/app' }],
    [`registry.example.com/payments@${digest}`, { registry: 'registry.example.com', repository: 'payments', digest }],
    [`localhost:5000/a/b:v1@${digest}`, { registry: 'localhost:5000', repository: 'a/b', tag: 'v1', digest }],
    ['127.0.0.1:5000/x', { registry: '127.0.0.1:5000', repository: 'x' }],
  ];
  for (const [text, want] of cases) {
    const r = parseImageReference(text);
    assert.ok(r.ok, `${text}: ${!r.ok ? r.error : ''}`);
    assert.equal(r.ref.registry, want.registry, text);
    assert.equal(r.ref.repository, want.repository, text);
    assert.equal(r.ref.tag, want.tag, text);
    assert.equal(r.ref.digest, want.digest, text);
  }
  assert.ok(isDigestPinned((parseImageReference(`a.io/b@${digest}`) as { ok: true; ref: never }).ref));
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['Registry.Example.com', /repository component/],
    ['a.io/b@sha256:1234', /sha256/],
    ['a.io/b:-bad', /tag/],
    ['a.io/UPPER/x', /repository component "UPPER"/],
    ['a.io//x', /repository component ""/],
  ];
  for (const [text, re] of bad) {
    const r = parseImageReference(text);
    assert.ok(!r.ok, `${text} should be rejected`);
    assert.match(r.error, re, text);
  }
});

test('names follow the Kubernetes label rules', () => {
  assert.equal(dns1035LabelProblem('payments'), undefined);
  assert.match(dns1035LabelProblem('1payments') ?? '', /starting with a letter/);
  assert.match(dns1035LabelProblem('a'.repeat(64)) ?? '', /at most 63/);
  assert.equal(portNameProblem('http'), undefined);
  assert.match(portNameProblem('a-very-long-port-name') ?? '', /at most 15/);
  assert.match(portNameProblem('12') ?? '', /at least one letter/);
});

test('defaults are applied: replicas 1, direction outbound, protocol TCP', () => {
  const parsed = latticeServiceSchema.parse(service('web', {
    workload: { service: { ports: { http: { port: 80 } } }, resources: { db: { type: 'service' } } },
  }));
  assert.equal(parsed.spec.replicas, 1);
  assert.equal(parsed.spec.workload.service?.ports.http?.protocol, 'TCP');
  assert.equal(parsed.spec.workload.resources?.db?.direction, undefined, 'direction stays unset; the graph reads it as outbound');
});

test('every problem of a spec is reported at once, each with its field path', () => {
  const bad = {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeService',
    metadata: { name: 'Bad_Name', namespace: 'shop' },
    spec: {
      replicas: -1,
      workload: {
        containers: {
          main: { image: 'registry.example.com/Payments', resources: { limits: { cpu: 'lots' } } },
        },
        service: { ports: { 'this-name-is-far-too-long': { port: 80 }, http: { port: 70000 } } },
        resources: { s: { type: 'secret', direction: 'inbound' } },
      },
      unknownField: true,
    },
  };
  const r = latticeServiceSchema.safeParse(bad);
  assert.ok(!r.success);
  const paths = r.error.issues.map((i) => i.path.join('.'));
  for (const want of [
    'metadata.name',
    'spec.replicas',
    'spec.workload.containers.main.image',
    'spec.workload.containers.main.resources.limits.cpu',
    'spec.workload.containers.main.resources.limits.memory',
    'spec.workload.service.ports.this-name-is-far-too-long',
    'spec.workload.service.ports.http.port',
    'spec.workload.resources.s.direction',
    'spec',
  ]) {
    assert.ok(paths.includes(want), `expected an issue at ${want}; got ${paths.join(', ')}`);
  }
});

test('field rules: requests above limits, probes, files', () => {
  const r = latticeServiceSchema.safeParse(service('web', {
    workload: {
      containers: {
        main: {
          image: IMAGE,
          resources: { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '1', memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/r', port: 80 }, exec: { command: ['true'] } },
          files: { 'relative/path': { content: 'x' }, '/etc/a': { content: 'x', source: 'a.txt' } },
        },
      },
    },
  }));
  assert.ok(!r.success);
  const messages = issuesToDiagnostics(r.error.issues, {}).map((d) => `${d.path}: ${d.message}`);
  const expect = (re: RegExp): void => assert.ok(messages.some((m) => re.test(m)), `no issue matching ${re}:\n${messages.join('\n')}`);
  expect(/requests\.cpu: cpu request 2 is larger than the limit 1/);
  expect(/requests\.memory: memory request 1Gi is larger than the limit 512Mi/);
  expect(/readinessProbe: a probe takes exactly one of httpGet, tcpSocket or exec; it has httpGet and exec/);
  expect(/files\["relative\/path"\]: invalid key: must be an absolute path/);
  expect(/files\["\/etc\/a"\]: a file needs exactly one of content or source/);
});

test('reference rules (checked once every field is valid): imagePullSecrets, envFrom, volume sources, metrics port, autoscaling', () => {
  const r = latticeServiceSchema.safeParse(service('web', {
    replicas: 5,
    imagePullSecrets: ['db'],
    autoscaling: { max: 3, metrics: [{ metric: 'cpu', target: 150 }] },
    observability: { metrics: { port: 'prom' } },
    workload: {
      containers: {
        main: {
          image: IMAGE,
          envFrom: ['db'],
          resources: { limits: { cpu: '1', memory: '512Mi' } },
          volumes: { '/data': { source: 'db' }, '/cache': { source: '${resources.nowhere}' } },
        },
      },
      service: { ports: { http: { port: 80 }, alt: { port: 8080, targetPort: 80 } } },
      resources: { db: { type: 'service' } },
    },
  }));
  assert.ok(!r.success);
  const messages = issuesToDiagnostics(r.error.issues, {}).map((d) => `${d.path}: ${d.message}`);
  const expect = (re: RegExp): void => assert.ok(messages.some((m) => re.test(m)), `no issue matching ${re}:\n${messages.join('\n')}`);
  // An undeclared name may be an ImageProvider (checked when deriving); a declared one must be a secret.
  expect(/^spec\.imagePullSecrets\[0\]: imagePullSecrets names "db", a resource of type service; only resources of type secret/);
  expect(/envFrom\[0\]: envFrom names "db", a resource of type service; only resources of type secret/);
  expect(/volumes\["\/data"\]\.source: volume source "db" is a resource of type service/);
  expect(/volumes\["\/cache"\]\.source: volume source "\$\{resources\.nowhere\}" is not a declared resource: add `nowhere: \{type: volume\}`/);
  expect(/observability\.metrics\.port: port "prom" is not declared in workload\.service\.ports \(declared: http, alt\)/);
  expect(/^spec\.replicas: replicas \(5, the minimum\) is above autoscaling\.max \(3\)/);
  expect(/autoscaling\.metrics\[0\]\.target: cpu target 150 is a percentage of the request and must be at most 100/);
  expect(/ports\.alt: ports "http" and "alt" both target 80\/TCP/);
  assert.equal(messages.length, 8, messages.join('\n'));
});

test('resource params are validated per type', () => {
  const r = latticeServiceSchema.safeParse(service('web', {
    workload: {
      resources: {
        s: { type: 'secret', params: { keys: [], provider: 'Bad Name', extra: 1 } },
        e: { type: 'external-service' },
        e2: { type: 'external-service', params: { endpoints: ['ftp://x', 'tcp://db.example.com'] } },
        g: { type: 'gpu' },
        any: { type: 'service', id: '*' },
        custom: { type: 'postgres', params: { anything: true } },
      },
    },
  }));
  assert.ok(!r.success);
  const messages = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const expect = (re: RegExp): void => assert.ok(messages.some((m) => re.test(m)), `no issue matching ${re}:\n${messages.join('\n')}`);
  expect(/resources\.s\.params\.keys: /);
  expect(/resources\.s\.params\.provider: /);
  expect(/resources\.s\.params: .*extra/);
  expect(/resources\.e\.params\.endpoints: an external-service needs params\.endpoints/);
  expect(/resources\.e2\.params\.endpoints\.0: endpoint "ftp:\/\/x" has scheme "ftp"/);
  expect(/resources\.e2\.params\.endpoints\.1: endpoint "tcp:\/\/db\.example\.com" needs a port/);
  expect(/resources\.g\.params\.count: a gpu resource needs params\.count/);
  expect(/resources\.any\.id: id "\*" \(any caller\) is only allowed with direction: inbound/);
  assert.ok(!messages.some((m) => m.includes('resources.custom')), 'custom resource types keep their params as is');
});

test('field positions are exact in any document of a multi-document file (re-parsed lazily)', async () => {
  const { parseYamlDocuments } = await import('../src/api/source.ts');
  const text = [
    '# header comment',
    'apiVersion: v1',
    'kind: Namespace',
    'metadata: {name: a}',
    '---',
    '# second document',
    'apiVersion: v1',
    'kind: Namespace',
    'metadata:',
    '  name: b',
    '---',
    'apiVersion: lattice.dev/v1alpha1',
    'kind: LatticeService',
    'metadata: {name: web}',
    'spec:',
    '  workload:',
    '    containers:',
    '      main:',
    '        args: ["x", "y"]',
    '        resources:',
    '          limits: {cpu: lots}',
  ].join('\n');
  const { documents } = parseYamlDocuments(text, 'multi.yaml');
  assert.equal(documents.length, 3);
  assert.deepEqual(documents[1]!.locate(['metadata', 'name']), { file: 'multi.yaml', line: 10, column: 3 });
  assert.deepEqual(documents[2]!.locate(['spec', 'workload', 'containers', 'main', 'resources', 'limits', 'cpu']), { file: 'multi.yaml', line: 21, column: 20 });
  assert.deepEqual(documents[2]!.locate(['spec', 'workload', 'containers', 'main', 'args', 1]), { file: 'multi.yaml', line: 19, column: 21 });
  assert.deepEqual(documents[2]!.locate(['spec', 'nope', 'deeper']), { file: 'multi.yaml', line: 15, column: 1 }, 'a missing field points at the nearest existing one');
  assert.deepEqual(documents[0]!.locate([]), { file: 'multi.yaml', line: 2, column: 1 });
});
