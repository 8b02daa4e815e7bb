/**
 * Scorecards: each service held against the platform's checks, and the fleet summary (which check
 * most services fail). Pure: reads a {@link PlatformResult} (the derivation already ran: statuses,
 * Cedar decisions, quota usage, namespace metadata) and the input documents (for positions); no I/O.
 * `lattice score` prints it, `lattice catalog` shows the score per service.
 *
 * Every check has an id, a severity (`error`: the platform's guarantees depend on it; `warning`:
 * operability; `info`: good practice), and for a failure the evidence: the field path and, when the
 * service came from a file, `file:line:col`. A check that does not apply (no public route) is
 * `skip` and does not count. Messages name fields and rules, never a secret value.
 *
 * The score of a service is the weighted share of applicable checks passed, 0 to 100 (weights:
 * error 3, warning 2, info 1).
 */
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { parseLatticeService } from '../../api/latticeservice/index.ts';
import type { SourceLocation } from '../../api/source.ts';
import { parseImageReference } from '../../supplychain/reference.ts';
import { documentKey } from '../platform/fleet.ts';
import type { PlatformResult } from '../platform/snapshot.ts';
import type { DerivationContext, ServiceInput, ServiceResult } from '../types.ts';
import { secretLiteralReason } from './secrets.ts';

/** Severity of a check. */
export type CheckSeverity = 'error' | 'warning' | 'info';
/** Severities, most severe first. */
export const CHECK_SEVERITIES: readonly CheckSeverity[] = ['error', 'warning', 'info'];
/** Outcome of a check for one service. */
export type CheckStatus = 'pass' | 'fail' | 'skip';

/** Annotation with the URL of the service's runbook. */
export const RUNBOOK_ANNOTATION = 'lattice.dev/runbook';
/** Annotation with the URL of the service's SLO (dashboard or definition). */
export const SLO_ANNOTATION = 'lattice.dev/slo';

/** Where a check looked: a field path, and its position in the input file when known. */
export interface Evidence {
  path: string;
  location?: SourceLocation;
}

/** One check's outcome for one service. */
export interface CheckResult {
  id: string;
  severity: CheckSeverity;
  status: CheckStatus;
  /** Pass: what was found. Fail: what is wrong and what to do. Skip: why it does not apply. */
  message: string;
  evidence: Evidence[];
}

/** A service's scorecard. */
export interface Scorecard {
  key: string;
  namespace: string;
  name: string;
  /** Phase of the derivation (Ready, Failed). */
  phase: string;
  /** 0 to 100. */
  score: number;
  checks: CheckResult[];
}

/** How the fleet does on one check. */
export interface CheckSummary {
  id: string;
  title: string;
  severity: CheckSeverity;
  /** Services the check applied to. */
  applicable: number;
  /** Keys of the services failing it, sorted. */
  failing: string[];
}

/** The scorecards of every service, and the per-check summary sorted by failures (most first). */
export interface FleetScore {
  services: Scorecard[];
  checks: CheckSummary[];
}

/** What a check sees of one service. */
interface Subject {
  result: ServiceResult;
  service?: LatticeService;
  ctx?: DerivationContext;
  at: (path: (string | number)[]) => Evidence;
}

type Outcome = Omit<CheckResult, 'id' | 'severity'>;

/** A platform check. */
export interface Check {
  id: string;
  title: string;
  severity: CheckSeverity;
  /** Runs only on valid services (all but `derived`). */
  run: (s: Subject & { service: LatticeService }) => Outcome;
}

const pass = (message: string, evidence: Evidence[] = []): Outcome => ({ status: 'pass', message, evidence });
const fail = (message: string, evidence: Evidence[]): Outcome => ({ status: 'fail', message, evidence });
const skip = (message: string): Outcome => ({ status: 'skip', message, evidence: [] });

function containers(service: LatticeService): [string, LatticeService['spec']['workload']['containers'][string]][] {
  return Object.entries(service.spec.workload.containers);
}

function isHttpsUrl(v: string | undefined): boolean {
  if (v === undefined) return false;
  try {
    return new URL(v).protocol === 'https:';
  } catch {
    return false;
  }
}

