/**
 * `LatticeService` (lattice.dev/v1alpha1): a service's intent in one resource. This module is the
 * single source of truth for its types, defaults, validation, CRD schema and field documentation.
 *
 * Field names follow the Score specification (score.dev, `score-v1b1`) where Score has them:
 * `workload.containers`, `variables`, `files`, `volumes`, `resources`, `service.ports`.
 */
import { z } from 'zod';
import { secretPathProblem } from '../secretpath.ts';
import { API_VERSION, condition, dnsLabel, duration, ownValue, quantity, refusePrototypeKeys, workloadDocument } from '../common.ts';
import { ENV_VAR_NAME, portNameProblem } from '../names.ts';
import { parseImageReference } from '../../supplychain/reference.ts';
import { parseQuantity } from '../quantity.ts';
import { parseExternalEndpoint } from './endpoint.ts';
import { volumeIdProblem, volumeParamsSchema, volumeRole } from './volumes.ts';
import { backupSchema } from './backup.ts';

export { volumeParamsSchema, type VolumeParams } from './volumes.ts';

export const KIND = 'LatticeService';
export const PLURAL = 'latticeservices';
export const SHORT_NAMES = ['ls'];

const port = z.number().int().min(1).max(65535);

const portName = z.string().superRefine((v, ctx) => {
  const problem = portNameProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `port name "${v}" ${problem}` });
});

const absolutePath = z
  .string()
  .regex(/^\//, 'must be an absolute path (start with "/")')
  .refine((p) => !p.includes('\0') && !p.split('/').includes('..'), 'must not contain ".." segments or NUL characters');

const resourceAmounts = z.strictObject({
  cpu: quantity.optional().describe('CPU in cores: 500m is half a core, 2 is two cores.'),
  memory: quantity.optional().describe('Memory in bytes with a binary suffix: 512Mi, 1Gi.'),
});

/** Size profiles a container may declare instead of explicit requests and limits (see `resources.profile`). */
export const SIZE_PROFILES = ['small', 'medium', 'large', 'xlarge'] as const;
/** A size profile name. */
export type SizeProfile = (typeof SIZE_PROFILES)[number];

const containerResources = z
  .strictObject({
    profile: z
      .enum(SIZE_PROFILES)
      .optional()
      .describe(
        'A size profile instead of explicit requests and limits. Defaults (CPU request / memory request / memory limit): small 250m/384Mi/512Mi, medium 500m/768Mi/1Gi, large 1/2Gi/3Gi, xlarge 2/4Gi/6Gi; the platform may redefine them (LatticePlatform spec.sizeProfiles). No CPU limit: the container may burst.',
      ),
    requests: resourceAmounts
      .optional()
      .describe('What the scheduler reserves for the container. Defaults to the limits.'),
    limits: resourceAmounts
      .optional()
      .describe(
        'The most the container may use. Required unless a profile is given: memory must be set; cpu may be omitted to allow bursting. With no CPU amount at all (memory-only limits, as the reference accepts), the container requests the small profile\'s CPU (250m unless the platform redefines it) so the scheduler reserves CPU and quotas count it.',
      ),
  })
  .superRefine((r, ctx) => {
    if (r.profile !== undefined) {
      const explicit = (['requests', 'limits'] as const).filter((k) => r[k] !== undefined);
      if (explicit.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['profile'],
          message: `declares both profile ${r.profile} and explicit ${explicit.join(' and ')}: drop \`profile\` to keep the explicit values, or drop ${explicit.map((k) => `\`${k}\``).join(' and ')} to use the ${r.profile} profile`,
        });
      }
      return;
    }
    if (r.limits?.memory === undefined) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'memory'], message: 'memory limit is required: add e.g. `memory: 512Mi` under limits, or use a size profile (`resources: {profile: small}`)' });
    }
    for (const res of ['cpu', 'memory'] as const) {
      const req = r.requests?.[res];
      const lim = r.limits?.[res];
      if (req !== undefined && lim !== undefined && parseQuantity(req) > parseQuantity(lim)) {
        ctx.addIssue({
          code: 'custom',
          path: ['requests', res],
          message: `${res} request ${req} is larger than the limit ${lim}: lower the request or raise the limit`,
        });
      }
    }
  });

const probeTiming = {
  initialDelaySeconds: z.number().int().min(0).optional().describe('Seconds after start before the first probe.'),
  periodSeconds: z.number().int().min(1).optional().describe('Seconds between probes (Kubernetes default 10).'),
  timeoutSeconds: z.number().int().min(1).optional().describe('Seconds before a probe times out (Kubernetes default 1).'),
  failureThreshold: z.number().int().min(1).optional().describe('Failures in a row that count as failed (Kubernetes default 3).'),
  successThreshold: z.number().int().min(1).optional().describe('Successes in a row that count as succeeded after a failure (1 for liveness and startup probes).'),
};

const probePort = z
  .union([port, portName])
  .describe('Port number, or the name of a port in workload.service.ports.');

const probe = z
  .strictObject({
    httpGet: z
      .strictObject({
        path: z.string().startsWith('/').describe('HTTP path to request, e.g. /healthz.'),
        port: probePort,
        scheme: z.enum(['HTTP', 'HTTPS']).optional().describe('HTTP (default) or HTTPS.'),
        host: z.string().optional().describe('Host to connect to; defaults to the pod IP.'),
        httpHeaders: z
          .array(z.strictObject({ name: z.string().describe('Header name.'), value: z.string().describe('Header value.') }))
          .optional()
          .describe('Extra request headers.'),
      })
      .optional()
      .describe('Probe with an HTTP GET; a status from 200 to 399 is success.'),
    tcpSocket: z
      .strictObject({ port: probePort })
      .optional()
      .describe('Probe by opening a TCP connection.'),
    exec: z
      .strictObject({ command: z.array(z.string()).min(1).describe('Command run in the container; exit status 0 is success.') })
      .optional()
      .describe('Probe by running a command in the container.'),
    ...probeTiming,
  })
  .superRefine((p, ctx) => {
    const handlers = ['httpGet', 'tcpSocket', 'exec'].filter((h) => p[h as 'httpGet' | 'tcpSocket' | 'exec'] !== undefined);
    if (handlers.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: handlers.length === 0 ? 'a probe needs exactly one of httpGet, tcpSocket or exec' : `a probe takes exactly one of httpGet, tcpSocket or exec; it has ${handlers.join(' and ')}`,
      });
    }
  });

const file = z
  .strictObject({
    content: z.string().optional().describe('The file content inline. May contain ${...} placeholders.'),
    source: z
      .string()
      .optional()
      .describe('Path of a local file with the content, relative to the YAML file declaring the service (read by `lattice render`).'),
    mode: z
      .string()
      .regex(/^0?[0-7]{3}$/, 'must be an octal file mode such as "0644" or "0600"')
      .optional()
      .describe('Octal file mode, e.g. "0644" (the default) or "0600".'),
    noExpand: z.boolean().optional().describe('When true, ${...} in the content is kept as written, not expanded.'),
  })
  .superRefine((f, ctx) => {
    if ((f.content === undefined) === (f.source === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a file needs exactly one of content or source' });
    }
  });

const volume = z
  .strictObject({
    source: z
      .string()
      .optional()
      .describe('Name of a resource of type volume (or ${resources.NAME}): a pod-local emptyDir shared by the containers that mount it, or a persistent volume (claim); omitted: an emptyDir private to this mount.'),
    path: z
      .string()
      .min(1)
      .refine((p) => !p.startsWith('/') && !p.includes('\0') && !p.split('/').includes('..'), 'must be a relative path inside the volume, without ".." segments (e.g. media/tv)')
      .optional()
      .describe('Sub-path inside the volume to mount instead of its root (Kubernetes volumeMounts subPath), e.g. tv.'),
    readOnly: z.boolean().optional().describe('Mount read-only (default false).'),
    sizeLimit: quantity.optional().describe('Size limit of the emptyDir volume (default: the platform setting defaultVolumeSizeLimit, 1Gi). Only without source.'),
    medium: z.enum(['Memory']).optional().describe('Memory: a tmpfs emptyDir counted against the memory limit. Only without source (a shared volume sets params.medium).'),
  })
  .superRefine((v, ctx) => {
    if (v.source === undefined) return;
    for (const k of ['sizeLimit', 'medium'] as const) {
      if (v[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} describes a volume private to this mount; with source the volume is the resource's: set params.${k} on the volume resource instead, or remove ${k}` });
    }
  });

const capabilityName = z
  .string()
  .regex(/^(CAP_)?[A-Z][A-Z0-9_]*$/, 'is not a Linux capability name: write it in upper case, e.g. NET_ADMIN or NET_BIND_SERVICE');

