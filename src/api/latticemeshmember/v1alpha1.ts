/**
 * `LatticeMeshMember` (lattice.dev/v1alpha1): brings a workload Lattice does not run (a Deployment
 * installed by Helm, an operator, a webhook) into the bilateral mesh. Lattice derives no pod, no
 * Deployment and no Service for it, only its side of the mesh: the CiliumNetworkPolicy and the Istio
 * AuthorizationPolicy a LatticeService of the same ports and peers would get, selecting the
 * workload's pods by `spec.target.selector`, with `spec.serviceAccount` as its mesh identity.
 *
 * Field names follow the reference design (github.com/evan-hines-js/lattice,
 * `crates/lattice-common/src/crd/mesh_member.rs`): `target`, `ports`, `allowedCallers`,
 * `dependencies`, `egress`, `serviceAccount`.
 *
 * Ambient enrolment: Lattice cannot label pods it does not own, and a namespace label is the
 * platform's, not Lattice's. The pods are enrolled when their namespace carries
 * `istio.io/dataplane-mode: ambient` (a LatticeTeam namespace does) or when the selector itself
 * names that label (the chart's pod labels set it, e.g. `podLabels` in its values); the derivation
 * refuses a member whose enrolment it cannot see (docs/meshmember.md).
 */
import { z } from 'zod';
import { API_VERSION, dnsLabel, refusePrototypeKeys, workloadDocument } from '../common.ts';
import { DNS1035_LABEL, DNS1123_SUBDOMAIN, portNameProblem } from '../names.ts';
import { latticeServiceStatusSchema } from '../latticeservice/v1alpha1.ts';

export const KIND = 'LatticeMeshMember';
export const PLURAL = 'latticemeshmembers';
export const SHORT_NAMES = ['lmm'];

/** The pod label that enrols a pod in Istio's ambient mesh (istio.io, "Add workloads to the mesh"). */
export const AMBIENT_POD_LABEL = { key: 'istio.io/dataplane-mode', value: 'ambient' } as const;

/**
 * Label keys Lattice sets on the pods it derives (src/compiler/naming.ts `standardLabels`, the ambient
 * label, the Azure Workload Identity label) and the `lattice.dev/` prefix. A mesh member's selector
 * made only of these keys could select pods of a Lattice workload and widen its policies without its
 * owners agreeing, so the selector must name at least one other key (test/meshmember.test.ts checks
 * the list against the labels of a derived pod template).
 */
export const LATTICE_POD_LABEL_KEYS: readonly string[] = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/component',
  AMBIENT_POD_LABEL.key,
  'azure.workload.identity/use',
];

/** True when a label key is one Lattice sets on its pods ({@link LATTICE_POD_LABEL_KEYS} or `lattice.dev/*`). */
export function isLatticePodLabelKey(key: string): boolean {
  return LATTICE_POD_LABEL_KEYS.includes(key) || key.startsWith('lattice.dev/');
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Why `key` is not a Kubernetes label key (`[prefix/]name`, apimachinery IsQualifiedName), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return 'has a prefix that is not a DNS subdomain (lower-case letters, digits, "-" and ".")';
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return 'is not a label key: at most 63 letters, digits, "-", "_" and "." after an optional "prefix/", starting and ending with a letter or digit';
  }
  return undefined;
}

const labelKey = z.string().superRefine((v, ctx) => {
  const problem = labelKeyProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `label key "${v}" ${problem}` });
});

const labelValue = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'is not a valid label value: use at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit');

/**
 * A pod label selector (equality only, like `matchLabels`): at least one label, and at least one key
 * Lattice does not set on its own pods ({@link isLatticePodLabelKey}).
 */
export const podSelectorSchema = z
  .record(labelKey, labelValue)
  .superRefine((labels, ctx) => {
    const keys = Object.keys(labels);
    if (keys.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'name at least one pod label, e.g. app.kubernetes.io/instance: redis' });
      return;
    }
    if (keys.every(isLatticePodLabelKey)) {
      ctx.addIssue({
        code: 'custom',
        message:
          `every key of this selector (${keys.join(', ')}) is a label Lattice also sets on the pods it runs, so it could select a Lattice workload's pods and open them to this member's peers without their owners agreeing. ` +
          'Add a label the workload\'s pods carry and Lattice never sets, e.g. app.kubernetes.io/instance (Helm sets it to the release name).',
      });
    }
  });

const port = z.number().int().min(1).max(65535);

const portName = z.string().superRefine((v, ctx) => {
  const problem = portNameProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `port name "${v}" ${problem}` });
});

/** A port the member's pods serve. */
export const meshMemberPortSchema = z.strictObject({
  port: port.describe('Container port the pods listen on (the port after Service translation, what the policies match).'),
  name: portName.describe('Port name (an IANA service name: lower-case letters, digits and "-").'),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP').describe('TCP (default), UDP or SCTP.'),
  peerAuth: z
    .string()
    .default('Strict')
    .refine((v) => v === 'Strict', 'peerAuth must be Strict: this version of Lattice derives mutual TLS only (Permissive and Webhook, which let plain text in, are not supported)')
    .describe('mTLS mode of the port: Strict (the only mode supported; ztunnel carries every call as mutual TLS).'),
});

/** Another workload of the mesh, by name (any kind: service, mesh member, package, ...). */
export const serviceRefSchema = z.strictObject({
  name: z
    .string()
    .regex(DNS1035_LABEL, 'must be a workload name (an RFC 1035 label: lower-case letters, digits and "-", starting with a letter)')
    .describe('Name of the other workload.'),
  namespace: dnsLabel.optional().describe('Its namespace (default: this namespace).'),
});

