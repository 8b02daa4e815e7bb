/**
 * Fleet benchmark: renders a synthetic fleet the way `lattice render` does and measures it.
 *
 * The fleet is generated from a seed (same flags, same fleet): `--services` services (default 5,000)
 * spread over `--namespaces` namespaces (default 50), each calling about `--dependencies` others
 * (default 4; 80% in its own namespace), with `--secrets` secrets (default 2) used in variables,
 * `--ports` ports (default 2), and one external service on every tenth service. A share `--agreed`
 * (default 0.9) of the edges is declared by both sides; the rest is one-sided, half missing the
 * callee's inbound declaration and half missing the caller's outbound one.
 *
 * Reported, all measured in one run:
 * - full render: parse the YAML input, derive the platform (derivePlatform), serialise every output
 *   object to YAML (src/cli/output.ts toYamlStream), and the time of each phase;
 * - time per service (full render / services);
 * - serialisation alone of the same output objects (the floor), and the ratio render / serialise;
 * - peak memory: the process's maximum resident set size (process.resourceUsage().maxRSS);
 * - incremental re-derivation: `--changes` (default 20) single-service edits applied to the fleet
 *   through Fleet.upsert (src/compiler/platform/fleet.ts), each adding a dependency and changing replicas:
 *   median and maximum time, and how many services each edit re-derived.
 * Targets (on the 2-core reference machine): full render under 10 s, peak RSS under 1 GiB,
 * incremental re-derivation under 50 ms. The benchmark reports them; it never fails on timing.
 */
import { parseArgs } from 'node:util';
import { parseYamlDocuments } from '../src/api/source.ts';
import { derivePlatform, type PlatformDocument } from '../src/compiler/platform/snapshot.ts';
import { outputObjects } from '../src/cli/render.ts';
import { toYamlStream } from '../src/cli/output.ts';

/** The shape of a generated fleet. */
export interface FleetShape {
  services: number;
  namespaces: number;
  /** Outbound dependencies per service. */
  dependencies: number;
  secrets: number;
  ports: number;
  /** Share of edges declared by both sides, 0 to 1. */
  agreed: number;
  seed: number;
}

/** The default shape: 5,000 services over 50 namespaces. */
export const DEFAULT_SHAPE: FleetShape = { services: 5000, namespaces: 50, dependencies: 4, secrets: 2, ports: 2, agreed: 0.9, seed: 42 };

/** A generated fleet: its documents and, independently of the compiler, which edges it agrees on. */
export interface GeneratedFleet {
  /** The platform documents (LatticePlatform, SecretProvider, CedarPolicy) then the LatticeServices. */
  objects: Record<string, unknown>[];
  /** Platform context: a Namespace per namespace (team and environment labels) and one LatticeQuota over every service. */
  context: Record<string, unknown>[];
  /** `caller>callee` keys (`namespace/name`) of edges both sides declare. */
  agreed: Set<string>;
  /** Edges only the caller declares. */
  inboundMissing: Set<string>;
  /** Edges only the callee declares. */
  outboundMissing: Set<string>;
}

/** mulberry32: a small, fast, seeded 32-bit PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Documents before the services in GeneratedFleet.objects. */
export const PLATFORM_DOCUMENTS = 3;

const OUT = 1;
const IN = 2;