/**
 * Capabilities a container runtime grants when nothing is dropped (containerd and Docker's default
 * set, docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities). A
 * `dropCapabilities` list without `ALL` keeps those it does not name, and each kept one is a
 * relaxation asked of Cedar as `capability:NAME` (the reference implementation's rule).
 */
export const RUNTIME_DEFAULT_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
] as const;

/** Profile types of seccomp and AppArmor (Kubernetes `seccompProfile.type`, `appArmorProfile.type`). */
export const PROFILE_TYPES = ['RuntimeDefault', 'Unconfined', 'Localhost'] as const;

/** An entry of `allowedBinaries`: an absolute executable path, or `*` (no allow-list). */
const allowedBinary = z
  .string()
  .max(255)
  .refine((b) => b === '*' || (b.startsWith('/') && !b.includes('\0') && !b.split('/').includes('..')), 'must be an absolute executable path such as /usr/bin/curl (no ".." segments), or "*"');

/** Departures from the restricted security context; each one needs a Cedar permit (action OverrideSecurity). */
export const containerSecuritySchema = z
  .strictObject({
    capabilities: z
      .union([
        z.array(capabilityName),
        z.strictObject({
          add: z.array(capabilityName).optional().describe('Linux capabilities to add.'),
        }),
      ])
      .optional()
      .describe('Linux capabilities to add, as a list ([NET_ADMIN], the reference form) or as {add: [NET_ADMIN]}. All others stay dropped. Each needs a Cedar permit for OverrideSecurity on SecurityOverride "capability:NAME".'),
    dropCapabilities: z
      .array(z.union([z.literal('ALL'), capabilityName]))
      .min(1)
      .optional()
      .describe('Capabilities to drop (default [ALL]). A list without ALL keeps the runtime\'s default capabilities it does not name (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, NET_RAW, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT), and each kept one needs a Cedar permit for SecurityOverride "capability:NAME".'),
    privileged: z.boolean().optional().describe('Run privileged (default false). true needs a Cedar permit for SecurityOverride "privileged".'),
    runAsUser: z.number().int().min(0).optional().describe('User id to run as (default: the image user, which must not be root). 0 needs a Cedar permit for SecurityOverride "runAsRoot".'),
    runAsGroup: z.number().int().min(0).optional().describe('Primary group id of the container\'s processes (default: the platform\'s pod group, 65532). 0 needs a Cedar permit for SecurityOverride "runAsRootGroup".'),
    runAsNonRoot: z.boolean().optional().describe('Refuse to start as root (default true). false needs a Cedar permit for SecurityOverride "runAsRoot".'),
    readOnlyRootFilesystem: z.boolean().optional().describe('Mount the root filesystem read-only (default true). false needs a Cedar permit for SecurityOverride "readOnlyRootFilesystem".'),
    allowPrivilegeEscalation: z.boolean().optional().describe('Allow gaining privileges, e.g. through setuid (default false). true needs a Cedar permit for SecurityOverride "allowPrivilegeEscalation".'),
    seccompProfile: z
      .enum(PROFILE_TYPES)
      .optional()
      .describe('Seccomp profile (default RuntimeDefault). Unconfined needs a Cedar permit for SecurityOverride "unconfined:seccomp"; Localhost (with seccompLocalhostProfile) one for "localhost:seccomp".'),
    seccompLocalhostProfile: z
      .string()
      .min(1)
      .max(4096)
      .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a path relative to the kubelet\'s seccomp directory (no leading "/", no ".." segments), e.g. profiles/audit.json')
      .optional()
      .describe('With seccompProfile Localhost: the profile file, relative to the kubelet\'s seccomp directory (e.g. profiles/audit.json).'),
    apparmorProfile: z
      .enum(PROFILE_TYPES)
      .optional()
      .describe('AppArmor profile (default: the runtime\'s default profile on nodes with AppArmor). Unconfined needs a Cedar permit for SecurityOverride "unconfined:apparmor"; Localhost (with apparmorLocalhostProfile) one for "localhost:apparmor".'),
    apparmorLocalhostProfile: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*$/, 'must be the name of an AppArmor profile loaded on the node, e.g. k8s-apparmor-example-deny-write')
      .optional()
      .describe('With apparmorProfile Localhost: the name of a profile loaded on the node.'),
    allowedBinaries: z
      .array(allowedBinary)
      .min(1)
      .optional()
      .describe('Executables this container may run (absolute paths), enforced in the kernel by a Tetragon TracingPolicyNamespaced that kills any other exec in this container; command[0] and exec-probe commands are added automatically; without command, list the image\'s entrypoint. Paths are matched after symbolic links are resolved (list /usr/bin/dash, not /bin/sh, when /bin/sh links to it), and a script needs its interpreter listed too. ["*"] turns the allow-list off. Each entry needs a Cedar permit for SecurityOverride "allowedBinary:<path>" ("allowedBinary:*" for the wildcard).'),
  })
  .superRefine((s, ctx) => {
    for (const kind of ['seccomp', 'apparmor'] as const) {
      const type = s[`${kind}Profile`];
      const local = s[`${kind}LocalhostProfile`];
      if (type === 'Localhost' && local === undefined) {
        ctx.addIssue({ code: 'custom', path: [`${kind}LocalhostProfile`], message: `${kind}Profile Localhost needs ${kind}LocalhostProfile: name the profile on the node` });
      } else if (type !== 'Localhost' && local !== undefined) {
        ctx.addIssue({ code: 'custom', path: [`${kind}LocalhostProfile`], message: `${kind}LocalhostProfile only applies with ${kind}Profile: Localhost; set that, or remove ${kind}LocalhostProfile` });
      }
    }
    if (s.allowedBinaries !== undefined && s.allowedBinaries.includes('*') && s.allowedBinaries.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['allowedBinaries'], message: '"*" turns the allow-list off, so it cannot be combined with paths: keep either ["*"] or the list of paths' });
    }
  });

/** The fields of a container (main container or sidecar). */
const containerFields = z.strictObject({
  image: z
    .string()
    .superRefine((v, ctx) => {
      const parsed = parseImageReference(v);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `image "${v}": ${parsed.error}` });
    })
    .describe('OCI image reference, registry/repository[:tag]@sha256:<digest>. Pin by digest.'),
  command: z.array(z.string()).optional().describe('Entrypoint override (the image ENTRYPOINT when omitted).'),
  args: z.array(z.string()).optional().describe('Arguments (the image CMD when omitted).'),
  workingDir: absolutePath.optional().describe('Working directory (the image default when omitted).'),
  variables: z
    .record(
      z.string().regex(ENV_VAR_NAME, 'is not a valid environment variable name: use letters, digits, "_", "-" and ".", not starting with a digit'),
      z.string(),
    )
    .optional()
    .describe('Environment variables, name to value. Values may contain ${...} placeholders.'),
  envFrom: z
    .array(dnsLabel)
    .optional()
    .describe('Names of secret resources whose every key becomes an environment variable of this container.'),
  resources: containerResources.describe('CPU and memory: explicit requests and limits, or a size profile.'),
  security: containerSecuritySchema
    .optional()
    .describe('Security-context relaxations; every container otherwise runs with the restricted Pod Security Standard.'),
  livenessProbe: probe.optional().describe('Restarts the container when it fails.'),
  readinessProbe: probe.optional().describe('Takes the pod out of load balancing while it fails.'),
  startupProbe: probe.optional().describe('Holds the other probes until the container has started.'),
  files: z
    .record(absolutePath, file)
    .optional()
    .describe('Files mounted into the container, absolute path to content. Mounted read-only.'),
  volumes: z
    .record(absolutePath, volume)
    .optional()
    .describe('Writable volumes, mount path to volume: scratch space (emptyDir), or a volume resource (pod-local or persistent). The root filesystem is read-only, so this is where a container writes.'),
});

/**
 * Rules across a container's fields: with an executable allow-list, the entrypoint and exec probes
 * must be absolute paths, since Tetragon compares the full path of the executed file
 * (tetragon.io/docs/concepts/tracing-policy/argument_types/#linux_binprm).
 */
function checkContainer(c: z.output<typeof containerFields>, ctx: z.RefinementCtx): void {
  const allowed = c.security?.allowedBinaries;
  if (allowed === undefined || allowed.includes('*')) return;
  const head = c.command?.[0];
  if (head !== undefined && !head.startsWith('/')) {
    ctx.addIssue({ code: 'custom', path: ['command', 0], message: `command[0] "${head}" must be an absolute path when security.allowedBinaries is set: the allow-list matches the full path of each executed file (write e.g. /usr/bin/${head})` });
  }
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const exec = c[kind]?.exec?.command[0];
    if (exec !== undefined && !exec.startsWith('/')) {
      ctx.addIssue({ code: 'custom', path: [kind, 'exec', 'command', 0], message: `exec probe command "${exec}" must be an absolute path when security.allowedBinaries is set (write e.g. /bin/${exec})` });
    }
  }
}

