/**
 * The policy engine: the valid, enabled CedarPolicies parsed once into one Cedar policy set, asked
 * for every authorization request of every service. Cedar semantics (docs.cedarpolicy.com, "Policy
 * evaluation"): a request is allowed when at least one permit policy is satisfied and no forbid
 * policy is; a satisfied forbid always wins; with no satisfied permit the answer is deny. Lattice
 * adds one rule: when any policy fails to evaluate (Cedar skips such a policy and lists it in its
 * diagnostics), the decision is an error, refused and reported, never a silent allow or deny.
 */
import { PLATFORM_NAMESPACE } from '../api/common.ts';
import {
  acquirePolicySet,
  byteOffsetToIndex,
  describeCedarError,
  errorStart,
  isAuthorizedPreparsed,
  positionOf,
  releasePolicySet,
  type AuthorizationAnswer,
  type DetailedError,
  type EntityJson,
} from './cedar.ts';
import { DecisionMemo, mergeReferences, trimRequest, type PolicyReferences } from './memo.ts';
import { validateCedarPolicies, type CedarPolicyValidation, type LoadedPolicy, type PolicyProblem, type PolicySource } from './load.ts';
import {
  LATTICE_ACTIONS,
  UNASKED_ACTIONS,
  deployPackageRequest,
  exposeRouteRequest,
  serviceRequests,
  skipImageVerificationRequest,
  type AuthorizationRequest,
  type ChartInput,
  type LatticeAction,
  type RouteInput,
  type ServiceAuthorizationInput,
} from './requests.ts';

/** Type of the status condition the pipeline sets from a {@link AuthorizationSummary}. */
export const POLICY_CONDITION = 'PolicyAuthorized';
/** Condition reason when every decision allowed. */
export const REASON_AUTHORIZED = 'Authorized';
/** Condition reason when a policy failed to evaluate or Cedar rejected a request. */
export const REASON_EVALUATION_ERROR = 'PolicyEvaluationError';

/** The condition reason of a denial, per action. */
export const DENIAL_REASONS: Readonly<Record<LatticeAction, string>> = {
  AccessSecret: 'AccessSecretDenied',
  DeployImage: 'DeployImageDenied',
  AccessExternalEndpoint: 'ExternalEndpointDenied',
  OverrideSecurity: 'SecurityOverrideDenied',
  AllowWildcard: 'WildcardDenied',
  SkipImageVerification: 'SkipImageVerificationDenied',
  ExposeRoute: 'RouteExposureDenied',
  AccessCloud: 'CloudAccessDenied',
  AccessVolume: 'VolumeAccessDenied',
  DeployPackage: 'DeployPackageDenied',
};

/** What Cedar decided for one request. */
export interface AuthorizationDecision {
  action: LatticeAction;
  /** e.g. `secret payments/api-key`. */
  resourceDescription: string;
  /** The principal, `<namespace>/<name>`. */
  service: string;
  /** The Cedar resource, e.g. `Lattice::Secret::"vault:payments/api-key"`. */
  resource: string;
  /** The LatticeService field behind the request, e.g. `spec.workload.resources.api-key`. */
  path: string;
  /** True only for a Cedar allow without any evaluation error. */
  allowed: boolean;
  /** allow, deny, or error (a policy failed to evaluate, or Cedar rejected the request). */
  outcome: 'allow' | 'deny' | 'error';
  /** Ids of the policies that decided: the satisfied permits for an allow, the satisfied forbids for a deny. */
  determiningPolicies: string[];
  /** Evaluation errors, each `<policy id>: <Cedar's message> (<position>)`. */
  errors: string[];
  /** `Authorized`, the action's denial reason ({@link DENIAL_REASONS}) or `PolicyEvaluationError`. */
  reason: string;
  /** One paragraph a developer can act on. */
  message: string;
}

/** The outcome of all decisions for one service, ready for the PolicyAuthorized condition. */
export interface AuthorizationSummary {
  /** Condition status: True when every decision allowed. */
  status: 'True' | 'False';
  /** `Authorized`; else `PolicyEvaluationError` when any decision errored; else the first denial's reason. */
  reason: string;
  message: string;
  decisions: number;
  allowed: number;
  denied: number;
  errors: number;
}

/** Decisions for every request of a service, and their summary. */
export interface ServiceAuthorization {
  decisions: AuthorizationDecision[];
  summary: AuthorizationSummary;
}

