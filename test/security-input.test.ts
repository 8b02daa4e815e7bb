/**
 * Fail closed on every input a hostile or careless tenant can write (issue 13, input items):
 * `files.*.source` symlinks, FIFOs and devices, folder-walk loops, alias bombs, prototype keys,
 * inherited template lookups, oversized ConfigMaps, unknown lattice.dev kinds and versions.
 * Each test reproduces an attack; docs/security.md ("Input handling") lists them.
 */
import { RESERVED_KINDS } from '../src/api/kinds.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { MAX_FILE_SOURCE_BYTES, MAX_INPUT_FILE_BYTES, findYamlFiles, readRegularFile } from '../src/cli/load.ts';
import { prototypeKeyPaths } from '../src/api/common.ts';
import { lattice, PERMIT_ALL_YAML as PERMIT_ALL } from './support/cli.ts';

/** A limit for tests that used to hang: they must finish, not wait forever. */
const NO_HANG = { timeout: 60_000 };



/** A LatticeService named `name`; `container` is extra YAML for its one container, indented 8 spaces. */
function service(name: string, container = '', extra = ''): string {
  return `apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: ${name}, namespace: shop${extra}}
spec:
  workload:
    containers:
      main:
        image: registry.example.com/${name}@sha256:${'c'.repeat(64)}
        resources: {limits: {cpu: 250m, memory: 128Mi}}
${container}    service:
      ports: {http: {port: 8080}}
`;
}

function tmp(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-sec-'));
  for (const [name, text] of Object.entries({ 'policies.yaml': PERMIT_ALL, ...files })) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

interface Doc { kind: string; metadata: { name: string }; data?: Record<string, string>; status?: { phase: string; conditions?: { reason: string; message: string }[] } }

function docs(stdout: string): Doc[] {
  return parseAllDocuments(stdout).map((d) => d.toJS() as Doc);
}

function serviceStatus(stdout: string, name: string): NonNullable<Doc['status']> {
  const s = docs(stdout).find((d) => d.kind === 'LatticeService' && d.metadata.name === name);
  assert.ok(s?.status, `service ${name} is in the output`);
  return s.status;
}

const SECRET_MARKER = 'TOP-SECRET-HOST-FILE-CONTENT';

/** A folder outside the spec's folder holding a file the tenant must not be able to read. */
function outsideSecret(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-outside-'));
  const file = join(dir, 'secret.txt');
  writeFileSync(file, `${SECRET_MARKER}\n`);
  return { dir, file };
}

// Item 1: symbolic links out of the spec's folder.

test('a files.*.source that is a symlink to a file outside the spec folder is refused, and its content is never output', async () => {
  const outside = outsideSecret();
  const dir = tmp({ 'web.yaml': service('web', '        files:\n          /etc/app/leak.txt: {source: leak.txt}\n') });
  symlinkSync(outside.file, join(dir, 'leak.txt'));
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(!r.stdout.includes(SECRET_MARKER), 'the outside file is not copied into any object');
  const status = serviceStatus(r.stdout, 'web');
  assert.equal(status.phase, 'Failed');
  const problem = status.conditions?.find((c) => c.reason === 'FileSourceUnreadable');
  assert.ok(problem, JSON.stringify(status.conditions));
  assert.match(problem.message, /web\.yaml:\d+:\d+ spec\.workload\.containers\.main\.files\["\/etc\/app\/leak\.txt"\]\.source: file source "leak\.txt" could not be read: it is, through a symbolic link, .*secret\.txt: outside /);
});

test('a files.*.source under a symlinked folder pointing outside the spec folder is refused', async () => {
  const outside = outsideSecret();
  const dir = tmp({ 'web.yaml': service('web', '        files:\n          /etc/app/conf.txt: {source: conf/secret.txt}\n') });
  symlinkSync(outside.dir, join(dir, 'conf'));
  const r = await lattice('render', dir);
  // Exit 2: the walk also refuses the folder link (it could hold YAML); the service fails on its own.
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error: .*conf: symbolic link to .*, outside the folders given to lattice: refused/);
  assert.equal(serviceStatus(r.stdout, 'web').phase, 'Failed');
  assert.ok(!r.stdout.includes(SECRET_MARKER));
  assert.match(r.stderr, /file source "conf\/secret\.txt" could not be read: it is, through a symbolic link, .*outside/);
});

