/**
 * The command declarations of `lattice diff`, `migrate`, `schema`, `score`, `catalog` and `completion`: names,
 * arguments, options and help only. Like every `register*` module (see main.ts) this loads nothing
 * but commander and constants; each action imports its implementation when the command runs.
 */
import { Option, type Command } from 'commander';
import { EXIT } from './exit.ts';
import type { DiffOptions } from './diff.ts';
import type { Streams } from './load.ts';

type SetExit = (code: number) => void;

/** `lattice diff`, `lattice migrate` and `lattice schema`: change safety. */
export function registerChangeCommands(program: Command, setExit: SetExit, streams: Streams): void {
  program
    .command('diff')
    .description('Show what a change does to derived infrastructure: two trees, two git revisions, or a tree against the live cluster.')
    .argument('[path...]', 'two trees (A B); with --git, the paths to compare at each revision (default .); with --cluster, the tree to render')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--git <revisions>', 'compare git revisions: A..B, A.. (A..HEAD), or A (A against the working tree)')
    .option('--cluster', 'compare the live cluster with what applying the render would make of it (server-side dry-run)')
    .option('--kubeconfig <file>', 'with --cluster: kubeconfig file (default $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'with --cluster: kubeconfig context')
    .addHelpText('after', `
Examples:
  lattice diff old/ new/                 # two folders
  lattice diff --git main..HEAD platform/  # what this branch changes
  lattice diff --cluster platform/       # what applying the render would change in the cluster
Exit status: 0 no differences, 1 differences, 2 bad invocation or unreadable input.`)
    .action(async (paths: string[], opts: DiffOptions) => {
      const { diffCommand } = await import('./diff.ts');
      setExit(await diffCommand(paths, opts, streams));
    });

  program
    .command('migrate')
    .description('Rewrite LatticeService documents from lattice.dev/v1alpha1 to lattice.dev/v1beta1 in place, keeping comments, key order and every other document.')
    .argument('<path...>', 'YAML files or folders (searched recursively for *.yaml and *.yml)')
    .option('--check', 'write nothing; list the files that still need migration and exit 1 if any (for CI)')
    .addHelpText('after', `
What changes (docs/versioning.md): spec.workload.hostNetwork moves to spec.hostNetwork, and a
container's security.capabilities.add list becomes security.capabilities. Running it again
changes nothing. Exit status: 0 migrated or nothing to do, 1 --check found files to migrate or a
document could not be migrated (file:line named), 2 bad invocation or unreadable input.`)
    .action(async (paths: string[], opts: { check?: boolean }) => {
      const { migrateCommand } = await import('./migrate.ts');
      setExit(migrateCommand(paths, opts, streams));
    });

  program
    .command('schema')
    .description('Print JSON Schemas of the Lattice kinds for editors (completion and validation as you type).')
    .argument('[kind]', 'one kind (latticeservice, ls, ...); default: one schema for every Lattice kind')
    .option('--out-dir <dir>', 'write all.json and one <kind>.json per kind into DIR')
    .addHelpText('after', `
Use with the YAML extension of VS Code (yaml-language-server), at the top of a spec file:
  # yaml-language-server: $schema=../schemas/all.json
or in settings: "yaml.schemas": { "./schemas/all.json": "platform/**/*.yaml" }`)
    .action(async (kind: string | undefined, opts: { outDir?: string }) => {
      const { schemaCommand } = await import('./schema.ts');
      setExit(schemaCommand(kind, opts, streams));
    });
}

/** `lattice score` and `lattice catalog`: the platform as a product. */
export function registerProductCommands(program: Command, setExit: SetExit, streams: Streams): void {
  program
    .command('score')
    .description('Hold every service against the platform checks (owner, probes, pinned images, non-root, redundancy, quota, runbook and SLO links, approved public routes, no secret values) and summarise the fleet.')
    .argument('<path...>', 'YAML files or folders (searched recursively for *.yaml and *.yml)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a check of this severity or worse fails').choices(['error', 'warning', 'info', 'never']).default('error'))
    .addHelpText('after', `
Annotations read: lattice.dev/runbook and lattice.dev/slo (https URLs) on the LatticeService; the
owner and team come from the namespace (LatticeTeam). Exit status: 0 nothing fails at --fail-on,
1 something does, 2 bad invocation or unreadable input.`)
    .action(async (paths: string[], opts: { output: 'table' | 'json'; failOn: 'error' | 'warning' | 'info' | 'never' }) => {
      const { scoreCommand } = await import('./score.ts');
      setExit(await scoreCommand(paths, { output: opts.output, failOn: opts.failOn }, streams));
    });

  program
    .command('catalog')
    .description('Write the service catalog, a static HTML site: every service with owner, namespace, image, status and score; per service its dependencies, secrets consumed (names only), routes and escape hatches.')
    .argument('<path...>', 'YAML files or folders (searched recursively for *.yaml and *.yml)')
    .requiredOption('--out <dir>', 'folder to write the site to (index.html and services/<namespace>/<name>.html)')
    .addHelpText('after', `
The site needs no server and fetches nothing: open DIR/index.html in a browser, or publish DIR.
Exit status: 0 written, 1 the folder could not be written, 2 bad invocation or unreadable input.`)
    .action(async (paths: string[], opts: { out: string }) => {
      const { catalogCommand } = await import('./catalog.ts');
      setExit(await catalogCommand(paths, opts.out, streams));
    });
}

/** `lattice completion`: registered last, so the scripts it prints know every command. */
export function registerCompletion(program: Command, setExit: SetExit, streams: Streams): void {
  program
    .command('completion')
    .description('Print a shell completion script: source <(lattice completion bash)')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const { bashCompletion, fishCompletion } = await import('./completion.ts');
      if (shell === 'bash' || shell === 'zsh') streams.stdout(bashCompletion(program));
      else if (shell === 'fish') streams.stdout(fishCompletion(program));
      else {
        streams.stderr(`error: no completion for shell "${shell}": choose bash, zsh or fish\n`);
        setExit(EXIT.usage);
        return;
      }
      setExit(EXIT.ok);
    });
}
