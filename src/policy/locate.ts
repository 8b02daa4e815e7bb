/**
 * Mapping a position in a CedarPolicy's `spec.policies` text to its line and column in the YAML file,
 * so a Cedar error points at the line the author edits. Exact for a literal block scalar
 * (`policies: |`, YAML 1.2 §8.1.2), whose content lines are the file lines minus the block's
 * indentation; for any other scalar style no mapper is returned and positions stay relative to the
 * policies text.
 */
import { LineCounter, isScalar, parseAllDocuments, Scalar } from 'yaml';
import type { TextPosition } from './cedar.ts';

/**
 * A mapper from a character index in `spec.policies` of the `documentIndex`-th document of
 * `yamlText` (0-based, counting every document like `parseYamlDocuments` does) to its 1-based line
 * and column in the file. Undefined when the document has no `spec.policies` literal block scalar or
 * its lines cannot be matched to the file (then report positions relative to the policies text).
 */
export function policyTextLocator(yamlText: string, documentIndex: number): ((index: number) => TextPosition) | undefined {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(yamlText, { lineCounter });
  if (!Array.isArray(docs)) return undefined;
  const doc = docs[documentIndex];
  if (!doc) return undefined;
  const node = doc.getIn(['spec', 'policies'], true);
  if (!isScalar(node) || node.type !== Scalar.BLOCK_LITERAL || typeof node.value !== 'string' || !node.range) return undefined;
  const headerLine = lineCounter.linePos(node.range[0]).line;
  const fileLines = yamlText.split(/\r?\n/);
  const valueLines = node.value.split('\n');
  // The value ends with a newline under the default ("clip") and keep chomping: no content line follows it.
  if (valueLines.length > 1 && valueLines[valueLines.length - 1] === '') valueLines.pop();
  let indent: number | undefined;
  for (let k = 0; k < valueLines.length; k++) {
    const content = valueLines[k] ?? '';
    const fileLine = fileLines[headerLine + k]; // headerLine is 1-based, so this is the line after the header
    if (fileLine === undefined) return undefined;
    if (content === '') {
      if (fileLine.trim() !== '') return undefined;
      continue;
    }
    const lead = fileLine.length - content.length;
    if (indent === undefined) indent = lead;
    if (lead !== indent || lead < 0 || fileLine.slice(lead) !== content || fileLine.slice(0, lead).trim() !== '') return undefined;
  }
  const blockIndent = indent ?? 0;
  const text = node.value;
  return (index: number): TextPosition => {
    let line = 0;
    let lineStart = 0;
    const end = Math.max(0, Math.min(index, text.length));
    for (let i = 0; i < end; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line: headerLine + 1 + line, column: blockIndent + (end - lineStart) + 1 };
  };
}
