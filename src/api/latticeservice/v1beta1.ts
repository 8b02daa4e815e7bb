/**
 * `LatticeService` (lattice.dev/v1beta1): v1alpha1 with the lessons of v1alpha1 and of the reference
 * shapes (docs/coming-from-lattice.md), and nothing else.
 *
 * The schema is *built* from v1alpha1's: every field is v1alpha1's own zod node, except the fields
 * {@link MOVES} lists. A field added to v1alpha1 is therefore in v1beta1 at once, at the same path;
 * a change that breaks a move (say, a `capabilities.drop` beside `capabilities.add`) fails the
 * path-walk test in test/versions.test.ts. Conversion (src/api/latticeservice/conversion.ts) reads
 * the same table. Why the list is this short: v1beta1 is a course correction, not a redesign; every
 * entry must carry its weight for every existing document that `lattice migrate` rewrites.
 */
import { z } from 'zod';
import { GROUP, refusePrototypeKeys, workloadDocument } from '../common.ts';
import { KIND, latticeServiceSpecSchema as v1alpha1Spec, latticeServiceStatusSchema } from './v1alpha1.ts';
import { moveSchema, type PathMove } from './moves.ts';

/** This version. */
export const VERSION = 'v1beta1';
/** `apiVersion` of a v1beta1 LatticeService. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/**
 * The declared differences from v1alpha1, paths relative to `spec`. Both are shapes the reference
 * (github.com/evan-hines-js/lattice, `crates/lattice-crd/src/crd/workload/`) already uses, so reference
 * documents need fewer edits, and both remove a level of nesting that carried nothing:
 */
export const MOVES: readonly PathMove[] = [
  {
    from: ['workload', 'hostNetwork'],
    to: ['hostNetwork'],
    alias: true,
    reason:
      'hostNetwork is a setting of the pod, not of the Score workload: it sits at spec level beside replicas and imagePullSecrets (and the pod-level settings the reference has there: sysctls, shareProcessNamespace), as in the reference.',
  },
  {
    from: ['workload', 'containers', '*', 'security', 'capabilities', 'add'],
    to: ['workload', 'containers', '*', 'security', 'capabilities'],
    alias: true,
    reason:
      'Lattice always drops every capability, so `add` was the only key `capabilities` could ever hold: v1beta1 takes the list itself, the reference shape every linuxserver.io example uses.',
  },
];

/** The `spec` of a v1beta1 LatticeService: v1alpha1's with {@link MOVES} applied. */
export const latticeServiceSpecSchema: z.ZodType = MOVES.reduce<z.ZodType>((schema, move) => moveSchema(schema, move), v1alpha1Spec);

/** The status is the same in both versions. */
export { latticeServiceStatusSchema };

/**
 * A v1beta1 LatticeService as written, checked field by field (types, names, unknown fields). The
 * rules across fields are v1alpha1's and run on the converted object: use
 * `parseLatticeService` (src/api/latticeservice/index.ts), not this schema alone.
 */
export const latticeServiceSchema = refusePrototypeKeys(workloadDocument(API_VERSION, KIND, latticeServiceSpecSchema, 'The service intent.'));
