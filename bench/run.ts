/**
 * `npm run bench [-- --only NAME] [flags]`: runs the benchmark modules in order and prints their
 * figures. Benchmarks measure; they never fail on timing. Flags other than `--only` are passed to
 * every benchmark (e.g. `npm run bench -- --services 500`); a benchmark ignores flags it does not know.
 *
 * To add a benchmark, add a module exporting `run(args: string[]): unknown` (sync or async) and list
 * it in BENCHMARKS.
 */

/** A benchmark module. */
export interface Benchmark {
  name: string;
  description: string;
  load: () => Promise<{ run: (args: string[]) => unknown }>;
}

/** Every benchmark, in the order they run. */
export const BENCHMARKS: Benchmark[] = [
  { name: 'render', description: 'lattice render as a process on 1,000/5,000/10,000-service fleets, phases, peak RSS, and cdk8s-plus-30 on the same intent', load: () => import('./render.ts') },
  { name: 'fleet', description: 'render a synthetic fleet (default 5,000 services), serialise it, re-derive single changes', load: () => import('./fleet.ts') },
  { name: 'authorization', description: 'Cedar decisions per second at 100 policies, the policy set parsed once', load: () => import('./authorization.ts') },
];

/** Splits `--only NAME` (repeatable) from the flags passed on to the benchmarks. */
export function selectBenchmarks(argv: string[]): { selected: Benchmark[]; args: string[] } {
  const only: string[] = [];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--only') only.push(argv[++i] ?? '');
    else if (a.startsWith('--only=')) only.push(a.slice('--only='.length));
    else args.push(a);
  }
  const unknown = only.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  return { selected: only.length > 0 ? BENCHMARKS.filter((b) => only.includes(b.name)) : BENCHMARKS, args };
}

async function main(): Promise<void> {
  let selection;
  try {
    selection = selectBenchmarks(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  for (const b of selection.selected) {
    process.stdout.write(`== ${b.name}: ${b.description}\n`);
    const mod = await b.load();
    await mod.run(selection.args);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/run.ts')) await main();
