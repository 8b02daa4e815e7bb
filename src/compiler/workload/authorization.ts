/**
 * The authorization gate: before anything is derived, the platform's Cedar policies decide whether
 * the service may do what its spec asks (read each secret, run each image, call each external
 * endpoint, relax its security context, accept any caller, expose a route). Nothing is
 * permitted by default and a `forbid` always wins (Cedar semantics, docs.cedarpolicy.com). Every
 * denial is collected; any denial or evaluation error fails the service with nothing derived.
 *
 * The policy set is parsed once per change of the CedarPolicies ({@link policyEngineFor}), not per
 * service: render, the controller and the incremental fleet share cached engines.
 */
import { createHash } from 'node:crypto';
import { PolicyEngine, type PolicySource, type ServiceAuthorizationInput } from '../../policy/index.ts';
import { LATTICE_ACTIONS, UNASKED_ACTIONS } from '../../policy/requests.ts';
import { podContainers, type LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { volumeOwnerFacts } from './volumes.ts';
import { credentialKey } from '../../api/imageprovider/v1alpha1.ts';
import type { DerivationContext, DerivationState, Diagnostic, InvalidPolicy } from '../types.ts';

/** Condition type written by this gate. */
export const POLICY_AUTHORIZED = 'PolicyAuthorized';

/** How many distinct policy sets stay parsed at once (a render, a controller, tests side by side). */
const ENGINE_CACHE_SIZE = 8;
const engines = new Map<string, PolicyEngine>();

/**
 * The policy engine for these CedarPolicies and platform contact: a cached one when the same
 * policies were seen recently, else a new one. The cache keeps the {@link ENGINE_CACHE_SIZE} most
 * recently used engines, so several platforms in one process (a controller beside a render, tests)
 * never dispose each other's engine; the least recently used one is disposed when a new one is built.
 */
export function policyEngineFor(sources: readonly PolicySource[], platformContact: string): PolicyEngine {
  const key = createHash('sha256')
    .update(JSON.stringify([platformContact, sources.map((s) => [s.file ?? '', s.policy.metadata.name, s.policy.spec])]))
    .digest('hex');
  const hit = engines.get(key);
  if (hit) {
    engines.delete(key);
    engines.set(key, hit);
    return hit;
  }
  const engine = PolicyEngine.fromPolicies(sources, { platformContact });
  engines.set(key, engine);
  if (engines.size > ENGINE_CACHE_SIZE) {
    const [oldestKey, oldest] = engines.entries().next().value as [string, PolicyEngine];
    engines.delete(oldestKey);
    oldest.dispose();
  }
  return engine;
}

/** The authorization input of a service: namespace facts, default provider, image verification results. */
export function authorizationInput(service: LatticeService, ctx: DerivationContext): ServiceAuthorizationInput {
  const key = `${service.metadata.namespace ?? 'default'}/${service.metadata.name}`;
  const input: ServiceAuthorizationInput = { service, namespaces: ctx.namespaces, volumeOwner: volumeOwnerFacts(ctx, key) };
  if (ctx.defaultSecretProvider !== undefined) input.defaultSecretProvider = ctx.defaultSecretProvider;
  input.imageProviderCredential = (name) => {
    const credentials = ctx.imageProviders.find((p) => p.metadata.name === name)?.spec.credentials;
    if (credentials === undefined) return undefined;
    return credentials.provider === undefined ? { remoteKey: credentialKey(credentials) } : { provider: credentials.provider, remoteKey: credentialKey(credentials) };
  };
  if (ctx.images) {
    input.imageVerifications = podContainers(service.spec).map((p) => p.container).flatMap((c) => {
      const v = ctx.images?.get(c.image);
      return v ? [{ image: c.image, signed: v.signed, verifiedBy: v.verifiedBy }] : [];
    });
  }
  return input;
}

/** The gate: one Cedar decision per request of the service; denials and errors become diagnostics. */
export function authorizationGate(state: DerivationState): void {
  const engine = state.ctx.policyEngine;
  if (!engine) throw new Error('the derivation context has no policy engine: build it with buildContext');
  const invalid = state.ctx.invalidPolicies ?? [];
  const { decisions, summary } = engine.authorizeService(authorizationInput(state.service, state.ctx));
  // Fail closed: a request of an action a left-out policy could have forbidden is refused, whatever
  // the valid policies decide; deciding without that policy would drop its forbid.
  const blocked = decisions.filter((d) => invalidPoliciesCovering(invalid, d.action).length > 0);
  if (blocked.length > 0) {
    const covering = [...new Set(blocked.flatMap((d) => invalidPoliciesCovering(invalid, d.action)))];
    const names = covering.map((p) => `${p.policyId === undefined ? `CedarPolicy ${p.name}` : `CedarPolicy ${p.name} (policy ${p.policyId}, a forbid)`}${p.where ? ` (${p.where})` : ''}: ${p.message}`).join('; ');
    const owners = [...new Set(covering.map((p) => p.owner ?? engine.platformContact))].join(', ');
    const what = blocked.map((d) => `${d.action} for ${d.resourceDescription}`).join(', ');
    state.diagnostics.push({
      severity: 'error',
      condition: POLICY_AUTHORIZED,
      reason: 'PolicyInvalid',
      message:
        `no authorization decision can be made for ${what} while ${covering.length === 1 ? 'a Cedar policy that could forbid it is' : `${covering.length} Cedar policies that could forbid it are`} invalid: ${names}. ` +
        'An invalid policy could forbid what the others permit, so Lattice refuses these requests instead of deciding without it. ' +
        `Contact ${owners} to fix or disable it (spec.enabled: false); \`lattice authz validate\` shows every error.`,
    });
  }
  for (const d of decisions) {
    if (d.outcome === 'allow' || blocked.includes(d)) continue;
    const diagnostic: Diagnostic = { severity: 'error', condition: POLICY_AUTHORIZED, reason: d.reason, message: d.message };
    if (d.path) {
      diagnostic.path = d.path;
      if (state.input.locate) diagnostic.location = state.input.locate(d.path.split('.').map((seg) => (/^[0-9]+$/.test(seg) ? Number(seg) : seg)));
    }
    state.diagnostics.push(diagnostic);
  }
  if (summary.status === 'True' && blocked.length === 0) {
    state.conditions.set(POLICY_AUTHORIZED, { type: POLICY_AUTHORIZED, status: 'True', reason: summary.reason, message: summary.message });
  }
}

/**
 * The left-out policies that could have forbidden a request of `action`: a whole CedarPolicy left
 * out (`actions` undefined), a forbid whose scope names the action, and a forbid naming an action
 * the schema does not have (a misspelt action could be meant for any).
 */
export function invalidPoliciesCovering(invalid: readonly InvalidPolicy[], action: string): InvalidPolicy[] {
  const known: readonly string[] = [...LATTICE_ACTIONS, ...UNASKED_ACTIONS];
  return invalid.filter((p) => p.actions === undefined || p.actions.includes(action) || p.actions.some((a) => !known.includes(a)));
}