/** A container of the workload. */
export const containerSchema = containerFields.superRefine(checkContainer);

/**
 * A sidecar (`spec.sidecars.<name>`): the container fields except `envFrom`, plus `init`. A sidecar
 * goes through every gate a container does (digest pinning, signatures, DeployImage, secrets,
 * security overrides, the allow-list).
 */
export const sidecarSchema = containerFields
  .omit({ envFrom: true })
  .extend({
    init: z
      .boolean()
      .optional()
      .describe('true: run once to completion before the other containers start (a Kubernetes init container; needs command, takes no probes). false or omitted: run beside the containers for the pod\'s whole life, started before them (a native sidecar: an init container with restartPolicy Always).'),
  })
  .superRefine((c, ctx) => {
    checkContainer(c as z.output<typeof containerFields>, ctx);
    if (c.init === true) {
      if (c.command === undefined) ctx.addIssue({ code: 'custom', path: ['command'], message: 'an init sidecar (init: true) needs command: it runs once to completion, so its entrypoint must be known' });
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (c[kind] !== undefined) ctx.addIssue({ code: 'custom', path: [kind], message: `an init sidecar (init: true) runs to completion and cannot have a ${kind} (Kubernetes refuses probes on init containers): remove it, or drop init to run the sidecar beside the containers` });
      }
    }
  });

/** A port of the workload's Service. */
export const servicePortSchema = z.strictObject({
  port: port.describe('Port the Service listens on.'),
  targetPort: port.optional().describe('Port the container listens on (default: port).'),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP').describe('TCP (default), UDP or SCTP.'),
});

/** Kubernetes Service types a workload may ask for (`workload.service.serviceType`). */
export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;

/** Directions of a service dependency. */
export const DIRECTIONS = ['outbound', 'inbound', 'both'] as const;

/** Resource types with platform behaviour; any other type is a custom resource kept for later provisioners. */
export const KNOWN_RESOURCE_TYPES = ['service', 'external-service', 'secret', 'volume', 'gpu'] as const;

const secretKeyName = z.string().regex(/^[-._a-zA-Z0-9]+$/, 'is not a valid Secret key: use letters, digits, "-", "_" and "."');

/** `params` of a resource of type secret. */
export const secretParamsSchema = z.strictObject({
  provider: dnsLabel.optional().describe('SecretProvider to read from (default: the provider marked default).'),
  keys: z.array(secretKeyName).min(1).optional().describe('Keys to sync; all keys of the remote secret when omitted.'),
  refreshInterval: duration.optional().describe('How often ESO re-reads the remote secret (default 1h).'),
  secretType: z.string().optional().describe('Type of the synced Kubernetes Secret (default Opaque).'),
});

const endpointText = z.string().superRefine((v, ctx) => {
  const parsed = parseExternalEndpoint(v);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: `endpoint "${v}" ${parsed.error}` });
});

/** Resolution modes of an external service (Istio ServiceEntry `resolution`, in the reference's lower case). */
export const ENDPOINT_RESOLUTIONS = ['dns', 'static', 'none'] as const;

/** `params` of a resource of type external-service. */
export const externalServiceParamsSchema = z
  .strictObject({
    endpoints: z
      .union([
        z.array(endpointText).min(1),
        z.record(dnsLabel, endpointText).refine((m) => Object.keys(m).length > 0, 'declare at least one endpoint'),
      ])
      .describe('What the service calls: a list of endpoints, or a map endpoint name -> endpoint (the reference\'s shape; read in name order). An endpoint is a URL (https://api.stripe.com, tcp://db.example.com:5432, udp://ntp.example.com:123; http, https, grpc, grpcs, tcp, tls, udp), host:port for TCP (db.example.com:5432), or entity:NAME[:PORT] for a Cilium entity (kube-apiserver, world, host, remote-node). Each needs a Cedar permit for AccessExternalEndpoint.'),
    resolution: z
      .preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(ENDPOINT_RESOLUTIONS))
      .optional()
      .describe('How the mesh finds the addresses (Istio ServiceEntry resolution): dns (default; host names resolved by DNS, IP addresses used as written), static (every endpoint must be an IP address), none (connections keep the address the application resolved). DNS, STATIC and NONE are accepted too.'),
  })
  .superRefine((p, ctx) => {
    if (p.resolution !== 'static') return;
    const entries = Array.isArray(p.endpoints) ? p.endpoints.map((t, i) => [i, t] as const) : Object.entries(p.endpoints);
    for (const [key, text] of entries) {
      const parsed = parseExternalEndpoint(text);
      if (!('error' in parsed) && !parsed.ip) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', key], message: `endpoint "${text}" is not an IP address, but resolution static needs addresses: write the address (tcp://10.0.0.5:5432), or use resolution dns` });
      }
    }
  });


/** `params` of a resource of type gpu. */
export const gpuParamsSchema = z.strictObject({
  count: z.number().int().min(1).max(64).describe('Number of GPUs per pod (on the first container): the nvidia.com/gpu limit, or volcano.sh/vgpu-number when memory or compute is set.'),
  memory: quantity
    .refine((q) => /^[0-9]+(Mi|Gi)?$/.test(q), 'must be a whole number of Mi or Gi, e.g. 20Gi or 512Mi (Volcano vGPU counts device memory in MiB)')
    .optional()
    .describe('GPU memory per GPU (e.g. 20Gi): fractional sharing through Volcano vGPU (volcano.sh/vgpu-memory, in MiB). Needs the Volcano scheduler and its vGPU device plugin.'),
  compute: z.number().int().min(1).max(100).optional().describe('Percent of each GPU\'s cores (1-100): fractional sharing through Volcano vGPU (volcano.sh/vgpu-cores).'),
  model: z
    .string()
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a GPU model such as H100 or L4, or a node label value such as NVIDIA-L4')
    .max(63)
    .optional()
    .describe('GPU model the pod needs: a short name (H100, H100PCIE, A100, A100-40G, A10G, L40S, L40, L4, T4, V100) mapped to the nvidia.com/gpu.product node label value, or that label value itself; becomes a node selector.'),
  tolerations: z.boolean().optional().describe('Tolerate the taint GPU nodes usually carry, named like the device resource (default true).'),
  resource: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be an extended resource name such as nvidia.com/gpu or amd.com/gpu')
    .optional()
    .describe('Device plugin resource of whole GPUs (default nvidia.com/gpu), e.g. amd.com/gpu; its name is also the tolerated taint. Not with memory or compute (Volcano vGPU shares NVIDIA GPUs only).'),
}).refine((g) => g.resource === undefined || (g.memory === undefined && g.compute === undefined), { message: 'resource names a device of whole GPUs; memory and compute share NVIDIA GPUs through Volcano vGPU. Remove resource, or memory and compute.', path: ['resource'] });

/** Returns why `text` is not an endpoint the platform can allow, or undefined (see ./endpoint.ts for the forms). */
export function endpointProblem(text: string): string | undefined {
  const parsed = parseExternalEndpoint(text);
  return 'error' in parsed ? parsed.error : undefined;
}

const RESOURCE_PARAMS: Record<string, z.ZodType | undefined> = {
  secret: secretParamsSchema,
  'external-service': externalServiceParamsSchema,
  volume: volumeParamsSchema,
  gpu: gpuParamsSchema,
  service: z.strictObject({}),
};

