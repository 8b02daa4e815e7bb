/**
 * Phase timings of a command, printed to stderr as one line when `LATTICE_TIMINGS=1`:
 * `lattice timings: {"startup":812.4,"load":1203.1,...,"total":5012.3,"maxRssBytes":512000000}`
 * (milliseconds, and the peak resident set size in bytes; JSON so that `npm run bench` can read it).
 * Off by default; measuring never changes the output.
 *
 * `startup` is the time from process start to the command's start (Node, the TypeScript loader,
 * module loading), from `performance.now()`, whose origin is the process start.
 */

/** Collects named phase durations in milliseconds, in the order first recorded. */
export class PhaseTimings {
  private readonly phases = new Map<string, number>();
  private last: number;

  /** Starts timing now; `startup` is recorded as the time since process start. */
  constructor(readonly enabled: boolean) {
    this.last = performance.now();
    if (enabled) this.phases.set('startup', this.last);
  }

  /** Records the time since the previous mark (or the start) as `phase`, adding to an earlier record of it. */
  mark(phase: string): void {
    const now = performance.now();
    this.add(phase, now - this.last);
    this.last = now;
  }

  /** Adds `ms` to `phase`. */
  add(phase: string, ms: number): void {
    if (this.enabled) this.phases.set(phase, (this.phases.get(phase) ?? 0) + ms);
  }

  /** Moves `ms` from phase `from` to phase `to` (a part measured inside a larger phase). */
  split(from: string, to: string, ms: number): void {
    if (!this.enabled) return;
    this.phases.set(from, (this.phases.get(from) ?? 0) - ms);
    this.add(to, ms);
  }

  /** The line printed to stderr, with `total` (process start to now); empty when disabled. */
  report(): string {
    if (!this.enabled) return '';
    const out: Record<string, number> = {};
    for (const [k, v] of this.phases) out[k] = Math.round(v * 10) / 10;
    out.total = Math.round(performance.now() * 10) / 10;
    // The process's peak resident set size so far (getrusage ru_maxrss, reported in KiB).
    out.maxRssBytes = process.resourceUsage().maxRSS * 1024;
    return `lattice timings: ${JSON.stringify(out)}\n`;
  }
}

/** Timings enabled by `LATTICE_TIMINGS=1` (or `true`). */
export function timingsFromEnv(env: NodeJS.ProcessEnv = process.env): PhaseTimings {
  return new PhaseTimings(env.LATTICE_TIMINGS === '1' || env.LATTICE_TIMINGS === 'true');
}
