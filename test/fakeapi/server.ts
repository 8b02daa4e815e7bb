/**
 * An in-process fake Kubernetes API server for the controller's integration tests: plain HTTP on
 * 127.0.0.1, the REST paths and JSON bodies of the real one, enough of its behaviour for
 * `@kubernetes/client-node` (discovery, KubernetesObjectApi, informers, typed APIs) and the
 * controller to run unchanged. Test support; never shipped. docs/controller.md lists what it models.
 *
 * Besides serving, it lets a test: read and write the store directly (as another user would),
 * inject faults (status codes with Retry-After, a watch stream cut in the middle of an event, a
 * response held back after the write was committed), expire watches (410 Gone), and inspect a log of
 * every request with the bearer token that made it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { apiVersionOf, defaultResources, type FakeResource } from './resources.ts';
import { Store, StatusError, type Obj, type WatchEvent } from './store.ts';

/** One request as logged. */
export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Bearer token of the caller (each test user / controller gets its own). */
  user: string;
  contentType?: string;
  /** Resolved resource: plural, namespace, name, subresource. */
  resource?: { group: string; plural: string; kind: string; namespace?: string; name?: string; subresource?: string };
  watch?: boolean;
  /** Response status (0 while held back). */
  status: number;
  /** True when the response came from an injected fault. */
  injected?: boolean;
  /** For a watch: true when it was answered 410 Expired (its resourceVersion was compacted away). */
  expired?: boolean;
  /** When the request arrived (ms since the epoch). */
  at: number;
}

/** A fault: requests matching `match` get `status` (and the Status body) instead of being served, `times` times. */
export interface Fault {
  match: (req: RecordedRequest) => boolean;
  status: number;
  reason?: string;
  message?: string;
  headers?: Record<string, string>;
  times: number;
}

/** Options of the fake. */
export interface FakeApiOptions {
  resources?: FakeResource[];
  /** Watch events kept for resumption (default 10000); older resourceVersions get 410. */
  historyLimit?: number;
  /** Namespaced objects need their Namespace to exist (default true, as NamespaceLifecycle admission does). */
  requireNamespaces?: boolean;
}

interface ActiveWatch {
  req: RecordedRequest;
  res: ServerResponse;
  socket: Socket;
  unsubscribe: () => void;
  /** When set, the next event is written half and the connection destroyed. */
  cut?: boolean;
}

/** Parsed resource path. */
interface Route {
  res: FakeResource;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** The fake server. */
export class FakeApiServer {
  readonly store: Store;
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly watches = new Set<ActiveWatch>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private seq = 0;
  private holdMatcher: ((req: RecordedRequest) => boolean) | undefined;
  private holdResolve: ((req: RecordedRequest) => void) | undefined;
  /** The URL, once started. */
  url = '';

  constructor(opts: FakeApiOptions = {}) {
    this.store = new Store(opts.resources ?? defaultResources(), {
      historyLimit: opts.historyLimit ?? 10_000,
      requireNamespaces: opts.requireNamespaces ?? true,
      now: () => new Date().toISOString().replace(/\.[0-9]{3}Z$/, 'Z'),
    });
  }

  /** Starts listening on a free port of 127.0.0.1. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Stops: closes every watch and connection. */
  async stop(): Promise<void> {
    for (const w of this.watches) w.unsubscribe();
    this.watches.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A KubeConfig for this server as `user` (sent as a bearer token; plain HTTP needs skipTLSVerify in client-node). */
  kubeConfig(user: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeConfigYaml(user));
    return kc;
  }

