/**
 * `lattice schema [KIND]`: JSON Schemas of the Lattice kinds for editors (src/api/jsonschema.ts).
 * Without KIND, one schema for files of any Lattice kind; `--out-dir DIR` writes `all.json` and one
 * `<kind>.json` per kind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KINDS } from '../api/kinds.ts';
import { allKindsJsonSchema, everyVersion, kindJsonSchema } from '../api/jsonschema.ts';
import { EXIT } from './exit.ts';
import type { Streams } from './load.ts';

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

/** Runs `lattice schema`; returns the exit status. */
export function schemaCommand(kind: string | undefined, opts: { outDir?: string }, streams: Streams): number {
  if (opts.outDir !== undefined) {
    mkdirSync(opts.outDir, { recursive: true });
    writeFileSync(join(opts.outDir, 'all.json'), json(allKindsJsonSchema()));
    // The newest version of each kind as <kind>.json, an older served one as <kind>-<version>.json.
    const defs = everyVersion();
    for (const def of defs) {
      const newest = KINDS.find((k) => k.kind === def.kind)!.version === def.version;
      writeFileSync(join(opts.outDir, newest ? `${def.singular}.json` : `${def.singular}-${def.version}.json`), json(kindJsonSchema(def.kind, def.version)));
    }
    streams.stderr(`Wrote ${defs.length + 1} schemas to ${opts.outDir}.\n`);
    return EXIT.ok;
  }
  const schema = kind === undefined ? allKindsJsonSchema() : kindJsonSchema(kind);
  if (!schema) {
    streams.stderr(`error: unknown kind "${kind}". Known kinds: ${KINDS.map((k) => k.singular).join(', ')}.\n`);
    return EXIT.usage;
  }
  streams.stdout(json(schema));
  return EXIT.ok;
}