/** Generates a fleet of the given shape. Deterministic: the same shape gives the same fleet. */
export function generateFleet(shape: FleetShape): GeneratedFleet {
  const random = prng(shape.seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const namespaceOf = (i: number): string => `team-${String(i % shape.namespaces).padStart(2, '0')}`;
  const nameOf = (i: number): string => `svc-${i}`;
  const keyOf = (i: number): string => `${namespaceOf(i)}/${nameOf(i)}`;
  const byNamespace = new Map<string, number[]>();
  for (let i = 0; i < shape.services; i++) {
    const list = byNamespace.get(namespaceOf(i)) ?? [];
    list.push(i);
    byNamespace.set(namespaceOf(i), list);
  }

  // Declarations: service -> peer -> OUT | IN bits, in the order first declared.
  const declared = Array.from({ length: shape.services }, () => new Map<number, number>());
  const agreed = new Set<string>();
  const inboundMissing = new Set<string>();
  const outboundMissing = new Set<string>();
  const edges = new Set<string>();
  for (let a = 0; a < shape.services; a++) {
    const wanted = Math.min(shape.dependencies, shape.services - 1);
    for (let tries = 0, made = 0; made < wanted && tries < wanted * 20; tries++) {
      const local = byNamespace.get(namespaceOf(a))!;
      const b = random() < 0.8 && local.length > 1 ? local[pick(local.length)]! : pick(shape.services);
      if (b === a || edges.has(`${a}>${b}`)) continue;
      edges.add(`${a}>${b}`);
      made++;
      const r = random();
      const pair = `${keyOf(a)}>${keyOf(b)}`;
      if (r < shape.agreed) {
        declared[a]!.set(b, (declared[a]!.get(b) ?? 0) | OUT);
        declared[b]!.set(a, (declared[b]!.get(a) ?? 0) | IN);
        agreed.add(pair);
      } else if (r < shape.agreed + (1 - shape.agreed) / 2) {
        declared[a]!.set(b, (declared[a]!.get(b) ?? 0) | OUT);
        inboundMissing.add(pair);
      } else {
        declared[b]!.set(a, (declared[b]!.get(a) ?? 0) | IN);
        outboundMissing.add(pair);
      }
    }
  }

  const objects: Record<string, unknown>[] = [
    { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { platformContact: 'the platform team' } },
    {
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'SecretProvider',
      metadata: { name: 'vault', namespace: 'lattice-system' },
      spec: { default: true, provider: { vault: { server: 'https://vault.example.com', path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault-token', key: 'token', namespace: 'external-secrets' } } } } },
    },
    {
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'CedarPolicy',
      metadata: { name: 'fleet', namespace: 'lattice-system' },
      spec: { description: 'The fleet: secrets by namespace and team, the organisation registry, partners by team, a security baseline.', policies: fleetPolicies(TEAMS) },
    },
  ];
  // Platform context, kept apart from `objects` so that PLATFORM_DOCUMENTS stays the number of
  // platform documents before the services: each namespace's Namespace object (team and
  // environment labels, read by the policies) and one LatticeQuota covering every service.
  const context: Record<string, unknown>[] = [];
  for (let n = 0; n < shape.namespaces; n++) {
    context.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespaceOf(n), labels: { 'lattice.dev/team': teamOf(n), 'lattice.dev/environment': n % 5 === 4 ? 'staging' : 'production' } },
    });
  }
  context.push({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeQuota',
    metadata: { name: 'fleet', namespace: 'lattice-system' },
    // Every service asks for 2 replicas × (100m CPU, 128Mi): the limits leave room for all.
    spec: { selector: {}, hard: { cpu: String(shape.services), memory: `${shape.services}Gi`, pods: shape.services * 4 } },
  });
  for (let i = 0; i < shape.services; i++) {
    const namespace = namespaceOf(i);
    const resources: Record<string, unknown> = {};
    const variables: Record<string, string> = { SERVICE: '${metadata.name}' };
    for (const [peer, bits] of declared[i]!) {
      const direction = bits === (OUT | IN) ? 'both' : bits === OUT ? 'outbound' : 'inbound';
      const sameNamespace = namespaceOf(peer) === namespace;
      const resource = sameNamespace ? nameOf(peer) : `${namespaceOf(peer)}-${nameOf(peer)}`;
      resources[resource] = sameNamespace ? { type: 'service', direction } : { type: 'service', direction, id: nameOf(peer), namespace: namespaceOf(peer) };
      if (bits & OUT) variables[`${resource.toUpperCase().replace(/-/g, '_')}_URL`] = `\${resources.${resource}.url}`;
    }
    for (let s = 0; s < shape.secrets; s++) {
      resources[`secret-${s}`] = { type: 'secret', params: { keys: ['value'] } };
      variables[`SECRET_${s}`] = `\${resources.secret-${s}.value}`;
    }
    if (i % 10 === 0) resources.partner = { type: 'external-service', params: { endpoints: [`https://api-${i}.partner.example.com`] } };
    const ports: Record<string, unknown> = {};
    for (let p = 0; p < shape.ports; p++) ports[p === 0 ? 'http' : p === 1 ? 'metrics' : `port-${p}`] = p === 0 ? { port: 80, targetPort: 8080 } : { port: 9000 + p };
    const digest = (BigInt(i) * 0x9e3779b97f4a7c15n).toString(16).padStart(64, '0').slice(-64);
    objects.push({
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'LatticeService',
      metadata: { name: nameOf(i), namespace },
      spec: {
        replicas: 2,
        workload: {
          containers: {
            app: {
              image: `registry.example.com/${nameOf(i)}@sha256:${digest}`,
              variables,
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
            },
          },
          ...(shape.ports > 0 ? { service: { ports } } : {}),
          resources,
        },
      },
    });
  }
  return { objects, context, agreed, inboundMissing, outboundMissing };
}

/** Number of teams the generated namespaces belong to (label lattice.dev/team: squad-N). */
export const TEAMS = 10;

/** The team of the namespace at index `n`: namespaces team-00, team-10, team-20... belong to squad-0. */
function teamOf(n: number): string {
  return `squad-${n % TEAMS}`;
}

/**
 * A realistic policy set for the generated fleet: secrets of the service's own namespace or team,
 * images only from the organisation registry and pinned, HTTPS partners per team (one policy per
 * team, conditioned on the service's team) and for everyone on the standard port, a frozen
 * namespace, and a security baseline. Every generated service is permitted everything it asks for.
 */
export function fleetPolicies(teams: number): string {
  const A = (name: string): string => `Lattice::Action::"${name}"`;
  const policies = [
    `@id("own-namespace")\npermit (principal, action == ${A('AccessSecret')}, resource)\nwhen { resource has namespace && resource.namespace == principal.namespace };`,
    `@id("same-team")\npermit (principal, action == ${A('AccessSecret')}, resource)\nwhen { principal has team && resource has team && principal.team == resource.team };`,
    `@id("org-registry")\npermit (principal, action == ${A('DeployImage')}, resource)\nwhen { resource.registry == "registry.example.com" && resource has digest };`,
    `@id("other-registries")\nforbid (principal, action == ${A('DeployImage')}, resource)\nunless { resource.registry == "registry.example.com" };`,
    `@id("https-standard-port")\npermit (principal, action == ${A('AccessExternalEndpoint')}, resource)\nwhen { resource.scheme == "https" && resource.port == 443 };`,
    `@id("no-plain-http")\nforbid (principal, action == ${A('AccessExternalEndpoint')}, resource)\nwhen { resource.scheme == "http" && principal has team && principal.team != "squad-0" };`,
    `@id("frozen")\nforbid (principal in Lattice::Namespace::"frozen", action, resource);`,
    `@id("bind-low-ports")\npermit (principal, action == ${A('OverrideSecurity')}, resource == Lattice::SecurityOverride::"capability:NET_BIND_SERVICE");`,
    `@id("no-privileged")\nforbid (principal, action == ${A('OverrideSecurity')}, resource)\nwhen { resource.kind == "privileged" || resource.kind == "hostNetwork" };`,
  ];
  for (let t = 0; t < teams; t++) {
    policies.push(`@id("squad-${t}-partners")\npermit (principal, action == ${A('AccessExternalEndpoint')}, resource)\nwhen { principal has team && principal.team == "squad-${t}" && resource.host like "api-*.partner.example.com" };`);
  }
  return policies.join('\n\n') + '\n';
}

/** What one benchmark run measured. Times in milliseconds, memory in bytes. */
export interface FleetReport {
  shape: FleetShape;
  services: number;
  outputObjects: number;
  outputBytes: number;
  parseMs: number;
  deriveMs: number;
  serializeInRenderMs: number;
  renderMs: number;
  perServiceMs: number;
  serializeOnlyMs: number;
  renderToSerialize: number;
  peakRssBytes: number;
  incremental: { changes: number; medianMs: number; maxMs: number; rederivedMedian: number; rederivedMax: number };
  ready: number;
}

const now = (): number => performance.now();

/** Generates the fleet, renders it, applies single-service changes and measures everything. */
export function measureFleet(shape: FleetShape, changes: number): FleetReport {
  // The generated objects are dropped once written out: the render starts from the YAML text, as `lattice render` does.
  const text = toYamlStream(generateFleet(shape).objects);

  const t0 = now();
  const { documents, errors } = parseYamlDocuments(text, 'fleet.yaml');
  if (errors.length > 0) throw new Error(`generated YAML does not parse: ${errors[0]!.message}`);
  const inputs: PlatformDocument[] = documents.map((d) => ({ object: d.object, locate: d.locate }));
  const t1 = now();
  const result = derivePlatform(inputs, { now: '2026-01-01T00:00:00Z' });
  const t2 = now();

  // Single-service edits through the incremental API, before serialising (the render's result array
  // is a snapshot: later edits replace the fleet's results, they do not change these objects).
  // Measured right after the derivation: on Node 20 a Cedar authorization after a major garbage
  // collection can crash V8 (see the lead's report), and the serialisation below collects a lot.
  const fleet = result.fleet;
  if (!fleet) throw new Error('derivePlatform returned no fleet');
  const random = prng(shape.seed + 1);
  const times: number[] = [];
  const counts: number[] = [];
  for (let c = 0; c < changes; c++) {
    const original = inputs[PLATFORM_DOCUMENTS + Math.floor(random() * shape.services)]!;
    const changed = structuredClone(original.object) as { spec: { replicas: number; workload: { resources: Record<string, unknown> } } };
    const peer = (inputs[PLATFORM_DOCUMENTS + Math.floor(random() * shape.services)]!.object as { metadata: { name: string; namespace: string } }).metadata;
    changed.spec.replicas += 1;
    changed.spec.workload.resources[`bench-${c}`] = { type: 'service', id: peer.name, namespace: peer.namespace };
    const s = now();
    const change = fleet.upsert({ object: changed });
    times.push(now() - s);
    counts.push(change.rederived.length);
  }

  const t3start = now();
  const objects = outputObjects(result);
  let yaml: string | undefined = toYamlStream(objects);
  const t3 = now();
  const outputBytes = Buffer.byteLength(yaml);
  yaml = undefined; // written out by the CLI; not kept while serialising again
  const t4start = now();
  const serializeOnly = toYamlStream(objects);
  const t4 = now();
  if (Buffer.byteLength(serializeOnly) !== outputBytes) throw new Error('serialisation is not deterministic');
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]): number => (xs.length === 0 ? 0 : sorted(xs)[Math.floor(xs.length / 2)]!);

  return {
    shape,
    services: result.services.length,
    outputObjects: objects.length,
    outputBytes,
    parseMs: t1 - t0,
    deriveMs: t2 - t1,
    serializeInRenderMs: t3 - t3start,
    renderMs: t2 - t0 + (t3 - t3start),
    perServiceMs: (t2 - t0 + (t3 - t3start)) / Math.max(1, result.services.length),
    serializeOnlyMs: t4 - t4start,
    renderToSerialize: (t2 - t0 + (t3 - t3start)) / (t4 - t4start),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    incremental: { changes, medianMs: median(times), maxMs: Math.max(0, ...times), rederivedMedian: median(counts), rederivedMax: Math.max(0, ...counts) },
    ready: result.services.filter((s) => s.status.phase === 'Ready').length,
  };
}

