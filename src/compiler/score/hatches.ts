/**
 * Escape hatches: where a service departs from the platform's defaults, each a departure a Cedar
 * permit allowed (or must allow): security-context overrides, the host network, accepting calls from
 * any service (`id: "*"`), routes on the public gateway. Read by the catalog (shown per service) and
 * the controller's adoption metrics (counted by kind). Pure.
 */
import { addedCapabilities, hostNetworkOf, podContainers, type LatticeService } from '../../api/latticeservice/v1alpha1.ts';

/** Kinds of escape hatch. */
export const ESCAPE_HATCH_KINDS = ['security-override', 'host-network', 'wildcard-caller', 'public-route'] as const;

/** A departure from the platform defaults that needed (or would need) a Cedar permit. */
export interface EscapeHatch {
  kind: (typeof ESCAPE_HATCH_KINDS)[number];
  /** Field path. */
  path: string;
  detail: string;
}

/** The escape hatches of `service`: security overrides, host network, wildcard callers, public routes. */
export function escapeHatches(service: LatticeService): EscapeHatch[] {
  const out: EscapeHatch[] = [];
  for (const { name: cname, container: c, path } of podContainers(service.spec)) {
    const s = c.security;
    if (!s) continue;
    const base = `${path.join('.')}.security`;
    for (const cap of addedCapabilities(s)) out.push({ kind: 'security-override', path: `${base}.${cap.field.replace(/\.[0-9]+$/, '')}`, detail: `container ${cname} adds capability ${cap.name}` });
    if (s.privileged === true) out.push({ kind: 'security-override', path: `${base}.privileged`, detail: `container ${cname} runs privileged` });
    if (s.runAsUser === 0 || s.runAsNonRoot === false) out.push({ kind: 'security-override', path: `${base}.${s.runAsUser === 0 ? 'runAsUser' : 'runAsNonRoot'}`, detail: `container ${cname} may run as root` });
    if (s.readOnlyRootFilesystem === false) out.push({ kind: 'security-override', path: `${base}.readOnlyRootFilesystem`, detail: `container ${cname} has a writable root filesystem` });
    if (s.allowPrivilegeEscalation === true) out.push({ kind: 'security-override', path: `${base}.allowPrivilegeEscalation`, detail: `container ${cname} may escalate privileges` });
  }
  const host = hostNetworkOf(service.spec);
  if (host.value) out.push({ kind: 'host-network', path: host.path, detail: 'pods use the node\'s network namespace' });
  for (const [name, r] of Object.entries(service.spec.workload.resources ?? {})) {
    if (r.type === 'service' && r.id === '*') out.push({ kind: 'wildcard-caller', path: `spec.workload.resources.${name}`, detail: 'accepts calls from any service' });
  }
  for (const [name, r] of Object.entries(service.spec.ingress?.routes ?? {})) {
    if (r.exposure === 'public') out.push({ kind: 'public-route', path: `spec.ingress.routes.${name}`, detail: `route ${name} is on the internet: ${r.hosts?.join(', ') ?? `${r.kind} port ${r.listenPort}`}` });
  }
  return out;
}

