/**
 * The `lattice` command line. Thin: every command parses its arguments and calls the api, compiler,
 * policy or controller layers. Exit status 0 success, 1 something failed (a service, a check),
 * 2 bad invocation or unreadable input, 3 internal error (a bug).
 */
import { Command, CommanderError, Option } from 'commander';
import { allCrds } from '../api/crd.ts';
import { explain } from '../api/explain.ts';
import { EXIT, render } from './render.ts';
import { writeYamlStream } from './output.ts';
import { registerImages } from './images.ts';
import { registerAuthz } from './authz.ts';
import { registerGraph } from './graph.ts';
import { registerController } from './controller.ts';
import { registerInstall } from './install.ts';

const io = {
  stdout: (t: string): void => void process.stdout.write(t),
  stderr: (t: string): void => void process.stderr.write(t),
};

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
    .argument('<path...>', 'YAML files or folders (searched recursively for *.yaml and *.yml)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('--out-dir <dir>', 'write one file per object under DIR/<namespace>/<service>/ instead of stdout')
    .option('--resolve-digests', 'resolve image tags to digests in the registry (needs network access; only when the platform setting imageTags is resolve)')
    .addHelpText('after', `
Output: the derived objects, then the input LatticeServices with their computed .status.
A summary goes to stderr. Exit status: 0 every service Ready, 1 a service or platform resource
failed, 2 bad invocation or unparseable input. Set SOURCE_DATE_EPOCH for reproducible timestamps.`)
    .action(async (paths: string[], opts: { output: 'yaml' | 'json'; outDir?: string; resolveDigests?: boolean }) => {
      const options: Parameters<typeof render>[1] = { output: opts.output, resolveDigests: opts.resolveDigests === true };
      if (opts.outDir !== undefined) options.outDir = opts.outDir;
      setExit(await render(paths, options, streams));
    });

  registerImages(program, setExit, streams);
  registerAuthz(program, setExit, streams);
  registerGraph(program, setExit, streams);
  registerController(program, setExit, streams);
  registerInstall(program, setExit, streams);

  program
    .command('crds')
    .description('Print the CustomResourceDefinitions of every Lattice kind (apply them before running the controller).')
    .action(() => {
      writeYamlStream(allCrds(), streams.stdout);
      setExit(EXIT.ok);
    });

  program
    .command('explain')
    .description('Document a field of a Lattice kind, like kubectl explain.')
    .argument('<field>', 'kind and field path, e.g. latticeservice.spec.workload.containers')
    .option('-r, --recursive', 'list every nested field')
    .action((field: string, opts: { recursive?: boolean }) => {
      const result = explain(field, opts.recursive === true);
      if (result.ok) {
        streams.stdout(result.text);
        setExit(EXIT.ok);
      } else {
        streams.stderr(`error: ${result.error}\n`);
        setExit(EXIT.usage);
      }
    });
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