  /** The same, as a kubeconfig file's YAML. */
  kubeConfigYaml(user: string): string {
    return JSON.stringify(kubeConfigObject(this.url, user), null, 2);
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Injects a fault (see {@link Fault}). */
  inject(fault: Fault): Fault {
    this.faults.push(fault);
    return fault;
  }

  /** Cuts every open watch matching `kind` in the middle of its next event (half a JSON line, then a reset). */
  cutWatchesOnNextEvent(kind: string): number {
    let n = 0;
    for (const w of this.watches) {
      if (w.req.resource?.kind === kind) {
        w.cut = true;
        n++;
      }
    }
    return n;
  }

  /** Ends every open watch cleanly (as the API server's watch timeout does). */
  closeWatches(): void {
    for (const w of [...this.watches]) this.endWatch(w);
  }

  /** Drops the event history: resuming a watch from before now gets 410 Expired. */
  compact(): void {
    this.store.compact();
  }

  /**
   * Holds back the response of the next request matching `match` after it was served (the write is
   * committed, the client never hears back). Resolves with the request when it happens.
   */
  holdNextResponse(match: (req: RecordedRequest) => boolean): Promise<RecordedRequest> {
    this.holdMatcher = match;
    return new Promise((resolve) => (this.holdResolve = resolve));
  }

  /** Number of open watches. */
  get openWatches(): number {
    return this.watches.size;
  }

  // ---- direct access, as another API user would -----------------------------------------------

  /** The resource type of apiVersion + kind; throws when not served. */
  resource(apiVersion: string, kind: string): FakeResource {
    const r = this.store.resourceOf(apiVersion, kind);
    if (!r) throw new Error(`the fake API server does not serve ${apiVersion} ${kind}`);
    return r;
  }

  /** Creates an object as user `manager` (default "test"). */
  create(object: Record<string, unknown>, manager = 'test'): Obj {
    const meta = (object.metadata ?? {}) as { namespace?: string };
    return this.store.create(this.resource(String(object.apiVersion), String(object.kind)), meta.namespace, object, { manager });
  }

  /** Replaces an object's spec and metadata (status untouched for kinds with a status subresource); no resourceVersion precondition. */
  update(object: Record<string, unknown>, manager = 'test'): Obj {
    const meta = (object.metadata ?? {}) as { namespace?: string; name: string };
    const { metadata, ...rest } = object;
    const m = { ...(metadata as Record<string, unknown>) };
    delete m.resourceVersion;
    return this.store.update(this.resource(String(object.apiVersion), String(object.kind)), meta.namespace, meta.name, { ...rest, metadata: m }, { manager });
  }

  /** Deletes an object (background propagation). */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj {
    return this.store.delete(this.resource(apiVersion, kind), namespace, name, {});
  }

  /** One object, or undefined. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.store.get(this.resource(apiVersion, kind), namespace, name);
  }

  /** Objects of a type (one namespace or all, label selector optional). */
  list(apiVersion: string, kind: string, namespace?: string, selector?: string): Obj[] {
    return this.store.list(this.resource(apiVersion, kind), namespace, selector).items;
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const auth = req.headers.authorization ?? '';
    const rec: RecordedRequest = {
      seq: ++this.seq,
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      user: auth.startsWith('Bearer ') ? auth.slice(7) : '',
      status: 0,
      at: Date.now(),
    };
    if (req.headers['content-type']) rec.contentType = String(req.headers['content-type']);
    this.requests.push(rec);
    const body = await readBody(req);
    try {
      const discovery = this.discovery(url.pathname);
      if (discovery !== undefined) return this.reply(rec, res, 200, discovery);
      const route = this.route(url.pathname);
      if (!route) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      rec.resource = { group: route.res.group, plural: route.res.plural, kind: route.res.kind };
      if (route.namespace !== undefined) rec.resource.namespace = route.namespace;
      if (route.name !== undefined) rec.resource.name = route.name;
      if (route.subresource !== undefined) rec.resource.subresource = route.subresource;
      rec.watch = query.watch === 'true' || query.watch === '1';
      const fault = this.faults.find((f) => f.times > 0 && f.match(rec));
      if (fault) {
        fault.times -= 1;
        rec.injected = true;
        const err = new StatusError(fault.status, fault.reason ?? (fault.status === 429 ? 'TooManyRequests' : fault.status >= 500 ? 'InternalError' : 'Conflict'), fault.message ?? `injected fault: HTTP ${fault.status}`);
        return this.reply(rec, res, fault.status, err.toStatus(), fault.headers);
      }
      if (rec.watch) return this.serveWatch(rec, res, route, query);
      const { status, object } = this.serve(rec, route, query, body);
      if (this.holdMatcher?.(rec)) {
        const resolve = this.holdResolve!;
        this.holdMatcher = undefined;
        this.holdResolve = undefined;
        rec.status = 0;
        resolve(rec);
        return; // committed, never answered
      }
      return this.reply(rec, res, status, object);
    } catch (err) {
      if (err instanceof StatusError) return this.reply(rec, res, err.code, err.toStatus());
      return this.reply(rec, res, 500, new StatusError(500, 'InternalError', `fake API server bug: ${(err as Error).message}`).toStatus());
    }
  }

  private reply(rec: RecordedRequest, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    rec.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  /** Discovery documents: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>. */
  private discovery(path: string): unknown {
    const resources = this.store.resources;
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.url.replace(/^http:\/\//, '') }] };
    if (path === '/apis') {
      const groups = new Map<string, Set<string>>();
      for (const r of resources) if (r.group !== '') (groups.get(r.group) ?? groups.set(r.group, new Set()).get(r.group)!).add(r.version);
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, versions]) => {
          const list = [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
          return { name, versions: list, preferredVersion: list[0] };
        }),
      };
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (m) {
      const group = m[1] ? '' : m[2]!;
      const version = m[1] ?? m[3]!;
      const served = resources.filter((r) => r.group === group && r.version === version);
      if (served.length === 0) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      const list: Record<string, unknown>[] = [];
      for (const r of served) {
        list.push({ name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs });
        if (r.status) list.push({ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
      }
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: list };
    }
    const g = /^\/apis\/([^/]+)$/.exec(path);
    if (g) {
      const versions = [...new Set(resources.filter((r) => r.group === g[1]).map((r) => r.version))];
      if (versions.length === 0) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      const list = versions.map((v) => ({ groupVersion: `${g[1]}/${v}`, version: v }));
      return { kind: 'APIGroup', apiVersion: 'v1', name: g[1], versions: list, preferredVersion: list[0] };
    }
    return undefined;
  }

  private route(path: string): Route | undefined {
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.*)$/.exec(path);
    if (!m) return undefined;
    const group = m[1] ? '' : m[2]!;
    const version = m[1] ?? m[3]!;
    const segs = m[4]!.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const find = (plural: string): FakeResource | undefined => this.store.resources.find((r) => r.group === group && r.version === version && r.plural === plural);
    let namespace: string | undefined;
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      namespace = segs[1];
      segs.splice(0, 2);
    }
    const res = find(segs[0] ?? '');
    if (!res) return undefined;
    if (namespace !== undefined && !res.namespaced) return undefined;
    const out: Route = { res };
    if (namespace !== undefined) out.namespace = namespace;
    if (segs[1] !== undefined) out.name = segs[1];
    if (segs[2] !== undefined) {
      if (segs[2] !== 'status' || !res.status || segs.length > 3) return undefined;
      out.subresource = 'status';
    }
    if (res.namespaced && namespace === undefined && out.name !== undefined) return undefined;
    return out;
  }