/** A resource the workload depends on (Score `resources`). */
export const resourceSchema = z
  .strictObject({
    type: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lower-case resource type such as service, secret or external-service')
      .describe('service, external-service, secret, volume, gpu, or a custom type kept for a provisioner.'),
    direction: z
      .enum(DIRECTIONS)
      .optional()
      .describe('For type service: outbound (this service calls it; the default), inbound (it calls this service) or both.'),
    id: z
      .string()
      .optional()
      .describe('Identity of the resource. Service: the other service name (default: this key), or "*" with inbound for any caller. Secret: the remote key or path (default <namespace>/<key>), a normal path: no empty, . or .. segment, no leading /, backslash or percent-encoding. Volume: the shared volume id (DNS label, at most 50): with params.size this service owns claim vol-<id>; without, it mounts the claim of the service that owns the id.'),
    namespace: dnsLabel.optional().describe('For type service: namespace of the other service (default: this namespace).'),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Type-specific parameters. secret: {provider, keys, refreshInterval, secretType}; external-service: {endpoints, resolution}; volume: {size, storageClass, accessMode, allowedConsumers} (persistent) or {sizeLimit, medium} (pod-local); gpu: {count, memory, compute, model, tolerations, resource}.'),
  })
  .superRefine((r, ctx) => {
    const paramsSchema = RESOURCE_PARAMS[r.type];
    if (paramsSchema !== undefined) {
      if (r.type === 'external-service' && r.params === undefined) {
        ctx.addIssue({ code: 'custom', path: ['params', 'endpoints'], message: 'an external-service needs params.endpoints, e.g. [https://api.stripe.com] or {api: https://api.stripe.com}' });
      } else if (r.type === 'gpu' && r.params === undefined) {
        ctx.addIssue({ code: 'custom', path: ['params', 'count'], message: 'a gpu resource needs params.count, the number of GPUs per pod' });
      } else if (r.params !== undefined) {
        const result = paramsSchema.safeParse(r.params);
        if (!result.success) {
          for (const issue of result.error.issues) {
            ctx.addIssue({ code: 'custom', path: ['params', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: issue.message });
          }
        }
      }
    }
    if (r.type === 'volume' && r.id !== undefined) {
      const problem = volumeIdProblem(r.id);
      if (problem) ctx.addIssue({ code: 'custom', path: ['id'], message: `volume id ${JSON.stringify(r.id)} ${problem}` });
    }
    if (r.type === 'volume' && r.id === undefined && Array.isArray(r.params?.allowedConsumers)) {
      ctx.addIssue({ code: 'custom', path: ['params', 'allowedConsumers'], message: 'allowedConsumers shares the volume by its id, and this volume has none: add id (e.g. id: media-storage), or remove allowedConsumers' });
    }
    if (r.type === 'secret' && r.id !== undefined) {
      const problem = secretPathProblem(r.id);
      if (problem) ctx.addIssue({ code: 'custom', path: ['id'], message: `secret id ${JSON.stringify(r.id)} ${problem}` });
    }
    if (r.type !== 'service') {
      if (r.direction !== undefined && r.direction !== 'outbound') {
        ctx.addIssue({ code: 'custom', path: ['direction'], message: `direction ${r.direction} only applies to resources of type service; remove it` });
      }
      if (r.namespace !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'namespace only applies to resources of type service; remove it' });
      }
    } else if (r.id !== undefined && r.id !== '*' && !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(r.id)) {
      ctx.addIssue({ code: 'custom', path: ['id'], message: `id "${r.id}" must be a service name (an RFC 1035 label) or "*"` });
    } else if (r.id === '*' && r.direction !== 'inbound') {
      ctx.addIssue({ code: 'custom', path: ['id'], message: 'id "*" (any caller) is only allowed with direction: inbound' });
    }
  });

/** One autoscaling metric. */
export const autoscalingMetricSchema = z.strictObject({
  metric: z
    .string()
    .min(1)
    .describe('cpu or memory (percent of the request), or the name of a Prometheus metric scraped from this service (value per pod; a counter, named *_total, is scaled on its per-second rate).'),
  target: z.number().positive().describe('Target value: a utilisation percentage for cpu/memory (at most 100), else the metric value per pod.'),
});

/** Prometheus metric names (Prometheus data model: `[a-zA-Z_:][a-zA-Z0-9_:]*`). */
export const PROMETHEUS_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Host names a route may serve: a DNS name of lower-case RFC 1123 labels, optionally with a leading
 * `*.` wildcard label (the Gateway API `Hostname` format; IP addresses are not allowed there).
 */
export const ROUTE_HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

/** Exposures of a route: on the platform's internal gateway, or on its public (internet-facing) one. */
export const ROUTE_EXPOSURES = ['internal', 'public'] as const;

/** Gateway API route kinds a route may derive (the reference's `kind`). */
export const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TCPRoute'] as const;

/** Listener ports a TCP route may not take: the gateway's HTTP (80) and HTTPS (443) listeners use them. */
export const RESERVED_LISTEN_PORTS = [80, 443] as const;

const routeHost = z
  .string()
  .max(253)
  .regex(ROUTE_HOST, 'is not a host name: write a lower-case DNS name such as shop.example.com, or *.example.com for a wildcard')
  .refine((h) => /[a-z]/.test(h.slice(h.lastIndexOf('.') + 1)), 'is an IP address, not a host name: routes match DNS names such as shop.example.com (Gateway API hostnames exclude IPs)');

/** A Kubernetes Secret name (DNS-1123 subdomain). */
const secretName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'is not a Secret name: lower-case letters, digits, "-" and "."');

/**
 * TLS of a route or of an exposed Service, in the reference's shape: `secretName` (a kubernetes.io/tls
 * Secret the team provides, in the service's namespace), or `issuerRef` (cert-manager issues the
 * certificate), or `{}` (the gateway's clusterIssuer). Not both.
 */
export const tlsSchema = z
  .strictObject({
    secretName: secretName.optional().describe('A kubernetes.io/tls Secret in the service\'s namespace holding the certificate (brought by the team; no Certificate is derived).'),
    issuerRef: z
      .strictObject({
        name: dnsLabel.describe('Name of the cert-manager issuer.'),
        kind: z.enum(['ClusterIssuer', 'Issuer']).optional().describe('ClusterIssuer (default) or Issuer (an issuer in the service\'s namespace).'),
      })
      .optional()
      .describe('The cert-manager issuer that signs the derived Certificate.'),
  })
  .refine((t) => t.secretName === undefined || t.issuerRef === undefined, 'set secretName (bring a certificate) or issuerRef (cert-manager issues one), not both');

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
/** HTTP methods a route may match (Gateway API HTTPMethod). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

/** One match of a route rule (Gateway API HTTPRouteMatch / GRPCRouteMatch, the reference's union of both). */
export const routeMatchSchema = z.strictObject({
  path: z
    .strictObject({
      type: z.enum(['PathPrefix', 'Exact']).default('PathPrefix').describe('PathPrefix (default) or Exact.'),
      value: z.string().startsWith('/').max(1024).describe('The path, e.g. /api.'),
    })
    .optional()
    .describe('Path match (HTTPRoute only).'),
  headers: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(256).regex(HEADER_NAME, 'is not an HTTP header name').describe('Header name (case-insensitive).'),
        value: z.string().min(1).max(4096).describe('Value to match.'),
        type: z.enum(['Exact', 'RegularExpression']).optional().describe('Exact (default) or RegularExpression (RE2).'),
      }),
    )
    .max(16)
    .optional()
    .describe('Header matches, all of which must match (HTTPRoute only). At most 16.'),
  method: z.enum(HTTP_METHODS).optional().describe('HTTP method (HTTPRoute only).'),
  grpcMethod: z
    .strictObject({
      service: z.string().max(1024).regex(/^[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/, 'is not a gRPC service name, e.g. shop.v1.Orders').optional().describe('Fully qualified gRPC service, e.g. shop.v1.Orders.'),
      method: z.string().max(1024).regex(/^[A-Za-z_][A-Za-z_0-9]*$/, 'is not a gRPC method name, e.g. Get').optional().describe('gRPC method, e.g. Get.'),
    })
    .refine((g) => g.service !== undefined || g.method !== undefined, 'name a service, a method or both')
    .optional()
    .describe('gRPC method match (GRPCRoute only).'),
});

