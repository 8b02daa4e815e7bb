#!/usr/bin/env node
/**
 * Builds the `lattice` executable's bundle: `src/cli/bin.ts` and everything it imports, dependencies
 * included, as ES modules for Node.js under `dist/` (`dist/lattice.mjs` plus the chunks it loads on
 * demand). `bin/lattice.js` runs it; without it, `bin/lattice.js` runs the TypeScript sources through
 * tsx, which starts about ten times slower.
 *
 *   npm run build                    build dist/
 *   node scripts/build.mjs --outdir DIR
 *   node scripts/build.mjs --if-esbuild  the `prepare` script, run by `npm ci` / `npm install`: builds,
 *                                        or only says why not when esbuild is not installed
 *                                        (`npm ci --omit=dev`); bin/lattice.js then runs the sources
 *
 * Why this shape:
 * - Code splitting: every command loads its implementation with a dynamic `import()` inside its action,
 *   so esbuild puts it in its own chunk and `lattice --help` parses only the command tree.
 * - Dependencies are bundled (no module resolution across hundreds of files at start), except the
 *   few in EXTERNAL below, which stay in node_modules.
 * - Text files a module reads next to itself at load time
 *   (`readFileSync(new URL('./lattice.cedarschema', import.meta.url), 'utf8')`) are inlined as string
 *   literals: in the bundle, `import.meta.url` is the chunk's URL, not the source file's. Any other
 *   `import.meta.url` left in Lattice's own code fails the build, so a new asset cannot go missing at run time.
 * - Bundled CommonJS dependencies call `require` (for `node:*` modules and for optional peers they try in
 *   a try/catch); an ES module has no `require`, so the banner makes one with `createRequire`.
 *
 * Plain JavaScript (not TypeScript) so it runs on a fresh clone before anything is built, with nothing
 * but Node.js and the installed devDependency esbuild (whose install script npm 11 skips by default:
 * not needed, the platform binary comes from the optional dependency `@esbuild/<os>-<cpu>`).
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Node.js built-ins replaced by their npm package in the bundle. `punycode`: node-fetch's whatwg-url/tr46
 * and ajv-formats-draft2019 call `require("punycode")`, Node's deprecated built-in (the same punycode.js
 * 2.x). Node only warns (DEP0040) when the caller is outside node_modules, which bundled code is, so
 * the bundle would print a deprecation warning the sources never do.
 */
export const ALIAS = { punycode: 'punycode/' };

/**
 * Packages left out of the bundle and loaded from node_modules at run time:
 * - `@cedar-policy/cedar-wasm`: its Node.js build reads `cedar_wasm_bg.wasm` next to itself (`__dirname`);
 * - `node-fetch` (v2, the HTTP client of @kubernetes/client-node): it calls `url.parse()`, and Node.js 24
 *   prints a DEP0169 deprecation warning for that unless the caller is inside node_modules, which
 *   bundled code is not; loaded from node_modules it behaves as when running the sources.
 */
export const EXTERNAL = ['@cedar-policy/cedar-wasm', '@cedar-policy/cedar-wasm/*', 'node-fetch'];

const SIBLING_TEXT = /readFileSync\(new URL\('(\.\/[^']+)', import\.meta\.url\), 'utf8'\)/g;

/** esbuild plugin: inlines sibling text files read at load time by Lattice's sources (see the module comment). */
const inlineSiblingText = {
  name: 'lattice-inline-sibling-text',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const watchFiles = [];
      const contents = source.replace(SIBLING_TEXT, (_, rel) => {
        const file = join(dirname(args.path), rel);
        watchFiles.push(file);
        return JSON.stringify(readFileSync(file, 'utf8'));
      });
      if (contents.includes('import.meta.url')) {
        return { errors: [{ text: `${args.path} uses import.meta.url in a way the bundle cannot keep (only readFileSync(new URL('./file', import.meta.url), 'utf8') is inlined): read the file another way or extend scripts/build.mjs` }] };
      }
      return { contents, loader: 'ts', watchFiles };
    });
  },
};

/**
 * Bundles the CLI into `outdir` (absolute, or relative to the repository root; emptied first).
 * Resolves to the files written (relative to `outdir`) and esbuild's metafile (inputs and outputs, with
 * paths relative to the repository root); rejects with esbuild's errors.
 * @param {{ outdir?: string, minify?: boolean }} [options]
 * @returns {Promise<{ files: string[], metafile: import('esbuild').Metafile }>}
 */
export async function build(options = {}) {
  const { build: esbuild } = await import('esbuild');
  const outdir = fileURLToPath(new URL(options.outdir ?? 'dist', `file://${ROOT}`));
  rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: { lattice: 'src/cli/bin.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    external: EXTERNAL,
    alias: ALIAS,
    minifySyntax: true,
    minifyWhitespace: options.minify === true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    metafile: true,
    plugins: [inlineSiblingText],
    logLevel: 'warning',
    banner: { js: "import { createRequire as __latticeCreateRequire } from 'node:module'; const require = __latticeCreateRequire(import.meta.url);" },
  });
  const files = Object.keys(result.metafile.outputs).map((f) => join(ROOT, f).slice(outdir.length + 1));
  return { files, metafile: result.metafile };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, minify: { type: 'boolean' }, 'if-esbuild': { type: 'boolean' } } });
  if (values['if-esbuild']) {
    try {
      await import('esbuild');
    } catch {
      process.stderr.write('lattice: esbuild is not installed (devDependencies left out?), so dist/ is not built; bin/lattice.js needs dist/ or the devDependency tsx\n');
      process.exit(0);
    }
  }
  try {
    const { files } = await build({ outdir: values.outdir, minify: values.minify });
    process.stderr.write(`lattice: built ${files.filter((f) => f.endsWith('.mjs')).length} modules into ${values.outdir ?? 'dist'}/ (bin/lattice.js runs dist/lattice.mjs)\n`);
  } catch (err) {
    process.stderr.write(`lattice: the build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
