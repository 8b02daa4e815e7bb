/**
 * `lattice catalog PATH... --out DIR`: writes the service catalog (src/catalog/site.ts), a static
 * HTML site, to DIR: `index.html` and `services/<namespace>/<name>.html`. Derives the platform as
 * `lattice render` does (offline; images verified against the bundles found) and scores it as
 * `lattice score` does. Nothing in the site fetches anything when viewed.
 *
 * Exit status: 0 written (failing services are shown, not an error), 2 bad invocation or unreadable
 * input, 1 the folder could not be written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildCatalog } from '../catalog/site.ts';
import { scorePlatform } from '../compiler/score/index.ts';
import { graphOfDocuments, graphView } from './graph.ts';
import { EXIT, renderPaths, renderTime, type Streams } from './render.ts';

/** Runs `lattice catalog`; resolves to the exit status. */
export async function catalogCommand(paths: string[], outDir: string, io: Streams): Promise<number> {
  const now = renderTime();
  const rendered = await renderPaths(paths, { now }, io);
  if (!rendered) return EXIT.usage;
  const { loaded, result: platform } = rendered;
  const score = scorePlatform(platform, loaded.documents);
  const graph = graphView(graphOfDocuments(loaded.documents));
  const files = buildCatalog({ platform, score, graph, generated: now });
  try {
    for (const [path, html] of files) {
      const target = join(outDir, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, html);
    }
  } catch (err) {
    io.stderr(`error: cannot write the catalog to ${outDir}: ${(err as Error).message}. Check the folder is writable, or pass another --out.\n`);
    return EXIT.failed;
  }
  io.stderr(`Catalog of ${platform.services.length} services written to ${join(outDir, 'index.html')} (${files.size} pages).\n`);
  return loaded.errors.length > 0 ? EXIT.usage : EXIT.ok;
}
