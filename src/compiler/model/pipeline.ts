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
import { documentIdentity, newState, timed, workloadResult } from '../workload/run.ts';
import type { LatticeModel } from '../../api/latticemodel/v1alpha1.ts';
import { KIND } from '../../api/latticemodel/v1alpha1.ts';
import { DERIVERS, GATES, nameCollision, sortForApply } from '../service/pipeline.ts';
import { hasErrors } from '../workload/stages.ts';
import { selfCollisions } from '../platform/collisions.ts';
import { applyGpu } from './gpu.ts';
import { allowRouter, deriveKthena } from './kthena.ts';
import { modelUnit, servingContainer, validateModel } from './unit.ts';
import type { DerivationContext, DerivationState, KubeObject, ServiceInput, ServiceResult } from '../types.ts';

/** A model's own stage: reads the validated model beside the state of its unit. */
export type ModelStage = (state: DerivationState, model: LatticeModel) => void;

/** Adds `spec.gpu`'s request to the model's Deployment; the shared pipeline wrote the rest (src/compiler/model/gpu.ts). */
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

/**
 * Derives one LatticeModel. `model` is the validated document when the caller has it (the Fleet
 * parses every workload once), else the input is validated here. Never throws for bad input.
 */
export function deriveModel(input: ServiceInput, ctx: DerivationContext, model?: LatticeModel): ServiceResult {
  const id = documentIdentity(input.object);
  const key = `${id.namespace}/${id.name}`;
  const result = (objects: KubeObject[], state: Pick<DerivationState, 'diagnostics' | 'conditions'>): ServiceResult =>
    workloadResult(KIND, input, id, ctx, objects, state.diagnostics, state.conditions);
  let unit;
  if (model === undefined) {
    const validation = validateModel(input);
    if (!validation.ok) return result([], { diagnostics: validation.diagnostics, conditions: new Map() });
    model = validation.model;
    unit = validation.unit;
  } else {
    unit = modelUnit(model);
  }
  const state = newState(key, unit, input, ctx);
  const m = model;
  for (const gate of GATES) timed(ctx, gate.name, () => gate(state));
  if (!hasErrors(state)) for (const stage of DERIVERS) timed(ctx, stage.name, () => stage(state));
  if (!hasErrors(state)) for (const stage of MODEL_STAGES) timed(ctx, stage.name, () => stage(state, m));
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