/** One HTTP, gRPC or TCP route of `spec.ingress.routes`. */
export const routeSchema = z
  .strictObject({
    kind: z
      .enum(ROUTE_KINDS)
      .default('HTTPRoute')
      .describe('HTTPRoute (default), GRPCRoute or TCPRoute: the Gateway API route derived (TCPRoute is Gateway API v1alpha2, experimental channel; the cluster needs its CRD).'),
    hosts: z
      .array(routeHost)
      .min(1)
      .max(16)
      .optional()
      .describe('Host names the route serves, e.g. shop.example.com (Gateway API hostnames; a leading *. is a wildcard). At most 16. Required for HTTPRoute and GRPCRoute, not allowed for TCPRoute.'),
    paths: z
      .array(
        z.strictObject({
          path: z.string().startsWith('/').max(1024).describe('Request path to match, e.g. /api.'),
          type: z.enum(['PathPrefix', 'Exact']).default('PathPrefix').describe('PathPrefix (default: the path and everything under it) or Exact.'),
        }),
      )
      .min(1)
      .max(8)
      .optional()
      .describe('Paths the route matches (default: every path). At most 8 (the Gateway API limit of matches per rule). Shorthand for rules with path matches; HTTPRoute only.'),
    rules: z
      .array(z.strictObject({ matches: z.array(routeMatchSchema).min(1).max(8).describe('Matches, any of which selects the rule. At most 8.') }))
      .min(1)
      .max(16)
      .optional()
      .describe('Routing rules (the reference\'s shape; default: match everything). HTTPRoute: path, headers, method; GRPCRoute: grpcMethod; TCPRoute: none.'),
    port: portName.optional().describe('Name of the port in workload.service.ports the route sends traffic to (default: the port named http, else the only port).'),
    listenPort: port.optional().describe('Port of the gateway listener (TCPRoute only, required there; not 80 or 443, which the HTTP and HTTPS listeners use). One service per listen port and exposure.'),
    tls: tlsSchema
      .optional()
      .describe('TLS at the gateway: {secretName} (your certificate), {issuerRef: {name, kind}} (cert-manager), or {} (the gateway\'s clusterIssuer). Omitted: HTTPS with the gateway\'s clusterIssuer when it has one, else plain HTTP; TCPRoute: plain TCP. TCPRoute takes secretName only.'),
    exposure: z
      .enum(ROUTE_EXPOSURES)
      .default('internal')
      .describe('internal (default): on the platform internal gateway. public: on the internet-facing gateway. Either way each host (a TCPRoute: its listen port) needs a Cedar permit for ExposeRoute, and a host or listen port belongs to one service of the whole platform.'),
  })
  .superRefine((r, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (r.kind === 'TCPRoute') {
      if (r.hosts !== undefined) issue(['hosts'], 'a TCPRoute matches no host names (TCP carries none): remove hosts, and give listenPort instead');
      if (r.listenPort === undefined) issue(['listenPort'], 'a TCPRoute needs listenPort, the gateway port clients connect to (e.g. 5432)');
      else if ((RESERVED_LISTEN_PORTS as readonly number[]).includes(r.listenPort)) issue(['listenPort'], `listen port ${r.listenPort} is used by the gateway's HTTP and HTTPS listeners: choose another port`);
      if (r.paths !== undefined) issue(['paths'], 'a TCPRoute matches no paths: remove paths');
      if (r.tls?.issuerRef !== undefined || (r.tls !== undefined && r.tls.secretName === undefined)) issue(['tls'], 'a TCPRoute takes tls.secretName only (a certificate you provide); cert-manager issuance needs a host name');
    } else {
      if (r.hosts === undefined) issue(['hosts'], `a ${r.kind} needs hosts, the host names it serves, e.g. [shop.example.com]`);
      if (r.listenPort !== undefined) issue(['listenPort'], `listenPort is for TCPRoute only; a ${r.kind} uses the gateway's HTTP(S) listener of each host: remove it`);
    }
    if (r.paths !== undefined && r.rules !== undefined) issue(['paths'], 'declare paths or rules, not both (paths is a shorthand for rules with path matches)');
    if (r.paths !== undefined && r.kind === 'GRPCRoute') issue(['paths'], 'a GRPCRoute matches gRPC methods, not paths: use rules[].matches[].grpcMethod');
    r.rules?.forEach((rule, i) =>
      rule.matches.forEach((m, j) => {
        const at = ['rules', i, 'matches', j];
        const http = ['path', 'headers', 'method'].filter((k) => m[k as keyof typeof m] !== undefined);
        if (r.kind === 'HTTPRoute' && m.grpcMethod !== undefined) issue([...at, 'grpcMethod'], 'grpcMethod matches GRPCRoute only: set kind: GRPCRoute, or match path, headers and method');
        if (r.kind === 'GRPCRoute' && http.length > 0) issue([...at, http[0]!], `${http.join(', ')} match HTTPRoute only; a GRPCRoute matches grpcMethod`);
        if (r.kind === 'TCPRoute' && (http.length > 0 || m.grpcMethod !== undefined)) issue(at, 'a TCPRoute has no matches (TCP carries no path, header or method): remove rules');
      }),
    );
  });

/*
 * `spec.cloudAccess`: cloud permissions the service's pods need. Lattice never calls a cloud API:
 * it derives the identity objects an engine in the cluster reconciles (AWS Controllers for
 * Kubernetes for AWS, Azure Service Operator v2 for Azure; src/compiler/workload/cloud.ts), after a Cedar
 * `AccessCloud` permit for every action on every resource (docs/policy.md).
 */
/** An IAM action as IAM writes it: `<service prefix>:<action>` (wildcards `*` and `?` allowed), or `*`. */
export const AWS_ACTION = /^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/;
/** An ARN (`arn:<partition>:<service>:<region>:<account>:<resource>`, wildcards allowed) or `*`. */
export const AWS_RESOURCE = /^(\*|arn:(\*|aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):[^\s:]*:[^\s:]*:[^\s:]*:[^\s]+)$/;
/** An Azure scope: an ARM resource id (`/subscriptions/...`, `/providers/Microsoft.Management/managementGroups/...`). */
export const AZURE_SCOPE = /^\/(subscriptions|providers)\/[^\s]+$/;

const awsPermissionSchema = z.strictObject({
  actions: z
    .array(z.string().regex(AWS_ACTION, 'must be an IAM action such as s3:GetObject (service prefix, ":", action; wildcards * and ? allowed), or *'))
    .min(1)
    .describe('IAM actions, e.g. s3:GetObject. Wildcards (s3:*, *) are allowed by the schema but each action is a Cedar AccessCloud request whose resource has wildcard: true, so a platform policy can forbid them.'),
  resources: z
    .array(z.string().regex(AWS_RESOURCE, 'must be an ARN (arn:aws:s3:::bucket/*) or *'))
    .min(1)
    .describe('ARNs the actions apply to, e.g. arn:aws:s3:::orders/*.'),
});

const azureRoleSchema = z.strictObject({
  role: z
    .string()
    .min(1)
    .max(512)
    .describe('Azure role: a built-in role name (Storage Blob Data Reader; ASO roleDefinitionReference.wellKnownName) or a role definition ARM id (/subscriptions/.../providers/Microsoft.Authorization/roleDefinitions/<guid>).'),
  scopes: z
    .array(z.string().regex(AZURE_SCOPE, 'must be an Azure resource id starting with /subscriptions/ or /providers/'))
    .min(1)
    .describe('ARM ids of the scopes the role is assigned on (a resource, resource group or subscription).'),
});

/** `spec.cloudAccess`: AWS and Azure permissions of the service's pods. */
export const cloudAccessSchema = z
  .strictObject({
    aws: z
      .array(awsPermissionSchema)
      .min(1)
      .optional()
      .describe('AWS permissions: an IAM Role (ACK iam-controller) with these statements, bound to the service\'s ServiceAccount by an EKS Pod Identity association (ACK eks-controller). Needs LatticePlatform spec.cloud.aws.clusterName.'),
    azure: z
      .array(azureRoleSchema)
      .min(1)
      .optional()
      .describe('Azure role assignments: a user-assigned managed identity federated with the service\'s ServiceAccount (Azure Workload Identity) and one RoleAssignment per scope (Azure Service Operator v2). Needs LatticePlatform spec.cloud.azure.'),
  })
  .refine((c) => c.aws !== undefined || c.azure !== undefined, 'declare aws or azure permissions, or remove cloudAccess');

