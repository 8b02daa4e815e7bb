/**
 * The Lattice operator: continuous reconciliation of Lattice workloads (LatticeServices and every other
 * workload kind the compiler derives, src/compiler/kinds.ts) against the Kubernetes API.
 *
 * Wiring: informers (src/controller/informers.ts) cache every Lattice kind and Namespaces; a change
 * enqueues the keys whose derivation it may change (below); workers take keys from the rate-limited
 * work queue (src/controller/queue.ts), at most `concurrency` at once, and reconcile them
 * (src/controller/reconcile.ts); only the replica holding the Lease (src/controller/leader.ts)
 * enqueues and reconciles. Every `resync` all keys are enqueued again, which corrects drift (an
 * edited or deleted derived object) since apply is forced and idempotent.
 *
 * What a change re-derives (src/controller/derive.ts, on the compiler's Fleet):
 * - a LatticeService: itself and its neighbours in the service graph, before and after the change
 *   (src/compiler/mesh/graph.ts), and the services under a quota whose usage moved; all are enqueued.
 *   Status-only updates re-derive nothing;
 * - anything else the compiler reads (a CedarPolicy, SecretProvider, ImageProvider, LatticePlatform,
 *   LatticeQuota, any later Lattice kind, a Namespace's labels): every service is derived again and
 *   the services whose derivation changed are enqueued, with the platform objects. So a policy change
 *   re-derives all and re-applies the services it affects; a SecretProvider change re-applies the
 *   services using it.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { PLATFORM_NAMESPACE } from '../api/common.ts';
import type { ImageVerifierOptions } from '../supplychain/verify.ts';
import { rfc3339, systemClock, type Clock } from './clock.ts';
import { PlatformView, serviceKey } from './derive.ts';
import { KubeEventRecorder, type EventRecorder } from './events.ts';
import { serveEndpoints, type HttpEndpoints } from './http.ts';
import { InformerSet, type WatchVerb } from './informers.ts';
import { apiFailure, LatticeObjectApi, type Unstructured } from './kube.ts';
import { LeaderElector } from './leader.ts';
import { createMetrics, type ControllerMetrics } from './metrics.ts';
import { AdoptionMetrics } from './adoption.ts';
import { namespaceMetadata } from '../compiler/platform/snapshot.ts';
import { WorkQueue, DEFAULT_RATE_LIMITS } from './queue.ts';
import { DEFAULT_TIMINGS, type ControllerTimings } from './timings.ts';
import { NotLeaderError, PLATFORM_KEY, Reconciler, WriteError } from './reconcile.ts';
import { stableJson } from './stable.ts';
import { READ_KINDS, SERVICE_RESOURCE, latticeResourceTypes, workloadResourceTypes, type ResourceType } from './resources.ts';

export { DEFAULT_TIMINGS, type ControllerTimings } from './timings.ts';

/** Options of {@link Controller}. */
export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** Holder identity in the Lease and `reportingInstance` of Events. Default: `<hostname>_<random>`. */
  identity?: string;
  /** Run leader election (default true). Without it this replica reconciles at once: run only one. */
  leaderElection?: boolean;
  /** Namespace of the Lease (default lattice-system). */
  leaseNamespace?: string;
  /** Name of the Lease (default lattice-controller). */
  leaseName?: string;
  /** Most reconciles at once (default 4). */
  concurrency?: number;
  /** Overall retry rate (default 10 per second, bursts of 100). */
  qps?: number;
  burst?: number;
  timings?: Partial<ControllerTimings>;
  /** Where to serve /healthz, /readyz and /metrics; false for nowhere. */
  listen?: { host: string; port: number } | false;
  logger?: Logger;
  clock?: Clock;
  /** Replaces the Event recorder (tests). */
  events?: EventRecorder;
  /** Collect prom-client's default process metrics (default true). */
  defaultMetrics?: boolean;
  /** Options of the image verifier besides its providers (tests pass a fetch). */
  imageVerifier?: Omit<ImageVerifierOptions, 'providers'>;
}

/** Why the controller stopped. */
export type StopReason = 'stopped' | 'lost-leadership';

