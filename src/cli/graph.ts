/**
 * `lattice graph PATH...`: the service graph of a folder of YAML, as Mermaid (default), Graphviz DOT
 * or JSON (`-o mermaid|dot|json`). Agreed edges are solid; one-sided edges are dashed and labelled
 * with what is missing; services that are named but not found are drawn dashed; external services
 * are drawn as their own nodes. Offline and derivation-free: it only reads the declarations.
 *
 * The command itself is declared in `main.ts` (so `--help` does not load this module).
 *
 * Exit status: 0 the graph was drawn (one-sided edges are not a failure; `lattice render` reports
 * them in each service's status), 2 bad invocation or unreadable input.
 */
import { workloadView } from '../compiler/kinds.ts';
import { classify } from '../compiler/platform/snapshot.ts';
import { documentKey } from '../compiler/platform/fleet.ts';
import { ServiceGraph, splitKey, type EdgeState } from '../compiler/mesh/graph.ts';
import { externalEndpoints } from '../compiler/mesh/mesh.ts';
import type { ServiceInput } from '../compiler/types.ts';
import { loadForCommand } from './load.ts';
import { EXIT, type Streams } from './render.ts';

/** A node of the drawn graph. */
export interface GraphNode {
  /** `namespace/name` for services; `external:<namespace/name>/<resource>/<host>:<port>` for external endpoints. */
  id: string;
  kind: 'service' | 'external';
  /** service: `valid`, `invalid` (fails validation) or `missing` (named but not among the inputs); external: `external`. */
  status: 'valid' | 'invalid' | 'missing' | 'external';
  namespace: string;
  /** Service name, or `host:port` of an external endpoint. */
  label: string;
}

/** An edge of the drawn graph, from caller to callee. */
export interface GraphEdge {
  from: string;
  to: string;
  /** The state of a service edge (see src/compiler/mesh/graph.ts), or `external` for a call to an external service. */
  state: EdgeState | 'external';
  /** True when traffic is allowed: an agreed edge or a declared external service. */
  allowed: boolean;
  /** What is missing, in words, for an edge that is not allowed. */
  missing?: string;
  /** True when the callee accepts the caller only through its wildcard (`id: "*"`). */
  wildcard?: boolean;
}

