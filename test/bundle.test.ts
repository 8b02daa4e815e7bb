/**
 * The bundle `bin/lattice.js` runs (`npm run build`, scripts/build.mjs): built here into a temporary
 * copy of the installed layout (bin/, dist/, and in node_modules/ only the packages the bundle leaves
 * external; no src/, as in the operator image), run as a separate process, and held to the sources'
 * behaviour, stderr included (a deprecation warning Node prints only for code outside node_modules
 * shows up here first). So a dependency the bundle fails to include fails here. Every other test runs
 * the TypeScript sources.
 * Start-up speed is measured by hand (README), not here; this checks what keeps it fast: the modules
 * the bundle loads before any command runs.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, EXTERNAL } from '../scripts/build.mjs';
import { run } from '../src/cli/main.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');

/** A copy of the installed layout with a fresh bundle; resolves to its directory and the build's metafile. */
async function installedCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'lattice-bundle-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin/lattice.js'), join(dir, 'bin/lattice.js'));
  for (const name of new Set(EXTERNAL.map((e) => e.replace(/\/\*$/, '')))) {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  }
  const { metafile } = await build({ outdir: join(dir, 'dist') });
  return { dir, metafile };
}

const built = installedCopy();
after(async () => rmSync((await built).dir, { recursive: true, force: true }));

/** Runs the copy's bin/lattice.js with `args`; the environment never asks for the sources. */
async function bundled(args: string[]) {
  const { dir } = await built;
  const env: NodeJS.ProcessEnv = { ...process.env, SOURCE_DATE_EPOCH: '1767225600' };
  delete env.LATTICE_FROM_SOURCE;
  return spawnSync(process.execPath, [join(dir, 'bin/lattice.js'), ...args], { encoding: 'utf8', env, timeout: 240_000 });
}

/** Runs the sources in this process with `args`. */
async function fromSources(args: string[]) {
  let stdout = '';
  let stderr = '';
  const saved = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = '1767225600';
  try {
    const status = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
    return { status, stdout, stderr };
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
}

test('the bundled lattice --help lists every command, from the bundle (no note about running the sources)', async () => {
  const r = await bundled(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  for (const command of ['render', 'images', 'authz', 'graph', 'controller', 'install', 'crds', 'explain']) {
    assert.match(r.stdout, new RegExp(`^  ${command} `, 'm'), `${command} missing from:\n${r.stdout}`);
  }
  const version = await bundled(['--version']);
  assert.equal(version.stdout.trim(), '0.1.0');
});

test('the bundled lattice render examples/ prints exactly what the sources print', async () => {
  const [b, s] = [await bundled(['render', EXAMPLES]), await fromSources(['render', EXAMPLES])];
  assert.equal(b.status, 1, b.stderr); // two example services are refused on purpose
  assert.equal(b.status, s.status);
  assert.match(b.stderr, /commerce\/payments\s+LatticeService\s+Ready/);
  assert.equal(b.stderr, s.stderr);
  assert.match(b.stdout, /kind: CiliumNetworkPolicy/);
  assert.equal(b.stdout, s.stdout);
});

test('the bundled commands that load the Kubernetes client and the API schemas run: install, crds, explain, controller flags', async () => {
  for (const args of [['install', '--replicas', '1'], ['crds'], ['explain', 'latticeservice.spec.replicas']]) {
    const [b, s] = [await bundled(args), await fromSources(args)];
    assert.equal(b.status, 0, `${args.join(' ')}: ${b.stderr}`);
    assert.equal(b.stderr, '', args.join(' '));
    assert.equal(b.stdout, s.stdout, args.join(' '));
  }
  // Loads the controller chunk (with @kubernetes/client-node), then refuses the flags before connecting.
  const bad = await bundled(['controller', '--lease-duration', '1s', '--renew-deadline', '2s']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /the renew deadline must be shorter than the lease duration/);
});

test('the bundled controller runs (pino, the Kubernetes client), keeps retrying an unreachable API server, and exits 0 on SIGTERM', async () => {
  const { dir } = await built;
  const kubeconfig = join(dir, 'kubeconfig');
  // Port 1 on loopback: connections are refused at once, so the watches fail and are retried.
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\n' +
    'users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LATTICE_FROM_SOURCE;
  const child = spawn(process.execPath, [join(dir, 'bin/lattice.js'), 'controller', '--kubeconfig', kubeconfig, '--no-leader-elect', '--listen', 'off', '--watch-retry', '50ms'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 120_000;
  // Two rounds of failed watches: the process is still alive after its first retry.
  while ((stdout.match(/"msg":"watch failed; restarting it"/g) ?? []).length < 16 && child.exitCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(child.exitCode, null, `the controller exited on its own (${child.exitCode}):\n${stdout}${stderr}`);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, `${stdout}${stderr}`);
  assert.match(stdout, /"msg":"connecting"/);
  assert.match(stdout, /"reason":"stopped"/);
  assert.equal(stderr, '');
});

test('lattice --help loads none of the compiler, Cedar, the API schemas or the Kubernetes client', async () => {
  const { metafile } = await built;
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((f) => f.endsWith('/lattice.mjs'));
  assert.ok(entry, `no lattice.mjs among ${Object.keys(outputs).join(', ')}`);
  // The modules evaluated at start: the entry and everything it imports statically, transitively.
  const loaded = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (loaded.has(file)) continue;
    loaded.add(file);
    for (const i of outputs[file]!.imports) if (i.kind === 'import-statement' && !i.external) queue.push(i.path);
  }
  const inputs = [...loaded].flatMap((f) => Object.keys(outputs[f]!.inputs));
  assert.ok(inputs.some((i) => i.includes('node_modules/commander/')), 'commander is expected at start');
  assert.ok(inputs.some((i) => i.endsWith('src/cli/main.ts')));
  const heavy = inputs.filter((i) => /node_modules\/(zod|yaml|@kubernetes\/client-node|@sigstore|pino|prom-client)\/|src\/(compiler|policy|api\/(?!constants\.ts))|src\/controller\/(?!duration|http|queue|timings)/.test(i));
  assert.deepEqual(heavy, [], 'modules loaded before any command runs');
  // Each command still reaches its implementation through a dynamic import.
  const dynamic = [...loaded].flatMap((f) => outputs[f]!.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path));
  assert.ok(dynamic.length >= 8, `expected a dynamic import per command, got ${dynamic.length}`);
});
