/**
 * Secret-looking literals: how the scorecard tells a secret pasted into a spec from configuration.
 * Pure string tests; the value found is never returned, only where it is and which rule matched.
 *
 * Two rules, either is enough:
 * - the variable's name says it holds a secret (PASSWORD, SECRET, TOKEN, API_KEY, PRIVATE_KEY,
 *   CREDENTIAL(S), ACCESS_KEY, DSN) and its value is a literal of 6 characters or more that is not a
 *   plain URL, a number or a boolean, and uses no `${resources.*}` placeholder (which Lattice syncs
 *   from the secret store);
 * - the value has the shape of a well-known credential wherever it appears (variables, file contents,
 *   args): an AWS access key id, a PEM private key, a Stripe live key, a GitHub or Slack token, a JWT,
 *   or credentials in a URL (`scheme://user:password@host`).
 */

/** Variable names that announce a secret. */
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?|ACCESS_?KEY|DSN)/i;

/** Well-known credential shapes: name of the rule and its pattern. */
export const CREDENTIAL_PATTERNS: readonly { name: string; pattern: RegExp }[] = [
  { name: 'AWS access key id', pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'PEM private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { name: 'Stripe live key', pattern: /\b(sk|rk)_live_[0-9a-zA-Z]{10,}\b/ },
  { name: 'GitHub token', pattern: /\bgh[pousr]_[0-9A-Za-z]{30,}\b/ },
  { name: 'Slack token', pattern: /\bxox[abprs]-[0-9A-Za-z-]{10,}\b/ },
  { name: 'JSON Web Token', pattern: /\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}/ },
  { name: 'password in a URL', pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s:/@$]+:(?!\$\{)[^\s@/$]+@/i },
];

/** The value with every `${...}` placeholder removed: what is literally written. */
function literalPart(value: string): string {
  return value.replace(/\$\{[^}]*\}/g, '');
}

/**
 * Why `value` (of variable `name`, when it is one) looks like a secret written in the spec, or
 * undefined. The reason names the rule, never the value.
 */
export function secretLiteralReason(value: string, name?: string): string | undefined {
  for (const { name: rule, pattern } of CREDENTIAL_PATTERNS) {
    if (pattern.test(literalPart(value))) return `has the shape of a ${rule}`;
  }
  if (name !== undefined && SECRET_NAME.test(name)) {
    const literal = literalPart(value).trim();
    // A name like DATABASE_URL with "postgres://app:${resources.db.dsn}@db" keeps literal text around
    // a secret placeholder: only what remains outside placeholders counts, and it must look like a value.
    const usesSecret = /\$\{resources\./.test(value);
    const plainUrl = /^[a-z][a-z0-9+.-]*:\/\/[^@\s]+$/i.test(literal);
    if (literal.length >= 6 && !usesSecret && !plainUrl && !/^(true|false|[0-9]+|none|null|disabled|enabled)$/i.test(literal)) {
      return `is named like a secret (${name}) and holds a literal value`;
    }
  }
  return undefined;
}