/** Default identity: the host name (the pod name in a cluster) and a random suffix, as client-go's examples do. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID().slice(0, 8)}`;
}

/** One controller replica. */
export class Controller {
  readonly identity: string;
  readonly metrics: ControllerMetrics;
  /** Adoption and health metrics of the platform (src/controller/adoption.ts), on the same registry. */
  readonly adoption: AdoptionMetrics;
  readonly timings: ControllerTimings;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly api: LatticeObjectApi;
  private readonly informers: InformerSet;
  private readonly view: PlatformView;
  private readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly elector: LeaderElector | undefined;
  private rebuildPending = false;
  private readonly signatures = new Map<string, string>();
  private readonly latticeTypes: ResourceType[];
  /** The workload kinds (LatticeService, and every other kind the compiler derives): keys of the work queue. */
  private readonly workloadTypes: ResourceType[];
  private readonly workers: Promise<void>[] = [];
  private endpoints: HttpEndpoints | undefined;
  private resyncTimer: unknown;
  private active = false;
  private leading = false;
  private stopping = false;
  private resolveDone!: (reason: StopReason) => void;
  /** Resolves when the controller stopped: on {@link stop}, or when it lost leadership (the process should exit and be restarted). */
  readonly done: Promise<StopReason>;

  constructor(private readonly options: ControllerOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? pino({ base: { component: 'lattice-controller' } });
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.api = LatticeObjectApi.make(options.kubeConfig);
    this.latticeTypes = latticeResourceTypes();
    this.workloadTypes = workloadResourceTypes();
    const watched = [...this.latticeTypes, ...READ_KINDS];
    this.informers = new InformerSet(options.kubeConfig, this.api, watched, (type, verb, object) => this.onChange(type, verb, object), this.clock, this.timings.watchRetryMs, this.logger);
    this.view = new PlatformView(this.informers, watched, this.logger, options.imageVerifier ?? {});
    this.metrics = createMetrics(() => this.informers.list(SERVICE_RESOURCE).map((s) => String((s as { status?: { phase?: unknown } }).status?.phase ?? 'Pending')), { defaultMetrics: options.defaultMetrics !== false });
    this.adoption = new AdoptionMetrics(this.metrics.registry, () => ({
      services: this.informers.list(SERVICE_RESOURCE),
      // The teams as the compiler sees them (a LatticeTeam's metadata over the Namespace's own labels);
      // before the first build, the Namespace objects alone.
      namespaces: this.view.built ? this.view.namespaces() : namespaceMetadata(this.informers.list(READ_KINDS[0]!).map((object) => ({ object }))),
    }), () => this.clock.now());
    this.queue = new WorkQueue(
      this.clock,
      { backoffBaseMs: this.timings.backoffBaseMs, backoffMaxMs: this.timings.backoffMaxMs, qps: options.qps ?? DEFAULT_RATE_LIMITS.qps, burst: options.burst ?? DEFAULT_RATE_LIMITS.burst },
      (depth) => this.metrics.queueDepth.set(depth),
    );
    if (options.leaderElection !== false) {
      this.elector = new LeaderElector(
        options.kubeConfig,
        {
          namespace: options.leaseNamespace ?? PLATFORM_NAMESPACE,
          name: options.leaseName ?? 'lattice-controller',
          identity: this.identity,
          leaseDurationMs: this.timings.leaseDurationMs,
          renewDeadlineMs: this.timings.renewDeadlineMs,
          retryPeriodMs: this.timings.retryPeriodMs,
        },
        this.clock,
        this.logger,
        { onStartedLeading: () => void this.startLeading(), onStoppedLeading: (reason) => void this.lostLeadership(reason) },
      );
    }
    this.reconciler = new Reconciler({
      api: this.api,
      view: this.view,
      service: (namespace, name) => this.workload(namespace, name),
      events: options.events ?? new KubeEventRecorder(options.kubeConfig, this.identity, this.logger, () => this.clock.now()),
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      adoption: this.adoption,
      isLeader: () => this.isLeader(),
      discoveryTtlMs: this.timings.discoveryTtlMs,
    });
  }

