/**
 * Cloud identity: the objects that give a service's pods the cloud permissions of its
 * `spec.cloudAccess`. Lattice makes no cloud API call: it derives custom resources that a cloud
 * controller in the cluster reconciles, and only after the Cedar gate allowed every permission
 * (action `AccessCloud`, src/policy/requests.ts; a denial stops the whole derivation).
 *
 * **AWS** (EKS Pod Identity, through AWS Controllers for Kubernetes):
 * - `Role` (`iam.services.k8s.aws/v1alpha1`, ACK iam-controller `apis/v1alpha1/role.go`): `spec.name`
 *   (required; `<clusterName>-<namespace>-<service>`, cut with a hash to IAM's 64 characters), `spec.path`
 *   (LatticePlatform `spec.cloud.aws.rolePath`), `spec.assumeRolePolicyDocument` (required; a JSON
 *   string: the trust policy EKS Pod Identity needs, principal service `pods.eks.amazonaws.com`,
 *   actions `sts:AssumeRole` and `sts:TagSession`, docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html),
 *   `spec.inlinePolicies` (map of policy name to JSON document: one statement per entry of
 *   `cloudAccess.aws`), `spec.permissionsBoundary` (LatticePlatform `spec.cloud.aws.permissionsBoundary`).
 * - `PodIdentityAssociation` (`eks.services.k8s.aws/v1alpha1`, ACK eks-controller
 *   `apis/v1alpha1/pod_identity_association.go`): `spec.clusterName` (LatticePlatform
 *   `spec.cloud.aws.clusterName`), `spec.namespace` and `spec.serviceAccount` (both required: the
 *   service's ServiceAccount), `spec.roleRef.from.name` (ACK's AWSResourceReferenceWrapper: the Role
 *   above, so ACK resolves its ARN once the role exists).
 * - The pods need nothing more: the EKS Pod Identity webhook adds the token volume and environment to
 *   pods whose ServiceAccount has an association, and the SDKs fetch credentials from the Pod Identity
 *   agent on 169.254.170.23:80 (allowed by the CiliumNetworkPolicy, {@link cloudEgress}).
 *
 * **Azure** (Microsoft Entra Workload ID, through Azure Service Operator v2):
 * - `UserAssignedIdentity` (`managedidentity.azure.com/v1api20230131`): `spec.owner.armId`
 *   (LatticePlatform `spec.cloud.azure.resourceGroupId`), `spec.location`, `spec.azureName`
 *   (`lattice-<namespace>-<service>`), and `spec.operatorSpec.configMaps` exporting `clientId`,
 *   `principalId` and `tenantId` into ConfigMap `<service>-azure-identity` (ASO creates and owns it).
 * - `FederatedIdentityCredential` (same group): `spec.owner.name` (the identity), `spec.issuer`
 *   (LatticePlatform `spec.cloud.azure.oidcIssuer`), `spec.subject`
 *   `system:serviceaccount:<namespace>:<service>`, `spec.audiences` `[api://AzureADTokenExchange]`
 *   (ASO samples v2/samples/managedidentity/v1api20230131).
 * - `RoleAssignment` (`authorization.azure.com/v1api20220401`), one per role and scope:
 *   `spec.owner.armId` (the scope: a role assignment is an extension resource of it),
 *   `spec.principalIdFromConfig` (the identity's exported `principalId`), `spec.principalType`
 *   `ServicePrincipal`, `spec.roleDefinitionReference` (`wellKnownName` for a role name, `armId` for a
 *   role definition id). `spec.azureName` (a GUID) is left to ASO, which generates a stable one.
 * - The pods: label `azure.workload.identity/use: "true"` (the Workload Identity webhook mutates only
 *   labelled pods and adds the token file, `AZURE_TENANT_ID` and `AZURE_AUTHORITY_HOST`), and
 *   `AZURE_CLIENT_ID` on every container read from the exported ConfigMap (`configMapKeyRef`). The
 *   ServiceAccount annotation `azure.workload.identity/client-id` is **not** written: its value (the
 *   identity's client id) exists only once Azure created the identity, and an annotation cannot
 *   reference a ConfigMap. The webhook keeps an `AZURE_CLIENT_ID` the container already sets, and the
 *   Azure SDKs' WorkloadIdentityCredential reads that variable. Until ASO exported the ConfigMap, the
 *   kubelet holds the containers in CreateContainerConfigError and retries: the pods start once the
 *   identity exists.
 */
