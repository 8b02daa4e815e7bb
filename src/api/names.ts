/**
 * Name rules from Kubernetes (`k8s.io/apimachinery/pkg/util/validation`), used for every name a
 * LatticeService declares so that the derived objects are accepted by the API server.
 */

/** RFC 1123 label: lower-case alphanumerics and '-', starts and ends alphanumeric, at most 63 characters. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1035 label: like an RFC 1123 label but must start with a letter (Service names). */
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: dot-separated RFC 1123 labels, at most 253 characters (ConfigMap, Secret names). */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** IANA service name, the rule for container and Service port names: at most 15 characters, a letter somewhere, no '--'. */
export const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** Environment variable names accepted by Kubernetes for `env[].name`. */
export const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Returns a reason why `name` is not an RFC 1123 label, or undefined when it is one. */
export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length > 63) return `must be at most 63 characters (it has ${name.length})`;
  if (!DNS1123_LABEL.test(name)) return 'must be lower-case letters, digits and "-", starting and ending with a letter or digit';
  return undefined;
}

/** Returns a reason why `name` is not an RFC 1035 label, or undefined when it is one. */
export function dns1035LabelProblem(name: string): string | undefined {
  if (name.length > 63) return `must be at most 63 characters (it has ${name.length})`;
  if (!DNS1035_LABEL.test(name)) return 'must be lower-case letters, digits and "-", starting with a letter and ending with a letter or digit';
  return undefined;
}

/** Returns a reason why `name` is not an IANA service name (port names), or undefined when it is one. */
export function portNameProblem(name: string): string | undefined {
  if (name.length > 15) return `must be at most 15 characters (it has ${name.length}): Kubernetes port names are IANA service names`;
  if (!IANA_SVC_NAME.test(name) || name.includes('--')) return 'must be lower-case letters, digits and single "-", starting and ending with a letter or digit';
  if (!/[a-z]/.test(name)) return 'must contain at least one letter';
  return undefined;
}

/**
 * The edit distance between `a` and `b`: insertions, deletions, substitutions and transpositions of
 * adjacent characters each count 1 (optimal string alignment distance).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` for a "did you mean" hint, or undefined when none is close: at most
 * a third of the word's length in edits (at least `minLimit`), case-insensitive; ties go to the first
 * candidate. Used for unknown fields, kinds and services alike.
 */
export function nearestName(word: string, candidates: Iterable<string>, minLimit = 1): string | undefined {
  const limit = Math.max(minLimit, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const distance = editDistance(word.toLowerCase(), c.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  return best;
}