  /** True while this replica may write: it holds the Lease (or runs without election). */
  isLeader(): boolean {
    if (this.stopping && !this.leading) return false;
    return this.elector ? this.elector.isLeader() : this.leading;
  }

  /** True once every informer listed its kind. */
  get ready(): boolean {
    return this.informers.synced;
  }

  /** URL of the health and metrics endpoints, when serving. */
  get url(): string | undefined {
    return this.endpoints?.url;
  }

  /** Keys waiting in the queue, being reconciled, and waiting for a retry. */
  get queueState(): { depth: number; active: number; retrying: number } {
    return { depth: this.queue.depth, active: this.queue.active, retrying: this.queue.waitingRetry };
  }

  /** Starts serving, watching and electing; returns once the endpoints listen. */
  async start(): Promise<void> {
    if (this.options.listen) {
      this.endpoints = await serveEndpoints(this.options.listen, {
        registry: this.metrics.registry,
        notReady: () => (this.informers.synced ? undefined : 'the informers have not listed every kind yet (see the logs for watch errors)'),
        unhealthy: () => (this.leading && this.elector && !this.elector.isLeader() ? 'leading but the Lease was not renewed in time' : undefined),
      });
    }
    this.logger.info({ identity: this.identity, leaderElection: this.elector !== undefined, watching: this.informers.types.map((t) => t.kind), endpoints: this.endpoints?.url }, 'starting');
    this.informers.start();
    if (this.elector) this.elector.start();
    else void this.startLeading();
  }

  private async startLeading(): Promise<void> {
    this.leading = true;
    this.metrics.leader.set(1);
    await this.informers.waitForSync();
    if (this.stopping || !this.leading) return;
    this.view.rebuild(rfc3339(this.clock.now()));
    this.active = true;
    for (let i = 0; i < Math.max(1, this.options.concurrency ?? 4); i++) this.workers.push(this.work());
    this.enqueueAll();
    this.scheduleResync();
    this.logger.info({ services: this.informers.list(SERVICE_RESOURCE).length }, 'caches synced; reconciling');
  }

  private async lostLeadership(reason: string): Promise<void> {
    this.active = false;
    this.leading = false;
    this.metrics.leader.set(0);
    this.queue.clear();
    this.queue.shutDown();
    await this.shutdown('lost-leadership', reason);
  }

  private scheduleResync(): void {
    this.resyncTimer = this.clock.setTimeout(() => {
      if (!this.active) return;
      this.logger.debug('resync: enqueueing every key');
      this.enqueueAll();
      this.scheduleResync();
    }, this.timings.resyncMs);
  }

  private enqueue(keys: Iterable<string>): void {
    if (!this.active) return;
    for (const key of keys) this.queue.add(key);
  }

  /** Every cached workload's key (workloads of all kinds share one `namespace/name` space). */
  private allServiceKeys(): string[] {
    return this.workloadTypes.flatMap((t) => this.informers.list(t).map(serviceKey));
  }

  /** The cached workload `namespace/name`, of whichever workload kind holds it (LatticeService first). */
  private workload(namespace: string, name: string): Unstructured | undefined {
    for (const t of this.workloadTypes) {
      const o = this.informers.get(t, name, namespace);
      if (o) return o;
    }
    return undefined;
  }

  private enqueueAll(): void {
    this.enqueue([PLATFORM_KEY, ...this.allServiceKeys()]);
  }

