/**
 * Render benchmark: the real `lattice render` command on generated fleets, as a user runs it, and
 * cdk8s-plus-30 synthesising the same intent, in the same run.
 *
 * For each size in `--sizes` (default 1000,5000,10000 services; 50 namespaces, the shape of
 * bench/fleet.ts: 4 dependencies, 2 secrets and 2 ports per service, an external service on every
 * tenth), the fleet is generated from a seed and written as YAML files to a temporary folder: the
 * platform documents (LatticePlatform, SecretProvider, a CedarPolicy of 19 policies conditioned on
 * namespace and team, a Namespace per namespace with team and environment labels, one LatticeQuota
 * covering every service) and one file of services per namespace. Then, each as a new process:
 * - `node bin/lattice.js render DIR` with `LATTICE_TIMINGS=1`, stdout and stderr written to files
 *   (as `> out.yaml` does): wall time from spawn to exit (process start included), the phases the CLI reports on
 *   stderr (startup, load, classify, images, context, authorize, derive, serialize), peak RSS (the
 *   child's own maxRSS, which it reports with the phases), and bytes written;
 * - `node --import tsx bench/cdk8s-fleet.ts DIR` (cdk8s-plus-30: ServiceAccount, Deployment,
 *   Service, NetworkPolicy per service): wall time and peak RSS; reported as lattice / cdk8s.
 * Also reported: the machine's load average before each run (the figures depend on it), time per
 * service, and growth from the smallest to the largest size (linear growth keeps ms/service flat).
 *
 * Targets: 5,000 services in under 5 s wall and under 1 GiB peak RSS, linear growth. The
 * benchmark reports; it never fails on timing. Flags: `--sizes 1000,5000`, `--no-cdk8s`, `--json`,
 * `--keep` (keep the generated folders and print where).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SHAPE, generateFleet, PLATFORM_DOCUMENTS, type FleetShape } from './fleet.ts';
import { toYamlStream } from '../src/cli/output.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** One process run: wall time from spawn to exit, what it reported on stderr, its exit status. */
export interface ProcessRun {
  wallMs: number;
  exitCode: number | null;
  /** The child's own report (`lattice timings: {...}` / `cdk8s timings: {...}`), parsed. */
  reported: Record<string, number>;
  peakRssBytes: number;
  stdoutBytes: number;
}

/** Figures for one fleet size. */
export interface RenderSizeReport {
  services: number;
  inputBytes: number;
  loadBefore: number;
  lattice: ProcessRun;
  cdk8s?: ProcessRun;
  /** lattice wall / cdk8s wall. */
  ratio?: number;
  perServiceMs: number;
}

/** Writes the fleet of `shape` under `dir`: platform.yaml (platform documents and context), services-<namespace>.yaml. */
export function writeFleet(shape: FleetShape, dir: string): number {
  const fleet = generateFleet(shape);
  let bytes = 0;
  const write = (name: string, objects: unknown[]): void => {
    const text = toYamlStream(objects);
    bytes += Buffer.byteLength(text);
    writeFileSync(join(dir, name), text);
  };
  write('platform.yaml', [...fleet.objects.slice(0, PLATFORM_DOCUMENTS), ...fleet.context]);
  const byNamespace = new Map<string, unknown[]>();
  for (const o of fleet.objects.slice(PLATFORM_DOCUMENTS)) {
    const ns = (o as { metadata: { namespace: string } }).metadata.namespace;
    const list = byNamespace.get(ns) ?? [];
    list.push(o);
    byNamespace.set(ns, list);
  }
  for (const [ns, objects] of byNamespace) write(`services-${ns}.yaml`, objects);
  return bytes;
}

/**
 * Runs `node ARGS` with stdout and stderr written to files beside `dir` (as `lattice render > out.yaml`
 * does; reading them through pipes would let this process's own pauses slow the child's writes);
 * resolves when it exits, with the bytes written and the report read from stderr.
 */
