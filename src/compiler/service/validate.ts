/**
 * Validation of a raw LatticeService against the API schema, turning every zod issue into a
 * diagnostic with the field path, the input position when known, and the fix.
 */
import type { z } from 'zod';
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { V1BETA1, movedField, parseLatticeService } from '../../api/latticeservice/index.ts';
import { explainPath, fieldsAt } from '../../api/explain.ts';
import { nearestName } from '../../api/names.ts';
import type { Diagnostic, ServiceInput } from '../types.ts';

/** The condition every validation diagnostic belongs to. */
export const VALIDATED = 'Validated';

/** Result of validating a raw service. */
export type ValidationResult = { ok: true; service: LatticeService } | { ok: false; diagnostics: Diagnostic[] };

/** Formats a zod path as a dotted field path (`spec.workload.containers.api.image`, `args[0]`). */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += out.length === 0 ? s : /^[A-Za-z0-9_-]+$/.test(s) ? `.${s}` : `["${s}"]`;
    }
  }
  return out;
}

/** Validates `input.object` as a LatticeService, collecting every problem at once. */
export function validateService(input: ServiceInput): ValidationResult {
  const result = parseLatticeService(input.object, { reportInput: true });
  if (result.success) return { ok: true, service: result.data };
  return { ok: false, diagnostics: issuesToDiagnostics(result.error.issues, input) };
}

/**
 * Converts zod issues to Validated diagnostics, one per issue, with positions when the input has them.
 * An unknown field gets a diagnostic of its own, at the field's own line, with the nearest allowed
 * name when one is close ("did you mean") and the `lattice explain` command listing the fields;
 * the kind is read from `input.object`.
 */
export function issuesToDiagnostics(issues: readonly z.core.$ZodIssue[], input: Pick<ServiceInput, 'locate'> & { object?: unknown }): Diagnostic[] {
  const kind = String((input.object as { kind?: unknown } | undefined)?.kind ?? 'LatticeService');
  const apiVersion = (input.object as { apiVersion?: unknown } | undefined)?.apiVersion;
  const version = typeof apiVersion === 'string' ? apiVersion : undefined;
  return issues.flatMap((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const diagnostic = (at: (string | number)[], message: string): Diagnostic => {
      const d: Diagnostic = { severity: 'error', condition: VALIDATED, reason: 'InvalidSpec', path: fieldPath(at), message };
      if (input.locate) d.location = input.locate(at);
      return d;
    };
    if (issue.code === 'unrecognized_keys') {
      const known = fieldsAt(kind, path, version) ?? [];
      return issue.keys.map((key) => {
        const moved = kind === 'LatticeService' && version === V1BETA1 ? movedField([...path, key]) : undefined;
        if (moved !== undefined) {
          return diagnostic([...path, key], `unknown field "${key}": lattice.dev/v1beta1 moved it to ${moved} (docs/versioning.md); \`lattice migrate\` makes such moves in v1alpha1 files`);
        }
        const near = nearestName(key, known);
        const hint = near ? `did you mean "${near}"? ` : '';
        return diagnostic([...path, key], `unknown field "${key}": ${hint}\`lattice explain ${explainPath(kind, path)}\` lists the allowed fields${near ? '' : known.length > 0 ? ` (${known.join(', ')})` : ''}`);
      });
    }
    return [diagnostic(path, describeIssue(issue))];
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (expected ${issue.expected})`;
      return `must be ${article(issue.expected)}, not ${describeValue(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${butWas(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return `must not be empty`;
      return `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${issue.minimum}${butWas(issue.input)}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}${butWas(issue.input)}`;
    case 'invalid_format':
      return issue.message;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => describeIssue(i as z.core.$ZodIssue)).join('; ')}`;
    case 'invalid_element':
      return issue.issues.map((i) => describeIssue(i as z.core.$ZodIssue)).join('; ');
    default:
      return issue.message;
  }
}

/** ", not <value>" when zod reported the input (it does with `reportInput: true`), else nothing. */
function butWas(input: unknown): string {
  return input === undefined ? '' : `, not ${describeValue(input)}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  return String(value);
}
