/**
 * Names and labels of derived objects. The scheme (documented in the README):
 *
 * - objects that exist once per service take the service's name: ServiceAccount, Deployment,
 *   Service, PodDisruptionBudget, VMServiceScrape, CiliumNetworkPolicy, AuthorizationPolicy;
 * - objects that exist per container or per resource are `<service>-<container>-<purpose>` or
 *   `<service>-<resource>`, e.g. ConfigMap `payments-api-files`, ExternalSecret `payments-payments-db`;
 * - every object is in the service's namespace and carries the standard labels below.
 */
import { createHash } from 'node:crypto';

/** Label keys Lattice sets; `lattice.dev/service` selects everything derived for one service. */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  component: 'app.kubernetes.io/component',
  service: 'lattice.dev/service',
} as const;

/** Annotation keys Lattice sets. */
export const ANNOTATIONS = {
  configHash: 'lattice.dev/config-hash',
} as const;

/** The value of `app.kubernetes.io/managed-by` on every derived object. */
export const MANAGED_BY = 'lattice';

/** The standard labels of every object derived for service `name`. */
export function standardLabels(name: string, partOf: string): Record<string, string> {
  return {
    [LABELS.name]: name,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.partOf]: partOf,
    [LABELS.service]: name,
  };
}

/** The labels that select a service's pods (Deployment selector, Service selector, policies). */
export function selectorLabels(name: string): Record<string, string> {
  return { [LABELS.name]: name };
}

/**
 * Joins name parts with "-" into a valid object name of at most `max` characters. When too long,
 * the name is cut and a short hash of the whole name is appended, so distinct long names stay distinct.
 */
export function childName(parts: string[], max = 63): string {
  const full = parts.join('-');
  if (full.length <= max) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, max - 9).replace(/-+$/, '')}-${hash}`;
}
