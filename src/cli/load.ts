/**
 * Reads YAML input for the commands: every `.yaml`/`.yml` file under the given files or folders
 * (folders recursively, in sorted order), every document of each, with positions for errors, and
 * the local files that services name in `files.*.source`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseYamlDocuments, type SourceError } from '../api/source.ts';
import type { PlatformDocument } from '../compiler/platform.ts';
import { policyTextLocator } from '../policy/index.ts';

/** What was read: the documents, and the errors of files that could not be read or parsed. */
export interface LoadResult {
  documents: PlatformDocument[];
  /** Sigstore bundles (`*.sigstore.json` files), parsed, for offline signature verification. */
  bundles: unknown[];
  errors: SourceError[];
  files: string[];
}

/**
 * The path that stands for standard input (`lattice render -`), as kubectl reads `-f -`. Documents
 * read from it are named `<stdin>` in messages; their `files.*.source` are relative to the working folder.
 */
export const STDIN = '-';

/** Lists the YAML files under `paths` (`-` is standard input); a path that does not exist is an error with the fix. */
export function findYamlFiles(paths: string[]): { files: string[]; errors: SourceError[] } {
  const files: string[] = [];
  const errors: SourceError[] = [];
  const walk = (path: string, explicit: boolean): void => {
    if (path === STDIN && explicit) {
      if (!files.includes(STDIN)) files.push(STDIN);
      return;
    }
    let stat;
    try {
      stat = statSync(path);
    } catch {
      errors.push({ location: { file: path, line: 0, column: 0 }, message: 'no such file or folder: check the path' });
      return;
    }
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (entry.startsWith('.') || entry === 'node_modules') continue;
        walk(join(path, entry), false);
      }
    } else if (explicit || /\.ya?ml$/i.test(path) || /\.sigstore\.json$/i.test(path)) {
      files.push(path);
    }
  };
  for (const p of paths) walk(p, true);
  return { files, errors };
}

/** Reads and parses every YAML document under `paths`. */
export function loadDocuments(paths: string[]): LoadResult {
  const { files, errors } = findYamlFiles(paths);
  const documents: PlatformDocument[] = [];
  const bundles: unknown[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file === STDIN ? 0 : file, 'utf8');
    } catch (err) {
      errors.push({ location: { file, line: 0, column: 0 }, message: `cannot read the file: ${(err as Error).message}` });
      continue;
    }
    if (/\.sigstore\.json$/i.test(file)) {
      try {
        bundles.push(JSON.parse(text));
      } catch (err) {
        errors.push({ location: { file, line: 0, column: 0 }, message: `not a JSON Sigstore bundle: ${(err as Error).message}` });
      }
      continue;
    }
    const parsed = parseYamlDocuments(text, file === STDIN ? '<stdin>' : file);
    errors.push(...parsed.errors);
    for (const doc of parsed.documents) {
      if (doc.object === null || typeof doc.object !== 'object' || Array.isArray(doc.object)) {
        errors.push({ location: doc.locate([]), message: 'this document is not a Kubernetes object (a map with apiVersion, kind and metadata)' });
        continue;
      }
      const entry: PlatformDocument = { object: doc.object, locate: doc.locate, origin: `${file}#${doc.index + 1}` };
      if ((doc.object as { kind?: unknown }).kind === 'CedarPolicy') {
        const locatePolicyText = policyTextLocator(text, doc.index);
        if (locatePolicyText) entry.locatePolicyText = locatePolicyText;
      }
      const sources = readFileSources(doc.object, file);
      if (sources) entry.fileSources = sources;
      documents.push(entry);
    }
  }
  return { documents, bundles, errors, files: files.filter((f) => !/\.sigstore\.json$/i.test(f)) };
}

/** Reads the `files.*.source` files a LatticeService names, relative to its YAML file. Unreadable ones are left out (the compiler reports them). */
function readFileSources(object: object, file: string): Record<string, string> | undefined {
  const containers = (object as { spec?: { workload?: { containers?: Record<string, { files?: Record<string, { source?: unknown }> }> } } }).spec?.workload?.containers;
  if (!containers || typeof containers !== 'object') return undefined;
  const out: Record<string, string> = {};
  const base = file === STDIN ? process.cwd() : dirname(resolve(file));
  for (const c of Object.values(containers)) {
    for (const f of Object.values(c?.files ?? {})) {
      if (typeof f?.source !== 'string' || f.source in out) continue;
      const path = resolve(base, f.source);
      const rel = relative(base, path);
      if (rel.startsWith('..') || f.source.startsWith('/')) {
        // A source must stay inside the spec's folder: a spec rendered in CI must not read arbitrary files.
        continue;
      }
      try {
        out[f.source] = readFileSync(path, 'utf8');
      } catch {
        // reported by the compiler as FileSourceUnreadable
      }
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Where commands write; injectable for tests. */
export interface Streams {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * Progress of a long command, one short line replacing the previous (`''` clears it). Set only
   * when stderr is a terminal, so pipes, files and CI logs never see it.
   */
  progress?: (text: string) => void;
}

/** `file:line:col: message` of a load error, for stderr. */
export function formatSourceError(err: SourceError): string {
  return `error: ${err.location.file}${err.location.line ? `:${err.location.line}:${err.location.column}` : ''}: ${err.message}\n`;
}

/**
 * Loads the documents for a command, printing every file error to stderr. Returns undefined (after
 * saying so) when no YAML file was found at all: a bad invocation.
 */
export function loadForCommand(paths: string[], streams: Streams): LoadResult | undefined {
  const loaded = loadDocuments(paths);
  for (const err of loaded.errors) streams.stderr(formatSourceError(err));
  if (loaded.files.length === 0 && loaded.errors.length === 0) {
    streams.stderr(`error: no YAML files found under ${paths.join(', ')}: pass the files or folders holding your LatticeServices\n`);
    return undefined;
  }
  return loaded;
}
