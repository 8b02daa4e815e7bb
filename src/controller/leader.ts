/**
 * Leader election through a `coordination.k8s.io/v1` Lease, after client-go's `leaderelection`
 * package (k8s.io/client-go/tools/leaderelection), so that of several replicas only one reconciles:
 *
 * - a candidate reads the Lease every `retryPeriod`; it takes it when nobody holds it, or when the
 *   Lease has not changed for `leaseDuration` as measured on the candidate's own clock since it last
 *   saw it change (so clocks of different nodes are never compared);
 * - takes and renewals are updates with the Lease's resourceVersion, so two candidates racing for it
 *   cannot both win (the loser gets 409 Conflict);
 * - the leader renews every `retryPeriod`; when it has not renewed for `renewDeadline` it stops
 *   leading, and it stops writing at once (see {@link LeaderElector.isLeader}). `renewDeadline` must
 *   be shorter than `leaseDuration`, so the old leader has stopped before another may take over;
 * - on a clean shutdown the leader releases the Lease (empty holder), so a standby takes over
 *   within one `retryPeriod` instead of waiting for the Lease to expire.
 *
 * Deviation from client-go: the expiry check uses the larger of the configured `leaseDuration` and
 * the Lease's `leaseDurationSeconds`, which lets tests use sub-second durations (the field holds
 * whole seconds).
 */
import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { delay, sleep, type Clock } from './clock.ts';
import { apiFailure } from './kube.ts';

/** Settings of the election. */
export interface LeaderElectionSettings {
  /** Namespace of the Lease (lattice-system). */
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** This replica's identity, written as `holderIdentity` (pod name and a random suffix). */
  identity: string;
  /** How long a Lease that stopped changing is still respected by other candidates (ms). client-go default 15s. */
  leaseDurationMs: number;
  /** How long the leader keeps leading without a successful renewal (ms). client-go default 10s. */
  renewDeadlineMs: number;
  /** Time between attempts to take or renew the Lease (ms). client-go default 2s. */
  retryPeriodMs: number;
}

/** What the elector calls when leadership starts and ends. */
export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Called once when a leader could not renew within the deadline; the elector then stops. */
  onStoppedLeading(reason: string): void;
}

/** Checks the settings; returns what is wrong, or undefined. */
export function leaderSettingsProblem(s: Pick<LeaderElectionSettings, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>): string | undefined {
  if (!(s.renewDeadlineMs < s.leaseDurationMs)) return 'the renew deadline must be shorter than the lease duration, so an old leader stops before another replica can take over';
  if (!(s.retryPeriodMs < s.renewDeadlineMs)) return 'the retry period must be shorter than the renew deadline, so a leader gets at least one more try to renew';
  return undefined;
}

