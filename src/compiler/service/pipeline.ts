/**
 * The derivation of one service: validate, run the gates, derive, build the status. Pure and
 * all-or-nothing: a service with any error gets no derived objects, only its status.
 *
 * Stages run in order and write into a shared {@link DerivationState}:
 * - gates (authorization, image verification, quota) decide whether anything may be derived;
 * - derivers produce objects (config and secrets first: they wire the pod the workload assembles).
 */
import type { SourceLocation } from '../../api/source.ts';
import { validateService } from './validate.ts';
import { deriveWorkload } from './deployment.ts';
import { deriveCloud } from '../workload/cloud.ts';
import { deriveNetworkService } from './network.ts';
import { deriveAvailability } from './availability.ts';
import { deriveObservability } from './observability.ts';
import { buildStatus } from '../status.ts';
import { gateQuota } from '../platform/quota.ts';
import { deriveAutoscaling } from './autoscaling.ts';
import { deriveIngress } from '../mesh/ingress.ts';
import { deriveMesh } from '../mesh/mesh.ts';
import { WORKLOAD_DERIVERS, WORKLOAD_GATES, hasErrors, type Stage } from '../workload/stages.ts';
import { documentIdentity, newState, timed, workloadResult } from '../workload/run.ts';
import { selfCollisions } from '../platform/collisions.ts';
import type { ConditionDraft, DerivationContext, DerivationState, Diagnostic, ServiceInput, ServiceResult } from '../types.ts';

export type { Stage };

/** Gates of a service: the shared workload gates, then its namespace's quotas. Any error stops the derivation. */
export const GATES: Stage[] = [...WORKLOAD_GATES, gateQuota];

/** Derivers of a service, in order: the shared workload derivers, then the service's own objects. */
export const DERIVERS: Stage[] = [...WORKLOAD_DERIVERS, deriveWorkload, deriveCloud, deriveNetworkService, deriveAvailability, deriveObservability, deriveAutoscaling, deriveIngress, deriveMesh];

/**
 * Apply order of derived kinds: configuration and identities before the workload that uses them,
 * the workload before what points at it (Service, budgets, scrapes, policies, autoscalers).
 */
export const KIND_ORDER = [
  'ServiceAccount',
  'Role',
  'PodIdentityAssociation',
  'UserAssignedIdentity',
  'FederatedIdentityCredential',
  'RoleAssignment',
  'PersistentVolumeClaim',
  'ConfigMap',
  'ExternalSecret',
  'Secret',
  'PodGroup',
  'TracingPolicyNamespaced',
  'Deployment',
  'Job',
  'CronJob',
  'HelmRepository',
  'OCIRepository',
  'HelmRelease',
  'Service',
  'PodDisruptionBudget',
  'VMServiceScrape',
  'VMRule',
  'CiliumNetworkPolicy',
  'PeerAuthentication',
  'AuthorizationPolicy',
  'ServiceEntry',
  'ScaledObject',
  'HTTPRoute',
  'GRPCRoute',
  'TCPRoute',
  'Certificate',
  'ReferenceGrant',
  'ModelServer',
  'ModelRoute',
];

/** Sorts objects into apply order (stable within a kind). */
export function sortForApply<T extends { kind: string }>(objects: T[]): T[] {
  const rank = (k: string): number => {
    const i = KIND_ORDER.indexOf(k);
    return i < 0 ? KIND_ORDER.length : i;
  };
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o.kind) - rank(b.o.kind) || a.i - b.i)
    .map(({ o }) => o);
}

/** Derives one service. Never throws for bad input: problems become diagnostics and status. */
export function deriveService(input: ServiceInput, ctx: DerivationContext): ServiceResult {
  const id = documentIdentity(input.object);
  const key = `${id.namespace}/${id.name}`;
  const run = <T>(name: string, f: () => T): T => timed(ctx, name, f);
  const validation = input.validated ? { ok: true as const, service: input.validated } : run('validateService', () => validateService(input));
  if (!validation.ok) return workloadResult(undefined, input, id, ctx, [], validation.diagnostics, new Map());
  const state = newState(key, validation.service, input, ctx);
  const failed = (): boolean => hasErrors(state);
  for (const gate of GATES) run(gate.name, () => gate(state));
  if (!failed()) for (const stage of DERIVERS) run(stage.name, () => stage(state));
  if (!failed()) run('checkOwnNames', () => checkOwnNames(state));
  return run('buildStatus', () => workloadResult(undefined, input, id, ctx, failed() ? [] : sortForApply(state.objects), state.diagnostics, state.conditions));
}

/** Condition reason of a name collision (src/compiler/platform/collisions.ts). */
export const NAME_COLLISION = 'NameCollision';

/** A `NameCollision` error on `metadata.name` at `location`; `message` says what collides and what to rename. */
export function nameCollision(message: string, location?: SourceLocation): Diagnostic {
  const d: Diagnostic = { severity: 'error', condition: 'Validated', reason: NAME_COLLISION, path: 'metadata.name', message };
  if (location) d.location = location;
  return d;
}

/** Errors for two objects of one service sharing a name (e.g. resource `web-secret-env` beside container `web`'s secret-env). */
function checkOwnNames(state: DerivationState): void {
  for (const c of selfCollisions(state.objects)) {
    state.diagnostics.push(nameCollision(
      `this service would derive ${c.descriptions.length} objects with one name: ${c.descriptions.join(' and ')}. ` +
        'Derived names join the service, container and resource names with "-", so two different combinations can meet, and two objects with one name would overwrite each other. ' +
        'Rename one of the containers or resources involved.',
      state.input.locate?.(['metadata', 'name']),
    ));
  }
}

/**
 * `r` refused after the fact with the `extra` errors (a collision with another service, found by the
 * Fleet): no objects, the status rebuilt from r's conditions plus the errors. Pure.
 */
export function withErrors(r: ServiceResult, extra: readonly Diagnostic[], now: string): ServiceResult {
  const id = documentIdentity(r.object);
  const diagnostics = [...r.diagnostics, ...extra];
  const conditions = new Map<string, ConditionDraft>();
  for (const c of r.status.conditions) if (c.type !== 'Ready') conditions.set(c.type, { type: c.type, status: c.status, reason: c.reason, message: c.message });
  const opts: Parameters<typeof buildStatus>[0] = { objects: [], diagnostics, conditions, now, generation: id.generation };
  if (id.previous !== undefined) opts.previous = id.previous;
  return { ...r, objects: [], status: buildStatus(opts), diagnostics };
}
