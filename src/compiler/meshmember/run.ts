/**
 * The run loop of a workload kind whose pods Lattice does not template (a mesh member, a package):
 * validate the document with the kind's zod schema, build its "unit" (the LatticeService-shaped view
 * the shared stages read), run the gates, then the derivers, and build the status. The same loop as
 * service/pipeline.ts `deriveService`, all-or-nothing: any error drops every object.
 */
import type { z } from 'zod';
import { documentIdentity, newState, timed, workloadResult } from '../workload/run.ts';
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { issuesToDiagnostics } from '../service/validate.ts';
import { nameCollision, sortForApply } from '../service/pipeline.ts';
import { selfCollisions } from '../platform/collisions.ts';
import { hasErrors, type Stage } from '../workload/stages.ts';
import type { DerivationContext, DerivationState, Diagnostic, KubeObject, ServiceInput, ServiceResult } from '../types.ts';
import type { WorkloadKind } from '../kinds.ts';

/** What a kind gives the run loop. */
export interface UnitKind<T> {
  /** The document's `kind`, written on the result. */
  kind: string;
  schema: z.ZodType<T>;
  /** The LatticeService-shaped unit of a valid document (its view, with its mesh identity). */
  unit(value: T): LatticeService;
  /** Gates, run in order; any error stops the derivation before the derivers. */
  gates: readonly ((state: DerivationState, value: T) => void)[];
  /** Derivers, run in order when no gate failed. */
  derivers: readonly ((state: DerivationState, value: T) => void)[];
}

/**
 * The workload kind (src/compiler/kinds.ts) of a unit kind: parsed by its schema, seen as its unit,
 * derived by {@link runUnit}.
 */
export function unitWorkload<T>(unit: UnitKind<T>): WorkloadKind<T> {
  return {
    kind: unit.kind,
    parse(object) {
      const parsed = unit.schema.safeParse(object);
      return parsed.success ? parsed.data : undefined;
    },
    view: (value) => unit.unit(value),
    derive: (input, value, ctx) => runUnit(unit, input, value, ctx),
  };
}

/** Adapts a shared {@link Stage} to the loop's stage shape. */
export function stage<T>(s: Stage): (state: DerivationState, value: T) => void {
  const adapted = (state: DerivationState): void => s(state);
  Object.defineProperty(adapted, 'name', { value: s.name });
  return adapted;
}

/**
 * Derives one document of `kind`. `value` is the already validated document when the caller has it
 * (the Fleet parses every workload once). Never throws for bad input.
 */
export function runUnit<T>(kind: UnitKind<T>, input: ServiceInput, value: T | undefined, ctx: DerivationContext): ServiceResult {
  const id = documentIdentity(input.object);
  const key = `${id.namespace}/${id.name}`;
  const result = (objects: KubeObject[], diagnostics: Diagnostic[], conditions: DerivationState['conditions']): ServiceResult =>
    workloadResult(kind.kind, input, id, ctx, objects, diagnostics, conditions);
  const run = <R>(name: string, f: () => R): R => timed(ctx, name, f);
  let valid = value;
  if (valid === undefined) {
    const parsed = run('validate', () => kind.schema.safeParse(input.object, { reportInput: true }));
    if (!parsed.success) return result([], issuesToDiagnostics(parsed.error.issues, input), new Map());
    valid = parsed.data;
  }
  const v = valid;
  const state = newState(key, kind.unit(v), input, ctx);
  for (const gate of kind.gates) run(gate.name, () => gate(state, v));
  if (!hasErrors(state)) for (const d of kind.derivers) run(d.name, () => d(state, v));
  if (!hasErrors(state)) {
    for (const c of selfCollisions(state.objects)) {
      state.diagnostics.push(nameCollision(
        `this ${kind.kind} would derive ${c.descriptions.length} objects with one name: ${c.descriptions.join(' and ')}. Two objects with one name would overwrite each other: rename the resources involved.`,
        input.locate?.(['metadata', 'name']),
      ));
    }
  }
  const failed = hasErrors(state);
  return run('buildStatus', () => result(failed ? [] : sortForApply(state.objects), state.diagnostics, state.conditions));
}
