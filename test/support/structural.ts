/**
 * Test oracles for Kubernetes *structural schemas* (apiextensions.k8s.io/v1 CustomResourceDefinitions).
 *
 * Four things live here, each a re-implementation of what the API server does, written from the
 * upstream sources so tests can check generated CRDs and objects without a cluster:
 *
 * - {@link structuralSchemaProblems}: the rules a CRD's `openAPIV3Schema` must follow to be accepted.
 *   Sources: kubernetes.io "Specifying a structural schema"
 *   (docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema),
 *   and in kubernetes/kubernetes `staging/src/k8s.io/apiextensions-apiserver`:
 *   `pkg/apiserver/schema/{validation,complete,convert}.go`,
 *   `pkg/apiserver/schema/defaulting/validation.go` and
 *   `pkg/apis/apiextensions/validation/validation.go` (`ValidateCustomResourceDefinitionOpenAPISchema`,
 *   `specStandardValidatorV3`).
 * - {@link crdProblems}: the same for a whole CRD object (names, versions, subresources, printer
 *   columns), plus two Lattice conventions that are stricter than Kubernetes (they say so in the message).
 * - {@link pruningProblems}: the fields the API server would silently drop from an object
 *   (`pkg/apiserver/schema/pruning/algorithm.go`), reported as errors, plus the list-type uniqueness the
 *   server enforces (`x-kubernetes-list-type: set|map`).
 * - {@link compileSchemaValidator}: value validation of an object against a structural schema with ajv,
 *   the way the server's OpenAPI validator does it (nullable, int-or-string, Kubernetes formats, RE2
 *   patterns). `x-kubernetes-validations` (CEL rules) are NOT evaluated: there is no CEL interpreter here.
 *
 * Paths in schema problems use the API server's notation, e.g. `openAPIV3Schema.properties[spec].type`.
 * Paths in value problems use field notation, e.g. `spec.template.spec.containers[0].image`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** A JSON object as parsed from YAML/JSON. */
type Raw = Record<string, unknown>;

function isObject(x: unknown): x is Raw {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function asObject(x: unknown): Raw | undefined {
  return isObject(x) ? x : undefined;
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' ? x : undefined;
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/**
 * Formats a value path as field notation: `spec.containers[0].image`, `metadata.labels["app.kubernetes.io/name"]`.
 * Numbers are array indexes; a string that is not a plain identifier is quoted.
 */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Converts an ajv/JSON-pointer instance path (`/spec/ports/0/port`) to field notation, reading the
 * value to tell array indexes from object keys that happen to be digits.
 */
export function pointerToPath(root: unknown, pointer: string): string {
  const segments: (string | number)[] = [];
  let cur: unknown = root;
  if (pointer !== '') {
    for (const rawSeg of pointer.slice(1).split('/')) {
      const seg = rawSeg.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(cur) && /^\d+$/.test(seg)) {
        segments.push(Number(seg));
        cur = cur[Number(seg)];
      } else {
        segments.push(seg);
        cur = isObject(cur) ? cur[seg] : undefined;
      }
    }
  }
  return formatPath(segments);
}

/** The value at a JSON pointer inside `root`, or undefined. */
function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  if (pointer === '') return cur;
  for (const rawSeg of pointer.slice(1).split('/')) {
    const seg = rawSeg.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function describeType(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  if (typeof x === 'number') return Number.isInteger(x) ? 'integer' : 'number';
  return typeof x;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes name formats (k8s.io/apimachinery/pkg/util/validation/validation.go)
// ---------------------------------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** What is wrong with `value` as an RFC 1123 DNS label (apimachinery `IsDNS1123Label`); empty if valid. */
export function dns1123LabelProblems(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(value)) out.push("must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character");
  return out;
}

/** What is wrong with `value` as an RFC 1123 DNS subdomain (apimachinery `IsDNS1123Subdomain`); empty if valid. */
export function dns1123SubdomainProblems(value: string): string[] {
  const out: string[] = [];
  if (value.length > 253) out.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) out.push("must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
  return out;
}

/** What is wrong with `value` as an RFC 1035 DNS label (apimachinery `IsDNS1035Label`); empty if valid. */
export function dns1035LabelProblems(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(value)) out.push("must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character");
  return out;
}

/**
 * What is wrong with `value` as a qualified name (`[prefix/]name`, apimachinery `IsQualifiedName`),
 * the format of label and annotation keys; empty if valid.
 */
export function qualifiedNameProblems(value: string): string[] {
  const parts = value.split('/');
  let name = value;
  const out: string[] = [];
  if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    name = rest;
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else for (const p of dns1123SubdomainProblems(prefix)) out.push(`prefix part ${p}`);
  } else if (parts.length > 2) {
    return ["a qualified name must consist of an optional DNS subdomain prefix and '/', followed by a name"];
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME_PART.test(name)) {
    out.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  }
  return out;
}

/** What is wrong with `value` as a label value (apimachinery `IsValidLabelValue`); empty if valid. */
export function labelValueProblems(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) out.push("must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  return out;
}

