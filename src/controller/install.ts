/**
 * The manifests that install the operator, printed by `lattice install` so that
 * `lattice install | kubectl apply -f -` is the whole install:
 *
 * 1. Namespace `lattice-system`, enforcing the "restricted" Pod Security Standard;
 * 2. the CustomResourceDefinitions of every Lattice kind (`allCrds()`);
 * 3. ServiceAccount `lattice-controller`;
 * 4. ClusterRole + ClusterRoleBinding: least privilege, generated from the tables of what the
 *    controller reads and derives (src/controller/resources.ts), so a kind added there is granted here;
 * 5. Role + RoleBinding in lattice-system for the leader election Lease only;
 * 6. Deployment: 2 replicas (one leads, one stands by), restricted security context, read-only root
 *    filesystem with an emptyDir at /tmp (Node.js keeps its compile cache there; see bin/lattice.js), probes on
 *    /healthz and /readyz, spread over nodes;
 * 7. Service `lattice-controller-metrics` for Prometheus (port 8080, /metrics);
 * 8. the CRD conversion webhook (src/controller/conversion.ts): Service `lattice-controller-webhook`
 *    (443 to the pods' 9443), a self-signed cert-manager `Issuer` and the serving `Certificate` for
 *    `lattice-controller-webhook.lattice-system.svc`, whose Secret the pods mount read-only; cert-manager's
 *    CA injector copies its CA into the CRDs (annotation `cert-manager.io/inject-ca-from`). cert-manager is
 *    part of the target cluster (GUIDE: "The target cluster").
 *
 * Objects are in apply order: the namespace and CRDs before what lives in them.
 */
import { PLATFORM_NAMESPACE } from '../api/common.ts';
import { CONVERSION_WEBHOOK } from '../api/constants.ts';
import { allCrds } from '../api/crd.ts';
import { DERIVED_KINDS, READ_KINDS, groupOf, latticeResourceTypes, workloadResourceTypes, type ResourceType } from './resources.ts';
import { KINDS } from '../api/kinds.ts';

/** Name of the ServiceAccount, roles, bindings, Deployment and Lease. */
export const CONTROLLER_NAME = 'lattice-controller';
/** Port of /healthz, /readyz and /metrics. */
export const METRICS_PORT = 8080;
/** Where the pods mount the webhook's serving certificate (`tls.crt`, `tls.key`). */
export const WEBHOOK_CERT_DIR = '/var/run/lattice/webhook-tls';
/** UID the image runs as (Dockerfile `USER`); numeric so the kubelet can check runAsNonRoot. */
export const CONTROLLER_UID = 10001;

/** Options of {@link installManifests}. */
export interface InstallOptions {
  /** Operator image (`registry/repository:tag` or `@sha256:` digest). */
  image: string;
  /** Replicas of the Deployment (default 2). */
  replicas?: number;
  /** Extra arguments for `lattice controller` (e.g. `--log-level=debug`). */
  extraArgs?: string[];
  /** Version label value. */
  version?: string;
}

/** One RBAC policy rule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

function labels(version: string | undefined): Record<string, string> {
  const l: Record<string, string> = { 'app.kubernetes.io/name': 'lattice', 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/part-of': 'lattice' };
  if (version) l['app.kubernetes.io/version'] = version;
  return l;
}

/** Groups resource types by API group into rules with the same verbs, groups and resources sorted. */
function rulesFor(types: readonly ResourceType[], verbs: string[]): PolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const t of types) {
    const g = groupOf(t.apiVersion);
    (byGroup.get(g) ?? byGroup.set(g, new Set()).get(g)!).add(t.plural);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([g, resources]) => ({ apiGroups: [g], resources: [...resources].sort(), verbs }));
}

/**
 * The ClusterRole's rules, exactly what the controller does:
 * - Lattice kinds and Namespaces: list, watch (informers);
 * - `latticeservices/status`: patch (status writes);
 * - `latticeservices/finalizers`: update, required to set `blockOwnerDeletion` on owner references
 *   where the OwnerReferencesPermissionEnforcement admission plugin is enabled;
 * - every derived kind: create and patch (server-side apply creates or updates), get (before
 *   applying, an existing object of the derived name must carry Lattice's ownership marker: Lattice
 *   never adopts another manager's object), list (the prune scan) and delete (prune);
 * - events.k8s.io Events: create.
 * No `get` on anything else (the controller reads its inputs from caches), no Secrets, nothing else.
 */