/** Options of a {@link PolicyEngine}. */
export interface PolicyEngineOptions {
  /** Who developers are told to contact when no owner is known (LatticePlatform spec.platformContact). Default "the platform team". */
  platformContact?: string;
  /**
   * Reuse Cedar's answer for a request provably equivalent to one already asked, and ask Cedar with
   * the entities trimmed to what the policies can read (src/policy/memo.ts). Default true; false asks
   * Cedar every time with the request as built (tests compare the two).
   */
  memoize?: boolean;
}

/** How many requests Cedar evaluated and how many were answered from the memo. */
export interface PolicyEngineStats {
  cedarCalls: number;
  memoHits: number;
  /** Distinct questions remembered. */
  memoSize: number;
}

/** Where a policy came from, to name its owner and place its evaluation errors. */
interface PolicyOrigin {
  policy: LoadedPolicy;
  validation: CedarPolicyValidation;
}

/**
 * The valid, enabled CedarPolicies as one preparsed Cedar policy set. Build one per change of the
 * CedarPolicies and reuse it for every service: building validates and parses (milliseconds per
 * policy); a decision only evaluates (tens of microseconds). Call {@link dispose} when replacing it,
 * to free the engine's cached copy.
 */
export class PolicyEngine {
  /** Validation result of every source, in order (invalid and disabled ones included). */
  readonly validations: readonly CedarPolicyValidation[];
  /** Every problem of every CedarPolicy. CedarPolicies with an error are not used. */
  readonly problems: readonly PolicyProblem[];
  /** Ids of the policies in use, in CedarPolicy then source order. */
  readonly policyIds: readonly string[];
  /** Names of the CedarPolicies left out because of an error. */
  readonly rejected: readonly string[];
  readonly platformContact: string;
  private readonly origins: ReadonlyMap<string, PolicyOrigin>;
  /** Preparsed policy set id per action; empty after dispose(). */
  private policySets: Map<LatticeAction, string>;
  /** The text of every policy in each action's set, for {@link RequestAlias.onlyIf}. */
  private readonly policyText: ReadonlyMap<LatticeAction, string>;
  /** What the policies of each action's set can read (src/policy/memo.ts). */
  private readonly references: ReadonlyMap<LatticeAction, PolicyReferences>;
  /** Answers by {@link trimRequest}'s key; undefined when memoising (and trimming) is off. */
  private readonly memo: DecisionMemo | undefined;
  private cedarCalls = 0;

  private constructor(validations: CedarPolicyValidation[], options: PolicyEngineOptions) {
    this.validations = validations;
    this.platformContact = options.platformContact ?? 'the platform team';
    this.problems = validations.flatMap((v) => v.problems);
    this.rejected = validations.filter((v) => !v.valid).map((v) => v.name);
    const origins = new Map<string, PolicyOrigin>();
    // One Cedar policy set per action, holding the policies whose action scope can match it. A
    // policy whose scope names other actions is never satisfied and never evaluates its conditions
    // for this action (Cedar checks the scope first), so leaving it out changes neither the decision
    // nor the diagnostics, and each decision evaluates fewer policies.
    const sets = Object.fromEntries(LATTICE_ACTIONS.map((a) => [a, {} as Record<string, string>])) as Record<LatticeAction, Record<string, string>>;
    const readers = Object.fromEntries(LATTICE_ACTIONS.map((a) => [a, [] as LoadedPolicy[]])) as Record<LatticeAction, LoadedPolicy[]>;
    const known: readonly string[] = [...LATTICE_ACTIONS, ...UNASKED_ACTIONS];
    for (const validation of validations) {
      // A CedarPolicy with an error in one policy still contributes its other policies
      // (`policies` holds only the good ones); `usable` is false only when none can be trusted.
      if (!validation.usable || !validation.enabled) continue;
      for (const policy of validation.policies) {
        origins.set(policy.id, { policy, validation });
        const scoped = policy.actions?.every((a) => known.includes(a));
        const actions = scoped ? (policy.actions as string[]).filter((a): a is LatticeAction => (LATTICE_ACTIONS as readonly string[]).includes(a)) : LATTICE_ACTIONS;
        for (const action of actions) {
          sets[action][policy.id] = policy.text;
          readers[action].push(policy);
        }
      }
    }
    this.origins = origins;
    this.policyText = new Map(LATTICE_ACTIONS.map((a) => [a, Object.values(sets[a]).join('\n')]));
    this.references = new Map(LATTICE_ACTIONS.map((a) => [a, mergeReferences(readers[a].map((p) => p.references))]));
    this.memo = options.memoize === false ? undefined : new DecisionMemo();
    this.policyIds = [...origins.keys()];
    const ids = new Map<LatticeAction, string>();
    for (const action of LATTICE_ACTIONS) {
      const acquired = acquirePolicySet(sets[action]);
      if (!acquired.ok) {
        for (const id of ids.values()) releasePolicySet(id);
        // Every policy was validated and ids are unique, so this is a Lattice defect.
        throw new Error(`Cedar refused the validated policy set: ${acquired.errors.map(describeCedarError).join('; ')}`);
      }
      ids.set(action, acquired.id);
    }
    this.policySets = ids;
  }