/** What is wrong with `value` as a path segment name (apimachinery `IsValidPathSegmentName`, used for RBAC names). */
export function pathSegmentNameProblems(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  const out: string[] = [];
  for (const bad of ['/', '%']) if (value.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// RE2 patterns
// ---------------------------------------------------------------------------------------------

interface Re2Scan {
  /** Why Go's regexp (RE2 syntax), which the API server compiles patterns with, would reject the pattern. */
  problems: string[];
  /** Why the pattern, although valid RE2, cannot be expressed as a JavaScript RegExp here. */
  untranslatable: string[];
  /** The equivalent JavaScript source (unicode mode). */
  js: string;
  /** JavaScript flags from a leading `(?flags)` group. */
  flags: string;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Characters JavaScript's unicode mode lets you escape outside a character class. */
const JS_SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/'.split(''));

const INVALID_ESCAPE_HINTS: Record<string, string> = {
  Z: 'RE2 has no \\Z; use \\z (end of text)',
  u: 'RE2 has no \\uXXXX; use \\x{XXXX}',
  k: 'named backreferences are not supported by RE2',
  g: 'backreferences are not supported by RE2',
  G: 'RE2 has no \\G',
  K: 'RE2 has no \\K',
  R: 'RE2 has no \\R',
  X: 'RE2 has no \\X',
  h: 'RE2 has no \\h',
  C: 'Go regexp does not support \\C',
};

function unicodeClass(name: string, negated: boolean): string {
  // General categories (L, Lu, Nd, ...) map directly; anything else is a script name in RE2.
  const isCategory = /^[A-Z][a-z]?$/.test(name) || name === 'Any';
  const body = isCategory ? name : `Script=${name}`;
  return `${negated ? '\\P' : '\\p'}{${body}}`;
}

function escapeJsLiteral(ch: string, inClass: boolean): string {
  if (JS_SYNTAX_CHARS.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  return ch;
}

/**
 * Scans an RE2 pattern: finds what Go's regexp would reject and translates the rest to JavaScript.
 * Handles escapes, classes (including POSIX `[[:alpha:]]`), groups, flags and repetition syntax.
 */
function scanRe2(pattern: string): Re2Scan {
  const problems: string[] = [];
  const untranslatable: string[] = [];
  let js = '';
  let flags = '';
  let i = 0;
  let depth = 0;
  /** What the previous token was, to check where repetition operators may stand. */
  let prev: 'none' | 'atom' | 'repeat' | 'lazy' = 'none';
  const n = pattern.length;

  // Translates one escape starting at pattern[i] === '\\'; returns [js, isAtom, consumed].
  const escape = (inClass: boolean): [string, number] => {
    const c = pattern[i + 1];
    if (c === undefined) {
      problems.push('trailing backslash at end of expression');
      return ['', 1];
    }
    if (c >= '1' && c <= '9') {
      const next = pattern[i + 2];
      if (c <= '7' && next !== undefined && next >= '0' && next <= '7') {
        let digits = c + next;
        if (pattern[i + 3] !== undefined && pattern[i + 3]! >= '0' && pattern[i + 3]! <= '7') digits += pattern[i + 3];
        return [`\\u{${parseInt(digits, 8).toString(16)}}`, 1 + digits.length];
      }
      problems.push(`\\${c} is a backreference, which RE2 does not support`);
      return ['', 2];
    }
    if (c === '0') {
      let digits = '0';
      while (digits.length < 3 && pattern[i + 1 + digits.length] !== undefined && /[0-7]/.test(pattern[i + 1 + digits.length]!)) {
        digits += pattern[i + 1 + digits.length];
      }
      return [`\\u{${parseInt(digits, 8).toString(16)}}`, 1 + digits.length];
    }
    if (c === 'x') {
      if (pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        const hex = end < 0 ? '' : pattern.slice(i + 3, end);
        if (end < 0 || !/^[0-9A-Fa-f]{1,6}$/.test(hex)) {
          problems.push('invalid \\x{...} escape');
          return ['', end < 0 ? n - i : end - i + 1];
        }
        return [`\\u{${hex}}`, end - i + 1];
      }
      const hex = pattern.slice(i + 2, i + 4);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        problems.push('invalid \\x escape: needs two hex digits or \\x{...}');
        return ['', 2];
      }
      return [`\\x${hex}`, 4];
    }
    if (c === 'p' || c === 'P') {
      let name: string;
      let len: number;
      if (pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        if (end < 0) {
          problems.push('unterminated \\p{...}');
          return ['', n - i];
        }
        name = pattern.slice(i + 3, end);
        len = end - i + 1;
      } else {
        name = pattern[i + 2] ?? '';
        len = 3;
      }
      let negated = c === 'P';
      if (name.startsWith('^')) {
        negated = !negated;
        name = name.slice(1);
      }
      if (!/^[A-Za-z_]+$/.test(name)) {
        problems.push(`invalid character class name in \\${c}`);
        return ['', len];
      }
      return [unicodeClass(name, negated), len];
    }
    if ('dDsSwW'.includes(c)) return [`\\${c}`, 2];
    if (!inClass && (c === 'b' || c === 'B')) return [`\\${c}`, 2];
    if (!inClass && c === 'A') return ['(?<![\\s\\S])', 2];
    if (!inClass && c === 'z') return ['(?![\\s\\S])', 2];
    if ('fnrtv'.includes(c)) return [`\\${c}`, 2];
    if (c === 'a') return ['\\x07', 2];
    if (c === 'Q') {
      const end = pattern.indexOf('\\E', i + 2);
      const literal = end < 0 ? pattern.slice(i + 2) : pattern.slice(i + 2, end);
      const out = [...literal].map((ch) => escapeJsLiteral(ch, inClass)).join('');
      return [inClass ? out : `(?:${out})`, (end < 0 ? n : end + 2) - i];
    }
    if (c.charCodeAt(0) < 0x80 && !/[A-Za-z0-9]/.test(c)) return [escapeJsLiteral(c, inClass), 2];
    problems.push(`invalid escape sequence \\${c}${INVALID_ESCAPE_HINTS[c] ? ` (${INVALID_ESCAPE_HINTS[c]})` : ''}`);
    return ['', 2];
  };

  while (i < n) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const [out, len] = escape(false);
      js += out;
      prev = 'atom';
      i += len;
      continue;
    }
    if (ch === '[') {
      let j = i + 1;
      let cls = '[';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      if (pattern[j] === ']') {
        cls += '\\]';
        j++;
      }
      let closed = false;
      while (j < n) {
        const c = pattern[j]!;
        if (c === ']') {
          closed = true;
          j++;
          break;
        }
        if (c === '[' && pattern[j + 1] === ':') {
          const end = pattern.indexOf(':]', j + 2);
          if (end > 0) {
            let name = pattern.slice(j + 2, end);
            const negated = name.startsWith('^');
            if (negated) name = name.slice(1);
            const ranges = POSIX_CLASSES[name];
            if (!ranges) problems.push(`invalid character class range [:${name}:]`);
            else if (negated) untranslatable.push(`negated POSIX class [:^${name}:] inside a bracket expression`);
            else cls += ranges;
            j = end + 2;
            continue;
          }
        }
        if (c === '\\') {
          const save = i;
          i = j;
          const [out, len] = escape(true);
          i = save;
          cls += out;
          j += len;
          continue;
        }
        cls += c === '[' ? '\\[' : c;
        j++;
      }
      if (!closed) problems.push('missing closing ] in character class');
      js += cls + (closed ? ']' : '');
      i = j;
      prev = 'atom';
      continue;
    }
    if (ch === '(') {
      prev = 'none';
      if (pattern[i + 1] !== '?') {
        js += '(';
        depth++;
        i++;
        continue;
      }
      const rest = pattern.slice(i + 2);
      const flagGroup = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
      if (rest.startsWith(':')) {
        js += '(?:';
        depth++;
        i += 3;
      } else if (rest.startsWith('P<') || rest.startsWith('<')) {
        const start = rest.startsWith('P<') ? 2 : 1;
        const end = rest.indexOf('>');
        const name = end < 0 ? '' : rest.slice(start, end);
        if (rest.startsWith('<=') || rest.startsWith('<!')) {
          problems.push(`lookbehind (?${rest.slice(0, 2)}...) is not supported by RE2`);
          js += '(?:';
          depth++;
          i += 4;
        } else if (!/^[A-Za-z0-9_]+$/.test(name)) {
          problems.push('invalid named capture group');
          js += '(';
          depth++;
          i += 2 + (end < 0 ? 1 : end + 1);
        } else {
          js += `(?<${name}>`;
          depth++;
          i += 2 + end + 1;
        }
      } else if (rest.startsWith('P=') || rest.startsWith('P>')) {
        problems.push('named backreferences (?P=name) are not supported by RE2');
        const end = rest.indexOf(')');
        i += 2 + (end < 0 ? rest.length : end + 1);
        prev = 'atom';
      } else if (rest.startsWith('=') || rest.startsWith('!')) {
        problems.push(`lookahead (?${rest[0]}...) is not supported by RE2`);
        js += '(?:';
        depth++;
        i += 3;
      } else if (rest.startsWith('>')) {
        problems.push('atomic groups (?>...) are not supported by RE2');
        js += '(?:';
        depth++;
        i += 3;
      } else if (rest.startsWith('#')) {
        problems.push('comments (?#...) are not supported by RE2');
        const end = rest.indexOf(')');
        i += 2 + (end < 0 ? rest.length : end + 1);
      } else if (rest.startsWith('(')) {
        problems.push('conditionals (?(...)...) are not supported by RE2');
        js += '(?:';
        depth++;
        i += 2;
      } else if (flagGroup && (flagGroup[1] !== '' || flagGroup[2] !== undefined)) {
        const [whole, on = '', off, close] = flagGroup;
        if (close === ')' && js === '' && off === undefined) {
          if (on.includes('U')) untranslatable.push('the ungreedy flag (?U)');
          flags += on.replace(/U/g, '');
        } else {
          untranslatable.push(`the inline flag group (?${whole.slice(0, -1)}${close === ':' ? ':...)' : ')'} (JavaScript on Node 20 only supports flags for the whole pattern)`);
          if (close === ':') {
            js += '(?:';
            depth++;
          }
        }
        i += 2 + whole.length;
      } else {
        problems.push(`invalid or unsupported Perl syntax (?${rest.slice(0, 2)}`);
        js += '(';
        depth++;
        i += 2;
      }
      continue;
    }
    if (ch === ')') {
      if (depth === 0) problems.push('unexpected ): unbalanced parentheses');
      else depth--;
      js += ')';
      i++;
      prev = 'atom';
      continue;
    }
    if (ch === '*' || ch === '+' || ch === '?' || ch === '{') {
      let op = ch;
      if (ch === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
        if (!m) {
          // Not a repetition: RE2 reads the brace literally.
          js += '\\{';
          i++;
          prev = 'atom';
          continue;
        }
        op = m[0];
        const min = Number(m[1]);
        const max = m[3] === undefined || m[3] === '' ? undefined : Number(m[3]);
        if (min > 1000 || (max !== undefined && max > 1000)) problems.push(`invalid repeat count ${op}: RE2 allows at most 1000`);
        if (max !== undefined && max < min) problems.push(`invalid repeat count ${op}: maximum is below minimum`);
      }
      if (op === '?' && prev === 'repeat') {
        prev = 'lazy';
      } else {
        if (prev === 'repeat' || prev === 'lazy') {
          problems.push(`invalid nested repetition operator ${pattern[i - 1]}${op} (possessive and stacked quantifiers are not supported by RE2)`);
        } else if (prev === 'none') {
          problems.push(`missing argument to repetition operator ${op}`);
        }
        prev = 'repeat';
      }
      js += op;
      i += op.length;
      continue;
    }
    if (ch === '}' || ch === ']') {
      js += `\\${ch}`;
    } else if (ch === '|') {
      js += '|';
      prev = 'none';
      i++;
      continue;
    } else {
      js += ch;
    }
    prev = 'atom';
    i++;
  }
  if (depth > 0) problems.push('missing closing ): unbalanced parentheses');
  return { problems, untranslatable, js, flags: [...new Set(flags)].join('') };
}

/**
 * Why the API server would reject `pattern`: CRD patterns are compiled with Go's `regexp` (RE2 syntax),
 * which has no lookaround, backreferences, atomic groups or possessive quantifiers, rejects unknown
 * escapes such as `\Z` or `\u`, and caps repeat counts at 1000. Empty if the pattern is valid RE2.
 * Source: apiextensions-apiserver `pkg/apiserver/schema/validation.go` (`regexp.Compile(v.Pattern)`)
 * and the Go `regexp/syntax` documentation.
 */
export function re2Problems(pattern: string): string[] {
  return scanRe2(pattern).problems;
}

/**
 * Translates an RE2 pattern to an equivalent JavaScript RegExp (unicode mode), e.g. `\pL` to `\p{L}`,
 * `(?P<n>...)` to `(?<n>...)`, `\z` to end-of-input, `[[:alpha:]]` to `[A-Za-z]`, a leading `(?i)` to the
 * `i` flag. Throws an Error naming the pattern when it is not valid RE2 or uses a feature (inline flag
 * groups, `(?U)`, negated POSIX classes in brackets) that JavaScript cannot express. Differences kept:
 * `\s`/`\d`/`\w` follow JavaScript's definitions, which are wider than RE2's ASCII ones for `\s`.
 */
export function re2ToRegExp(pattern: string): RegExp {
  const scan = scanRe2(pattern);
  if (scan.problems.length > 0) throw new Error(`pattern ${JSON.stringify(pattern)} is not valid RE2: ${scan.problems.join('; ')}`);
  if (scan.untranslatable.length > 0) {
    throw new Error(`pattern ${JSON.stringify(pattern)} is valid RE2 but cannot be checked in JavaScript: it uses ${scan.untranslatable.join(', ')}`);
  }
  try {
    return new RegExp(scan.js, `u${scan.flags}`);
  } catch (err) {
    throw new Error(`pattern ${JSON.stringify(pattern)} could not be translated to JavaScript (${scan.js}): ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Structural schema rules
// ---------------------------------------------------------------------------------------------

const OPENAPI_TYPES = new Set(['array', 'boolean', 'integer', 'number', 'object', 'string']);
const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);
const FORBIDDEN_KEYWORDS: Record<string, string> = {
  id: 'id is not supported',
  $schema: '$schema is not supported',
  $ref: '$ref is not supported: inline the referenced schema (structural schemas must be self-contained)',
  patternProperties: 'patternProperties is not supported: use additionalProperties',
  dependencies: 'dependencies is not supported',
  additionalItems: 'additionalItems is not supported',
  definitions: 'definitions is not supported: inline the schema where it is used',
};
/** Fields a schema may have at the root when the status subresource is enabled (validation.go `allowedFieldsAtRootSchema`). */
const ALLOWED_AT_ROOT_WITH_STATUS = new Set([
  'description', 'type', 'format', 'title', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength',
  'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'required', 'items', 'properties',
  'externalDocs', 'example', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations',
]);
const VALIDATION_REASONS = new Set(['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate']);

type Level = 'root' | 'item' | 'field';

interface Ctx {
  out: string[];
  /** Why defaults are forbidden here, if they are. */
  noDefaults?: string;
  /** Inside the TypeMeta/ObjectMeta of a resource (root or embedded). */
  insideResourceMeta: boolean;
}

function child(path: string, key: string): string {
  return `${path}.${key}`;
}
function prop(path: string, name: string): string {
  return `${path}.properties[${name}]`;
}

function isIntOrStringAnyOf(anyOf: unknown): boolean {
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return false;
  const [a, b] = anyOf as unknown[];
  const only = (x: unknown, type: string) => isObject(x) && Object.keys(x).length === 1 && x.type === type;
  return only(a, 'integer') && only(b, 'string');
}

/** Checks made on every schema node, skeleton or nested (`specStandardValidatorV3.validate` and list/map extensions). */
function checkAnyNode(s: Raw, path: string, ctx: Ctx): void {
  const { out } = ctx;
  const type = s.type;
  if (type !== undefined) {
    if (type === 'null') out.push(`${child(path, 'type')}: type cannot be set to null; use nullable: true instead`);
    else if (typeof type !== 'string' || !OPENAPI_TYPES.has(type)) {
      out.push(`${child(path, 'type')}: unsupported type ${JSON.stringify(type)}; must be one of array, boolean, integer, number, object, string`);
    }
  }
  if (s.default !== undefined && ctx.noDefaults) out.push(`${child(path, 'default')}: must not be set ${ctx.noDefaults}`);
  for (const [key, msg] of Object.entries(FORBIDDEN_KEYWORDS)) if (s[key] !== undefined) out.push(`${child(path, key)}: ${msg}`);
  if (Array.isArray(s.items)) out.push(`${child(path, 'items')}: items must be a schema object and not an array`);
  if (ctx.insideResourceMeta && s['x-kubernetes-embedded-resource'] === true) {
    out.push(`${child(path, 'x-kubernetes-embedded-resource')}: must not be used inside of resource meta`);
  }
  if (s.uniqueItems === true) out.push(`${child(path, 'uniqueItems')}: uniqueItems cannot be set to true (the API server forbids it: quadratic cost); use x-kubernetes-list-type: set`);
  const props = asObject(s.properties);
  const ap = s.additionalProperties;
  if (ap !== undefined && props && Object.keys(props).length > 0 && (ap === false || isObject(ap))) {
    out.push(`${child(path, 'additionalProperties')}: additionalProperties and properties are mutually exclusive (properties describe a struct, additionalProperties a map)`);
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false) out.push(`${child(path, 'x-kubernetes-preserve-unknown-fields')}: must be true or undefined`);
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined) {
    if (type !== 'object') out.push(`${child(path, 'type')}: must be object if x-kubernetes-map-type is specified`);
    if (mapType !== 'atomic' && mapType !== 'granular') out.push(`${child(path, 'x-kubernetes-map-type')}: unsupported value ${JSON.stringify(mapType)}; must be atomic or granular`);
  }
  const listType = s['x-kubernetes-list-type'];
  const items = asObject(s.items);
  if (listType !== undefined) {
    if (type !== 'array') out.push(`${child(path, 'type')}: must be array if x-kubernetes-list-type is specified`);
    if (listType !== 'atomic' && listType !== 'set' && listType !== 'map') out.push(`${child(path, 'x-kubernetes-list-type')}: unsupported value ${JSON.stringify(listType)}; must be atomic, set or map`);
    if (listType === 'set' && items) {
      if (items.type === 'array' && items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic') {
        out.push(`${child(child(path, 'items'), 'x-kubernetes-list-type')}: must be atomic as item of a list with x-kubernetes-list-type=set`);
      }
      if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
        out.push(`${child(child(path, 'items'), 'x-kubernetes-map-type')}: must be atomic as item of a list with x-kubernetes-list-type=set`);
      }
    }
    if ((listType === 'set' || listType === 'map') && items?.nullable === true) {
      out.push(`${child(child(path, 'items'), 'nullable')}: cannot be nullable when x-kubernetes-list-type is ${listType}`);
    }
  }
  const mapKeys = s['x-kubernetes-list-map-keys'];
  if (Array.isArray(mapKeys) && mapKeys.length > 0 && listType !== 'map') {
    out.push(`${child(path, 'x-kubernetes-list-type')}: must be map if x-kubernetes-list-map-keys is non-empty`);
  }
  if (listType === 'map') {
    if (!Array.isArray(mapKeys) || mapKeys.length === 0) out.push(`${child(path, 'x-kubernetes-list-map-keys')}: must not be empty if x-kubernetes-list-type is map`);
    if (!items) out.push(`${child(path, 'items')}: must have a schema if x-kubernetes-list-type is map`);
    else if (items.type !== 'object') out.push(`${child(child(path, 'items'), 'type')}: must be object if parent array's x-kubernetes-list-type is map`);
    else if (Array.isArray(mapKeys)) {
      const itemProps = asObject(items.properties) ?? {};
      const required = new Set(Array.isArray(items.required) ? (items.required as string[]) : []);
      const seen = new Set<string>();
      for (const k of mapKeys as string[]) {
        const keySchema = asObject(itemProps[k]);
        if (!keySchema) out.push(`${child(path, 'x-kubernetes-list-map-keys')}: entries must all be names of item properties (${JSON.stringify(k)} is not)`);
        else {
          if (keySchema.type === 'array' || keySchema.type === 'object') {
            out.push(`${prop(child(path, 'items'), k)}.type: must be a scalar type if parent array's x-kubernetes-list-type is map`);
          }
          if (!required.has(k) && keySchema.default === undefined) {
            out.push(`${prop(child(path, 'items'), k)}.default: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`);
          }
          if (keySchema.nullable === true) out.push(`${prop(child(path, 'items'), k)}.nullable: this property is in x-kubernetes-list-map-keys, so it cannot be nullable`);
        }
        if (seen.has(k)) out.push(`${child(path, 'x-kubernetes-list-map-keys')}: must not contain duplicate entries`);
        seen.add(k);
      }
    }
  }
  const rules = s['x-kubernetes-validations'];
  if (Array.isArray(rules)) {
    rules.forEach((r, i) => {
      const rp = `${child(path, 'x-kubernetes-validations')}[${i}]`;
      const rule = isObject(r) ? r : {};
      const text = str(rule.rule)?.trim() ?? '';
      const message = str(rule.message);
      if (text === '') out.push(`${rp}.rule: rule is not specified`);
      else if (message !== undefined && message.trim() === '') out.push(`${rp}.message: must be non-empty if specified`);
      else if (message !== undefined && /[\n\r]/.test(message.trim())) out.push(`${rp}.message: must not contain line breaks`);
      else if (/[\n\r]/.test(text) && (message ?? '').trim() === '') out.push(`${rp}.message: message must be specified if rule contains line breaks`);
      if (str(rule.messageExpression) !== undefined && str(rule.messageExpression)!.trim() === '') out.push(`${rp}.messageExpression: must be non-empty if specified`);
      if (rule.reason !== undefined && !VALIDATION_REASONS.has(String(rule.reason))) {
        out.push(`${rp}.reason: unsupported value ${JSON.stringify(rule.reason)}; must be one of ${[...VALIDATION_REASONS].join(', ')}`);
      }
      if (str(rule.fieldPath) !== undefined && str(rule.fieldPath)!.trim() === '') out.push(`${rp}.fieldPath: must be non-empty if specified`);
    });
  }
  const pattern = s.pattern;
  if (pattern !== undefined) {
    if (typeof pattern !== 'string') out.push(`${child(path, 'pattern')}: must be a string`);
    else for (const p of re2Problems(pattern)) out.push(`${child(path, 'pattern')}: must be a valid RE2 regular expression (the API server compiles it with Go regexp): ${p}`);
  }
}

/** A node under allOf/anyOf/oneOf/not (`validateNestedValueValidation`). */
function checkNested(v: Raw, path: string, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, ctx: Ctx): void {
  const { out } = ctx;
  checkAnyNode(v, path, { ...ctx, noDefaults: undefined });
  checkJunctors(v, path, skipAnyOf, skipFirstAllOfAnyOf, ctx);
  const items = asObject(v.items);
  if (items) checkNested(items, child(path, 'items'), false, false, ctx);
  const props = asObject(v.properties) ?? {};
  for (const [k, p] of Object.entries(props)) if (isObject(p)) checkNested(p, prop(path, k), false, false, ctx);
  const why = 'to be structural: inside allOf/anyOf/oneOf/not only value validations are allowed; put it on the node outside the junctor';
  if (v.type !== undefined && v.type !== '') out.push(`${child(path, 'type')}: must be empty ${why}`);
  if (v.additionalProperties !== undefined) out.push(`${child(path, 'additionalProperties')}: must be undefined ${why}`);
  if (v.default !== undefined) out.push(`${child(path, 'default')}: must be undefined ${why}`);
  if (typeof v.title === 'string' && v.title !== '') out.push(`${child(path, 'title')}: must be empty ${why}`);
  if (typeof v.description === 'string' && v.description !== '') out.push(`${child(path, 'description')}: must be empty ${why}`);
  if (v.nullable === true) out.push(`${child(path, 'nullable')}: must be false ${why}`);
  if (v.externalDocs !== undefined) out.push(`${child(path, 'externalDocs')}: must be undefined ${why}`);
  for (const ext of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string']) {
    if (v[ext] === true) out.push(`${child(path, ext)}: must be false ${why}`);
  }
  if (Array.isArray(v['x-kubernetes-list-map-keys']) && (v['x-kubernetes-list-map-keys'] as unknown[]).length > 0) {
    out.push(`${child(path, 'x-kubernetes-list-map-keys')}: must be empty ${why}`);
  }
  for (const ext of ['x-kubernetes-list-type', 'x-kubernetes-map-type']) if (v[ext] !== undefined) out.push(`${child(path, ext)}: must be undefined ${why}`);
  if (Array.isArray(v['x-kubernetes-validations']) && (v['x-kubernetes-validations'] as unknown[]).length > 0) {
    out.push(`${child(path, 'x-kubernetes-validations')}: must be empty ${why}`);
  }
  if (props.metadata !== undefined) out.push(`${prop(path, 'metadata')}: must not be specified in a nested context (metadata may only be restricted at the root)`);
}

function checkJunctors(s: Raw, path: string, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, ctx: Ctx): void {
  if (!skipAnyOf && Array.isArray(s.anyOf)) s.anyOf.forEach((x, i) => isObject(x) && checkNested(x, `${child(path, 'anyOf')}[${i}]`, false, false, ctx));
  if (Array.isArray(s.allOf)) {
    s.allOf.forEach((x, i) => isObject(x) && checkNested(x, `${child(path, 'allOf')}[${i}]`, skipFirstAllOfAnyOf && i === 0, false, ctx));
  }
  if (Array.isArray(s.oneOf)) s.oneOf.forEach((x, i) => isObject(x) && checkNested(x, `${child(path, 'oneOf')}[${i}]`, false, false, ctx));
  if (isObject(s.not)) checkNested(s.not, child(path, 'not'), false, false, ctx);
}

/** Every property/items named inside a junctor must exist in the skeleton (`validateStructuralCompleteness`). */
function checkCompleteness(v: Raw, s: Raw | undefined, sPath: string, vPath: string, out: string[]): void {
  const junctors: [Raw, string][] = [];
  if (isObject(v.not)) junctors.push([v.not, child(vPath, 'not')]);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = v[key];
    if (Array.isArray(list)) list.forEach((x, i) => isObject(x) && junctors.push([x, `${child(vPath, key)}[${i}]`]));
  }
  for (const [nested, nPath] of junctors) checkNestedCompleteness(nested, s, sPath, nPath, out);
}

function checkNestedCompleteness(v: Raw, s: Raw | undefined, sPath: string, vPath: string, out: string[]): void {
  if (!s) {
    out.push(`${sPath}: Required value: because it is defined in ${vPath} (every field named in a junctor must also be in the structural skeleton)`);
    return;
  }
  checkCompleteness(v, s, sPath, vPath, out);
  if (isObject(v.items)) checkNestedCompleteness(v.items, asObject(s.items), child(sPath, 'items'), child(vPath, 'items'), out);
  const sProps = asObject(s.properties) ?? {};
  for (const [k, vp] of Object.entries(asObject(v.properties) ?? {})) {
    if (!isObject(vp)) continue;
    const sp = asObject(sProps[k]);
    if (!sp) out.push(`${prop(sPath, k)}: Required value: because it is defined in ${prop(vPath, k)} (every field named in a junctor must also be in the structural skeleton)`);
    else checkNestedCompleteness(vp, sp, prop(sPath, k), prop(vPath, k), out);
  }
}

function checkRootMetadata(m: Raw, path: string, out: string[]): void {
  if (m.type !== 'object') out.push(`${child(path, 'type')}: must be object`);
  const extra = Object.keys(m).filter((k) => k !== 'type' && k !== 'properties' && k !== 'default');
  const props = Object.keys(asObject(m.properties) ?? {});
  const extraProps = props.filter((k) => k !== 'name' && k !== 'generateName');
  if (extra.length > 0 || extraProps.length > 0) {
    const what = [...extra.map((k) => `"${k}"`), ...extraProps.map((k) => `properties[${k}]`)].join(', ');
    out.push(
      `${path}: must not specify anything other than name and generateName, but metadata is implicitly specified (found ${what}); ` +
        'the API server supplies ObjectMeta itself, so a root metadata schema may only be {type: object} plus restrictions on name/generateName',
    );
  }
}

/** A skeleton node: the root, a property, an items or additionalProperties schema (`validateStructuralInvariants`). */
function checkSkeleton(s: Raw, lvl: Level, path: string, ctx: Ctx): void {
  const { out } = ctx;
  checkAnyNode(s, path, ctx);
  const type = str(s.type) ?? '';
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const intOrString = s['x-kubernetes-int-or-string'] === true;

  if (type === 'array' && s.items === undefined) out.push(`${child(path, 'items')}: Required value: must be specified for type array`);
  const items = asObject(s.items);
  if (items) checkSkeleton(items, 'item', child(path, 'items'), ctx);

  const props = asObject(s.properties) ?? {};
  for (const [k, p] of Object.entries(props)) {
    if (!isObject(p)) {
      out.push(`${prop(path, k)}: must be a schema object`);
      continue;
    }
    let sub: Ctx = ctx;
    if ((lvl === 'root' || embedded) && META_FIELDS.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (lvl === 'root') sub = { ...sub, noDefaults: `in top-level ${k}` };
    }
    checkSkeleton(p, 'field', prop(path, k), sub);
  }

  const ap = s.additionalProperties;
  if (ap !== undefined) {
    if (lvl === 'root') out.push(`${child(path, 'additionalProperties')}: must not be used at the root`);
    if (embedded) out.push(`${child(path, 'additionalProperties')}: must not be used if x-kubernetes-embedded-resource is set`);
    if (isObject(ap)) {
      const sub: Ctx = ctx.insideResourceMeta ? { ...ctx, noDefaults: 'inside additionalProperties applying to object metadata' } : ctx;
      checkSkeleton(ap, 'field', child(path, 'additionalProperties'), sub);
    }
  }

  if (intOrString && preserve) out.push(`${child(path, 'x-kubernetes-preserve-unknown-fields')}: must be false if x-kubernetes-int-or-string is true`);
  if (intOrString && embedded) out.push(`${child(path, 'x-kubernetes-embedded-resource')}: must be false if x-kubernetes-int-or-string is true`);

  const skipAnyOf = isIntOrStringAnyOf(s.anyOf);
  const allOf = Array.isArray(s.allOf) ? (s.allOf as unknown[]) : [];
  const skipFirstAllOfAnyOf = allOf.length >= 1 && isObject(allOf[0]) && isIntOrStringAnyOf(allOf[0].anyOf);
  checkJunctors(s, path, skipAnyOf, skipFirstAllOfAnyOf, ctx);

  if (embedded && type !== 'object') {
    out.push(`${child(path, 'type')}: ${type === '' ? 'Required value: ' : ''}must be object if x-kubernetes-embedded-resource is true`);
  } else if (type === '' && !intOrString && !preserve) {
    const where = lvl === 'root' ? 'at the root' : lvl === 'item' ? 'for specified array items' : 'for specified object fields';
    out.push(
      `${child(path, 'type')}: Required value: must not be empty ${where} (structural schemas need a type on every node; ` +
        'set type, or x-kubernetes-int-or-string: true / x-kubernetes-preserve-unknown-fields: true)',
    );
  }
  if (lvl === 'root' && type !== '' && type !== 'object') out.push(`${child(path, 'type')}: must be object at the root`);

  const checkMeta = lvl === 'root' || embedded;
  if (checkMeta) {
    for (const k of ['kind', 'apiVersion']) {
      const p = asObject(props[k]);
      if (p && p.type !== 'string') out.push(`${prop(path, k)}.type: must be string`);
    }
  }
  const metadata = asObject(props.metadata);
  if (metadata) {
    if (lvl === 'root') checkRootMetadata(metadata, prop(path, 'metadata'), out);
    else if (checkMeta && metadata.type !== 'object') out.push(`${prop(path, 'metadata')}.type: must be object`);
  }
  if (embedded && !preserve && Object.keys(props).length === 0) {
    out.push(`${child(path, 'properties')}: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`);
  }
}

/** Defaults must validate against their node and carry no field the server would prune (`defaulting/validation.go`). */
function checkDefaults(s: Raw, path: string, insideMeta: boolean, isEmbeddedRoot: boolean, out: string[]): void {
  if (s.default !== undefined && !insideMeta) {
    const embedded = s['x-kubernetes-embedded-resource'] === true || isEmbeddedRoot;
    for (const p of pruningProblems(s.default, s, { isResourceRoot: embedded })) {
      out.push(`${child(path, 'default')}: must not have unknown fields: ${p}`);
    }
    let errors: string[];
    try {
      errors = compileSchemaValidator(s)(s.default);
    } catch (err) {
      errors = [`could not be checked: ${(err as Error).message}`];
    }
    for (const e of errors) out.push(`${child(path, 'default')}: invalid default value: ${e}`);
  }
  // Defaults are forbidden under additionalProperties, so that branch is not followed (as upstream).
  const items = asObject(s.items);
  if (items) checkDefaults(items, child(path, 'items'), insideMeta, false, out);
  const embedded = s['x-kubernetes-embedded-resource'] === true || isEmbeddedRoot;
  for (const [k, p] of Object.entries(asObject(s.properties) ?? {})) {
    if (!isObject(p)) continue;
    checkDefaults(p, prop(path, k), insideMeta || (embedded && META_FIELDS.has(k)), false, out);
  }
}

/**
 * Problems that would make the API server reject `schema` as the `openAPIV3Schema` of a CRD version,
 * each as `<schema path>: <what is wrong and why>`; empty when the schema is accepted.
 *
 * Implements (see the module comment for sources):
 * - every node specifies a non-empty `type` (root, each property, additionalProperties and items),
 *   except nodes with `x-kubernetes-int-or-string: true` or `x-kubernetes-preserve-unknown-fields: true`;
 *   the root is of type object and has no additionalProperties; arrays have items; `type` is one of
 *   array/boolean/integer/number/object/string (never `null`);
 * - no `$ref`, `$schema`, `id`, `definitions`, `dependencies`, `patternProperties`, `additionalItems`,
 *   array-valued `items`, or `uniqueItems: true`; `properties` and `additionalProperties`
 *   (false or a schema) are mutually exclusive;
 * - nodes under allOf/anyOf/oneOf/not specify no type/description/title/default/additionalProperties/
 *   nullable/externalDocs and no x-kubernetes-* extensions, except the two int-or-string patterns
 *   (`anyOf: [{type: integer}, {type: string}]`, or the same as the first allOf entry), and every field
 *   they name also appears in the skeleton outside the junctors;
 * - root `metadata` is `{type: object}` and may only restrict `name` and `generateName` (no description);
 *   `metadata` is never named inside a junctor; `apiVersion`/`kind` are strings;
 * - `x-kubernetes-int-or-string` excludes preserve-unknown-fields and embedded-resource;
 *   embedded resources are objects with properties (or preserve-unknown-fields) and no additionalProperties;
 * - `x-kubernetes-preserve-unknown-fields` is true or absent; `x-kubernetes-list-type`
 *   (atomic|set|map, arrays only), `x-kubernetes-list-map-keys` (list-type map, scalar, required or
 *   defaulted, non-nullable item properties, no duplicates), `x-kubernetes-map-type` (atomic|granular,
 *   objects only), set items atomic;
 * - defaults: forbidden in top-level apiVersion/kind/metadata and in additionalProperties under resource
 *   metadata; every other default must validate against its node and contain no pruned fields (checked
 *   only once the schema has no other problem, as the API server does);
 * - `nullable: true` is forbidden at the root; patterns are valid RE2 ({@link re2Problems});
 * - `x-kubernetes-validations` entries are checked for shape (rule present, message single-line, reason
 *   known); the CEL expressions themselves are not compiled.
 */
export function structuralSchemaProblems(schema: object, path = 'openAPIV3Schema'): string[] {
  const s = schema as Raw;
  const out: string[] = [];
  if (s.nullable === true) out.push(`${child(path, 'nullable')}: nullable cannot be true at the root`);
  checkSkeleton(s, 'root', path, { out, insideResourceMeta: false });
  checkCompleteness(s, s, path, path, out);
  walkSkeleton(s, path, (node, p) => checkCompleteness(node, node, p, p, out));
  if (out.length === 0) checkDefaults(s, path, false, true, out);
  return [...new Set(out)];
}

/** Visits every skeleton node below `s` (properties, items, additionalProperties). */
function walkSkeleton(s: Raw, path: string, visit: (node: Raw, path: string) => void): void {
  for (const [k, p] of Object.entries(asObject(s.properties) ?? {})) {
    if (!isObject(p)) continue;
    visit(p, prop(path, k));
    walkSkeleton(p, prop(path, k), visit);
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    const sub = asObject(s[key]);
    if (sub) {
      visit(sub, child(path, key));
      walkSkeleton(sub, child(path, key), visit);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Whole CRDs
// ---------------------------------------------------------------------------------------------

const PRINTER_COLUMN_TYPES = new Set(['integer', 'number', 'string', 'boolean', 'date']);
const PRINTER_COLUMN_FORMATS = new Set(['int32', 'int64', 'float', 'double', 'byte', 'date', 'date-time', 'password']);

function simpleJsonPathProblems(p: string): string[] {
  if (p.length === 0) return ['must not be empty'];
  if (!p.startsWith('.')) return ['must be a simple json path starting with .'];
  return [];
}

/**
 * Whether a printer-column JSONPath (`.spec.replicas`, `.status.conditions[?(@.type=="Ready")].status`)
 * names a field the schema describes. Lattice convention, not an API server rule.
 */
function jsonPathResolves(schema: Raw, jsonPath: string): boolean {
  // Drop bracketed parts ([0], [*], [?(...)]) and split on the dots outside them.
  let plain = '';
  let depth = 0;
  for (const ch of jsonPath) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (depth === 0) plain += ch;
  }
  const segments = plain.split('.').filter((x) => x !== '');
  let node: Raw | undefined = schema;
  for (const [i, seg] of segments.entries()) {
    if (!node) return false;
    if (i === 0 && seg === 'metadata') return true;
    while (node && node.type === 'array') node = asObject(node.items);
    if (!node) return false;
    if (node['x-kubernetes-preserve-unknown-fields'] === true && !asObject(node.properties)?.[seg]) return true;
    const next: Raw | undefined = asObject(asObject(node.properties)?.[seg]) ?? asObject(node.additionalProperties);
    node = next;
  }
  return node !== undefined;
}

function missingDescriptions(s: Raw, path: string, isRoot: boolean, out: string[]): void {
  for (const [k, p] of Object.entries(asObject(s.properties) ?? {})) {
    if (!isObject(p)) continue;
    const pp = prop(path, k);
    // Root metadata may not carry a description at all (the API server rejects it), so it is exempt.
    if (isRoot && k === 'metadata') continue;
    if (typeof p.description !== 'string' || p.description.trim() === '') {
      out.push(`${pp}.description: Lattice convention: every property needs a non-empty description (it feeds kubectl explain and the field reference)`);
    }
    missingDescriptions(p, pp, false, out);
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    const sub = asObject(s[key]);
    if (sub) missingDescriptions(sub, child(path, key), false, out);
  }
}

/**
 * Problems that would make the API server reject `crd`, or that break a Lattice convention, each as
 * `<field path>: <what is wrong and why>`; empty when the CRD is fine.
 *
 * API server rules (`pkg/apis/apiextensions/validation/validation.go`): apiVersion
 * `apiextensions.k8s.io/v1` and kind `CustomResourceDefinition`; `metadata.name` is
 * `<spec.names.plural>.<spec.group>`; group is a DNS subdomain with at least one dot; scope is
 * Namespaced or Cluster; names.plural and names.kind are set (singular and listKind default from kind);
 * plural, singular, shortNames and categories are DNS-1035 labels, kind and listKind are too when
 * lower-cased, kind differs from listKind; versions are non-empty, uniquely named DNS-1035 labels,
 * exactly one is the storage version, and each has an `openAPIV3Schema` that passes
 * {@link structuralSchemaProblems}; with the status subresource the root schema may only hold the
 * allowed root fields; scale subresource paths are `.spec.`/`.status.` JSON paths; printer columns have a
 * name, a type in integer/number/string/boolean/date, an allowed format, and a JSONPath starting with `.`;
 * `spec.preserveUnknownFields` is not true.
 *
 * Lattice conventions (stricter than Kubernetes, and marked as such in the message): every property
 * except root `metadata` has a non-empty description; a schema with a `status` property enables the status
 * subresource (so status writes cannot clobber spec); printer-column JSONPaths name a field in the schema.
 */
export function crdProblems(crd: object): string[] {
  const c = crd as Raw;
  const out: string[] = [];
  if (c.apiVersion !== 'apiextensions.k8s.io/v1') out.push(`apiVersion: must be apiextensions.k8s.io/v1 (got ${JSON.stringify(c.apiVersion)})`);
  if (c.kind !== 'CustomResourceDefinition') out.push(`kind: must be CustomResourceDefinition (got ${JSON.stringify(c.kind)})`);
  const spec = asObject(c.spec);
  if (!spec) return [...out, 'spec: Required value'];
  const names = asObject(spec.names) ?? {};
  const group = str(spec.group) ?? '';
  const plural = str(names.plural) ?? '';
  const name = str(asObject(c.metadata)?.name) ?? '';
  if (name === '') out.push('metadata.name: Required value');
  else {
    for (const p of dns1123SubdomainProblems(name)) out.push(`metadata.name: ${p}`);
    if (name !== `${plural}.${group}`) out.push(`metadata.name: must be spec.names.plural+"."+spec.group (${JSON.stringify(`${plural}.${group}`)}), got ${JSON.stringify(name)}`);
  }
  if (group === '') out.push('spec.group: Required value');
  else {
    for (const p of dns1123SubdomainProblems(group)) out.push(`spec.group: ${p}`);
    if (!group.includes('.')) out.push('spec.group: should be a domain with at least one dot');
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') out.push(`spec.scope: must be Namespaced or Cluster (got ${JSON.stringify(spec.scope)})`);
  if (plural === '') out.push('spec.names.plural: Required value');
  if (str(names.kind) === undefined || names.kind === '') out.push('spec.names.kind: Required value');
  const label = (field: string, value: unknown, lower = false) => {
    if (typeof value !== 'string' || value === '') return;
    for (const p of dns1035LabelProblems(lower ? value.toLowerCase() : value)) out.push(`spec.names.${field}: ${lower ? 'may have mixed case, but should otherwise match: ' : ''}${p}`);
  };
  label('plural', names.plural);
  label('singular', names.singular);
  label('kind', names.kind, true);
  label('listKind', names.listKind, true);
  if (Array.isArray(names.shortNames)) names.shortNames.forEach((v, i) => label(`shortNames[${i}]`, v));
  if (Array.isArray(names.categories)) names.categories.forEach((v, i) => label(`categories[${i}]`, v));
  if (typeof names.kind === 'string' && names.kind !== '' && names.kind === names.listKind) out.push('spec.names.listKind: kind and listKind may not be the same');
  if (spec.preserveUnknownFields === true) out.push('spec.preserveUnknownFields: must not be true in apiextensions.k8s.io/v1; use x-kubernetes-preserve-unknown-fields in the schema');

  const versions = Array.isArray(spec.versions) ? (spec.versions as unknown[]) : [];
  if (versions.length === 0) out.push('spec.versions: Required value: must have at least one version');
  const seen = new Set<string>();
  let storage = 0;
  versions.forEach((raw, i) => {
    const vp = `spec.versions[${i}]`;
    const v = asObject(raw) ?? {};
    const vname = str(v.name) ?? '';
    for (const p of dns1035LabelProblems(vname)) out.push(`${vp}.name: ${p}`);
    if (seen.has(vname)) out.push(`spec.versions: must contain unique version names (${JSON.stringify(vname)} repeats)`);
    seen.add(vname);
    if (v.storage === true) storage++;
    const schema = asObject(asObject(v.schema)?.openAPIV3Schema);
    const subresources = asObject(v.subresources);
    const statusEnabled = asObject(subresources?.status) !== undefined;
    if (!schema) {
      out.push(`${vp}.schema.openAPIV3Schema: Required value: schemas are required in apiextensions.k8s.io/v1`);
    } else {
      out.push(...structuralSchemaProblems(schema, `${vp}.schema.openAPIV3Schema`));
      if (statusEnabled) {
        const bad = Object.keys(schema).filter((k) => !ALLOWED_AT_ROOT_WITH_STATUS.has(k));
        if (bad.length > 0) {
          out.push(`${vp}.schema.openAPIV3Schema: only ${[...ALLOWED_AT_ROOT_WITH_STATUS].join(', ')} are allowed at the root of the schema if the status subresource is enabled (found ${bad.join(', ')})`);
        }
      }
      if (asObject(schema.properties)?.status !== undefined && !statusEnabled) {
        out.push(`${vp}.subresources.status: Lattice convention: the schema has a status, so the status subresource must be enabled (subresources: {status: {}}) to keep status writes from changing spec`);
      }
      missingDescriptions(schema, `${vp}.schema.openAPIV3Schema`, true, out);
      if (typeof schema.description !== 'string' || schema.description.trim() === '') {
        out.push(`${vp}.schema.openAPIV3Schema.description: Lattice convention: the kind needs a non-empty description`);
      }
    }
    const scale = asObject(subresources?.scale);
    if (scale) {
      for (const [field, prefix] of [['specReplicasPath', '.spec.'], ['statusReplicasPath', '.status.']] as const) {
        const p = str(scale[field]) ?? '';
        if (p === '') out.push(`${vp}.subresources.scale.${field}: Required value`);
        else {
          for (const e of simpleJsonPathProblems(p)) out.push(`${vp}.subresources.scale.${field}: ${e}`);
          if (!p.startsWith(prefix)) out.push(`${vp}.subresources.scale.${field}: should be a json path under ${prefix.slice(0, -1)}`);
        }
      }
      const sel = str(scale.labelSelectorPath);
      if (sel !== undefined && sel !== '') {
        for (const e of simpleJsonPathProblems(sel)) out.push(`${vp}.subresources.scale.labelSelectorPath: ${e}`);
        if (!sel.startsWith('.spec.') && !sel.startsWith('.status.')) out.push(`${vp}.subresources.scale.labelSelectorPath: should be a json path under either .spec or .status`);
      }
    }
    const columns = Array.isArray(v.additionalPrinterColumns) ? (v.additionalPrinterColumns as unknown[]) : [];
    columns.forEach((rawCol, j) => {
      const cp = `${vp}.additionalPrinterColumns[${j}]`;
      const col = asObject(rawCol) ?? {};
      if (str(col.name) === undefined || col.name === '') out.push(`${cp}.name: Required value`);
      if (typeof col.type !== 'string' || !PRINTER_COLUMN_TYPES.has(col.type)) {
        out.push(`${cp}.type: must be one of ${[...PRINTER_COLUMN_TYPES].join(', ')} (got ${JSON.stringify(col.type)})`);
      }
      if (col.format !== undefined && (typeof col.format !== 'string' || !PRINTER_COLUMN_FORMATS.has(col.format))) {
        out.push(`${cp}.format: must be one of ${[...PRINTER_COLUMN_FORMATS].join(', ')} (got ${JSON.stringify(col.format)})`);
      }
      const jp = str(col.jsonPath) ?? '';
      if (jp === '') out.push(`${cp}.jsonPath: Required value`);
      else {
        const errs = simpleJsonPathProblems(jp);
        for (const e of errs) out.push(`${cp}.jsonPath: ${e}`);
        if (errs.length === 0 && schema && !jsonPathResolves(schema, jp)) {
          out.push(`${cp}.jsonPath: Lattice convention: ${JSON.stringify(jp)} does not name a field in the schema, so the column would always be empty`);
        }
      }
    });
  });
  if (versions.length > 0 && storage !== 1) out.push(`spec.versions: must have exactly one version marked as storage version (found ${storage})`);
  const conversion = asObject(spec.conversion);
  if (conversion && conversion.strategy !== undefined && conversion.strategy !== 'None' && conversion.strategy !== 'Webhook') {
    out.push(`spec.conversion.strategy: must be None or Webhook (got ${JSON.stringify(conversion.strategy)})`);
  }
  return [...new Set(out)];
}

// ---------------------------------------------------------------------------------------------
// Pruning (unknown fields)
// ---------------------------------------------------------------------------------------------

/** Options for {@link pruningProblems}. */
export interface PruningOptions {
  /**
   * The value is a whole resource (true for a custom resource's root): apiVersion, kind and metadata
   * are not pruned by the schema; metadata is ObjectMeta, checked by `checkMetadata` if given.
   */
  isResourceRoot?: boolean;
  /**
   * Checks the ObjectMeta of an embedded resource (`x-kubernetes-embedded-resource: true`), whose
   * unknown metadata fields the server also drops; returns problems already prefixed with the path.
   */
  checkEmbeddedMetadata?: (metadata: unknown, path: (string | number)[]) => string[];
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a as Raw);
  const kb = Object.keys(b as Raw);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b as Raw, k) && jsonEqual((a as Raw)[k], (b as Raw)[k]));
}

function checkListType(x: unknown[], s: Raw, path: (string | number)[], out: string[]): void {
  const listType = s['x-kubernetes-list-type'];
  if (listType === 'set') {
    x.forEach((v, i) => {
      if (x.slice(0, i).some((w) => jsonEqual(v, w))) {
        out.push(`${formatPath([...path, i])}: Duplicate value: x-kubernetes-list-type is set, so items must be unique`);
      }
    });
  } else if (listType === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
    const keys = s['x-kubernetes-list-map-keys'] as string[];
    const tuple = (v: unknown) => keys.map((k) => (isObject(v) ? v[k] : undefined));
    x.forEach((v, i) => {
      if (x.slice(0, i).some((w) => jsonEqual(tuple(v), tuple(w)))) {
        out.push(`${formatPath([...path, i])}: Duplicate value: x-kubernetes-list-type is map with keys ${keys.join(', ')}, so no two items may share them`);
      }
    });
  }
}

function pruneWalk(x: unknown, s: Raw | undefined, path: (string | number)[], opts: PruningOptions, isRoot: boolean, out: string[]): void {
  if (s && s['x-kubernetes-preserve-unknown-fields'] === true) {
    skipPruneWalk(x, s, path, opts, isRoot, out);
    return;
  }
  if (Array.isArray(x)) {
    if (s) checkListType(x, s, path, out);
    x.forEach((v, i) => pruneWalk(v, s ? asObject(s.items) : undefined, [...path, i], opts, false, out));
    return;
  }
  if (!isObject(x)) return;
  const embedded = isRoot || s?.['x-kubernetes-embedded-resource'] === true;
  if (embedded && !isRoot) embeddedMeta(x, path, opts, out);
  for (const [k, v] of Object.entries(x)) {
    if (embedded && META_FIELDS.has(k)) continue;
    const p = asObject(asObject(s?.properties)?.[k]);
    if (p) pruneWalk(v, p, [...path, k], opts, false, out);
    else if (s && s.additionalProperties !== undefined && s.additionalProperties !== null) {
      pruneWalk(v, asObject(s.additionalProperties), [...path, k], opts, false, out);
    } else {
      const where = s === undefined ? 'the schema allows no fields here' : 'it is not in the schema';
      out.push(`${formatPath([...path, k])}: unknown field ${JSON.stringify(k)}: the API server would silently drop it (${where})`);
    }
  }
}

function skipPruneWalk(x: unknown, s: Raw, path: (string | number)[], opts: PruningOptions, isRoot: boolean, out: string[]): void {
  if (Array.isArray(x)) {
    checkListType(x, s, path, out);
    const items = asObject(s.items);
    if (items) x.forEach((v, i) => skipPruneWalk(v, items, [...path, i], opts, false, out));
    return;
  }
  if (!isObject(x)) return;
  const embedded = isRoot || s['x-kubernetes-embedded-resource'] === true;
  if (embedded && !isRoot) embeddedMeta(x, path, opts, out);
  for (const [k, v] of Object.entries(x)) {
    if (embedded && META_FIELDS.has(k)) continue;
    const p = asObject(asObject(s.properties)?.[k]);
    if (p) pruneWalk(v, p, [...path, k], opts, false, out);
    else if (isObject(s.additionalProperties)) pruneWalk(v, s.additionalProperties, [...path, k], opts, false, out);
  }
}

function embeddedMeta(x: Raw, path: (string | number)[], opts: PruningOptions, out: string[]): void {
  for (const k of ['apiVersion', 'kind']) {
    if (typeof x[k] !== 'string' || x[k] === '') out.push(`${formatPath([...path, k])}: Required value: must not be empty for an embedded resource`);
  }
  if (x.metadata !== undefined && opts.checkEmbeddedMetadata) out.push(...opts.checkEmbeddedMetadata(x.metadata, [...path, 'metadata']));
}

/**
 * Fields in `value` that the API server would silently drop when storing it under the structural
 * schema `schema` (the pruning algorithm of apiextensions-apiserver `pruning/algorithm.go`), reported as
 * errors: for Lattice a dropped field means it derived something the cluster ignores. A field is kept
 * when its object node lists it in `properties`, has `additionalProperties`, or has
 * `x-kubernetes-preserve-unknown-fields: true`; an object node with none of these keeps no fields.
 * At a resource root and in embedded resources, apiVersion/kind/metadata are exempt (ObjectMeta is
 * handled separately). Also reports duplicate items in `x-kubernetes-list-type: set|map` lists and
 * missing apiVersion/kind of embedded resources, which the server rejects.
 */
export function pruningProblems(value: unknown, schema: object, opts: PruningOptions = {}): string[] {
  const out: string[] = [];
  pruneWalk(value, schema as Raw, [], opts, opts.isResourceRoot ?? false, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Value validation with ajv
// ---------------------------------------------------------------------------------------------

/**
 * Units accepted by kube-openapi's `strfmt` duration format (Go `time.ParseDuration` units plus days,
 * weeks and their long names).
 */
const DURATION_UNITS = new Set([
  'ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h', 'd', 'w',
  'nanosecond', 'nanoseconds', 'microsecond', 'microseconds', 'millisecond', 'milliseconds', 'second', 'seconds',
  'sec', 'secs', 'minute', 'minutes', 'min', 'mins', 'hour', 'hours', 'hr', 'hrs', 'day', 'days', 'week', 'weeks',
]);

function isDuration(s: string): boolean {
  if (/^[-+]?0$/.test(s)) return true;
  const body = s.replace(/^[-+]/, '');
  const parts = [...body.matchAll(/(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-zµμ]+)\s*/g)];
  if (parts.length === 0 || parts.map((m) => m[0]).join('') !== body) return false;
  return parts.every((m) => DURATION_UNITS.has(m[2]!));
}
const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))),
  datetime: (s) => FORMATS['date-time']!(s),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  byte: (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s),
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid3: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid4: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  uuid5: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  ipv4: (s) => /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(s),
  ipv6: (s) => isIpv6(s),
  cidr: (s) => {
    const [ip, bits, extra] = s.split('/');
    if (ip === undefined || bits === undefined || extra !== undefined || !/^\d{1,3}$/.test(bits)) return false;
    if (FORMATS.ipv4!(ip)) return Number(bits) <= 32;
    return isIpv6(ip) && Number(bits) <= 128;
  },
  hostname: (s) => s.length <= 253 && /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/.test(s),
  email: (s) => /^[^@\s]+@[^@\s]+$/.test(s),
  uri: (s) => {
    try {
      return new URL(s).protocol !== '';
    } catch {
      return false;
    }
  },
  mac: (s) => /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/.test(s),
  duration: isDuration,
  hexcolor: (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s),
  rgbcolor: (s) => /^rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)$/.test(s),
  password: () => true,
};

