/**
 * Lattice authorization with Cedar (docs.cedarpolicy.com): the public API the derivation pipeline,
 * the controller and `lattice authz` use. Schema: `lattice.cedarschema`; guide: docs/policy.md.
 *
 * Typical use: build a {@link PolicyEngine} once from the CedarPolicies (it reports invalid ones in
 * `problems` and leaves them out), then call `engine.authorizeService(input)` for each service and
 * turn its `summary` into the PolicyAuthorized condition.
 */
export {
  PolicyEngine,
  summarize,
  POLICY_CONDITION,
  REASON_AUTHORIZED,
  REASON_EVALUATION_ERROR,
  DENIAL_REASONS,
  type AuthorizationDecision,
  type AuthorizationSummary,
  type ServiceAuthorization,
  type PolicyEngineOptions,
} from './engine.ts';
export {
  validateCedarPolicies,
  loadCedarPolicy,
  formatPolicyProblem,
  type PolicySource,
  type PolicyProblem,
  type LoadedPolicy,
  type CedarPolicyValidation,
} from './load.ts';
export {
  serviceRequests,
  skipImageVerificationRequest,
  exposeRouteRequest,
  deployPackageRequest,
  namespaceFacts,
  securityOverrides,
  podSecurityOverrides,
  LATTICE_ACTIONS,
  UNASKED_ACTIONS,
  type LatticeAction,
  type AuthorizationRequest,
  type ServiceAuthorizationInput,
  type NamespaceMetadata,
  type ImageVerification,
  type ContainerSecurity,
  type SecurityOverrideInput,
  type SecurityOverrideCategory,
  type RouteInput,
  type ChartInput,
  type EntityRef,
  type ResourceOwner,
} from './requests.ts';
export { policyTextLocator } from './locate.ts';
export { LATTICE_SCHEMA, cedarVersion, policySetParseCount, type TextPosition } from './cedar.ts';
export { benchAuthorization, type BenchOptions, type BenchResult } from './bench.ts';
