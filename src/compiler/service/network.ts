/**
 * The Kubernetes `Service` of a workload that declares ports, selecting its pods.
 *
 * - `workload.service.serviceType` NodePort or LoadBalancer makes it reachable from outside the
 *   cluster. Such a Service gets `externalTrafficPolicy: Local`, so the client's address is kept
 *   (kubernetes.io, "Create an External Load Balancer", "Preserving the client source IP"): Cilium then
 *   sees the client as the `world` entity, which is what the service's CiliumNetworkPolicy admits on
 *   the Service's ports (src/compiler/mesh/mesh.ts), rather than a node address.
 * - `workload.service.publishDns` annotates it for external-dns with the hostnames
 *   (`external-dns.alpha.kubernetes.io/hostname`, comma-separated; external-dns, "Setting up
 *   ExternalDNS for Services").
 * - `workload.service.tls`: a cert-manager `Certificate` `<service>` for the hostnames into Secret
 *   `<service>-tls` (issuer: `tls.issuerRef`, else the public gateway's clusterIssuer), or the team's
 *   Secret (`tls.secretName`); either Secret is mounted read-only at /etc/lattice/tls in every
 *   container of the Deployment (derived earlier in the pipeline).
 * - `spec.advertise` labels it `istio.io/global: "true"` (src/compiler/mesh/mesh.ts, advertisePeer).
 * - A port a GRPCRoute sends to gets `appProtocol: grpc`, so the gateway speaks HTTP/2 to it
 *   (istio.io, "Protocol Selection": appProtocol takes precedence over the port name).
 */
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { selectorLabels } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import { checkServiceHostClaims, resolvedRoutes } from '../mesh/ingress.ts';
import { ISTIO_GLOBAL_LABEL } from '../mesh/mesh.ts';
import { PLATFORM_CONDITION } from './autoscaling.ts';
import type { DerivationState, Diagnostic } from '../types.ts';

/** The external-dns annotation naming the DNS records of a Service. */
export const EXTERNAL_DNS_HOSTNAME = 'external-dns.alpha.kubernetes.io/hostname';

/** Where the certificate of `workload.service.tls` is mounted in every container. */
export const SERVICE_TLS_MOUNT = '/etc/lattice/tls';

/** The Secret holding the certificate of an exposed Service: the team's `tls.secretName`, else `<service>-tls`. */
export function serviceTlsSecret(service: LatticeService): string | undefined {
  const tls = service.spec.workload.service?.tls;
  if (tls === undefined) return undefined;
  return tls.secretName ?? `${service.metadata.name}-tls`;
}

/** Derives `Service <name>` when `workload.service.ports` is declared (and the certificate of `service.tls`). */
export function deriveNetworkService(state: DerivationState): void {
  const svc = state.service.spec.workload.service;
  const ports = Object.entries(svc?.ports ?? {});
  if (ports.length === 0) return;
  if (!checkServiceHostClaims(state)) return;
  const name = state.service.metadata.name;
  const grpcPorts = new Set(resolvedRoutes(state.service).filter((r) => r.kind === 'GRPCRoute').map((r) => r.portName));
  const type = svc?.serviceType ?? 'ClusterIP';
  const meta = derivedMeta(state, name);
  if (state.service.spec.advertise !== undefined) meta.labels = { ...meta.labels, [ISTIO_GLOBAL_LABEL.key]: ISTIO_GLOBAL_LABEL.value };
  if (svc?.publishDns === true && svc.hostnames !== undefined) meta.annotations = { ...meta.annotations, [EXTERNAL_DNS_HOSTNAME]: svc.hostnames.join(',') };
  const spec: Record<string, unknown> = {
    type,
    selector: selectorLabels(name),
    ports: ports.map(([pname, p]) => ({
      name: pname,
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      protocol: p.protocol,
      ...(grpcPorts.has(pname) ? { appProtocol: 'grpc' } : {}),
    })),
  };
  if (type !== 'ClusterIP') spec.externalTrafficPolicy = 'Local';
  state.objects.push({ apiVersion: 'v1', kind: 'Service', metadata: meta, spec });
  deriveServiceTls(state);
}

function deriveServiceTls(state: DerivationState): void {
  const svc = state.service.spec.workload.service;
  const tls = svc?.tls;
  const secret = serviceTlsSecret(state.service);
  if (tls === undefined || secret === undefined) return;
  const name = state.service.metadata.name;
  if (tls.secretName === undefined) {
    const issuer = tls.issuerRef ?? (state.ctx.settings.gateways?.public?.clusterIssuer === undefined ? undefined : { name: state.ctx.settings.gateways.public.clusterIssuer, kind: 'ClusterIssuer' as const });
    if (issuer === undefined) {
      const path = ['spec', 'workload', 'service', 'tls'];
      const d: Diagnostic = {
        severity: 'error',
        condition: PLATFORM_CONDITION,
        reason: 'TLSIssuerNotConfigured',
        path: path.join('.'),
        message: `workload.service.tls asks for a certificate from the platform's issuer (tls: {}), but the public gateway has no clusterIssuer (LatticePlatform spec.gateways.public.clusterIssuer): name one with tls.issuerRef, bring a certificate with tls.secretName, or ask ${state.ctx.settings.platformContact} to configure it`,
      };
      const location = state.input.locate?.(path);
      if (location) d.location = location;
      state.diagnostics.push(d);
      return;
    }
    state.objects.push({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: derivedMeta(state, name),
      spec: { secretName: secret, dnsNames: [...(svc!.hostnames ?? [])], issuerRef: { group: 'cert-manager.io', kind: issuer.kind ?? 'ClusterIssuer', name: issuer.name } },
    });
  }
  for (const o of state.objects) {
    if (o.kind !== 'Deployment' || o.apiVersion !== 'apps/v1') continue;
    const pod = (o.spec as { template?: { spec?: { volumes?: unknown[]; containers?: { volumeMounts?: unknown[] }[] } } } | undefined)?.template?.spec;
    if (!pod) continue;
    pod.volumes = [...(pod.volumes ?? []), { name: 'lattice-service-tls', secret: { secretName: secret } }];
    for (const c of pod.containers ?? []) c.volumeMounts = [...(c.volumeMounts ?? []), { name: 'lattice-service-tls', mountPath: SERVICE_TLS_MOUNT, readOnly: true }];
  }
}
