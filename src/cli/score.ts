/**
 * `lattice score PATH...`: the platform's scorecard of every service (src/compiler/score/), offline.
 * Derives the platform as `lattice render` does (images verified against the bundles found, no
 * network), then prints per service its score and failing checks with evidence (`file:line:col
 * field`), and the fleet summary: each check with how many services fail it, most failed first.
 *
 * `-o table` (default) or `-o json` (the {@link FleetScore} as is). Exit status: 0 no failing check at
 * or above `--fail-on` (default error), 1 some, 2 bad invocation or unreadable input.
 */
import { CHECK_SEVERITIES, failsAt, scorePlatform, type CheckSeverity, type Evidence, type FleetScore } from '../compiler/score/index.ts';
import { table } from './output.ts';
import { EXIT, renderPaths, type Streams } from './render.ts';

/** Options of `lattice score`. */
export interface ScoreOptions {
  output: 'table' | 'json';
  /** Least severe failing check that fails the command; `never` always exits 0 when the input loads. */
  failOn: CheckSeverity | 'never';
}

function where(e: Evidence): string {
  return e.location ? `${e.location.file}:${e.location.line}:${e.location.column} ${e.path}` : e.path;
}

/** The human report: services with their failures, then the fleet summary. */
export function scoreTable(score: FleetScore): string {
  const out: string[] = [];
  if (score.services.length === 0) return 'No LatticeServices found.\n';
  out.push(table([['SERVICE', 'SCORE', 'PHASE', 'FAILING CHECKS'], ...score.services.map((s) => [s.key, String(s.score), s.phase, s.checks.filter((c) => c.status === 'fail').map((c) => c.id).join(', ') || '-'])]).trimEnd(), '');
  for (const s of score.services) {
    const failing = s.checks.filter((c) => c.status === 'fail').sort((a, b) => CHECK_SEVERITIES.indexOf(a.severity) - CHECK_SEVERITIES.indexOf(b.severity));
    if (failing.length === 0) continue;
    out.push(`${s.key} (score ${s.score}):`);
    for (const c of failing) {
      out.push(`  ${c.severity.padEnd(7)} ${c.id}: ${c.message}`);
      for (const e of c.evidence) out.push(`          at ${where(e)}`);
    }
    out.push('');
  }
  out.push('Fleet summary (checks most services fail first):');
  out.push(table([['CHECK', 'SEVERITY', 'FAILING', 'SERVICES'], ...score.checks.map((c) => [c.id, c.severity, `${c.failing.length}/${c.applicable}`, c.failing.join(', ')])]).trimEnd());
  const worst = score.checks[0];
  if (worst && worst.failing.length > 0) out.push('', `Most failed: ${worst.id} (${worst.title}), by ${worst.failing.length} of ${worst.applicable} services.`);
  const mean = Math.round(score.services.reduce((n, s) => n + s.score, 0) / score.services.length);
  out.push(`Mean score ${mean} over ${score.services.length} services.`);
  return out.join('\n') + '\n';
}

/** Runs `lattice score`; resolves to the exit status. */
export async function scoreCommand(paths: string[], options: ScoreOptions, io: Streams): Promise<number> {
  const rendered = await renderPaths(paths, {}, io);
  if (!rendered) return EXIT.usage;
  const { loaded, result: platform } = rendered;
  const score = scorePlatform(platform, loaded.documents);
  io.stdout(options.output === 'json' ? JSON.stringify(score, null, 2) + '\n' : scoreTable(score));
  if (loaded.errors.length > 0) return EXIT.usage;
  return options.failOn !== 'never' && failsAt(score, options.failOn) ? EXIT.failed : EXIT.ok;
}
