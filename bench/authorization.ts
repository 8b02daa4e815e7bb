/**
 * Authorization cost: decisions per second of the Cedar gate at 100 policies, with the policy set
 * parsed once (as the pipeline does per change of the CedarPolicies), every decision asked of
 * Cedar; then the same with the memo, where repeated questions are answered without Cedar. Flags:
 * `--policies N`, `--decisions N`.
 */
import { benchAuthorization } from '../src/policy/index.ts';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 1) throw new Error(`${name} must be a positive number, not ${args[i + 1]}`);
  return value;
}

/** Runs the benchmark and prints its figures. */
export function run(args: string[]): unknown {
  const options = { policies: flag(args, '--policies', 100), decisions: flag(args, '--decisions', 5000) };
  const r = benchAuthorization(options);
  console.log(`authorization: ${Math.round(r.decisionsPerSecond)} decisions/s at ${r.policies} policies, each asked of Cedar (${r.decisions} decisions in ${r.elapsedMs.toFixed(0)} ms, ${r.allowed} allowed); policy set parsed once in ${r.buildMs.toFixed(0)} ms`);
  const m = benchAuthorization({ ...options, memoize: true });
  console.log(`authorization: ${Math.round(m.decisionsPerSecond)} decisions/s when the same questions repeat (memoised: src/policy/memo.ts)`);
  return { cedar: r, memoised: m };
}
