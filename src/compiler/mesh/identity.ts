/**
 * How the mesh sees a workload's pods: the labels that select them and the ServiceAccount they run
 * as (their SPIFFE identity in Istio, `k8s:io.cilium.k8s.policy.serviceaccount` in Cilium).
 *
 * A workload Lattice runs (a LatticeService, a job task) has pods labelled
 * `app.kubernetes.io/name: <name>` running as ServiceAccount `<name>`. A workload Lattice does not
 * run (a LatticeMeshMember, a LatticePackage's chart) has pods labelled by someone else, so its kind
 * attaches its identity to the view it gives the platform ({@link withMeshIdentity}); the mesh stage
 * reads it for the workload itself and for every peer ({@link meshIdentityOf}).
 */
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { selectorLabels } from '../naming.ts';

/** The pods of a workload as policies select them. */
export interface MeshIdentity {
  /** Labels every pod of the workload carries (equality match, like `matchLabels`). */
  podLabels: Record<string, string>;
  /** The ServiceAccount the pods run as, in the workload's namespace. */
  serviceAccount: string;
  /**
   * Names of the Kubernetes Services in front of the pods, whose DNS names callers may resolve;
   * undefined: the workload's own name (a Service Lattice derives).
   */
  serviceNames?: string[];
  /**
   * Where the workload's kind declares its peers, for messages and positions: `['spec']` for a
   * LatticeMeshMember (`spec.allowedCallers`, `spec.dependencies`, `spec.egress`), `['spec', 'mesh']`
   * for a LatticePackage; undefined: `spec.workload.resources` (a LatticeService).
   */
  declaredIn?: readonly string[];
}

/**
 * The property a view carries its identity under. A symbol: never serialised (JSON, YAML), never a
 * field of the LatticeService schema, and copied by object spread with the view.
 */
const MESH_IDENTITY: unique symbol = Symbol('lattice.meshIdentity');

type WithIdentity = LatticeService & { [MESH_IDENTITY]?: MeshIdentity };

/** `view` with `identity` attached (mutates and returns it). */
export function withMeshIdentity(view: LatticeService, identity: MeshIdentity): LatticeService {
  (view as WithIdentity)[MESH_IDENTITY] = identity;
  return view;
}

/** The identity a workload's view carries, or the one of a workload Lattice runs: name label and ServiceAccount `<name>`. */
export function meshIdentityOf(service: LatticeService): MeshIdentity {
  return (service as WithIdentity)[MESH_IDENTITY] ?? { podLabels: selectorLabels(service.metadata.name), serviceAccount: service.metadata.name };
}

/** True when the view carries an identity of its own (a workload whose pods Lattice does not label). */
export function hasOwnMeshIdentity(service: LatticeService): boolean {
  return (service as WithIdentity)[MESH_IDENTITY] !== undefined;
}
