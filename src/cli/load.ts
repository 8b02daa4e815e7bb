/**
 * Reads YAML input for the commands: every `.yaml`/`.yml` file under the given files or folders
 * (folders recursively, in sorted order), every document of each, with positions for errors, and
 * the local files that services name in `files.*.source`.
 *
 * Input is untrusted (a tenant's repository rendered in CI), so reading fails closed
 * (docs/security.md, "Input handling"):
 * - only regular files are read, opened with O_NONBLOCK so a FIFO cannot hang the render, and
 *   checked again with fstat after opening; devices, FIFOs and sockets are refused;
 * - every read is bounded: a `files.*.source` at {@link MAX_FILE_SOURCE_BYTES}, a YAML file at
 *   {@link MAX_INPUT_FILE_BYTES};
 * - a `files.*.source` must resolve, symbolic links included (fs.realpath), inside the folder of the
 *   YAML file declaring it;
 * - the folder walk never visits a folder twice (by real path), and a symbolic link met during the
 *   walk is followed only when its target lies inside one of the folders given on the command line:
 *   `a -> .` cannot loop, and a link to `/etc` is refused.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseYamlDocuments, type SourceError } from '../api/source.ts';
import type { PlatformDocument } from '../compiler/platform/snapshot.ts';
import { policyTextLocator } from '../policy/index.ts';
import { MAX_CONFIG_DATA_BYTES } from '../compiler/workload/config.ts';

/**
 * Largest file a `files.*.source` may name, in bytes: 1 MiB (1048576), the data limit of a
 * ConfigMap or Secret ({@link MAX_CONFIG_DATA_BYTES}, from Kubernetes' ValidateConfigMap). Such a
 * file becomes a value of one of them, so a larger file could never be delivered, and reading more
 * would only cost memory.
 */
export const MAX_FILE_SOURCE_BYTES = MAX_CONFIG_DATA_BYTES;

/**
 * Largest YAML input file, in bytes: 16 MiB. The API server refuses a request body over 3 MiB and
 * etcd stores an object of at most 1.5 MiB (its default --max-request-bytes), so a file this size
 * already holds at least ten objects of the largest size Kubernetes accepts; a whole platform fits
 * in far less. The bound stops one file from costing minutes and gigabytes: a 50 MiB file took
 * 74 s and 3.2 GB of memory to render (parsing alone, about 0.4 s per MiB).
 */
export const MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The path that stands for standard input (`lattice render -`), as kubectl reads `-f -`. Documents
 * read from it are named `<stdin>` in messages; their `files.*.source` are relative to the working
 * folder. Standard input is the invoker's own, so it is read like a file, bounded the same way.
 */
export const STDIN = '-';

/** What was read: the documents, and the errors of files that could not be read or parsed. */
export interface LoadResult {
  documents: PlatformDocument[];
  /** Sigstore bundles (`*.sigstore.json` files), parsed, for offline signature verification. */
  bundles: unknown[];
  errors: SourceError[];
  files: string[];
}

/** The result of {@link readRegularFile}: the text, or why it was not read (one sentence, no trailing period). */
export type FileRead = { ok: true; text: string } | { ok: false; reason: string };