/** The platform's checks, in display order. */
export const CHECKS: readonly Check[] = [
  {
    id: 'owner-known',
    title: 'Owner known',
    severity: 'error',
    run: ({ service, ctx, at }) => {
      const ns = service.metadata.namespace ?? 'default';
      const meta = ctx?.namespaces[ns];
      const owner = meta?.annotations?.['lattice.dev/owner'];
      const team = meta?.labels?.['lattice.dev/team'];
      if (owner !== undefined && team !== undefined) return pass(`team ${team}, reached at ${owner} (namespace ${ns})`, [at(['metadata', 'namespace'])]);
      return fail(`namespace ${ns} has no ${team === undefined ? 'team (label lattice.dev/team)' : 'owner (annotation lattice.dev/owner)'}, so nobody can be asked about this service: list the namespace in a LatticeTeam (which sets both)`, [at(['metadata', 'namespace'])]);
    },
  },
  {
    id: 'probes-declared',
    title: 'Readiness probes declared',
    severity: 'warning',
    run: ({ service, at }) => {
      const missing = containers(service).filter(([, c]) => c.readinessProbe === undefined).map(([n]) => n);
      if (missing.length === 0) return pass('every container declares a readinessProbe');
      return fail(`container ${missing.join(', ')} declares no readinessProbe, so pods get traffic before they are ready and stay in rotation when stuck: add one (e.g. httpGet /healthz)`, missing.map((n) => at(['spec', 'workload', 'containers', n])));
    },
  },
  {
    id: 'image-digest-pinned',
    title: 'Images pinned by digest',
    severity: 'error',
    run: ({ service, at }) => {
      const unpinned = containers(service).filter(([, c]) => {
        const ref = parseImageReference(c.image);
        return !ref.ok || ref.ref.digest === undefined;
      });
      if (unpinned.length === 0) return pass('every image is pinned by sha256 digest');
      return fail(`image of container ${unpinned.map(([n]) => n).join(', ')} is not pinned by digest, so what runs can change under the same tag: append @sha256:<digest>`, unpinned.map(([n]) => at(['spec', 'workload', 'containers', n, 'image'])));
    },
  },
  {
    id: 'non-root',
    title: 'Runs as non-root, unprivileged',
    severity: 'error',
    run: ({ service, at }) => {
      const ev: Evidence[] = [];
      for (const [n, c] of containers(service)) {
        const s = c.security;
        if (s?.runAsUser === 0) ev.push(at(['spec', 'workload', 'containers', n, 'security', 'runAsUser']));
        if (s?.runAsNonRoot === false) ev.push(at(['spec', 'workload', 'containers', n, 'security', 'runAsNonRoot']));
        if (s?.privileged === true) ev.push(at(['spec', 'workload', 'containers', n, 'security', 'privileged']));
        if (s?.allowPrivilegeEscalation === true) ev.push(at(['spec', 'workload', 'containers', n, 'security', 'allowPrivilegeEscalation']));
      }
      if (ev.length === 0) return pass('no container runs as root, privileged or with privilege escalation');
      return fail('a container runs as root, privileged or may escalate privileges (each needs a Cedar permit, and widens what a compromise reaches): drop the override and fix the image to run as a non-root user', ev);
    },
  },
  {
    id: 'redundant',
    title: 'Autoscaling or at least 2 replicas',
    severity: 'warning',
    run: ({ service, at }) => {
      if (service.spec.autoscaling !== undefined) return pass(`autoscales between ${service.spec.replicas} and ${service.spec.autoscaling.max} pods`, [at(['spec', 'autoscaling'])]);
      if (service.spec.replicas >= 2) return pass(`${service.spec.replicas} replicas`, [at(['spec', 'replicas'])]);
      return fail(`${service.spec.replicas} replica and no autoscaling: one node drain or crash takes the service down. Set replicas: 2 or more, or spec.autoscaling`, [at(['spec', 'replicas'])]);
    },
  },
  {
    id: 'under-quota',
    title: 'Under a quota',
    severity: 'warning',
    run: ({ result, service, ctx, at }) => {
      const quotas = [...(ctx?.quotaUsage?.values() ?? [])].filter((q) => q.services.some((s) => s.key === result.key)).map((q) => q.name);
      const ns = service.metadata.namespace ?? 'default';
      const team = ctx?.teams?.teams.find((t) => t.namespaces.includes(ns));
      if (quotas.length > 0) return pass(`covered by LatticeQuota ${quotas.join(', ')}`);
      if (team !== undefined) return pass(`namespace ${ns} has the ResourceQuota of LatticeTeam ${team.name}`);
      return fail(`no LatticeQuota covers namespace ${ns} and no LatticeTeam lists it, so nothing bounds what it may take from the cluster: ask the platform team to add the namespace to a team`, [at(['metadata', 'namespace'])]);
    },
  },
  {
    id: 'runbook-link',
    title: 'Runbook linked',
    severity: 'warning',
    run: ({ service, at }) => {
      const v = service.metadata.annotations?.[RUNBOOK_ANNOTATION];
      if (isHttpsUrl(v)) return pass(`runbook at ${v}`, [at(['metadata', 'annotations', RUNBOOK_ANNOTATION])]);
      return fail(`no runbook: add the annotation ${RUNBOOK_ANNOTATION} with an https URL, so whoever is paged knows what to do${v !== undefined ? ` (the value given is not an https URL)` : ''}`, [at(v !== undefined ? ['metadata', 'annotations', RUNBOOK_ANNOTATION] : ['metadata'])]);
    },
  },
  {
    id: 'slo-link',
    title: 'SLO linked',
    severity: 'info',
    run: ({ service, at }) => {
      const v = service.metadata.annotations?.[SLO_ANNOTATION];
      if (isHttpsUrl(v)) return pass(`SLO at ${v}`, [at(['metadata', 'annotations', SLO_ANNOTATION])]);
      return fail(`no SLO: add the annotation ${SLO_ANNOTATION} with an https URL of the objective or its dashboard${v !== undefined ? ` (the value given is not an https URL)` : ''}`, [at(v !== undefined ? ['metadata', 'annotations', SLO_ANNOTATION] : ['metadata'])]);
    },
  },
  {
    id: 'public-route-approved',
    title: 'Public routes approved by Cedar',
    severity: 'error',
    run: ({ result, service, at }) => {
      const publicRoutes = Object.entries(service.spec.ingress?.routes ?? {}).filter(([, r]) => r.exposure === 'public').map(([n]) => n);
      if (publicRoutes.length === 0) return skip('no public route');
      const denied = result.diagnostics.filter((d) => d.severity === 'error' && d.reason === 'RouteExposureDenied');
      const authorized = result.status.conditions.find((c) => c.type === 'PolicyAuthorized');
      if (denied.length > 0) return fail(`Cedar denied exposing ${denied.length === 1 ? 'a route' : `${denied.length} routes`}: ${denied[0]!.message}`, denied.map((d) => (d.location ? { path: d.path ?? 'spec.ingress.routes', location: d.location } : { path: d.path ?? 'spec.ingress.routes' })));
      if (authorized?.status !== 'True') return fail(`public route ${publicRoutes.join(', ')} has no Cedar decision (authorization did not run or failed: ${authorized?.message ?? 'no PolicyAuthorized condition'}); fix the service's other errors first`, publicRoutes.map((n) => at(['spec', 'ingress', 'routes', n, 'exposure'])));
      return pass(`public route ${publicRoutes.join(', ')} permitted by Cedar (ExposeRoute)`, publicRoutes.map((n) => at(['spec', 'ingress', 'routes', n, 'exposure'])));
    },
  },
  {
    id: 'secrets-externalized',
    title: 'No secret values in the spec',
    severity: 'error',
    run: ({ service, at }) => {
      const ev: Evidence[] = [];
      const reasons: string[] = [];
      const note = (reason: string | undefined, path: (string | number)[]): void => {
        if (reason === undefined) return;
        ev.push(at(path));
        reasons.push(`${path.slice(3).join('.')} ${reason}`);
      };
      for (const [n, c] of containers(service)) {
        const base = ['spec', 'workload', 'containers', n];
        for (const [k, v] of Object.entries(c.variables ?? {})) note(secretLiteralReason(v, k), [...base, 'variables', k]);
        for (const [p, f] of Object.entries(c.files ?? {})) if (f.content !== undefined) note(secretLiteralReason(f.content), [...base, 'files', p, 'content']);
        (c.args ?? []).forEach((a, i) => note(secretLiteralReason(a), [...base, 'args', i]));
        (c.command ?? []).forEach((a, i) => note(secretLiteralReason(a), [...base, 'command', i]));
      }
      if (ev.length === 0) return pass('secrets come from secret resources (${resources.NAME.KEY}), none is written in the spec');
      return fail(`${reasons.join('; ')}. A value in the spec is readable by everyone who can read the spec and its history: store it in the secret store and reference it as \${resources.NAME.KEY} with a resource of type secret`, ev);
    },
  },
];

