/**
 * Informers: an in-memory cache of every object of the watched types, kept current by LIST then
 * WATCH from the list's resourceVersion (client-node's `ListWatch`, made with `makeInformer`).
 *
 * client-node handles a watch that ends cleanly (it watches again from the last resourceVersion)
 * and a `410 Gone` / `Expired` (the resourceVersion was compacted away: it lists again, and reports
 * objects that disappeared meanwhile as deleted). Any other failure (connection refused or reset, a
 * stream cut in the middle of an event, a 5xx) stops its informer and reports an error; this module
 * then restarts it after a delay that doubles up to 30× the base, from the last resourceVersion.
 */
import { makeInformer, type Informer, type KubeConfig, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { apiFailure, collectionPath, type LatticeObjectApi, type ObjectList, type Unstructured } from './kube.ts';
import type { ResourceType } from './resources.ts';

/** What happened to an object. */
export type WatchVerb = 'add' | 'update' | 'delete';

/** Receives every change of every watched type. */
export type ChangeHandler = (type: ResourceType, verb: WatchVerb, object: Unstructured) => void;

interface Entry {
  type: ResourceType;
  informer: Informer<Unstructured> & ObjectCache<Unstructured>;
  synced: boolean;
  failures: number;
  restartTimer?: unknown;
}

/** `kind` of a type as a map key. */
function typeKey(type: ResourceType): string {
  return `${type.apiVersion}/${type.kind}`;
}

/** The informers of a set of types. */
export class InformerSet {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(
    kc: KubeConfig,
    api: LatticeObjectApi,
    types: readonly ResourceType[],
    private readonly onChange: ChangeHandler,
    private readonly clock: Clock,
    private readonly retryMs: number,
    private readonly logger: Logger,
  ) {
    for (const type of types) {
      const entry = { type, synced: false, failures: 0 } as Entry;
      const list = async (): Promise<ObjectList> => {
        const result = await api.listObjects(type);
        // The informer fills its cache synchronously once this promise settles; mark synced after that.
        setImmediate(() => this.listed(entry));
        return result;
      };
      const informer = makeInformer<Unstructured>(kc, collectionPath(type), list);
      entry.informer = informer;
      informer.on('add', (o) => this.onChange(type, 'add', stamp(type, o)));
      informer.on('update', (o) => this.onChange(type, 'update', stamp(type, o)));
      informer.on('delete', (o) => this.onChange(type, 'delete', stamp(type, o)));
      informer.on('error', (err) => this.failed(entry, err));
      this.entries.set(typeKey(type), entry);
    }
  }

  /** Starts every informer; returns at once (see {@link waitForSync}). */
  start(): void {
    this.stopped = false;
    for (const entry of this.entries.values()) void this.startOne(entry);
  }

  private async startOne(entry: Entry): Promise<void> {
    if (this.stopped) return;
    await entry.informer.start();
  }

  /** A list succeeded and its items are in the cache. */
  private listed(entry: Entry): void {
    entry.failures = 0;
    if (this.stopped || entry.synced) return;
    entry.synced = true;
    this.logger.debug({ resource: typeKey(entry.type) }, 'informer synced');
    if (this.synced) for (const w of this.syncWaiters.splice(0)) w();
  }

  private failed(entry: Entry, err: unknown): void {
    if (this.stopped) return;
    entry.failures += 1;
    const delay = Math.min(this.retryMs * 2 ** Math.min(entry.failures - 1, 10), this.retryMs * 30);
    const f = apiFailure(err);
    const hint = f.code === 404 ? ' (is the CRD installed? `lattice install | kubectl apply -f -` installs them)' : f.code === 403 ? ' (the ClusterRole of `lattice install` grants list and watch)' : '';
    this.logger.warn({ resource: typeKey(entry.type), code: f.code, error: f.message, retryInMs: delay }, `watch failed${hint}; restarting it`);
    if (entry.restartTimer !== undefined) this.clock.clearTimeout(entry.restartTimer);
    entry.restartTimer = this.clock.setTimeout(() => {
      entry.restartTimer = undefined;
      void this.startOne(entry);
    }, delay);
  }

  /** True when every informer has listed its type at least once. */
  get synced(): boolean {
    return [...this.entries.values()].every((e) => e.synced);
  }

  /** Resolves once {@link synced}. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The cached objects of `type` (all namespaces, or one). */
  list(type: ResourceType, namespace?: string): readonly Unstructured[] {
    return this.entries.get(typeKey(type))?.informer.list(namespace) ?? [];
  }

  /** One cached object. */
  get(type: ResourceType, name: string, namespace?: string): Unstructured | undefined {
    return this.entries.get(typeKey(type))?.informer.get(name, namespace);
  }

  /** The watched types. */
  get types(): ResourceType[] {
    return [...this.entries.values()].map((e) => e.type);
  }

  /** Stops every informer (their watches are closed). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.syncWaiters.splice(0)) w();
    for (const entry of this.entries.values()) {
      if (entry.restartTimer !== undefined) this.clock.clearTimeout(entry.restartTimer);
      await entry.informer.stop();
    }
  }
}

/** Watch events carry apiVersion and kind; list items of built-in types may not. */
function stamp(type: ResourceType, o: Unstructured): Unstructured {
  if (o.apiVersion === type.apiVersion && o.kind === type.kind) return o;
  o.apiVersion = type.apiVersion;
  o.kind = type.kind;
  return o;
}
