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

/** Aligns rows into columns separated by two spaces (the first row is the header). */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}