/** What a non-regular file is, for messages. */
function fileType(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * Reads `path` as UTF-8 text if it is a regular file of at most `maxBytes` bytes. Never blocks on a
 * FIFO (opened with O_NONBLOCK and refused after fstat), never reads more than `maxBytes + 1` bytes
 * (so `/dev/zero`, or a procfs file that reports size 0, is bounded too). With `noFollow`, a path
 * whose last component is a symbolic link is refused (O_NOFOLLOW). Never throws.
 */
export function readRegularFile(path: string, maxBytes: number, options: { noFollow?: boolean } = {}): FileRead {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    // O_NOFOLLOW (for a path already resolved): a link swapped in for the file is not followed.
    const noFollow = options.noFollow === true ? (constants.O_NOFOLLOW ?? 0) : 0;
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | noFollow);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'no such file' };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, reason: 'permission denied' };
    if (code === 'ENXIO') return { ok: false, reason: 'it is a socket or a device, not a regular file' };
    if (code === 'ELOOP') return { ok: false, reason: 'it became a symbolic link while being read' };
    return { ok: false, reason: `cannot open it (${code ?? (err as Error).message})` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, reason: `it is ${fileType(stat)}, and only regular files are read` };
    if (stat.size > maxBytes) return { ok: false, reason: `it holds ${stat.size} bytes, more than the limit of ${maxBytes}` };
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      chunks.push(buffer.subarray(0, n));
      total += n;
      if (total > maxBytes) return { ok: false, reason: `it holds more than the limit of ${maxBytes} bytes` };
    }
    return { ok: true, text: Buffer.concat(chunks, total).toString('utf8') };
  } catch (err) {
    return { ok: false, reason: `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  } finally {
    closeSync(fd);
  }
}

/** True when `child` is `parent` or lies under it (both absolute, already resolved). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

const YAML_FILE = /\.ya?ml$/i;
const BUNDLE_FILE = /\.sigstore\.json$/i;

/**
 * Lists the YAML files (and Sigstore bundles) under `paths`, in sorted order. A path that does not
 * exist is an error with the fix. Loop-safe: a folder is walked once, by real path; a symbolic link
 * met during the walk (file or folder) is followed only when its real path lies inside one of the
 * folders given, otherwise it is an error; a link to a folder already walked is skipped. Paths
 * given explicitly are followed wherever they point (the user named them). FIFOs, devices and
 * sockets with a YAML name are errors, never opened.
 */
export function findYamlFiles(paths: string[]): { files: string[]; errors: SourceError[] } {
  const files: string[] = [];
  const errors: SourceError[] = [];
  const error = (file: string, message: string): void => void errors.push({ location: { file, line: 0, column: 0 }, message });
  const roots: string[] = [];
  const visitedDirs = new Set<string>();
  const seenFiles = new Set<string>();
  const addFile = (path: string, real: string): void => {
    if (seenFiles.has(real)) return;
    seenFiles.add(real);
    files.push(path);
  };
  // Folders are identified by device and inode, so that neither a symbolic link nor a bind mount
  // can make the walk enter a folder twice.
  const walkDir = (path: string, stat: Stats): void => {
    const id = `${stat.dev}:${stat.ino}`;
    if (visitedDirs.has(id)) return;
    visitedDirs.add(id);
    let entries: string[];
    try {
      entries = readdirSync(path).sort();
    } catch (err) {
      error(path, `cannot list the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check its permissions`);
      return;
    }
    for (const entry of entries) {
      if (entry.startsWith('.') || entry === 'node_modules') continue;
      visitEntry(join(path, entry));
    }
  };
  const visitEntry = (path: string): void => {
    let stat: Stats;
    try {
      stat = lstatSync(path);
    } catch {
      return; // removed while walking
    }
    const wanted = YAML_FILE.test(path) || BUNDLE_FILE.test(path);
    if (stat.isSymbolicLink()) {
      const real = realpathOrUndefined(path);
      if (real === undefined) {
        if (wanted) error(path, 'symbolic link to a file that does not exist: fix or remove the link');
        return;
      }
      let target: Stats;
      try {
        target = statSync(real);
      } catch {
        return;
      }
      if (!target.isDirectory() && !wanted) return;
      if (!roots.some((root) => isInside(root, real))) {
        error(path, `symbolic link to ${real}, outside the folders given to lattice: refused, so that a repository cannot make lattice read files elsewhere on the machine. Copy the ${target.isDirectory() ? 'folder' : 'file'} into the folder, or pass ${target.isDirectory() ? 'it' : 'its folder'} on the command line`);
        return;
      }
      if (target.isDirectory()) walkDir(path, target);
      else if (wanted && target.isFile()) addFile(path, real);
      else if (wanted) error(path, `symbolic link to ${fileType(target)}: only regular files are read`);
      return;
    }
    if (stat.isDirectory()) walkDir(path, stat);
    else if (!wanted) return;
    else if (stat.isFile()) addFile(path, realpathOrUndefined(path) ?? resolve(path));
    else error(path, `this is ${fileType(stat)}, not a regular file: only regular files are read (a FIFO or device could hang lattice or feed it without end). Replace it with a regular file`);
  };
  for (const p of paths) {
    if (p === STDIN) continue;
    let stat: Stats;
    try {
      stat = statSync(p);
    } catch {
      error(p, 'no such file or folder: check the path');
      continue;
    }
    const real = realpathOrUndefined(p) ?? resolve(p);
    if (stat.isDirectory()) roots.push(real);
  }
  for (const p of paths) {
    if (p === STDIN) {
      if (!files.includes(STDIN)) files.push(STDIN);
      continue;
    }
    let stat: Stats;
    try {
      stat = statSync(p);
    } catch {
      continue;
    }
    if (stat.isDirectory()) walkDir(p, stat);
    else if (stat.isFile()) addFile(p, realpathOrUndefined(p) ?? resolve(p));
    else error(p, `this is ${fileType(stat)}, not a regular file or folder: pass YAML files or folders holding them`);
  }
  return { files, errors };
}

/** Reads standard input, at most `maxBytes` bytes (a pipe or a terminal: not a regular file). */
function readStdin(maxBytes: number): FileRead {
  const chunks: Buffer[] = [];
  let total = 0;
  const buffer = Buffer.allocUnsafe(64 * 1024);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(0, buffer, 0, buffer.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue; // a non-blocking pipe with nothing yet
        if ((err as NodeJS.ErrnoException).code === 'EOF') break;
        throw err;
      }
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      total += n;
      if (total > maxBytes) return { ok: false, reason: `it holds more than the limit of ${maxBytes} bytes` };
    }
  } catch (err) {
    return { ok: false, reason: `cannot read standard input (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  return { ok: true, text: Buffer.concat(chunks, total).toString('utf8') };
}

/** Reads and parses every YAML document under `paths` (`-` is standard input). */
export function loadDocuments(paths: string[]): LoadResult {
  const { files, errors } = findYamlFiles(paths);
  const documents: PlatformDocument[] = [];
  const bundles: unknown[] = [];
  for (const file of files) {
    const read = file === STDIN ? readStdin(MAX_INPUT_FILE_BYTES) : readRegularFile(file, MAX_INPUT_FILE_BYTES);
    if (!read.ok) {
      const fix = /more than the limit/.test(read.reason) ? ' (16 MiB): split it into several files' : '';
      errors.push({ location: { file, line: 0, column: 0 }, message: `cannot read the file: ${read.reason}${fix}` });
      continue;
    }
    const text = read.text;
    if (BUNDLE_FILE.test(file)) {
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
      if (sources.read.size > 0) entry.fileSources = Object.fromEntries(sources.read);
      if (sources.errors.size > 0) entry.fileSourceErrors = Object.fromEntries(sources.errors);
      documents.push(entry);
    }
  }
  return { documents, bundles, errors, files: files.filter((f) => !BUNDLE_FILE.test(f)) };
}

/**
 * Reads one `files.*.source` of the YAML file `file`: `source` is relative to the file's folder and
 * must resolve there, after following every symbolic link, to a regular file of at most
 * {@link MAX_FILE_SOURCE_BYTES} bytes. Returns the text or why it was refused.
 */
export function readFileSource(file: string, source: string): FileRead {
  if (isAbsolute(source)) return { ok: false, reason: 'it is an absolute path; a source must be relative to the folder of the YAML file declaring it' };
  const base = dirname(resolve(file));
  const path = resolve(base, source);
  if (!isInside(base, path)) return { ok: false, reason: `it leads out of ${base}, the folder of the YAML file declaring it, where sources must lie` };
  const realBase = realpathOrUndefined(base) ?? base;
  const real = realpathOrUndefined(path);
  if (real === undefined) return { ok: false, reason: 'no such file (or a symbolic link on the way leads nowhere)' };
  if (!isInside(realBase, real)) {
    // A symbolic link in the tenant's folder must not make lattice copy /etc/* or /proc/self/environ into a ConfigMap.
    return { ok: false, reason: `it is, through a symbolic link, ${real}: outside ${realBase}, the folder of the YAML file declaring it, where sources must lie` };
  }
  let stat: Stats;
  try {
    stat = statSync(real);
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  // Checked before opening so that a device is never opened; readRegularFile checks again after opening.
  if (!stat.isFile()) return { ok: false, reason: `it is ${fileType(stat)}, and only regular files are read` };
  const read = readRegularFile(real, MAX_FILE_SOURCE_BYTES, { noFollow: true });
  if (!read.ok && /more than the limit/.test(read.reason)) {
    return { ok: false, reason: `${read.reason} (1 MiB): Kubernetes refuses a ConfigMap or Secret holding more than 1 MiB of data. Ship a file this large in the image or on a volume` };
  }
  return read;
}

/**
 * Reads the `files.*.source` files a LatticeService names, relative to its YAML file (see
 * {@link readFileSource}). Files that cannot or may not be read are returned in `errors` with the
 * reason, which the compiler reports as FileSourceUnreadable on the service.
 */
function readFileSources(object: object, file: string): { read: Map<string, string>; errors: Map<string, string> } {
  const read = new Map<string, string>();
  const errors = new Map<string, string>();
  const containers = (object as { spec?: { workload?: { containers?: unknown } } }).spec?.workload?.containers;
  if (!containers || typeof containers !== 'object') return { read, errors };
  for (const c of Object.values(containers as Record<string, { files?: unknown } | null>)) {
    const files = c?.files;
    if (!files || typeof files !== 'object') continue;
    for (const f of Object.values(files as Record<string, { source?: unknown } | null>)) {
      const source = f?.source;
      if (typeof source !== 'string' || read.has(source) || errors.has(source)) continue;
      const result = readFileSource(file, source);
      if (result.ok) read.set(source, result.text);
      else errors.set(source, result.reason);
    }
  }
  return { read, errors };
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
