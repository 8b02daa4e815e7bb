/**
 * `lattice install`: print the manifests that install the operator (src/controller/install.ts):
 * `lattice install | kubectl apply -f -` (or `kubectl apply --server-side -f -`).
 */
import { Option, type Command } from 'commander';
import { parseImageReference } from '../supplychain/reference.ts';
import { EXIT } from './exit.ts';
import type { Streams } from './render.ts';

/** The version printed in labels and used in the default image tag. */
export const OPERATOR_VERSION = '0.1.0';
/** Default operator image: the tag `docker build -t lattice-controller:0.1.0 .` produces (load it into kind with `kind load docker-image`). */
export const DEFAULT_IMAGE = `lattice-controller:${OPERATOR_VERSION}`;

/** Registers `lattice install`. */
export function registerInstall(program: Command, setExit: (code: number) => void, streams: Streams): void {
  program
    .command('install')
    .description('Print the manifests that install the operator: namespace, CRDs, RBAC, Deployment, metrics Service.')
    .option('--image <ref>', 'operator image (build it from the Dockerfile; pin a digest in production)', DEFAULT_IMAGE)
    .option('--replicas <n>', 'controller replicas (one leads, the others stand by)', '2')
    .option('--controller-arg <arg...>', 'extra arguments for `lattice controller`, e.g. --controller-arg=--log-level=debug')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .addOption(new Option('--format <format>', 'with --out-dir: a Helm chart or a kustomize base instead of manifests on stdout').choices(['helm', 'kustomize']))
    .option('--out-dir <dir>', 'write the --format package into DIR')
    .addHelpText('after', `
Install: lattice install | kubectl apply --server-side -f -
Helm:    lattice install --format helm --out-dir chart/ && helm install lattice chart/
Kustomize: lattice install --format kustomize --out-dir base/ && kubectl apply --server-side -k base/
Uninstall: lattice install | kubectl delete -f -  (deletes the CRDs, hence every Lattice object)`)
    .action(async (opts: { image: string; replicas: string; controllerArg?: string[]; output: 'yaml' | 'json'; format?: 'helm' | 'kustomize'; outDir?: string }) => {
      const replicas = Number(opts.replicas);
      if (!Number.isInteger(replicas) || replicas < 1) {
        streams.stderr(`error: --replicas: "${opts.replicas}" must be a whole number of at least 1\n`);
        setExit(EXIT.usage);
        return;
      }
      const image = parseImageReference(opts.image);
      if (!image.ok) {
        streams.stderr(`error: --image: "${opts.image}" is not an image reference: ${image.error}\n`);
        setExit(EXIT.usage);
        return;
      }
      if ((opts.format === undefined) !== (opts.outDir === undefined)) {
        streams.stderr('error: --format and --out-dir go together: lattice install --format helm --out-dir chart/\n');
        setExit(EXIT.usage);
        return;
      }
      const settings = { image: opts.image, replicas, extraArgs: opts.controllerArg ?? [], version: OPERATOR_VERSION };
      // Loaded here, not at start: the CRDs come from the API schemas (zod), which `--help` does without.
      const [{ installManifests }, { writeJsonList, writeYamlStream }, { helmChart, kustomizeBase, writePackage }] = await Promise.all([
        import('../controller/install.ts'), import('./output.ts'), import('./install-package.ts'),
      ]);
      if (opts.format !== undefined && opts.outDir !== undefined) {
        const files = opts.format === 'helm' ? helmChart(settings) : kustomizeBase(settings);
        writePackage(opts.outDir, files);
        streams.stderr(`Wrote the ${opts.format === 'helm' ? 'Helm chart' : 'kustomize base'} (${files.size} files) to ${opts.outDir}.\n`);
        setExit(EXIT.ok);
        return;
      }
      const objects = installManifests(settings);
      if (opts.output === 'json') writeJsonList(objects, streams.stdout);
      else writeYamlStream(objects, streams.stdout);
      setExit(EXIT.ok);
    });
}
