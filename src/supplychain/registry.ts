/**
 * A small read-only client of the OCI distribution API (opencontainers/distribution-spec, `spec.md`):
 * manifests by tag or digest (`GET`/`HEAD /v2/<name>/manifests/<reference>`), blobs by digest
 * (`GET /v2/<name>/blobs/<digest>`) and the referrers API (`GET /v2/<name>/referrers/<digest>`), on
 * the platform's `fetch`.
 *
 * Authentication follows the registry token flow (distribution `docs/spec/auth/token.md`): a `401`
 * with `WWW-Authenticate: Bearer realm=...,service=...,scope=...` is answered by asking the realm for a
 * token (with the credentials as HTTP Basic, when there are any) and repeating the request with
 * `Authorization: Bearer <token>`; a `Basic` challenge is answered with the credentials directly.
 *
 * Network failures, `429` and `5xx` answers are retried with exponential backoff, a bounded number of
 * times within a total time budget; then the request fails with a {@link RegistryError}. Loopback
 * registries (`localhost`, `127.0.0.0/8`, `[::1]`) are spoken to over plain HTTP, every other over HTTPS.
 */
import { createHash } from 'node:crypto';
import { normaliseRegistryHost } from './scope.ts';

/** Username and password (or token as password) for a registry, as in a Docker config's `auths`. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** How failed requests are retried. All times in milliseconds. */
export interface RetryOptions {
  /** Tries per request, the first included (default 4). */
  attempts?: number;
  /** Delay before the second try; doubles for each further try (default 250). */
  baseDelayMs?: number;
  /** Largest delay between two tries (default 2000). */
  maxDelayMs?: number;
  /** No further try is started when it would begin later than this after the first (default 8000). */
  budgetMs?: number;
  /** Time allowed for one try before it counts as failed (default 5000). */
  timeoutMs?: number;
}

/** Options of a {@link RegistryClient}. `sleep` and `now` are injectable so tests need not wait. */
export interface RegistryClientOptions {
  fetch?: typeof fetch;
  credentials?: RegistryCredentials;
  retry?: RetryOptions;
  /** Waits `ms` milliseconds (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
  /** Current time in milliseconds (default: `Date.now`). */
  now?: () => number;
}

/** Why a registry request failed: no usable answer, or access refused. */
export type RegistryErrorKind = 'unavailable' | 'denied';

/** A registry request that failed after its retries. The message names the registry and the last problem. */
export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    readonly registry: string,
    message: string,
    /** Tries made, the first included. */
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** A manifest as fetched. `bytes` and `json` are absent for a HEAD request. */
export interface FetchedManifest {
  /** `sha256:<hex>`: computed from the bytes for GET, the `Docker-Content-Digest` header for HEAD. */
  digest: string;
  mediaType: string;
  bytes?: Buffer;
  json?: unknown;
}

/** Result of {@link RegistryClient.referrers}. `supported: false` means the registry has no referrers API. */
export type ReferrersResult = { supported: false } | { supported: true; index: unknown };

/** Manifest media types this client accepts (OCI and Docker v2 schema 2, single and multi-platform). */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

/** Largest manifest or blob read, in bytes: the 4 MiB manifest limit of common registries. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 4, baseDelayMs: 250, maxDelayMs: 2000, budgetMs: 8000, timeoutMs: 5000 };

/** True for hosts reached over plain HTTP: `localhost`, `127.0.0.0/8` and `[::1]`, with any port. */
export function isLoopbackRegistry(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** Base URL of a registry's API: Docker Hub's API host for `docker.io`, HTTP for loopback registries. */
export function registryBaseUrl(host: string): string {
  const h = normaliseRegistryHost(host);
  if (h === 'docker.io') return 'https://registry-1.docker.io';
  return `${isLoopbackRegistry(h) ? 'http' : 'https'}://${h}`;
}

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Reads the credentials for `registry` from a Docker config JSON (the `.dockerconfigjson` of a
 * `kubernetes.io/dockerconfigjson` Secret): `auths[<host>]` with `auth` (base64 `user:password`) or
 * `username` and `password`. Keys may be written as URLs (`https://index.docker.io/v1/`). Returns
 * undefined when the config has no usable entry; never throws.
 */
export function credentialsFromDockerConfig(configJson: string, registry: string): RegistryCredentials | undefined {
  let config: unknown;
  try {
    config = JSON.parse(configJson);
  } catch {
    return undefined;
  }
  const auths = (config as { auths?: unknown } | null)?.auths;
  if (typeof auths !== 'object' || auths === null) return undefined;
  const wanted = normaliseRegistryHost(registry);
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '';
    if (normaliseRegistryHost(host) !== wanted || typeof entry !== 'object' || entry === null) continue;
    const e = entry as { auth?: unknown; username?: unknown; password?: unknown };
    if (typeof e.username === 'string' && typeof e.password === 'string') return { username: e.username, password: e.password };
    if (typeof e.auth === 'string') {
      const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header (RFC 7235) into its first challenge. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const p of (m[2] ?? '').matchAll(re)) {
    params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
    }
    return err.message;
  }
  return String(err);
}

