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
 * - values: `spec.values`, and `spec.valuesFrom` entries `{kind: Secret, name, valuesKey}`, each a
 *   YAML values document in one key of a Secret. Flux merges the `valuesFrom` documents first, in
 *   order, and `spec.values` last (it wins on conflicts), so a value given through `valuesFrom` is
 *   removed from `spec.values`;
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

/** The workload kinds whose pod template the ambient post-render patch labels. */
export const AMBIENT_PATCHED_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

/** One `valuesFrom` entry of a HelmRelease. */
export interface ValuesReference {
  kind: 'Secret';
  name: string;
  valuesKey: string;
}

/** The key of the Secret `<package>-values` holding the secret part of the values. */
export const VALUES_KEY = 'values.yaml';

/** A value of the secret part of the values: the pieces of one string (text and secret keys). */
interface SecretLeaf {
  pieces: TemplatePiece[];
}

/** The secret part of the values: the maps on the way to each secret string, and the strings. */
type SecretTree = { [key: string]: SecretTree | SecretLeaf };

/** Values split into what the HelmRelease may carry and what comes from a Secret. */
export interface SplitValues {
  /** The values with every secret string removed (and `$${` unescaped). */
  values: Record<string, unknown>;
  /** The secret strings at their paths; empty when the values read no secret. */
  secret: SecretTree;
}

function isLeaf(node: SecretTree | SecretLeaf): node is SecretLeaf {
  return Array.isArray((node as SecretLeaf).pieces);
}

/** The name under which ESO gives a template a secret resource's key (workload/secrets.ts, templatedExternalSecret). */
function templateKey(piece: { binding: SecretBinding; key: string }): string {
  return `${piece.binding.resource}.${piece.key}`;
}

/** A Go template string literal: a raw string (backquotes) unless the text holds a backquote. */
function goString(text: string): string {
  return text.includes('`') ? JSON.stringify(text) : `\`${text}\``;
}

/** A YAML single-quoted scalar (quotes doubled), for the keys of the document. */
function yamlKey(key: string): string {
  return `'${key.replace(/'/g, "''")}'`;
}

/**
 * The secret part of the values as an ESO template (engine v2: Go text/template with the sprig
 * functions, external-secrets.io "Advanced Templating v2") that renders a YAML flow document: maps
 * as `{'key': value, ...}`, each secret string as `{{ <string> | toJson }}` (a JSON string is a YAML
 * double-quoted scalar), so whatever a secret holds (quotes, commas, newlines, digits only) arrives
 * in the values as that exact string. Template strings are raw (backquoted), so the template holds
 * no double quote unless a text piece does.
 */
export function secretValuesTemplate(tree: SecretTree): string {
  const node = (n: SecretTree | SecretLeaf): string => {
    if (!isLeaf(n)) return `{${Object.entries(n).map(([k, v]) => `${yamlKey(k)}: ${node(v)}`).join(', ')}}`;
    const args = n.pieces.map((p) => ('text' in p ? goString(p.text) : `(index . ${goString(templateKey(p))})`));
    return `{{ ${args.length === 1 ? args[0] : `print ${args.join(' ')}`} | toJson }}`;
  };
  return node(tree);
}

/**
 * Splits `values`: each string holding a `${resources.NAME.KEY}` placeholder of a secret resource is
 * taken out of the values and put, at the same path, in the secret part, which ESO renders into the
 * Secret `<package>-values` (key `values.yaml`) and the HelmRelease reads through `valuesFrom`. Flux
 * merges `valuesFrom` first and `spec.values` last, deep-merging maps, so the two parts meet again
 * in the release's values. A whole YAML document rather than `targetPath` entries: Flux parses a
 * `targetPath` value with Helm's `--set` syntax (fluxcd/helm-controller#1317), which would split a
 * secret at a comma or turn digits into a number.
 *
 * Errors (SecretsResolved, field `spec.values.<path>`): another placeholder, an unknown or non-secret
 * resource, a key not synced, an unclosed placeholder, a placeholder in a list (Helm replaces lists
 * as a whole) or in a map key, and template delimiters (`{{`, `}}`) in a key on a secret's path.
 */
export function splitValues(state: DerivationState, values: Record<string, unknown>, bindings: ReadonlyMap<string, SecretBinding>): SplitValues {
  const fail = (path: (string | number)[], reason: string, message: string): void => {
    state.diagnostics.push(secretError(state, ['spec', 'values', ...path], reason, message));
  };
  const secret: SecretTree = {};
  const put = (path: string[], leaf: SecretLeaf): void => {
    let at = secret;
    for (const seg of path.slice(0, -1)) {
      const next = at[seg];
      if (next === undefined || isLeaf(next)) at = at[seg] = {};
      else at = next;
    }
    at[path[path.length - 1]!] = leaf;
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
      let hasSecret = false;
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
        hasSecret = true;
      }
      if (!hasSecret) return { keep: true, value: pieces.map((p) => ('text' in p ? p.text : '')).join('') };
      if (inList) {
        fail(path, 'SecretInList', 'a secret placeholder inside a list cannot be given to Helm apart from the list (Helm replaces lists as a whole): use a map, or a chart value that names an existing Secret');
        return { keep: false, value };
      }
      const bad = path.find((seg) => typeof seg === 'string' && (seg.includes('{{') || seg.includes('}}')));
      if (bad !== undefined) {
        fail(path, 'InvalidValuesPath', `the key "${String(bad)}" on the way to this secret value holds "{{" or "}}", which the secret store's template language reserves: rename it`);
        return { keep: false, value };
      }
      put(path as string[], { pieces });
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
  return { values: visit(values, [], false).value as Record<string, unknown>, secret };
}

/** The secret strings of a tree, depth first, each with its pieces. */
function leaves(tree: SecretTree): SecretLeaf[] {
  return Object.values(tree).flatMap((n) => (isLeaf(n) ? [n] : leaves(n)));
}

/**
 * The ExternalSecret `<package>-values`: ESO fetches every secret key the values read (each from its
 * own provider) and renders {@link secretValuesTemplate} into the key `values.yaml` of the Secret
 * `<package>-values`.
 */
export function secretValuesExternalSecret(state: DerivationState, name: string, tree: SecretTree): KubeObject {
  // templatedExternalSecret builds the data references (providers, refresh interval); the template
  // itself is the YAML document.
  const all = leaves(tree).flatMap((l) => l.pieces);
  const es = templatedExternalSecret(state, name, { [VALUES_KEY]: all });
  const target = (es.spec as { target: { template: { data: Record<string, string> } } }).target;
  target.template.data = { [VALUES_KEY]: secretValuesTemplate(tree) };
  return es;
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
  if (Object.keys(split.secret).length > 0) {
    const ref: ValuesReference = { kind: 'Secret', name: childName([name, 'values'], 253), valuesKey: VALUES_KEY };
    spec.valuesFrom = [ref];
  }
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
  if (Object.keys(split.secret).length > 0) {
    state.objects.push(secretValuesExternalSecret(state, childName([pkg.metadata.name, 'values'], 253), split.secret));
  }
  state.objects.push(chartSource(state, pkg), helmRelease(state, pkg, split));
}
