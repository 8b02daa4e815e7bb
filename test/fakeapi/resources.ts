/**
 * The resource types the fake API server serves, with what discovery says about them. By default:
 * a few core and built-in types, every kind the controller derives (src/controller/resources.ts),
 * every Lattice kind (src/api/kinds.ts) as a CRD with a status subresource when the kind has a
 * status, Leases and events.k8s.io Events. Test support; never shipped.
 */
import { KINDS } from '../../src/api/kinds.ts';
import { DERIVED_KINDS } from '../../src/controller/resources.ts';

/** One served resource type. */
export interface FakeResource {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  /** Served with a `/status` subresource: the main endpoint ignores `.status`, the subresource ignores everything else. */
  status: boolean;
  /** A built-in type (list items carry no apiVersion/kind) rather than a custom resource. */
  builtin: boolean;
  verbs: string[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function res(apiVersion: string, kind: string, plural: string, namespaced: boolean, status: boolean, builtin: boolean): FakeResource {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  return { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, status, builtin, verbs: ALL_VERBS };
}

const BUILTIN_GROUPS = new Set(['', 'apps', 'policy', 'coordination.k8s.io', 'events.k8s.io']);

/** The default set of served types. */
export function defaultResources(): FakeResource[] {
  const out: FakeResource[] = [
    res('v1', 'Namespace', 'namespaces', false, true, true),
    res('v1', 'Secret', 'secrets', true, false, true),
    res('v1', 'Event', 'events', true, false, true),
    res('coordination.k8s.io/v1', 'Lease', 'leases', true, false, true),
    res('events.k8s.io/v1', 'Event', 'events', true, false, true),
  ];
  const withStatus = new Set(['Deployment', 'Service', 'PodDisruptionBudget', 'ExternalSecret', 'ClusterSecretStore', 'ScaledObject', 'HTTPRoute', 'Certificate', 'VMServiceScrape']);
  for (const k of DERIVED_KINDS) {
    const group = k.apiVersion.includes('/') ? k.apiVersion.split('/')[0]! : '';
    out.push(res(k.apiVersion, k.kind, k.plural, k.namespaced, withStatus.has(k.kind), BUILTIN_GROUPS.has(group)));
  }
  // Each Lattice kind at its storage version (the fake server does not convert between versions).
  for (const k of KINDS) out.push(res(`${k.group}/${k.storageVersion ?? k.version}`, k.kind, k.plural, k.scope === 'Namespaced', k.status !== undefined, false));
  const seen = new Set<string>();
  return out.filter((r) => {
    const id = `${r.group}/${r.version}/${r.plural}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** `group/version` as written in apiVersion. */
export function apiVersionOf(r: Pick<FakeResource, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}