/** The `spec` of a LatticeService. */
export const latticeServiceSpecSchema = z
  .strictObject({
    replicas: z.number().int().min(0).default(1).describe('Number of pods; the minimum when autoscaling is set. Default 1.'),
    workload: z
      .strictObject({
        containers: z
          .record(dnsLabel, containerSchema)
          .refine((c) => Object.keys(c).length > 0, 'declare at least one container')
          .describe('The containers of each pod, name to container.'),
        service: z
          .strictObject({
            ports: z.record(portName, servicePortSchema).describe('Ports, name to port. The name "metrics" marks the metrics port.'),
            serviceType: z
              .enum(SERVICE_TYPES)
              .default('ClusterIP')
              .describe('ClusterIP (default: inside the cluster only), NodePort or LoadBalancer: every port reachable from outside the cluster, bypassing the gateways (not with spec.ingress). Needs a Cedar permit for ExposeRoute (kind LoadBalancer or NodePort) on each hostname, or on service:<namespace>/<name> without hostnames; the mesh then admits clients from outside the cluster (Cilium entity world) in plain text on these ports, and nothing else.'),
            hostnames: z
              .array(routeHost)
              .min(1)
              .max(16)
              .optional()
              .describe('DNS names of the exposed Service (with serviceType NodePort or LoadBalancer). Claimed like route hosts: one service per name.'),
            publishDns: z
              .boolean()
              .optional()
              .describe('Publish the hostnames in DNS through external-dns (annotation external-dns.alpha.kubernetes.io/hostname on the Service). Needs hostnames and serviceType NodePort or LoadBalancer.'),
            tls: tlsSchema
              .optional()
              .describe('A certificate for the hostnames, mounted read-only at /etc/lattice/tls (tls.crt, tls.key) in every container: {issuerRef} or {} (the public gateway\'s clusterIssuer) derive a cert-manager Certificate into Secret <service>-tls; {secretName} mounts your Secret instead.'),
          })
          .superRefine((svc, ctx) => {
            const exposed = svc.serviceType !== 'ClusterIP';
            if (svc.publishDns === true && (!exposed || svc.hostnames === undefined)) {
              ctx.addIssue({ code: 'custom', path: ['publishDns'], message: 'publishDns needs hostnames and serviceType NodePort or LoadBalancer: external-dns publishes the addresses of an exposed Service' });
            }
            if (svc.hostnames !== undefined && !exposed) {
              ctx.addIssue({ code: 'custom', path: ['hostnames'], message: 'hostnames name an exposed Service: set serviceType to NodePort or LoadBalancer, or use spec.ingress routes for names served by the gateways' });
            }
            if (svc.tls !== undefined && svc.tls.secretName === undefined && svc.hostnames === undefined) {
              ctx.addIssue({ code: 'custom', path: ['tls'], message: 'a certificate needs the names it is for: add hostnames, or bring a certificate with tls.secretName' });
            }
          })
          .optional()
          .describe('The network service the workload offers; derives a Kubernetes Service.'),
        hostNetwork: z
          .boolean()
          .optional()
          .describe('Use the node\'s network namespace (default false). true needs a Cedar permit for OverrideSecurity on SecurityOverride "hostNetwork".'),
        resources: z
          .record(dnsLabel, resourceSchema)
          .optional()
          .describe('What the workload depends on, name to resource: services it calls or is called by, secrets, external services, volumes, GPUs.'),
      })
      .describe('What runs: containers, the ports it serves and the resources it uses.'),
    sidecars: z
      .record(dnsLabel, sidecarSchema)
      .optional()
      .describe('Helper containers beside the workload\'s containers, name to sidecar (names must differ from the containers\'). A sidecar runs for the pod\'s whole life as a native sidecar (started before the containers); with init: true it runs once to completion first. Every sidecar goes through the same gates as a container.'),
    sysctls: z
      .record(
        z.string().max(253).regex(/^[a-z0-9]([-_a-z0-9]*[a-z0-9])?([./][a-z0-9]([-_a-z0-9]*[a-z0-9])?)*$/, 'is not a sysctl name such as net.ipv4.ip_unprivileged_port_start'),
        z.string().max(4096),
      )
      .optional()
      .describe('Kernel parameters of the pod\'s namespaces, name to value (pod securityContext.sysctls). Each needs a Cedar permit for SecurityOverride "sysctl:<name>"; the kubelet also refuses unsafe sysctls unless it allows them.'),
    hostNetwork: z
      .boolean()
      .optional()
      .describe('Use the node\'s network namespace (default false); the reference\'s place for workload.hostNetwork, either may be used. true needs a Cedar permit for SecurityOverride "hostNetwork".'),
    shareProcessNamespace: z
      .boolean()
      .optional()
      .describe('One process namespace for all containers of the pod (default false). true needs a Cedar permit for SecurityOverride "shareProcessNamespace".'),
    automountServiceAccountToken: z
      .boolean()
      .optional()
      .describe('Mount the ServiceAccount\'s Kubernetes API token into the pods (default false). true needs a Cedar permit for SecurityOverride "automountServiceAccountToken".'),
    topology: z
      .strictObject({
        mode: z.enum(['Hard', 'Soft']).describe('Hard: every pod must be placed within maxTier (pods stay pending otherwise). Soft: placement within maxTier is preferred.'),
        maxTier: z.number().int().min(1).max(16).optional().describe('Highest Volcano HyperNode tier the pods may spread over (1: one switch). Required with Hard.'),
      })
      .superRefine((t, ctx) => {
        if (t.mode === 'Hard' && t.maxTier === undefined) ctx.addIssue({ code: 'custom', path: ['maxTier'], message: 'topology mode Hard needs maxTier, the highest HyperNode tier the pods may spread over (e.g. 1 for one switch)' });
      })
      .optional()
      .describe('Network-topology-aware placement by the Volcano scheduler: the pods run under schedulerName volcano in a PodGroup whose networkTopology keeps them within maxTier.'),
    imagePullSecrets: z
      .array(dnsLabel)
      .optional()
      .describe('Registry credentials to pull the images with, each synced as a kubernetes.io/dockerconfigjson Secret: the name of a secret resource (key .dockerconfigjson), or of an ImageProvider with credentials (the original Lattice\'s meaning; its credential is read with a Cedar AccessSecret permit like any secret).'),
    autoscaling: z
      .strictObject({
        max: z.number().int().min(1).describe('Maximum number of pods.'),
        metrics: z.array(autoscalingMetricSchema).optional().describe('Metrics to scale on; cpu at 80% when omitted.'),
      })
      .optional()
      .describe('Horizontal autoscaling between replicas (the minimum) and max.'),
    ingress: z
      .strictObject({
        gatewayClass: dnsLabel
          .optional()
          .describe('GatewayClass the routes are meant for (the reference\'s field, default istio). Gateways are the platform\'s (LatticePlatform spec.gateways); a class other than the one of the gateway a route attaches to fails the service with reason GatewayClassMismatch.'),
        routes: z
          .record(dnsLabel, routeSchema)
          .refine((r) => Object.keys(r).length > 0, 'declare at least one route')
          .describe('Routes, name to route. Each derives a Gateway API HTTPRoute, GRPCRoute or TCPRoute attached to its listeners on the internal or public gateway.'),
      })
      .optional()
      .describe('Traffic from outside the mesh: HTTP, gRPC and TCP routes through the platform gateways to a port of the service.'),
    advertise: z
      .strictObject({
        allowedServices: z
          .array(z.string().regex(/^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z]([-a-z0-9]*[a-z0-9])?)$/, 'must be namespace/name (e.g. edge/haproxy-fw) or "*"'))
          .min(1)
          .describe('Services of other clusters allowed to call this one, namespace/name, or "*" for any (needs a Cedar permit for AllowWildcard on Mesh "advertise").'),
      })
      .optional()
      .describe('Make the service reachable from the other clusters of the mesh (Istio ambient multicluster): the Service is labelled istio.io/global: "true", the east-west gateway may reach the pods on ztunnel\'s HBONE port, and the Istio policy admits the listed identities on the service\'s ports. Needs LatticePlatform spec.mesh.eastWestGateway.'),
    cloudAccess: cloudAccessSchema
      .optional()
      .describe('Cloud permissions of the pods (AWS IAM through EKS Pod Identity, Azure roles through Workload Identity). Each permission needs a Cedar permit for AccessCloud; Lattice derives the identity objects, a cloud controller in the cluster creates them.'),
    observability: z
      .strictObject({
        metrics: z
          .strictObject({
            port: portName.optional().describe('Name of the port serving metrics (default: the port named metrics, else the first port).'),
            path: z.string().startsWith('/').default('/metrics').describe('HTTP path of the metrics (default /metrics).'),
            mappings: z
              .record(
                z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'is not a metric name part: letters, digits and "_", not starting with a digit'),
                z.string().min(1).max(4096).refine((q) => q.includes('$SELECTORS'), 'must use $SELECTORS where the service\'s series selector goes, e.g. sum(rate(http_requests_total{$SELECTORS}[5m]))'),
              )
              .optional()
              .describe('Named PromQL queries over this service\'s metrics (the reference\'s field), $SELECTORS standing for namespace="<namespace>",service="<name>". Each becomes a recording rule lattice:<name>:<key> in a VMRule <name>-metrics. Writing the values into the status (as the reference does) is not done.'),
          })
          .optional()
          .describe('Where the service exposes Prometheus metrics.'),
      })
      .optional()
      .describe('Observability settings. Metrics are scraped automatically; this only says where.'),
    backup: backupSchema
      .optional()
      .describe('How Velero backs the service up: hooks around the backup and which volumes it copies (pod annotations Velero reads). The Backup schedules are the platform\'s.'),
    deploy: z
      .strictObject({
        strategy: z
          .enum(['rolling', 'canary'])
          .default('rolling')
          .describe('rolling: replace pods 25% at a time, never below the desired count. canary: add one new pod at a time, each ready for minReadySeconds before the next.'),
        minReadySeconds: z.number().int().min(0).optional().describe('Seconds a new pod must stay ready before the rollout goes on (canary default 30, rolling default 0).'),
        canary: z
          .strictObject({
            interval: duration.optional().describe('Time between steps (the reference\'s field): becomes minReadySeconds, rounded up to whole seconds.'),
            stepWeight: z.number().int().min(1).max(100).optional().describe('Percent added per step: becomes the rollout\'s maxSurge (that percent of the replicas at a time, at least one pod; default one pod).'),
            maxWeight: z.number().int().min(1).max(100).optional().describe('Accepted for the reference\'s shape; not derived: Lattice shifts pods, not weighted traffic, so every step ends at 100%.'),
            threshold: z.number().int().min(1).optional().describe('Accepted for the reference\'s shape; not derived: there is no metric analysis or automatic rollback (a pod that is not ready stops the rollout).'),
          })
          .optional()
          .describe('Canary steps in the reference\'s shape (strategy canary): a rollout of pods, stepWeight percent at a time, each step ready for interval before the next. Traffic weighting and rollback (maxWeight, threshold) are not derived.'),
      })
      .superRefine((d, ctx) => {
        if (d.canary !== undefined && d.strategy !== 'canary') ctx.addIssue({ code: 'custom', path: ['canary'], message: 'canary settings need strategy: canary' });
        if (d.canary?.interval !== undefined && d.minReadySeconds !== undefined) ctx.addIssue({ code: 'custom', path: ['canary', 'interval'], message: 'set canary.interval or minReadySeconds, not both: the interval is the time each new pod must stay ready' });
      })
      .optional()
      .describe('How new versions roll out.'),
  })
  .superRefine((spec, ctx) => {
    const ports = spec.workload.service?.ports ?? {};
    const metricsPort = spec.observability?.metrics?.port;
    if (metricsPort !== undefined && ownValue(ports, metricsPort) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['observability', 'metrics', 'port'],
        message: `port "${metricsPort}" is not declared in workload.service.ports (declared: ${Object.keys(ports).join(', ') || 'none'})`,
      });
    }
    if (spec.observability?.metrics?.mappings !== undefined && Object.keys(ports).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['observability', 'metrics', 'mappings'], message: 'metric mappings query the service\'s scraped metrics, and a service without ports is not scraped: declare workload.service.ports (the port named metrics is scraped), or remove mappings' });
    }
    if (spec.advertise !== undefined && Object.keys(ports).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['advertise'], message: 'advertise makes the service\'s ports reachable from other clusters, and it declares none: declare workload.service.ports, or remove advertise' });
    }
    if (spec.autoscaling !== undefined) {
      if (spec.replicas > spec.autoscaling.max) {
        ctx.addIssue({ code: 'custom', path: ['replicas'], message: `replicas (${spec.replicas}, the minimum) is above autoscaling.max (${spec.autoscaling.max}): lower replicas or raise max` });
      }
      const seenMetrics = new Set<string>();
      spec.autoscaling.metrics?.forEach((m, i) => {
        const resource = m.metric === 'cpu' || m.metric === 'memory';
        if (resource && m.target > 100) {
          ctx.addIssue({ code: 'custom', path: ['autoscaling', 'metrics', i, 'target'], message: `${m.metric} target ${m.target} is a percentage of the request and must be at most 100` });
        }
        if (!resource && !PROMETHEUS_METRIC_NAME.test(m.metric)) {
          ctx.addIssue({ code: 'custom', path: ['autoscaling', 'metrics', i, 'metric'], message: `"${m.metric}" is neither cpu, memory nor a Prometheus metric name (letters, digits, "_" and ":", not starting with a digit)` });
        } else if (!resource && Object.keys(ports).length === 0) {
          ctx.addIssue({ code: 'custom', path: ['autoscaling', 'metrics', i, 'metric'], message: `scaling on metric ${m.metric} needs the service's metrics to be scraped, which needs a port: declare workload.service.ports (the port named metrics is scraped), or scale on cpu or memory` });
        }
        if (seenMetrics.has(m.metric)) {
          ctx.addIssue({ code: 'custom', path: ['autoscaling', 'metrics', i, 'metric'], message: `metric ${m.metric} is listed twice: keep one entry per metric` });
        }
        seenMetrics.add(m.metric);
      });
      const metrics = spec.autoscaling.metrics ?? [];
      if (spec.replicas === 0 && metrics.every((m) => m.metric === 'cpu' || m.metric === 'memory')) {
        ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'replicas 0 (scale to zero) needs a Prometheus metric among autoscaling.metrics: KEDA cannot wake a service from zero on cpu or memory alone. Set replicas to at least 1, or add a metric' });
      }
    }
    if (spec.ingress !== undefined && (spec.workload.service?.serviceType ?? 'ClusterIP') !== 'ClusterIP') {
      ctx.addIssue({ code: 'custom', path: ['workload', 'service', 'serviceType'], message: `serviceType ${spec.workload.service!.serviceType} exposes the service directly, and spec.ingress exposes it through the gateways: choose one (as the reference does)` });
    }
    for (const [rname, route] of Object.entries(spec.ingress?.routes ?? {})) {
      const declared = Object.keys(ports);
      const at = ['ingress', 'routes', rname];
      if (declared.length === 0) {
        ctx.addIssue({ code: 'custom', path: at, message: `route ${rname} needs a port to send traffic to: declare workload.service.ports` });
      } else if (route.port !== undefined && ownValue(ports, route.port) === undefined) {
        ctx.addIssue({ code: 'custom', path: [...at, 'port'], message: `port "${route.port}" is not declared in workload.service.ports (declared: ${declared.join(', ')})` });
      } else if (route.port === undefined && ports.http === undefined && declared.length > 1) {
        ctx.addIssue({ code: 'custom', path: [...at, 'port'], message: `route ${rname} names no port and the service has several (${declared.join(', ')}) and none named http: set port to one of them` });
      } else {
        const target = route.port ?? (ports.http !== undefined ? 'http' : declared[0]!);
        if (ports[target]!.protocol !== 'TCP') {
          ctx.addIssue({ code: 'custom', path: [...at, 'port'], message: `port "${target}" uses ${ports[target]!.protocol}; routes need a TCP port` });
        }
      }
    }
    const resources = spec.workload.resources ?? {};
    const requireSecret = (name: string, path: (string | number)[], use: string): void => {
      const r = ownValue(resources, name);
      if (r === undefined) {
        ctx.addIssue({ code: 'custom', path, message: `${use} names "${name}", which is not declared in workload.resources: add \`${name}: {type: secret}\` there` });
      } else if (r.type !== 'secret') {
        ctx.addIssue({ code: 'custom', path, message: `${use} names "${name}", a resource of type ${r.type}; only resources of type secret can be used here` });
      }
    };
    // A name that is not a declared resource may be an ImageProvider (checked when deriving: the
    // platform's providers are not known here); a declared resource must be a secret.
    spec.imagePullSecrets?.forEach((name, i) => {
      if (ownValue(resources, name) !== undefined) requireSecret(name, ['imagePullSecrets', i], 'imagePullSecrets');
    });
    for (const [cname, c] of Object.entries(spec.workload.containers)) {
      c.envFrom?.forEach((name, i) => requireSecret(name, ['workload', 'containers', cname, 'envFrom', i], 'envFrom'));
      for (const [mount, v] of Object.entries(c.volumes ?? {})) {
        if (v.source === undefined) continue;
        const name = v.source.replace(/^\$\{resources\.([^}.]+)\}$/, '$1');
        const r = ownValue(resources, name);
        if (r?.type !== 'volume') {
          ctx.addIssue({
            code: 'custom',
            path: ['workload', 'containers', cname, 'volumes', mount, 'source'],
            message: r === undefined
              ? `volume source "${v.source}" is not a declared resource: add \`${name}: {type: volume}\` to workload.resources`
              : `volume source "${v.source}" is a resource of type ${r.type}; it must be of type volume`,
          });
        }
      }
    }
    for (const [sname, sc] of Object.entries(spec.sidecars ?? {})) {
      if (ownValue(spec.workload.containers, sname) !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['sidecars', sname], message: `sidecar "${sname}" has the name of a container in workload.containers: containers and sidecars share one pod, so give the sidecar another name` });
      }
      for (const [mount, v] of Object.entries(sc.volumes ?? {})) {
        if (v.source === undefined) continue;
        const name = v.source.replace(/^\$\{resources\.([^}.]+)\}$/, '$1');
        if (ownValue(resources, name)?.type !== 'volume') {
          ctx.addIssue({ code: 'custom', path: ['sidecars', sname, 'volumes', mount, 'source'], message: `volume source "${v.source}" is not a declared resource of type volume: add \`${name}: {type: volume}\` to workload.resources` });
        }
      }
    }
    if (spec.hostNetwork !== undefined && spec.workload.hostNetwork !== undefined && spec.hostNetwork !== spec.workload.hostNetwork) {
      ctx.addIssue({ code: 'custom', path: ['hostNetwork'], message: `hostNetwork (${spec.hostNetwork}) and workload.hostNetwork (${spec.workload.hostNetwork}) disagree: they are one setting in two places, keep one of them` });
    }
    const gpus = Object.entries(resources).filter(([, r]) => r.type === 'gpu');
    if (gpus.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['workload', 'resources', gpus[1]![0]], message: `a pod takes one gpu resource; ${gpus.map(([n]) => n).join(' and ')} are both of type gpu: merge them into one (count is the number of GPUs)` });
    }
    for (const phase of ['pre', 'post'] as const) {
      spec.backup?.hooks?.[phase]?.forEach((h, i) => {
        if (ownValue(spec.workload.containers, h.container) === undefined) {
          ctx.addIssue({ code: 'custom', path: ['backup', 'hooks', phase, i, 'container'], message: `container "${h.container}" is not declared in workload.containers (declared: ${Object.keys(spec.workload.containers).join(', ')})` });
        }
      });
    }
    const backupVolumes = spec.backup?.volumes;
    for (const field of ['include', 'exclude'] as const) {
      backupVolumes?.[field]?.forEach((v, i) => {
        const r = ownValue(resources, v);
        if (r?.type !== 'volume') {
          ctx.addIssue({ code: 'custom', path: ['backup', 'volumes', field, i], message: `"${v}" is not a volume resource of this service: name a resource of type volume in workload.resources` });
        }
      });
    }
    if (backupVolumes !== undefined) {
      const unused = backupVolumes.defaultPolicy === 'opt-in' ? 'exclude' : 'include';
      if ((backupVolumes[unused]?.length ?? 0) > 0) {
        ctx.addIssue({ code: 'custom', path: ['backup', 'volumes', unused], message: `${unused} has no effect with defaultPolicy ${backupVolumes.defaultPolicy}: ${unused === 'include' ? 'every volume is backed up unless excluded; set defaultPolicy: opt-in to back up only the listed ones' : 'only included volumes are backed up; remove exclude'}` });
      }
    }
    const maxReplicas = Math.max(spec.replicas, spec.autoscaling?.max ?? 0);
    for (const [rname, r] of Object.entries(resources)) {
      if (r.type !== 'volume' || volumeRole(r) !== 'owner' || maxReplicas <= 1) continue;
      const mode = (r.params as { accessMode?: string } | undefined)?.accessMode ?? 'ReadWriteOnce';
      if (mode !== 'ReadWriteOnce') continue;
      ctx.addIssue({
        code: 'custom',
        path: ['workload', 'resources', rname, 'params', 'accessMode'],
        message:
          `volume ${rname} is ReadWriteOnce (the default) and the service runs up to ${maxReplicas} pods: a ReadWriteOnce claim attaches to one node, so every pod would have to run on that node (no tolerance of a node failure, and pods elsewhere stay Pending with a Multi-Attach error). ` +
          'Use accessMode: ReadWriteMany with a storage class that supports it, or run 1 replica (replicas: 1, no autoscaling above 1)',
      });
    }
    const seenTargetPorts = new Map<string, string>();
    for (const [name, p] of Object.entries(ports)) {
      const key = `${p.targetPort ?? p.port}/${p.protocol}`;
      const other = seenTargetPorts.get(key);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['workload', 'service', 'ports', name], message: `ports "${other}" and "${name}" both target ${key}: give each port its own targetPort` });
      }
      seenTargetPorts.set(key, name);
    }
  });

