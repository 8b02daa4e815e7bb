/**
 * Time as the controller sees it: the wall clock (ms since the epoch) and timers. Injected so the
 * timings (resync, backoff, lease durations) can be shortened in tests without changing any logic.
 */

/** A clock with timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process clock. Timers are unref'd: a pending retry never keeps the process alive on its own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `clock` (used for retry loops). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A timer as a promise, with a way to cancel it (the promise then never settles). */
export function delay(clock: Clock, ms: number): { promise: Promise<void>; cancel: () => void } {
  let handle: unknown;
  const promise = new Promise<void>((resolve) => (handle = clock.setTimeout(resolve, ms)));
  return { promise, cancel: () => clock.clearTimeout(handle) };
}

/** RFC 3339 time with second precision, as written on conditions (`2026-01-01T00:00:00Z`). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.[0-9]{3}Z$/, 'Z');
}
