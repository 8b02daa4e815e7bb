/**
 * The work queue, after client-go's `workqueue` (k8s.io/client-go/util/workqueue):
 *
 * - de-duplication: a key waiting in the queue is queued once however often it is added; a key
 *   added while it is being processed is queued again once, after `done`, so one key is never
 *   reconciled by two workers at once and no change is lost;
 * - per-key exponential backoff for failures: `base * 2^(failures-1)`, capped at `max`, reset by `forget`;
 * - an overall token bucket (`qps`, `burst`) that spaces out retries when many keys fail at once;
 * - shutdown with drain: no new keys are accepted, the queued ones are still handed out.
 *
 * Keys are strings (`namespace/name` of a LatticeService, or the platform key).
 */
import type { Clock } from './clock.ts';

/** Rate limiting settings. */
export interface RateLimits {
  /** First retry delay after a failure (ms). */
  backoffBaseMs: number;
  /** Longest retry delay (ms). */
  backoffMaxMs: number;
  /** Sustained retries per second across all keys. */
  qps: number;
  /** Retries allowed in a burst before `qps` applies. */
  burst: number;
}

/** The defaults: client-go's controller rate limiter has 5ms..1000s per item and 10 qps / 100 burst overall; Lattice retries slower at first, sooner at most. */
export const DEFAULT_RATE_LIMITS: RateLimits = { backoffBaseMs: 500, backoffMaxMs: 5 * 60_000, qps: 10, burst: 100 };

/** A de-duplicating, rate-limited work queue. */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: unknown }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private tokens: number;
  private lastRefill: number;
  private shuttingDown = false;

  constructor(
    private readonly clock: Clock,
    private readonly limits: RateLimits = DEFAULT_RATE_LIMITS,
    private readonly onDepthChange: (depth: number) => void = () => undefined,
  ) {
    this.tokens = limits.burst;
    this.lastRefill = clock.now();
  }

  /** Keys waiting to be handed out (not counting those being processed or waiting for a retry). */
  get depth(): number {
    return this.queue.length;
  }

  /** Keys being processed right now. */
  get active(): number {
    return this.processing.size;
  }

  /** Keys waiting for their retry delay. */
  get waitingRetry(): number {
    return this.delayed.size;
  }

  /** True once {@link shutDown} was called. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Queues `key` now, unless it is already queued. Ignored after shutdown. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    const pending = this.delayed.get(key);
    if (pending) {
      this.clock.clearTimeout(pending.timer);
      this.delayed.delete(key);
    }
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Queues `key` after `ms` (an earlier pending retry of the same key wins). */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /**
   * Queues `key` again after a failure: after the larger of its backoff, the overall bucket's
   * delay and `atLeastMs` (an API server's Retry-After). Returns the delay chosen (ms).
   */
  addRateLimited(key: string, atLeastMs = 0): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const backoff = Math.min(this.limits.backoffMaxMs, this.limits.backoffBaseMs * 2 ** Math.min(n - 1, 40));
    const delay = Math.max(backoff, this.bucketDelay(), atLeastMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Number of failures in a row of `key`. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears the failure count of `key` (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /**
   * The next key to process; waits until one is queued. Resolves undefined once the queue is shut
   * down and empty (the worker should stop).
   */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.onDepthChange(this.queue.length);
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  /**
   * Stops accepting keys; pending retries are dropped (the next leader lists everything anyway).
   * Waiting `get` calls resolve undefined once the queue is empty.
   */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) this.clock.clearTimeout(timer);
    this.delayed.clear();
    if (this.queue.length === 0) for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** Drops every queued key and retry (used when leadership is lost). */
  clear(): void {
    for (const key of this.queue.splice(0)) this.dirty.delete(key);
    for (const { timer } of this.delayed.values()) this.clock.clearTimeout(timer);
    this.delayed.clear();
    this.onDepthChange(0);
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.onDepthChange(this.queue.length);
  }

  /** Takes one token from the overall bucket; returns how long to wait for it (ms). */
  private bucketDelay(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.limits.qps);
    this.lastRefill = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.limits.qps) * 1000);
  }
}
