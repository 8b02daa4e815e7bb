/**
 * Status in Kubernetes API conventions: `observedGeneration`, `phase`, `conditions` (each with a
 * CamelCase reason and an actionable message) and the list of derived resources.
 * `Validated` and `Ready` are always present; stages add their own conditions.
 */
import type { Condition } from '../api/common.ts';
import type { LatticeServiceStatus } from '../api/latticeservice/v1alpha1.ts';
import type { ConditionDraft, Diagnostic, KubeObject } from './types.ts';

/** Condition types in the order they are written. */
export const CONDITION_ORDER = ['Validated', 'PlatformSupported', 'SecretsResolved', 'ImageVerified', 'PolicyAuthorized', 'VolumesResolved', 'QuotaSatisfied', 'DependenciesAgreed', 'InboundRestricted', 'Ready'];

/** `file:line:col` of a diagnostic, or its field path, for messages. */
export function where(d: Diagnostic): string {
  const loc = d.location ? `${d.location.file}:${d.location.line}:${d.location.column}` : undefined;
  if (loc && d.path) return `${loc} ${d.path}`;
  return loc ?? d.path ?? '';
}

/** One line per diagnostic: `<where>: <message>`. */
export function describe(d: Diagnostic): string {
  const w = where(d);
  return w ? `${w}: ${d.message}` : d.message;
}

/**
 * Builds the status from what the stages reported. A condition type with error diagnostics is
 * False with the first error's reason; warnings make a condition False without failing the service.
 */
export function buildStatus(opts: {
  generation?: number;
  objects: KubeObject[];
  diagnostics: Diagnostic[];
  conditions: Map<string, ConditionDraft>;
  now: string;
  previous?: Condition[];
}): LatticeServiceStatus {
  const drafts = new Map(opts.conditions);
  const byCondition = new Map<string, Diagnostic[]>();
  for (const d of opts.diagnostics) {
    const list = byCondition.get(d.condition) ?? [];
    list.push(d);
    byCondition.set(d.condition, list);
  }
  for (const [type, list] of byCondition) {
    const errors = list.filter((d) => d.severity === 'error');
    const shown = errors.length > 0 ? errors : list;
    const count = shown.length > 1 ? `${shown.length} problems: ` : '';
    drafts.set(type, { type, status: 'False', reason: shown[0]!.reason, message: count + shown.map(describe).join('; ') });
  }
  if (!drafts.has('Validated')) drafts.set('Validated', { type: 'Validated', status: 'True', reason: 'Valid', message: 'The spec is valid.' });
  const errors = opts.diagnostics.filter((d) => d.severity === 'error');
  const failed = errors.length > 0;
  const count = opts.objects.length;
  const summary = `${count} resource${count === 1 ? '' : 's'} derived`;
  if (failed) {
    const first = errors[0]!;
    drafts.set('Ready', {
      type: 'Ready',
      status: 'False',
      reason: first.reason,
      message: `Nothing was derived: ${describe(first)}${errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''}; see the other conditions)` : ''}`,
    });
  } else {
    const warnings = opts.diagnostics.filter((d) => d.severity === 'warning');
    drafts.set('Ready', {
      type: 'Ready',
      status: 'True',
      reason: 'Derived',
      message: `${summary}.${warnings.length > 0 ? ` ${warnings.length} warning${warnings.length > 1 ? 's' : ''}: see the other conditions.` : ''}`,
    });
  }
  const previous = new Map((opts.previous ?? []).map((c) => [c.type, c]));
  const ordered = [...drafts.values()].sort((a, b) => rank(a.type) - rank(b.type));
  const conditions: Condition[] = ordered.map((d) => {
    const prev = previous.get(d.type);
    const lastTransitionTime = prev && prev.status === d.status ? prev.lastTransitionTime : opts.now;
    const c: Condition = { type: d.type, status: d.status, reason: d.reason, message: d.message, lastTransitionTime };
    if (opts.generation !== undefined) c.observedGeneration = opts.generation;
    return c;
  });
  const status: LatticeServiceStatus = {
    phase: failed ? 'Failed' : 'Ready',
    conditions,
    resourceCount: count,
    resources: opts.objects.map((o) => {
      const ref: LatticeServiceStatus['resources'][number] = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name };
      if (o.metadata.namespace !== undefined) ref.namespace = o.metadata.namespace;
      return ref;
    }),
    message: failed ? `Failed: ${errors[0]!.message}` : `${summary}.`,
  };
  if (opts.generation !== undefined) status.observedGeneration = opts.generation;
  return status;
}

/** Position of a condition type; a type not in the list goes just before Ready, which is always last. */
function rank(type: string): number {
  const i = CONDITION_ORDER.indexOf(type);
  return i < 0 ? CONDITION_ORDER.length - 1.5 : i;
}
