/**
 * The shared workload pipeline's pod template: what every kind that runs containers (LatticeService
 * today; jobs, models and other workload kinds build on the same function) derives for its pods.
 * The kind decides only what wraps the template (Deployment, Volcano Job, Kthena ModelServing...);
 * containers, configuration and secret wiring, security contexts, probes, resources, identity and
 * the config hash come from here, so every guarantee holds for every kind.
 *
 * Every container runs under the Kubernetes "restricted" Pod Security Standard
 * (kubernetes.io/docs/concepts/security/pod-security-standards/#restricted): non-root, no privilege
 * escalation, all capabilities dropped, RuntimeDefault seccomp, plus a read-only root filesystem.
 * Service account tokens are not mounted. Pods spread across nodes and zones.
 */
import { createHash } from 'node:crypto';
import type { Container as KContainer, PodSecurityContext, PodSpec, PodTemplateSpec, Probe as KProbe, SecurityContext } from 'kubernetes-types/core/v1.d.ts';
import { addedCapabilities, hostNetworkOf, podContainers, type Container, type Probe } from '../../api/latticeservice/v1alpha1.ts';
import { GPU_SHM_VOLUME, SHM_PATH, gpuLimits, gpuOf, gpuScheduling } from './gpu.ts';
import { TOPOLOGY_GROUP_ANNOTATION, VOLCANO_SCHEDULER } from './topology.ts';
import { ANNOTATIONS, selectorLabels, standardLabels } from '../naming.ts';
import { derivedMeta, namespaceOf } from '../meta.ts';
import { resolveCommandLine } from './config.ts';
import { resolveResources } from './profiles.ts';
import type { DerivationState, KubeObject } from '../types.ts';

