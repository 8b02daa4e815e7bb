/**
 * The workload kinds the compiler derives, and the one interface each implements. A platform
 * snapshot sorts every document of a registered kind into its workloads; the Fleet indexes and
 * derives each through its kind's entry here. So adding a kind is one module under
 * `src/compiler/<kind>/` plus one line in {@link WORKLOAD_KINDS}.
 *
 * One name space: every workload kind shares the mesh's name space, `namespace/name`, because the
 * bilateral mesh names peers by it (a caller declares `type: service` with the callee's name,
 * whatever its kind). Two workloads of one namespace and name, of any kinds, are a DuplicateName.
 */
import { KIND as SERVICE_KIND, latticeServiceSchema, type LatticeService } from '../api/latticeservice/v1alpha1.ts';
import { deriveService } from './service/pipeline.ts';
import { MESH_MEMBER_WORKLOAD } from './meshmember/pipeline.ts';
import { PACKAGE_WORKLOAD } from './package/pipeline.ts';
import type { DerivationContext, ServiceInput, ServiceResult } from './types.ts';

/**
 * A kind of workload document (`kind` of API group lattice.dev).
 *
 * `T` is the validated document. `view` is how the rest of the platform sees the workload: the
 * service graph and the mesh (its `spec.workload.resources` declare whom it calls and who may call
 * it, `spec.workload.service.ports` what it serves), route host claims, quotas (replicas ×
 * container resources) and image verification (`containers[*].image`). A kind with several pods
 * (a job's tasks) folds them into one view: containers keyed `<task>-<container>`, replicas the
 * largest task's, so quotas and images see every container.
 */
export interface WorkloadKind<T = unknown> {
  /** The document's `kind`, e.g. `LatticeService`. */
  readonly kind: string;
  /** The validated document, or undefined when it is not valid (its derivation reports why). */
  parse(object: unknown): T | undefined;
  /** The platform's view of a valid document (see the interface's docstring). */
  view(value: T): LatticeService;
  /**
   * Derives one document: objects and status, all-or-nothing, never throwing for bad input.
   * `value` is `parse(input.object)` when valid, else undefined.
   */
  derive(input: ServiceInput, value: T | undefined, ctx: DerivationContext): ServiceResult;
}

/** LatticeService: a long-running service (src/compiler/service/). */
export const SERVICE_WORKLOAD: WorkloadKind<LatticeService> = {
  kind: SERVICE_KIND,
  parse(object) {
    const parsed = latticeServiceSchema.safeParse(object);
    return parsed.success ? parsed.data : undefined;
  },
  view: (service) => service,
  derive(input, value, ctx) {
    return deriveService(value !== undefined ? { ...input, validated: value } : input, ctx);
  },
};

/** Every workload kind, by `kind`. */
export const WORKLOAD_KINDS: ReadonlyMap<string, WorkloadKind> = new Map<string, WorkloadKind>(
  ([SERVICE_WORKLOAD, MESH_MEMBER_WORKLOAD, PACKAGE_WORKLOAD] as WorkloadKind[]).map((k) => [k.kind, k]),
);

/** The workload kind of a raw document (by its `kind`), or undefined. The API version is checked by the caller. */
export function workloadKindOf(object: unknown): WorkloadKind | undefined {
  const kind = (object as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? WORKLOAD_KINDS.get(kind) : undefined;
}
