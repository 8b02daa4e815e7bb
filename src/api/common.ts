/**
 * Schema pieces shared by every Lattice kind: object metadata, quantities, names, durations.
 * Every field carries a description: the CRD schemas, `lattice explain` and the README field
 * reference are all generated from these descriptions.
 */
import { z } from 'zod';
import { isQuantity } from './quantity.ts';
import { dns1123LabelProblem, dns1035LabelProblem, DNS1123_SUBDOMAIN } from './names.ts';

import { PLATFORM_NAMESPACE } from './constants.ts';

export { GROUP, VERSION, API_VERSION, PLATFORM_NAMESPACE, SERVICE_V1ALPHA1_WARNING, V1ALPHA1_DEPRECATION } from './constants.ts';

/**
 * `record[key]` when `key` is an own property of `record`, else undefined. User-chosen keys
 * (resource names, annotation keys, port names) are looked up with it so that a name such as
 * `constructor` or `toString` never finds a value inherited from Object.prototype.
 */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * The one object key Lattice refuses everywhere: `__proto__`. YAML and JSON parsers keep it as an
 * ordinary key, but assigning it in JavaScript sets the object's prototype instead, so a
 * `__proto__` entry (a variable, an annotation, a label) would be dropped without a word by
 * validation, or worse, be inherited by every lookup on the object.
 */
export const PROTOTYPE_KEY = '__proto__';

/** Paths (field path segments) of every `__proto__` key in `value`, depth first; iterative, so any nesting depth is safe. */
export function prototypeKeyPaths(value: unknown): (string | number)[][] {
  interface Frame { value: object; parent?: Frame; key?: string | number }
  const pathOf = (frame: Frame | undefined, last: string): (string | number)[] => {
    const path: (string | number)[] = [last];
    for (let f = frame; f?.key !== undefined; f = f.parent) path.unshift(f.key);
    return path;
  };
  const found: (string | number)[][] = [];
  if (value === null || typeof value !== 'object') return found;
  // Only objects and arrays are pushed, with a link to their parent: a path is built only when found.
  const stack: Frame[] = [{ value }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const item: unknown = v[i];
        if (item !== null && typeof item === 'object') stack.push({ value: item, parent: frame, key: i });
      }
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (key === PROTOTYPE_KEY) {
        found.push(pathOf(frame, key));
        continue;
      }
      const item = (v as Record<string, unknown>)[key];
      if (item !== null && typeof item === 'object') stack.push({ value: item, parent: frame, key });
    }
  }
  return found;
}

/**
 * Wraps the schema of a whole Lattice document so that any `__proto__` key, at any depth, is an
 * error naming its field path (and is never silently dropped): the wrapped schema checks the raw
 * input first and only then parses it with `schema`. Types are `schema`'s.
 */
export function refusePrototypeKeys<T extends z.ZodType>(schema: T): z.ZodPipe<z.ZodUnknown, T> {
  return z
    .unknown()
    .superRefine((input, ctx) => {
      for (const path of prototypeKeyPaths(input)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `the key "${PROTOTYPE_KEY}" is not allowed: JavaScript treats it as an object's prototype, so Lattice could not keep its value (it would be dropped silently). Rename the key`,
        });
      }
    })
    .pipe(schema);
}

/** A Kubernetes quantity, written as a string (`500m`, `512Mi`) or a whole number (`2`). */
export const quantity = z
  .union([z.string(), z.number().int().nonnegative()])
  .refine((v) => (typeof v === 'number' ? true : isQuantity(v)), {
    message: 'is not a Kubernetes quantity: write e.g. 500m or 2 for CPU, 512Mi or 1Gi for memory',
  })
  .transform((v) => String(v));

/** An RFC 1123 label (most names). */
export const dnsLabel = z.string().superRefine((v, ctx) => {
  const problem = dns1123LabelProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `"${v}" ${problem}` });
});

/** An RFC 1035 label (names that become Service names). */
export const dns1035Label = z.string().superRefine((v, ctx) => {
  const problem = dns1035LabelProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `"${v}" ${problem}` });
});

/** A Go duration as used by ESO and KEDA (`30s`, `15m`, `1h`, `1h30m`). */
export const duration = z
  .string()
  .regex(/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/, 'is not a duration: write e.g. 30s, 15m or 1h');

/** Object metadata as Lattice reads it. Other metadata fields are kept but not interpreted. */
export const objectMeta = z.looseObject({
  name: dns1035Label.describe('Name of the object; for a LatticeService also the name of every derived object.'),
  namespace: dnsLabel.optional().describe('Namespace of the object (defaults to "default").'),
  labels: z.record(z.string(), z.string()).optional().describe('Labels, copied onto nothing: derived objects carry the standard labels.'),
  annotations: z.record(z.string(), z.string()).optional().describe('Annotations; readable in templates as ${metadata.annotations.KEY}.'),
  generation: z.number().int().optional().describe('Set by the API server: bumped on every spec change.'),
  uid: z.string().optional().describe('Set by the API server.'),
  resourceVersion: z.string().optional().describe('Set by the API server.'),
});

/**
 * The document of a workload kind (LatticeService, LatticeJob, LatticeModel, LatticeMeshMember,
 * LatticePackage), as a developer writes it: `apiVersion` and `kind` fixed, {@link objectMeta},
 * the kind's `spec` described as `about`, and a `status` read only by the controller.
 */
export function workloadDocument<V extends string, K extends string, S extends z.ZodType>(apiVersion: V, kind: K, spec: S, about: string) {
  return z.object({
    apiVersion: z.literal(apiVersion).describe(`Always ${apiVersion}.`),
    kind: z.literal(kind).describe(`Always ${kind}.`),
    metadata: objectMeta,
    spec: spec.describe(about),
    status: z.unknown().optional(),
  });
}

/**
 * Metadata of a platform resource (SecretProvider, ImageProvider, CedarPolicy, LatticeQuota): read
 * only in namespace lattice-system, so that teams, who can write to their own namespaces, cannot
 * change platform rules. A file given to `lattice render` may leave the namespace out. `why` says
 * what writing it elsewhere would let a team do.
 */
export function platformObjectMeta(kind: string, why: string) {
  return objectMeta.superRefine((m, ctx) => {
    if (m.namespace !== undefined && m.namespace !== PLATFORM_NAMESPACE) {
      ctx.addIssue({
        code: 'custom',
        path: ['namespace'],
        message: `${kind} is a platform resource, read only in namespace ${PLATFORM_NAMESPACE} (${why}), not ${m.namespace}: move it there, or leave namespace out in a file given to lattice render`,
      });
    }
  });
}

/** Kubernetes object metadata as parsed by {@link objectMeta}. */
export type ObjectMeta = z.infer<typeof objectMeta>;

/** True when `name` is a valid ConfigMap/Secret name. */
export function isSubdomain(name: string): boolean {
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

/**
 * A condition in Kubernetes API conventions (`metav1.Condition`): `type` in CamelCase,
 * `status` True/False/Unknown, a CamelCase `reason`, and a message a developer can act on.
 */
export const condition = z.object({
  type: z.string().describe('Condition type, e.g. Validated, Ready.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
  reason: z.string().describe('CamelCase reason for the last transition.'),
  message: z.string().describe('What is wrong and what to do, in words a developer can act on.'),
  observedGeneration: z.number().int().optional().describe('The .metadata.generation this condition was computed from.'),
  lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
});

/** A status condition. */
export type Condition = z.infer<typeof condition>;
