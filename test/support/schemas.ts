/**
 * Schema oracles: prove that an object Lattice derives is valid against the schema of the API that will
 * receive it, so a test fails when Lattice emits something a real cluster would reject or silently drop.
 *
 * `validateObject(obj)` dispatches on apiVersion + kind to one of three sources:
 *
 * 1. Built-in Kubernetes kinds: the `kubernetes-models` classes (generated from the Kubernetes OpenAPI
 *    spec); `validate()` checks types, enums and required fields.
 * 2. Third-party kinds with model packages: Istio (`@kubernetes-models/istio`, generated from Istio 1.29
 *    CRDs), External Secrets v1 (`@kubernetes-models/external-secrets` 2.x, generated from the ESO v1 Go
 *    API types), KEDA, Gateway API and cert-manager.
 * 3. Custom resources whose upstream CRD YAML is vendored in `test/upstream-schemas/` (Cilium, Tetragon,
 *    VictoriaMetrics, Volcano, Kthena; Flux as hand-transcribed excerpts; sources, commits and licences in its README): validated with ajv
 *    against `openAPIV3Schema` of the right version (see `structural.ts`; CEL `x-kubernetes-validations`
 *    are not evaluated).
 *
 * On top of each, every object gets:
 * - an unknown-field check. The model packages accept unknown fields and their validators are compiled
 *   code with no schema left to read, so unknown fields are found by walking the package's TypeScript
 *   declarations (`I<Kind>` interface) with the TypeScript compiler API; for CRD kinds the API server's
 *   pruning algorithm is replayed on the CRD schema. An unknown field is an error: the server drops it
 *   (custom resources, and built-ins without strict field validation) or rejects it (strict validation);
 * - the ObjectMeta rules the API server applies to every object (apimachinery
 *   `pkg/api/validation/objectmeta.go`): name present and in the kind's name format, namespace a DNS
 *   label and absent on cluster-scoped kinds, label keys/values and annotation keys well-formed,
 *   annotations at most 256 KiB in total;
 * - for model-package kinds, a check that no field is `null` (omit the field instead).
 *
 * Not covered: kind-specific API server validation that is not in the OpenAPI schema (for example port
 * ranges or container name uniqueness in a Deployment) and CEL rules in CRDs.
 */
import { AssertionError } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as TS from 'typescript';
import { parse as parseYaml } from 'yaml';
import { volcanoCronJobCrd } from './volcano-cronjob.ts';

