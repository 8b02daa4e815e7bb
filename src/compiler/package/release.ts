/**
 * The Flux objects of a LatticePackage: the chart source, the HelmRelease, and the split of its
 * values into plain values and secret references.
 *
 * Flux (fluxcd.io, helm-controller "HelmReleases"; source-controller "HelmRepositories",
 * "OCIRepositories"):
 * - an https chart repository is a `HelmRepository` (source.toolkit.fluxcd.io/v1, `spec.url`), and
 *   the release names the chart in it: `spec.chart.spec.{chart, version, sourceRef}`;
 * - an OCI registry is an `OCIRepository` (source.toolkit.fluxcd.io/v1) at
 *   `oci://<registry path>/<chart>` with `ref.tag` the chart version (Helm writes a `+` of a version
 *   as `_` in OCI tags) and the Helm chart layer selected as is (`layerSelector` media type
 *   `application/vnd.cncf.helm.chart.content.v1.tar+gzip`, `operation: copy`); the release points
 *   at it with `spec.chartRef` (Flux's recommended way for OCI charts);
 * - values: `spec.values`, and `spec.valuesFrom` entries `{kind: Secret, name, valuesKey,
 *   targetPath}`, each setting one value at a dot-notation path from one key of a Secret. Flux merges
 *   the `valuesFrom` entries first, in order, and `spec.values` last (it wins on conflicts), so a
 *   value given through `valuesFrom` is removed from `spec.values`;
 * - `postRenderers[].kustomize.patches`: JSON 6902 patches applied to the rendered chart; Lattice
 *   uses one to put the ambient label on the pod templates of the chart's Deployments,
 *   StatefulSets and DaemonSets when the package joins the mesh.
 */
import { parseTemplate } from '../workload/template.ts';
import { externalSecretFor, bindSecrets, templatedExternalSecret, secretError, type SecretBinding, type TemplatePiece } from '../workload/secrets.ts';
import { childName } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import { AMBIENT_POD_LABEL } from '../../api/latticemeshmember/v1alpha1.ts';
import type { LatticePackage } from '../../api/latticepackage/v1alpha1.ts';
import type { DerivationState, KubeObject } from '../types.ts';

/** Flux helm-controller's HelmRelease API. */
export const HELM_RELEASE_API_VERSION = 'helm.toolkit.fluxcd.io/v2';
/** Flux source-controller's API of HelmRepository and OCIRepository. */
export const FLUX_SOURCE_API_VERSION = 'source.toolkit.fluxcd.io/v1';
/** Media type of a Helm chart's content layer in an OCI artifact (helm.sh, "Use OCI-based registries"). */
export const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
/** How often Flux reconciles the release (drift, failed upgrades). */
export const RELEASE_INTERVAL = '10m';
/** How often Flux checks the chart source. */
export const SOURCE_INTERVAL = '1h';
/** Helm's limit on release names (helm.sh: release names are at most 53 characters). */
export const MAX_RELEASE_NAME = 53;
/** Longest `targetPath` Flux accepts (HelmRelease CRD, `valuesFrom[].targetPath` maxLength). */
export const MAX_TARGET_PATH = 250;

/** The workload kinds whose pod template the ambient post-render patch labels. */
export const AMBIENT_PATCHED_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

/** One `valuesFrom` entry of a HelmRelease. */
export interface ValuesReference {
  kind: 'Secret';
  name: string;
  valuesKey: string;
  targetPath: string;
}

/** Values split into what the HelmRelease may carry and what comes from Secrets. */
export interface SplitValues {
  /** The values with every secret placeholder removed (and `$${` unescaped). */
  values: Record<string, unknown>;
  valuesFrom: ValuesReference[];
  /** Values built from several pieces (text around a secret), by the key of the Secret `<package>-values`. */
  templated: Record<string, TemplatePiece[]>;
}

/** Why a values key cannot be written in a Flux targetPath, or undefined. Dots are escaped as `\.`. */
function targetPathSegment(key: string): string | undefined {
  if (!/^[A-Za-z0-9_\-./]+$/.test(key)) return undefined;
  return key.replace(/\./g, '\\.');
}

/**
 * Splits `values`: each string holding a `${resources.NAME.KEY}` placeholder of a secret resource is
 * taken out of the values and becomes a `valuesFrom` entry at its path: from the synced Secret of
 * NAME when the placeholder is the whole string, else from the key `<path>` of the templated Secret
 * `<package>-values` (ESO renders the text around it). Errors (reported on SecretsResolved, field
 * `spec.values.<path>`): another placeholder, an unknown or non-secret resource, a key not synced,
 * a placeholder in a list or a map key, a path Flux cannot address.
 */
