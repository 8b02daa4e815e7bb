/**
 * `LatticePlatform` (lattice.dev/v1alpha1, cluster-scoped, conventionally named `default`): the
 * platform team's settings. Every setting has a default, so a platform without one works.
 * Later capabilities (mesh, authorization, autoscaling, ingress) add their settings here.
 */
import { z } from 'zod';
import { API_VERSION, dnsLabel, objectMeta, quantity, refusePrototypeKeys } from '../common.ts';
import { parseQuantity } from '../quantity.ts';
import { SIZE_PROFILES } from '../latticeservice/v1alpha1.ts';

export const KIND = 'LatticePlatform';
export const PLURAL = 'latticeplatforms';
export const SHORT_NAMES = ['lp'];

/** The requests and limits of one size profile, as the platform redefines it. */
export const sizeProfileSchema = z
  .strictObject({
    requests: z
      .strictObject({
        cpu: quantity.describe('CPU request in cores, e.g. 250m.'),
        memory: quantity.describe('Memory request, e.g. 384Mi.'),
      })
      .describe('What the scheduler reserves for a container of this profile.'),
    limits: z
      .strictObject({
        memory: quantity.describe('Memory limit, e.g. 512Mi.'),
        cpu: quantity.optional().describe('CPU limit; omitted (the default profiles) lets the container burst.'),
      })
      .describe('The most a container of this profile may use.'),
  })
  .superRefine((p, ctx) => {
    for (const res of ['cpu', 'memory'] as const) {
      const lim = p.limits[res];
      if (lim !== undefined && parseQuantity(p.requests[res]) > parseQuantity(lim)) {
        ctx.addIssue({ code: 'custom', path: ['requests', res], message: `${res} request ${p.requests[res]} is larger than the limit ${lim}: lower the request or raise the limit` });
      }
    }
  });

/**
 * A Gateway API `Gateway` that routes of one exposure attach to. Lattice derives the Gateway itself
 * (src/compiler/mesh/ingress.ts, deriveGateways): its class, and a listener per route host.
 */
export const gatewaySettingSchema = z.strictObject({
  name: dnsLabel.describe('Name of the Gateway (gateway.networking.k8s.io/v1).'),
  namespace: dnsLabel.describe('Namespace of the Gateway. Lattice derives and owns this Gateway: one listener per route host, each admitting routes from the owning service\'s namespace only.'),
  serviceAccount: dnsLabel
    .optional()
    .describe("ServiceAccount of the gateway's proxy pods, whose identity the mesh lets reach routed services (default <name>-istio: Istio names an automatically deployed gateway <gateway name>-<GatewayClass name>)."),
  className: dnsLabel
    .optional()
    .describe('GatewayClass of the Gateway Lattice derives (default istio).'),
  clusterIssuer: dnsLabel
    .optional()
    .describe('A cert-manager ClusterIssuer: when set, every route on this gateway gets a Certificate (cert-manager.io/v1) for its hosts, served by HTTPS listeners on port 443; without it the listeners are plain HTTP on port 80.'),
});

/**
 * Namespaces the cluster-wide default deny leaves alone: the platform's own components, which
 * manage their own network policies. The DNS namespace and the Istio root namespace are always
 * excluded as well, whatever this list says (without them no pod resolves names or gets mesh config).
 */
export const DEFAULT_SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'lattice-system', 'external-secrets', 'cert-manager', 'keda', 'kthena-system'];

/**
 * Namespaces where no LatticeService is derived (spec.protectedNamespaces): where the platform's own
 * components run, whose objects a tenant's service could otherwise replace or sit beside (an Istio
 * AuthorizationPolicy in the root namespace applies mesh-wide). Lattice always adds the namespaces it
 * uses itself (see src/compiler/workload/protected.ts).
 */
export const DEFAULT_PROTECTED_NAMESPACES = [
  'kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'lattice-system', 'external-secrets', 'cert-manager',
  'monitoring', 'keda', 'flux-system', 'volcano-system', 'cilium', 'cilium-secrets', 'tetragon',
];