  /**
   * Validates the CedarPolicies (strict mode, see {@link validateCedarPolicies}) and parses the valid,
   * enabled ones into one policy set. Never fails for bad policies: they are in {@link problems} and
   * left out.
   */
  static fromPolicies(sources: readonly PolicySource[], options: PolicyEngineOptions = {}): PolicyEngine {
    return new PolicyEngine(validateCedarPolicies(sources), options);
  }

  /** Cedar calls made and memo hits so far (for benchmarks and tests). */
  stats(): PolicyEngineStats {
    return { cedarCalls: this.cedarCalls, memoHits: this.memo?.hits ?? 0, memoSize: this.memo?.size ?? 0 };
  }

  /** Frees the engine's cached policy set; the engine must not be used afterwards. */
  dispose(): void {
    for (const id of this.policySets.values()) releasePolicySet(id);
    this.policySets = new Map();
  }

  /**
   * Asks Cedar about one request, and about each of its aliases (the same question in the original
   * Lattice's vocabulary, {@link AuthorizationRequest.aliases}). Combined fail-closed: an error
   * under any name is an error; a forbid satisfied under any name denies; otherwise a permit under
   * any name allows; otherwise the primary request's denial (no permit) stands.
   */
  authorize(request: AuthorizationRequest): AuthorizationDecision {
    const primary = this.authorizeOne(request);
    const aliases = (request.aliases ?? []).filter((a) => a.onlyIf === undefined || (this.policyText.get(request.action) ?? '').includes(a.onlyIf));
    if (aliases.length === 0) return primary;
    const all = [
      primary,
      ...aliases.map((a) => {
        const entities = request.entities.filter((e) => {
          const uid = e.uid as { type: string; id: string };
          return uid.type !== request.resource.type || uid.id !== request.resource.id;
        });
        return this.authorizeOne({ ...request, resource: a.resource, entities: [...entities, a.entity], aliases: [] });
      }),
    ];
    const errored = all.find((d) => d.outcome === 'error');
    if (errored) return { ...errored, resource: primary.resource };
    const forbidden = all.find((d) => d.outcome === 'deny' && d.determiningPolicies.length > 0);
    if (forbidden) return { ...forbidden, resource: primary.resource };
    const allowed = all.find((d) => d.outcome === 'allow');
    if (allowed) return { ...allowed, resource: primary.resource };
    return primary;
  }

