/**
 * A job's place in the bilateral mesh: the shared mesh stage (src/compiler/mesh/mesh.ts) derives the
 * job's CiliumNetworkPolicy and AuthorizationPolicy from its agreed edges, exactly as for a service
 * (the job is one node of the graph, src/compiler/job/view.ts); this module then adds what is
 * particular to a job.
 *
 * Between the job's own tasks: both ends are the same owner's declaration, so the "agreement" is the
 * job spec itself. The tasks may reach each other on the declared ports and nothing else:
 * - the ports each task declares in `workload.service.ports` and the training port
 *   (`spec.training`), together {@link intraJobPorts};
 * - Cilium (L4, outside the pod): ingress from and egress to the job's own pods on ztunnel's HBONE
 *   port 15008 only, and DNS for the host names Volcano's svc plugin gives the pods
 *   (`<job>-<task>-<index>.<job>.<namespace>.svc.<clusterDomain>`, matched by pattern);
 * - Istio (ztunnel, L4, inside the tunnel): an ALLOW rule for the job's own SPIFFE principal on
 *   exactly those ports. Any other port between two tasks is denied.
 * Volcano's svc plugin would also create a Kubernetes NetworkPolicy allowing every port between the
 * job's pods (pkg/controllers/job/plugins/svc, `createNetworkPolicyIfNotExist`); network policies
 * add up, so that would open every port: Lattice passes `--disable-network-policy=true`
 * (src/compiler/job/volcano.ts).
 *
 * Metrics: a job derives no scrape target, so the scraper's access the shared stage grants a
 * workload with ports is removed: nothing may reach a job's pods but its agreed callers and itself.
 */
import { scraperIdentity } from '../../api/latticeplatform/v1alpha1.ts';
import { TRAINING_DEFAULT_PORTS, type LatticeJob } from '../../api/latticejob/v1alpha1.ts';
import { CILIUM_LABELS, HBONE_PORT, ciliumPeerSelector, ciliumPodLabel, principalOf, type PodPort } from '../mesh/mesh.ts';
import { LABELS } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import type { DerivationState, KubeObject } from '../types.ts';

/** The ports the tasks of `job` may use between each other: every declared task port and the training port, unique, sorted. */
export function intraJobPorts(job: LatticeJob): PodPort[] {
  const seen = new Map<string, PodPort>();
  const add = (p: PodPort): void => {
    seen.set(`${p.port}/${p.protocol}`, p);
  };
  for (const t of Object.values(job.spec.tasks)) {
    for (const p of Object.values(t.workload.service?.ports ?? {})) add({ port: p.targetPort ?? p.port, protocol: p.protocol });
  }
  if (job.spec.training) add({ port: job.spec.training.port ?? TRAINING_DEFAULT_PORTS[job.spec.training.framework], protocol: 'TCP' });
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

type Rule = Record<string, unknown>;
type Selector = { matchLabels: Record<string, string> };

/**
 * Adjusts the mesh objects the shared stage derived for the job (in `state.objects`, `state` being
 * the job's view): removes the scraper's access and adds the intra-job rules (see the module doc).
 * Adds an AuthorizationPolicy when the shared stage derived none and the tasks need one; drops it
 * when nothing is left to allow.
 */
export function applyJobMesh(state: DerivationState, job: LatticeJob, usesHostNames: boolean): void {
  const name = job.metadata.name;
  const namespace = job.metadata.namespace ?? 'default';
  const mesh = state.ctx.settings.mesh;
  const scraper = scraperIdentity(mesh);
  const scraperPrincipal = principalOf(mesh.trustDomain, scraper.namespace, scraper.serviceAccount);
  const ports = intraJobPorts(job);
  const hbone = [{ ports: [{ port: String(HBONE_PORT), protocol: 'TCP' }] }];

  const cnp = state.objects.find((o) => o.kind === 'CiliumNetworkPolicy' && o.metadata.name === name);
  if (cnp) {
    const spec = cnp.spec as { ingress?: Rule[]; egress?: Rule[]; description?: string };
    // No scraper: keep every ingress peer but the scraper's pods.
    const ingress: Rule[] = (spec.ingress ?? [])
      .map((r) => ({ ...r, fromEndpoints: ((r.fromEndpoints as Selector[] | undefined) ?? []).filter((s) => !(s.matchLabels[CILIUM_LABELS.serviceAccount] === scraper.serviceAccount && s.matchLabels[CILIUM_LABELS.namespace] === scraper.namespace)) }))
      .filter((r) => r.fromEndpoints.length > 0);
    let egress = (spec.egress ?? []).filter((r) => Object.keys(r).length > 0);
    if (ports.length > 0) {
      ingress.push({ fromEndpoints: [ciliumPeerSelector(name, namespace)], toPorts: hbone });
      egress.push({ toEndpoints: [{ matchLabels: { [ciliumPodLabel(LABELS.name)]: name, [CILIUM_LABELS.namespace]: namespace } }], toPorts: hbone });
    }
    if (usesHostNames) egress = withJobHostNames(egress, `*.${name}.${namespace}.svc.${state.ctx.settings.clusterDomain}`, mesh.dns);
    if (ingress.length > 0) spec.ingress = ingress;
    else delete spec.ingress;
    spec.egress = egress.length > 0 ? egress : [{}];
    spec.description = `Derived by Lattice for job ${state.key}: only agreed service dependencies, the job's own pods on their declared ports, over ztunnel's HBONE port 15008, DNS and declared external services.`;
  }

  const index = state.objects.findIndex((o) => o.kind === 'AuthorizationPolicy' && o.metadata.name === name);
  let ap: KubeObject | undefined = index >= 0 ? state.objects[index] : undefined;
  const rules = ((ap?.spec as { rules?: Rule[] } | undefined)?.rules ?? []).filter((r) => {
    const principals = (r.from as { source?: { principals?: string[] } }[] | undefined)?.[0]?.source?.principals;
    return !(principals?.length === 1 && principals[0] === scraperPrincipal);
  });
  if (ports.length > 0) {
    rules.push({
      from: [{ source: { principals: [principalOf(mesh.trustDomain, namespace, name)] } }],
      to: [{ operation: { ports: ports.map((p) => String(p.port)) } }],
    });
  }
  if (rules.length === 0) {
    if (index >= 0) state.objects.splice(index, 1);
    return;
  }
  if (!ap) {
    ap = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: derivedMeta(state, name), spec: { selector: { matchLabels: { [LABELS.name]: name } }, action: 'ALLOW', rules: [] } };
    state.objects.push(ap);
  }
  (ap.spec as { rules: Rule[] }).rules = rules;
}

/** Adds `pattern` to the DNS rule of `egress` (creating the rule when the job needed no name before). */
function withJobHostNames(egress: Rule[], pattern: string, dns: { namespace: string; podLabels: Record<string, string> }): Rule[] {
  type DnsRule = { toPorts: { rules?: { dns?: { matchName?: string; matchPattern?: string }[] } }[] };
  const existing = egress.find((r) => (r as DnsRule).toPorts?.[0]?.rules?.dns !== undefined) as DnsRule | undefined;
  if (existing) {
    existing.toPorts[0]!.rules!.dns!.push({ matchPattern: pattern });
    return egress;
  }
  const selector: Record<string, string> = { [CILIUM_LABELS.namespace]: dns.namespace };
  for (const [k, v] of Object.entries(dns.podLabels)) selector[ciliumPodLabel(k)] = v;
  return [
    {
      toEndpoints: [{ matchLabels: selector }],
      toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }], rules: { dns: [{ matchPattern: pattern }] } }],
    },
    ...egress,
  ];
}