test('a files.*.source symlink that stays inside the spec folder is still read', async () => {
  const dir = tmp({ 'web.yaml': service('web', '        files:\n          /etc/app/app.conf: {source: link.conf}\n'), 'conf/real.conf': 'port = 8080\n' });
  symlinkSync('conf/real.conf', join(dir, 'link.conf'));
  const r = await lattice('render', dir);
  assert.equal(r.code, 0, r.stderr);
  const cm = docs(r.stdout).find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'web-main-files');
  assert.deepEqual(cm?.data, { 'app.conf': 'port = 8080\n' });
});

// Item 2: FIFOs, devices, unbounded reads, walk loops.

test('a files.*.source that is a FIFO is refused without hanging', NO_HANG, async () => {
  const dir = tmp({ 'web.yaml': service('web', '        files:\n          /etc/app/pipe: {source: pipe}\n') });
  execFileSync('mkfifo', [join(dir, 'pipe')]);
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /file source "pipe" could not be read: it is a named pipe \(FIFO\), and only regular files are read/);
});

test('readRegularFile refuses /dev/zero and a FIFO, and bounds what it reads', NO_HANG, () => {
  const zero = readRegularFile('/dev/zero', MAX_FILE_SOURCE_BYTES);
  assert.deepEqual(zero, { ok: false, reason: 'it is a character device, and only regular files are read' });
  const dir = tmp();
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const fifo = readRegularFile(join(dir, 'fifo'), MAX_FILE_SOURCE_BYTES);
  assert.deepEqual(fifo, { ok: false, reason: 'it is a named pipe (FIFO), and only regular files are read' });
  writeFileSync(join(dir, 'exact'), 'x'.repeat(MAX_FILE_SOURCE_BYTES));
  const exact = readRegularFile(join(dir, 'exact'), MAX_FILE_SOURCE_BYTES);
  assert.equal(exact.ok && exact.text.length, MAX_FILE_SOURCE_BYTES, 'exactly the limit is read');
  writeFileSync(join(dir, 'big'), 'x'.repeat(MAX_FILE_SOURCE_BYTES + 1));
  assert.deepEqual(readRegularFile(join(dir, 'big'), MAX_FILE_SOURCE_BYTES), { ok: false, reason: `it holds ${MAX_FILE_SOURCE_BYTES + 1} bytes, more than the limit of ${MAX_FILE_SOURCE_BYTES}` });
});

test('a files.*.source over 1 MiB is refused with the ConfigMap limit as the reason', async () => {
  const dir = tmp({ 'web.yaml': service('web', '        files:\n          /srv/big.bin: {source: big.bin}\n'), 'big.bin': 'x'.repeat(MAX_FILE_SOURCE_BYTES + 10) });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /file source "big\.bin" could not be read: it holds 1048586 bytes, more than the limit of 1048576 \(1 MiB\): Kubernetes refuses a ConfigMap or Secret holding more than 1 MiB of data/);
});

test('a YAML file that is a FIFO in the walked folder is an error (exit 2), not a hang, and the rest is rendered', NO_HANG, async () => {
  const dir = tmp({ 'web.yaml': service('web') });
  execFileSync('mkfifo', [join(dir, 'trap.yaml')]);
  const r = await lattice('render', dir);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error: .*trap\.yaml: this is a named pipe \(FIFO\), not a regular file: only regular files are read/);
  assert.equal(serviceStatus(r.stdout, 'web').phase, 'Ready');
});

