/**
 * `LatticePackage` (lattice.dev/v1alpha1): a Helm chart as an escape hatch. Lattice does not run Helm
 * itself: it derives a Flux `HelmRelease` (helm.toolkit.fluxcd.io/v2) and its chart source, a
 * `HelmRepository` for an https repository or an `OCIRepository` for an oci:// one
 * (source.toolkit.fluxcd.io/v1), and Flux's helm-controller installs and upgrades the release.
 *
 * Secrets never enter the values: a string holding `${resources.NAME.KEY}` (NAME a secret resource)
 * is removed from `values` and given to the release through `valuesFrom`, from a Secret External
 * Secrets Operator renders (src/compiler/package/release.ts). The chart is authorized by Cedar (action DeployPackage) before anything is
 * derived, and the chart's pods join the bilateral mesh through `spec.mesh`, a mesh member
 * (src/api/latticemeshmember/) whose policies are derived with the package.
 *
 * Field names follow the reference design (github.com/evan-hines-js/lattice,
 * `crates/lattice-common/src/crd/package.rs`): `chart.{repository,name,version}`, `values`,
 * `resources`, `mesh.{selector,ports,allowedCallers,dependencies,egress}`, `skipCrds`, `timeout`.
 */
import { z } from 'zod';
import { API_VERSION, dnsLabel, refusePrototypeKeys, workloadDocument } from '../common.ts';
import { DNS1123_SUBDOMAIN } from '../names.ts';
import { latticeServiceStatusSchema, resourceSchema } from '../latticeservice/v1alpha1.ts';
import { callerRefSchema, checkMeshSide, egressRuleSchema, meshMemberPortSchema, podSelectorSchema, serviceRefSchema } from '../latticemeshmember/v1alpha1.ts';

export const KIND = 'LatticePackage';
export const PLURAL = 'latticepackages';
export const SHORT_NAMES = ['lpkg'];

/** An exact SemVer 2 version (semver.org), optionally with a leading v: no ranges, no floating versions. */
export const EXACT_SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** A Flux duration (`metav1.Duration` as Flux's CRDs accept it): `5m`, `1h30m`, `90s`. */
export const FLUX_DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

/** The chart to install. */
export const chartRefSchema = z.strictObject({
  repository: z
    .string()
    .superRefine((v, ctx) => {
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a URL: write e.g. https://charts.bitnami.com/bitnami or oci://registry.example.com/charts` });
        return;
      }
      if (url.protocol !== 'https:' && url.protocol !== 'oci:') {
        ctx.addIssue({ code: 'custom', message: `"${v}" has scheme ${url.protocol.replace(/:$/, '')}: use https:// (a Helm repository) or oci:// (an OCI registry); plain http is not allowed` });
      } else if (url.hostname === '') {
        ctx.addIssue({ code: 'custom', message: `"${v}" has no host` });
      } else if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
        ctx.addIssue({ code: 'custom', message: `"${v}" carries credentials, a query or a fragment: give the plain repository URL` });
      }
    })
    .describe('Chart repository: https://... (a Helm repository, derives a Flux HelmRepository) or oci://... (the registry path the chart is pushed under, derives a Flux OCIRepository).'),
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/, 'must be a chart name: lower-case letters, digits, "-", "_" and "."')
    .max(253)
    .describe('Chart name in the repository, e.g. redis.'),
  version: z
    .string()
    .regex(EXACT_SEMVER, 'must be an exact chart version such as 18.6.1: ranges and floating versions are not allowed, so that what runs is what was authorized')
    .describe('Exact chart version (SemVer), e.g. 18.6.1. Required: no ranges, no floating versions.'),
});

/** How the chart's pods take part in the mesh: a mesh member derived with the package. */
export const packageMeshSchema = z
  .strictObject({
    selector: podSelectorSchema.describe('Labels of the chart\'s pods (all must match), e.g. {app.kubernetes.io/instance: redis}.'),
    ports: z.array(meshMemberPortSchema).default([]).describe('Ports the pods serve; callers reach only these.'),
    allowedCallers: z.array(callerRefSchema).default([]).describe('Workloads that may call the chart\'s pods (each must also declare the package as a dependency).'),
    dependencies: z.array(serviceRefSchema).default([]).describe('Workloads the chart\'s pods call (each must also accept the package).'),
    egress: z.array(egressRuleSchema).default([]).describe('Destinations outside the mesh (host names and ports); each needs a Cedar permit for AccessExternalEndpoint.'),
    serviceAccount: z
      .string()
      .regex(DNS1123_SUBDOMAIN, 'must be a ServiceAccount name (a DNS subdomain)')
      .max(253)
      .optional()
      .describe('ServiceAccount the chart\'s pods run as (set by the chart, often the release name): their mesh identity. Default: the package name.'),
    serviceNames: z
      .array(dnsLabel)
      .min(1)
      .optional()
      .describe('Names of the Kubernetes Services in front of the pods (in this namespace): callers may resolve their DNS names (Cilium DNS rules). Default: [the package\'s name].'),
  })
  .superRefine((m, ctx) => checkMeshSide(m, ctx, 'declare at least one port, dependency or egress rule, or leave mesh out'));

/** The spec of a LatticePackage. */
export const latticePackageSpecSchema = z.strictObject({
  chart: chartRefSchema.describe('The Helm chart: repository, name and exact version.'),
  values: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Helm values. A string value that is or contains ${resources.NAME.KEY} (NAME a secret resource) is resolved by External Secrets into the Secret <package>-values and passed through HelmRelease valuesFrom; secret values never appear in the HelmRelease. $${ is a literal ${.'),
  resources: z
    .record(dnsLabel, resourceSchema)
    .optional()
    .superRefine((resources, ctx) => {
      for (const [name, r] of Object.entries(resources ?? {})) {
        if (r.type !== 'secret') {
          ctx.addIssue({ code: 'custom', path: [name, 'type'], message: `a package resource must be of type secret (got ${r.type}): declare the chart's peers under mesh.dependencies and mesh.allowedCallers, external hosts under mesh.egress` });
        }
      }
    })
    .describe('Secrets the values read, name to resource (type secret only; the same fields as a LatticeService\'s secret resources). Each needs a Cedar permit for AccessSecret.'),
  mesh: packageMeshSchema.optional().describe('The chart\'s pods in the bilateral mesh. Without it the pods are in no agreement, and the platform\'s default deny leaves them no traffic.'),
  skipCrds: z.boolean().default(false).describe('Do not install the CRDs the chart ships (HelmRelease install.crds: Skip). Default false: CRDs are created on install, never replaced on upgrade.'),
  timeout: z
    .string()
    .regex(FLUX_DURATION, 'is not a duration: write e.g. 5m or 10m30s')
    .optional()
    .describe('How long Helm waits for each install or upgrade operation (HelmRelease timeout; Flux default 5m).'),
});

/** A LatticePackage as written (before defaults). */
export const latticePackageSchema = refusePrototypeKeys(workloadDocument(API_VERSION, KIND, latticePackageSpecSchema, 'The chart, its values and its place in the mesh.'));

/** The status of a LatticePackage: the same shape as a LatticeService's. */
export const latticePackageStatusSchema = latticeServiceStatusSchema;

/** A validated LatticePackage with defaults applied. */
export type LatticePackage = z.output<typeof latticePackageSchema>;
/** The spec with defaults applied. */
export type LatticePackageSpec = z.output<typeof latticePackageSpecSchema>;
/** The chart reference. */
export type ChartRef = z.output<typeof chartRefSchema>;
/** The mesh section. */
export type PackageMesh = z.output<typeof packageMeshSchema>;
