/**
 * The shapes the derivation pipeline works with: its inputs (a service and the platform around it),
 * its working state, and its outputs (derived objects, status, diagnostics). Pure data: no I/O here
 * or anywhere in the compiler.
 */
import type { EnvFromSource, EnvVar, LocalObjectReference, PodAffinityTerm, Volume, VolumeMount } from 'kubernetes-types/core/v1.d.ts';
import type { SourceLocation } from '../api/source.ts';
import type { LatticeService } from '../api/latticeservice/v1alpha1.ts';
import type { PlatformSettings } from '../api/latticeplatform/v1alpha1.ts';
import type { SecretProvider } from '../api/secretprovider/v1alpha1.ts';
import type { ImageProvider } from '../api/imageprovider/v1alpha1.ts';
import type { ImageVerification } from '../supplychain/verify.ts';
import type { NamespaceMetadata, PolicyEngine } from '../policy/index.ts';
import type { LatticeQuota } from '../api/latticequota/v1alpha1.ts';
import type { QuotaUsage } from './platform/quota.ts';
import type { ServiceGraph } from './mesh/graph.ts';
import type { HostClaims } from './mesh/ingress.ts';
import type { TeamsResult } from './platform/team.ts';

/** Any Kubernetes object Lattice derives. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Severity of a diagnostic: errors fail the service, warnings are shown in its conditions. */
export type Severity = 'error' | 'warning';

/**
 * One problem found while deriving a service, in words a developer can act on.
 * `condition` is the status condition it belongs to (Validated, SecretsResolved, ...), `reason` the
 * CamelCase reason written on that condition.
 */
export interface Diagnostic {
  severity: Severity;
  condition: string;
  reason: string;
  /** Field path, e.g. `spec.workload.containers.api.image`. */
  path?: string;
  /** What is wrong, why, and what to do. */
  message: string;
  /** Where in the input file, when the service came from a file. */
  location?: SourceLocation;
}

/** A LatticeService as it arrives: raw (unvalidated) data plus where it came from. */
export interface ServiceInput {
  /** The document as parsed from YAML or read from the API server. */
  object: unknown;
  /** Maps a field path to its position in the input file; absent for objects read from a cluster. */
  locate?: (path: readonly (string | number)[]) => SourceLocation;
  /** Contents of local files named by `files.*.source`, keyed by the path as written; read by the CLI. */
  fileSources?: Record<string, string>;
  /**
   * Why a `files.*.source` was not read (not a regular file, outside the spec's folder through a
   * symbolic link, over 1 MiB...), keyed by the path as written; set by the CLI (src/cli/load.ts).
   */
  fileSourceErrors?: Record<string, string>;
  /**
   * `object` already validated (latticeServiceSchema.parse(object)), when the caller has it (the
   * Fleet validates every service once to build the graph); the pipeline then does not validate again.
   */
  validated?: LatticeService;
}

/** A validated service in the platform's index, the view other services' derivations get of it. */
export interface IndexedService {
  key: string;
  /** The workload as the platform sees it: a LatticeService, or another kind's view (src/compiler/kinds.ts). */
  service: LatticeService;
  /** For another kind than LatticeService: its `kind` and its parsed document (e.g. a LatticeModel's model names). */
  kind?: string;
  value?: unknown;
}

/**
 * Everything a derivation may look at besides the service itself: settings and the platform's other
 * resources. Built once per platform snapshot and shared read-only by every service's derivation.
 */