export function runNode(args: string[], env: Record<string, string>, reportPrefix: string, dir: string): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    // Beside the fleet's folder, not in it (the commands read every file there).
    const outFile = `${dir}.stdout`;
    const errFile = `${dir}.stderr`;
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, err] });
    closeSync(out);
    closeSync(err);
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - start;
      const stderr = readFileSync(errFile, 'utf8');
      const stdoutBytes = statSync(outFile).size;
      rmSync(outFile, { force: true });
      rmSync(errFile, { force: true });
      const line = stderr.split('\n').find((l) => l.startsWith(reportPrefix));
      const reported = line ? (JSON.parse(line.slice(reportPrefix.length)) as Record<string, number>) : {};
      if (code !== 0 && !(code === 1 && reportPrefix.startsWith('lattice'))) reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`));
      else resolve({ wallMs, exitCode: code, reported, peakRssBytes: reported.maxRssBytes ?? 0, stdoutBytes });
    });
  });
}

/** Generates, writes and renders one size (and synthesises it with cdk8s when asked). */
export async function measureSize(services: number, options: { cdk8s: boolean; keep: boolean; namespaces: number }): Promise<RenderSizeReport> {
  const shape: FleetShape = { ...DEFAULT_SHAPE, services, namespaces: options.namespaces };
  const dir = mkdtempSync(join(tmpdir(), `lattice-bench-${services}-`));
  try {
    mkdirSync(dir, { recursive: true });
    const inputBytes = writeFleet(shape, dir);
    const loadBefore = loadavg()[0]!;
    const lattice = await runNode(['bin/lattice.js', 'render', dir], { LATTICE_TIMINGS: '1', SOURCE_DATE_EPOCH: '1767225600' }, 'lattice timings: ', dir);
    if (lattice.exitCode !== 0) throw new Error(`lattice render of the generated fleet exited with ${lattice.exitCode}: every service should be Ready`);
    const report: RenderSizeReport = { services, inputBytes, loadBefore, lattice, perServiceMs: lattice.wallMs / services };
    if (options.cdk8s) {
      report.cdk8s = await runNode(['--import', 'tsx', 'bench/cdk8s-fleet.ts', dir], {}, 'cdk8s timings: ', dir);
      report.ratio = lattice.wallMs / report.cdk8s.wallMs;
    }
    if (options.keep) process.stdout.write(`  (kept ${dir})\n`);
    return report;
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

const MiB = 2 ** 20;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The human report. */
export function formatRenderReport(reports: RenderSizeReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const p = r.lattice.reported;
    const phase = (k: string): string => `${k} ${s(p[k] ?? 0)}`;
    lines.push(
      `${r.services} services (${(r.inputBytes / MiB).toFixed(1)} MiB of input YAML; load average ${r.loadBefore.toFixed(1)} before):`,
      `  lattice render: ${s(r.lattice.wallMs)} wall, peak RSS ${(r.lattice.peakRssBytes / MiB).toFixed(0)} MiB, ${(r.lattice.stdoutBytes / MiB).toFixed(1)} MiB written, ${r.perServiceMs.toFixed(2)} ms/service`,
      `    phases: ${['startup', 'load', 'classify', 'images', 'context', 'authorize', 'derive', 'serialize', 'summary'].map(phase).join(', ')}; spawn and exit ${s(r.lattice.wallMs - (p.total ?? r.lattice.wallMs))}`,
    );
    if (r.cdk8s) {
      lines.push(`  cdk8s-plus-30:  ${s(r.cdk8s.wallMs)} wall, peak RSS ${(r.cdk8s.peakRssBytes / MiB).toFixed(0)} MiB, ${(r.cdk8s.stdoutBytes / MiB).toFixed(1)} MiB written`);
      lines.push(`  lattice / cdk8s: ${r.ratio!.toFixed(2)}`);
    }
  }
  if (reports.length > 1) {
    const a = reports[0]!;
    const b = reports[reports.length - 1]!;
    lines.push(`growth ${a.services} -> ${b.services} services (x${(b.services / a.services).toFixed(0)}): wall x${(b.lattice.wallMs / a.lattice.wallMs).toFixed(2)}, ms/service ${a.perServiceMs.toFixed(2)} -> ${b.perServiceMs.toFixed(2)}`);
  }
  const five = reports.find((r) => r.services === 5000);
  if (five) {
    lines.push(`targets at 5,000 services: wall under 5 s: ${five.lattice.wallMs < 5000 ? 'met' : 'missed'} (${s(five.lattice.wallMs)}); peak RSS under 1 GiB: ${five.lattice.peakRssBytes < 2 ** 30 ? 'met' : 'missed'} (${(five.lattice.peakRssBytes / MiB).toFixed(0)} MiB)`);
  }
  return lines.join('\n');
}

/** Parses the benchmark's flags; unknown flags are left to the other benchmarks. */
export function parseRenderArgs(args: string[]): { sizes: number[]; cdk8s: boolean; json: boolean; keep: boolean; namespaces: number } {
  const { values } = parseArgs({
    args,
    options: { sizes: { type: 'string' }, 'no-cdk8s': { type: 'boolean' }, json: { type: 'boolean' }, keep: { type: 'boolean' }, namespaces: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const sizes = String(values.sizes ?? '1000,5000,10000').split(',').map((x) => Number(x.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`--sizes must be a comma-separated list of whole numbers of services (2 or more), not ${String(values.sizes)}`);
  const namespaces = values.namespaces === undefined ? DEFAULT_SHAPE.namespaces : Number(values.namespaces);
  if (!Number.isInteger(namespaces) || namespaces < 1) throw new Error(`--namespaces must be a whole number, 1 or more, not ${String(values.namespaces)}`);
  return { sizes, cdk8s: values['no-cdk8s'] !== true, json: values.json === true, keep: values.keep === true, namespaces };
}

/** Entry point for bench/run.ts. */
export async function run(args: string[], print: (text: string) => void = console.log): Promise<RenderSizeReport[]> {
  const options = parseRenderArgs(args);
  const reports: RenderSizeReport[] = [];
  for (const services of options.sizes) {
    const r = await measureSize(services, options);
    reports.push(r);
    // The targets line once, at the end, with the growth line.
    if (!options.json) print(formatRenderReport([r]).split('\n').filter((l) => !l.startsWith('targets')).join('\n'));
  }
  print(options.json ? JSON.stringify(reports, null, 2) : formatRenderReport(reports).split('\n').filter((l) => l.startsWith('growth') || l.startsWith('targets')).join('\n'));
  return reports;
}