test('a device given on the command line is refused (exit 2), not read without end', NO_HANG, async () => {
  const r = await lattice('render', '/dev/zero');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: \/dev\/zero: this is a character device, not a regular file or folder/);
});

test('a YAML file over 16 MiB is refused unread (exit 2); the rest renders', async () => {
  const dir = tmp({ 'web.yaml': service('web'), 'huge.yaml': `# ${'x'.repeat(MAX_INPUT_FILE_BYTES)}\n` });
  const r = await lattice('render', dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`error: .*huge\\.yaml: cannot read the file: it holds ${MAX_INPUT_FILE_BYTES + 3} bytes, more than the limit of ${16 * 1024 * 1024} \\(16 MiB\\): split it into several files`));
  assert.equal(serviceStatus(r.stdout, 'web').phase, 'Ready');
});

test('folder symlinks a -> . and b -> . do not make the walk explode: every file is read once', NO_HANG, () => {
  const dir = tmp({ 'web.yaml': service('web'), 'sub/api.yaml': service('api') });
  symlinkSync('.', join(dir, 'a'));
  symlinkSync('.', join(dir, 'b'));
  symlinkSync('..', join(dir, 'sub', 'up'));
  const { files, errors } = findYamlFiles([dir]);
  assert.deepEqual(errors, []);
  assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ['policies.yaml', 'sub/api.yaml', 'web.yaml']);
});

test('a symlink met in the walk that points outside the given folders is refused (exit 2); the rest renders', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'lattice-outside-'));
  writeFileSync(join(outside, 'other.yaml'), service('other'));
  const dir = tmp({ 'web.yaml': service('web') });
  symlinkSync(outside, join(dir, 'elsewhere'));
  symlinkSync(join(outside, 'other.yaml'), join(dir, 'other.yaml'));
  const r = await lattice('render', dir);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error: .*elsewhere: symbolic link to .*, outside the folders given to lattice: refused/);
  assert.match(r.stderr, /error: .*other\.yaml: symbolic link to .*other\.yaml, outside the folders given to lattice: refused/);
  assert.equal(serviceStatus(r.stdout, 'web').phase, 'Ready');
  assert.ok(!docs(r.stdout).some((d) => d.metadata.name === 'other'));
  // Passing the outside folder explicitly reads it: the user named it.
  const both = await lattice('render', dir, outside);
  assert.equal(serviceStatus(both.stdout, 'other').phase, 'Ready');
});

// Item 10: alias bombs.

/** A "billion laughs" document: nine levels of nine aliases each, 9^9 strings once expanded. */
function billionLaughs(): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: lol}', 'data:', '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) lines.push(`  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`);
  return `${lines.join('\n')}\n`;
}

test('a billion-laughs YAML file is refused (exit 2, naming the file and the fix) and the other files are rendered', NO_HANG, async () => {
  const dir = tmp({ 'bomb.yaml': billionLaughs(), 'web.yaml': service('web') });
  const r = await lattice('render', dir);
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.match(r.stderr, /error: .*bomb\.yaml:1:1: this document's aliases \(\*name\) expand beyond the limit \(maxAliasCount 100\), as in a "billion laughs" attack: the document is refused, the other documents are read\. Write the repeated values out, or use fewer aliases/);
  assert.equal(serviceStatus(r.stdout, 'web').phase, 'Ready');
});

// Item 11: prototype keys, inherited template lookups, oversized ConfigMaps.

test('a __proto__ variable is an error naming the field, not silently dropped', async () => {
  const dir = tmp({ 'web.yaml': service('web', '        variables:\n          SAFE: "1"\n          __proto__: evil\n') });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr);
  const status = serviceStatus(r.stdout, 'web');
  assert.equal(status.phase, 'Failed');
  assert.match(r.stderr, /web\.yaml:12:11 spec\.workload\.containers\.main\.variables\.__proto__: the key "__proto__" is not allowed: JavaScript treats it as an object's prototype, so Lattice could not keep its value \(it would be dropped silently\)\. Rename the key/);
  assert.ok(!docs(r.stdout).some((d) => d.kind === 'ConfigMap' && d.metadata.name === 'web-main-env'), 'nothing is derived for the service');
});

test('__proto__ keys are refused at any depth and in platform kinds too', async () => {
  const dir = tmp({
    'web.yaml': service('web', '', ', annotations: {__proto__: {x: "1"}}'),
    'platform.yaml': 'apiVersion: lattice.dev/v1alpha1\nkind: LatticePlatform\nmetadata: {name: default}\nspec:\n  __proto__: {platformContact: evil}\n',
  });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /web\.yaml:3:\d+ metadata\.annotations\.__proto__: the key "__proto__" is not allowed/);
  assert.match(r.stderr, /error: LatticePlatform default: .*platform\.yaml:5:3 spec\.__proto__: the key "__proto__" is not allowed/);
});

