/**
 * `lattice render PATH...`: derive everything from YAML files, with no cluster.
 *
 * stdout: the derived objects (platform-level first, then each service's in apply order), then the
 * input LatticeServices with their computed `.status`; as multi-document YAML, a JSON `List`
 * (`-o json`), or one file per object under `--out-dir DIR/<namespace>/<service>/`.
 * stderr: a short summary. Exit status: 0 all Ready, 1 any service or platform resource failed,
 * 2 bad invocation or unparseable input.
 */
import { isDeprecatedServiceVersion } from '../api/latticeservice/index.ts';
import { SERVICE_V1ALPHA1_WARNING } from '../api/constants.ts';
import type { SourceLocation } from '../api/source.ts';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { derivePlatform, snapshotPlatform, type PlatformResult } from '../compiler/platform/snapshot.ts';
import { describe } from '../compiler/status.ts';
import { quotaUsageTable } from '../compiler/platform/quota.ts';
import { WORKLOAD_KINDS } from '../compiler/kinds.ts';
import type { KubeObject } from '../compiler/types.ts';
import { LABELS } from '../compiler/naming.ts';
import { nearestName } from '../api/names.ts';
import { loadForCommand, type LoadResult, type Streams } from './load.ts';
import { verifyImages } from './images.ts';
import { table, toYaml, writeJsonList, writeYamlStream } from './output.ts';
import { timingsFromEnv, type PhaseTimings } from './timings.ts';

import { EXIT } from './exit.ts';

/** Exit statuses of the commands (defined in `exit.ts`). */
export { EXIT };

/** Output formats of `lattice render`: documents (`yaml`, `json`), one `kind.group/name` per line (`name`, as kubectl), or a table (`wide`). */
export type RenderFormat = 'yaml' | 'json' | 'name' | 'wide';

/** Options of `lattice render`. */
export interface RenderOptions {
  output: RenderFormat;
  outDir?: string;
  /** RFC 3339 time for condition transitions; default {@link renderTime}. */
  now?: string;
  /** Resolve image tags to digests (network), when the platform allows tags. */
  resolveDigests?: boolean;
  /** Print only the objects of services in this namespace (every service is still derived: the graph needs them). */
  namespace?: string;
  /** Print only the objects of this service (`name`, or `namespace/name`). */
  service?: string;
  /** Print no objects, only the summary: validate in CI. */
  check?: boolean;
  /** No summary on stderr unless something failed. */
  quiet?: boolean;
}

export type { Streams };

/**
 * The time stamped on condition transitions in an offline render: `SOURCE_DATE_EPOCH` (seconds, the
 * reproducible-builds convention, reproducible-builds.org/specs/source-date-epoch/) when set, else
 * the Unix epoch. A render is a pure function of its input, so two renders of one tree are
 * byte-identical and `lattice diff` never shows timestamps churning; the status of a render is
 * informational (the controller writes the real one, with the clock).
 */
