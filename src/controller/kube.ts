/**
 * The controller's Kubernetes client, on `@kubernetes/client-node` 1.4: connection config, and a
 * dynamic object API for any kind (server-side apply, status patches, label-selected lists, deletes
 * with preconditions).
 *
 * `LatticeObjectApi` extends the client's `KubernetesObjectApi` to keep its discovery (the
 * `/api/v1` and `/apis/<group>/<version>` resource lists that turn apiVersion + kind into a REST
 * path), authentication and transport, but sends and returns plain JSON: the client's typed
 * serializer maps known kinds onto its generated models, which silently drops fields the models do
 * not know and turns timestamps into `Date`s. Derived objects must reach the server exactly as the
 * compiler produced them.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ApiException, HttpMethod, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject, type ResponseContext } from '@kubernetes/client-node';
import { FIELD_MANAGER, groupOf, type ResourceType } from './resources.ts';

/** Where the connection settings came from, for the startup log line. */
export type KubeConfigSource = 'flag' | 'KUBECONFIG' | 'home' | 'in-cluster';

/** Paths the in-cluster config reads (kubernetes.io/docs/tasks/run-application/access-api-from-pod/). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads the connection settings: `--kubeconfig` when given, else `$KUBECONFIG` (a `:`-separated list,
 * as kubectl reads it), else `~/.kube/config`, else the in-cluster service account of the pod
 * (`KUBERNETES_SERVICE_HOST` and the mounted token). Throws an Error saying what to do when none is usable.
 */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string }, env: NodeJS.ProcessEnv = process.env): { kc: KubeConfig; source: KubeConfigSource } {
  const kc = new KubeConfig();
  let source: KubeConfigSource;
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig)) throw new Error(`--kubeconfig ${opts.kubeconfig}: no such file. Pass the path of a kubeconfig file.`);
    kc.loadFromFile(opts.kubeconfig);
    source = 'flag';
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(':').filter((f) => f !== '');
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length === files.length) throw new Error(`KUBECONFIG names ${missing.join(', ')}, which do not exist. Fix KUBECONFIG or pass --kubeconfig.`);
    kc.loadFromDefault();
    source = 'KUBECONFIG';
  } else if (existsSync(join(homedir(), '.kube', 'config'))) {
    kc.loadFromFile(join(homedir(), '.kube', 'config'));
    source = 'home';
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
    source = 'in-cluster';
  } else {
    throw new Error('no cluster to connect to: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a pod with a service account.');
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new Error(`--context ${opts.context}: the kubeconfig has no such context (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}).`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('the kubeconfig has no current cluster: set current-context or pass --context.');
  return { kc, source };
}

/** A Kubernetes object as JSON. */
export type Unstructured = KubernetesObject & { metadata?: KubernetesObject['metadata'] & Record<string, unknown>; [key: string]: unknown };

/** The useful parts of a failed API call: HTTP code, Status reason, message, and Retry-After. */
export interface ApiFailure {
  /** HTTP status code; undefined for transport errors (connection refused, reset). */
  code?: number;
  /** `Status.reason` (NotFound, Conflict, AlreadyExists, TooManyRequests, ...). */
  reason?: string;
  message: string;
  /** From the Retry-After header (seconds in the header), in milliseconds. */
  retryAfterMs?: number;
}

/** Extracts {@link ApiFailure} from anything the client throws. Never includes request bodies. */
export function apiFailure(err: unknown): ApiFailure {
  if (err instanceof ApiException) {
    const e = err as ApiException<unknown>;
    let body: unknown = e.body;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      try {
        body = JSON.parse(body.toString());
      } catch {
        // not JSON: keep the text
      }
    }
    const status = (body && typeof body === 'object' ? body : {}) as { reason?: unknown; message?: unknown };
    const out: ApiFailure = {
      code: e.code,
      message: typeof status.message === 'string' ? status.message : typeof body === 'string' && body !== '' ? body.slice(0, 300) : `HTTP ${e.code}`,
    };
    if (typeof status.reason === 'string') out.reason = status.reason;
    const retryAfter = Number(e.headers?.['retry-after']);
    if (Number.isFinite(retryAfter) && retryAfter >= 0) out.retryAfterMs = retryAfter * 1000;
    return out;
  }
  const code = (err as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  const out: ApiFailure = { message: err instanceof Error ? err.message : String(err) };
  if (typeof code === 'number') out.code = code;
  return out;
}

/** True when the error is an HTTP 404. */
export function isNotFound(err: unknown): boolean {
  return apiFailure(err).code === 404;
}

/** True when the error is an HTTP 409 (a Conflict or AlreadyExists). */
export function isConflict(err: unknown): boolean {
  return apiFailure(err).code === 409;
}

/** The REST path of a resource type's collection: `/api/v1/...` or `/apis/<group>/<version>/...`, all namespaces or one. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const root = groupOf(type.apiVersion) === '' ? `/api/${type.apiVersion}` : `/apis/${type.apiVersion}`;
  return namespace && type.namespaced ? `${root}/namespaces/${encodeURIComponent(namespace)}/${type.plural}` : `${root}/${type.plural}`;
}

/** A list as the API server returns it. */
export interface ObjectList {
  metadata?: { resourceVersion?: string; continue?: string };
  items: Unstructured[];
}

/**
 * The dynamic object API: any kind, plain JSON in and out. Built with `LatticeObjectApi.make(kc)`.
 * Every write carries the field manager {@link FIELD_MANAGER}.
 */
export class LatticeObjectApi extends KubernetesObjectApi {
  /** Creates the API for a kubeconfig (default namespace from its current context). */
  static make(kc: KubeConfig): LatticeObjectApi {
    const api = kc.makeApiClient(LatticeObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  /** Returns the response body as parsed JSON, without the typed serializer (see the module comment). */
  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext): Promise<T> {
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      return (text === '' ? {} : JSON.parse(text)) as T;
    }
    throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', text, response.headers);
  }

  private async send<T>(method: HttpMethod, path: string, query: Record<string, string>, body?: unknown, contentType?: string): Promise<T> {
    const ctx = this.configuration.baseServer.makeRequestContext(path, method);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [k, v] of Object.entries(query)) ctx.setQueryParam(k, v);
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(body));
    }
    return (await this.requestPromise(ctx)) as T;
  }

  /** The REST path of one object (discovery resolves apiVersion + kind; throws when the cluster does not serve the kind). */
  async objectPath(object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<string> {
    const spec = { apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, namespace: object.metadata.namespace } };
    return this.specUriPath(spec, 'patch');
  }

  /**
   * Server-side apply (`PATCH`, `application/apply-patch+yaml`, `fieldManager=lattice-controller`,
   * `force=true`): creates the object or makes the fields Lattice manages equal to `object`, taking
   * them over from any other manager; fields Lattice set before and no longer sets are removed.
   * JSON is valid YAML, so the body is the object as JSON.
   */
  async apply(object: Unstructured & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<Unstructured> {
    const path = await this.objectPath(object);
    return this.send(HttpMethod.PATCH, path, { fieldManager: FIELD_MANAGER, force: 'true' }, object, PatchStrategy.ServerSideApply);
  }

  /**
   * What {@link apply} would make of `object`, without changing anything: the same server-side apply
   * with `dryRun=All` (kubernetes.io/docs/reference/using-api/api-concepts/#dry-run). The answer has
   * the API server's defaults filled in, as the stored object would; used by `lattice diff --cluster`.
   */
  async applyDryRun(object: Unstructured & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<Unstructured> {
    const path = await this.objectPath(object);
    return this.send(HttpMethod.PATCH, path, { fieldManager: FIELD_MANAGER, force: 'true', dryRun: 'All' }, object, PatchStrategy.ServerSideApply);
  }

  /**
   * Writes `.status` through the status subresource with a JSON merge patch (RFC 7386). `resourceVersion`
   * is sent as a precondition: the API server answers 409 Conflict when the object changed since it
   * was read, so a status is never written over a newer spec. Keys of the old status missing from the
   * new one are removed (sent as null).
   */
  async patchStatus(
    target: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; resourceVersion?: string } },
    status: Record<string, unknown>,
    previous: Record<string, unknown> | undefined,
  ): Promise<Unstructured> {
    const path = `${await this.objectPath(target)}/status`;
    const body: Record<string, unknown> = { ...status };
    for (const key of Object.keys(previous ?? {})) if (!(key in body)) body[key] = null;
    const patch: Record<string, unknown> = { status: body };
    if (target.metadata.resourceVersion) patch.metadata = { resourceVersion: target.metadata.resourceVersion };
    return this.send(HttpMethod.PATCH, path, { fieldManager: FIELD_MANAGER }, patch, PatchStrategy.MergePatch);
  }

  /**
   * Reads one object (`GET`), or undefined when it does not exist (404). Used to check, before
   * applying, that an existing object of a derived name is Lattice's (src/controller/reconcile.ts),
   * and by `lattice diff --cluster` for the live side.
   */
  async getObject(object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<Unstructured | undefined> {
    const path = await this.objectPath(object);
    try {
      const got = await this.send<Unstructured>(HttpMethod.GET, path, {});
      return { ...got, apiVersion: object.apiVersion, kind: object.kind };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Lists objects of a type (one namespace, or all for cluster-scoped types and `namespace`
   * undefined), following `continue` tokens. Items get their apiVersion and kind back: the API server
   * leaves them out of the items of built-in lists.
   */
  async listObjects(type: ResourceType, opts: { namespace?: string; labelSelector?: string; limit?: number } = {}): Promise<ObjectList> {
    const items: Unstructured[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const query: Record<string, string> = { limit: String(opts.limit ?? 500) };
      if (opts.labelSelector) query.labelSelector = opts.labelSelector;
      if (cont) query.continue = cont;
      const page = await this.send<ObjectList>(HttpMethod.GET, collectionPath(type, opts.namespace), query);
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: type.apiVersion, kind: type.kind });
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { metadata: resourceVersion === undefined ? {} : { resourceVersion }, items };
  }

  /**
   * Deletes an object in the background (its dependents are garbage collected), only if it is still
   * the object with `uid` (a precondition: 409 otherwise). A 404 counts as done.
   */
  async deleteObject(object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; uid?: string } }): Promise<void> {
    const path = await this.objectPath(object);
    const options: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' };
    if (object.metadata.uid) options.preconditions = { uid: object.metadata.uid };
    try {
      await this.send(HttpMethod.DELETE, path, {}, options);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * True when the cluster serves `apiVersion`/`kind` (from discovery, cached per apiVersion by the
   * client). False when the group/version or the kind is unknown, e.g. a CRD that is not installed.
   */
  async serves(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return (await this.resource(apiVersion, kind)) !== undefined;
    } catch (err) {
      if (isNotFound(err) || apiFailure(err).code === 503) return false;
      throw err;
    }
  }
}
