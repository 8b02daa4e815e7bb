/**
 * Container size profiles: a container may declare `resources: {profile: small}` instead of explicit
 * requests and limits. The defaults below give a CPU request, a memory request and a memory limit;
 * no CPU limit, so a container may use idle CPU on its node (Kubernetes "Burstable" QoS class,
 * kubernetes.io/docs/concepts/workloads/pods/pod-qos/). The memory limit sits above the request so
 * that a short peak does not get the container OOM-killed, while the request (what the scheduler
 * reserves and what quotas count) stays what the container normally uses.
 *
 * The platform may redefine any profile with LatticePlatform `spec.sizeProfiles`; a redefined
 * profile replaces the default one entirely.
 */
import type { PlatformSettings, SizeProfileSetting } from '../../api/latticeplatform/v1alpha1.ts';
import type { Container, SizeProfile } from '../../api/latticeservice/v1alpha1.ts';
import { parseQuantity } from '../../api/quantity.ts';

/** The profile whose CPU request a container with memory-only limits gets. */
export const DEFAULT_CPU_REQUEST_PROFILE: SizeProfile = 'small';

/** CPU (cores) and memory amounts as Kubernetes quantities; absent when not set. */
export interface ResourceAmounts {
  cpu?: string;
  memory?: string;
}

/** The requests and limits a container gets in its pod spec. */
export interface ResolvedResources {
  requests: ResourceAmounts;
  limits: ResourceAmounts;
  /** The profile they came from, when the container declares one. */
  profile?: SizeProfile;
}

/**
 * The default size profiles (CPU request / memory request / memory limit): small 250m/384Mi/512Mi,
 * medium 500m/768Mi/1Gi, large 1/2Gi/3Gi, xlarge 2/4Gi/6Gi.
 */
export const DEFAULT_PROFILES: Readonly<Record<SizeProfile, SizeProfileSetting>> = {
  small: { requests: { cpu: '250m', memory: '384Mi' }, limits: { memory: '512Mi' } },
  medium: { requests: { cpu: '500m', memory: '768Mi' }, limits: { memory: '1Gi' } },
  large: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '3Gi' } },
  xlarge: { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '6Gi' } },
};

/** The definition of `profile` on this platform: the platform's redefinition, else the default. */
export function profileDefinition(profile: SizeProfile, settings: Pick<PlatformSettings, 'sizeProfiles'>): SizeProfileSetting {
  return settings.sizeProfiles?.[profile] ?? DEFAULT_PROFILES[profile];
}

/**
 * The requests and limits of a container: from its profile, or its explicit values with each missing
 * request defaulting to the limit (as the API server does for a request left out next to a limit).
 * The LatticeService schema guarantees a memory limit; a container with no CPU amount (memory-only
 * limits) requests the small profile's CPU ({@link DEFAULT_CPU_REQUEST_PROFILE}).
 */
export function resolveResources(container: Pick<Container, 'resources'>, settings: Pick<PlatformSettings, 'sizeProfiles'>): ResolvedResources {
  const r = container.resources;
  if (r.profile !== undefined) {
    const def = profileDefinition(r.profile, settings);
    const limits: ResourceAmounts = { memory: def.limits.memory };
    if (def.limits.cpu !== undefined) limits.cpu = def.limits.cpu;
    return { requests: { cpu: def.requests.cpu, memory: def.requests.memory }, limits, profile: r.profile };
  }
  const requests: ResourceAmounts = {};
  const limits: ResourceAmounts = {};
  for (const res of ['cpu', 'memory'] as const) {
    const req = r.requests?.[res] ?? r.limits?.[res];
    if (req !== undefined) requests[res] = req;
    const lim = r.limits?.[res];
    if (lim !== undefined) limits[res] = lim;
  }
  // Memory-only limits (the reference's `limits: {memory}`): no CPU amount at all. Without a request
  // the scheduler would reserve nothing and a CPU quota would count nothing, so the container
  // requests the small profile's CPU (no CPU limit: it may burst).
  if (requests.cpu === undefined) return { requests: { cpu: profileDefinition(DEFAULT_CPU_REQUEST_PROFILE, settings).requests.cpu, ...requests }, limits };
  return { requests, limits };
}

/**
 * The resource requests of one pod of a service, summed over its containers: CPU in millicores and
 * memory in bytes, both whole numbers so that sums over many services are exact.
 */
export interface PodRequests {
  milliCpu: number;
  memory: number;
}

/** Sums the CPU (millicores) and memory (bytes) requests of the given containers. */
export function podRequests(containers: Readonly<Record<string, Pick<Container, 'resources'>>>, settings: Pick<PlatformSettings, 'sizeProfiles'>): PodRequests {
  let milliCpu = 0;
  let memory = 0;
  for (const c of Object.values(containers)) {
    const { requests } = resolveResources(c, settings);
    if (requests.cpu !== undefined) milliCpu += Math.round(parseQuantity(requests.cpu) * 1000);
    if (requests.memory !== undefined) memory += Math.round(parseQuantity(requests.memory));
  }
  return { milliCpu, memory };
}
