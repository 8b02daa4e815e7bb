/**
 * LatticeService across its served versions: the one entry point that reads a LatticeService object
 * of any served version into the shape the compiler derives from (the v1alpha1 output type,
 * `LatticeService`, the hub).
 *
 * - `lattice.dev/v1alpha1`: validated with its schema, as before.
 * - `lattice.dev/v1beta1`: validated field by field with the v1beta1 schema (so unknown fields and
 *   type errors point at the user's own lines), then converted (src/api/latticeservice/conversion.ts)
 *   and validated as v1alpha1, which runs the rules across fields; their issue paths are moved back
 *   to v1beta1 paths (`spec.workload.hostNetwork` is reported at `spec.hostNetwork`). Both versions
 *   therefore accept the same services and derive the same objects.
 *
 * Anything that reads a LatticeService document (platform snapshot, fleet, controller, score,
 * catalog, graph) calls {@link parseLatticeService} instead of a version's schema.
 */
import type { z } from 'zod';
import { API_VERSION as V1ALPHA1 } from '../constants.ts';
import { latticeServiceSchema as v1alpha1Schema, type LatticeService } from './v1alpha1.ts';
import { API_VERSION as V1BETA1, MOVES, latticeServiceSchema as v1beta1Schema } from './v1beta1.ts';
import { convertLatticeService } from './conversion.ts';
import { movePath } from './moves.ts';

export { CONVERSION_ANNOTATION, SERVICE_API_VERSIONS, ConversionError, convertLatticeService } from './conversion.ts';
export { V1ALPHA1, V1BETA1 };

/** The result of {@link parseLatticeService}: zod's `safeParse` result shape. */
export type ServiceParseResult = { success: true; data: LatticeService } | { success: false; error: { issues: z.core.$ZodIssue[] } };

/** The field path of a v1alpha1 issue as the user's v1beta1 path (only `spec` paths move). */
export function v1beta1IssuePath(path: readonly PropertyKey[]): PropertyKey[] {
  if (path[0] !== 'spec') return [...path];
  const rest = path.slice(1).filter((p): p is string | number => typeof p !== 'symbol');
  return ['spec', ...movePath(rest, MOVES, 'forward')];
}

/**
 * Validates a LatticeService object of any served version (the apiVersion decides; anything but
 * v1beta1 is validated as v1alpha1, whose schema reports a wrong apiVersion) and returns the hub
 * shape, or every issue with paths in the object's own version.
 */
export function parseLatticeService(object: unknown, params?: { reportInput?: boolean }): ServiceParseResult {
  const apiVersion = (object as { apiVersion?: unknown } | null | undefined)?.apiVersion;
  if (apiVersion !== V1BETA1) return v1alpha1Schema.safeParse(object, params) as ServiceParseResult;
  const own = v1beta1Schema.safeParse(object, params);
  if (!own.success) return { success: false, error: { issues: own.error.issues } };
  const hub = v1alpha1Schema.safeParse(convertLatticeService(object, V1ALPHA1), params);
  if (hub.success) return hub;
  return { success: false, error: { issues: hub.error.issues.map((issue) => ({ ...issue, path: v1beta1IssuePath(issue.path) })) } };
}

/**
 * For an unknown field of a v1beta1 LatticeService at `path` (from the document root): where that
 * field went, when it is a v1alpha1 field that v1beta1 moved (`spec.workload.hostNetwork` ->
 * `spec.hostNetwork`); undefined otherwise. Turns the likeliest mistake after a migration into a fix.
 */
export function movedField(path: readonly (string | number)[]): string | undefined {
  if (path[0] !== 'spec') return undefined;
  const moved = v1beta1IssuePath(path);
  if (moved.length === path.length && moved.every((s, i) => s === path[i])) return undefined;
  return moved.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`)).join('');
}

/** True when `object` is a LatticeService of the deprecated v1alpha1. */
export function isDeprecatedServiceVersion(object: unknown): boolean {
  const o = object as { apiVersion?: unknown; kind?: unknown } | null | undefined;
  return o?.apiVersion === V1ALPHA1 && o.kind === 'LatticeService';
}