/** Settings of the service mesh and network policies (docs/mesh.md). */
export const meshSettingsSchema = z.strictObject({
  trustDomain: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a SPIFFE trust domain such as cluster.local (lower-case letters, digits, "-" and ".")')
    .default('cluster.local')
    .describe('SPIFFE trust domain of the mesh (Istio meshConfig.trustDomain). A caller is identified as <trustDomain>/ns/<namespace>/sa/<service>.'),
  istioNamespace: dnsLabel
    .default('istio-system')
    .describe('Istio root namespace (meshConfig.rootNamespace), where istiod runs and the mesh-wide PeerAuthentication and AuthorizationPolicy go.'),
  systemNamespaces: z
    .array(dnsLabel)
    .default(DEFAULT_SYSTEM_NAMESPACES)
    .describe('Namespaces excluded from the cluster-wide default deny (platform components with their own policies; keda runs the KEDA operator and metrics API server, kthena-system the Kthena router, which connects to the pods of routed LatticeModels). The DNS, Istio, metrics scraper and gateway namespaces, and the namespace of prometheusAddress, are always excluded.'),
  dns: z
    .strictObject({
      namespace: dnsLabel.default('kube-system').describe('Namespace of the cluster DNS pods.'),
      podLabels: z
        .record(z.string(), z.string())
        .default({ 'k8s-app': 'kube-dns' })
        .describe('Labels of the cluster DNS pods (CoreDNS keeps the k8s-app: kube-dns label of kube-dns).'),
    })
    .prefault({})
    .describe('Where the cluster DNS runs: every service may send DNS queries there, for the names it needs only.'),
  metricsScraper: z
    .strictObject({
      namespace: dnsLabel.default('monitoring').describe('Namespace of the VMAgent (and so of its pods).'),
      vmAgent: dnsLabel
        .default('vmagent')
        .describe('Name of the VMAgent (VictoriaMetrics operator) that reads the VMServiceScrapes. The operator names its ServiceAccount vmagent-<name> and labels its pods app.kubernetes.io/name: vmagent, app.kubernetes.io/instance: <name>.'),
      serviceAccount: dnsLabel
        .optional()
        .describe('ServiceAccount of the scraper pods, when not the operator\'s vmagent-<vmAgent> (VMAgent spec.serviceAccountName): its mesh identity <trustDomain>/ns/<namespace>/sa/<serviceAccount> is allowed by the Istio policies.'),
      podLabels: z
        .record(z.string(), z.string())
        .optional()
        .describe('Labels of the scraper pods, matched by the Cilium policies (default: the operator\'s app.kubernetes.io/name: vmagent and app.kubernetes.io/instance: <vmAgent>).'),
    })
    .prefault({})
    .describe('The metrics scraper (a VMAgent) that reads each service\'s metrics port: both policy layers let it in on that port only. Its pods must be in the ambient mesh (label istio.io/dataplane-mode: ambient through VMAgent spec.podMetadata.labels) to pass STRICT mTLS; docs/mesh.md.'),
  eastWestGateway: z
    .strictObject({
      namespace: dnsLabel.default('istio-system').describe('Namespace of the east-west gateway pods.'),
      podLabels: z.record(z.string(), z.string()).refine((l) => Object.keys(l).length > 0, 'name at least one label').describe('Labels of the east-west gateway pods, matched by the Cilium policies (e.g. gateway.networking.k8s.io/gateway-name: istio-eastwest).'),
      serviceAccount: dnsLabel.describe('ServiceAccount of the east-west gateway pods.'),
    })
    .optional()
    .describe('The Istio ambient east-west gateway through which other clusters of the mesh reach this one (Istio ambient multi-network multicluster). Needed by services with spec.advertise: their Cilium policy lets these pods in on ztunnel\'s HBONE port 15008; without it, advertising fails with reason AdvertiseNotConfigured.'),
});

/**
 * Settings of cloud identity (LatticeService `spec.cloudAccess`, src/compiler/workload/cloud.ts): what the
 * derived ACK and ASO objects need that only the platform knows.
 */