  /** Asks Cedar about one request, without its aliases. */
  private authorizeOne(request: AuthorizationRequest): AuthorizationDecision {
    const policySetId = this.policySets.get(request.action);
    if (policySetId === undefined) throw new Error('PolicyEngine used after dispose()');
    const base = {
      action: request.action,
      resourceDescription: request.resourceDescription,
      service: request.principal.id,
      resource: `${request.resource.type}::${JSON.stringify(request.resource.id)}`,
      path: request.path,
    };
    // A memoised answer is one Cedar gave to an equivalent request without errors; Cedar is asked
    // with the entities trimmed to what the policies can read (src/policy/memo.ts).
    const trimmed = this.memo === undefined ? undefined : trimRequest(request, this.references.get(request.action) as PolicyReferences);
    const known = trimmed === undefined ? undefined : this.memo?.get(trimmed.key);
    if (known !== undefined) return this.decided(request, base, known.decision, [...known.determiningPolicies]);
    const ask = (entities: readonly EntityJson[]): AuthorizationAnswer => {
      this.cedarCalls++;
      return isAuthorizedPreparsed({ policySetId, principal: request.principal, action: request.action, resource: request.resource, context: request.context, entities: [...entities] });
    };
    let answer = ask(trimmed?.entities ?? request.entities);
    // Errors are reported as Cedar words them for the request as built: asked again untrimmed.
    if (trimmed !== undefined && (answer.type === 'failure' || answer.response.diagnostics.errors.length > 0)) answer = ask(request.entities);
    if (answer.type === 'failure') {
      const errors = answer.errors.map((e) => `request rejected by Cedar: ${describeCedarError(e)}`);
      return {
        ...base,
        allowed: false,
        outcome: 'error',
        determiningPolicies: [],
        errors,
        reason: REASON_EVALUATION_ERROR,
        message: `${request.action} could not be decided for ${request.resourceDescription}: Cedar rejected the authorization request (${answer.errors.map((e) => e.message).join('; ')}). This is a defect in Lattice, not in your service or the policies: report it to ${this.platformContact}.`,
      };
    }
    const { decision, diagnostics } = answer.response;
    // Sorted: Cedar reports the determining policies as a set, in no stable order, and messages,
    // conditions and golden output must not change from run to run.
    const determiningPolicies = [...diagnostics.reason].sort();
    if (diagnostics.errors.length > 0) {
      const errors = diagnostics.errors.map((e) => this.describeEvaluationError(e.policyId, e.error));
      const failing = [...new Set(diagnostics.errors.map((e) => e.policyId))].sort();
      const owners = this.ownersOf(failing);
      return {
        ...base,
        allowed: false,
        outcome: 'error',
        determiningPolicies,
        errors,
        reason: REASON_EVALUATION_ERROR,
        message:
          `${request.action} could not be decided for ${request.resourceDescription}: ${plural(failing.length, 'policy', 'policies')} ${failing.join(', ')} failed to evaluate (${errors.join('; ')}). ` +
          `Lattice refuses a request while a policy that applies to it fails, instead of ignoring the policy. Contact ${owners} to fix the policy.`,
      };
    }
    if (trimmed !== undefined) this.memo?.set(trimmed.key, { decision, determiningPolicies });
    return this.decided(request, base, decision, determiningPolicies);
  }

  /** The decision for an answer Cedar gave without evaluation errors. */
  private decided(
    request: AuthorizationRequest,
    base: Pick<AuthorizationDecision, 'action' | 'resourceDescription' | 'service' | 'resource' | 'path'>,
    decision: 'allow' | 'deny',
    determiningPolicies: string[],
  ): AuthorizationDecision {
    if (decision === 'allow') {
      return {
        ...base,
        allowed: true,
        outcome: 'allow',
        determiningPolicies,
        errors: [],
        reason: REASON_AUTHORIZED,
        message: `${request.action} allowed for ${request.resourceDescription} by ${plural(determiningPolicies.length, 'policy', 'policies')} ${determiningPolicies.join(', ')}.`,
      };
    }
    const reason = DENIAL_REASONS[request.action];
    const service = `Service ${request.principal.id}`;
    let message: string;
    if (determiningPolicies.length === 0) {
      message = `${request.action} denied for ${request.resourceDescription}. No Cedar policy permits ${service} to ${request.requestPhrase}. ${this.resourceContact(request)} to request a permit policy.`;
    } else {
      const which =
        determiningPolicies.length === 1
          ? `Denied by policy ${determiningPolicies[0]} (forbid)`
          : `Denied by policies ${determiningPolicies.join(', ')} (forbid)`;
      message =
        `${request.action} denied for ${request.resourceDescription}. ${which}, and a forbid overrides every permit: ${service} may not ${request.requestPhrase}. ` +
        `Contact ${this.ownersOf(determiningPolicies)} if the service needs this.`;
    }
    return { ...base, allowed: false, outcome: 'deny', determiningPolicies, errors: [], reason, message };
  }

  /** Asks Cedar about each request (every one, not stopping at the first denial) and summarises. */
  decide(requests: readonly AuthorizationRequest[]): ServiceAuthorization {
    const decisions = requests.map((r) => this.authorize(r));
    return { decisions, summary: summarize(decisions) };
  }

  /** Builds the requests of a service ({@link serviceRequests}) and decides them. */
  authorizeService(input: ServiceAuthorizationInput): ServiceAuthorization {
    return this.decide(serviceRequests(input));
  }

