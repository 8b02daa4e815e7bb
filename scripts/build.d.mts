/** Types of scripts/build.mjs (plain JavaScript, so it runs before anything is built). */
import type { Metafile } from 'esbuild';

/** Node.js built-ins replaced by their npm package in the bundle (esbuild `alias`). */
export declare const ALIAS: Record<string, string>;

/** Packages left out of the bundle and loaded from node_modules at run time. */
export declare const EXTERNAL: string[];

/**
 * Bundles the CLI into `outdir` (absolute, or relative to the repository root; default `dist`; emptied
 * first). Resolves to the files written (relative to `outdir`) and esbuild's metafile (paths relative to
 * the repository root); rejects with esbuild's errors.
 */
export declare function build(options?: { outdir?: string; minify?: boolean }): Promise<{ files: string[]; metafile: Metafile }>;