test('prototypeKeyPaths finds __proto__ keys at any depth, through arrays, with their full paths', () => {
  const doc = JSON.parse('{"a": [{"b": 1}, {"c": {"__proto__": {"x": 1}}}], "__proto__": 2, "d": {"e": [[{"__proto__": null}]]}}') as unknown;
  assert.deepEqual(prototypeKeyPaths(doc), [['__proto__'], ['a', 1, 'c', '__proto__'], ['d', 'e', 0, 0, '__proto__']]);
  assert.deepEqual(prototypeKeyPaths({ constructor: 'x', toString: 'y' }), [], 'other names are ordinary keys');
  let deep: unknown = { leaf: 1 };
  for (let i = 0; i < 100_000; i++) deep = { n: deep };
  assert.deepEqual(prototypeKeyPaths(deep), [], 'any depth: no recursion');
});

test('placeholders look up own properties only: ${resources.constructor.name} says the resource is not declared', async () => {
  const dir = tmp({
    'web.yaml': service('web', '        variables:\n          A: "${resources.constructor.name}"\n          B: "${metadata.annotations.constructor}"\n          C: "${resources.db.constructor}"\n', ', annotations: {team: shop}').replace(
      '    service:\n', '    resources:\n      db: {type: external-service, params: {endpoints: ["https://db.example.com:5432"]}}\n    service:\n'),
  });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr);
  const messages = (serviceStatus(r.stdout, 'web').conditions ?? []).map((c) => c.message).join('\n');
  assert.match(r.stderr + messages, /placeholder \$\{resources\.constructor\.name\} names resource "constructor", which is not declared in spec\.workload\.resources \(declared: db\)/);
  assert.match(r.stderr + messages + r.stdout, /placeholder \$\{metadata\.annotations\.constructor\} names annotation "constructor", which metadata\.annotations does not have \(it has: team\)/);
  const everything = r.stderr + docs(r.stdout).map((d) => JSON.stringify(d)).join('\n').replaceAll('\\"', '"');
  assert.match(everything, /placeholder \$\{resources\.db\.constructor\} names key "constructor", which resource "db" \(type external-service\) does not have\. Valid keys: host, port, url\./);
  assert.doesNotMatch(r.stdout, /native code|function Object/);
});

test('envFrom naming "constructor" is reported as not declared, not as a resource of type undefined', async () => {
  const dir = tmp({ 'web.yaml': service('web', '        envFrom: [constructor]\n') });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /envFrom\[0\]: envFrom names "constructor", which is not declared in workload\.resources: add `constructor: \{type: secret\}` there/);
});

