/**
 * The `lattice` command line. Thin: every command parses its arguments and calls the api, compiler,
 * policy or controller layers. Exit status 0 success, 1 something failed (a service, a check),
 * 2 bad invocation or unreadable input, 3 internal error (a bug).
 *
 * Start-up: the command tree (names, arguments, options, help) is built from modules that load only
 * commander and constants; each command loads its implementation with `import()` in its action, so
 * `lattice --help` or `lattice install` never load the compiler, Cedar or the Kubernetes client.
 * In the bundle (`npm run build`), each such `import()` is its own chunk. Keep new top-level imports
 * of this module and of the `register*` modules free of the api schemas (zod) and of the compiler.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT } from './exit.ts';
import type { RenderFormat, Streams } from './render.ts';
import { registerImages } from './images.ts';
import { registerAuthz } from './authz.ts';
import { registerController } from './controller.ts';
import { registerInstall } from './install.ts';
import { registerChangeCommands, registerCompletion, registerProductCommands } from './register.ts';

const io: Streams = {
  stdout: (t: string): void => void process.stdout.write(t),
  stderr: (t: string): void => void process.stderr.write(t),
};
if (process.stderr.isTTY) io.progress = (t: string): void => void process.stderr.write(`\r\x1b[K${t}`);

/** Builds the command tree; `setExit` receives each command's exit status. */
export function buildProgram(setExit: (code: number) => void, streams = io): Command {
  const program = new Command();
  program
    .name('lattice')
    .description('Declare a service\'s intent once; derive its Kubernetes infrastructure with security, observability and availability built in.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: streams.stdout, writeErr: streams.stderr })
    .exitOverride();

  program
    .command('render')
    .description('Derive every object from a folder of YAML, offline, and print them (no cluster needed).')
    .argument('<path...>', 'YAML files or folders (searched recursively for *.yaml and *.yml); - reads standard input')
    .addOption(new Option('-o, --output <format>', 'output format: documents (yaml, json), kind.group/name lines (name), or a table (wide)').choices(['yaml', 'json', 'name', 'wide']).default('yaml'))
    .option('--out-dir <dir>', 'write one file per object under DIR/<namespace>/<service>/ and a kustomization.yaml in apply order, removing files an earlier render wrote there and no longer writes')
    .option('-n, --namespace <namespace>', 'print only the objects of services in this namespace (every service is still derived)')
    .option('--service <name>', 'print only the objects of this service (name or namespace/name)')
    .option('--check', 'print no objects, only the summary: validate in CI (the exit status says it all)')
    .option('-q, --quiet', 'no summary on stderr unless something failed')
    .option('--resolve-digests', 'resolve image tags to digests in the registry (needs network access; only when the platform setting imageTags is resolve)')
    .addHelpText('after', `
Output: the derived objects, then the input LatticeServices with their computed .status.
A summary goes to stderr. Exit status: 0 every service Ready, 1 a service or platform resource
failed, 2 bad invocation or unparseable input. Renders are reproducible: condition timestamps are
SOURCE_DATE_EPOCH when set, else the Unix epoch.

Examples:
  lattice render platform/ | kubectl apply --server-side -f -
  lattice render platform/ --service commerce/payments -o name
  cat payments.yaml | lattice render - platform/policies.yaml
  lattice render platform/ --out-dir deploy/ && kubectl apply -k deploy/`)
    .action(async (paths: string[], opts: { output: RenderFormat; outDir?: string; resolveDigests?: boolean; namespace?: string; service?: string; check?: boolean; quiet?: boolean }) => {
      const { render } = await import('./render.ts');
      const options: Parameters<typeof render>[1] = { output: opts.output, resolveDigests: opts.resolveDigests === true, check: opts.check === true, quiet: opts.quiet === true };
      if (opts.outDir !== undefined) options.outDir = opts.outDir;
      if (opts.namespace !== undefined) options.namespace = opts.namespace;
      if (opts.service !== undefined) options.service = opts.service;
      setExit(await render(paths, options, streams));
    });

  registerImages(program, setExit, streams);
  registerAuthz(program, setExit, streams);

  program
    .command('graph')
    .description('Draw the service graph: who calls whom, agreed (solid) or one-sided (dashed, with what is missing), and external services.')
    .argument('<path...>', 'YAML files or folders (searched recursively for *.yaml and *.yml)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['mermaid', 'dot', 'json']).default('mermaid'))
    .addHelpText('after', `
An edge is agreed when the caller declares the callee (direction outbound or both) and the callee
declares the caller (direction inbound or both, or id "*"); only agreed edges carry traffic.
Render Mermaid at mermaid.live or in Markdown; DOT with \`dot -Tsvg\`.`)
    .action(async (paths: string[], opts: { output: 'mermaid' | 'dot' | 'json' }) => {
      const { graphCommand } = await import('./graph.ts');
      setExit(graphCommand(paths, opts.output, streams));
    });

  registerChangeCommands(program, setExit, streams);
  registerProductCommands(program, setExit, streams);
  registerController(program, setExit, streams);
  registerInstall(program, setExit, streams);

  program
    .command('crds')
    .description('Print the CustomResourceDefinitions of every Lattice kind (apply them before running the controller).')
    .action(async () => {
      const [{ allCrds }, { writeYamlStream }] = await Promise.all([import('../api/crd.ts'), import('./output.ts')]);
      writeYamlStream(allCrds(), streams.stdout);
      setExit(EXIT.ok);
    });

  program
    .command('explain')
    .description('Document a field of a Lattice kind, like kubectl explain.')
    .argument('<field>', 'kind and field path, e.g. latticeservice.spec.workload.containers')
    .option('-r, --recursive', 'list every nested field')
    .option('--api-version <version>', 'explain an older served version, e.g. lattice.dev/v1alpha1 (default: the newest)')
    .action(async (field: string, opts: { recursive?: boolean; apiVersion?: string }) => {
      const { explain } = await import('../api/explain.ts');
      const result = explain(field, opts.recursive === true, opts.apiVersion);
      if (result.ok) {
        streams.stdout(result.text);
        setExit(EXIT.ok);
      } else {
        streams.stderr(`error: ${result.error}\n`);
        setExit(EXIT.usage);
      }
    });
  registerCompletion(program, setExit, streams);
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit status. */
export async function run(argv: string[], streams = io): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => (code = c), streams);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    streams.stderr(`lattice: internal error: ${(err as Error).message}\nThis is a bug in Lattice; please report it with the command you ran.\n`);
    if (process.env.LATTICE_DEBUG) streams.stderr(`${(err as Error).stack}\n`);
    return EXIT.internal;
  }
  return code;
}