  /**
   * Handles one informer event. Status-only updates change nothing. While this replica is not
   * reconciling (standby, or caches not synced) only the bookkeeping is done: the fleet is built from
   * the caches when reconciling starts.
   */
  private onChange(type: ResourceType, verb: WatchVerb, object: Unstructured): void {
    const meta = object.metadata ?? {};
    const id = `${type.apiVersion}/${type.kind}/${meta.namespace ?? ''}/${meta.name}`;
    const signature = stableJson({ uid: meta.uid, generation: meta.generation, labels: meta.labels, annotations: meta.annotations, deleting: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null });
    if (verb === 'update' && this.signatures.get(id) === signature) return; // status-only or no-op change
    if (verb === 'delete') this.signatures.delete(id);
    if (verb === 'delete' && type.kind === SERVICE_RESOURCE.kind && meta.uid) this.adoption.forget(meta.uid);
    else this.signatures.set(id, signature);
    if (!this.active) return;
    if (this.workloadTypes.some((t) => t.kind === type.kind && t.apiVersion === type.apiVersion)) {
      const now = rfc3339(this.clock.now());
      try {
        // The Gateways are platform objects with a listener per route host: a service change can change them.
        const gatewaysBefore = stableJson(this.view.gatewayObjects());
        const keys = verb === 'delete' ? this.view.remove(serviceKey(object), now) : this.view.upsert(object, now);
        if (stableJson(this.view.gatewayObjects()) !== gatewaysBefore) keys.add(PLATFORM_KEY);
        this.enqueue(keys);
      } catch (err) {
        // The compiler never throws for bad input; a throw is a bug or a broken fleet: start over from the caches.
        this.logger.error({ service: serviceKey(object), error: (err as Error).message }, 'deriving after a change failed; rebuilding from the caches');
        this.scheduleRebuild();
      }
      return;
    }
    this.scheduleRebuild();
  }

  /** Rebuilds the fleet once per burst of platform changes, then enqueues what changed and the platform objects. */
  private scheduleRebuild(): void {
    if (this.rebuildPending) return;
    this.rebuildPending = true;
    setImmediate(() => {
      this.rebuildPending = false;
      if (!this.active) return;
      const changed = this.view.rebuild(rfc3339(this.clock.now()));
      this.logger.debug({ changed: changed.size }, 'platform input changed: every service re-derived');
      this.enqueue([PLATFORM_KEY, ...changed]);
    });
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const kind = key === PLATFORM_KEY ? 'platform' : 'service';
      const started = this.clock.now();
      try {
        await this.reconciler.reconcile(key);
        this.queue.forget(key);
        this.metrics.reconciles.inc({ kind, result: 'success' });
      } catch (err) {
        this.metrics.reconciles.inc({ kind, result: 'error' });
        const log = this.logger.child(kind === 'platform' ? { key } : { service: key });
        if (err instanceof NotLeaderError) {
          log.warn(err.message);
        } else {
          const failure = err instanceof WriteError ? err.failure : apiFailure(err);
          const delay = this.queue.addRateLimited(key, failure.retryAfterMs ?? 0);
          log.warn({ error: err instanceof Error ? err.message : String(err), code: failure.code, failures: this.queue.failuresOf(key), retryInMs: delay }, 'reconcile failed; will retry');
        }
      } finally {
        this.metrics.reconcileDuration.observe({ kind }, (this.clock.now() - started) / 1000);
        this.queue.done(key);
      }
    }
  }

  /**
   * Stops gracefully (SIGTERM): no new keys, the queued ones are reconciled (for at most
   * drainTimeout), then the Lease is released, the watches closed and the endpoints shut.
   */
  async stop(): Promise<StopReason> {
    if (!this.stopping) {
      this.stopping = true;
      this.logger.info({ queued: this.queue.depth, active: this.queue.active }, 'stopping: draining the queue');
      if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
      this.queue.shutDown();
      let timer: unknown;
      const drained = await Promise.race([
        Promise.all(this.workers).then(() => true),
        new Promise<boolean>((resolve) => (timer = this.clock.setTimeout(() => resolve(false), this.timings.drainTimeoutMs))),
      ]);
      this.clock.clearTimeout(timer);
      if (!drained) this.logger.warn({ left: this.queue.depth + this.queue.active }, 'drain timed out; the next leader reconciles what is left');
      this.active = false;
      await this.elector?.release();
      this.leading = false;
      this.metrics.leader.set(0);
      await this.shutdown('stopped', 'stopped');
    }
    return this.done;
  }

  private async shutdown(reason: StopReason, detail: string): Promise<void> {
    this.stopping = true;
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    await this.informers.stop();
    await this.endpoints?.close();
    this.logger.info({ reason: detail }, 'stopped');
    this.resolveDone(reason);
  }
}
