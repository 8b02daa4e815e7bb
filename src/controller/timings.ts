/**
 * The controller's timings and their defaults, in a leaf module (no Kubernetes client) so
 * `lattice controller --help` can show the defaults without loading the controller.
 * `controller.ts` re-exports both.
 */
import { DEFAULT_RATE_LIMITS } from './queue.ts';

/** Every timing of the controller, in milliseconds. */
export interface ControllerTimings {
  /** Period of the full resync (every key enqueued again). */
  resyncMs: number;
  /** Lease duration (see src/controller/leader.ts). */
  leaseDurationMs: number;
  /** Renew deadline of the leader. */
  renewDeadlineMs: number;
  /** Retry period of the election. */
  retryPeriodMs: number;
  /** First retry delay of a failed reconcile; doubles per failure. */
  backoffBaseMs: number;
  /** Longest retry delay of a failed reconcile. */
  backoffMaxMs: number;
  /** First delay before restarting a failed watch; doubles up to 30×. */
  watchRetryMs: number;
  /** How long SIGTERM waits for queued reconciles before releasing the Lease anyway. */
  drainTimeoutMs: number;
  /** How long "the cluster does not serve this kind" is believed before asking discovery again. */
  discoveryTtlMs: number;
}

/** Defaults of {@link ControllerTimings}; the election ones are client-go's. */
export const DEFAULT_TIMINGS: ControllerTimings = {
  resyncMs: 10 * 60_000,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  backoffBaseMs: DEFAULT_RATE_LIMITS.backoffBaseMs,
  backoffMaxMs: DEFAULT_RATE_LIMITS.backoffMaxMs,
  watchRetryMs: 1_000,
  drainTimeoutMs: 30_000,
  discoveryTtlMs: 60_000,
};