export function renderTime(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  const seconds = epoch && /^[0-9]+$/.test(epoch) ? Number(epoch) : 0;
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** The input service with its computed status, as written back. */
export function withStatus(object: unknown, status: unknown): Record<string, unknown> {
  const { status: _old, ...rest } = object as Record<string, unknown>;
  return { ...rest, status };
}

/** Every output object in order: platform objects, the namespace factory's (teams), each service's derived objects, then the services with status. */
export function outputObjects(result: PlatformResult): unknown[] {
  return [...eachOutputObject(result)];
}

/** The objects of {@link outputObjects}, one at a time (the services with status are built as they are written). */
export function* eachOutputObject(result: PlatformResult): Generator<unknown> {
  yield* result.platformObjects;
  yield* result.teamObjects;
  for (const s of result.services) yield* s.objects;
  for (const s of result.services) yield withStatus(s.object, s.status);
}

/**
 * Loads the YAML under `paths`, classifies and validates it once (a PlatformSnapshot that image
 * verification and derivation share), verifies the images (offline bundles, or the registry with
 * `resolveDigests`) and derives the platform: the work every command that renders shares. Undefined
 * (after saying why on stderr) when no YAML file was found. `timings` (LATTICE_TIMINGS=1, see
 * src/cli/timings.ts) records load, classify, images, context, and authorize/derive split out of it.
 */
export async function renderPaths(
  paths: string[],
  options: Pick<RenderOptions, 'now' | 'resolveDigests'>,
  io: Streams,
  timings: PhaseTimings = timingsFromEnv({}),
): Promise<{ loaded: LoadResult; result: PlatformResult } | undefined> {
  io.progress?.('Reading YAML…');
  const loaded = loadForCommand(paths, { ...io, stderr: (t) => (io.progress?.(''), io.stderr(t)) });
  if (!loaded) return undefined;
  timings.mark('load');
  const snapshot = snapshotPlatform(loaded.documents);
  timings.mark('classify');
  io.progress?.(`Verifying images of ${loaded.documents.length} documents…`);
  const images = await verifyImages(snapshot, { bundles: loaded.bundles, resolveDigests: options.resolveDigests === true });
  timings.mark('images');
  io.progress?.(`Deriving ${loaded.documents.length} documents…`);
  const stageTimes = timings.enabled ? new Map<string, number>() : undefined;
  const result = derivePlatform(snapshot, { now: options.now ?? renderTime(), images, ...(stageTimes ? { stageTimes } : {}) });
  timings.mark('context');
  for (const [stage, ms] of stageTimes ?? []) timings.split('context', stage === 'authorizationGate' ? 'authorize' : 'derive', ms);
  io.progress?.('');
  return { loaded, result };
}

/**
 * The part of a result `--namespace` and `--service` select: those services, and the platform-level
 * and team objects only when no filter is given. Every service was derived (the graph and quotas need the
 * whole platform); this only narrows what is printed.
 */
export function selectResult(result: PlatformResult, filter: Pick<RenderOptions, 'namespace' | 'service'>): PlatformResult {
  if (filter.namespace === undefined && filter.service === undefined) return result;
  const wanted = (s: { namespace: string; name: string }): boolean => {
    if (filter.namespace !== undefined && s.namespace !== filter.namespace) return false;
    if (filter.service === undefined) return true;
    return filter.service.includes('/') ? `${s.namespace}/${s.name}` === filter.service : s.name === filter.service;
  };
  return { ...result, services: result.services.filter(wanted), platformObjects: [], teamObjects: [], teams: [], problems: [] };
}

/** `kind.group/name`, as `kubectl get -o name` writes it (core kinds without a group). */
export function objectName(o: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }): string {
  const apiVersion = String(o.apiVersion ?? '');
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return `${String(o.kind ?? '').toLowerCase()}${group ? `.${group}` : ''}/${String(o.metadata?.name ?? '')}`;
}

function wideTable(objects: unknown[]): string {
  const rows = objects.map((x) => {
    const o = x as KubeObject;
    return [o.metadata.namespace ?? '', o.metadata.labels?.[LABELS.service] ?? (o.kind === 'LatticeService' ? o.metadata.name : ''), o.kind, o.metadata.name, o.apiVersion];
  });
  return table([['NAMESPACE', 'SERVICE', 'KIND', 'NAME', 'APIVERSION'], ...rows]);
}

/**
 * Runs `lattice render`; resolves to the exit status. The output is streamed to `io.stdout` in
 * chunks of whole documents. With `LATTICE_TIMINGS=1`, the time of each phase goes to stderr after
 * the summary (src/cli/timings.ts): startup, load (read and parse the YAML), classify (classify and
 * validate), images, context (platform resources, policies, quotas, the graph), authorize (Cedar
 * decisions), derive (every other stage), serialize, summary (the table on stderr), total.
 */
