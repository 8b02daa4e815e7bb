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
import { KIND as SERVICE_KIND, type LatticeService } from '../api/latticeservice/v1alpha1.ts';
import { parseLatticeService } from '../api/latticeservice/index.ts';
import { deriveService } from './service/pipeline.ts';
import { KIND as JOB_KIND, latticeJobSchema, type LatticeJob } from '../api/latticejob/v1alpha1.ts';
import { deriveJob } from './job/pipeline.ts';
import { jobView } from './job/view.ts';
import { KIND as MODEL_KIND, type LatticeModel } from '../api/latticemodel/v1alpha1.ts';
import { deriveModel } from './model/pipeline.ts';
import { modelUnit, validateModel } from './model/unit.ts';
import { MESH_MEMBER_WORKLOAD } from './meshmember/pipeline.ts';
import { PACKAGE_WORKLOAD } from './package/pipeline.ts';
import type { DerivationContext, IndexedService, ServiceInput, ServiceResult } from './types.ts';

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
    // Either served version (lattice.dev/v1alpha1 or v1beta1), read as the internal shape.
    const parsed = parseLatticeService(object);
    return parsed.success ? parsed.data : undefined;
  },
  view: (service) => service,
  derive(input, value, ctx) {
    return deriveService(value !== undefined ? { ...input, validated: value } : input, ctx);
  },
};

/** LatticeJob: a batch or training job on Volcano (src/compiler/job/). */
export const JOB_WORKLOAD: WorkloadKind<LatticeJob> = {
  kind: JOB_KIND,
  parse(object) {
    const parsed = latticeJobSchema.safeParse(object);
    return parsed.success ? parsed.data : undefined;
  },
  view: (job) => jobView(job).service,
  derive: (input, value, ctx) => deriveJob(input, value, ctx),
};

/**
 * LatticeModel: a served model (src/compiler/model/). Valid only when its unit also passes the
 * LatticeService rules; its view is that unit (the serving pods as a service).
 */
export const MODEL_WORKLOAD: WorkloadKind<LatticeModel> = {
  kind: MODEL_KIND,
  parse(object) {
    const v = validateModel({ object });
    return v.ok ? v.model : undefined;
  },
  view: (model) => modelUnit(model),
  derive(input, value, ctx) {
    return deriveModel(input, ctx, value);
  },
};

/** Every workload kind, by `kind`. */
export const WORKLOAD_KINDS: ReadonlyMap<string, WorkloadKind> = new Map<string, WorkloadKind>(
  ([SERVICE_WORKLOAD, JOB_WORKLOAD, MODEL_WORKLOAD, MESH_MEMBER_WORKLOAD, PACKAGE_WORKLOAD] as WorkloadKind[]).map((k) => [k.kind, k]),
);

/** The workload kind of a raw document (by its `kind`), or undefined. The API version is checked by the caller. */
export function workloadKindOf(object: unknown): WorkloadKind | undefined {
  const kind = (object as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? WORKLOAD_KINDS.get(kind) : undefined;
}

/**
 * The platform's view of a raw workload document of any registered kind (its `view` when the document
 * is valid), or undefined when it is not valid. A document of no registered kind is read as a
 * LatticeService. What `lattice graph` and `lattice authz check` read.
 */
export function workloadView(object: unknown): LatticeService | undefined {
  const kind = workloadKindOf(object) ?? (SERVICE_WORKLOAD as WorkloadKind);
  const value = kind.parse(object);
  return value === undefined ? undefined : kind.view(value);
}

/**
 * The index entry (under `key`, by default the view's `namespace/name`) of a workload of `kind` whose
 * document parsed to `value`: its view, and for a kind
 * other than LatticeService the kind and the value, which kind-specific stages of other workloads
 * read (a LatticeModel's model names, src/compiler/model/kthena.ts).
 */
export function indexedWorkload(kind: WorkloadKind, value: unknown, key?: string): IndexedService {
  const service = kind.view(value);
  const k = key ?? `${service.metadata.namespace ?? 'default'}/${service.metadata.name}`;
  return kind === SERVICE_WORKLOAD ? { key: k, service } : { key: k, service, kind: kind.kind, value };
}