/** Runs the election loop for one replica. */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private leading = false;
  private lastRenew = 0;
  private observedVersion: string | undefined;
  private observedAt = 0;
  private readonly abort = new AbortController();
  /** Resolves (false) when the loop is asked to stop. */
  private readonly stopped = new Promise<boolean>((resolve) => this.abort.signal.addEventListener('abort', () => resolve(false), { once: true }));
  private loop: Promise<void> | undefined;

  constructor(
    kc: KubeConfig,
    private readonly settings: LeaderElectionSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly callbacks: LeaderCallbacks,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  /**
   * True while this replica leads and renewed within the renew deadline. Checked before every
   * write, so a leader cut off from the API server stops writing even while a request hangs.
   */
  isLeader(): boolean {
    return this.leading && this.clock.now() - this.lastRenew < this.settings.renewDeadlineMs;
  }

  /** Starts the election loop in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const s = this.settings;
    while (!this.abort.signal.aborted) {
      const attempt = this.tryAcquireOrRenew();
      const deadline = this.leading ? Math.max(0, s.renewDeadlineMs - (this.clock.now() - this.lastRenew)) : s.retryPeriodMs;
      const timer = delay(this.clock, deadline);
      const ok = await Promise.race([attempt, timer.promise.then(() => false), this.stopped]);
      timer.cancel();
      if (this.abort.signal.aborted) {
        await attempt.catch(() => false);
        return;
      }
      if (ok) {
        this.lastRenew = this.clock.now();
        if (!this.leading) {
          this.leading = true;
          this.logger.info({ lease: `${s.namespace}/${s.name}`, identity: s.identity }, 'became the leader');
          this.callbacks.onStartedLeading();
        }
      } else if (this.leading && this.clock.now() - this.lastRenew >= s.renewDeadlineMs) {
        this.leading = false;
        const reason = `could not renew the Lease ${s.namespace}/${s.name} for ${s.renewDeadlineMs}ms`;
        this.logger.error({ lease: `${s.namespace}/${s.name}`, identity: s.identity }, `lost leadership: ${reason}`);
        this.callbacks.onStoppedLeading(reason);
        return;
      }
      const jitter = this.leading ? 0 : Math.floor(Math.random() * s.retryPeriodMs * 0.2);
      await sleep(this.clock, s.retryPeriodMs + jitter, this.abort.signal);
    }
  }

  private leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.settings.leaseDurationMs / 1000));
  }

  /** One attempt; true when this replica holds the Lease afterwards. Errors are logged and count as false. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const s = this.settings;
    const now = this.clock.now();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name: s.name, namespace: s.namespace });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) {
        this.logger.warn({ lease: `${s.namespace}/${s.name}`, error: apiFailure(err).message }, 'could not read the leader Lease');
        return false;
      }
      try {
        const created = await this.api.createNamespacedLease({
          namespace: s.namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: s.name, namespace: s.namespace },
            spec: { holderIdentity: s.identity, leaseDurationSeconds: this.leaseSeconds(), acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now), leaseTransitions: 0 },
          },
        });
        this.observe(created);
        return true;
      } catch (createErr) {
        this.logger.debug({ error: apiFailure(createErr).message }, 'another replica created the Lease first');
        return false;
      }
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const duration = Math.max(s.leaseDurationMs, (spec.leaseDurationSeconds ?? 0) * 1000);
    if (holder !== '' && holder !== s.identity && this.observedAt + duration > now) return false;
    if (holder !== s.identity && this.leading) {
      // Someone else took it while this replica believed it led: never write again.
      this.lastRenew = 0;
      return false;
    }
    const body: V1Lease = {
      ...lease,
      spec: {
        holderIdentity: s.identity,
        leaseDurationSeconds: this.leaseSeconds(),
        acquireTime: holder === s.identity && spec.acquireTime ? spec.acquireTime : new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === s.identity ? 0 : 1),
      },
    };
    try {
      this.observe(await this.api.replaceNamespacedLease({ name: s.name, namespace: s.namespace, body }));
      return true;
    } catch (err) {
      this.logger.debug({ error: apiFailure(err).message }, 'could not take or renew the Lease');
      return false;
    }
  }

  private observe(lease: V1Lease): void {
    const version = lease.metadata?.resourceVersion;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = this.clock.now();
    }
  }

  /**
   * Stops the loop and, when leading, releases the Lease (empty holder, 1s duration, as client-go's
   * ReleaseOnCancel does) so a standby takes over at its next try. Errors are logged.
   */
  async release(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (!this.leading) return;
    this.leading = false;
    const s = this.settings;
    try {
      const lease = await this.api.readNamespacedLease({ name: s.name, namespace: s.namespace });
      if (lease.spec?.holderIdentity !== s.identity) return;
      const now = new V1MicroTime(this.clock.now());
      await this.api.replaceNamespacedLease({
        name: s.name,
        namespace: s.namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
      });
      this.logger.info({ lease: `${s.namespace}/${s.name}` }, 'released the leader Lease');
    } catch (err) {
      this.logger.warn({ lease: `${s.namespace}/${s.name}`, error: apiFailure(err).message }, 'could not release the Lease; another replica takes over when it expires');
    }
  }
}
