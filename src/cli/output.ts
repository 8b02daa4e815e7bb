/** Serialisation of derived objects: YAML as `kubectl apply -f` reads it, or a JSON `List`. */
import { stringify } from 'yaml';

/** Options for every YAML Lattice writes: no anchors/aliases, no line folding. */
export const YAML_OPTIONS = { aliasDuplicateObjects: false, lineWidth: 0 } as const;

/** One YAML document. */
export function toYaml(object: unknown): string {
  return stringify(object, YAML_OPTIONS);
}

/** A multi-document YAML stream. */
export function toYamlStream(objects: unknown[]): string {
  return objects.map((o) => `---\n${toYaml(o)}`).join('');
}

/** A Kubernetes `v1 List` as indented JSON. */
export function toJsonList(objects: unknown[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: {}, items: objects }, null, 2) + '\n';
}
