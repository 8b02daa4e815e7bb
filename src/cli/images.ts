/**
 * Image verification for the commands: runs the supply-chain verifier over every image the input's
 * services run, before derivation, and `lattice images verify PATH` to print the decisions as a table.
 *
 * Signatures come from Sigstore bundle files (`*.sigstore.json` under the given paths, checked
 * offline first) and otherwise from the registry (network). Registry credentials are read from the
 * Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`) when present.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { PlatformDocument, PlatformSnapshot } from '../compiler/platform/snapshot.ts';
import type { ImageVerification } from '../supplychain/verify.ts';
import { EXIT } from './exit.ts';
import type { Streams } from './render.ts';

/** Options of {@link verifyImages}. */
export interface VerifyOptions {
  /** Parsed Sigstore bundles given on the command line (files). */
  bundles?: readonly unknown[];
  /** `--resolve-digests`: resolve tags to digests when the platform setting imageTags is resolve. */
  resolveDigests?: boolean;
  /** HTTP client (tests). */
  fetch?: typeof fetch;
}

function dockerConfig(): string | undefined {
  const dir = process.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  try {
    return readFileSync(join(dir, 'config.json'), 'utf8');
  } catch {
    return undefined;
  }
}

/** Verifies every image of the documents' (or the snapshot's) valid services; results by image reference as written. */
export async function verifyImages(documents: PlatformDocument[] | PlatformSnapshot, options: VerifyOptions = {}): Promise<Map<string, ImageVerification>> {
  // Loaded on first use, not at start (see main.ts): `lattice images --help` needs none of it.
  const [{ imagesToVerify }, { ImageVerifier }, { credentialsFromDockerConfig }, { parseRegistryScope }] = await Promise.all([
    import('../compiler/platform/snapshot.ts'),
    import('../supplychain/verify.ts'),
    import('../supplychain/registry.ts'),
    import('../supplychain/scope.ts'),
  ]);
  const { images, providers, settings } = imagesToVerify(documents);
  const resolve = settings.imageTags === 'resolve' && options.resolveDigests === true;
  const config = dockerConfig();
  const verifier = new ImageVerifier({
    providers,
    tags: resolve ? 'resolve' : 'reject',
    bundles: options.bundles ?? [],
    ...(options.fetch ? { fetch: options.fetch } : {}),
    credentials: (p) => {
      const scope = parseRegistryScope(p.spec.registry);
      return config && scope.ok ? credentialsFromDockerConfig(config, scope.scope.host) : undefined;
    },
  });
  const results = await verifier.verifyAll(images);
  const out = new Map<string, ImageVerification>();
  for (const v of results) {
    if (v.outcome === 'ImageNotPinned' && settings.imageTags === 'resolve' && !resolve) {
      v.message += ' This platform allows tags: run lattice render with --resolve-digests (it needs network access to the registry) to resolve them to digests.';
    }
    out.set(v.image, v);
  }
  return out;
}


/** Registers `lattice images verify`. */
export function registerImages(program: Command, setExit: (code: number) => void, streams: Streams): void {
  const images = program.command('images').description('Supply-chain checks of the images services run.');
  images
    .command('verify')
    .description('Verify every image of the given services: digest pinning and signatures by the keys of the ImageProviders.')
    .argument('<path...>', 'YAML files or folders with LatticeServices, ImageProviders and Sigstore bundle files (*.sigstore.json)')
    .option('--resolve-digests', 'resolve tags to digests in the registry, when the platform setting imageTags is resolve (needs network access)')
    .addHelpText('after', '\nPrints one row per image: image, digest, verified by, or why not. Exit status 1 when an image would stop its service.')
    .action(async (paths: string[], opts: { resolveDigests?: boolean }) => {
      const [{ loadForCommand }, { table }, { isBlocking }] = await Promise.all([import('./load.ts'), import('./output.ts'), import('../supplychain/verify.ts')]);
      const loaded = loadForCommand(paths, streams);
      if (!loaded) return setExit(EXIT.usage);
      const results = await verifyImages(loaded.documents, { bundles: loaded.bundles, resolveDigests: opts.resolveDigests === true });
      const rows = [['IMAGE', 'DIGEST', 'RESULT', 'VERIFIED BY / WHY NOT']];
      for (const v of results.values()) {
        const digest = v.digest ? `${v.digest.slice(0, 19)}…` : '-';
        const result = v.outcome === 'NotRequired' ? 'not required' : isBlocking(v) ? `FAIL ${v.outcome}` : v.outcome;
        rows.push([v.image, digest, result, v.signed ? `key ${v.verifiedBy}${v.provider ? ` (ImageProvider ${v.provider})` : ''}` : v.message]);
      }
      streams.stdout(results.size > 0 ? table(rows) : 'No images found: no valid LatticeService under the given paths.\n');
      const blocking = [...results.values()].filter(isBlocking).length;
      if (loaded.errors.length > 0) setExit(EXIT.usage);
      else setExit(blocking > 0 ? EXIT.failed : EXIT.ok);
    });
}