/** A caller allowed in: a workload by name, or "*" for any workload that declares this member as a dependency. */
export const callerRefSchema = z.strictObject({
  name: z
    .string()
    .refine((v) => v === '*' || DNS1035_LABEL.test(v), 'must be a workload name (an RFC 1035 label) or "*" for any caller')
    .describe('Name of the calling workload, or "*" for any workload that declares this one (needs a Cedar permit for AllowWildcard).'),
  namespace: dnsLabel.optional().describe('Its namespace (default: this namespace; with "*", only callers of that namespace).'),
});

/** A destination outside the mesh. */
export const egressRuleSchema = z.strictObject({
  target: z
    .strictObject({
      fqdn: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/, 'must be a fully qualified host name, e.g. api.stripe.com')
        .optional()
        .describe('Host name to reach (allowed by Cilium toFQDNs, declared to Istio as a ServiceEntry).'),
      cidr: z.string().optional().describe('Not supported by this version: name the host with fqdn.'),
      entity: z.string().optional().describe('Not supported by this version: name the host with fqdn.'),
    })
    .superRefine((t, ctx) => {
      if (t.cidr !== undefined || t.entity !== undefined) {
        ctx.addIssue({ code: 'custom', path: [t.cidr !== undefined ? 'cidr' : 'entity'], message: 'cidr and entity egress targets are not supported by this version of Lattice: name the destination host with fqdn' });
      } else if (t.fqdn === undefined) {
        ctx.addIssue({ code: 'custom', message: 'set target.fqdn, the host name to reach' });
      }
    })
    .describe('The destination: fqdn (a host name).'),
  ports: z.array(port).min(1).describe('TCP ports to reach it on, e.g. [443].'),
});

/** The target of a mesh member: the pods it stands for. */
export const meshMemberTargetSchema = z
  .strictObject({
    selector: podSelectorSchema.optional().describe('Labels of the pods (all must match), e.g. {app.kubernetes.io/instance: redis}.'),
    namespace: z.string().optional().describe('Not supported by this version (a whole namespace as one member): use selector.'),
  })
  .superRefine((t, ctx) => {
    if (t.namespace !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'a namespace target is not supported by this version of Lattice: select the pods with target.selector' });
    } else if (t.selector === undefined) {
      ctx.addIssue({ code: 'custom', path: ['selector'], message: 'set target.selector, the labels of the pods this member stands for' });
    }
  });

/**
 * The checks of a mesh side (a LatticeMeshMember's spec, a LatticePackage's `mesh`): at least one
 * port, dependency or egress rule (`whenEmpty` says so otherwise), and each port and port name once.
 */
export function checkMeshSide(
  s: { ports: readonly { port: number; protocol: string; name: string }[]; dependencies: readonly unknown[]; egress: readonly unknown[] },
  ctx: z.RefinementCtx,
  whenEmpty: string,
): void {
  if (s.ports.length === 0 && s.dependencies.length === 0 && s.egress.length === 0) ctx.addIssue({ code: 'custom', message: whenEmpty });
  const seen = new Map<string, number>();
  s.ports.forEach((p, i) => {
    const id = `${p.port}/${p.protocol}`;
    if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'port'], message: `port ${id} is declared twice (ports.${seen.get(id)}): declare each port once` });
    seen.set(id, i);
  });
  const names = new Set<string>();
  s.ports.forEach((p, i) => {
    if (names.has(p.name)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: `port name "${p.name}" is used twice: give each port its own name` });
    names.add(p.name);
  });
}

/** The spec of a LatticeMeshMember. */
export const latticeMeshMemberSpecSchema = z
  .strictObject({
    target: meshMemberTargetSchema.describe('The pods this member stands for, in its own namespace.'),
    ports: z.array(meshMemberPortSchema).default([]).describe('Ports the pods serve; callers reach only these.'),
    allowedCallers: z.array(callerRefSchema).default([]).describe('Workloads that may call this member (the inbound side of each agreement); each must also declare this member as a dependency.'),
    dependencies: z.array(serviceRefSchema).default([]).describe('Workloads this member calls (the outbound side); each must also accept this member.'),
    egress: z.array(egressRuleSchema).default([]).describe('Destinations outside the mesh (host names and ports); each needs a Cedar permit for AccessExternalEndpoint.'),
    serviceAccount: z
      .string()
      .regex(DNS1123_SUBDOMAIN, 'must be a ServiceAccount name (a DNS subdomain)')
      .max(253)
      .optional()
      .describe('ServiceAccount the pods run as: their mesh identity (SPIFFE principal) in the AuthorizationPolicies of their peers. Default: the member\'s name.'),
    serviceNames: z
      .array(dnsLabel)
      .min(1)
      .optional()
      .describe('Names of the Kubernetes Services in front of the pods (in this namespace): callers may resolve their DNS names (Cilium DNS rules). Default: [the member\'s name].'),
  })
  .superRefine((s, ctx) => checkMeshSide(s, ctx, 'declare at least one port, dependency or egress rule: a member with none of them takes part in no traffic'));

/** A LatticeMeshMember as written (before defaults). */
export const latticeMeshMemberSchema = refusePrototypeKeys(workloadDocument(API_VERSION, KIND, latticeMeshMemberSpecSchema, 'The workload\'s side of the mesh.'));

/** The status of a LatticeMeshMember: the same shape as a LatticeService's. */
export const latticeMeshMemberStatusSchema = latticeServiceStatusSchema;

/** A validated LatticeMeshMember with defaults applied. */
export type LatticeMeshMember = z.output<typeof latticeMeshMemberSchema>;
/** The spec with defaults applied. */
export type LatticeMeshMemberSpec = z.output<typeof latticeMeshMemberSpecSchema>;
/** A validated egress rule. */
export type EgressRule = z.output<typeof egressRuleSchema>;
