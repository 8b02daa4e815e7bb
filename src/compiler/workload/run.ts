/**
 * The pieces every kind's derivation loop shares (src/compiler/service/pipeline.ts and each kind's
 * pipeline): who the document is, an empty working state, stage timing, and the result with its
 * status. A kind composes them with its own gates and derivers; none of it reads a kind's fields.
 */
import type { Condition } from '../../api/common.ts';
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { buildStatus } from '../status.ts';
import type { ConditionDraft, DerivationContext, DerivationState, Diagnostic, KubeObject, PodWiring, ServiceInput, ServiceResult } from '../types.ts';

/** Who a workload document is, read leniently so an invalid document still has a key and a status. */
export interface DocumentIdentity {
  /** `metadata.namespace`, `default` when unset. */
  namespace: string;
  /** `metadata.name`, `(unnamed)` when unset. */
  name: string;
  /** `metadata.generation`; 1 when unset (the API server sets 1 on creation, and a file rendered offline describes that object). */
  generation: number;
  /** The conditions of the status the document carries, kept where they do not change (lastTransitionTime). */
  previous?: Condition[];
}

/** The {@link DocumentIdentity} of a raw document. Never throws. */
export function documentIdentity(object: unknown): DocumentIdentity {
  const meta = (object as { metadata?: { name?: unknown; namespace?: unknown; generation?: unknown } } | null)?.metadata;
  const status = (object as { status?: { conditions?: unknown } } | null)?.status;
  const id: DocumentIdentity = {
    namespace: typeof meta?.namespace === 'string' ? meta.namespace : 'default',
    name: typeof meta?.name === 'string' ? meta.name : '(unnamed)',
    generation: typeof meta?.generation === 'number' ? meta.generation : 1,
  };
  if (Array.isArray(status?.conditions)) id.previous = status.conditions as Condition[];
  return id;
}

/** Pod wiring with nothing in it yet (the config stage fills it). */
export function emptyPod(): PodWiring {
  return { containers: {}, volumes: [], imagePullSecrets: [], images: {}, configInputs: {} };
}

/** A fresh working state for the workload `service` (a LatticeService, or a kind's unit or view). */
export function newState(key: string, service: LatticeService, input: ServiceInput, ctx: DerivationContext): DerivationState {
  return { key, service, input, ctx, objects: [], diagnostics: [], conditions: new Map(), pod: emptyPod() };
}

/**
 * Runs `f` and, when the context collects stage times (`LATTICE_TIMINGS=1`), adds its duration in
 * milliseconds under `name`. Measuring only: the result is `f`'s.
 */
export function timed<T>(ctx: Pick<DerivationContext, 'stageTimes'>, name: string, f: () => T): T {
  const times = ctx.stageTimes;
  if (!times) return f();
  const start = performance.now();
  try {
    return f();
  } finally {
    times.set(name, (times.get(name) ?? 0) + performance.now() - start);
  }
}

/**
 * The result of deriving `input` (of `kind`; absent for LatticeService): its objects (empty when it
 * failed) and its status built from the diagnostics and conditions, at `ctx.now`.
 */
export function workloadResult(
  kind: string | undefined,
  input: ServiceInput,
  id: DocumentIdentity,
  ctx: Pick<DerivationContext, 'now'>,
  objects: KubeObject[],
  diagnostics: Diagnostic[],
  conditions: ReadonlyMap<string, ConditionDraft>,
): ServiceResult {
  const opts: Parameters<typeof buildStatus>[0] = { objects, diagnostics, conditions: conditions as Map<string, ConditionDraft>, now: ctx.now, generation: id.generation };
  if (id.previous !== undefined) opts.previous = id.previous;
  const out: ServiceResult = { key: `${id.namespace}/${id.name}`, namespace: id.namespace, name: id.name, object: input.object, objects, status: buildStatus(opts), diagnostics };
  if (kind !== undefined) out.kind = kind;
  return out;
}