export function splitValues(state: DerivationState, values: Record<string, unknown>, bindings: ReadonlyMap<string, SecretBinding>): SplitValues {
  const out: SplitValues = { values: {}, valuesFrom: [], templated: {} };
  const templatedName = childName([state.service.metadata.name, 'values'], 253);
  const usedKeys = new Set<string>();
  const fail = (path: (string | number)[], reason: string, message: string): void => {
    state.diagnostics.push(secretError(state, ['spec', 'values', ...path], reason, message));
  };
  const visit = (value: unknown, path: (string | number)[], inList: boolean): { keep: boolean; value: unknown } => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return { keep: true, value };
      const parsed = parseTemplate(value);
      if (!parsed.ok) {
        fail(path, 'InvalidPlaceholder', parsed.message);
        return { keep: false, value };
      }
      const pieces: TemplatePiece[] = [];
      let secret = false;
      for (const part of parsed.parts) {
        if (part.kind === 'text') {
          pieces.push({ text: part.text });
          continue;
        }
        const [root, resource, key, ...rest] = part.path;
        const binding = resource === undefined ? undefined : bindings.get(resource);
        if (root !== 'resources' || resource === undefined || key === undefined || rest.length > 0) {
          fail(path, 'InvalidPlaceholder', `${part.raw}: package values may only name a key of a secret resource, \${resources.NAME.KEY}; write $\${ for a literal \${`);
          return { keep: false, value };
        }
        if (!binding) {
          fail(path, 'UnknownResource', `${part.raw} names "${resource}", which is not a secret resource of this package: declare it under spec.resources (type: secret)`);
          return { keep: false, value };
        }
        if (binding.keys !== undefined && !binding.keys.includes(key)) {
          fail(path, 'UnknownSecretKey', `${part.raw} reads key "${key}", which secret resource "${resource}" does not sync (params.keys: ${binding.keys.join(', ')}): add it to params.keys`);
          return { keep: false, value };
        }
        pieces.push({ binding, key });
        secret = true;
      }
      if (!secret) return { keep: true, value: pieces.map((p) => ('text' in p ? p.text : '')).join('') };
      if (inList) {
        fail(path, 'SecretInList', 'a secret placeholder inside a list cannot be passed to Helm on its own (Flux replaces lists as a whole): use a map, or a chart value that names an existing Secret');
        return { keep: false, value };
      }
      const segments: string[] = [];
      for (const seg of path) {
        const s = typeof seg === 'number' ? undefined : targetPathSegment(seg);
        if (s === undefined) {
          fail(path, 'InvalidValuesPath', `the key "${String(seg)}" on the way to this secret value holds characters a Flux targetPath cannot address (letters, digits, "_", "-", ".", "/"): rename it, or use a chart value that names an existing Secret`);
          return { keep: false, value };
        }
        segments.push(s);
      }
      const targetPath = segments.join('.');
      if (targetPath.length > MAX_TARGET_PATH) {
        fail(path, 'InvalidValuesPath', `the path of this secret value is ${targetPath.length} characters long; Flux accepts at most ${MAX_TARGET_PATH}`);
        return { keep: false, value };
      }
      const only = pieces.length === 1 ? pieces[0] : undefined;
      if (only && 'binding' in only) {
        out.valuesFrom.push({ kind: 'Secret', name: only.binding.secretName, valuesKey: only.key, targetPath });
      } else {
        let key = targetPath.replace(/\\\./g, '.').replace(/[^-._a-zA-Z0-9]/g, '_');
        for (let n = 2; usedKeys.has(key); n++) key = `${key}-${n}`;
        usedKeys.add(key);
        out.templated[key] = pieces;
        out.valuesFrom.push({ kind: 'Secret', name: templatedName, valuesKey: key, targetPath });
      }
      return { keep: false, value };
    }
    if (Array.isArray(value)) {
      return { keep: true, value: value.map((v, i) => visit(v, [...path, i], true).value) };
    }
    if (value !== null && typeof value === 'object') {
      const obj: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (k.includes('${')) {
          fail([...path, k], 'InvalidPlaceholder', 'a placeholder in a values key is not resolved: write the secret in a value, never in a key');
          continue;
        }
        const r = visit(v, [...path, k], inList);
        if (r.keep) obj[k] = r.value;
      }
      return { keep: true, value: obj };
    }
    return { keep: true, value };
  };
  out.values = visit(values, [], false).value as Record<string, unknown>;
  return out;
}