export async function render(paths: string[], options: RenderOptions, io: Streams): Promise<number> {
  const timings = timingsFromEnv();
  const rendered = await renderPaths(paths, options, io, timings);
  if (!rendered) return EXIT.usage;
  const { loaded, result } = rendered;
  const shown = selectResult(result, options);
  if (shown !== result && shown.services.length === 0) {
    const known = result.services.map((s) => s.key);
    const near = options.service !== undefined ? nearestName(options.service, [...known, ...result.services.map((s) => s.name)]) : undefined;
    io.stderr(`error: no service matches${options.namespace !== undefined ? ` --namespace ${options.namespace}` : ''}${options.service !== undefined ? ` --service ${options.service}` : ''}` +
      `${near ? `; did you mean ${near}?` : ''} (services: ${known.join(', ') || 'none'})\n`);
    return EXIT.usage;
  }
  if (options.check) {
    // Nothing on stdout: the exit status and the summary are the answer.
  } else if (options.outDir) writeOutDir(options.outDir, shown);
  else if (options.output === 'json') writeJsonList(eachOutputObject(shown), io.stdout);
  else if (options.output === 'name') io.stdout(outputObjects(shown).map((o) => `${objectName(o as KubeObject)}\n`).join(''));
  else if (options.output === 'wide') io.stdout(wideTable(outputObjects(shown)));
  else writeYamlStream(eachOutputObject(shown), io.stdout);
  timings.mark('serialize');
  const failed = shown.services.some((s) => s.status.phase !== 'Ready') || shown.problems.length > 0;
  if (!options.quiet || failed || loaded.errors.length > 0) io.stderr(summary(shown));
  timings.mark('summary');
  // After the summary, once per run: rendering goes on, both versions derive the same.
  if (!options.quiet) io.stderr(deprecationWarning(loaded.documents));
  io.stderr(timings.report());
  if (loaded.errors.length > 0) return EXIT.usage;
  return failed ? EXIT.failed : EXIT.ok;
}

/**
 * The deprecation warning for v1alpha1 LatticeServices among `documents`, once for the whole run,
 * with how many and where the first is ('' when none). Rendering goes on: both versions derive the same.
 */
export function deprecationWarning(documents: readonly { object: unknown; origin?: string; locate?: (path: (string | number)[]) => SourceLocation | undefined }[]): string {
  const old = documents.filter((d) => isDeprecatedServiceVersion(d.object));
  if (old.length === 0) return '';
  const at = old[0]!.locate?.(['apiVersion']);
  const where = at ? `${at.file}:${at.line}` : old[0]!.origin;
  const first = where !== undefined ? `, first at ${where}` : '';
  return `warning: ${SERVICE_V1ALPHA1_WARNING} (${old.length} document${old.length === 1 ? '' : 's'}${first})\n`;
}

function fileName(o: KubeObject | Record<string, unknown>): string {
  const meta = (o as KubeObject).metadata;
  return `${String((o as KubeObject).kind).toLowerCase()}-${meta.name}.yaml`;
}

/** The file in an `--out-dir` that lists what Lattice wrote there, so the next render removes what is stale. */
export const OUT_DIR_MANIFEST = '.lattice-files';

/**
 * Writes one file per object under `dir` (`_cluster/` for platform-level objects,
 * `<namespace>/<service>/` for a service's), plus `kustomization.yaml` listing every file in apply
 * order with `sortOptions.order: fifo` (kubectl.docs.kubernetes.io, kustomization "sortOptions":
 * kustomize 5.0+ then keeps the order of `resources`), so `kubectl apply -k DIR` applies dependencies
 * first. The kustomization lists the derived objects only: the LatticeServices with their rendered
 * status are written beside them for reading, and are the controller's to apply. Files a previous render wrote (listed in {@link OUT_DIR_MANIFEST}) and not written now are
 * removed, with folders left empty by that; nothing else in `dir` is touched.
 */