/** Titles of the checks by id, plus the derivation check. */
const DERIVED_CHECK = { id: 'derived', title: 'Derived by the platform', severity: 'error' as const };

const WEIGHT: Record<CheckSeverity, number> = { error: 3, warning: 2, info: 1 };

/** The score of a scorecard's checks: weighted share of applicable checks passed, 0 to 100. */
export function scoreOf(checks: readonly CheckResult[]): number {
  const applicable = checks.filter((c) => c.status !== 'skip');
  const total = applicable.reduce((n, c) => n + WEIGHT[c.severity], 0);
  if (total === 0) return 100;
  return Math.round((100 * applicable.filter((c) => c.status === 'pass').reduce((n, c) => n + WEIGHT[c.severity], 0)) / total);
}

/** The scorecard of one service result. `doc` gives positions; `ctx` namespaces, quotas and teams. */
export function scoreService(result: ServiceResult, doc: ServiceInput | undefined, ctx: DerivationContext | undefined): Scorecard {
  const at = (path: (string | number)[]): Evidence => {
    const location = doc?.locate?.(path);
    return location ? { path: path.join('.'), location } : { path: path.join('.') };
  };
  const parsed = parseLatticeService(result.object);
  const checks: CheckResult[] = [];
  const firstError = result.diagnostics.find((d) => d.severity === 'error');
  checks.push({
    ...DERIVED_CHECK,
    ...(result.status.phase === 'Ready'
      ? pass(result.status.message ?? 'derived')
      : fail(`the platform did not derive the service (${result.status.phase}): ${firstError?.message ?? 'see its status conditions'}`, firstError?.path !== undefined ? [firstError.location ? { path: firstError.path, location: firstError.location } : { path: firstError.path }] : [])),
  });
  for (const check of CHECKS) {
    // The checks are written for long-running services; another kind (a LatticeJob) gets the derived check only.
    const outcome = result.kind !== undefined && result.kind !== 'LatticeService'
      ? skip(`a check for long-running services, not applied to a ${result.kind}`)
      : parsed.success
        ? check.run({ result, service: parsed.data, ctx, at } as Subject & { service: LatticeService })
        : skip('the spec is invalid (see the derived check)');
    checks.push({ id: check.id, severity: check.severity, ...outcome });
  }
  return { key: result.key, namespace: result.namespace, name: result.name, phase: result.status.phase, score: scoreOf(checks), checks };
}