import { createHash } from 'node:crypto';
import type { CloudAccess, LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { PLATFORM_CONDITION } from '../service/autoscaling.ts';
import { derivedMeta, namespaceOf } from '../meta.ts';
import { childName } from '../naming.ts';
import type { DerivationState, Diagnostic, KubeObject } from '../types.ts';

/** The EKS Pod Identity agent's address and port on every node (docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-setup.html). */
export const EKS_POD_IDENTITY_AGENT = { cidr: '169.254.170.23/32', port: 80 } as const;
/** Microsoft Entra's token endpoint host (Azure public cloud; the webhook's default AZURE_AUTHORITY_HOST). */
export const ENTRA_TOKEN_HOST = 'login.microsoftonline.com';
/** The service principal EKS Pod Identity assumes roles as. */
export const EKS_POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';
/** Audience of a Workload Identity federated credential (learn.microsoft.com, workload identity federation). */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
/** Pod label that makes the Azure Workload Identity webhook mutate a pod. */
export const AZURE_USE_LABEL = 'azure.workload.identity/use';
/** Name of the inline policy of a derived IAM Role. */
export const INLINE_POLICY_NAME = 'lattice-cloud-access';

/** Name of the ConfigMap ASO exports the managed identity's ids into. */
export function azureIdentityConfigMap(service: string): string {
  return childName([service, 'azure-identity']);
}

/**
 * The IAM role name of a service: `<clusterName>-<namespace>-<service>`, at most 64 characters (IAM's
 * limit; a longer name is cut and given a hash). Role names are unique per AWS account whatever their
 * path, so the cluster name keeps two clusters of one account (staging, prod) from claiming one role.
 */
export function awsRoleName(clusterName: string, namespace: string, service: string): string {
  return childName([clusterName, namespace, service], 64);
}

/** The IAM trust policy of a role EKS Pod Identity assumes, as the JSON string ACK wants. */
export function podIdentityTrustPolicy(): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: EKS_POD_IDENTITY_PRINCIPAL }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
  });
}

/** The inline permissions policy of a role: one Allow statement per entry of `cloudAccess.aws`. */
export function awsPermissionsPolicy(aws: NonNullable<CloudAccess['aws']>): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: aws.map((p, i) => ({ Sid: `LatticeCloudAccess${i}`, Effect: 'Allow', Action: [...p.actions], Resource: [...p.resources] })),
  });
}

/**
 * Egress the pods of a service with `cloudAccess` need, for the CiliumNetworkPolicy (mesh.ts):
 * AWS: the Pod Identity agent (`toCIDR` 169.254.170.23/32 and `toEntities: [host]`, TCP 80; see
 * below why both); Azure: the Entra token endpoint
 * (`toFQDNs` login.microsoftonline.com, TCP 443), with its name in `names` for the DNS rule. Nothing
 * without cloudAccess.
 */
export function cloudEgress(service: LatticeService): { names: string[]; rules: Record<string, unknown>[] } {
  const access = service.spec.cloudAccess;
  const names: string[] = [];
  const rules: Record<string, unknown>[] = [];
  if (access?.aws) {
    const toPorts = [{ ports: [{ port: String(EKS_POD_IDENTITY_AGENT.port), protocol: 'TCP' }] }];
    rules.push({ toCIDR: [EKS_POD_IDENTITY_AGENT.cidr], toPorts });
    // The agent runs on the host network and its address is local to the node, so Cilium usually
    // gives it the `host` identity, which CIDR rules never match (cilium/cilium#34387: Hubble shows
    // 169.254.170.23:80 as (host), denied); with BPF host routing in some versions it is `world`
    // (cilium/cilium#35989), which the CIDR rule matches. Both rules, on TCP 80 only.
    rules.push({ toEntities: ['host'], toPorts });
  }
  if (access?.azure) {
    names.push(ENTRA_TOKEN_HOST);
    rules.push({ toFQDNs: [{ matchName: ENTRA_TOKEN_HOST }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] });
  }
  return { names, rules };
}

function missingSetting(state: DerivationState, provider: 'aws' | 'azure', fields: string[]): void {
  const d: Diagnostic = {
    severity: 'error',
    condition: PLATFORM_CONDITION,
    reason: 'CloudIdentityNotConfigured',
    path: `spec.cloudAccess.${provider}`,
    message:
      `spec.cloudAccess.${provider} needs LatticePlatform ${fields.map((f) => `spec.cloud.${provider}.${f}`).join(', ')}, which ${fields.length === 1 ? 'is' : 'are'} not set, so no ${provider === 'aws' ? 'IAM role or Pod Identity association' : 'managed identity or role assignment'} can be derived. ` +
      `Ask ${state.ctx.settings.platformContact} to set ${fields.length === 1 ? 'it' : 'them'}, or remove spec.cloudAccess.${provider}.`,
  };
  const location = state.input.locate?.(['spec', 'cloudAccess', provider]);
  if (location) d.location = location;
  state.diagnostics.push(d);
}

/**
 * Derives the cloud identity objects of a service with `spec.cloudAccess` (see the module doc), and
 * wires its pods for Azure. A missing platform setting is an error (condition PlatformSupported,
 * reason CloudIdentityNotConfigured) naming the LatticePlatform field to set. Runs after workload.ts.
 */