/** The container security context every derived container gets. */
export function restrictedSecurityContext(): SecurityContext {
  return {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * The security context of a container: the restricted defaults, with the relaxations the container
 * declares in `security` (each one was authorized by a Cedar OverrideSecurity permit before derivation):
 * capabilities added (`add`) and dropped (`drop`, default ALL), privileged, root, group, root
 * filesystem, escalation, and the seccomp and AppArmor profiles (Kubernetes `seccompProfile` and
 * `appArmorProfile`, kubernetes.io/docs/tutorials/security/apparmor/; AppArmor is only set when
 * declared: nodes apply the runtime's default profile otherwise).
 */
export function containerSecurityContext(c: Container): SecurityContext {
  const ctx = restrictedSecurityContext();
  const sec = c.security;
  if (!sec) return ctx;
  const add = addedCapabilities(sec).map((a) => a.name.replace(/^CAP_/, ''));
  const drop = (sec.dropCapabilities ?? ['ALL']).map((d) => d.replace(/^CAP_/, ''));
  ctx.capabilities = add.length > 0 ? { drop, add } : { drop };
  if (sec.privileged !== undefined) ctx.privileged = sec.privileged;
  if (sec.privileged) ctx.allowPrivilegeEscalation = true; // Kubernetes rejects privileged without privilege escalation
  if (sec.allowPrivilegeEscalation !== undefined && !sec.privileged) ctx.allowPrivilegeEscalation = sec.allowPrivilegeEscalation;
  if (sec.readOnlyRootFilesystem !== undefined) ctx.readOnlyRootFilesystem = sec.readOnlyRootFilesystem;
  if (sec.runAsUser !== undefined) ctx.runAsUser = sec.runAsUser;
  if (sec.runAsGroup !== undefined) ctx.runAsGroup = sec.runAsGroup;
  if (sec.runAsNonRoot === false || sec.runAsUser === 0) ctx.runAsNonRoot = false;
  if (sec.seccompProfile !== undefined) {
    ctx.seccompProfile = sec.seccompProfile === 'Localhost' ? { type: 'Localhost', localhostProfile: sec.seccompLocalhostProfile! } : { type: sec.seccompProfile };
  }
  if (sec.apparmorProfile !== undefined) {
    ctx.appArmorProfile = sec.apparmorProfile === 'Localhost' ? { type: 'Localhost', localhostProfile: sec.apparmorLocalhostProfile! } : { type: sec.apparmorProfile };
  }
  return ctx;
}

/**
 * The pod security context: numeric `runAsUser`, `runAsGroup` and `fsGroup` (LatticePlatform
 * `spec.podSecurityContext`, default 65532, the `nonroot` user of distroless images), RuntimeDefault
 * seccomp, `runAsNonRoot` unless a container or sidecar was permitted to run as root, and the
 * `spec.sysctls` (kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/).
 *
 * Why numeric ids (kubernetes.io/docs/tasks/configure-pod-container/security-context/):
 * - with `runAsNonRoot: true` and no `runAsUser`, the kubelet must read the image's USER; a named
 *   USER (`USER app`) cannot be checked, so the container is refused ("image has non-numeric user,
 *   cannot verify user is non-root");
 * - secret and ConfigMap files are owned by root; a file of mode 0400 or 0600 is then unreadable by
 *   a non-root user. With `fsGroup`, the kubelet gives the volume's files that group and adds group
 *   read (0400 becomes 0440), and the container's processes carry fsGroup as a supplementary group,
 *   so the files stay readable whatever user the container runs as.
 * A container's own `security.runAsUser` still overrides the user (container securityContext).
 */
export function podSecurityContext(state: DerivationState): PodSecurityContext {
  const ids = state.ctx.settings.podSecurityContext;
  const root = podContainers(state.service.spec).some(({ container: c }) => c.security?.runAsNonRoot === false || c.security?.runAsUser === 0);
  const out: PodSecurityContext = {
    runAsNonRoot: !root,
    runAsUser: ids.runAsUser,
    runAsGroup: ids.runAsGroup,
    fsGroup: ids.fsGroup,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  // spec.sysctls, each permitted by Cedar (SecurityOverride "sysctl:<name>"); sorted for a stable output.
  const sysctls = Object.entries(state.service.spec.sysctls ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (sysctls.length > 0) out.sysctls = sysctls.map(([name, value]) => ({ name, value }));
  return out;
}

/**
 * Stakater Reloader's annotation (github.com/stakater/Reloader, "Secret": `secret.reloader.stakater.com/reload:
 * "foo,bar"` on the Deployment's metadata): when one of the listed Secrets changes, Reloader rolls the
 * Deployment. Lattice lists every synced Secret the pods read as environment variables.
 */
export const RELOADER_SECRET_ANNOTATION = 'secret.reloader.stakater.com/reload';

/**
 * The Secrets the pods read as environment variables (env `secretKeyRef`, `envFrom.secretRef`), sorted.
 *
 * A process reads its environment once, so a rotated value reaches it only through a new pod. The
 * pod template must therefore change when such a Secret changes, and two ways were weighed:
 * - a hash of the synced Secret's version in the pod template (ESO writes
 *   `reconcile.external-secrets.io/data-hash` on the target Secret): a render never sees the
 *   synced Secret, and the controller would need read access to every Secret (it deliberately has
 *   none, see src/controller/resources.ts) and a watch on them to re-derive on each sync;
 * - Stakater Reloader's annotation ({@link RELOADER_SECRET_ANNOTATION}): chosen. It is a static
 *   fact of the spec, so `lattice render` and the controller emit the same object, and Reloader
 *   (a small, widely used controller that already watches Secrets) rolls the Deployment when the
 *   data changes. Its change to the pod template (an env var or annotation under its own field
 *   manager) is left alone by Lattice's server-side apply.
 * Offline, this is only the annotation; in the cluster, rotation of environment variables needs
 * Reloader installed (docs: README "Secrets", prerequisites). Secret files need nothing: they are
 * mounted by directory and updated in place by the kubelet (src/compiler/workload/config.ts).
 */
export function envSecretNames(state: Pick<DerivationState, 'pod'>): string[] {
  const names = new Set<string>();
  for (const wiring of Object.values(state.pod.containers)) {
    for (const e of wiring.env) if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of wiring.envFrom) if (e.secretRef?.name) names.add(e.secretRef.name);
  }
  return [...names].sort();
}

/**
 * The ServiceAccount pods of `name` run as: one per workload (the identity mesh policies and cloud
 * roles name), with the API token never mounted.
 */
export function serviceAccount(state: DerivationState, name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: derivedMeta(state, name), automountServiceAccountToken: false };
}

/** How a kind shapes the shared pod template. */
export interface PodTemplateOptions {
  /**
   * Label keys whose values, taken from the incoming pod, narrow the topology spread to pods of one
   * revision (Kubernetes `topologySpreadConstraints[].matchLabelKeys`): `pod-template-hash` for a
   * Deployment's ReplicaSets. Default: none.
   */
  spreadMatchLabelKeys?: string[];
  /** Pod `restartPolicy`; unset keeps the Kubernetes default (`Always`), which Deployments require. */
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  /** Extra pod labels (e.g. a task's role); never overrides the standard and selector labels. */
  labels?: Record<string, string>;
}

/**
 * The pod template of workload `name` (the state's service, or a task/role of another kind built as
 * one): standard labels, the `lattice.dev/config-hash` annotation, the pod security context, one
 * container per `spec.workload.containers` entry (the first one carrying `spec.workload.service.ports`
 * and the GPU limits), the `spec.sidecars` as init containers (`init: true`: run to completion first;
 * otherwise native sidecars, `restartPolicy: Always`, kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/),
 * volumes and pull secrets wired by the config stage, the pod-level settings (`hostNetwork`,
 * `shareProcessNamespace`, `automountServiceAccountToken`, each permitted by Cedar), GPU placement
 * (src/compiler/workload/gpu.ts), Volcano topology placement (src/compiler/workload/topology.ts),
 * and a spread over nodes and zones.
 * Reads `state.pod` as filled by {@link import('./config.ts').deriveConfig}.
 */
export function podTemplate(state: DerivationState, name: string, options: PodTemplateOptions = {}): PodTemplateSpec {
  const { service, pod } = state;
  const spec = service.spec;
  const ports = Object.entries(spec.workload.service?.ports ?? {});
  const all = podContainers(spec);
  const gpu = gpuOf(spec);
  const containers: KContainer[] = all
    .filter((c) => c.role === 'container')
    .map((c, index) => {
      const out = container(state, c.name, c.container, index === 0 ? ports : [], c.path);
      if (index === 0 && gpu) {
        out.resources = { ...out.resources, limits: { ...out.resources?.limits, ...gpuLimits(gpu) } };
        if (!(out.volumeMounts ?? []).some((m) => m.mountPath === SHM_PATH)) out.volumeMounts = [...(out.volumeMounts ?? []), { name: GPU_SHM_VOLUME, mountPath: SHM_PATH }];
      }
      return out;
    });
  const volumes = [...pod.volumes];
  if (containers[0]?.volumeMounts?.some((m) => m.name === GPU_SHM_VOLUME) && !volumes.some((v) => v.name === GPU_SHM_VOLUME)) {
    volumes.push({ name: GPU_SHM_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: state.ctx.settings.defaultVolumeSizeLimit } });
  }
  // Init sidecars run to completion before anything else; native sidecars start next, before the containers.
  const initContainers: KContainer[] = [
    ...all.filter((c) => c.role === 'init').map((c) => container(state, c.name, c.container, [], c.path)),
    ...all.filter((c) => c.role === 'sidecar').map((c) => ({ ...container(state, c.name, c.container, [], c.path), restartPolicy: 'Always' })),
  ];
  const podSpec: PodSpec = {
    serviceAccountName: name,
    automountServiceAccountToken: spec.automountServiceAccountToken === true,
    enableServiceLinks: false,
    securityContext: podSecurityContext(state),
    ...(initContainers.length > 0 ? { initContainers } : {}),
    containers,
    topologySpreadConstraints: ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable: 'ScheduleAnyway' as const,
      labelSelector: { matchLabels: selectorLabels(name) },
      ...(options.spreadMatchLabelKeys ? { matchLabelKeys: options.spreadMatchLabelKeys } : {}),
    })),
  };
  if (options.restartPolicy) podSpec.restartPolicy = options.restartPolicy;
  if (hostNetworkOf(spec).value) {
    podSpec.hostNetwork = true;
    podSpec.dnsPolicy = 'ClusterFirstWithHostNet';
  }
  if (spec.shareProcessNamespace === true) podSpec.shareProcessNamespace = true;
  if (gpu) {
    const placement = gpuScheduling(gpu);
    if (placement.nodeSelector) podSpec.nodeSelector = placement.nodeSelector;
    if (placement.tolerations.length > 0) podSpec.tolerations = placement.tolerations;
    if (placement.schedulerName) podSpec.schedulerName = placement.schedulerName;
  }
  const annotations: Record<string, string> = { [ANNOTATIONS.configHash]: configHash(state) };
  if (spec.topology !== undefined) {
    podSpec.schedulerName = VOLCANO_SCHEDULER;
    annotations[TOPOLOGY_GROUP_ANNOTATION] = name;
  }
  if (volumes.length > 0) podSpec.volumes = volumes;
  if (pod.imagePullSecrets.length > 0) podSpec.imagePullSecrets = pod.imagePullSecrets;
  if (pod.podAffinity && pod.podAffinity.length > 0) podSpec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: pod.podAffinity } };
  const labels = { ...pod.podLabels, ...options.labels, ...standardLabels(name, state.ctx.settings.partOf ?? namespaceOf(state)) };
  return { metadata: { labels, annotations: { ...pod.podAnnotations, ...annotations } }, spec: podSpec };
}