export function clusterRoleRules(): PolicyRule[] {
  const lattice = latticeResourceTypes();
  const statusKinds = workloadResourceTypes(KINDS).map((k) => k.plural);
  return [
    ...rulesFor([...lattice, ...READ_KINDS], ['list', 'watch']),
    { apiGroups: [groupOf(lattice[0]!.apiVersion)], resources: statusKinds.map((p) => `${p}/status`), verbs: ['patch'] },
    { apiGroups: [groupOf(lattice[0]!.apiVersion)], resources: statusKinds.map((p) => `${p}/finalizers`), verbs: ['update'] },
    ...rulesFor(DERIVED_KINDS, ['create', 'delete', 'get', 'list', 'patch']),
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
  ];
}

/** The Role's rules in lattice-system: the leader election Lease (create it; get and update only that one). */
export function leaseRoleRules(leaseName = CONTROLLER_NAME): PolicyRule[] {
  return [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: [leaseName] },
  ];
}

/** Every object of the install, in apply order. */
export function installManifests(opts: InstallOptions): Record<string, unknown>[] {
  const ns = PLATFORM_NAMESPACE;
  const meta = (name: string, namespaced = true): Record<string, unknown> => ({ name, ...(namespaced ? { namespace: ns } : {}), labels: labels(opts.version) });
  const selector = { 'app.kubernetes.io/name': 'lattice', 'app.kubernetes.io/component': 'controller' };
  const args = [
    'controller', `--listen=:${METRICS_PORT}`, '--identity=$(POD_NAME)', `--lease-namespace=${ns}`, `--lease-name=${CONTROLLER_NAME}`,
    `--webhook-listen=:${CONVERSION_WEBHOOK.containerPort}`, `--webhook-cert-dir=${WEBHOOK_CERT_DIR}`, ...(opts.extraArgs ?? []),
  ];
  const webhookHost = `${CONVERSION_WEBHOOK.service}.${CONVERSION_WEBHOOK.namespace}.svc`;
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ns,
        labels: {
          ...labels(opts.version),
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
    ...allCrds(),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(CONTROLLER_NAME), automountServiceAccountToken: true },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(CONTROLLER_NAME, false), rules: clusterRoleRules() },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(CONTROLLER_NAME, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CONTROLLER_NAME },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_NAME, namespace: ns }],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(`${CONTROLLER_NAME}-leader-election`), rules: leaseRoleRules() },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(`${CONTROLLER_NAME}-leader-election`),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${CONTROLLER_NAME}-leader-election` },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_NAME, namespace: ns }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(CONTROLLER_NAME),
      spec: {
        replicas: opts.replicas ?? 2,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        template: {
          metadata: { labels: { ...labels(opts.version), ...selector } },
          spec: {
            serviceAccountName: CONTROLLER_NAME,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 40,
            securityContext: { runAsNonRoot: true, runAsUser: CONTROLLER_UID, runAsGroup: CONTROLLER_UID, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'controller',
                image: opts.image,
                args,
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'NODE_ENV', value: 'production' },
                ],
                ports: [
                  { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
                  { name: 'webhook', containerPort: CONVERSION_WEBHOOK.containerPort, protocol: 'TCP' },
                ],
                livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 10, failureThreshold: 3 },
                readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 5, failureThreshold: 2 },
                startupProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 2, failureThreshold: 30 },
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
                securityContext: {
                  runAsNonRoot: true,
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'webhook-tls', mountPath: WEBHOOK_CERT_DIR, readOnly: true }],
                terminationMessagePolicy: 'FallbackToLogsOnError',
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }, { name: 'webhook-tls', secret: { secretName: CONVERSION_WEBHOOK.certificate } }],
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(`${CONTROLLER_NAME}-metrics`),
      spec: { type: 'ClusterIP', selector, ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(CONVERSION_WEBHOOK.service),
      spec: { type: 'ClusterIP', selector, ports: [{ name: 'webhook', port: CONVERSION_WEBHOOK.port, targetPort: 'webhook', protocol: 'TCP' }] },
    },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: meta(`${CONTROLLER_NAME}-selfsigned`),
      spec: { selfSigned: {} },
    },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(CONVERSION_WEBHOOK.certificate),
      spec: {
        secretName: CONVERSION_WEBHOOK.certificate,
        commonName: webhookHost,
        dnsNames: [webhookHost, `${webhookHost}.cluster.local`],
        issuerRef: { kind: 'Issuer', name: `${CONTROLLER_NAME}-selfsigned` },
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        usages: ['server auth', 'digital signature', 'key encipherment'],
      },
    },
  ];
}