/** The `status` of a LatticeService, written by `lattice render` and the controller. */
export const latticeServiceStatusSchema = z.object({
  observedGeneration: z.number().int().optional().describe('The .metadata.generation the status describes.'),
  phase: z.enum(['Pending', 'Ready', 'Failed']).describe('Pending (not derived yet), Ready (everything derived) or Failed (nothing derived; see conditions).'),
  conditions: z.array(condition).describe('Validated, Ready and one condition per gate, each with a reason and an actionable message.'),
  resourceCount: z.number().int().describe('Number of derived resources.'),
  resources: z
    .array(
      z.object({
        apiVersion: z.string().describe('apiVersion of the derived object.'),
        kind: z.string().describe('Kind of the derived object.'),
        name: z.string().describe('Name of the derived object.'),
        namespace: z.string().optional().describe('Namespace of the derived object (empty for cluster-scoped).'),
      }),
    )
    .describe('The derived objects.'),
  message: z.string().optional().describe('One-line summary, e.g. "7 resources derived".'),
});

/** A LatticeService as written by a developer (before defaults). */
export const latticeServiceSchema = refusePrototypeKeys(workloadDocument(API_VERSION, KIND, latticeServiceSpecSchema, 'The service intent.'));

/** A validated LatticeService with defaults applied. */
export type LatticeService = z.output<typeof latticeServiceSchema>;
/** The spec with defaults applied. */
export type LatticeServiceSpec = z.output<typeof latticeServiceSpecSchema>;
/** A container with defaults applied. */
export type Container = z.output<typeof containerSchema>;
/** A sidecar with defaults applied. */
export type Sidecar = z.output<typeof sidecarSchema>;
/** Parsed params of a gpu resource. */
export type GpuParams = z.output<typeof gpuParamsSchema>;
/** Container security settings as validated. */
export type ContainerSecuritySpec = z.output<typeof containerSecuritySchema>;