/** The graph as drawn: nodes sorted by namespace and name (externals last), edges by caller then callee. */
export interface GraphView {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The service graph of a set of documents: every workload of every kind (the first of a duplicated name), valid or not. */
export function graphOfDocuments(documents: readonly ServiceInput[]): ServiceGraph {
  const graph = new ServiceGraph();
  for (const doc of classify([...documents]).services) {
    const key = documentKey(doc.object);
    if (graph.has(key)) continue;
    // Every workload kind (src/compiler/kinds.ts): a mesh member or a package is a node like a service.
    graph.set(key, workloadView(doc.object) ?? null);
  }
  return graph;
}

function missingText(state: EdgeState, caller: string, callee: string, graph: ServiceGraph): string | undefined {
  const absent = (key: string): string => `${key} ${graph.isInvalid(key) ? 'fails validation' : 'not found'}`;
  switch (state) {
    case 'agreed':
      return undefined;
    case 'inbound-missing':
      return `inbound not declared by ${callee}`;
    case 'outbound-missing':
      return `outbound not declared by ${caller}`;
    case 'callee-missing':
      return absent(callee);
    case 'caller-missing':
      return absent(caller);
  }
}

/** Builds the drawable view of a graph: its services, the services they name, their external endpoints and every edge. */
export function graphView(graph: ServiceGraph): GraphView {
  const nodes = new Map<string, GraphNode>();
  const serviceNode = (key: string): void => {
    if (nodes.has(key)) return;
    const { namespace, name } = splitKey(key);
    const status = graph.isValid(key) ? 'valid' : graph.isInvalid(key) ? 'invalid' : 'missing';
    nodes.set(key, { id: key, kind: 'service', status, namespace, label: name });
  };
  for (const key of graph.keys()) serviceNode(key);
  const edges: GraphEdge[] = [];
  for (const e of graph.edges()) {
    serviceNode(e.caller);
    serviceNode(e.callee);
    const edge: GraphEdge = { from: e.caller, to: e.callee, state: e.state, allowed: e.state === 'agreed' };
    const missing = missingText(e.state, e.caller, e.callee, graph);
    if (missing !== undefined) edge.missing = missing;
    if (e.wildcard) edge.wildcard = true;
    edges.push(edge);
  }
  const externals: GraphNode[] = [];
  for (const key of [...graph.keys()].sort()) {
    const service = graph.service(key);
    if (!service) continue;
    const seen = new Set<string>();
    for (const ep of externalEndpoints(service)) {
      const label = `${ep.ip && ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;
      const id = `external:${key}/${ep.resource}/${label}`;
      if (seen.has(id)) continue;
      seen.add(id);
      externals.push({ id, kind: 'external', status: 'external', namespace: splitKey(key).namespace, label });
      edges.push({ from: key, to: id, state: 'external', allowed: true });
    }
  }
  const services = [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { nodes: [...services, ...externals], edges };
}

function mermaidText(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}

/**
 * Mermaid flowchart (mermaid.js.org, "Flowcharts"): one subgraph per namespace, solid arrows for
 * allowed calls, dotted arrows labelled with what is missing for the others.
 */
export function toMermaid(view: GraphView): string {
  const ids = new Map<string, string>();
  view.nodes.forEach((n, i) => ids.set(n.id, `${n.kind === 'service' ? 's' : 'x'}${i}`));
  const lines = ['flowchart LR'];
  const namespaces = [...new Set(view.nodes.map((n) => n.namespace))].sort();
  namespaces.forEach((ns, i) => {
    lines.push(`  subgraph ns${i}[${mermaidText(ns)}]`);
    for (const n of view.nodes.filter((x) => x.namespace === ns)) {
      const id = ids.get(n.id)!;
      if (n.kind === 'external') lines.push(`    ${id}{{${mermaidText(n.label)}}}`);
      else if (n.status === 'valid') lines.push(`    ${id}[${mermaidText(n.label)}]`);
      else lines.push(`    ${id}[${mermaidText(`${n.label} (${n.status === 'invalid' ? 'invalid' : 'not found'})`)}]:::missing`);
    }
    lines.push('  end');
  });
  for (const e of view.edges) {
    const from = ids.get(e.from)!;
    const to = ids.get(e.to)!;
    if (e.allowed) lines.push(e.wildcard ? `  ${from} -->|${mermaidText('via wildcard')}| ${to}` : `  ${from} --> ${to}`);
    else lines.push(`  ${from} -.->|${mermaidText(e.missing ?? e.state)}| ${to}`);
  }
  lines.push('  classDef missing stroke-dasharray: 5 5');
  return lines.join('\n') + '\n';
}

function dotText(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Graphviz DOT (graphviz.org, "DOT Language"): one cluster per namespace, dashed labelled edges for what is not allowed. */
export function toDot(view: GraphView): string {
  const lines = ['digraph lattice {', '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  const namespaces = [...new Set(view.nodes.map((n) => n.namespace))].sort();
  for (const ns of namespaces) {
    lines.push(`  subgraph ${dotText(`cluster_${ns}`)} {`, `    label=${dotText(ns)};`);
    for (const n of view.nodes.filter((x) => x.namespace === ns)) {
      if (n.kind === 'external') lines.push(`    ${dotText(n.id)} [label=${dotText(n.label)}, shape=hexagon, style=solid];`);
      else if (n.status === 'valid') lines.push(`    ${dotText(n.id)} [label=${dotText(n.label)}];`);
      else lines.push(`    ${dotText(n.id)} [label=${dotText(`${n.label} (${n.status === 'invalid' ? 'invalid' : 'not found'})`)}, style="rounded,dashed"];`);
    }
    lines.push('  }');
  }
  for (const e of view.edges) {
    const attrs = e.allowed ? (e.wildcard ? ` [label=${dotText('via wildcard')}]` : '') : ` [style=dashed, label=${dotText(e.missing ?? e.state)}]`;
    lines.push(`  ${dotText(e.from)} -> ${dotText(e.to)}${attrs};`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** The view as indented JSON. */
export function toJson(view: GraphView): string {
  return JSON.stringify(view, null, 2) + '\n';
}

/** Runs `lattice graph`; returns the exit status. */
export function graphCommand(paths: string[], output: 'mermaid' | 'dot' | 'json', io: Streams): number {
  const loaded = loadForCommand(paths, io);
  if (!loaded) return EXIT.usage;
  const view = graphView(graphOfDocuments(loaded.documents));
  io.stdout(output === 'dot' ? toDot(view) : output === 'json' ? toJson(view) : toMermaid(view));
  const services = view.edges.filter((e) => e.state !== 'external');
  const agreed = services.filter((e) => e.allowed).length;
  const external = view.edges.length - services.length;
  io.stderr(`${view.nodes.filter((n) => n.kind === 'service' && n.status === 'valid').length} services; ${agreed} agreed edge${agreed === 1 ? '' : 's'}, ` +
    `${services.length - agreed} not agreed (dashed); ${external} external endpoint${external === 1 ? '' : 's'}.\n`);
  return loaded.errors.length > 0 ? EXIT.usage : EXIT.ok;
}