function isIpv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.split('::').length > 2) return false;
  let parts = s.split(':');
  const last = parts[parts.length - 1]!;
  let groups = 8;
  if (last.includes('.')) {
    if (!FORMATS.ipv4!(last)) return false;
    parts = parts.slice(0, -1);
    groups = 6;
  }
  const compressed = s.includes('::');
  const nonEmpty = parts.filter((p) => p !== '');
  if (!nonEmpty.every((p) => /^[0-9A-Fa-f]{1,4}$/.test(p))) return false;
  return compressed ? nonEmpty.length < groups : nonEmpty.length === groups && parts.length === groups;
}

/**
 * Turns one CRD schema node into a JSON Schema ajv understands: `nullable` becomes a `null` type,
 * `x-kubernetes-int-or-string` without an anyOf gets `anyOf: [integer, string]`, boolean
 * `exclusiveMinimum/Maximum` (OpenAPI 3.0) become numeric, formats the API server does not validate are
 * dropped, and annotations (description, example, x-kubernetes-*) are removed.
 */
function toAjvSchema(s: Raw): Raw {
  const out: Raw = {};
  for (const [k, v] of Object.entries(s)) {
    switch (k) {
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(asObject(v) ?? {}).map(([pk, pv]) => [pk, isObject(pv) ? toAjvSchema(pv) : {}]));
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof v === 'boolean' ? v : isObject(v) ? toAjvSchema(v) : {};
        break;
      case 'items':
        out.items = isObject(v) ? toAjvSchema(v) : {};
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[k] = Array.isArray(v) ? v.map((x) => (isObject(x) ? toAjvSchema(x) : {})) : [];
        break;
      case 'not':
        out.not = isObject(v) ? toAjvSchema(v) : {};
        break;
      case 'format':
        if (typeof v === 'string' && FORMATS[v]) out.format = v;
        break;
      case 'type':
      case 'required':
      case 'enum':
      case 'default':
      case 'pattern':
      case 'minimum':
      case 'maximum':
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
      case 'multipleOf':
      case 'minProperties':
      case 'maxProperties':
        out[k] = v;
        break;
      default:
        break;
    }
  }
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (s[flag] === true && typeof s[bound] === 'number') {
      out[flag] = s[bound];
      delete out[bound];
    } else if (typeof s[flag] === 'number') out[flag] = s[flag];
  }
  if (s['x-kubernetes-int-or-string'] === true && s.anyOf === undefined && s.allOf === undefined) {
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (s.nullable === true) {
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (out.anyOf !== undefined || out.allOf !== undefined || out.oneOf !== undefined) return { anyOf: [{ type: 'null' }, out] };
  }
  return out;
}

