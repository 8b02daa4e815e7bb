/**
 * Running the CLI in-process for tests: `lattice(...args)` runs `run(args)` with captured stdout and
 * stderr, and `PERMIT_ALL_YAML` is the permit-all CedarPolicy that tests about other concerns put
 * beside their services (Lattice denies by default). Test support; never shipped.
 */
import { run } from '../../src/cli/main.ts';

/** What one CLI run printed and its exit status. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lattice ARGS...` in this process; resolves to its exit status and output. */
export async function lattice(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

/** A CedarPolicy permitting everything but skipping image verification, as YAML. */
export const PERMIT_ALL_YAML = `apiVersion: lattice.dev/v1alpha1
kind: CedarPolicy
metadata: {name: permit-all, namespace: lattice-system}
spec:
  policies: 'permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };'
`;