  private serve(rec: RecordedRequest, route: Route, query: Record<string, string>, body: string): { status: number; object: unknown } {
    const { res, namespace, name, subresource } = route;
    const manager = query.fieldManager ?? `user:${rec.user || 'anonymous'}`;
    const opts = subresource ? { manager, subresource: 'status' as const } : { manager };
    const ct = (rec.contentType ?? '').split(';')[0]!.trim();
    const parsed = (): unknown => {
      if (body === '') throw new StatusError(400, 'BadRequest', 'the request has no body');
      try {
        return ct === 'application/apply-patch+yaml' ? parseYaml(body) : JSON.parse(body);
      } catch (err) {
        throw new StatusError(400, 'BadRequest', `the body does not parse: ${(err as Error).message}`);
      }
    };
    switch (rec.method) {
      case 'GET': {
        if (name !== undefined) {
          const o = this.store.get(res, namespace, name);
          if (!o) throw new StatusError(404, 'NotFound', `${res.plural}${res.group ? `.${res.group}` : ''} "${name}" not found`, { name, group: res.group, kind: res.plural });
          return { status: 200, object: o };
        }
        const { items, resourceVersion } = this.store.list(res, namespace, query.labelSelector);
        const limit = Number(query.limit ?? 0);
        const start = Number(query.continue ?? 0);
        const page = limit > 0 ? items.slice(start, start + limit) : items;
        const metadata: Record<string, string> = { resourceVersion };
        if (limit > 0 && start + limit < items.length) metadata.continue = String(start + limit);
        return {
          status: 200,
          object: {
            kind: `${res.kind}List`,
            apiVersion: apiVersionOf(res),
            metadata,
            // Built-in list items carry no apiVersion/kind, as the real API server returns them.
            items: res.builtin ? page.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) : page,
          },
        };
      }
      case 'POST':
        if (name !== undefined) throw new StatusError(405, 'MethodNotAllowed', 'POST goes to the collection');
        return { status: 201, object: this.store.create(res, namespace, parsed(), opts) };
      case 'PUT':
        if (name === undefined) throw new StatusError(405, 'MethodNotAllowed', 'PUT needs an object name');
        return { status: 200, object: this.store.update(res, namespace, name, parsed(), opts) };
      case 'PATCH': {
        if (name === undefined) throw new StatusError(405, 'MethodNotAllowed', 'PATCH needs an object name');
        if (ct === 'application/apply-patch+yaml') {
          if (!query.fieldManager) throw new StatusError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
          const { object, created } = this.store.apply(res, namespace, name, parsed(), { ...opts, force: query.force === 'true', dryRun: query.dryRun === 'All' });
          return { status: created ? 201 : 200, object };
        }
        if (ct === 'application/merge-patch+json') return { status: 200, object: this.store.mergePatch(res, namespace, name, parsed(), opts) };
        throw new StatusError(415, 'UnsupportedMediaType', `the fake API server does not support the patch type ${ct || '(none)'}; it supports application/apply-patch+yaml and application/merge-patch+json`);
      }
      case 'DELETE': {
        if (name === undefined) throw new StatusError(405, 'MethodNotAllowed', 'deletecollection is not supported by the fake API server');
        const options = (body === '' ? {} : JSON.parse(body)) as { preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: string };
        if (query.propagationPolicy) options.propagationPolicy = query.propagationPolicy;
        return { status: 200, object: this.store.delete(res, namespace, name, options) };
      }
      default:
        throw new StatusError(405, 'MethodNotAllowed', `${rec.method} is not supported`);
    }
  }

