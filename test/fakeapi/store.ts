/**
 * The fake API server's storage: objects by resource type, one global resourceVersion counter (as
 * etcd's revision), a bounded history of watch events, server-side apply with a simplified model of
 * field ownership, the status subresource, generation, and owner-reference garbage collection.
 * Test support; never shipped. docs/controller.md lists what it models and what it does not.
 *
 * Field ownership (simplified server-side apply): each manager owns a set of leaf paths (maps are
 * merged key by key, lists are atomic: a list is one leaf, as for `x-kubernetes-list-type: atomic`).
 * An apply by manager M with configuration C:
 * - conflicts when another manager owns a leaf that C sets to a different value (409 unless force;
 *   with force the leaf changes owner);
 * - removes the leaves M applied before and C no longer sets, unless another manager owns them;
 * - merges C into the object; M then owns exactly the leaves of C.
 * Updates (PUT, merge patch) give their manager the leaves they change.
 */
import { randomUUID } from 'node:crypto';
import { apiVersionOf, type FakeResource } from './resources.ts';
import { matches, parseSelector, type Requirement } from './selectors.ts';

/** A stored object. */
export type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Meta };
/** Object metadata as stored. */
export type Meta = Record<string, unknown> & {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  labels?: Record<string, string>;
  ownerReferences?: { uid: string; [k: string]: unknown }[];
  managedFields?: ManagedFieldsEntry[];
};

/** One `metadata.managedFields` entry. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

/** An API error, rendered as a `Status` body. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The `Status` object of the error. */
  toStatus(): Record<string, unknown> {
    const s: Record<string, unknown> = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** A watch event as sent on the wire. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR';
  object: Record<string, unknown>;
}

interface HistoryEntry {
  rv: number;
  resKey: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  previous?: Obj;
}

/** A subscriber to watch events of one type. */
interface Subscriber {
  resKey: string;
  namespace?: string;
  selector: Requirement[];
  send: (event: WatchEvent) => void;
}

const clone = <T>(v: T): T => structuredClone(v);

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isMap(v)) return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Metadata fields the server owns; never part of field sets, never taken from requests. */
const SERVER_META = new Set(['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp', 'selfLink']);
/** Fields that identify the object; not tracked as owned fields. */
const IDENTITY = new Set(['apiVersion', 'kind']);
const SEP = '\u0000';

/** Leaf paths of an object, skipping identity and server-owned metadata. */
function leafPaths(obj: Record<string, unknown>, prefix: string[] = [], out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (prefix.length === 0 && IDENTITY.has(k)) continue;
    if (prefix.length === 1 && prefix[0] === 'metadata' && (SERVER_META.has(k) || k === 'name' || k === 'namespace')) continue;
    const path = [...prefix, k];
    if (isMap(v) && Object.keys(v).length > 0) leafPaths(v, path, out);
    else out.add(path.join(SEP));
  }
  return out;
}

/** fieldsV1 tree of a set of leaf paths (`f:<key>` nesting, leaves `{}`). */
function fieldsTree(paths: Set<string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of paths) {
    let node = root;
    for (const seg of p.split(SEP)) {
      const key = `f:${seg}`;
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
  }
  return root;
}

function treePaths(tree: Record<string, unknown>, prefix: string[] = [], out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(tree)) {
    const path = [...prefix, k.replace(/^f:/, '')];
    if (isMap(v) && Object.keys(v).length > 0) treePaths(v, path, out);
    else out.add(path.join(SEP));
  }
  return out;
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let node: unknown = obj;
  for (const seg of path.split(SEP)) {
    if (!isMap(node)) return undefined;
    node = node[seg];
  }
  return node;
}

/** Deletes a leaf and then any parent map left empty. */
function deletePath(obj: Record<string, unknown>, path: string): void {
  const segs = path.split(SEP);
  const parents: Record<string, unknown>[] = [];
  let node: Record<string, unknown> = obj;
  for (const seg of segs.slice(0, -1)) {
    const next = node[seg];
    if (!isMap(next)) return;
    parents.push(node);
    node = next;
  }
  delete node[segs[segs.length - 1]!];
  for (let i = parents.length - 1; i >= 0; i--) {
    const child = parents[i]![segs[i]!];
    if (isMap(child) && Object.keys(child).length === 0) delete parents[i]![segs[i]!];
    else break;
  }
}