export function writeOutDir(dir: string, result: PlatformResult): void {
  const written: string[] = [];
  const derived: string[] = [];
  const write = (sub: string[], o: KubeObject | Record<string, unknown>, isDerived: boolean): void => {
    const folder = join(dir, ...sub);
    mkdirSync(folder, { recursive: true });
    const rel = [...sub, fileName(o)].join('/');
    writeFileSync(join(dir, rel), toYaml(o));
    written.push(rel);
    if (isDerived) derived.push(rel);
  };
  for (const o of result.platformObjects) write(['_cluster'], o, true);
  for (const o of result.teamObjects) write(o.metadata.namespace === undefined && o.kind !== 'Namespace' ? ['_cluster'] : [o.metadata.namespace ?? o.metadata.name, '_namespace'], o, true);
  for (const s of result.services) {
    for (const o of s.objects) write([s.namespace, s.name], o, true);
    write([s.namespace, s.name], withStatus(s.object, s.status), false);
  }
  const manifest = join(dir, OUT_DIR_MANIFEST);
  const previous = existsSync(manifest) ? readFileSync(manifest, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')) : [];
  const now = new Set(written);
  for (const rel of previous) {
    if (now.has(rel) || rel.split('/').includes('..') || isAbsolute(rel)) continue;
    rmSync(join(dir, rel), { force: true });
    for (let folder = dirname(join(dir, rel)); relative(dir, folder) !== '' && !relative(dir, folder).startsWith('..'); folder = dirname(folder)) {
      if (readdirSync(folder).length > 0) break;
      rmdirSync(folder);
    }
  }
  writeFileSync(manifest, ['# Files lattice render wrote here; the next render removes those it no longer writes.', ...written, ''].join('\n'));
  writeFileSync(join(dir, 'kustomization.yaml'), toYaml({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    // fifo keeps the order of `resources` (kustomize 5.0+; the default "legacy" sorts by kind).
    sortOptions: { order: 'fifo' },
    resources: derived,
  }));
}

/**
 * The human summary printed to stderr: a row per workload (`SERVICE` when every workload is a
 * LatticeService; otherwise `WORKLOAD` with a `KIND` column), platform problems, quota usage, teams,
 * and `N of M services Ready` (`workloads` when the kinds are mixed).
 */
export function summary(result: PlatformResult): string {
  const servicesOnly = result.services.every((s) => s.kind === undefined);
  const rows = result.services.map((s) => {
    const firstProblem = s.diagnostics.find((d) => d.severity === 'error') ?? s.diagnostics[0];
    const row = [`${s.namespace}/${s.name}`, s.status.phase, String(s.status.resourceCount), firstProblem ? describe(firstProblem) : ''];
    return servicesOnly ? row : [row[0]!, s.kind ?? 'LatticeService', ...row.slice(1)];
  });
  const out: string[] = [];
  const header = servicesOnly ? ['SERVICE', 'PHASE', 'RESOURCES', 'FIRST PROBLEM'] : ['WORKLOAD', 'KIND', 'PHASE', 'RESOURCES', 'FIRST PROBLEM'];
  if (rows.length > 0) out.push(table([header, ...rows]).trimEnd());
  else out.push(`No workloads found (${[...WORKLOAD_KINDS.keys()].join(', ')}).`);
  for (const p of result.problems) {
    for (const d of p.diagnostics) out.push(`error: ${p.kind} ${p.name}: ${describe(d)}`);
  }
  const quotaRows = quotaUsageTable(result.quotas);
  if (quotaRows.length > 0) out.push('', 'Quota usage (each service at its maximum replicas):', ...quotaRows, '');
  const teamNamespaces = result.teams.reduce((n, t) => n + t.namespaces.length, 0);
  if (result.teams.length > 0) out.push(`${result.teams.length} teams; ${teamNamespaces} namespaces derived (${result.teamObjects.length} objects).`);
  const ready = result.services.filter((s) => s.status.phase === 'Ready').length;
  const total = result.services.reduce((n, s) => n + s.objects.length, 0) + result.platformObjects.length + result.teamObjects.length;
  out.push(`${ready} of ${result.services.length} ${servicesOnly ? 'services' : 'workloads'} Ready; ${total} objects derived.`);
  if (result.ignored.length > 0) {
    const kinds = new Map<string, number>();
    for (const i of result.ignored) kinds.set(`${i.apiVersion} ${i.kind}`, (kinds.get(`${i.apiVersion} ${i.kind}`) ?? 0) + 1);
    out.push(`Ignored (kinds Lattice does not handle): ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}.`);
  }
  return out.join('\n') + '\n';
}
