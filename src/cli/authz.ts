/**
 * `lattice authz`: the platform's Cedar authorization, for a platform team's CI and for developers.
 *
 * - `lattice authz check PATH --service ns/name`: every gate decision for one service (action,
 *   resource, allow/deny/error) with the policies that determined it. Exit 1 when any is not allowed.
 * - `lattice authz validate PATH`: validates every CedarPolicy against the Lattice Cedar schema (strict
 *   mode) and prints Cedar's own messages with file positions. Exit 1 when any policy is invalid.
 */
import type { Command } from 'commander';
import type { PlatformProblem } from '../compiler/platform/snapshot.ts';
import { verifyImages } from './images.ts';
import { EXIT } from './exit.ts';
import type { Streams } from './render.ts';

/** The modules the commands run on, loaded when a command runs (see main.ts), not at start. */
async function implementation() {
  const [platform, { authorizationInput }, { documentKey }, kinds, policy, { loadForCommand }, { table }, { renderTime }, pkg] = await Promise.all([
    import('../compiler/platform/snapshot.ts'),
    import('../compiler/workload/authorization.ts'),
    import('../compiler/platform/fleet.ts'),
    import('../compiler/kinds.ts'),
    import('../policy/index.ts'),
    import('./load.ts'),
    import('./output.ts'),
    import('./render.ts'),
    import('../compiler/package/pipeline.ts'),
  ]);
  return { ...platform, authorizationInput, documentKey, ...policy, loadForCommand, table, renderTime, ...kinds, packageRequests: pkg.packageRequests };
}



/** Registers `lattice authz check` and `lattice authz validate`. */
export function registerAuthz(program: Command, setExit: (code: number) => void, streams: Streams): void {
  const authz = program.command('authz').description('Cedar authorization: explain decisions for a service, validate policies.');

  authz
    .command('check')
    .description('Print every authorization decision for one service, with the policies behind each.')
    .argument('<path...>', 'YAML files or folders with the LatticeServices, CedarPolicies and Namespaces')
    .requiredOption('--service <namespace/name>', 'the service to check, e.g. commerce/payments')
    .addHelpText('after', '\nExit status 0 when every request is allowed, 1 when any is denied or could not be decided, 2 when the service is not found.')
    .action(async (paths: string[], opts: { service: string }) => {
      const { loadForCommand, snapshotPlatform, buildContext, renderTime, documentKey, authorizationInput, table, workloadKindOf, SERVICE_WORKLOAD, packageRequests, serviceRequests } = await implementation();
      const loaded = loadForCommand(paths, streams);
      if (!loaded) return setExit(EXIT.usage);
      const snapshot = snapshotPlatform(loaded.documents);
      const { classified } = snapshot;
      const problems: PlatformProblem[] = [];
      const images = await verifyImages(snapshot, { bundles: loaded.bundles });
      const ctx = buildContext(classified, renderTime(), problems, images);
      for (const p of problems.filter((x) => x.kind === 'CedarPolicy')) {
        for (const d of p.diagnostics) streams.stderr(`warning: CedarPolicy ${p.name} is not used: ${d.message}\n`);
      }
      const doc = classified.services.find((d) => documentKey(d.object) === opts.service);
      if (!doc) {
        const known = classified.services.map((d) => documentKey(d.object));
        streams.stderr(`error: no workload ${opts.service} (a LatticeService or another workload kind) under ${paths.join(', ')}. Workloads found: ${known.join(', ') || 'none'}.\n`);
        setExit(EXIT.usage);
        return;
      }
      // Every workload kind (src/compiler/kinds.ts): its view is what the shared gates authorize.
      const kind = workloadKindOf(doc.object) ?? SERVICE_WORKLOAD;
      const value = doc.validated ?? kind.parse(doc.object);
      const service = doc.validated ?? (value === undefined ? undefined : kind.view(value));
      if (!service) {
        streams.stderr(`error: ${kind.kind} ${opts.service} is not valid, so it cannot be authorized: run lattice render to see its problems.\n`);
        setExit(EXIT.failed);
        return;
      }
      const input = authorizationInput(service, ctx);
      // A package also needs DeployPackage on its chart (src/compiler/package/pipeline.ts).
      const requests = kind.kind === 'LatticePackage' ? packageRequests(value as Parameters<typeof packageRequests>[0], input) : serviceRequests(input);
      const { decisions, summary } = ctx.policyEngine!.decide(requests);
      const rows = [['ACTION', 'RESOURCE', 'DECISION', 'DETERMINING POLICIES']];
      for (const d of decisions) rows.push([d.action, d.resourceDescription, d.outcome.toUpperCase(), d.determiningPolicies.join(', ') || '(none: default deny)']);
      streams.stdout(decisions.length > 0 ? table(rows) : 'The service asks for nothing that needs a permit.\n');
      for (const d of decisions.filter((x) => x.outcome !== 'allow')) streams.stdout(`\n${d.reason}: ${d.message}\n`);
      streams.stdout(`\nPolicyAuthorized=${summary.status} (${summary.reason}): ${summary.message}\n`);
      setExit(summary.status === 'True' ? EXIT.ok : EXIT.failed);
    });

  authz
    .command('validate')
    .description('Validate every CedarPolicy against the Lattice Cedar schema (strict mode).')
    .argument('<path...>', 'YAML files or folders with CedarPolicies')
    .addHelpText('after', '\nPrints Cedar\'s messages with file:line:col. Exit status 0 when every CedarPolicy is valid, 1 otherwise.')
    .action(async (paths: string[]) => {
      const { loadForCommand, readCedarPolicies, classify, validateCedarPolicies, formatPolicyProblem } = await implementation();
      const loaded = loadForCommand(paths, streams);
      if (!loaded) return setExit(EXIT.usage);
      const problems: PlatformProblem[] = [];
      const sources = readCedarPolicies(classify(loaded.documents).cedarPolicies, problems);
      for (const p of problems) for (const d of p.diagnostics) streams.stdout(`error: CedarPolicy ${p.name}: ${d.path ?? ''}: ${d.message}\n`);
      const validations = validateCedarPolicies(sources);
      for (const v of validations) for (const p of v.problems) streams.stdout(`${formatPolicyProblem(p)}\n`);
      const valid = validations.filter((v) => v.valid);
      const count = valid.reduce((n, v) => n + v.policies.length, 0);
      streams.stdout(`${valid.length} of ${validations.length + problems.length} CedarPolicies valid (${count} policies).\n`);
      if (loaded.errors.length > 0) setExit(EXIT.usage);
      else setExit(valid.length === validations.length && problems.length === 0 ? EXIT.ok : EXIT.failed);
    });
}