const re2Engine = Object.assign((pattern: string, _u: string) => re2ToRegExp(pattern), { code: 're2ToRegExp' });

let ajvInstance: Ajv | undefined;
function ajv(): Ajv {
  if (!ajvInstance) {
    ajvInstance = new Ajv({
      strict: false,
      allErrors: true,
      useDefaults: true,
      verbose: true,
      logger: false,
      code: { regExp: re2Engine },
    });
    for (const [name, fn] of Object.entries(FORMATS)) ajvInstance.addFormat(name, { type: 'string', validate: fn });
  }
  return ajvInstance;
}

/** Formats ajv errors as `<field path>: <message>`, folding the branch errors of anyOf/oneOf into one line. */
export function formatAjvErrors(errors: readonly ErrorObject[], data: unknown): string[] {
  const junctions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const out: string[] = [];
  for (const e of errors) {
    if (junctions.some((j) => j !== e && e.schemaPath.startsWith(`${j.schemaPath}/`) && e.instancePath.startsWith(j.instancePath))) continue;
    let path = e.instancePath;
    let message = e.message ?? e.keyword;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'required') {
      path += `/${String(params.missingProperty).replace(/~/g, '~0').replace(/\//g, '~1')}`;
      message = 'Required value: the field is missing';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'type') {
      message = `must be of type ${Array.isArray(params.type) ? (params.type as string[]).join(' or ') : String(params.type)} (got ${describeType(valueAt(data, e.instancePath))})`;
    } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      const branches = Array.isArray(e.schema) ? (e.schema as Raw[]) : [];
      const simpleTypes = branches.every((b) => isObject(b) && Object.keys(b).length === 1 && typeof b.type === 'string');
      if (simpleTypes && branches.length > 0) message = `must be of type ${branches.map((b) => String(b.type)).join(' or ')} (got ${describeType(valueAt(data, e.instancePath))})`;
      else {
        const details = errors
          .filter((x) => x !== e && x.schemaPath.startsWith(`${e.schemaPath}/`))
          .map((x) => `${pointerToPath(data, x.instancePath)} ${x.message ?? x.keyword}`);
        message = `${e.message ?? e.keyword}${details.length > 0 ? ` (${[...new Set(details)].join('; ')})` : ''}`;
      }
    } else if (e.keyword === 'additionalProperties') {
      path += `/${String(params.additionalProperty)}`;
      message = 'unknown field: not allowed by the schema';
    }
    out.push(`${pointerToPath(data, path)}: ${message}`);
  }
  return [...new Set(out)];
}