function container(
  state: DerivationState,
  cname: string,
  c: Container,
  ports: [string, { port: number; targetPort?: number | undefined; protocol: 'TCP' | 'UDP' | 'SCTP' }][],
  path: string[],
): KContainer {
  const wiring = state.pod.containers[cname] ?? { env: [], envFrom: [], volumeMounts: [] };
  const out: KContainer = { name: cname, image: state.pod.images[cname] ?? c.image };
  Object.assign(out, resolveCommandLine(state, cname, c, path));
  if (c.workingDir) out.workingDir = c.workingDir;
  if (ports.length > 0) {
    out.ports = ports.map(([pname, p]) => ({ name: pname, containerPort: p.targetPort ?? p.port, protocol: p.protocol }));
  }
  if (wiring.envFrom.length > 0) out.envFrom = wiring.envFrom;
  if (wiring.env.length > 0) out.env = wiring.env;
  const { requests, limits } = resolveResources(c, state.ctx.settings);
  out.resources = { requests: { ...requests }, limits: { ...limits } };
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const p = c[kind];
    if (p) out[kind] = probe(state, p);
  }
  if (wiring.volumeMounts.length > 0) out.volumeMounts = wiring.volumeMounts;
  out.securityContext = containerSecurityContext(c);
  out.terminationMessagePolicy = 'FallbackToLogsOnError';
  return out;
}

