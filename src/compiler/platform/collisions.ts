/**
 * Name collisions: two derived objects with one identity (API group, kind, namespace, name) would
 * be one object in the cluster, written alternately by two derivations (and, with server-side apply,
 * owned field by field by whichever wrote last). Names are built by joining parts with "-"
 * (src/compiler/naming.ts), so `a` + `b-c` and `a-b` + `c` give the same name, and one service can
 * collide with itself (resource `web-secret-env` beside container `web`'s `secret-env`).
 *
 * Lattice refuses every party to a collision (all-or-nothing, with a message naming each source)
 * rather than picking a winner: which one was there first is not knowable offline, and a
 * derivation must not depend on the order services were read.
 *
 * Besides the objects themselves, the Secrets they make other controllers create are counted: an
 * ExternalSecret's target Secret (`spec.target.name`, else its own name; ESO's
 * external-secrets.io/v1 API) and a Certificate's `spec.secretName` (cert-manager.io/v1). Two of
 * those with one name would overwrite each other's keys.
 */
import type { KubeObject } from '../types.ts';

/** The identity of an object: `<group>/<kind>/<namespace>/<name>` (group "" for the core API; namespace "" when cluster-scoped). */
export type ObjectIdentity = string;

/** One object a derivation claims, with what produced it for messages. */
export interface Claim {
  identity: ObjectIdentity;
  /** e.g. `ExternalSecret shop/a-b-c`, or `Secret shop/a-b-c (target of ExternalSecret shop/a-b-c)`. */
  description: string;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

function identityOf(apiVersion: string, kind: string, namespace: string | undefined, name: string): ObjectIdentity {
  return `${groupOf(apiVersion)}/${kind}/${namespace ?? ''}/${name}`;
}

function label(kind: string, namespace: string | undefined, name: string): string {
  return `${kind} ${namespace === undefined ? '' : `${namespace}/`}${name}`;
}

/** Every identity `objects` claim: the objects, and the Secrets ExternalSecrets and Certificates create. */
export function claimsOf(objects: readonly KubeObject[]): Claim[] {
  const out: Claim[] = [];
  for (const o of objects) {
    const { name, namespace } = o.metadata;
    const own = label(o.kind, namespace, name);
    out.push({ identity: identityOf(o.apiVersion, o.kind, namespace, name), description: own });
    const spec = (o.spec ?? {}) as { target?: { name?: unknown }; secretName?: unknown };
    let secret: string | undefined;
    if (o.kind === 'ExternalSecret' && groupOf(o.apiVersion) === 'external-secrets.io') secret = typeof spec.target?.name === 'string' ? spec.target.name : name;
    if (o.kind === 'Certificate' && groupOf(o.apiVersion) === 'cert-manager.io' && typeof spec.secretName === 'string') secret = spec.secretName;
    if (secret !== undefined) out.push({ identity: identityOf('v1', 'Secret', namespace, secret), description: `${label('Secret', namespace, secret)} (created for ${own})` });
  }
  return out;
}

/** Identities claimed more than once within `objects`, each with the descriptions of its claimants. */
export function selfCollisions(objects: readonly KubeObject[]): Array<{ identity: ObjectIdentity; descriptions: string[] }> {
  const byIdentity = new Map<ObjectIdentity, string[]>();
  for (const c of claimsOf(objects)) byIdentity.set(c.identity, [...(byIdentity.get(c.identity) ?? []), c.description]);
  return [...byIdentity].filter(([, d]) => d.length > 1).map(([identity, descriptions]) => ({ identity, descriptions }));
}

/**
 * Who claims which identity, across every service of a fleet and the platform-level objects.
 * Keys are service keys (`namespace/name`) or the platform's pseudo-key.
 */
export class ClaimIndex {
  private readonly byIdentity = new Map<ObjectIdentity, Map<string, string>>();
  private readonly byKey = new Map<string, Claim[]>();

  /** Replaces the claims of `key`; returns the other keys that shared an identity with it before or after. */
  set(key: string, claims: readonly Claim[]): Set<string> {
    const touched = this.partners(key);
    for (const c of this.byKey.get(key) ?? []) {
      const holders = this.byIdentity.get(c.identity);
      holders?.delete(key);
      if (holders?.size === 0) this.byIdentity.delete(c.identity);
    }
    if (claims.length === 0) this.byKey.delete(key);
    else this.byKey.set(key, [...claims]);
    for (const c of claims) {
      let holders = this.byIdentity.get(c.identity);
      if (!holders) this.byIdentity.set(c.identity, (holders = new Map()));
      if (!holders.has(key)) holders.set(key, c.description);
    }
    for (const k of this.partners(key)) touched.add(k);
    return touched;
  }

  /** The other keys sharing at least one identity with `key`. */
  partners(key: string): Set<string> {
    const out = new Set<string>();
    for (const c of this.byKey.get(key) ?? []) for (const k of this.byIdentity.get(c.identity)?.keys() ?? []) if (k !== key) out.add(k);
    return out;
  }

  /** For each identity `key` shares: its own description and the other holders with theirs. */
  conflicts(key: string): Array<{ description: string; others: Array<{ key: string; description: string }> }> {
    const out: Array<{ description: string; others: Array<{ key: string; description: string }> }> = [];
    for (const c of this.byKey.get(key) ?? []) {
      const holders = this.byIdentity.get(c.identity);
      if (!holders || holders.size < 2) continue;
      out.push({ description: c.description, others: [...holders].filter(([k]) => k !== key).map(([k, description]) => ({ key: k, description })) });
    }
    return out;
  }
}