import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1/Lease';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer';
import { Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer';
import { ClusterSecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore';
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import { SecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/SecretStore';
import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { ReferenceGrant } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import { GRPCRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/GRPCRoute';
import { TCPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRoute';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule';
import { ServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry';
import { Sidecar } from '@kubernetes-models/istio/networking.istio.io/v1/Sidecar';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication';
import { RequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication';
import { Telemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1/Telemetry';
import { ClusterTriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/ClusterTriggerAuthentication';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';

import {
  compileSchemaValidator,
  dns1035LabelProblems,
  dns1123LabelProblems,
  dns1123SubdomainProblems,
  formatAjvErrors,
  formatPath,
  labelValueProblems,
  pathSegmentNameProblems,
  pruningProblems,
  qualifiedNameProblems,
} from './structural.ts';

type Raw = Record<string, unknown>;

function isObject(x: unknown): x is Raw {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The format `metadata.name` must have for a kind (apimachinery and per-kind API validation). */
type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label' | 'path-segment';

/** A model class from a kubernetes-models package: construct with the object, `validate()` throws on errors. */
type ModelClass = new (data?: never) => { validate(): void };

interface ModelKind {
  source: 'model';
  apiVersion: string;
  kind: string;
  model: ModelClass;
  /** Module whose `I<Kind>` interface declares the object's fields, for the unknown-field walk. */
  typesModule: string;
  /** Package named in messages. */
  packageName: string;
  clusterScoped: boolean;
  nameRule: NameRule;
  /**
   * The apiVersion the model's schema is written for, when it is not `apiVersion`: the object is
   * validated with its apiVersion replaced by this one (see GRPCRoute v1 below).
   */
  schemaApiVersion?: string;
}

interface CrdKind {
  source: 'crd';
  apiVersion: string;
  kind: string;
  /** Path below the vendored schemas directory, test/upstream-schemas/. */
  file: string;
  /** Builds the CRD instead of reading `file` (a CRD composed from vendored parts; its module says how). */
  build?: (dir: string) => Raw;
}

const KM = 'kubernetes-models';

function model(
  apiVersion: string,
  kind: string,
  cls: unknown,
  typesModule: string,
  opts: { clusterScoped?: boolean; nameRule?: NameRule; schemaApiVersion?: string } = {},
): ModelKind {
  const packageName = typesModule.startsWith('@') ? typesModule.split('/').slice(0, 2).join('/') : typesModule.split('/')[0]!;
  return {
    ...(opts.schemaApiVersion === undefined ? {} : { schemaApiVersion: opts.schemaApiVersion }),
    source: 'model',
    apiVersion,
    kind,
    model: cls as ModelClass,
    typesModule,
    packageName,
    clusterScoped: opts.clusterScoped ?? false,
    nameRule: opts.nameRule ?? 'dns1123-subdomain',
  };
}

/**
 * Kinds validated through model packages. Name rules: Namespace names are DNS-1123 labels
 * (`ValidateNamespaceName`), Service names DNS-1035 labels (`ValidateServiceName`), RBAC names path
 * segments (`ValidateRBACName`); everything else, custom resources included, DNS-1123 subdomains.
 */
const MODEL_KINDS: ModelKind[] = [
  model('v1', 'ConfigMap', ConfigMap, `${KM}/v1/ConfigMap`),
  model('v1', 'Namespace', Namespace, `${KM}/v1/Namespace`, { clusterScoped: true, nameRule: 'dns1123-label' }),
  model('v1', 'PersistentVolumeClaim', PersistentVolumeClaim, `${KM}/v1/PersistentVolumeClaim`),
  model('v1', 'Secret', Secret, `${KM}/v1/Secret`),
  model('v1', 'ResourceQuota', ResourceQuota, `${KM}/v1/ResourceQuota`),
  model('v1', 'LimitRange', LimitRange, `${KM}/v1/LimitRange`),
  model('v1', 'Service', Service, `${KM}/v1/Service`, { nameRule: 'dns1035-label' }),
  model('v1', 'ServiceAccount', ServiceAccount, `${KM}/v1/ServiceAccount`),
  model('apps/v1', 'DaemonSet', DaemonSet, `${KM}/apps/v1/DaemonSet`),
  model('apps/v1', 'Deployment', Deployment, `${KM}/apps/v1/Deployment`),
  model('apps/v1', 'StatefulSet', StatefulSet, `${KM}/apps/v1/StatefulSet`),
  model('batch/v1', 'CronJob', CronJob, `${KM}/batch/v1/CronJob`),
  model('batch/v1', 'Job', Job, `${KM}/batch/v1/Job`),
  model('policy/v1', 'PodDisruptionBudget', PodDisruptionBudget, `${KM}/policy/v1/PodDisruptionBudget`),
  model('autoscaling/v2', 'HorizontalPodAutoscaler', HorizontalPodAutoscaler, `${KM}/autoscaling/v2/HorizontalPodAutoscaler`),
  model('rbac.authorization.k8s.io/v1', 'ClusterRole', ClusterRole, `${KM}/rbac.authorization.k8s.io/v1/ClusterRole`, { clusterScoped: true, nameRule: 'path-segment' }),
  model('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', ClusterRoleBinding, `${KM}/rbac.authorization.k8s.io/v1/ClusterRoleBinding`, {
    clusterScoped: true,
    nameRule: 'path-segment',
  }),
  model('rbac.authorization.k8s.io/v1', 'Role', Role, `${KM}/rbac.authorization.k8s.io/v1/Role`, { nameRule: 'path-segment' }),
  model('rbac.authorization.k8s.io/v1', 'RoleBinding', RoleBinding, `${KM}/rbac.authorization.k8s.io/v1/RoleBinding`, { nameRule: 'path-segment' }),
  model('coordination.k8s.io/v1', 'Lease', Lease, `${KM}/coordination.k8s.io/v1/Lease`),
  model('apiextensions.k8s.io/v1', 'CustomResourceDefinition', CustomResourceDefinition, `${KM}/apiextensions.k8s.io/v1/CustomResourceDefinition`, {
    clusterScoped: true,
  }),
  model('networking.k8s.io/v1', 'NetworkPolicy', NetworkPolicy, `${KM}/networking.k8s.io/v1/NetworkPolicy`),
  model('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', ValidatingAdmissionPolicy, `${KM}/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy`, { clusterScoped: true }),
  model('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', ValidatingAdmissionPolicyBinding, `${KM}/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding`, {
    clusterScoped: true,
  }),
  model('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', ValidatingWebhookConfiguration, `${KM}/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration`, {
    clusterScoped: true,
  }),
  model('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', MutatingWebhookConfiguration, `${KM}/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration`, {
    clusterScoped: true,
  }),

  model('security.istio.io/v1', 'AuthorizationPolicy', AuthorizationPolicy, '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy'),
  model('security.istio.io/v1', 'PeerAuthentication', PeerAuthentication, '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication'),
  model('security.istio.io/v1', 'RequestAuthentication', RequestAuthentication, '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication'),
  model('networking.istio.io/v1', 'DestinationRule', DestinationRule, '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule'),
  model('networking.istio.io/v1', 'ServiceEntry', ServiceEntry, '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry'),
  model('networking.istio.io/v1', 'Sidecar', Sidecar, '@kubernetes-models/istio/networking.istio.io/v1/Sidecar'),
  model('networking.istio.io/v1', 'VirtualService', VirtualService, '@kubernetes-models/istio/networking.istio.io/v1/VirtualService'),
  model('telemetry.istio.io/v1', 'Telemetry', Telemetry, '@kubernetes-models/istio/telemetry.istio.io/v1/Telemetry'),

  model('external-secrets.io/v1', 'ExternalSecret', ExternalSecret, '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret'),
  model('external-secrets.io/v1', 'SecretStore', SecretStore, '@kubernetes-models/external-secrets/external-secrets.io/v1/SecretStore'),
  model('external-secrets.io/v1', 'ClusterSecretStore', ClusterSecretStore, '@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore', {
    clusterScoped: true,
  }),

  model('keda.sh/v1alpha1', 'ScaledObject', ScaledObject, '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject'),
  model('keda.sh/v1alpha1', 'TriggerAuthentication', TriggerAuthentication, '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication'),
  model('keda.sh/v1alpha1', 'ClusterTriggerAuthentication', ClusterTriggerAuthentication, '@kubernetes-models/keda/keda.sh/v1alpha1/ClusterTriggerAuthentication', {
    clusterScoped: true,
  }),

  model('gateway.networking.k8s.io/v1', 'Gateway', Gateway, '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway'),
  model('gateway.networking.k8s.io/v1', 'HTTPRoute', HTTPRoute, '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute'),
  model('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant', ReferenceGrant, '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant'),
  // TCPRoute is experimental-channel v1alpha2 (Gateway API v1.0.0 experimental-install.yaml, which the
  // package is generated from).
  model('gateway.networking.k8s.io/v1alpha2', 'TCPRoute', TCPRoute, '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRoute'),
  // GRPCRoute v1 (standard channel since Gateway API v1.1) postdates the package, generated from v1.0.0,
  // which has GRPCRoute v1alpha2 only. Gateway API v1.1's experimental channel served v1alpha2 and v1
  // side by side without a conversion webhook (v1.1.0 release notes, "GRPCRoute has Graduated to GA"),
  // so the v1 object has the v1alpha2 schema: it is validated against that schema. Fields added to
  // GRPCRoute after v1.1 are unknown here (Lattice derives none).
  model('gateway.networking.k8s.io/v1', 'GRPCRoute', GRPCRoute, '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/GRPCRoute', { schemaApiVersion: 'gateway.networking.k8s.io/v1alpha2' }),

  model('cert-manager.io/v1', 'Certificate', Certificate, '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate'),
  model('cert-manager.io/v1', 'Issuer', Issuer, '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer'),
  model('cert-manager.io/v1', 'ClusterIssuer', ClusterIssuer, '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer', { clusterScoped: true }),
];

/** Custom resources validated against the upstream CRDs vendored in test/upstream-schemas/ (its README gives each file's source and commit). */
const CRD_KINDS: CrdKind[] = [
  { source: 'crd', apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', file: 'cilium/ciliumnetworkpolicies.yaml' },
  { source: 'crd', apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', file: 'cilium/ciliumclusterwidenetworkpolicies.yaml' },
  { source: 'crd', apiVersion: 'cilium.io/v1alpha1', kind: 'TracingPolicy', file: 'tetragon/cilium.io_tracingpolicies.yaml' },
  { source: 'crd', apiVersion: 'cilium.io/v1alpha1', kind: 'TracingPolicyNamespaced', file: 'tetragon/cilium.io_tracingpoliciesnamespaced.yaml' },
  { source: 'crd', apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMServiceScrape', file: 'victoriametrics/operator.victoriametrics.com_vmservicescrapes.yaml' },
  { source: 'crd', apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMPodScrape', file: 'victoriametrics/operator.victoriametrics.com_vmpodscrapes.yaml' },
  { source: 'crd', apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', file: 'victoriametrics/operator.victoriametrics.com_vmrules.yaml' },
  { source: 'crd', apiVersion: 'batch.volcano.sh/v1alpha1', kind: 'Job', file: 'volcano/batch.volcano.sh_jobs.yaml' },
  { source: 'crd', apiVersion: 'batch.volcano.sh/v1alpha1', kind: 'CronJob', file: 'volcano/batch.volcano.sh_jobs.yaml#CronJob', build: volcanoCronJobCrd },
  { source: 'crd', apiVersion: 'scheduling.volcano.sh/v1beta1', kind: 'PodGroup', file: 'volcano/scheduling.volcano.sh_podgroups.yaml' },
  { source: 'crd', apiVersion: 'scheduling.volcano.sh/v1beta1', kind: 'Queue', file: 'volcano/scheduling.volcano.sh_queues.yaml' },
  { source: 'crd', apiVersion: 'workload.serving.volcano.sh/v1alpha1', kind: 'ModelBooster', file: 'kthena/workload.serving.volcano.sh_modelboosters.yaml' },
  { source: 'crd', apiVersion: 'networking.serving.volcano.sh/v1alpha1', kind: 'ModelRoute', file: 'kthena/networking.serving.volcano.sh_modelroutes.yaml' },
  { source: 'crd', apiVersion: 'networking.serving.volcano.sh/v1alpha1', kind: 'ModelServer', file: 'kthena/networking.serving.volcano.sh_modelservers.yaml' },
  { source: 'crd', apiVersion: 'iam.services.k8s.aws/v1alpha1', kind: 'Role', file: 'ack/iam.services.k8s.aws_roles.yaml' },
  { source: 'crd', apiVersion: 'eks.services.k8s.aws/v1alpha1', kind: 'PodIdentityAssociation', file: 'ack/eks.services.k8s.aws_podidentityassociations.yaml' },
  // Flux: hand-transcribed excerpts (the README says what each keeps and drops).
  { source: 'crd', apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', file: 'flux/helm.toolkit.fluxcd.io_helmreleases.excerpt.yaml' },
  { source: 'crd', apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'HelmRepository', file: 'flux/source.toolkit.fluxcd.io_helmrepositories.excerpt.yaml' },
  { source: 'crd', apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', file: 'flux/source.toolkit.fluxcd.io_ocirepositories.excerpt.yaml' },
];

const REGISTRY = new Map<string, ModelKind | CrdKind>();
for (const k of [...MODEL_KINDS, ...CRD_KINDS]) {
  const key = `${k.apiVersion} ${k.kind}`;
  if (REGISTRY.has(key)) throw new Error(`schemas.ts: ${key} is registered twice`);
  REGISTRY.set(key, k);
}

/** Every `apiVersion kind` pair {@link validateObject} has a schema for, sorted. */
export function knownKinds(): string[] {
  return [...REGISTRY.keys()].sort();
}

// ---------------------------------------------------------------------------------------------
// Vendored upstream CRDs
// ---------------------------------------------------------------------------------------------

/**
 * The directory holding the vendored upstream CRDs, `test/upstream-schemas/` (absolute, with a trailing
 * slash; resolved from this file, so the working directory does not matter). Part of the repository, so a
 * fresh clone needs nothing beside it.
 */
export function upstreamSchemasDir(): string {
  return fileURLToPath(new URL('../upstream-schemas/', import.meta.url));
}

interface LoadedCrd {
  crd: Raw;
  version: string;
  schema: Raw;
  clusterScoped: boolean;
}

const crdCache = new Map<string, LoadedCrd>();

/** Reads and checks one vendored CRD; throws an Error saying what is missing or mismatched. */
function loadVendoredCrd(entry: CrdKind): LoadedCrd {
  const cached = crdCache.get(entry.file);
  if (cached) return cached;
  const dir = upstreamSchemasDir();
  const path = `${dir}${entry.file}`;
  if (entry.build) {
    const built = { ...crdVersion(entry.build(dir), entry.apiVersion.split('/')[1]!, path), crd: entry.build(dir) };
    crdCache.set(entry.file, built);
    return built;
  }
  if (!existsSync(path)) throw new Error(`upstream CRD ${entry.file} is missing from ${dir}: copy it from upstream and list it in ${dir}README.md`);
  const crd = parseYaml(readFileSync(path, 'utf8')) as unknown;
  if (!isObject(crd) || crd.kind !== 'CustomResourceDefinition') throw new Error(`${path} is not a CustomResourceDefinition`);
  const spec = isObject(crd.spec) ? crd.spec : {};
  const [group, version] = entry.apiVersion.includes('/') ? (entry.apiVersion.split('/') as [string, string]) : ['', entry.apiVersion];
  const names = isObject(spec.names) ? spec.names : {};
  if (spec.group !== group || names.kind !== entry.kind) {
    throw new Error(`${path} defines ${String(names.kind)} in group ${String(spec.group)}, not ${entry.kind} in ${group}`);
  }
  const loaded = { ...crdVersion(crd, version, path), crd };
  crdCache.set(entry.file, loaded);
  return loaded;
}

function crdVersion(crd: Raw, version: string, where: string): Omit<LoadedCrd, 'crd'> {
  const spec = isObject(crd.spec) ? crd.spec : {};
  const versions = Array.isArray(spec.versions) ? (spec.versions as unknown[]) : [];
  const v = versions.find((x): x is Raw => isObject(x) && x.name === version);
  if (!v) throw new Error(`${where} has no version ${version} (it has ${versions.map((x) => (isObject(x) ? String(x.name) : '?')).join(', ')})`);
  if (v.served === false) throw new Error(`${where}: version ${version} is not served, so the API server would reject objects of it`);
  const schema = isObject(v.schema) && isObject(v.schema.openAPIV3Schema) ? v.schema.openAPIV3Schema : undefined;
  if (!schema) throw new Error(`${where}: version ${version} has no openAPIV3Schema`);
  return { version, schema, clusterScoped: spec.scope === 'Cluster' };
}

// ---------------------------------------------------------------------------------------------
// Unknown fields from TypeScript declarations
// ---------------------------------------------------------------------------------------------

const require = createRequire(import.meta.url);
const THIS_FILE = fileURLToPath(import.meta.url);

interface TypeEnv {
  ts: typeof TS;
  options: TS.CompilerOptions;
  host: TS.CompilerHost;
  roots: string[];
}

let typeEnv: TypeEnv | undefined;
const declaredTypes = new Map<string, { checker: TS.TypeChecker; type: TS.Type }>();

function getTypeEnv(): TypeEnv {
  if (typeEnv) return typeEnv;
  // Loaded on first use: the compiler is large and only needed once an object is checked.
  const ts = require('typescript') as typeof TS;
  const options: TS.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    types: [],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const files = new Map<string, TS.SourceFile | undefined>();
  const original = host.getSourceFile.bind(host);
  // Share parsed declaration files between the programs built for different kinds.
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (!files.has(fileName)) files.set(fileName, original(fileName, languageVersion, onError, shouldCreate));
    return files.get(fileName);
  };
  typeEnv = { ts, options, host, roots: [] };
  return typeEnv;
}

/** The declared type of interface `I<kind>` in `moduleSpecifier`, with the checker that owns it. */
function declaredType(moduleSpecifier: string, kind: string): { checker: TS.TypeChecker; type: TS.Type } {
  const key = `${moduleSpecifier}#${kind}`;
  const cached = declaredTypes.get(key);
  if (cached) return cached;
  const env = getTypeEnv();
  const { ts } = env;
  const resolved = ts.resolveModuleName(moduleSpecifier, THIS_FILE, env.options, env.host, undefined, undefined, ts.ModuleKind.ESNext);
  const file = resolved.resolvedModule?.resolvedFileName;
  if (!file) throw new Error(`cannot find the type declarations of ${moduleSpecifier}`);
  if (!env.roots.includes(file)) env.roots.push(file);
  const program = ts.createProgram(env.roots, env.options, env.host);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  const exported = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === `I${kind}`);
  if (!exported) throw new Error(`${moduleSpecifier} does not export an interface I${kind}`);
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const result = { checker, type: checker.getDeclaredTypeOfSymbol(symbol) };
  declaredTypes.set(key, result);
  return result;
}

/** Splits unions and drops null/undefined. */
function constituents(ts: typeof TS, types: readonly TS.Type[]): TS.Type[] {
  const out: TS.Type[] = [];
  const add = (t: TS.Type) => {
    if (t.isUnion()) t.types.forEach(add);
    else if (!(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.Never))) out.push(t);
  };
  types.forEach(add);
  return out;
}

function arrayElements(ts: typeof TS, checker: TS.TypeChecker, t: TS.Type): TS.Type[] {
  if (checker.isArrayType(t)) return [...checker.getTypeArguments(t as TS.TypeReference).slice(0, 1)];
  if (checker.isTupleType(t)) return [...checker.getTypeArguments(t as TS.TypeReference)];
  if (t.isIntersection()) return t.types.flatMap((x) => arrayElements(ts, checker, x));
  return [];
}

/** A type that admits any object: any, unknown, `object`, a type parameter, or `{}` with no members. */
function isOpen(ts: typeof TS, checker: TS.TypeChecker, t: TS.Type): boolean {
  if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.NonPrimitive | ts.TypeFlags.TypeParameter)) return true;
  if (t.flags & ts.TypeFlags.Object && !checker.isArrayType(t) && !checker.isTupleType(t)) {
    return checker.getPropertiesOfType(t).length === 0 && checker.getIndexInfosOfType(t).length === 0;
  }
  return false;
}

function isObjectLike(ts: typeof TS, t: TS.Type): boolean {
  return (t.flags & ts.TypeFlags.Object) !== 0 || t.isIntersection();
}

/**
 * Reports the fields of `value` that none of `types` declares. Unions accept the fields of any member;
 * string index signatures (`{[key: string]: T}`) are open maps whose values are checked against T.
 */
function unknownFieldsByType(
  ts: typeof TS,
  checker: TS.TypeChecker,
  value: unknown,
  types: readonly TS.Type[],
  path: (string | number)[],
  where: string,
  out: string[],
): void {
  const flat = constituents(ts, types);
  if (flat.length === 0 || flat.some((t) => isOpen(ts, checker, t))) return;
  if (Array.isArray(value)) {
    const elements = flat.flatMap((t) => arrayElements(ts, checker, t));
    if (elements.length === 0) return;
    value.forEach((v, i) => unknownFieldsByType(ts, checker, v, elements, [...path, i], where, out));
    return;
  }
  if (!isObject(value)) return;
  const objects = flat.filter((t) => isObjectLike(ts, t) && arrayElements(ts, checker, t).length === 0);
  if (objects.length === 0) return;
  const props = new Map<string, TS.Type[]>();
  const index: TS.Type[] = [];
  for (const t of objects) {
    for (const p of checker.getPropertiesOfType(t)) {
      const list = props.get(p.name) ?? [];
      list.push(checker.getTypeOfSymbol(p));
      props.set(p.name, list);
    }
    const stringIndex = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    if (stringIndex) index.push(stringIndex.type);
  }
  for (const [k, v] of Object.entries(value)) {
    const known = props.get(k);
    if (known) unknownFieldsByType(ts, checker, v, known, [...path, k], where, out);
    else if (index.length > 0) unknownFieldsByType(ts, checker, v, index, [...path, k], where, out);
    else out.push(`${formatPath([...path, k])}: unknown field ${JSON.stringify(k)}: not in the ${where} schema; the API server would drop it (or reject it under strict field validation)`);
  }
}

/** The ObjectMeta type, taken from the `metadata` field of core v1 ConfigMap (identical for every kind). */
function objectMetaType(): { checker: TS.TypeChecker; types: TS.Type[] } {
  const { checker, type } = declaredType(`${KM}/v1/ConfigMap`, 'ConfigMap');
  const meta = checker.getPropertyOfType(type, 'metadata');
  if (!meta) throw new Error('kubernetes-models ConfigMap declares no metadata');
  return { checker, types: [checker.getTypeOfSymbol(meta)] };
}

// ---------------------------------------------------------------------------------------------
// ObjectMeta rules
// ---------------------------------------------------------------------------------------------

const NAME_RULES: Record<NameRule, (v: string) => string[]> = {
  'dns1123-subdomain': dns1123SubdomainProblems,
  'dns1123-label': dns1123LabelProblems,
  'dns1035-label': dns1035LabelProblems,
  'path-segment': pathSegmentNameProblems,
};
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/**
 * The ObjectMeta checks the API server applies to every object (apimachinery
 * `pkg/api/validation/objectmeta.go` and the per-kind name validators), plus unknown fields and field
 * types of metadata itself (checked through the kubernetes-models ObjectMeta declarations and validator).
 */
function objectMetaProblems(metadata: unknown, kind: string, clusterScoped: boolean, nameRule: NameRule, pathPrefix: (string | number)[] = ['metadata']): string[] {
  const out: string[] = [];
  const at = (...rest: (string | number)[]) => formatPath([...pathPrefix, ...rest]);
  if (metadata === undefined) return [`${at()}: Required value: every object needs metadata with a name`];
  if (!isObject(metadata)) return [`${at()}: must be an object`];
  const name = metadata.name;
  if (name === undefined && metadata.generateName === undefined) out.push(`${at('name')}: Required value: name or generateName is required`);
  if (typeof name === 'string') {
    for (const p of NAME_RULES[nameRule](name)) out.push(`${at('name')}: invalid ${kind} name ${JSON.stringify(name)}: ${p}`);
  }
  if (typeof metadata.namespace === 'string') {
    if (clusterScoped) {
      out.push(`${at('namespace')}: ${kind} is cluster-scoped, so the API server ignores and clears the namespace; remove it`);
    } else {
      for (const p of dns1123LabelProblems(metadata.namespace)) out.push(`${at('namespace')}: invalid namespace ${JSON.stringify(metadata.namespace)}: ${p}`);
    }
  }
  if (isObject(metadata.labels)) {
    for (const [k, v] of Object.entries(metadata.labels)) {
      for (const p of qualifiedNameProblems(k)) out.push(`${at('labels', k)}: invalid label key: ${p}`);
      if (typeof v === 'string') for (const p of labelValueProblems(v)) out.push(`${at('labels', k)}: invalid label value ${JSON.stringify(v)}: ${p}`);
    }
  }
  if (isObject(metadata.annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(metadata.annotations)) {
      for (const p of qualifiedNameProblems(k.toLowerCase())) out.push(`${at('annotations', k)}: invalid annotation key: ${p}`);
      size += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    }
    if (size > TOTAL_ANNOTATION_SIZE_LIMIT) out.push(`${at('annotations')}: Too long: annotations total ${size} bytes, the limit is ${TOTAL_ANNOTATION_SIZE_LIMIT}`);
  }
  return out;
}

/** ObjectMeta field types and unknown fields, for objects whose own schema leaves metadata open (custom resources). */
function objectMetaShapeProblems(metadata: unknown, pathPrefix: (string | number)[]): string[] {
  if (!isObject(metadata)) return [];
  const out: string[] = [];
  try {
    new ConfigMap({ metadata } as never).validate();
  } catch (err) {
    const errors = (err as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      for (const line of formatAjvErrors(errors, { metadata })) out.push(`${formatPath(pathPrefix)}${line.slice('metadata'.length)}`);
    } else out.push(`${formatPath(pathPrefix)}: ${(err as Error).message}`);
  }
  const env = getTypeEnv();
  const { checker, types } = objectMetaType();
  unknownFieldsByType(env.ts, checker, metadata, types, pathPrefix, 'ObjectMeta', out);
  return out;
}

function nullProblems(value: unknown, path: (string | number)[], out: string[]): void {
  if (value === null) {
    out.push(`${formatPath(path)}: null value: omit the field instead (null means "unset" to the API server, and custom resources reject or drop it)`);
  } else if (Array.isArray(value)) value.forEach((v, i) => nullProblems(v, [...path, i], out));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) nullProblems(v, [...path, k], out);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function modelProblems(entry: ModelKind, obj: Raw): string[] {
  const out: string[] = [];
  try {
    new entry.model((entry.schemaApiVersion === undefined ? obj : { ...obj, apiVersion: entry.schemaApiVersion }) as never).validate();
  } catch (err) {
    const errors = (err as { errors?: unknown }).errors;
    if (Array.isArray(errors)) out.push(...formatAjvErrors(errors, obj));
    else out.push(`(root): ${entry.packageName} rejected the object: ${(err as Error).message}`);
  }
  nullProblems(obj, [], out);
  out.push(...objectMetaProblems(obj.metadata, entry.kind, entry.clusterScoped, entry.nameRule));
  try {
    const { checker, type } = declaredType(entry.typesModule, entry.kind);
    unknownFieldsByType(getTypeEnv().ts, checker, obj, [type], [], `${entry.apiVersion} ${entry.kind} (${entry.packageName})`, out);
  } catch (err) {
    out.push(`(root): could not check for unknown fields: ${(err as Error).message}`);
  }
  return [...new Set(out)];
}

function customResourceProblems(loaded: Omit<LoadedCrd, 'crd'>, obj: Raw, kind: string): string[] {
  const out: string[] = [];
  let validate: (value: unknown) => string[];
  try {
    validate = compileSchemaValidator(loaded.schema);
  } catch (err) {
    return [`(root): the ${kind} schema could not be compiled for validation: ${(err as Error).message}`];
  }
  out.push(...validate(obj));
  out.push(
    ...pruningProblems(obj, loaded.schema, {
      isResourceRoot: true,
      checkEmbeddedMetadata: (meta, path) => [...objectMetaProblems(meta, 'embedded resource', false, 'dns1123-subdomain', path).filter((p) => !p.includes('Required value')), ...objectMetaShapeProblems(meta, path)],
    }),
  );
  out.push(...objectMetaProblems(obj.metadata, kind, loaded.clusterScoped, 'dns1123-subdomain'));
  out.push(...objectMetaShapeProblems(obj.metadata, ['metadata']));
  return [...new Set(out)];
}

/**
 * Validates a custom resource against any CRD object (for example one of Lattice's own generated CRDs),
 * the way the API server would: the served version named by `obj.apiVersion`, value validation and
 * defaults ({@link compileSchemaValidator}), pruned fields as errors ({@link pruningProblems}) and the
 * ObjectMeta rules. Returns `<field path>: <message>` lines; empty when valid. CEL rules are not evaluated.
 */
export function validateAgainstCrd(crd: object, obj: object): string[] {
  const c = crd as Raw;
  const o = obj as Raw;
  const spec = isObject(c.spec) ? c.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const [group, version] = apiVersion.split('/');
  if (group !== spec.group || version === undefined) return [`apiVersion: must be ${String(spec.group)}/<version> for this CRD (got ${JSON.stringify(o.apiVersion)})`];
  if (o.kind !== names.kind) return [`kind: must be ${String(names.kind)} for this CRD (got ${JSON.stringify(o.kind)})`];
  let loaded: Omit<LoadedCrd, 'crd'>;
  try {
    loaded = crdVersion(c, version, `CRD ${String(isObject(c.metadata) ? c.metadata.name : '?')}`);
  } catch (err) {
    return [`apiVersion: ${(err as Error).message}`];
  }
  return customResourceProblems(loaded, o, String(names.kind));
}

/**
 * Validates a Kubernetes object against the upstream schema of its apiVersion and kind and returns the
 * problems as human-readable lines `<field path>: <what is wrong>` (for example
 * `spec.replicas: must be of type integer (got string)` or
 * `spec.bogus: unknown field "bogus": ...`); an empty list means valid. Never throws for bad input:
 * a non-object, a missing apiVersion/kind, or a kind without a registered schema
 * (`no schema known for <apiVersion> <kind>`) are reported as problems, so nothing passes silently.
 * Values are never echoed (only their types), so Secret data cannot leak into test output.
 * See the module comment for what is and is not checked; {@link knownKinds} lists the kinds.
 */
export function validateObject(obj: { apiVersion: string; kind: string }): string[] {
  const o: unknown = obj;
  if (!isObject(o)) return [`(root): must be a Kubernetes object (a mapping with apiVersion and kind), got ${Array.isArray(o) ? 'array' : o === null ? 'null' : typeof o}`];
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') return ['apiVersion: Required value: every Kubernetes object needs an apiVersion'];
  if (typeof o.kind !== 'string' || o.kind === '') return ['kind: Required value: every Kubernetes object needs a kind'];
  const entry = REGISTRY.get(`${o.apiVersion} ${o.kind}`);
  if (!entry) {
    return [
      `no schema known for ${o.apiVersion} ${o.kind}: add a kubernetes-models class or a vendored upstream CRD for it in test/support/schemas.ts ` +
        '(or fix the apiVersion/kind if it is a typo)',
    ];
  }
  if (entry.source === 'model') return modelProblems(entry, o);
  let loaded: LoadedCrd;
  try {
    loaded = loadVendoredCrd(entry);
  } catch (err) {
    return [`(root): cannot validate ${o.apiVersion} ${o.kind}: ${(err as Error).message}`];
  }
  return customResourceProblems(loaded, o, entry.kind);
}

function describeObject(obj: unknown): string {
  if (!isObject(obj)) return 'object';
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '<unnamed>';
  const ns = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
  return `${String(obj.kind ?? '<no kind>')} ${JSON.stringify(ns + name)} (${String(obj.apiVersion ?? '<no apiVersion>')})`;
}

/**
 * Asserts that {@link validateObject} finds no problem; otherwise throws an `AssertionError` whose
 * message names the object (`Deployment "ns/web" (apps/v1)`) and lists every problem on its own line.
 */
export function assertValid(obj: { apiVersion: string; kind: string }): void {
  const problems = validateObject(obj);
  if (problems.length === 0) return;
  throw new AssertionError({
    message: `${describeObject(obj)} is not valid against its upstream schema:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    actual: problems,
    expected: [],
    operator: 'assertValid',
  });
}