/** Resolves a probe port given by name to the container port it targets. */
function probePort(state: DerivationState, port: number | string): number | string {
  if (typeof port === 'number') return port;
  const p = state.service.spec.workload.service?.ports?.[port];
  return p ? (p.targetPort ?? p.port) : port;
}

function probe(state: DerivationState, p: Probe): KProbe {
  const out: KProbe = {};
  if (p.httpGet) {
    const h: NonNullable<KProbe['httpGet']> = { path: p.httpGet.path, port: probePort(state, p.httpGet.port) };
    if (p.httpGet.scheme) h.scheme = p.httpGet.scheme;
    if (p.httpGet.host) h.host = p.httpGet.host;
    if (p.httpGet.httpHeaders) h.httpHeaders = p.httpGet.httpHeaders;
    out.httpGet = h;
  }
  if (p.tcpSocket) out.tcpSocket = { port: probePort(state, p.tcpSocket.port) };
  if (p.exec) out.exec = { command: p.exec.command };
  for (const k of ['initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold'] as const) {
    if (p[k] !== undefined) out[k] = p[k];
  }
  return out;
}

/**
 * sha256 over every configuration input (ConfigMaps, ExternalSecret specs, volumes, the env and
 * mount wiring of each container, pull secrets), so a config
 * change changes the pod template and Kubernetes rolls the pods. Secret values are not inputs:
 * they never pass through Lattice.
 */
function configHash(state: DerivationState): string {
  const hash = createHash('sha256');
  const inputs = state.pod.configInputs;
  for (const key of Object.keys(inputs).sort()) hash.update(`${key}\n${inputs[key]}\n`);
  hash.update(JSON.stringify(state.pod.volumes));
  hash.update(JSON.stringify(state.pod.containers));
  hash.update(JSON.stringify(state.pod.imagePullSecrets));
  return hash.digest('hex').slice(0, 16);
}