  /** Whether the service may run `image` without signature verification (action SkipImageVerification). */
  canSkipImageVerification(input: ServiceAuthorizationInput, image: string): AuthorizationDecision {
    return this.authorize(skipImageVerificationRequest(input, image));
  }

  /** Whether a package may install its chart (action DeployPackage; src/compiler/package/). */
  canDeployPackage(input: ServiceAuthorizationInput, chart: ChartInput): AuthorizationDecision {
    return this.authorize(deployPackageRequest(input, chart));
  }

  /** Whether the service may expose a route (action ExposeRoute). */
  canExposeRoute(input: ServiceAuthorizationInput, route: RouteInput): AuthorizationDecision {
    return this.authorize(exposeRouteRequest(input, route));
  }

  /** `<id>: <message> (<where>)` for an evaluation error of a policy in the set. */
  private describeEvaluationError(policyId: string, error: DetailedError): string {
    let text = `${policyId}: ${describeCedarError(error)}`;
    const origin = this.origins.get(policyId);
    const start = errorStart(error);
    if (origin && origin.policy.offset !== undefined && start !== undefined) {
      const source = origin.validation.source;
      const index = origin.policy.offset + byteOffsetToIndex(origin.policy.text, start);
      const where = source.locateText
        ? { ...source.locateText(index), prefix: source.file ?? `CedarPolicy ${origin.validation.name}` }
        : { ...positionOf(source.policy.spec.policies, index), prefix: `CedarPolicy ${origin.validation.name} spec.policies` };
      text += ` (at ${where.prefix} line ${where.line}, column ${where.column})`;
    }
    return text;
  }

  /** Who to contact about some policies: their CedarPolicies' owners, else the platform contact. */
  private ownersOf(policyIds: readonly string[]): string {
    const byOwner = new Map<string, Set<string>>();
    let unowned = false;
    for (const id of policyIds) {
      const v = this.origins.get(id)?.validation;
      if (v?.owner === undefined) {
        unowned = true;
        continue;
      }
      const names = byOwner.get(v.owner) ?? new Set<string>();
      names.add(v.name);
      byOwner.set(v.owner, names);
    }
    const parts = [...byOwner].map(([owner, names]) => `${owner} (owner of CedarPolicy ${[...names].join(', ')} in ${PLATFORM_NAMESPACE})`);
    if (unowned || parts.length === 0) parts.push(this.platformContact);
    return parts.join(' or ');
  }

  /** "Contact ..." for the owner of a request's resource, else the platform contact. */
  private resourceContact(request: AuthorizationRequest): string {
    const owner = request.owner;
    if (owner?.team !== undefined) {
      const at = owner.contact === undefined ? '' : ` at ${owner.contact}`;
      return `Contact the ${owner.team} team${at} (owner of namespace ${owner.namespace})`;
    }
    if (owner?.contact !== undefined) return `Contact ${owner.contact} (owner of namespace ${owner.namespace})`;
    return `Contact ${this.platformContact}`;
  }
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/**
 * The PolicyAuthorized condition for a list of decisions. All allowed: True, `Authorized`. Otherwise
 * False, with `PolicyEvaluationError` when any decision errored (errors first in the message), else
 * the reason of the first denial; the message carries every failed decision's message.
 */
export function summarize(decisions: readonly AuthorizationDecision[]): AuthorizationSummary {
  const errored = decisions.filter((d) => d.outcome === 'error');
  const denied = decisions.filter((d) => d.outcome === 'deny');
  const counts = { decisions: decisions.length, allowed: decisions.length - errored.length - denied.length, denied: denied.length, errors: errored.length };
  if (errored.length === 0 && denied.length === 0) {
    const message =
      decisions.length === 0
        ? 'No authorization decision was needed.'
        : `${decisions.length} authorization ${plural(decisions.length, 'decision', 'decisions')} made, all allowed by Cedar policy.`;
    return { status: 'True', reason: REASON_AUTHORIZED, message, ...counts };
  }
  const failed = [...errored, ...denied];
  const first = failed[0] as AuthorizationDecision;
  const message =
    failed.length === 1
      ? first.message
      : `${failed.length} of ${decisions.length} authorization decisions failed. ${failed.map((d) => d.message).join(' ')}`;
  return { status: 'False', reason: first.reason, message, ...counts };
}