export interface DerivationContext {
  settings: PlatformSettings;
  /** Valid services by `namespace/name`. */
  services: ReadonlyMap<string, IndexedService>;
  /** Valid SecretProviders by name. */
  secretProviders: ReadonlyMap<string, SecretProvider>;
  /** Name of the provider marked `default: true`, when exactly one is. */
  defaultSecretProvider?: string;
  /** Valid ImageProviders (registries, their credentials and trusted keys). */
  imageProviders: readonly ImageProvider[];
  /**
   * Image verification results by image reference as written, computed before derivation (it needs
   * the network). Undefined when the caller did not verify: then only digest pinning is checked and
   * an image under an enforcing ImageProvider fails as not verified.
   */
  images?: ReadonlyMap<string, ImageVerification>;
  /**
   * Asks the policy engine whether `service` may run `image` although its verification failed
   * (Cedar action `SkipImageVerification`). Undefined when no policy engine is configured: no skip.
   */
  skipImageVerification?: (service: LatticeService, image: string, verification: ImageVerification) => { allowed: boolean; policies: string[] };
  /**
   * Enabled CedarPolicies that could not be loaded as a whole (a Cedar syntax error, or not a valid
   * CedarPolicy document), and single forbid policies left out of an otherwise usable CedarPolicy.
   * The authorization gate refuses every request of an action one of them could have forbidden
   * (fail closed); left-out permits are not listed (without them, default deny already refuses).
   */
  invalidPolicies?: readonly InvalidPolicy[];
  /** The Cedar policy engine built from the platform's CedarPolicies (parsed once per change of them). */
  policyEngine?: PolicyEngine;
  /** Namespaces by name with their labels and annotations (team, environment, owner), from Namespace objects. */
  namespaces: Readonly<Record<string, NamespaceMetadata>>;
  /** Time written on condition transitions (RFC 3339). Fixed by the caller for reproducible output. */
  now: string;
  /** Valid LatticeQuotas by name (src/compiler/platform/quota.ts). Absent: no quota applies. */
  quotas?: ReadonlyMap<string, LatticeQuota>;
  /** Each quota's covered services and summed demand, by quota name; the quota gate reads it. */
  quotaUsage?: ReadonlyMap<string, QuotaUsage>;
  /**
   * The service graph over `services` (src/compiler/mesh/graph.ts): who calls whom, agreed or one-sided.
   * Kept up to date by the Fleet; when absent, the mesh stage builds one from `services`.
   */
  graph?: ServiceGraph;
  /**
   * Which services claim each route host, owner first (src/compiler/mesh/ingress.ts). Kept up to date by
   * the Fleet; when absent, the ingress stage builds it from `services`.
   */
  hostClaims?: HostClaims;
  /** What the namespace factory derived from the LatticeTeams (src/compiler/platform/team.ts). */
  teams?: TeamsResult;
  /**
   * When set, each stage of every derivation adds its time in milliseconds here, by stage function
   * name (`authorizationGate`, `deriveMesh`, ...; `validateService` and `buildStatus` too): the
   * per-phase figures of `LATTICE_TIMINGS=1 lattice render`. Measuring only; derived output is the same.
   */
  stageTimes?: Map<string, number>;
}

/** A CedarPolicy left out because of an error, as the authorization gate names it. */
export interface InvalidPolicy {
  /** metadata.name of the CedarPolicy. */
  name: string;
  /** `file:line:col` of the first error when known, else undefined. */
  where?: string;
  /** The first error, in Cedar's (or the schema's) words. */
  message: string;
  /** spec.owner of the CedarPolicy, when known. */
  owner?: string;
  /** The policy left out, when only one policy of the CedarPolicy is (`<name>/<id>`); absent: the whole CedarPolicy. */
  policyId?: string;
  /**
   * The actions whose requests it could have forbidden: a left-out forbid's action scope. Undefined:
   * every action (a whole CedarPolicy left out, or a forbid with an unconstrained action scope).
   */
  actions?: string[];
}

/** What concerns contribute to one container before the workload module assembles the pod. */
export interface ContainerWiring {
  env: EnvVar[];
  envFrom: EnvFromSource[];
  volumeMounts: VolumeMount[];
}

/** What concerns contribute to the pod template. */
export interface PodWiring {
  containers: Record<string, ContainerWiring>;
  volumes: Volume[];
  imagePullSecrets: LocalObjectReference[];
  /** Image to run per container when verification resolved a tag to a digest. */
  images: Record<string, string>;
  /**
   * Every piece of configuration whose change must roll the pods, by a stable key. Hashed into the
   * `lattice.dev/config-hash` pod annotation. Holds references and non-secret text only.
   */
  configInputs: Record<string, string>;
  /** Extra pod labels (e.g. `lattice.dev/volume-owner-<id>`); never override the standard labels. */
  podLabels?: Record<string, string>;
  /** Extra pod annotations (e.g. Velero's backup annotations). */
  podAnnotations?: Record<string, string>;
  /** Required pod affinity terms (e.g. beside the node a ReadWriteOnce claim is attached to). */
  podAffinity?: PodAffinityTerm[];
}

/** A condition as a stage reports it; the pipeline adds observedGeneration and transition time. */
export interface ConditionDraft {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** The working state of one service's derivation, passed through the stages in order. */
export interface DerivationState {
  readonly key: string;
  readonly service: LatticeService;
  readonly input: ServiceInput;
  readonly ctx: DerivationContext;
  readonly objects: KubeObject[];
  readonly diagnostics: Diagnostic[];
  /** Conditions reported by stages, by type. */
  readonly conditions: Map<string, ConditionDraft>;
  readonly pod: PodWiring;
}

/** The outcome for one service: its derived objects (none when it failed) and its status. */
export interface ServiceResult {
  /** `kind` of the workload (src/compiler/kinds.ts); absent means LatticeService. */
  kind?: string;
  key: string;
  namespace: string;
  name: string;
  /** The input object, as given. */
  object: unknown;
  objects: KubeObject[];
  status: import('../api/latticeservice/v1alpha1.ts').LatticeServiceStatus;
  diagnostics: Diagnostic[];
}