/** Merges `src` into `dst`: maps key by key, anything else replaced. */
function deepMerge(dst: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(src)) {
    if (v === undefined) continue;
    if (isMap(v) && isMap(dst[k])) deepMerge(dst[k] as Record<string, unknown>, v);
    else dst[k] = clone(v);
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return clone(patch);
  const out: Record<string, unknown> = isMap(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Copies the server-owned metadata of `current` onto `next` (fields `current` lacks are removed). */
function keepServerMeta(next: Obj, current: Obj): void {
  for (const k of SERVER_META) {
    if (current.metadata[k] === undefined) delete next.metadata[k];
    else next.metadata[k] = clone(current.metadata[k]);
  }
}

function pathText(path: string): string {
  return `.${path.split(SEP).join('.')}`;
}

/** Options of a write. */
export interface WriteOptions {
  manager: string;
  subresource?: 'status';
}

/** The storage. */
export class Store {
  /** The last resourceVersion handed out. */
  rv = 0;
  /** Events at or below this resourceVersion were compacted away: a watch from before it gets 410. */
  compactedRv = 0;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly byUid = new Map<string, { res: FakeResource; key: string }>();
  private history: HistoryEntry[] = [];
  private readonly subscribers = new Set<Subscriber>();

  constructor(
    readonly resources: FakeResource[],
    private readonly opts: { historyLimit: number; requireNamespaces: boolean; now: () => string },
  ) {}

  /** `group/plural`: one key per resource type whatever the version. */
  static resKey(r: FakeResource): string {
    return `${r.group}/${r.plural}`;
  }

  /** The resource type of apiVersion + kind. */
  resourceOf(apiVersion: string, kind: string): FakeResource | undefined {
    return this.resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
  }

  private table(r: FakeResource): Map<string, Obj> {
    const key = Store.resKey(r);
    let t = this.objects.get(key);
    if (!t) this.objects.set(key, (t = new Map()));
    return t;
  }

  private static objKey(namespace: string | undefined, name: string): string {
    return `${namespace ?? ''}/${name}`;
  }

  private notFound(r: FakeResource, name: string): StatusError {
    return new StatusError(404, 'NotFound', `${r.plural}${r.group ? `.${r.group}` : ''} "${name}" not found`, { name, group: r.group, kind: r.plural });
  }

  private conflict(r: FakeResource, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): StatusError {
    return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${r.plural}${r.group ? `.${r.group}` : ''} "${name}": ${why}`, { name, group: r.group, kind: r.plural });
  }

  /** The object, as stored (a copy). */
  get(r: FakeResource, namespace: string | undefined, name: string): Obj | undefined {
    const o = this.table(r).get(Store.objKey(r.namespaced ? namespace : undefined, name));
    return o ? clone(o) : undefined;
  }

  /** Objects of a type, in one namespace or all, filtered by a label selector. */
  list(r: FakeResource, namespace?: string, selector?: string): { items: Obj[]; resourceVersion: string } {
    const req = parseSelector(selector);
    const items = [...this.table(r).values()]
      .filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && matches(req, o.metadata.labels))
      .sort((a, b) => Store.objKey(a.metadata.namespace, a.metadata.name).localeCompare(Store.objKey(b.metadata.namespace, b.metadata.name)))
      .map(clone);
    return { items, resourceVersion: String(this.rv) };
  }

  /** Every stored object (copies), for assertions. */
  all(): Obj[] {
    return [...this.objects.values()].flatMap((t) => [...t.values()]).map(clone);
  }

  private checkNamespace(r: FakeResource, namespace: string | undefined): void {
    if (!r.namespaced || !this.opts.requireNamespaces) return;
    const nsRes = this.resourceOf('v1', 'Namespace')!;
    if (!namespace || !this.table(nsRes).has(Store.objKey(undefined, namespace))) {
      throw new StatusError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    }
  }

  private validateBody(r: FakeResource, body: unknown, namespace: string | undefined, name: string | undefined): Record<string, unknown> {
    if (!isMap(body)) throw new StatusError(400, 'BadRequest', 'the body must be a JSON or YAML object');
    const apiVersion = apiVersionOf(r);
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) throw new StatusError(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
    if (body.kind !== undefined && body.kind !== r.kind) throw new StatusError(400, 'BadRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (${r.kind})`);
    const meta = isMap(body.metadata) ? body.metadata : {};
    if (name !== undefined && meta.name !== undefined && meta.name !== name) throw new StatusError(400, 'BadRequest', `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    if (r.namespaced && namespace !== undefined && meta.namespace !== undefined && meta.namespace !== namespace) {
      throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const finalName = name ?? meta.name;
    if (typeof finalName !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(finalName) || finalName.length > 253) {
      throw new StatusError(422, 'Invalid', `${r.kind} "${String(finalName)}" is invalid: metadata.name: Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
    }
    return body;
  }

  /** The body with server-owned metadata removed and identity set. */
  private normalise(r: FakeResource, body: Record<string, unknown>, namespace: string | undefined, name: string): Record<string, unknown> {
    const out = clone(body);
    const meta: Record<string, unknown> = isMap(out.metadata) ? out.metadata : {};
    for (const k of SERVER_META) delete meta[k];
    meta.name = name;
    if (r.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    out.metadata = meta;
    out.apiVersion = apiVersionOf(r);
    out.kind = r.kind;
    return out;
  }

  private specOf(r: FakeResource, o: Record<string, unknown>): string {
    const { metadata: _m, status: _s, ...rest } = o;
    return stable(r.status ? rest : { ...rest, status: o.status });
  }

  private emit(entry: HistoryEntry): void {
    this.history.push(entry);
    if (this.history.length > this.opts.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.opts.historyLimit);
      this.compactedRv = Math.max(this.compactedRv, dropped[dropped.length - 1]!.rv);
    }
    for (const s of this.subscribers) this.deliver(s, entry);
  }

  private deliver(s: Subscriber, e: HistoryEntry): void {
    if (s.resKey !== e.resKey) return;
    if (s.namespace !== undefined && e.object.metadata.namespace !== s.namespace) return;
    const now = matches(s.selector, e.object.metadata.labels);
    const before = e.previous ? matches(s.selector, e.previous.metadata.labels) : false;
    let type: WatchEvent['type'] | undefined;
    if (e.type === 'MODIFIED') type = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    else type = now ? e.type : undefined;
    if (type) s.send({ type, object: clone(e.object) });
  }

  private managedFieldsOf(o: Obj): ManagedFieldsEntry[] {
    return (o.metadata.managedFields ?? []).map(clone);
  }

  /** Gives `manager` the leaves in `changed` (an Update), taking them from every other manager. */
  private recordUpdate(r: FakeResource, entries: ManagedFieldsEntry[], manager: string, changed: Set<string>, subresource?: string): ManagedFieldsEntry[] {
    if (changed.size === 0) return entries;
    const out: ManagedFieldsEntry[] = [];
    let mine: Set<string> = new Set(changed);
    for (const e of entries) {
      const paths = treePaths(e.fieldsV1);
      if (e.manager === manager && e.operation === 'Update' && e.subresource === subresource) {
        mine = new Set([...paths, ...changed]);
        continue;
      }
      for (const p of changed) paths.delete(p);
      if (paths.size > 0) out.push({ ...e, fieldsV1: fieldsTree(paths) });
    }
    const entry: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion: apiVersionOf(r), time: this.opts.now(), fieldsType: 'FieldsV1', fieldsV1: fieldsTree(mine) };
    if (subresource) entry.subresource = subresource;
    out.push(entry);
    return out;
  }

  private changedLeaves(before: Record<string, unknown>, after: Record<string, unknown>): Set<string> {
    const a = leafPaths(before);
    const b = leafPaths(after);
    const changed = new Set<string>();
    for (const p of b) if (!a.has(p) || stable(getPath(before, p)) !== stable(getPath(after, p))) changed.add(p);
    return changed;
  }

  private commit(r: FakeResource, stored: Obj, type: 'ADDED' | 'MODIFIED', previous?: Obj): Obj {
    this.rv += 1;
    stored.metadata.resourceVersion = String(this.rv);
    const t = this.table(r);
    t.set(Store.objKey(stored.metadata.namespace, stored.metadata.name), stored);
    this.byUid.set(stored.metadata.uid, { res: r, key: Store.objKey(stored.metadata.namespace, stored.metadata.name) });
    const entry: HistoryEntry = { rv: this.rv, resKey: Store.resKey(r), type, object: clone(stored) };
    if (previous) entry.previous = previous;
    this.emit(entry);
    return clone(stored);
  }

  /** POST: creates the object; 409 AlreadyExists when the name is taken. */
  create(r: FakeResource, namespace: string | undefined, body: unknown, opts: WriteOptions): Obj {
    const b = this.validateBody(r, body, namespace, undefined);
    const name = (b.metadata as { name: string }).name;
    const ns = r.namespaced ? (namespace ?? ((b.metadata as { namespace?: string }).namespace)) : undefined;
    this.checkNamespace(r, ns);
    if (this.table(r).has(Store.objKey(ns, name))) {
      throw new StatusError(409, 'AlreadyExists', `${r.plural}${r.group ? `.${r.group}` : ''} "${name}" already exists`, { name, group: r.group, kind: r.plural });
    }
    const obj = this.normalise(r, b, ns, name) as Obj;
    if (r.status) delete obj.status;
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = this.opts.now();
    obj.metadata.generation = 1;
    obj.metadata.managedFields = this.recordUpdate(r, [], opts.manager, leafPaths(obj));
    const out = this.commit(r, obj, 'ADDED');
    this.collectGarbage();
    return out;
  }

  private existing(r: FakeResource, namespace: string | undefined, name: string): Obj {
    const o = this.table(r).get(Store.objKey(r.namespaced ? namespace : undefined, name));
    if (!o) throw this.notFound(r, name);
    return clone(o);
  }

  /** Writes `next` (a full object) over `current`, with status-subresource rules and generation. */
  private replaceWith(r: FakeResource, current: Obj, next: Record<string, unknown>, opts: WriteOptions): Obj {
    let candidate: Obj;
    if (opts.subresource === 'status') {
      candidate = clone(current);
      if (next.status === undefined) delete candidate.status;
      else candidate.status = clone(next.status);
    } else {
      candidate = clone(next) as Obj;
      candidate.metadata = { ...(next.metadata as Meta) };
      keepServerMeta(candidate, current);
      if (r.status) {
        if (current.status === undefined) delete candidate.status;
        else candidate.status = clone(current.status);
      }
    }
    if (stable(candidate) === stable(current)) return clone(current); // no-op: no new resourceVersion, no event
    if (this.specOf(r, candidate) !== this.specOf(r, current)) candidate.metadata.generation = (current.metadata.generation ?? 0) + 1;
    const { metadata: _cm, ...curRest } = current;
    const { metadata: _nm, ...nextRest } = candidate;
    const changed = this.changedLeaves({ ...curRest, metadata: current.metadata }, { ...nextRest, metadata: candidate.metadata });
    candidate.metadata.managedFields = this.recordUpdate(r, this.managedFieldsOf(current), opts.manager, changed, opts.subresource);
    const out = this.commit(r, candidate, 'MODIFIED', current);
    this.collectGarbage();
    return out;
  }

  private checkResourceVersion(r: FakeResource, current: Obj, body: Record<string, unknown>): void {
    const rv = isMap(body.metadata) ? body.metadata.resourceVersion : undefined;
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw this.conflict(r, current.metadata.name);
  }

  /** PUT: replaces the object (or its status); `metadata.resourceVersion` in the body is a precondition. */
  update(r: FakeResource, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions): Obj {
    const b = this.validateBody(r, body, namespace, name);
    const current = this.existing(r, namespace, name);
    this.checkResourceVersion(r, current, b);
    return this.replaceWith(r, current, this.normalise(r, b, current.metadata.namespace, name), opts);
  }

  /** PATCH with a JSON merge patch; `metadata.resourceVersion` in the patch is a precondition. */
  mergePatch(r: FakeResource, namespace: string | undefined, name: string, patch: unknown, opts: WriteOptions): Obj {
    if (!isMap(patch)) throw new StatusError(400, 'BadRequest', 'a merge patch must be a JSON object');
    const current = this.existing(r, namespace, name);
    this.checkResourceVersion(r, current, patch);
    const merged = mergePatch(current, patch) as Record<string, unknown>;
    return this.replaceWith(r, current, this.normalise(r, merged, current.metadata.namespace, name), opts);
  }

  /** PATCH with `application/apply-patch+yaml`: server-side apply (see the module comment). */
  apply(r: FakeResource, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions & { force: boolean; dryRun?: boolean }): { object: Obj; created: boolean } {
    const b = this.validateBody(r, body, namespace, name);
    if (b.apiVersion === undefined || b.kind === undefined) throw new StatusError(400, 'BadRequest', 'apiVersion and kind are required in an apply configuration');
    const ns = r.namespaced ? namespace : undefined;
    const config = this.normalise(r, b, ns, name);
    if (r.status && opts.subresource !== 'status') delete config.status;
    const newPaths = leafPaths(config);
    const applyEntry = (paths: Set<string>): ManagedFieldsEntry => ({ manager: opts.manager, operation: 'Apply', apiVersion: apiVersionOf(r), time: this.opts.now(), fieldsType: 'FieldsV1', fieldsV1: fieldsTree(paths) });
    const currentRaw = this.table(r).get(Store.objKey(ns, name));
    if (!currentRaw) {
      this.checkNamespace(r, ns);
      const obj = clone(config) as Obj;
      obj.metadata.uid = randomUUID();
      obj.metadata.creationTimestamp = this.opts.now();
      obj.metadata.generation = 1;
      obj.metadata.managedFields = [applyEntry(newPaths)];
      if (opts.dryRun) return { object: obj, created: true }; // dryRun=All: the answer, nothing stored
      const created = this.commit(r, obj, 'ADDED');
      this.collectGarbage();
      return { object: created, created: true };
    }
    const current = clone(currentRaw);
    this.checkResourceVersion(r, current, b);
    const entries = this.managedFieldsOf(current);
    const mineBefore = new Set<string>();
    const others: { entry: ManagedFieldsEntry; paths: Set<string> }[] = [];
    for (const e of entries) {
      if (e.manager === opts.manager && e.operation === 'Apply') treePaths(e.fieldsV1).forEach((p) => mineBefore.add(p));
      else others.push({ entry: e, paths: treePaths(e.fieldsV1) });
    }
    const conflicts: string[] = [];
    for (const o of others) {
      for (const p of newPaths) {
        if (o.paths.has(p) && stable(getPath(current, p)) !== stable(getPath(config, p))) {
          conflicts.push(`conflict with "${o.entry.manager}"${o.entry.operation === 'Update' ? ' using ' + o.entry.apiVersion : ''}: ${pathText(p)}`);
          if (opts.force) o.paths.delete(p);
        }
      }
    }
    if (conflicts.length > 0 && !opts.force) {
      throw new StatusError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.join('\n')}`, { name, group: r.group, kind: r.plural });
    }
    const next = clone(current) as Record<string, unknown>;
    for (const p of mineBefore) {
      if (newPaths.has(p)) continue;
      if (others.some((o) => o.paths.has(p))) continue;
      deletePath(next, p);
    }
    deepMerge(next, config);
    const managed: ManagedFieldsEntry[] = others.filter((o) => o.paths.size > 0).map((o) => ({ ...o.entry, fieldsV1: fieldsTree(o.paths) }));
    managed.push(applyEntry(newPaths));
    const candidate = next as Obj;
    candidate.metadata = { ...(next.metadata as Meta) };
    keepServerMeta(candidate, current);
    const sameContent = stable({ ...candidate, metadata: { ...candidate.metadata, managedFields: undefined } }) === stable({ ...current, metadata: { ...current.metadata, managedFields: undefined } });
    const sameOwnership = stable(managed.map((m) => [m.manager, m.operation, m.fieldsV1])) === stable(entries.map((m) => [m.manager, m.operation, m.fieldsV1]));
    if (sameContent && sameOwnership) return { object: current, created: false }; // a no-op apply changes nothing, not even resourceVersion
    if (this.specOf(r, candidate) !== this.specOf(r, current)) candidate.metadata.generation = (current.metadata.generation ?? 0) + 1;
    candidate.metadata.managedFields = managed;
    if (opts.dryRun) return { object: candidate, created: false };
    const out = this.commit(r, candidate, 'MODIFIED', current);
    this.collectGarbage();
    return { object: out, created: false };
  }

  /**
   * DELETE: removes the object at once (finalizers and graceful deletion are not modelled), after the
   * uid / resourceVersion preconditions; then garbage-collects dependents (`Orphan` removes the
   * owner references instead).
   */
  delete(r: FakeResource, namespace: string | undefined, name: string, opts: { preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: string }): Obj {
    const current = this.existing(r, namespace, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== current.metadata.uid) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${r.plural} "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${r.plural} "${name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    this.remove(r, current);
    if (opts.propagationPolicy === 'Orphan') this.orphan(current.metadata.uid);
    else this.collectGarbage();
    return current;
  }

  private remove(r: FakeResource, o: Obj): void {
    const key = Store.objKey(o.metadata.namespace, o.metadata.name);
    this.table(r).delete(key);
    this.byUid.delete(o.metadata.uid);
    this.rv += 1;
    const gone = clone(o);
    gone.metadata.resourceVersion = String(this.rv);
    this.emit({ rv: this.rv, resKey: Store.resKey(r), type: 'DELETED', object: gone });
  }

  private orphan(uid: string): void {
    for (const r of this.resources) {
      for (const o of [...this.table(r).values()]) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.some((ref) => ref.uid === uid)) continue;
        const next = clone(o);
        next.metadata.ownerReferences = refs.filter((ref) => ref.uid !== uid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        this.commit(r, next, 'MODIFIED', o);
      }
    }
  }

  /**
   * The garbage collector, run after every write: deletes every object whose owner references all
   * name objects that do not exist (by uid, in any namespace), until nothing more goes.
   */
  collectGarbage(): void {
    for (let again = true; again; ) {
      again = false;
      for (const r of this.resources) {
        for (const o of [...this.table(r).values()]) {
          const refs = o.metadata.ownerReferences ?? [];
          if (refs.length === 0 || refs.some((ref) => this.byUid.has(ref.uid))) continue;
          this.remove(r, o);
          again = true;
        }
      }
    }
  }

  /** Drops the watch history: a watch from any earlier resourceVersion now gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  /**
   * Subscribes to the events of a type after `fromRv` ('' or '0': every current object as ADDED
   * first). Throws StatusError 410 Expired when `fromRv` is older than the history.
   */
  watch(r: FakeResource, fromRv: string, namespace: string | undefined, selector: string | undefined, send: (e: WatchEvent) => void): () => void {
    const sub: Subscriber = { resKey: Store.resKey(r), selector: parseSelector(selector), send };
    if (namespace !== undefined) sub.namespace = namespace;
    if (fromRv === '' || fromRv === '0') {
      for (const o of this.list(r, namespace, selector).items) send({ type: 'ADDED', object: o });
    } else {
      const from = Number(fromRv);
      if (!Number.isInteger(from)) throw new StatusError(400, 'BadRequest', `invalid resource version "${fromRv}"`);
      if (from < this.compactedRv) throw new StatusError(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`);
      for (const e of this.history) if (e.rv > from) this.deliver(sub, e);
    }
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }
}