/**
 * The capabilities a container adds, from either form (`[NET_ADMIN]` or `{add: [NET_ADMIN]}`), each
 * with its field path relative to `security` (`capabilities.0` or `capabilities.add.0`).
 */
export function addedCapabilities(security: { capabilities?: string[] | { add?: string[] | undefined } | undefined } | undefined): Array<{ name: string; field: string }> {
  const caps = security?.capabilities;
  if (caps === undefined) return [];
  if (Array.isArray(caps)) return caps.map((name, i) => ({ name, field: `capabilities.${i}` }));
  return (caps.add ?? []).map((name, i) => ({ name, field: `capabilities.add.${i}` }));
}

/** Where a container of the pod is declared. */
export type PodContainerRole = 'container' | 'sidecar' | 'init';

/** One container of the pod: a main container, a native sidecar or an init sidecar. */
export interface PodContainer {
  name: string;
  /** The container as declared (a sidecar has no envFrom). */
  container: Container;
  role: PodContainerRole;
  /** Field path of its declaration, e.g. `['spec', 'sidecars', 'vpn']`. */
  path: string[];
}

/**
 * Every container of a service's pod, in pod order: the `workload.containers` (declaration order),
 * then the `sidecars`. Every gate and deriver that reads containers reads this list, so a sidecar is
 * pinned, verified, authorized (DeployImage, OverrideSecurity) and wired like a container.
 */
export function podContainers(spec: Pick<LatticeServiceSpec, 'workload' | 'sidecars'>): PodContainer[] {
  const out: PodContainer[] = Object.entries(spec.workload.containers).map(([name, container]) => ({ name, container, role: 'container', path: ['spec', 'workload', 'containers', name] }));
  for (const [name, sidecar] of Object.entries(spec.sidecars ?? {})) {
    out.push({ name, container: sidecar as Container, role: sidecar.init === true ? 'init' : 'sidecar', path: ['spec', 'sidecars', name] });
  }
  return out;
}

/** The pod's hostNetwork setting from either place (`spec.hostNetwork` or `spec.workload.hostNetwork`). */
export function hostNetworkOf(spec: Pick<LatticeServiceSpec, 'workload' | 'hostNetwork'>): { value: boolean; path: string } {
  if (spec.hostNetwork !== undefined) return { value: spec.hostNetwork, path: 'spec.hostNetwork' };
  return { value: spec.workload.hostNetwork === true, path: 'spec.workload.hostNetwork' };
}
/** A resource entry with defaults applied. */
export type WorkloadResource = z.output<typeof resourceSchema>;
/** A probe. */
export type Probe = NonNullable<Container['livenessProbe']>;
/** The status written back onto the LatticeService. */
export type LatticeServiceStatus = z.output<typeof latticeServiceStatusSchema>;
/** Parsed params of a secret resource. */
export type SecretParams = z.output<typeof secretParamsSchema>;
/** Parsed params of an external-service resource. */
export type ExternalServiceParams = z.output<typeof externalServiceParamsSchema>;
/** A route of `spec.ingress.routes`, with defaults applied. */
export type Route = z.output<typeof routeSchema>;
/** Container resources as declared (explicit values or a profile). */
export type ContainerResources = Container['resources'];
/** `spec.cloudAccess`, validated. */
export type CloudAccess = z.output<typeof cloudAccessSchema>;
