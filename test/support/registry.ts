/**
 * A real OCI registry for tests: Debian's `docker-registry` package (CNCF Distribution 2.8) started on
 * a free loopback port with a temporary storage folder and a generated configuration (no auth), and a
 * small push client over the distribution HTTP API (blob upload POST + PUT, manifest PUT).
 *
 * Tests that need it call {@link registryMissing} first and skip with its message when the binary is
 * not installed (`apt-get install -y docker-registry`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's package installs the registry. */
export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** Why registry tests cannot run here, or undefined when they can. */
export function registryMissing(): string | undefined {
  return existsSync(REGISTRY_BINARY)
    ? undefined
    : `docker-registry is not installed: ${REGISTRY_BINARY} is missing (install it with \`apt-get install -y docker-registry\`)`;
}

/** A running test registry. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`, the registry part of image references. */
  host: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The storage root (blobs are under `docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data`). */
  dataDir: string;
  /** Kills the registry and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** A loopback port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a registry and waits (at most ~10 s) until `GET /v2/` answers 200. */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'lattice-registry-'));
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${dataDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    '',
  ].join('\n');
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, config);
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://${host}`;
  for (let i = 0; i < 200; i++) {
    if (exited) break;
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 200) return { host, url, dataDir, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`docker-registry did not start on ${host}: ${stderr.trim() || 'no output'}`);
}

/** `sha256:<hex>` of `bytes`. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Uploads a blob (monolithic upload: POST then PUT with the digest); returns its digest. */
export async function pushBlob(url: string, repository: string, bytes: Uint8Array): Promise<string> {
  const digest = digestOf(bytes);
  const start = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await start.body?.cancel();
  if (start.status !== 202) throw new Error(`blob upload start in ${repository}: HTTP ${start.status}`);
  const location = new URL(start.headers.get('location') ?? '', url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: bytes });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`blob upload of ${digest} in ${repository}: HTTP ${put.status} ${text}`);
  return digest;
}

/** Uploads a manifest under `reference` (tag or digest); returns the digest of the bytes sent. */
export async function pushManifest(url: string, repository: string, reference: string, manifest: object, mediaType?: string): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const type = mediaType ?? (manifest as { mediaType?: string }).mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
  const res = await fetch(`${url}/v2/${repository}/manifests/${reference}`, { method: 'PUT', headers: { 'Content-Type': type }, body: bytes });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest PUT ${repository}:${reference}: HTTP ${res.status} ${text}`);
  return digestOf(bytes);
}

/** A descriptor (OCI image spec `descriptor.md`). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** Uploads `bytes` as a blob and returns its descriptor. */
export async function pushDescriptor(url: string, repository: string, mediaType: string, bytes: Uint8Array, annotations?: Record<string, string>): Promise<Descriptor> {
  const digest = await pushBlob(url, repository, bytes);
  return { mediaType, digest, size: bytes.length, ...(annotations ? { annotations } : {}) };
}

/**
 * Pushes a small, unique OCI image (a config blob and one layer of random bytes) tagged `tag`;
 * returns its manifest digest.
 */
export async function pushImage(url: string, repository: string, tag = 'v1'): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: { nonce: randomBytes(8).toString('hex') } } }));
  const layer = randomBytes(64);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: await pushDescriptor(url, repository, 'application/vnd.oci.image.config.v1+json', config),
    layers: [await pushDescriptor(url, repository, 'application/vnd.oci.image.layer.v1.tar+gzip', layer)],
  };
  return pushManifest(url, repository, tag, manifest);
}
