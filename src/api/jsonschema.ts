/**
 * JSON Schemas of the Lattice kinds for editors: completion, hover docs and validation while a
 * developer writes a spec, e.g. with yaml-language-server (github.com/redhat-developer/yaml-language-server,
 * the engine of the VS Code YAML extension), which reads a `# yaml-language-server: $schema=<path>`
 * modeline or a `yaml.schemas` setting and supports JSON Schema draft-07.
 *
 * Generated from the same zod schemas as the CRDs (`z.toJSONSchema`, input shape: what a developer
 * writes, with defaults optional), so the editor, the CRD and `lattice render` never disagree.
 */
import { z } from 'zod';
import { KINDS, atVersion, findKind, servedVersions, type KindDefinition } from './kinds.ts';

/** A JSON Schema document (draft-07). */
export type JsonSchema = Record<string, unknown>;

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

const METADATA: JsonSchema = {
  type: 'object',
  description: 'Standard Kubernetes object metadata (kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/).',
  properties: {
    name: { type: 'string', description: 'Name of the object, unique in its namespace.' },
    namespace: { type: 'string', description: 'Namespace of the object.' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    generation: { type: 'integer' },
  },
  required: ['name'],
};

function toJsonSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any', reused: 'inline', cycles: 'throw' }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** The schema of one whole document of `def` (apiVersion, kind, metadata, spec; status allowed, as written by Lattice). */
function documentSchema(def: KindDefinition): JsonSchema {
  const properties: Record<string, JsonSchema> = {
    apiVersion: { const: `${def.group}/${def.version}`, description: `APIVersion of the object: ${def.group}/${def.version}.` },
    kind: { const: def.kind, description: `Kind of the object: ${def.kind}.` },
    metadata: METADATA,
    spec: { ...toJsonSchema(def.spec), description: `Desired state of the ${def.kind}.` },
  };
  if (def.status) properties.status = { ...toJsonSchema(def.status), description: `Observed state of the ${def.kind}, written by Lattice.` };
  return { title: def.kind, description: def.description, type: 'object', properties, required: ['apiVersion', 'kind', 'metadata', 'spec'], additionalProperties: false };
}

/**
 * The JSON Schema (draft-07) of one kind, by any of its names (`latticeservice`, `ls`, ...), at its
 * newest version or at `version` (`v1alpha1`); undefined for an unknown kind or an unserved version.
 */
export function kindJsonSchema(name: string, version?: string): JsonSchema | undefined {
  const newest = findKind(name);
  const def = newest ? atVersion(newest, version) : undefined;
  if (!newest || !def) return undefined;
  const file = def === newest ? def.singular : `${def.singular}-${def.version}`;
  return { $schema: DRAFT_07, $id: `https://lattice.dev/schemas/${file}.json`, ...documentSchema(def) };
}

/** Every served version of every kind, as kind definitions (the newest of each kind first). */
export function everyVersion(): KindDefinition[] {
  return KINDS.flatMap((k) => servedVersions(k).map((v) => atVersion(k, v.version)!));
}

/**
 * One JSON Schema (draft-07) for a file of any Lattice kind: the document's `kind` selects the
 * kind's schema (`if`/`then`), and a document of another kind is left alone (a folder of YAML
 * holds Namespaces and other objects too).
 */
export function allKindsJsonSchema(): JsonSchema {
  const definitions: Record<string, JsonSchema> = {};
  const all = everyVersion();
  const name = (def: KindDefinition): string => (findKind(def.kind)?.version === def.version ? def.kind : `${def.kind}.${def.version}`);
  for (const def of all) definitions[name(def)] = documentSchema(def);
  return {
    $schema: DRAFT_07,
    $id: 'https://lattice.dev/schemas/all.json',
    title: 'Lattice resources',
    type: 'object',
    definitions,
    allOf: all.map((def) => ({
      if: { properties: { apiVersion: { const: `${def.group}/${def.version}` }, kind: { const: def.kind } }, required: ['apiVersion', 'kind'] },
      then: { $ref: `#/definitions/${name(def)}` },
    })),
  };
}