test('a 2 MiB variable is refused: its ConfigMap would exceed the 1 MiB limit; the message names the field and the fix', async () => {
  const big = 'x'.repeat(2 * 1024 * 1024);
  const dir = tmp({ 'web.yaml': service('web', `        variables:\n          SMALL: "1"\n          BIG: "${big}"\n`) });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1);
  assert.ok(!docs(r.stdout).some((d) => d.kind === 'ConfigMap'), 'no oversized ConfigMap is emitted');
  assert.ok(r.stdout.length < 3 * 1024 * 1024 + 100_000, 'the service comes back once, with its spec; nothing derived repeats the value');
  const problem = serviceStatus(r.stdout, 'web').conditions?.find((c) => c.reason === 'ConfigMapTooLarge');
  assert.ok(problem);
  assert.match(problem.message, /spec\.workload\.containers\.main\.variables\.BIG: ConfigMap web-main-env would hold 2097153 bytes of data, over Kubernetes' limit of 1048576 bytes \(1 MiB\) for a ConfigMap's or Secret's data, so the API server would refuse it\. The largest entry is spec\.workload\.containers\.main\.variables\.BIG \(2097152 bytes\)\. Keep large content out of the spec: build it into the image, or mount it from a volume/);
});

test('files that together exceed 1 MiB are refused; exactly 1 MiB of data is accepted', async () => {
  const half = 'y'.repeat(512 * 1024);
  const over = tmp({ 'web.yaml': service('web', `        files:\n          /etc/a.txt: {content: "${half}"}\n          /etc/b.txt: {content: "${half}z"}\n`) });
  const r = await lattice('render', over);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /files\["\/etc\/b\.txt"\]\.content: ConfigMap web-main-files would hold 1048577 bytes of data/);
  const exact = tmp({ 'web.yaml': service('web', `        files:\n          /etc/a.txt: {content: "${half}"}\n          /etc/b.txt: {content: "${half}"}\n`) });
  const ok = await lattice('render', exact);
  assert.equal(ok.code, 0, ok.stderr.slice(0, 2000));
  const cm = docs(ok.stdout).find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'web-main-files');
  assert.equal(Object.values(cm?.data ?? {}).reduce((n, v) => n + Buffer.byteLength(v), 0), 1024 * 1024);
});

test('bytes, not characters, are counted: multi-byte text over 1 MiB is refused', async () => {
  const text = 'é'.repeat(600 * 1024); // 614400 characters, 1228800 bytes in UTF-8
  const dir = tmp({ 'web.yaml': service('web', `        files:\n          /etc/accents.txt: {content: "${text}"}\n`) });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ConfigMap web-main-files would hold 1228800 bytes of data/);
});

const VAULT = `apiVersion: lattice.dev/v1alpha1
kind: SecretProvider
metadata: {name: vault, namespace: lattice-system}
spec:
  default: true
  provider:
    vault:
      server: https://vault.example.com:8200
      path: secret
      version: v2
      auth: {kubernetes: {mountPath: kubernetes, role: external-secrets, serviceAccountRef: {name: external-secrets, namespace: external-secrets}}}
`;

test('a file with secret placeholders whose text alone exceeds 1 MiB is refused: the Secret ESO would render could not be stored', async () => {
  const text = `${'p'.repeat(1024 * 1024)}\npassword=\${resources.db.password}\n`;
  const dir = tmp({
    'vault.yaml': VAULT,
    'web.yaml': service('web', `        files:\n          /etc/app/app.conf: {content: ${JSON.stringify(text)}}\n`).replace(
      '    service:\n', '    resources:\n      db: {type: secret, params: {keys: [password]}}\n    service:\n'),
  });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr.slice(0, 2000));
  assert.ok(!docs(r.stdout).some((d) => d.kind === 'ExternalSecret' && d.metadata.name === 'web-main-secret-files'));
  assert.match(r.stderr, /files\["\/etc\/app\/app\.conf"\]\.content: Secret web-main-secret-files \(rendered by the External Secrets Operator\) would hold at least 1048587 bytes of data, over Kubernetes' limit of 1048576 bytes/);
});

// Item 13: unknown lattice.dev kinds and versions.

