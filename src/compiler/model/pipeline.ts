/**
 * The derivation of one LatticeModel: validate, then run its unit (src/compiler/model/unit.ts)
 * through every gate and deriver of a service, then the model's own stages. Pure and
 * all-or-nothing, like a service's.
 *
 * - Gates: the service gates (protected namespaces, digest pinning and signatures, Cedar
 *   DeployImage / AccessSecret / OverrideSecurity / AllowWildcard, quotas with the model's GPUs).
 * - Derivers: the service derivers on the unit: ConfigMaps, ExternalSecrets (the source
 *   credentials among them), ServiceAccount, Deployment around the shared pod template, Service,
 *   PodDisruptionBudget, VMServiceScrape, the bilateral mesh's CiliumNetworkPolicy and
 *   AuthorizationPolicy (callers agree to a model exactly as to a service), KEDA ScaledObject;
 *   then {@link MODEL_STAGES}: GPUs onto the pod template, the Kthena ModelServer and ModelRoutes,
 *   and the Kthena router let into routed models' pods.
 * - Status: the same conditions as a service; the result's `kind` is LatticeModel.
 */
import type { Deployment } from 'kubernetes-types/apps/v1.d.ts';
import type { LatticeModel } from '../../api/latticemodel/v1alpha1.ts';
import { KIND } from '../../api/latticemodel/v1alpha1.ts';
import type { Condition } from '../../api/common.ts';
import { DERIVERS, GATES, nameCollision, sortForApply } from '../service/pipeline.ts';
import { hasErrors } from '../workload/stages.ts';
import { selfCollisions } from '../platform/collisions.ts';
import { buildStatus } from '../status.ts';
import { applyGpu } from './gpu.ts';
import { allowRouter, deriveKthena } from './kthena.ts';
import { modelUnit, servingContainer, validateModel } from './unit.ts';
import type { DerivationContext, DerivationState, KubeObject, ServiceInput, ServiceResult } from '../types.ts';

/** A model's own stage: reads the validated model beside the state of its unit. */
export type ModelStage = (state: DerivationState, model: LatticeModel) => void;

/** Puts `spec.gpu` on the pod template of the model's Deployment (src/compiler/model/gpu.ts). */
export function deriveModelGpu(state: DerivationState, model: LatticeModel): void {
  if (!model.spec.gpu) return;
  for (const o of state.objects) {
    if (o.kind !== 'Deployment' || o.metadata.name !== model.metadata.name) continue;
    const template = (o as unknown as Deployment).spec?.template;
    if (template) applyGpu(template, servingContainer(model), model.spec.gpu);
  }
}

/** The model's stages after the service derivers, in order. */
export const MODEL_STAGES: readonly ModelStage[] = [deriveModelGpu, deriveKthena, allowRouter];

function identity(object: unknown): { namespace: string; name: string; generation: number; previous?: Condition[] } {
  const meta = (object as { metadata?: { name?: unknown; namespace?: unknown; generation?: unknown } } | null)?.metadata;
  const status = (object as { status?: { conditions?: unknown } } | null)?.status;
  const out: { namespace: string; name: string; generation: number; previous?: Condition[] } = {
    namespace: typeof meta?.namespace === 'string' ? meta.namespace : 'default',
    name: typeof meta?.name === 'string' ? meta.name : '(unnamed)',
    // The API server sets generation 1 on creation; a file rendered offline describes that object.
    generation: typeof meta?.generation === 'number' ? meta.generation : 1,
  };
  if (Array.isArray(status?.conditions)) out.previous = status.conditions as Condition[];
  return out;
}

/**
 * Derives one LatticeModel. `model` is the validated document when the caller has it (the Fleet
 * parses every workload once), else the input is validated here. Never throws for bad input.
 */
export function deriveModel(input: ServiceInput, ctx: DerivationContext, model?: LatticeModel): ServiceResult {
  const id = identity(input.object);
  const key = `${id.namespace}/${id.name}`;
  const result = (objects: KubeObject[], state: Pick<DerivationState, 'diagnostics' | 'conditions'>): ServiceResult => {
    const opts: Parameters<typeof buildStatus>[0] = { objects, diagnostics: state.diagnostics, conditions: state.conditions, now: ctx.now, generation: id.generation };
    if (id.previous !== undefined) opts.previous = id.previous;
    return { kind: KIND, key, namespace: id.namespace, name: id.name, object: input.object, objects, status: buildStatus(opts), diagnostics: state.diagnostics };
  };
  let unit;
  if (model === undefined) {
    const validation = validateModel(input);
    if (!validation.ok) return result([], { diagnostics: validation.diagnostics, conditions: new Map() });
    model = validation.model;
    unit = validation.unit;
  } else {
    unit = modelUnit(model);
  }
  const state: DerivationState = {
    key,
    service: unit,
    input,
    ctx,
    objects: [],
    diagnostics: [],
    conditions: new Map(),
    pod: { containers: {}, volumes: [], imagePullSecrets: [], images: {}, configInputs: {} },
  };
  for (const gate of GATES) gate(state);
  if (!hasErrors(state)) for (const stage of DERIVERS) stage(state);
  if (!hasErrors(state)) for (const stage of MODEL_STAGES) stage(state, model);
  if (!hasErrors(state)) {
    for (const c of selfCollisions(state.objects)) {
      state.diagnostics.push(nameCollision(
        `this model would derive ${c.descriptions.length} objects with one name: ${c.descriptions.join(' and ')}. Derived names join the model, container, resource and route names with "-", so two different combinations can meet. Rename one of the containers, resources or routes involved.`,
        input.locate?.(['metadata', 'name']),
      ));
    }
  }
  return result(hasErrors(state) ? [] : sortForApply(state.objects), state);
}
