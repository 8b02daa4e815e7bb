/**
 * The service graph: who may call whom, from the `resources` of type `service` every service declares.
 *
 * Traffic flows only with the consent of both sides (docs/mesh.md):
 * - the caller declares the callee outbound: `resources.<callee>: {type: service, direction: outbound}`
 *   (`outbound` is the default direction);
 * - the callee declares the caller inbound: `resources.<caller>: {type: service, direction: inbound}`,
 *   or accepts any caller with `resources.<any name>: {type: service, direction: inbound, id: "*"}`;
 * - `direction: both` is both declarations at once.
 *
 * Nodes are services by `namespace/name`. The other service of a resource is `id` (default: the
 * resource name) in `namespace` (default: the declaring service's namespace). An edge (caller, callee)
 * is *agreed* when both ends declare it; every other declaration is a one-sided edge, kept with what
 * is missing so both owners can be told.
 *
 * The graph is incremental: {@link ServiceGraph.set} re-indexes one service in time proportional to
 * its own declarations, and {@link ServiceGraph.neighbours} names the services whose derived policies
 * mention it, which are the only ones to re-derive when it changes (src/compiler/platform/fleet.ts).
 */
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';

/** The direction of a single declaration; `both` is split into one of each. */
export type DeclaredDirection = 'outbound' | 'inbound';

/**
 * The state of an edge (caller, callee):
 * - `agreed`: the caller declares it outbound and the callee declares it inbound (or accepts any caller);
 * - `inbound-missing`: the caller declares it, the callee does not accept it;
 * - `outbound-missing`: the callee accepts the caller, the caller does not declare it;
 * - `callee-missing`: the caller declares a callee that is not a (valid) service;
 * - `caller-missing`: the callee accepts a caller that is not a (valid) service.
 */
export type EdgeState = 'agreed' | 'inbound-missing' | 'outbound-missing' | 'callee-missing' | 'caller-missing';

/** One edge of the graph, from the caller to the callee. */
export interface Edge {
  /** `namespace/name` of the calling service. */
  caller: string;
  /** `namespace/name` of the called service. */
  callee: string;
  state: EdgeState;
  /** Name of the resource declaring the edge in the caller's `spec.workload.resources`, when it does. */
  callerResource?: string;
  /** Name of the resource accepting the caller in the callee's `spec.workload.resources`, when it does. */
  calleeResource?: string;
  /** True when the callee accepts the caller only through its wildcard (`id: "*"`). */
  wildcard?: boolean;
}

/** A wildcard inbound declaration: accept any caller (from `namespace` only, when set). */
export interface WildcardAcceptor {
  /** The resource name declaring it. */
  resource: string;
  /** When set, only callers in this namespace are accepted. */
  namespace?: string;
}

/** The edges around one service. */
export interface ServiceEdges {
  /** Edges where the service is the caller, sorted by callee. */
  outbound: Edge[];
  /** Edges where the service is the callee, sorted by caller. */
  inbound: Edge[];
}

/** One service-to-service declaration read from a service's resources. */
export interface Declaration {
  /** The resource name (key of `spec.workload.resources`). */
  resource: string;
  direction: DeclaredDirection;
  /** `namespace/name` of the other service, or `*` for any caller. */
  peer: string;
  /** For a wildcard: the namespace it is restricted to, when set. */
  namespace?: string;
}

/** `namespace/name` of a service. */
export function serviceKey(service: Pick<LatticeService, 'metadata'>): string {
  return `${service.metadata.namespace ?? 'default'}/${service.metadata.name}`;
}

/** Splits `namespace/name`. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * The service-to-service declarations of a service, in resource order. A resource of type
 * `service` without a direction is outbound; `both` yields one outbound and one inbound declaration.
 */
