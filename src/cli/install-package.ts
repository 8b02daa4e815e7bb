/**
 * `lattice install --format helm|kustomize --out-dir DIR`: the operator install (src/controller/install.ts)
 * as a Helm chart or a kustomize base, for platforms that deploy everything through Helm, Flux or
 * Argo CD. Both are generated from the same manifests as `lattice install`, so the three never differ.
 *
 * - Helm (helm.sh/docs/topics/charts/): `Chart.yaml` (apiVersion v2), `values.yaml` (image,
 *   replicas, extraArgs), the CRDs in `crds/` (Helm installs them before the templates and never
 *   templates or deletes them, helm.sh/docs/chart_best_practices/custom_resource_definitions/), and
 *   one template per other object with the three values substituted. The objects live in
 *   lattice-system whatever the release namespace; the chart creates that namespace (restricted Pod
 *   Security Standard), so install the release anywhere: `helm install lattice DIR`.
 * - kustomize (kubectl.docs.kubernetes.io/references/kustomize/kustomization/): one file per object
 *   and a `kustomization.yaml` listing them in apply order (`sortOptions.order: fifo`); change the
 *   image with kustomize's `images` field.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installManifests, type InstallOptions } from '../controller/install.ts';
import { toYaml } from './output.ts';

/** The files of a package, path relative to its folder → content. */
export type PackageFiles = Map<string, string>;

const IMAGE_MARK = 'lattice.invalid/helm-value-image:0';
const EXTRA_ARGS_MARK = '--helm-value-extra-args';
const REPLICAS_MARK = 987654321;

function fileName(o: Record<string, unknown>, i: number): string {
  const meta = o.metadata as { name: string };
  return `${String(i).padStart(2, '0')}-${String(o.kind).toLowerCase()}-${meta.name}.yaml`;
}

/** The Helm chart of the operator install; `opts` give the chart's default values. */
export function helmChart(opts: Required<Pick<InstallOptions, 'image' | 'replicas' | 'extraArgs' | 'version'>>): PackageFiles {
  const files: PackageFiles = new Map();
  const objects = installManifests({ ...opts, image: IMAGE_MARK, replicas: REPLICAS_MARK, extraArgs: [EXTRA_ARGS_MARK] });
  files.set('Chart.yaml', toYaml({
    apiVersion: 'v2',
    name: 'lattice',
    description: 'The Lattice operator: derives each LatticeService\'s Kubernetes objects and keeps them reconciled.',
    type: 'application',
    version: opts.version,
    appVersion: opts.version,
  }));
  files.set('values.yaml', [
    '# Operator image: build it from the repository Dockerfile; pin a digest in production.',
    toYaml({ image: opts.image }).trimEnd(),
    '# Controller replicas: one leads (Lease), the others stand by.',
    toYaml({ replicas: opts.replicas }).trimEnd(),
    '# Extra arguments for `lattice controller`, e.g. ["--log-level=debug"].',
    toYaml({ extraArgs: opts.extraArgs }).trimEnd(),
    '',
  ].join('\n'));
  objects.forEach((o, i) => {
    if (o.kind === 'CustomResourceDefinition') {
      files.set(`crds/${(o.metadata as { name: string }).name}.yaml`, toYaml(o));
      return;
    }
    const text = toYaml(o)
      .replace(IMAGE_MARK, '{{ .Values.image }}')
      .replace(`replicas: ${REPLICAS_MARK}`, 'replicas: {{ .Values.replicas }}')
      .replace(new RegExp(`^( *)- "?${EXTRA_ARGS_MARK}"?\\n`, 'm'), (_m, indent: string) =>
        `${indent}{{- range .Values.extraArgs }}\n${indent}- {{ . | quote }}\n${indent}{{- end }}\n`);
    files.set(`templates/${fileName(o, i)}`, text);
  });
  return files;
}

/** The kustomize base of the operator install. */
export function kustomizeBase(opts: InstallOptions): PackageFiles {
  const files: PackageFiles = new Map();
  const names: string[] = [];
  installManifests(opts).forEach((o, i) => {
    const name = fileName(o, i);
    names.push(name);
    files.set(name, toYaml(o));
  });
  files.set('kustomization.yaml', toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', sortOptions: { order: 'fifo' }, resources: names }));
  return files;
}

/** Writes a package's files under `dir`. */
export function writePackage(dir: string, files: PackageFiles): void {
  for (const [rel, text] of files) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}
