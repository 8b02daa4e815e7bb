/**
 * The placeholder language of `variables`, file `content`, `command` and `args`:
 *
 *   ${metadata.name} | ${metadata.namespace} | ${metadata.annotations.KEY}
 *   ${resources.NAME.KEY}     a key of a resource (secret key; host, port or url of a service)
 *   ${resources.NAME}         the resource itself (volume sources)
 *   ${secret.NAME.KEY}        the reference implementation's spelling of ${resources.NAME.KEY} for a
 *                             secret resource: same meaning, the value stays in the Secret
 *   $${                       a literal "${"
 *
 * This module only parses; resolution is the job of the config stage, which knows the resources.
 * The grammar follows Score's placeholder syntax (score.dev, "Placeholder references").
 */

/** A piece of a parsed template: literal text or a placeholder with its dotted path. */
export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'placeholder'; path: string[]; raw: string; offset: number };

/** A parse result: the parts, or the error with its 0-based offset in the string. */
export type TemplateParse = { ok: true; parts: TemplatePart[] } | { ok: false; offset: number; message: string };

/** Parses `text` into literal text and placeholders. Never throws. */
export function parseTemplate(text: string): TemplateParse {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
      continue;
    }
    if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i + 2);
      if (end < 0) {
        return { ok: false, offset: i, message: `placeholder at column ${i + 1} is not closed: add "}" (or write $\${ for a literal \${)` };
      }
      const raw = text.slice(i, end + 1);
      const inner = text.slice(i + 2, end).trim();
      if (inner.length === 0) return { ok: false, offset: i, message: `empty placeholder "\${}" at column ${i + 1}` };
      if (literal) parts.push({ kind: 'text', text: literal });
      literal = '';
      parts.push({ kind: 'placeholder', path: splitPath(inner), raw, offset: i });
      i = end + 1;
      continue;
    }
    literal += text[i];
    i += 1;
  }
  if (literal) parts.push({ kind: 'text', text: literal });
  return { ok: true, parts };
}

/** Splits a placeholder path; `metadata.annotations.` keeps the rest whole, since keys contain dots. */
function splitPath(inner: string): string[] {
  const prefix = 'metadata.annotations.';
  if (inner.startsWith(prefix)) return ['metadata', 'annotations', inner.slice(prefix.length)];
  return inner.split('.');
}

/** True when the text contains at least one placeholder (escapes do not count). */
export function hasPlaceholders(parts: TemplatePart[]): boolean {
  return parts.some((p) => p.kind === 'placeholder');
}

/** Writes parts back as template text, re-escaping literal "${". */
export function escapeLiteral(text: string): string {
  return text.replaceAll('${', '$${');
}
