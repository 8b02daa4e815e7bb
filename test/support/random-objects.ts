/**
 * Seeded random JSON-like objects for the serialisation property tests (test/output.test.ts): keys and
 * strings drawn from the cases YAML writers get wrong (numeric-looking, boolean-like, null-like,
 * indicators, quotes, unicode, line breaks, empty) mixed with random text; nested maps and
 * sequences, empty ones included. Deterministic: the same seed gives the same objects.
 */

export { prng } from '../../bench/fleet.ts';

/** Strings that are not plain strings to some YAML reader, or need care to write. */
export const TRICKY_STRINGS: readonly string[] = [
  '', ' ', '  ', '\t', '\n', '\n\n', 'a\n', 'a\n\n', '\na', ' a', 'a ', 'a\nb', 'a\n b', ' a\nb', 'a\r\nb', 'a\rb',
  'null', 'Null', 'NULL', '~', 'true', 'True', 'TRUE', 'false', 'False', 'yes', 'Yes', 'YES', 'no', 'No', 'NO',
  'on', 'On', 'ON', 'off', 'Off', 'OFF', 'y', 'Y', 'n', 'N',
  '0', '1', '-1', '+1', '007', '0777', '0o17', '0x1F', '0X1f', '0b101', '1_000', '1,000', '12e3', '1e44941571541982', '1E5',
  '1.5', '.5', '5.', '-.5', '1.5e-3', '6.8523015e+5', '.inf', '-.inf', '+.inf', '.Inf', '.NaN', '.nan', 'nan', 'inf',
  '1:20', '190:20:30', '190:20:30.15', '8080:80', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2026-01-01T00:00:00Z', '12:30',
  '<<', '=', '-', '--', '---', '...', '- a', '-a', '? a', '?', ':', ': a', 'a:', 'a: b', 'a:b', 'a #b', '#a', 'a#b',
  '&a', '*a', '!a', '!!str', '|', '>', '%a', '@a', '`a', '"', "'", 'a"b', "a'b", '"a"', "'a'", '\\', 'a\\nb',
  '[a]', '{a}', '[', '{', ']', '}', ',', 'a,b', 'a, b', '[a, b]', '{a: b}',
  'http://example.com/a?b=c#d', 'registry.example.com/app@sha256:0123456789abcdef', '${resources.db.url}', '*', '*.example.com',
  'é', 'ü', '日本語', '🙂', 'a\u00a0b', '\u00a0', 'a\u0085b', 'a\u2028b', 'a\u2029b', '\u2028', '\ufeffa', 'a\u0007b', 'a\u001bb',
  'a\u007fb', 'a\u0080b', 'a\u009fb', '\u0000', 'a\ud800b', 'a\ufffeb', 'line one\nline two\n', 'trailing space \nnext', '  indented\nblock',
];

/** Options of {@link randomValue}. */
export interface RandomOptions {
  /** Deepest nesting of maps and sequences. */
  depth: number;
  /** Most entries of one map or sequence. */
  width: number;
}

/** A random string: a tricky one, a random mix of tricky pieces and characters, or a word. */
export function randomString(random: () => number): string {
  const r = random();
  if (r < 0.45) return TRICKY_STRINGS[Math.floor(random() * TRICKY_STRINGS.length)]!;
  if (r < 0.75) {
    const alphabet = 'abcXYZ019 -_.:#,[]{}&*!|>\'"%@`?~=\\/\n\t\u00e9\u2028\u0085';
    let s = '';
    const n = Math.floor(random() * 12);
    for (let i = 0; i < n; i++) s += random() < 0.2 ? TRICKY_STRINGS[Math.floor(random() * TRICKY_STRINGS.length)]! : alphabet[Math.floor(random() * alphabet.length)]!;
    return s;
  }
  const words = ['app', 'http', 'team-payments', 'svc-12', 'lattice.dev/v1alpha1', 'app.kubernetes.io/name', 'metrics', 'TCP', 'Ready', '8080'];
  return words[Math.floor(random() * words.length)]!;
}

/** A random JSON value (no undefined, no NaN/Infinity); maps and sequences up to `depth` deep. */
export function randomValue(random: () => number, options: RandomOptions, depth = 0): unknown {
  const r = random();
  if (depth < options.depth && r < 0.35) {
    const n = Math.floor(random() * (options.width + 1));
    if (random() < 0.5) return Array.from({ length: n }, () => randomValue(random, options, depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) o[randomString(random)] = randomValue(random, options, depth + 1);
    return o;
  }
  if (r < 0.7) return randomString(random);
  if (r < 0.8) return Math.floor(random() * 2 ** 31) * (random() < 0.2 ? -1 : 1);
  if (r < 0.87) return [0.5, -1.25, 1e-7, 1e21, 3.14159, 2 ** 53, 0][Math.floor(random() * 7)];
  if (r < 0.95) return random() < 0.5;
  return null;
}

/** A random top-level map with `width` entries or fewer. */
export function randomObject(random: () => number, options: RandomOptions): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = 1 + Math.floor(random() * options.width);
  for (let i = 0; i < n; i++) o[randomString(random)] = randomValue(random, options, 1);
  return o;
}