const validatorCache = new WeakMap<object, (value: unknown) => string[]>();

/**
 * Compiles a structural schema (a CRD `openAPIV3Schema`, or any node of one) into a function returning
 * the value problems the API server's validator would report, as `<field path>: <message>`.
 * Defaults are applied to a copy first (the server defaults before validating). Handles `nullable`,
 * `x-kubernetes-int-or-string`, OpenAPI 3.0 boolean exclusive bounds, RE2 `pattern`s (translated by
 * {@link re2ToRegExp}) and the string formats the server checks (date-time, date, byte, uuid*, ipv4,
 * ipv6, cidr, hostname, email, uri, mac, duration in Go syntax, colors); other formats are ignored, as by
 * the server. NOT checked: `x-kubernetes-validations` (CEL) and unknown fields (see {@link pruningProblems}).
 * Compiled validators are cached per schema object. Throws if the schema cannot be compiled (for example
 * a pattern JavaScript cannot express), with the reason.
 */
export function compileSchemaValidator(schema: object): (value: unknown) => string[] {
  const cached = validatorCache.get(schema);
  if (cached) return cached;
  let validate: ValidateFunction;
  try {
    validate = ajv().compile(toAjvSchema(schema as Raw));
  } catch (err) {
    throw new Error(`could not compile the schema for validation: ${(err as Error).message}`);
  }
  const fn = (value: unknown): string[] => {
    const copy = value === undefined ? value : (structuredClone(value) as unknown);
    if (validate(copy)) return [];
    return formatAjvErrors(validate.errors ?? [], copy);
  };
  validatorCache.set(schema, fn);
  return fn;
}
