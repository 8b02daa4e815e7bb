/**
 * Durations on the command line, written as Go durations (`500ms`, `15s`, `10m`, `1h30m`) like
 * every Kubernetes controller flag (`--leader-elect-lease-duration=15s`), converted to milliseconds.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The result of {@link parseDuration}: milliseconds, or what is wrong with the text. */
export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

/**
 * Parses a Go-style duration made of `<number><unit>` parts, units `ms`, `s`, `m`, `h`
 * (e.g. `1m30s`, `250ms`, `0.5s`). A bare `0` is zero. Returns milliseconds, rounded to a whole number.
 */
export function parseDuration(text: string): DurationResult {
  const t = text.trim();
  if (t === '0') return { ok: true, ms: 0 };
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(t)) {
    return { ok: false, error: `"${text}" is not a duration: write a number with a unit, e.g. 500ms, 15s, 10m or 1h30m` };
  }
  let ms = 0;
  for (const m of t.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return { ok: true, ms: Math.round(ms) };
}

/** Formats milliseconds as a short Go-style duration (`15s`, `1m30s`, `250ms`), for help text and logs. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}