export function declarationsOf(service: LatticeService): Declaration[] {
  const namespace = service.metadata.namespace ?? 'default';
  const out: Declaration[] = [];
  for (const [resource, r] of Object.entries(service.spec.workload.resources ?? {})) {
    if (r.type !== 'service') continue;
    const direction = r.direction ?? 'outbound';
    if (r.id === '*') {
      const d: Declaration = { resource, direction: 'inbound', peer: '*' };
      if (r.namespace !== undefined) d.namespace = r.namespace;
      out.push(d);
      continue;
    }
    const peer = `${r.namespace ?? namespace}/${r.id ?? resource}`;
    if (direction === 'outbound' || direction === 'both') out.push({ resource, direction: 'outbound', peer });
    if (direction === 'inbound' || direction === 'both') out.push({ resource, direction: 'inbound', peer });
  }
  return out;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

const byCallee = (a: Edge, b: Edge): number => (a.callee < b.callee ? -1 : a.callee > b.callee ? 1 : 0);
const byCaller = (a: Edge, b: Edge): number => (a.caller < b.caller ? -1 : a.caller > b.caller ? 1 : 0);

/**
 * The service graph, kept incrementally. Services are added, replaced and removed one at a time;
 * every query reads indexes, so the cost of a change or of a service's edges is proportional to
 * the degree of the services involved, never to the size of the fleet.
 */
export class ServiceGraph {
  /** Known services: the parsed service, or null for one that exists but failed validation. */
  private readonly nodes = new Map<string, LatticeService | null>();
  /** caller -> callee -> resource, as declared by the caller. */
  private readonly outbound = new Map<string, Map<string, string>>();
  /** callee -> caller -> resource, as declared by the callee. */
  private readonly inbound = new Map<string, Map<string, string>>();
  /** callee -> its wildcard acceptor. */
  private readonly wildcards = new Map<string, WildcardAcceptor>();
  /** callee -> the callers declaring it outbound (reverse of `outbound`). */
  private readonly outboundBy = new Map<string, Set<string>>();
  /** caller -> the callees declaring it inbound (reverse of `inbound`). */
  private readonly inboundBy = new Map<string, Set<string>>();

  /** Builds a graph from `[key, service]` pairs; `null` marks a service that exists but is invalid. */
  static from(entries: Iterable<readonly [string, LatticeService | null]>): ServiceGraph {
    const graph = new ServiceGraph();
    for (const [key, service] of entries) graph.set(key, service);
    return graph;
  }

  /** Number of known services (valid or not). */
  get size(): number {
    return this.nodes.size;
  }

  /** True when `key` is a known service (valid or not). */
  has(key: string): boolean {
    return this.nodes.has(key);
  }

  /** True when `key` is known and valid, so its declarations count. */
  isValid(key: string): boolean {
    return this.nodes.get(key) != null;
  }

  /** True when `key` exists but failed validation: it declares nothing and gets no policies. */
  isInvalid(key: string): boolean {
    return this.nodes.has(key) && this.nodes.get(key) === null;
  }

  /** The service at `key`, when known and valid. */
  service(key: string): LatticeService | undefined {
    return this.nodes.get(key) ?? undefined;
  }

  /** Every known service key, in insertion order. */
  keys(): IterableIterator<string> {
    return this.nodes.keys();
  }

  /** The wildcard acceptor of `key`, if it declares one. */
  wildcardOf(key: string): WildcardAcceptor | undefined {
    return this.wildcards.get(key);
  }

  /**
   * Adds or replaces the service at `key`. `null` records a service that exists but failed
   * validation: its declarations are not read, and the others see it as not a valid peer.
   * The first declaration of a peer wins when a service names the same peer twice.
   */
  set(key: string, service: LatticeService | null): void {
    this.unindex(key);
    this.nodes.set(key, service);
    if (service === null) return;
    for (const d of declarationsOf(service)) {
      if (d.peer === '*') {
        if (!this.wildcards.has(key)) {
          const w: WildcardAcceptor = { resource: d.resource };
          if (d.namespace !== undefined) w.namespace = d.namespace;
          this.wildcards.set(key, w);
        }
        continue;
      }
      const [own, reverse] = d.direction === 'outbound' ? [this.outbound, this.outboundBy] : [this.inbound, this.inboundBy];
      let peers = own.get(key);
      if (!peers) own.set(key, (peers = new Map()));
      if (peers.has(d.peer)) continue;
      peers.set(d.peer, d.resource);
      addTo(reverse, d.peer, key);
    }
  }

  /** Removes the service at `key`. Declarations of other services naming it stay: they become one-sided. */
  delete(key: string): void {
    this.unindex(key);
    this.nodes.delete(key);
  }

  private unindex(key: string): void {
    for (const peer of this.outbound.get(key)?.keys() ?? []) removeFrom(this.outboundBy, peer, key);
    for (const peer of this.inbound.get(key)?.keys() ?? []) removeFrom(this.inboundBy, peer, key);
    this.outbound.delete(key);
    this.inbound.delete(key);
    this.wildcards.delete(key);
  }

  /**
   * The services whose derivation depends on `key`: those it declares (either direction) and those
   * declaring it (either direction, including through their wildcard, since a wildcard acceptor is
   * only reached by callers that declare it outbound). These are the services to re-derive, besides
   * `key` itself, when `key` is added, changed or removed; for a change, take the union of the
   * neighbours before and after it.
   */
  neighbours(key: string): Set<string> {
    const out = new Set<string>();
    for (const peer of this.outbound.get(key)?.keys() ?? []) out.add(peer);
    for (const peer of this.inbound.get(key)?.keys() ?? []) out.add(peer);
    for (const peer of this.outboundBy.get(key) ?? []) out.add(peer);
    for (const peer of this.inboundBy.get(key) ?? []) out.add(peer);
    out.delete(key);
    return out;
  }

  /** True when `callee` accepts `caller`, by name or through its wildcard. */
  private accepts(callee: string, caller: string): { resource: string; wildcard: boolean } | undefined {
    const named = this.inbound.get(callee)?.get(caller);
    if (named !== undefined) return { resource: named, wildcard: false };
    const w = this.wildcards.get(callee);
    if (w && (w.namespace === undefined || w.namespace === splitKey(caller).namespace)) return { resource: w.resource, wildcard: true };
    return undefined;
  }

  /** The edge (caller, callee) as the caller sees it, given that the caller declares it. */
  private declaredEdge(caller: string, callee: string, callerResource: string): Edge {
    const edge: Edge = { caller, callee, state: 'agreed', callerResource };
    if (!this.isValid(callee)) {
      edge.state = 'callee-missing';
      return edge;
    }
    const accepted = this.accepts(callee, caller);
    if (!accepted) {
      edge.state = 'inbound-missing';
      return edge;
    }
    edge.calleeResource = accepted.resource;
    if (accepted.wildcard) edge.wildcard = true;
    return edge;
  }

  /**
   * Every edge touching `key`, agreed or not. For a service that is not valid, only the edges
   * other services declare towards it are returned.
   */
  edgesOf(key: string): ServiceEdges {
    const outbound: Edge[] = [];
    const inbound: Edge[] = [];
    const declaredOut = this.outbound.get(key);
    // Edges this service calls: declared by it, or only accepted by the callee.
    for (const [callee, resource] of declaredOut ?? []) outbound.push(this.declaredEdge(key, callee, resource));
    for (const callee of this.inboundBy.get(key) ?? []) {
      if (declaredOut?.has(callee)) continue;
      outbound.push({ caller: key, callee, state: 'outbound-missing', calleeResource: this.inbound.get(callee)!.get(key)! });
    }
    // Edges calling this service: declared by the callers, or only accepted here.
    for (const caller of this.outboundBy.get(key) ?? []) {
      if (!this.isValid(caller)) continue;
      inbound.push(this.declaredEdge(caller, key, this.outbound.get(caller)!.get(key)!));
    }
    for (const [caller, resource] of this.inbound.get(key) ?? []) {
      if (this.outbound.get(caller)?.has(key)) continue;
      inbound.push({ caller, callee: key, state: this.isValid(caller) ? 'outbound-missing' : 'caller-missing', calleeResource: resource });
    }
    return { outbound: outbound.sort(byCallee), inbound: inbound.sort(byCaller) };
  }

  /**
   * Every edge of the graph once, sorted by caller then callee: the outbound edges of every valid
   * service, plus the inbound declarations naming callers that are not valid services.
   */
  edges(): Edge[] {
    const all: Edge[] = [];
    for (const key of this.nodes.keys()) {
      if (!this.isValid(key)) continue;
      const { outbound, inbound } = this.edgesOf(key);
      all.push(...outbound, ...inbound.filter((e) => e.state === 'caller-missing'));
    }
    return all.sort((a, b) => byCaller(a, b) || byCallee(a, b));
  }
}
