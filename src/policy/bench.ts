/**
 * Micro-benchmark of authorization (for `npm run bench`): a policy set of N generated policies is
 * built once, then a service's requests are decided repeatedly against it.
 */
import { API_VERSION } from '../api/common.ts';
import type { CedarPolicy } from '../api/cedarpolicy/v1alpha1.ts';
import type { LatticeService } from '../api/latticeservice/v1alpha1.ts';
import { PolicyEngine } from './engine.ts';
import { serviceRequests, type ServiceAuthorizationInput } from './requests.ts';

/** Options of {@link benchAuthorization}. */
export interface BenchOptions {
  /** Number of policies in the set (default 100), spread over CedarPolicies of 10 policies. */
  policies?: number;
  /** Number of decisions to time (default 5000). */
  decisions?: number;
  /**
   * Memoise decisions (PolicyEngineOptions.memoize). Default false: the same requests are asked over
   * and over, so a memoising engine would measure its memo, not Cedar.
   */
  memoize?: boolean;
}

/** Result of {@link benchAuthorization}. Times in milliseconds. */
export interface BenchResult {
  policies: number;
  decisions: number;
  /** Time to validate and parse the policy set (once). */
  buildMs: number;
  /** Time of all decisions. */
  elapsedMs: number;
  decisionsPerSecond: number;
  /** Decisions that were allowed (the generated policies allow most requests, deny some). */
  allowed: number;
}

/** Generated CedarPolicies holding `count` policies in total, 10 per CedarPolicy, permits and forbids mixed. */
export function generatedPolicies(count: number): CedarPolicy[] {
  const docs: CedarPolicy[] = [];
  for (let start = 0; start < count; start += 10) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(count, start + 10); i++) {
      switch (i % 5) {
        case 0:
          lines.push(`@id("secrets-${i}")\npermit(principal, action == Lattice::Action::"AccessSecret", resource)\nwhen { resource has namespace && resource.namespace == "team-${i}" };`);
          break;
        case 1:
          lines.push(`@id("images-${i}")\npermit(principal, action == Lattice::Action::"DeployImage", resource)\nwhen { resource.registry == "registry-${i}.example.com" };`);
          break;
        case 2:
          lines.push(`@id("endpoints-${i}")\npermit(principal in Lattice::Namespace::"team-${i}", action == Lattice::Action::"AccessExternalEndpoint", resource)\nwhen { resource.scheme == "https" };`);
          break;
        case 3:
          lines.push(`@id("no-privileged-${i}")\nforbid(principal, action == Lattice::Action::"OverrideSecurity", resource)\nwhen { resource.kind == "privileged" && principal.namespace == "team-${i}" };`);
          break;
        default:
          lines.push(`@id("labels-${i}")\npermit(principal, action == Lattice::Action::"AccessSecret", resource)\nwhen { principal.hasTag("tier") && principal.getTag("tier") == "tier-${i}" };`);
      }
    }
    if (start === 0) {
      lines.push('@id("org-registry")\npermit(principal, action == Lattice::Action::"DeployImage", resource)\nwhen { resource.registry == "registry.example.com" };');
    }
    docs.push({
      apiVersion: API_VERSION,
      kind: 'CedarPolicy',
      metadata: { name: `bench-${start / 10}`, namespace: 'lattice-system' },
      spec: { policies: lines.join('\n'), enabled: true },
    });
  }
  return docs;
}

/** The service the benchmark authorizes: 2 secrets, 2 containers, 2 endpoints, 1 capability (7 requests). */
function benchService(): ServiceAuthorizationInput {
  const digest = 'sha256:' + 'a'.repeat(64);
  const service = {
    apiVersion: API_VERSION,
    kind: 'LatticeService',
    metadata: { name: 'checkout', namespace: 'team-0', labels: { tier: 'tier-4' } },
    spec: {
      replicas: 1,
      workload: {
        containers: {
          api: { image: `registry.example.com/shop/api:1.0@${digest}`, resources: { limits: { memory: '256Mi' } }, security: { capabilities: { add: ['NET_BIND_SERVICE'] } } },
          proxy: { image: `registry-1.example.com/shop/proxy@${digest}`, resources: { limits: { memory: '64Mi' } } },
        },
        resources: {
          db: { type: 'secret', id: 'team-0/db' },
          stripe: { type: 'secret', id: 'team-5/stripe' },
          payments: { type: 'external-service', params: { endpoints: ['https://api.stripe.com', 'tcp://db.example.com:5432'] } },
        },
      },
    },
  } as unknown as LatticeService;
  return { service, namespaces: { 'team-0': { labels: { 'lattice.dev/team': 'zero' } } }, defaultSecretProvider: 'vault' };
}

/**
 * Builds an engine of `policies` generated policies (parsed once), then decides the requests of a
 * 7-request service until `decisions` decisions are made, and reports decisions per second: every
 * one asked of Cedar, unless `memoize` (then all but the first 7 are answered from the memo).
 */
export function benchAuthorization(options: BenchOptions = {}): BenchResult {
  const count = options.policies ?? 100;
  const target = options.decisions ?? 5000;
  let t0 = performance.now();
  const engine = PolicyEngine.fromPolicies(generatedPolicies(count).map((policy) => ({ policy })), { memoize: options.memoize ?? false });
  const buildMs = performance.now() - t0;
  try {
    if (engine.problems.some((p) => p.severity === 'error')) {
      throw new Error(`generated policies are invalid: ${engine.problems.map((p) => p.message).join('; ')}`);
    }
    const requests = serviceRequests(benchService());
    let decisions = 0;
    let allowed = 0;
    t0 = performance.now();
    while (decisions < target) {
      for (const r of requests) {
        if (engine.authorize(r).allowed) allowed++;
        decisions++;
      }
    }
    const elapsedMs = performance.now() - t0;
    return { policies: engine.policyIds.length, decisions, buildMs, elapsedMs, decisionsPerSecond: Math.round((decisions / elapsedMs) * 1000), allowed };
  } finally {
    engine.dispose();
  }
}