/** Scorecards of every service of a platform result and the fleet summary, checks most failed first. */
export function scorePlatform(platform: PlatformResult, documents: readonly ServiceInput[]): FleetScore {
  const docs = new Map<string, ServiceInput>();
  for (const d of documents) {
    const key = documentKey(d.object);
    if (!docs.has(key)) docs.set(key, d);
  }
  const ctx = platform.fleet?.ctx;
  const services = platform.services.map((r) => scoreService(r, docs.get(r.key), ctx));
  const all = [DERIVED_CHECK, ...CHECKS];
  const checks: CheckSummary[] = all.map((c) => {
    const results = services.map((s) => ({ key: s.key, r: s.checks.find((x) => x.id === c.id)! }));
    return {
      id: c.id,
      title: c.title,
      severity: c.severity,
      applicable: results.filter((x) => x.r.status !== 'skip').length,
      failing: results.filter((x) => x.r.status === 'fail').map((x) => x.key).sort(),
    };
  });
  const order = new Map(all.map((c, i) => [c.id, i]));
  checks.sort((a, b) => b.failing.length - a.failing.length || CHECK_SEVERITIES.indexOf(a.severity) - CHECK_SEVERITIES.indexOf(b.severity) || order.get(a.id)! - order.get(b.id)!);
  return { services, checks };
}

/** True when some failing check is at least as severe as `threshold`. */
export function failsAt(score: FleetScore, threshold: CheckSeverity): boolean {
  const limit = CHECK_SEVERITIES.indexOf(threshold);
  return score.services.some((s) => s.checks.some((c) => c.status === 'fail' && CHECK_SEVERITIES.indexOf(c.severity) <= limit));
}