export const cloudSettingsSchema = z.strictObject({
  aws: z
    .strictObject({
      clusterName: z
        .string()
        .regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'must be an EKS cluster name (letters, digits, "-" and "_", at most 100)')
        .optional()
        .describe('Name of the EKS cluster (PodIdentityAssociation spec.clusterName). Required by services with cloudAccess.aws.'),
      permissionsBoundary: z
        .string()
        .regex(/^arn:[a-z-]+:iam::[0-9]{12}:policy\/.+$/, 'must be the ARN of an IAM managed policy, e.g. arn:aws:iam::123456789012:policy/lattice-boundary')
        .optional()
        .describe('ARN of the managed policy set as permissions boundary of every derived IAM Role (ACK Role spec.permissionsBoundary): the most any service may get, whatever its Cedar permits.'),
      rolePath: z
        .string()
        .regex(/^\/([\x21-\x7e]*\/)?$/, 'must start and end with "/", e.g. /lattice/')
        .default('/lattice/')
        .describe('IAM path of the derived roles (default /lattice/), so a boundary or an SCP can name them.'),
    })
    .optional()
    .describe('AWS (EKS Pod Identity through AWS Controllers for Kubernetes).'),
  azure: z
    .strictObject({
      oidcIssuer: z
        .url({ protocol: /^https$/, error: 'must be the https URL of the cluster\'s OIDC issuer (az aks show --query oidcIssuerProfile.issuerUrl)' })
        .optional()
        .describe('OIDC issuer URL of the cluster (FederatedIdentityCredential spec.issuer). Required by services with cloudAccess.azure.'),
      resourceGroupId: z
        .string()
        .regex(/^\/subscriptions\/[^/\s]+\/resourceGroups\/[^/\s]+$/, 'must be a resource group ARM id: /subscriptions/<id>/resourceGroups/<name>')
        .optional()
        .describe('ARM id of the resource group the managed identities are created in (UserAssignedIdentity spec.owner.armId). Required by services with cloudAccess.azure.'),
      location: z
        .string()
        .regex(/^[a-z0-9]+$/, 'must be an Azure region name such as westeurope')
        .optional()
        .describe('Azure region of the managed identities (UserAssignedIdentity spec.location). Required by services with cloudAccess.azure.'),
    })
    .optional()
    .describe('Azure (Workload Identity through Azure Service Operator v2).'),
});

/** The settings, with defaults. */
export const latticePlatformSpecSchema = z.strictObject({
  mesh: meshSettingsSchema
    .prefault({})
    .describe('Service mesh and network policy settings: trust domain, Istio namespace, namespaces left out of the default deny, cluster DNS.'),
  clusterDomain: z
    .string()
    .default('cluster.local')
    .describe('DNS suffix of the cluster, used for service host names (<name>.<namespace>.svc.<clusterDomain>).'),
  platformContact: z
    .string()
    .default('the platform team')
    .describe('Who developers ask when the platform refuses something and no owner is known, e.g. "#platform on Slack".'),
  defaultVolumeSizeLimit: quantity
    .default('1Gi')
    .describe('Size limit of a scratch volume that declares none.'),
  podSecurityContext: z
    .strictObject({
      runAsUser: z.number().int().min(1).max(2147483647).default(65532)
        .describe('Numeric user id every container runs as unless it sets security.runAsUser (default 65532, the "nonroot" user of distroless images). Numeric because the kubelet refuses runAsNonRoot for an image whose USER is a name it cannot check.'),
      runAsGroup: z.number().int().min(1).max(2147483647).default(65532)
        .describe('Numeric primary group id of every container (default 65532).'),
      fsGroup: z.number().int().min(1).max(2147483647).default(65532)
        .describe('Supplementary group of every container that owns mounted volumes: the kubelet gives secret and config files this group and group read, so a file of mode 0400 or 0600 stays readable (default 65532).'),
    })
    .prefault({})
    .describe('Numeric user and group ids of every derived pod (pod securityContext runAsUser, runAsGroup, fsGroup).'),
  externalSecretWriters: z
    .array(z.string().min(1))
    .min(1)
    .default(['system:serviceaccount:lattice-system:lattice-controller'])
    .describe('Kubernetes user names allowed to create or change ExternalSecrets and PushSecrets that use a Lattice ClusterSecretStore (enforced by the derived ValidatingAdmissionPolicy lattice-secret-store-boundary). Default: the Lattice controller. With lattice render and GitOps, add the applier, e.g. system:serviceaccount:flux-system:kustomize-controller.'),
  imageTags: z
    .enum(['reject', 'resolve'])
    .default('reject')
    .describe('reject (default): images must be pinned by digest. resolve: a tag is resolved to its digest when the service is derived (by the controller; by lattice render only with --resolve-digests), and the Deployment carries the digest.'),
  protectedNamespaces: z
    .array(dnsLabel)
    .default(DEFAULT_PROTECTED_NAMESPACES)
    .describe('Namespaces where LatticeServices are refused (reason ProtectedNamespace): the platform components\' own. Lattice always adds lattice-system, mesh.systemNamespaces and the Istio, DNS and metrics scraper namespaces, whatever this list says. Add the gateways\' namespaces when they hold only gateways.'),
  partOf: z
    .string()
    .optional()
    .describe('Value of the app.kubernetes.io/part-of label on derived objects (default: the service namespace).'),
  prometheusAddress: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL, e.g. http://vmsingle.monitoring.svc:8429' })
    .optional()
    .describe('Prometheus-compatible query address KEDA reads service metrics from (autoscaling on a Prometheus metric), e.g. http://vmsingle.monitoring.svc:8429.'),
  gateways: z
    .strictObject({
      internal: gatewaySettingSchema.optional().describe('The Gateway of routes with exposure internal.'),
      public: gatewaySettingSchema.optional().describe('The internet-facing Gateway of routes with exposure public.'),
    })
    .optional()
    .describe('The Gateway API Gateways that service routes (spec.ingress) attach to.'),
  cloud: cloudSettingsSchema
    .optional()
    .describe('Cloud identity settings for services with spec.cloudAccess: the EKS cluster name and permissions boundary (AWS), the OIDC issuer, resource group and region (Azure).'),
  sizeProfiles: z
    .partialRecord(z.enum(SIZE_PROFILES), sizeProfileSchema)
    .optional()
    .describe('Redefinitions of the container size profiles (small, medium, large, xlarge), profile to requests and limits; profiles not listed keep their defaults.'),
});

