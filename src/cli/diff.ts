/**
 * `lattice diff`: what a change does to derived infrastructure, before it lands.
 *
 * - `lattice diff A B`: the derived output of tree A against tree B (files or folders);
 * - `lattice diff --git REV [PATH...]`: the trees at two git revisions (`main..HEAD`, `main..` meaning
 *   `main..HEAD` as git reads it), or one revision against the working tree (`main`), like `git diff`;
 * - `lattice diff --cluster PATH...`: the live cluster against what applying the render would make
 *   of it, by server-side apply with `dryRun=All` (the method of `kubectl diff`,
 *   kubernetes.io/docs/reference/using-api/api-concepts/#dry-run), so defaults the API server fills in
 *   do not show as changes.
 *
 * Output is grouped by owning service and kind, then the traffic opened and closed, the permissions
 * granted and revoked and the phase changes, then a one-line summary. Timestamps never show as
 * changes: both sides are rendered at one fixed time and condition timestamps are ignored.
 * Exit status: 0 no difference, 1 differences, 2 bad invocation or unreadable input.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { diffDerived, type DerivedDiff, type FieldChange } from '../compiler/diff.ts';
import type { KubeObject } from '../compiler/types.ts';
import { EXIT, outputObjects, renderPaths } from './render.ts';
import type { Streams } from './load.ts';

/** The condition time both sides are rendered at, whatever SOURCE_DATE_EPOCH says, so no timestamp differs. */
export const DIFF_TIME = '1970-01-01T00:00:00Z';

/** The objects of one side, and whether any of its input could not be read. */
export interface DiffSide {
  objects: KubeObject[];
  inputErrors: boolean;
}

/**
 * Renders `paths` offline for a diff; a side with no YAML file at all is empty (an added or removed
 * tree). With `root`, file paths under it in messages (`<root>/x.yaml:3:5`) are written relative to
 * it, so two copies of one tree at different places do not differ by their location.
 */
export async function renderSide(paths: string[], io: Streams, root?: string): Promise<DiffSide> {
  if (paths.every((p) => !existsSync(p))) return { objects: [], inputErrors: false };
  const rendered = await renderPaths(paths.filter((p) => existsSync(p)), { now: DIFF_TIME }, io);
  if (!rendered) return { objects: [], inputErrors: false };
  const objects = outputObjects(rendered.result) as KubeObject[];
  return { objects: root === undefined ? objects : relativeTo(objects, root), inputErrors: rendered.loaded.errors.length > 0 };
}

/** `objects` with every string's occurrences of `root/` removed (a deep copy). */
export function relativeTo<T>(objects: T, root: string): T {
  const prefix = root.endsWith(sep) ? root : `${root}${sep}`;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.split(prefix).join('');
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(objects) as T;
}

/** A git revision range as `lattice diff --git` reads it: `[from, to]`, `to` undefined meaning the working tree. */
export function parseRevisions(spec: string): [string, string | undefined] {
  const m = /^(.*?)\.\.(.*)$/.exec(spec);
  if (!m) return [spec, undefined];
  return [m[1] || 'HEAD', m[2] || 'HEAD'];
}

/** Thrown for a problem the user can fix (bad revision, not a git repository); the message says how. */
export class DiffUsageError extends Error {}