/** The Flux source of the chart: a HelmRepository (https) or an OCIRepository (oci). */
export function chartSource(state: DerivationState, pkg: LatticePackage): KubeObject {
  const { chart } = pkg.spec;
  const name = pkg.metadata.name;
  if (chart.repository.startsWith('oci://')) {
    return {
      apiVersion: FLUX_SOURCE_API_VERSION,
      kind: 'OCIRepository',
      metadata: derivedMeta(state, name),
      spec: {
        interval: SOURCE_INTERVAL,
        url: `${chart.repository.replace(/\/+$/, '')}/${chart.name}`,
        ref: { tag: chart.version.replace(/\+/g, '_') },
        layerSelector: { mediaType: HELM_CHART_LAYER, operation: 'copy' },
      },
    };
  }
  return {
    apiVersion: FLUX_SOURCE_API_VERSION,
    kind: 'HelmRepository',
    metadata: derivedMeta(state, name),
    spec: { interval: SOURCE_INTERVAL, url: chart.repository },
  };
}

/** The post-renderer that labels the chart's pod templates `istio.io/dataplane-mode: ambient`. */
export function ambientPostRenderer(): Record<string, unknown> {
  const patch = `- op: add\n  path: /spec/template/metadata/labels/${AMBIENT_POD_LABEL.key.replace(/~/g, '~0').replace(/\//g, '~1')}\n  value: ${AMBIENT_POD_LABEL.value}\n`;
  return { kustomize: { patches: AMBIENT_PATCHED_KINDS.map((kind) => ({ target: { kind }, patch })) } };
}

/** The HelmRelease of a package (see the module comment for each field's meaning). */
export function helmRelease(state: DerivationState, pkg: LatticePackage, split: SplitValues): KubeObject {
  const { chart } = pkg.spec;
  const name = pkg.metadata.name;
  const spec: Record<string, unknown> = { interval: RELEASE_INTERVAL, releaseName: name };
  if (chart.repository.startsWith('oci://')) spec.chartRef = { kind: 'OCIRepository', name };
  else spec.chart = { spec: { chart: chart.name, version: chart.version, sourceRef: { kind: 'HelmRepository', name } } };
  if (pkg.spec.timeout !== undefined) spec.timeout = pkg.spec.timeout;
  spec.install = { crds: pkg.spec.skipCrds ? 'Skip' : 'Create' };
  spec.upgrade = { crds: 'Skip' };
  if (pkg.spec.mesh) spec.postRenderers = [ambientPostRenderer()];
  if (Object.keys(split.values).length > 0) spec.values = split.values;
  if (split.valuesFrom.length > 0) spec.valuesFrom = split.valuesFrom;
  return { apiVersion: HELM_RELEASE_API_VERSION, kind: 'HelmRelease', metadata: derivedMeta(state, name), spec };
}

/**
 * The package's deriver: an ExternalSecret per secret resource, the values split
 * ({@link splitValues}) with the templated ExternalSecret `<package>-values` when needed, the chart
 * source and the HelmRelease.
 */
export function derivePackageRelease(state: DerivationState, pkg: LatticePackage): void {
  if (pkg.metadata.name.length > MAX_RELEASE_NAME) {
    state.diagnostics.push({
      severity: 'error',
      condition: 'Validated',
      reason: 'InvalidSpec',
      path: 'metadata.name',
      message: `a package's name is its Helm release name, which Helm limits to ${MAX_RELEASE_NAME} characters (this one has ${pkg.metadata.name.length}): choose a shorter name`,
      ...(state.input.locate ? { location: state.input.locate(['metadata', 'name']) } : {}),
    });
    return;
  }
  const bindings = bindSecrets(state);
  for (const binding of bindings.values()) state.objects.push(externalSecretFor(state, binding));
  const split = splitValues(state, pkg.spec.values ?? {}, bindings);
  if (Object.keys(split.templated).length > 0) {
    state.objects.push(templatedExternalSecret(state, childName([pkg.metadata.name, 'values'], 253), split.templated));
  }
  state.objects.push(chartSource(state, pkg), helmRelease(state, pkg, split));
}