export function deriveCloud(state: DerivationState): void {
  const access = state.service.spec.cloudAccess;
  if (!access) return;
  const aws = state.ctx.settings.cloud?.aws;
  const azure = state.ctx.settings.cloud?.azure;
  if (access.aws && !aws?.clusterName) missingSetting(state, 'aws', ['clusterName']);
  if (access.azure) {
    const missing = (['oidcIssuer', 'resourceGroupId', 'location'] as const).filter((f) => !azure?.[f]);
    if (missing.length > 0) missingSetting(state, 'azure', missing);
  }
  if (state.diagnostics.some((d) => d.reason === 'CloudIdentityNotConfigured')) return;
  if (access.aws && aws?.clusterName) state.objects.push(...awsObjects(state, access.aws, { ...aws, clusterName: aws.clusterName }));
  if (access.azure && azure?.oidcIssuer && azure.resourceGroupId && azure.location) {
    state.objects.push(...azureObjects(state, access.azure, { oidcIssuer: azure.oidcIssuer, resourceGroupId: azure.resourceGroupId, location: azure.location }));
    wireAzurePods(state);
  }
}

function awsObjects(state: DerivationState, aws: NonNullable<CloudAccess['aws']>, settings: { clusterName: string; permissionsBoundary?: string; rolePath: string }): KubeObject[] {
  const name = state.service.metadata.name;
  const namespace = namespaceOf(state);
  const roleSpec: Record<string, unknown> = {
    name: awsRoleName(settings.clusterName, namespace, name),
    path: settings.rolePath,
    description: `Lattice: cloud access of LatticeService ${namespace}/${name}`,
    assumeRolePolicyDocument: podIdentityTrustPolicy(),
    inlinePolicies: { [INLINE_POLICY_NAME]: awsPermissionsPolicy(aws) },
  };
  if (settings.permissionsBoundary) roleSpec.permissionsBoundary = settings.permissionsBoundary;
  return [
    { apiVersion: 'iam.services.k8s.aws/v1alpha1', kind: 'Role', metadata: derivedMeta(state, name), spec: roleSpec },
    {
      apiVersion: 'eks.services.k8s.aws/v1alpha1',
      kind: 'PodIdentityAssociation',
      metadata: derivedMeta(state, name),
      spec: { clusterName: settings.clusterName, namespace, serviceAccount: name, roleRef: { from: { name } } },
    },
  ];
}

function azureObjects(state: DerivationState, roles: NonNullable<CloudAccess['azure']>, settings: { oidcIssuer: string; resourceGroupId: string; location: string }): KubeObject[] {
  const name = state.service.metadata.name;
  const namespace = namespaceOf(state);
  const configMap = azureIdentityConfigMap(name);
  const out: KubeObject[] = [
    {
      apiVersion: 'managedidentity.azure.com/v1api20230131',
      kind: 'UserAssignedIdentity',
      metadata: derivedMeta(state, name),
      spec: {
        azureName: childName(['lattice', namespace, name], 128),
        location: settings.location,
        owner: { armId: settings.resourceGroupId },
        operatorSpec: {
          configMaps: {
            clientId: { name: configMap, key: 'clientId' },
            principalId: { name: configMap, key: 'principalId' },
            tenantId: { name: configMap, key: 'tenantId' },
          },
        },
      },
    },
    {
      apiVersion: 'managedidentity.azure.com/v1api20230131',
      kind: 'FederatedIdentityCredential',
      metadata: derivedMeta(state, name),
      spec: {
        owner: { name },
        issuer: settings.oidcIssuer,
        subject: `system:serviceaccount:${namespace}:${name}`,
        audiences: [AZURE_TOKEN_EXCHANGE_AUDIENCE],
      },
    },
  ];
  const seen = new Set<string>();
  for (const r of roles) {
    for (const scope of r.scopes) {
      const key = `${r.role}\u0000${scope}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
      out.push({
        apiVersion: 'authorization.azure.com/v1api20220401',
        kind: 'RoleAssignment',
        metadata: derivedMeta(state, childName([name, 'role', hash])),
        spec: {
          owner: { armId: scope },
          principalIdFromConfig: { name: configMap, key: 'principalId' },
          principalType: 'ServicePrincipal',
          roleDefinitionReference: r.role.startsWith('/') ? { armId: r.role } : { wellKnownName: r.role },
        },
      });
    }
  }
  return out;
}

/** Adds the Workload Identity pod label and AZURE_CLIENT_ID (from the exported ConfigMap) to the Deployment of workload.ts. */
function wireAzurePods(state: DerivationState): void {
  const configMap = azureIdentityConfigMap(state.service.metadata.name);
  for (const o of state.objects) {
    if (o.kind !== 'Deployment' || o.apiVersion !== 'apps/v1') continue;
    const template = (o.spec as { template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: { env?: unknown[] }[] } } } | undefined)?.template;
    if (!template) continue;
    template.metadata ??= {};
    template.metadata.labels = { ...template.metadata.labels, [AZURE_USE_LABEL]: 'true' };
    for (const c of template.spec?.containers ?? []) {
      c.env = [...(c.env ?? []), { name: 'AZURE_CLIENT_ID', valueFrom: { configMapKeyRef: { name: configMap, key: 'clientId' } } }];
    }
  }
}
