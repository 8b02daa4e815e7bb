/**
 * Label selectors as the API server parses them (kubernetes.io/docs/concepts/overview/working-with-objects/labels/):
 * equality-based `k=v`, `k==v`, `k!=v`, set-based `k in (a,b)`, `k notin (a,b)`, existence `k` and
 * `!k`, joined by commas (AND). Test support for the fake API server; never shipped.
 */

/** One requirement of a selector. */
export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** Parses a selector; throws an Error with the API server's kind of message when malformed. */
export function parseSelector(text: string | null | undefined): Requirement[] {
  if (!text) return [];
  return splitTop(text).map((part) => {
    // Keys: [prefix/]name; values: label values (alphanumerics, '-', '_', '.').
    let m = /^([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) return { key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '') };
    m = /^([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/.exec(part);
    if (m) return { key: m[1]!, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3]! };
    m = /^!\s*([A-Za-z0-9./_-]+)$/.exec(part);
    if (m) return { key: m[1]!, op: 'notexists' };
    m = /^([A-Za-z0-9./_-]+)$/.exec(part);
    if (m) return { key: m[1]!, op: 'exists' };
    throw new Error(`unable to parse requirement: "${part}"`);
  });
}

/** True when `labels` satisfy every requirement. */
export function matches(requirements: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'eq':
        return has && l[r.key] === r.value;
      case 'neq':
        return !has || l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
    return false;
  });
}
