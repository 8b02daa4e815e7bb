/**
 * Field documentation in the style of `kubectl explain`, read from the same structural schema the
 * CRD publishes, so the two can never disagree.
 */
import { atVersion, findKind, KINDS, servedVersions, type KindDefinition } from './kinds.ts';
import { kindSchema, type JSONSchemaProps } from './crd.ts';

/** The type of a schema node the way kubectl explain writes it (`<string>`, `<[]Object>`, `<map[string]string>`). */
export function typeLabel(node: JSONSchemaProps): string {
  if (node['x-kubernetes-int-or-string']) return 'IntOrString';
  if (node.type === 'array') return `[]${node.items ? typeLabel(node.items) : 'Object'}`;
  if (node.type === 'object') {
    if (node.additionalProperties) return `map[string]${typeLabel(node.additionalProperties)}`;
    return 'Object';
  }
  return node.type ?? 'Object';
}

/** Result of resolving a dotted field path. */
export type ExplainResult = { ok: true; text: string } | { ok: false; error: string };

/**
 * Explains `path` (`latticeservice.spec.workload.containers`): kind, field type, description, and its
 * fields. Map values are entered transparently (`containers.image` is the image of any container).
 * With `recursive`, every nested field is listed. `apiVersion` (`lattice.dev/v1alpha1`) explains an
 * older served version; default the newest.
 */
export function explain(path: string, recursive = false, apiVersion?: string): ExplainResult {
  const [kindName, ...segments] = path.split('.').filter((s) => s.length > 0);
  const newest = kindName ? findKind(kindName) : undefined;
  if (!newest) {
    return { ok: false, error: `unknown kind "${kindName ?? ''}". Known kinds: ${KINDS.map((k) => k.singular).join(', ')}.` };
  }
  const def = versionOf(newest, apiVersion);
  if (!def) {
    const served = servedVersions(newest).map((v) => `${newest.group}/${v.version}`);
    return { ok: false, error: `${newest.kind} is not served as ${apiVersion}: use ${served.join(' or ')}.` };
  }
  let node: JSONSchemaProps = kindSchema(def);
  let fieldName = def.kind;
  let required = false;
  const walked: string[] = [def.singular];
  for (const segment of segments) {
    let parent = node;
    if (!parent.properties && parent.additionalProperties) parent = parent.additionalProperties;
    if (parent.type === 'array' && parent.items) parent = parent.items;
    if (!parent.properties && parent.additionalProperties) parent = parent.additionalProperties;
    const next = parent.properties?.[segment];
    if (!next) {
      const known = Object.keys(parent.properties ?? {});
      return {
        ok: false,
        error: `field "${segment}" does not exist in ${walked.join('.')}.${known.length ? ` Its fields: ${known.join(', ')}.` : ' It has no fields.'}`,
      };
    }
    required = parent.required?.includes(segment) ?? false;
    node = next;
    fieldName = segment;
    walked.push(segment);
  }
  const lines: string[] = [`KIND:     ${def.kind}`, `VERSION:  ${def.group}/${def.version}`, ''];
  if (segments.length > 0) lines.push(`FIELD: ${fieldName} <${typeLabel(node)}>${required ? ' -required-' : ''}`, '');
  lines.push('DESCRIPTION:', ...wrap(node.description ?? '', '  '));
  if (node.default !== undefined) lines.push('', `DEFAULT: ${JSON.stringify(node.default)}`);
  if (node.enum) lines.push('', `ENUM: ${node.enum.map(String).join(', ')}`);
  const fields = fieldsOf(node);
  if (fields) {
    lines.push('', 'FIELDS:');
    lines.push(...listFields(fields, '  ', recursive));
  }
  return { ok: true, text: lines.join('\n') + '\n' };
}

function fieldsOf(node: JSONSchemaProps): JSONSchemaProps | undefined {
  let n = node;
  if (n.type === 'array' && n.items) n = n.items;
  if (!n.properties && n.additionalProperties) n = n.additionalProperties;
  return n.properties ? n : undefined;
}

function listFields(node: JSONSchemaProps, indent: string, recursive: boolean): string[] {
  const lines: string[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const req = node.required?.includes(name) ? ' -required-' : '';
    lines.push(`${indent}${name}\t<${typeLabel(child)}>${req}`);
    if (recursive) {
      const nested = fieldsOf(child);
      if (nested) lines.push(...listFields(nested, indent + '  ', true));
    } else {
      lines.push(...wrap(child.description ?? '', indent + '  '), '');
    }
  }
  return lines;
}

function wrap(text: string, indent: string, width = 100): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > 0 && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(indent + line);
  return out;
}

/** `def` at the version of `apiVersion` (`group/version` or a bare version; undefined: the newest), or undefined when not served. */
function versionOf(def: KindDefinition, apiVersion?: string): KindDefinition | undefined {
  if (apiVersion === undefined) return def;
  const slash = apiVersion.indexOf('/');
  if (slash >= 0 && apiVersion.slice(0, slash) !== def.group) return undefined;
  return atVersion(def, apiVersion.slice(slash + 1));
}

const schemas = new Map<string, JSONSchemaProps>();

/** {@link kindSchema}, computed once per kind and version. */
function cachedSchema(def: KindDefinition): JSONSchemaProps {
  const key = `${def.kind}/${def.version}`;
  let schema = schemas.get(key);
  if (!schema) schemas.set(key, (schema = kindSchema(def)));
  return schema;
}

/** The kind named `kind` at `apiVersion` (the newest when undefined or not served). */
function kindAt(kind: string, apiVersion?: string): KindDefinition | undefined {
  const def = findKind(kind);
  return def ? (versionOf(def, apiVersion) ?? def) : undefined;
}

/**
 * The field names the schema of `kind` allows in the object at data path `path` (map keys and list
 * indexes are walked through), or undefined when the path leaves the schema. Used to suggest the
 * nearest name for an unknown field. `apiVersion`: the document's (default the newest version).
 */
export function fieldsAt(kind: string, path: readonly (string | number)[], apiVersion?: string): string[] | undefined {
  const def = kindAt(kind, apiVersion);
  if (!def) return undefined;
  let node: JSONSchemaProps | undefined = cachedSchema(def);
  for (const segment of path) {
    if (!node) return undefined;
    if (typeof segment === 'number') node = node.items;
    else node = node.properties?.[segment] ?? node.additionalProperties;
  }
  return node?.properties ? Object.keys(node.properties) : undefined;
}

/** The `lattice explain` argument for the object at data path `path` of `kind` (map keys left out). */
export function explainPath(kind: string, path: readonly (string | number)[], apiVersion?: string): string {
  const def = kindAt(kind, apiVersion);
  const names: string[] = [def?.singular ?? kind.toLowerCase()];
  let node: JSONSchemaProps | undefined = def ? cachedSchema(def) : undefined;
  for (const segment of path) {
    if (!node) break;
    if (typeof segment === 'number') node = node.items;
    else if (node.properties?.[segment]) {
      names.push(segment);
      node = node.properties[segment];
    } else node = node.additionalProperties;
  }
  const older = def !== undefined && apiVersion !== undefined && def.version !== findKind(kind)?.version;
  return names.join('.') + (older ? ` --api-version ${def.group}/${def.version}` : '');
}