const TARGETS = { renderMs: 10_000, peakRssBytes: 1024 ** 3, incrementalMs: 50 };

function verdict(ok: boolean): string {
  return ok ? 'within target' : 'OVER TARGET';
}

/** The report as text. */
export function formatReport(r: FleetReport): string {
  const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
  const mib = (n: number): string => `${(n / 1024 ** 2).toFixed(0)} MiB`;
  const s = r.shape;
  return [
    `fleet: ${r.services} services in ${s.namespaces} namespaces, ${s.dependencies} dependencies, ${s.secrets} secrets and ${s.ports} ports each, ${Math.round(s.agreed * 100)}% of edges agreed (seed ${s.seed}); ${r.ready} Ready`,
    `  output:               ${r.outputObjects} objects, ${mib(r.outputBytes)} of YAML`,
    `  full render:          ${ms(r.renderMs)}  (parse ${ms(r.parseMs)}, derive ${ms(r.deriveMs)}, serialise ${ms(r.serializeInRenderMs)})  [target < 10 s: ${verdict(r.renderMs < TARGETS.renderMs)}]`,
    `  per service:          ${ms(r.perServiceMs)}`,
    `  serialise only:       ${ms(r.serializeOnlyMs)}  (the floor: toYamlStream of the same objects)`,
    `  render / serialise:   ${r.renderToSerialize.toFixed(2)}`,
    `  peak RSS:             ${mib(r.peakRssBytes)}  [target < 1 GiB: ${verdict(r.peakRssBytes < TARGETS.peakRssBytes)}]`,
    `  incremental change:   median ${ms(r.incremental.medianMs)}, max ${ms(r.incremental.maxMs)} over ${r.incremental.changes} edits; ` +
      `re-derived ${r.incremental.rederivedMedian} services (max ${r.incremental.rederivedMax})  [target < 50 ms: ${verdict(r.incremental.maxMs < TARGETS.incrementalMs)}]`,
  ].join('\n');
}