function git(top: string, args: string[]): string {
  return execFileSync('git', ['-C', top, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * Extracts `paths` (relative to the repository) as they are at `revision` into a fresh temporary
 * folder, with `git archive`; paths missing at that revision are left out (an empty side). Returns
 * the folder and the paths inside it. Throws {@link DiffUsageError} for an unknown revision.
 */
export function checkoutRevision(top: string, revision: string, relPaths: string[]): { dir: string; paths: string[] } {
  try {
    git(top, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  } catch {
    throw new DiffUsageError(`unknown git revision "${revision}": name a branch, tag or commit (git rev-parse ${revision} must succeed)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'lattice-diff-'));
  const present = relPaths.filter((p) => p === '' || git(top, ['ls-tree', '--name-only', revision, '--', p]) !== '');
  if (present.length > 0) {
    const tar = execFileSync('git', ['-C', top, 'archive', '--format=tar', revision, '--', ...present.map((p) => p || '.')], { maxBuffer: 1 << 30 });
    const untar = spawnSync('tar', ['-x', '-C', dir], { input: tar });
    if (untar.status !== 0) throw new Error(`tar could not extract ${revision}: ${untar.stderr.toString().trim()}`);
  }
  return { dir, paths: relPaths.map((p) => join(dir, p)) };
}

/** The two sides of `--git SPEC` over `paths`. Temporary folders are removed before returning. */
async function gitSides(spec: string, paths: string[], io: Streams): Promise<[DiffSide, DiffSide]> {
  let top: string;
  try {
    top = git(process.cwd(), ['rev-parse', '--show-toplevel']);
  } catch {
    throw new DiffUsageError('--git needs a git repository: run lattice diff inside one, or compare two folders with lattice diff A B');
  }
  const rel = paths.map((p) => relative(top, resolve(p)));
  const outside = rel.filter((p) => p.startsWith('..'));
  if (outside.length > 0) throw new DiffUsageError(`${outside.join(', ')} is outside the git repository at ${top}: pass paths inside it`);
  const [from, to] = parseRevisions(spec);
  const side = async (revision: string | undefined): Promise<DiffSide> => {
    if (revision === undefined) return renderSide(paths, io);
    const checkout = checkoutRevision(top, revision, rel);
    try {
      return await renderSide(checkout.paths, io, checkout.dir);
    } finally {
      rmSync(checkout.dir, { recursive: true, force: true });
    }
  };
  return [await side(from), await side(to)];
}

const MAX_VALUE = 100;

function valueText(v: unknown): string {
  const text = v === undefined ? '(none)' : JSON.stringify(v);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** Two long strings shown from a little before where they first differ, so the change is visible. */
function changedText(before: unknown, after: unknown): string {
  if (typeof before !== 'string' || typeof after !== 'string' || Math.max(before.length, after.length) <= MAX_VALUE / 2) {
    return `${valueText(before)} -> ${valueText(after)}`;
  }
  let i = 0;
  while (i < before.length && i < after.length && before[i] === after[i]) i++;
  const from = Math.max(0, i - 20);
  const cut = (t: string): string => (from > 0 ? '…' : '') + t.slice(from);
  return `${valueText(cut(before))} -> ${valueText(cut(after))}`;
}

function fieldText(f: FieldChange): string {
  if (f.type === 'added') return `+ ${f.path}: ${valueText(f.after)}`;
  if (f.type === 'removed') return `- ${f.path}: ${valueText(f.before)}`;
  return `~ ${f.path}: ${changedText(f.before, f.after)}`;
}

/** The human report: changes grouped by owner, traffic, permissions, phases, then the summary line. */
export function formatDiff(d: DerivedDiff): string {
  const out: string[] = [];
  let owner: string | undefined;
  for (const c of d.changes) {
    if (c.owner !== owner) {
      if (owner !== undefined) out.push('');
      owner = c.owner;
      out.push(owner);
    }
    const mark = c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~';
    out.push(`  ${mark} ${c.kind} ${c.namespace ? `${c.namespace}/` : ''}${c.name} (${c.change})`);
    for (const f of c.fields) out.push(`      ${fieldText(f)}`);
  }
  const section = (title: string, rows: string[]): void => {
    if (rows.length === 0) return;
    out.push('', `${title}:`, ...rows.map((r) => `  ${r}`));
  };
  section('Traffic opened', d.trafficOpened);
  section('Traffic closed', d.trafficClosed);
  section('Permissions granted', d.permissionsGranted);
  section('Permissions revoked', d.permissionsRevoked);
  section('Phase changes', d.phaseChanges);
  const s = d.summary;
  if (d.changes.length === 0) out.push('No differences in derived objects.');
  else {
    out.push('', `${s.added} added, ${s.changed} changed, ${s.removed} removed object${s.added + s.changed + s.removed === 1 ? '' : 's'} in ${s.owners.length} ` +
      `${s.owners.length === 1 ? 'owner' : 'owners'}; traffic: ${d.trafficOpened.length} opened, ${d.trafficClosed.length} closed; ` +
      `permissions: ${d.permissionsGranted.length} granted, ${d.permissionsRevoked.length} revoked.`);
  }
  return out.join('\n') + '\n';
}

/** Options of `lattice diff`. */
export interface DiffOptions {
  output: 'text' | 'json';
  git?: string;
  cluster?: boolean;
  kubeconfig?: string;
  context?: string;
}

/** Runs `lattice diff`; resolves to the exit status. */
export async function diffCommand(args: string[], opts: DiffOptions, io: Streams): Promise<number> {
  let sides: [DiffSide, DiffSide];
  try {
    if (opts.git !== undefined && opts.cluster) throw new DiffUsageError('--git and --cluster cannot be combined: compare revisions, or a tree with the cluster');
    if (opts.git !== undefined) sides = await gitSides(opts.git, args.length > 0 ? args : ['.'], io);
    else if (opts.cluster) {
      if (args.length === 0) throw new DiffUsageError('--cluster needs the PATH to render: lattice diff --cluster examples/');
      const local = await renderSide(args, io);
      const { clusterSide } = await import('./diff-cluster.ts');
      sides = await clusterSide(local, { kubeconfig: opts.kubeconfig, context: opts.context });
    } else {
      if (args.length !== 2) throw new DiffUsageError(`lattice diff A B compares two trees and takes exactly two paths (got ${args.length}); use --git REV or --cluster for the other forms`);
      const missing = args.filter((p) => !existsSync(p));
      if (missing.length === 2) throw new DiffUsageError(`neither ${args[0]} nor ${args[1]} exists: check the paths`);
      sides = [await renderSide([args[0]!], io, resolve(args[0]!)), await renderSide([args[1]!], io, resolve(args[1]!))];
    }
  } catch (err) {
    if (err instanceof DiffUsageError) {
      io.stderr(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  const result = diffDerived(sides[0].objects, sides[1].objects);
  io.stdout(opts.output === 'json' ? JSON.stringify(result, null, 2) + '\n' : formatDiff(result));
  if (sides[0].inputErrors || sides[1].inputErrors) return EXIT.usage;
  return result.changes.length > 0 ? EXIT.failed : EXIT.ok;
}
