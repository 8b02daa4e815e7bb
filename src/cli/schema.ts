/**
 * `lattice schema [KIND]`: JSON Schemas of the Lattice kinds for editors (src/api/jsonschema.ts).
 * Without KIND, one schema for files of any Lattice kind; `--out-dir DIR` writes `all.json` and one
 * `<kind>.json` per kind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { KINDS } from '../api/kinds.ts';
import { allKindsJsonSchema, kindJsonSchema } from '../api/jsonschema.ts';
import { EXIT, type Streams } from './render.ts';

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

/** Registers `lattice schema`. */
export function registerSchema(program: Command, setExit: (code: number) => void, streams: Streams): void {
  program
    .command('schema')
    .description('Print JSON Schemas of the Lattice kinds for editors (completion and validation as you type).')
    .argument('[kind]', 'one kind (latticeservice, ls, ...); default: one schema for every Lattice kind')
    .option('--out-dir <dir>', 'write all.json and one <kind>.json per kind into DIR')
    .addHelpText('after', `
Use with the YAML extension of VS Code (yaml-language-server), at the top of a spec file:
  # yaml-language-server: $schema=../schemas/all.json
or in settings: "yaml.schemas": { "./schemas/all.json": "platform/**/*.yaml" }`)
    .action((kind: string | undefined, opts: { outDir?: string }) => {
      if (opts.outDir !== undefined) {
        mkdirSync(opts.outDir, { recursive: true });
        writeFileSync(join(opts.outDir, 'all.json'), json(allKindsJsonSchema()));
        for (const def of KINDS) writeFileSync(join(opts.outDir, `${def.singular}.json`), json(kindJsonSchema(def.kind)));
        streams.stderr(`Wrote ${KINDS.length + 1} schemas to ${opts.outDir}.\n`);
        setExit(EXIT.ok);
        return;
      }
      const schema = kind === undefined ? allKindsJsonSchema() : kindJsonSchema(kind);
      if (!schema) {
        streams.stderr(`error: unknown kind "${kind}". Known kinds: ${KINDS.map((k) => k.singular).join(', ')}.\n`);
        setExit(EXIT.usage);
        return;
      }
      streams.stdout(json(schema));
      setExit(EXIT.ok);
    });
}