/** Parses the benchmark flags (`--services 500 --namespaces 10 ...`). */
export function parseFleetArgs(args: string[]): { shape: FleetShape; changes: number; json: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      services: { type: 'string' },
      namespaces: { type: 'string' },
      dependencies: { type: 'string' },
      secrets: { type: 'string' },
      ports: { type: 'string' },
      agreed: { type: 'string' },
      seed: { type: 'string' },
      changes: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: false,
    allowPositionals: true,
  });
  const num = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = values[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, not ${String(v)}`);
    return n;
  };
  const shape: FleetShape = {
    services: Math.floor(num('services', DEFAULT_SHAPE.services, 2)),
    namespaces: Math.floor(num('namespaces', DEFAULT_SHAPE.namespaces, 1)),
    dependencies: Math.floor(num('dependencies', DEFAULT_SHAPE.dependencies, 0)),
    secrets: Math.floor(num('secrets', DEFAULT_SHAPE.secrets, 0)),
    ports: Math.floor(num('ports', DEFAULT_SHAPE.ports, 0, 10)),
    agreed: num('agreed', DEFAULT_SHAPE.agreed, 0, 1),
    seed: Math.floor(num('seed', DEFAULT_SHAPE.seed, 0)),
  };
  return { shape, changes: Math.floor(num('changes', 20, 0)), json: values.json === true };
}

/** Entry point for bench/run.ts. */
export function run(args: string[], print: (text: string) => void = console.log): FleetReport {
  const { shape, changes, json } = parseFleetArgs(args);
  const report = measureFleet(shape, changes);
  print(json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report;
}
