/**
 * Kubernetes resource quantities (`500m`, `1.5`, `512Mi`, `1e3`).
 *
 * Grammar and suffix values follow `k8s.io/apimachinery/pkg/api/resource` (Quantity):
 * a signed decimal number followed by a binary SI suffix (Ki, Mi, Gi, Ti, Pi, Ei), a decimal SI
 * suffix (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (e3, E-2).
 */

const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** True when `text` is a syntactically valid Kubernetes quantity. */
export function isQuantity(text: string): boolean {
  return QUANTITY.test(text);
}

/**
 * Parses a quantity into a plain number in base units (cores for CPU, bytes for memory).
 * @throws Error when `text` is not a valid quantity; callers validate with {@link isQuantity} first.
 */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = QUANTITY.exec(text);
  if (!m) throw new Error(`"${text}" is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 1Gi)`);
  const value = Number(m[1]);
  const suffix = m[2] ?? '';
  if (/^[eE]/.test(suffix)) return value * 10 ** Number(suffix.slice(1));
  return value * (SUFFIX[suffix] ?? 1);
}

/** Formats a CPU amount in cores the way people write it: whole cores as `2`, fractions as `250m`. */
export function formatCpu(cores: number): string {
  if (Number.isInteger(cores)) return String(cores);
  return `${Math.round(cores * 1000)}m`;
}

/** Formats bytes with the largest binary suffix that divides them exactly (`512Mi`, `3Gi`). */
export function formatBytes(bytes: number): string {
  for (const [suffix, size] of [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}