/** A LatticePlatform document. */
export const latticePlatformSchema = refusePrototypeKeys(z.object({
  apiVersion: z.literal(API_VERSION).describe(`Always ${API_VERSION}.`),
  kind: z.literal(KIND).describe(`Always ${KIND}.`),
  metadata: objectMeta,
  spec: latticePlatformSpecSchema.default(latticePlatformSpecSchema.parse({})).describe('Platform settings.'),
}));

/** Platform settings with every default applied. */
export type PlatformSettings = z.output<typeof latticePlatformSpecSchema>;
/** Mesh and network policy settings, with defaults. */
export type MeshSettings = z.output<typeof meshSettingsSchema>;
/** Cloud identity settings. */
export type CloudSettings = z.output<typeof cloudSettingsSchema>;
/** One gateway setting. */
export type GatewaySetting = z.output<typeof gatewaySettingSchema>;
/** One size profile: requests and limits. */
export type SizeProfileSetting = z.output<typeof sizeProfileSchema>;

/** The scraper's identity with the VictoriaMetrics operator's defaults applied. */
export interface ScraperIdentity {
  namespace: string;
  serviceAccount: string;
  podLabels: Record<string, string>;
}

/**
 * Who the metrics scraper is: the settings, else what the VictoriaMetrics operator gives the pods of
 * VMAgent `vmAgent`: ServiceAccount `vmagent-<name>` (its `PrefixedName`, used when
 * `spec.serviceAccountName` is empty) and selector labels `app.kubernetes.io/name: vmagent`,
 * `app.kubernetes.io/instance: <name>` (operator source, api/operator/v1beta1/vmagent_types.go).
 */
export function scraperIdentity(mesh: MeshSettings): ScraperIdentity {
  const s = mesh.metricsScraper;
  return {
    namespace: s.namespace,
    serviceAccount: s.serviceAccount ?? `vmagent-${s.vmAgent}`,
    podLabels: s.podLabels ?? { 'app.kubernetes.io/name': 'vmagent', 'app.kubernetes.io/instance': s.vmAgent },
  };
}

/** The settings of a platform that declares no LatticePlatform. */
export function defaultPlatformSettings(): PlatformSettings {
  return latticePlatformSpecSchema.parse({});
}