test('an unknown lattice.dev kind is an error with a did-you-mean (exit 1), and the rest is rendered', async () => {
  const typo = service('api').replace('kind: LatticeService', 'kind: LatticeServce');
  const dir = tmp({ 'web.yaml': service('web'), 'api.yaml': typo, 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error: LatticeServce api: .*api\.yaml:2:1 kind: kind "LatticeServce" is not a Lattice kind, so Lattice cannot read this document\. Did you mean LatticeService\? Lattice kinds: LatticeService, LatticeJob, LatticeModel, LatticePlatform, SecretProvider, ImageProvider, CedarPolicy, LatticeQuota, LatticeTeam, LatticeMeshMember, LatticePackage\./);
  assert.equal(serviceStatus(r.stdout, 'web').phase, 'Ready');
  assert.match(r.stderr, /Ignored \(kinds Lattice does not handle\): v1 ConfigMap ×1\./, 'other groups are still only listed');
  assert.doesNotMatch(r.stderr, /Ignored.*LatticeServce/);
});

test('a typo in a CedarPolicy kind fails the render instead of silently dropping the policy', async () => {
  const dir = tmp({ 'web.yaml': service('web'), 'forbid.yaml': 'apiVersion: lattice.dev/v1alpha1\nkind: CedarPolicies\nmetadata: {name: deny-all, namespace: lattice-system}\nspec: {policies: "forbid (principal, action, resource);"}\n' });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: CedarPolicies deny-all: .*forbid\.yaml:2:1 kind: kind "CedarPolicies" is not a Lattice kind, so Lattice cannot read this document\. Did you mean CedarPolicy\?/);
});

test('a Lattice kind under a version that is not served is an error naming the served version', async () => {
  const dir = tmp({ 'web.yaml': service('web').replace('lattice.dev/v1alpha1', 'lattice.dev/v1') });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: LatticeService web: .*web\.yaml:1:1 apiVersion: apiVersion lattice\.dev\/v1 is not served for LatticeService: Lattice serves lattice\.dev\/v1beta1 and lattice\.dev\/v1alpha1\. Did you mean apiVersion: lattice\.dev\/v1beta1\?/);
});

test('a Lattice kind under a mistyped or missing API group is an error, not ignored', async () => {
  const dir = tmp({ 'a.yaml': service('a').replace('lattice.dev/v1alpha1', 'lattice.io/v1alpha1'), 'b.yaml': service('b').replace('lattice.dev/v1alpha1', 'v1alpha1') });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: LatticeService a: .*a\.yaml:1:1 apiVersion: LatticeService is a Lattice kind, but apiVersion lattice\.io\/v1alpha1 is not Lattice's API group, so Lattice cannot read this document\. Did you mean apiVersion: lattice\.dev\/v1alpha1\?/);
  assert.match(r.stderr, /error: LatticeService b: .*apiVersion v1alpha1 is not Lattice's API group/);
});

test('every kind of the reference design is implemented: none is left reserved, each is a served kind and a workload', async () => {
  const { KINDS } = await import('../src/api/kinds.ts');
  const { WORKLOAD_KINDS } = await import('../src/compiler/kinds.ts');
  assert.deepEqual(RESERVED_KINDS, []);
  for (const kind of ['LatticeService', 'LatticeJob', 'LatticeModel', 'LatticeMeshMember', 'LatticePackage']) {
    assert.ok(KINDS.some((k) => k.kind === kind), `${kind} is served`);
    assert.ok(WORKLOAD_KINDS.has(kind), `${kind} is derived by the compiler`);
  }
});

test('a LatticeJob (implemented) is validated, not refused as unsupported: an empty spec names the missing tasks', async () => {
  const dir = tmp({ 'web.yaml': service('web'), 'job.yaml': 'apiVersion: lattice.dev/v1alpha1\nkind: LatticeJob\nmetadata: {name: nightly, namespace: shop}\nspec: {}\n' });
  const r = await lattice('render', dir);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, /does not support yet/);
  assert.match(r.stdout + r.stderr, /shop\/nightly +LatticeJob +Failed +0 +.*job\.yaml:4:1 spec\.tasks: is required/);
  assert.equal(serviceStatus(r.stdout, 'web').phase, 'Ready');
});