/**
 * Read-only client of one registry. One instance per registry host: it keeps the bearer tokens it
 * obtained, by scope, for its lifetime.
 */
export class RegistryClient {
  readonly host: string;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly retry: Required<RetryOptions>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly credentials: RegistryCredentials | undefined;
  private readonly authorizations = new Map<string, string>();

  constructor(host: string, opts: RegistryClientOptions = {}) {
    this.host = normaliseRegistryHost(host);
    this.base = registryBaseUrl(host);
    this.fetchFn = opts.fetch ?? globalThis.fetch;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = opts.now ?? Date.now;
    this.credentials = opts.credentials;
  }

  /**
   * Fetches the manifest `reference` (a tag or `sha256:` digest) of `repository`; `head` asks for the
   * digest and media type only. Returns undefined when the registry answers 404.
   * @throws RegistryError when the registry cannot be reached or refuses access.
   */
  async manifest(repository: string, reference: string, head = false): Promise<FetchedManifest | undefined> {
    const res = await this.request(head ? 'HEAD' : 'GET', repository, `manifests/${reference}`, MANIFEST_MEDIA_TYPES.join(', '));
    if (res === undefined) return undefined;
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (head) {
      await res.body?.cancel();
      const digest = res.headers.get('docker-content-digest') ?? (reference.startsWith('sha256:') ? reference : undefined);
      if (digest !== undefined) return { digest, mediaType };
      // No digest header: read the manifest to compute it.
      return this.manifest(repository, reference, false);
    }
    const bytes = await this.readBody(res);
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      json = undefined;
    }
    const declared = (json as { mediaType?: unknown } | undefined)?.mediaType;
    return { digest: sha256Digest(bytes), mediaType: mediaType || (typeof declared === 'string' ? declared : ''), bytes, json };
  }

  /**
   * Fetches the blob `digest` of `repository`. The bytes are returned as served: the caller checks
   * them against the digest. Returns undefined when the registry answers 404.
   * @throws RegistryError when the registry cannot be reached or refuses access.
   */
  async blob(repository: string, digest: string): Promise<Buffer | undefined> {
    const res = await this.request('GET', repository, `blobs/${digest}`, '*/*');
    return res === undefined ? undefined : this.readBody(res);
  }

  /**
   * Lists the referrers of `digest` with the given artifact type (OCI distribution spec 1.1, "Listing
   * referrers"). A 404 (or 400/405) answer means the registry has no referrers API: `supported: false`,
   * and the caller falls back to the referrers tag schema (tag `sha256-<hex>`).
   * @throws RegistryError when the registry cannot be reached or refuses access.
   */
  async referrers(repository: string, digest: string, artifactType: string): Promise<ReferrersResult> {
    const res = await this.request('GET', repository, `referrers/${digest}?artifactType=${encodeURIComponent(artifactType)}`, 'application/vnd.oci.image.index.v1+json', [400, 404, 405]);
    if (res === undefined) return { supported: false };
    const bytes = await this.readBody(res);
    try {
      return { supported: true, index: JSON.parse(bytes.toString('utf8')) };
    } catch {
      return { supported: false };
    }
  }

  private async readBody(res: Response): Promise<Buffer> {
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_DOCUMENT_BYTES) {
      await res.body?.cancel();
      throw new RegistryError('unavailable', this.host, `registry ${this.host} sent a document of ${declared} bytes, above the ${MAX_DOCUMENT_BYTES}-byte limit for manifests and signatures`, 1);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_DOCUMENT_BYTES) {
      throw new RegistryError('unavailable', this.host, `registry ${this.host} sent a document of ${bytes.length} bytes, above the ${MAX_DOCUMENT_BYTES}-byte limit for manifests and signatures`, 1);
    }
    return bytes;
  }

  /** Sends an API request with authentication; undefined for the statuses in `absent` (404 by default). */
  private async request(method: string, repository: string, path: string, accept: string, absent: number[] = [404]): Promise<Response | undefined> {
    const url = `${this.base}/v2/${repository}/${path}`;
    const scope = `repository:${repository}:pull`;
    const headers = (): Record<string, string> => {
      const h: Record<string, string> = { Accept: accept };
      const auth = this.authorizations.get(scope) ?? this.authorizations.get('*');
      if (auth !== undefined) h.Authorization = auth;
      return h;
    };
    let res = await this.send(url, method, headers());
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
      await res.body?.cancel();
      await this.authorize(challenge, scope);
      res = await this.send(url, method, headers());
    }
    if (absent.includes(res.status)) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new RegistryError(
        'denied',
        this.host,
        `registry ${this.host} refused access to ${repository} (HTTP ${res.status})${this.credentials === undefined ? ' and no credentials are configured for it' : ' with the configured credentials'}`,
        1,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel();
      throw new RegistryError('unavailable', this.host, `registry ${this.host} answered HTTP ${res.status} for ${method} ${path.split('?')[0]} in ${repository}`, 1);
    }
    return res;
  }

  /** Answers an authentication challenge by storing the Authorization header to use for `scope`. */
  private async authorize(challenge: Challenge | undefined, scope: string): Promise<void> {
    const basic = this.credentials === undefined ? undefined : `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    if (challenge?.scheme === 'basic') {
      if (basic !== undefined) this.authorizations.set('*', basic);
      return;
    }
    if (challenge?.scheme !== 'bearer' || challenge.params.realm === undefined) return;
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(challenge.params.realm);
    } catch {
      throw new RegistryError('unavailable', this.host, `registry ${this.host} named an invalid token service "${challenge.params.realm}"`, 1);
    }
    if (basic !== undefined && tokenUrl.protocol !== 'https:' && !isLoopbackRegistry(tokenUrl.host)) {
      throw new RegistryError('denied', this.host, `registry ${this.host} asks for credentials to be sent to ${tokenUrl.origin}, which is not HTTPS; Lattice does not send credentials in clear text`, 1);
    }
    if (challenge.params.service !== undefined) tokenUrl.searchParams.set('service', challenge.params.service);
    tokenUrl.searchParams.set('scope', challenge.params.scope ?? scope);
    const res = await this.send(tokenUrl.toString(), 'GET', basic === undefined ? {} : { Authorization: basic });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new RegistryError('denied', this.host, `the token service of registry ${this.host} refused ${this.credentials === undefined ? 'anonymous access' : 'the configured credentials'} (HTTP ${res.status})`, 1);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new RegistryError('unavailable', this.host, `the token service of registry ${this.host} answered HTTP ${res.status}`, 1);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (token === undefined) throw new RegistryError('unavailable', this.host, `the token service of registry ${this.host} sent no token`, 1);
    this.authorizations.set(scope, `Bearer ${token}`);
  }

  /** One HTTP exchange with retries on network errors, 429 and 5xx. */
  private async send(url: string, method: string, headers: Record<string, string>): Promise<Response> {
    const { attempts, baseDelayMs, maxDelayMs, budgetMs, timeoutMs } = this.retry;
    const start = this.now();
    let problem = '';
    let tries = 0;
    for (let attempt = 1; attempt <= Math.max(1, attempts); attempt++) {
      tries = attempt;
      try {
        const res = await this.fetchFn(url, { method, headers, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
        if (res.status !== 429 && res.status < 500) return res;
        problem = `HTTP ${res.status}`;
        await res.body?.cancel();
      } catch (err) {
        problem = describeFetchError(err, timeoutMs);
      }
      if (attempt >= attempts) break;
      const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      if (this.now() - start + delay > budgetMs) break;
      await this.sleep(delay);
    }
    const elapsed = this.now() - start;
    throw new RegistryError('unavailable', this.host, `registry ${this.host} did not answer usefully (${problem}) after ${tries} ${tries === 1 ? 'try' : 'tries'} over ${(elapsed / 1000).toFixed(1)} s`, tries);
  }
}
