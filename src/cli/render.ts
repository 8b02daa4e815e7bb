/**
 * `lattice render PATH...`: derive everything from YAML files, with no cluster.
 *
 * stdout: the derived objects (platform-level first, then each service's in apply order), then the
 * input LatticeServices with their computed `.status`; as multi-document YAML, a JSON `List`
 * (`-o json`), or one file per object under `--out-dir DIR/<namespace>/<service>/`.
 * stderr: a short summary. Exit status: 0 all Ready, 1 any service or platform resource failed,
 * 2 bad invocation or unparseable input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { derivePlatform, snapshotPlatform, type PlatformResult } from '../compiler/platform.ts';
import { describe } from '../compiler/status.ts';
import { quotaUsageTable } from '../compiler/quota.ts';
import type { KubeObject } from '../compiler/types.ts';
import { loadForCommand, type Streams } from './load.ts';
import { verifyImages } from './images.ts';
import { table, toYaml, writeJsonList, writeYamlStream } from './output.ts';
import { timingsFromEnv } from './timings.ts';

/** Exit statuses of the commands. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;

/** Options of `lattice render`. */
export interface RenderOptions {
  output: 'yaml' | 'json';
  outDir?: string;
  /** RFC 3339 time for condition transitions; from SOURCE_DATE_EPOCH when set, else now. */
  now?: string;
  /** Resolve image tags to digests (network), when the platform allows tags. */
  resolveDigests?: boolean;
}

export type { Streams };

/** The time to stamp on conditions: SOURCE_DATE_EPOCH (reproducible builds convention) or the clock. */
export function renderTime(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch && /^[0-9]+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, 'Z');
  return new Date().toISOString().replace(/\.[0-9]{3}Z$/, 'Z');
}

/** The input service with its computed status, as written back. */
export function withStatus(object: unknown, status: unknown): Record<string, unknown> {
  const { status: _old, ...rest } = object as Record<string, unknown>;
  return { ...rest, status };
}

/** Every output object in order: platform objects, each service's derived objects, then the services with status. */
export function outputObjects(result: PlatformResult): unknown[] {
  return [...eachOutputObject(result)];
}

/** The objects of {@link outputObjects}, one at a time (the services with status are built as they are written). */
export function* eachOutputObject(result: PlatformResult): Generator<unknown> {
  yield* result.platformObjects;
  for (const s of result.services) yield* s.objects;
  for (const s of result.services) yield withStatus(s.object, s.status);
}

/**
 * Runs `lattice render`; resolves to the exit status. The input is read and classified once (a
 * PlatformSnapshot that image verification and derivation share); the output is streamed to
 * `io.stdout` in chunks of whole documents. With `LATTICE_TIMINGS=1`, the time of each phase goes
 * to stderr after the summary (src/cli/timings.ts): startup, load (read and parse the YAML),
 * classify (classify and validate), images, context (platform resources, policies, quotas, the
 * graph), authorize (Cedar decisions), derive (every other stage), serialize, total.
 */
export async function render(paths: string[], options: RenderOptions, io: Streams): Promise<number> {
  const timings = timingsFromEnv();
  const loaded = loadForCommand(paths, io);
  if (!loaded) return EXIT.usage;
  timings.mark('load');
  const snapshot = snapshotPlatform(loaded.documents);
  timings.mark('classify');
  const images = await verifyImages(snapshot, { bundles: loaded.bundles, resolveDigests: options.resolveDigests === true });
  timings.mark('images');
  const stageTimes = timings.enabled ? new Map<string, number>() : undefined;
  const result = derivePlatform(snapshot, { now: options.now ?? renderTime(), images, ...(stageTimes ? { stageTimes } : {}) });
  timings.mark('context');
  for (const [stage, ms] of stageTimes ?? []) timings.split('context', stage === 'authorizationGate' ? 'authorize' : 'derive', ms);
  if (options.outDir) writeOutDir(options.outDir, result);
  else if (options.output === 'json') writeJsonList(eachOutputObject(result), io.stdout);
  else writeYamlStream(eachOutputObject(result), io.stdout);
  timings.mark('serialize');
  io.stderr(summary(result));
  io.stderr(timings.report());
  if (loaded.errors.length > 0) return EXIT.usage;
  const failed = result.services.some((s) => s.status.phase !== 'Ready') || result.problems.length > 0;
  return failed ? EXIT.failed : EXIT.ok;
}

function fileName(o: KubeObject | Record<string, unknown>): string {
  const meta = (o as KubeObject).metadata;
  return `${String((o as KubeObject).kind).toLowerCase()}-${meta.name}.yaml`;
}

function writeOutDir(dir: string, result: PlatformResult): void {
  const write = (sub: string[], o: KubeObject | Record<string, unknown>): void => {
    const folder = join(dir, ...sub);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, fileName(o)), toYaml(o));
  };
  for (const o of result.platformObjects) write(['_cluster'], o);
  for (const s of result.services) {
    for (const o of s.objects) write([s.namespace, s.name], o);
    write([s.namespace, s.name], withStatus(s.object, s.status));
  }
}

/** The human summary printed to stderr. */
export function summary(result: PlatformResult): string {
  const rows = result.services.map((s) => {
    const firstProblem = s.diagnostics.find((d) => d.severity === 'error') ?? s.diagnostics[0];
    return [`${s.namespace}/${s.name}`, s.status.phase, String(s.status.resourceCount), firstProblem ? describe(firstProblem) : ''];
  });
  const out: string[] = [];
  if (rows.length > 0) out.push(table([['SERVICE', 'PHASE', 'RESOURCES', 'FIRST PROBLEM'], ...rows]).trimEnd());
  else out.push('No LatticeServices found.');
  for (const p of result.problems) {
    for (const d of p.diagnostics) out.push(`error: ${p.kind} ${p.name}: ${describe(d)}`);
  }
  const quotaRows = quotaUsageTable(result.quotas);
  if (quotaRows.length > 0) out.push('', 'Quota usage (each service at its maximum replicas):', ...quotaRows, '');
  const ready = result.services.filter((s) => s.status.phase === 'Ready').length;
  const total = result.services.reduce((n, s) => n + s.objects.length, 0) + result.platformObjects.length;
  out.push(`${ready} of ${result.services.length} services Ready; ${total} objects derived.`);
  if (result.ignored.length > 0) {
    const kinds = new Map<string, number>();
    for (const i of result.ignored) kinds.set(`${i.apiVersion} ${i.kind}`, (kinds.get(`${i.apiVersion} ${i.kind}`) ?? 0) + 1);
    out.push(`Ignored (kinds Lattice does not handle): ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}.`);
  }
  return out.join('\n') + '\n';
}