  private serveWatch(rec: RecordedRequest, res: ServerResponse, route: Route, query: Record<string, string>): void {
    if (route.name !== undefined) throw new StatusError(400, 'BadRequest', 'watch a collection, not one object');
    rec.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // the real API server sends the headers at once; clients wait for them
    const w: ActiveWatch = { req: rec, res, socket: res.socket!, unsubscribe: noop };
    const send = (e: WatchEvent): void => {
      if (!this.watches.has(w) && w.unsubscribe !== noop) return;
      const line = JSON.stringify(e);
      if (w.cut) {
        res.write(line.slice(0, Math.floor(line.length / 2)));
        this.watches.delete(w);
        w.unsubscribe();
        w.socket.destroy();
        return;
      }
      res.write(`${line}\n`);
    };
    try {
      w.unsubscribe = this.store.watch(route.res, query.resourceVersion ?? '', route.namespace, query.labelSelector, send);
    } catch (err) {
      if (err instanceof StatusError) {
        // The real API server answers 200 and sends the error as an ERROR event, then ends the stream.
        if (err.code === 410) rec.expired = true;
        res.end(`${JSON.stringify({ type: 'ERROR', object: err.toStatus() })}\n`);
        return;
      }
      throw err;
    }
    this.watches.add(w);
    res.on('close', () => {
      w.unsubscribe();
      this.watches.delete(w);
    });
    const timeout = Number(query.timeoutSeconds ?? 0);
    if (timeout > 0) setTimeout(() => this.endWatch(w), timeout * 1000).unref();
  }

  private endWatch(w: ActiveWatch): void {
    w.unsubscribe();
    this.watches.delete(w);
    w.res.end();
  }
}

const noop = (): void => undefined;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A kubeconfig document for `url` as `user` (bearer token = user). */
export function kubeConfigObject(url: string, user: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: user, user: { token: user } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user, namespace: 'default' } }],
    'current-context': 'fake',
  };
}
