/**
 * Configuration: `variables`, `files`, `command`/`args`, `envFrom`, `volumes` and `imagePullSecrets`
 * of every container, with `${...}` placeholders resolved. Non-secret text is resolved here; secret
 * keys are only ever referenced, through one of five routes (README, "Secrets"):
 *
 * 1. a variable that is exactly one secret placeholder: `env[].valueFrom.secretKeyRef`;
 * 2. a variable mixing text and secret placeholders: a templated ExternalSecret, read by secretKeyRef;
 * 3. a file whose content has secret placeholders: a templated ExternalSecret mounted by its directory
 *    (a projected volume, updated in place on rotation; see deriveFiles);
 * 4. `envFrom: [<secret resource>]`: the synced Secret as environment variables;
 * 5. `imagePullSecrets: [<secret resource>]`: a dockerconfigjson Secret used to pull images.
 *
 * Non-secret variables go to a ConfigMap read with envFrom, non-secret files to a ConfigMap mounted
 * with subPath (or in the projected volume of a secret file's directory). Every derived config
 * object feeds the pod's config hash. Secrets read as environment variables (routes 1, 2 and 4) are
 * listed for Stakater Reloader on the Deployment (`envSecretNames` in src/compiler/workload/pod.ts).
 */
import { podContainers, type Container, type VolumeParams } from '../../api/latticeservice/v1alpha1.ts';
import { parsedEndpoints } from '../../api/latticeservice/endpoint.ts';
import { claimName, volumeRole } from '../../api/latticeservice/volumes.ts';
import { ownValue } from '../../api/common.ts';
import { VALIDATED, fieldPath } from '../service/validate.ts';
import { childName } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import { parseTemplate, type TemplatePart } from './template.ts';
import {
  bindSecrets,
  externalSecretFor,
  secretError,
  templatedExternalSecret,
  type SecretBinding,
  type TemplatePiece,
} from './secrets.ts';
import type { ContainerWiring, DerivationState, Diagnostic, KubeObject } from '../types.ts';
import type { Volume } from 'kubernetes-types/core/v1.d.ts';

/** The fields that may carry secret placeholders, named in error messages. */
export const SECRET_CAPABLE_FIELDS = 'variables and file content';

interface Resolution {
  pieces: TemplatePiece[];
  hasSecret: boolean;
}

/** Derives ConfigMaps, ExternalSecrets and the container wiring of every container. */
export function deriveConfig(state: DerivationState): void {
  const { service } = state;
  const svc = service.metadata.name;
  const bindings = bindSecrets(state);
  for (const binding of bindings.values()) emit(state, externalSecretFor(state, binding));

  for (const { name: cname, container, path: base } of podContainers(service.spec)) {
    const wiring: ContainerWiring = { env: [], envFrom: [], volumeMounts: [] };
    state.pod.containers[cname] = wiring;

    // Route 4: whole secrets as environment variables. Listed first so declared variables win.
    for (const name of container.envFrom ?? []) {
      const binding = bindings.get(name);
      if (binding) wiring.envFrom.push({ secretRef: { name: binding.secretName } });
    }

    // Variables: plain text to a ConfigMap; route 1 and route 2 for secrets.
    const plain: Record<string, string> = {};
    const templated: Record<string, TemplatePiece[]> = {};
    const fieldOf: Record<string, (string | number)[]> = {};
    const templatedName = childName([svc, cname, 'secret-env'], 253);
    for (const [name, value] of Object.entries(container.variables ?? {})) {
      const res = resolve(state, value, [...base, 'variables', name], bindings, true);
      if (!res) continue;
      fieldOf[name] = [...base, 'variables', name];
      if (!res.hasSecret) {
        plain[name] = textOf(res.pieces);
      } else if (res.pieces.length === 1 && 'binding' in res.pieces[0]!) {
        const piece = res.pieces[0];
        wiring.env.push({ name, valueFrom: { secretKeyRef: { name: piece.binding.secretName, key: piece.key } } });
      } else {
        templated[name] = res.pieces;
        wiring.env.push({ name, valueFrom: { secretKeyRef: { name: templatedName, key: name } } });
      }
    }
    if (Object.keys(templated).length > 0 && fitsSecret(state, templatedName, templated, fieldOf)) {
      emit(state, templatedExternalSecret(state, templatedName, templated));
    }
    if (Object.keys(plain).length > 0) {
      const name = childName([svc, cname, 'env'], 253);
      if (fitsConfigMap(state, name, plain, fieldOf)) emit(state, configMap(state, name, plain));
      wiring.envFrom.push({ configMapRef: { name } });
    }

    deriveFiles(state, cname, container, bindings, wiring, base);
    deriveVolumes(state, cname, container, wiring);
  }

  // Route 5: registry credentials.
  for (const name of service.spec.imagePullSecrets ?? []) {
    const binding = bindings.get(name);
    if (binding) state.pod.imagePullSecrets.push({ name: binding.secretName });
  }
}

/**
 * Resolves the command, args and working directory of a container (non-secret placeholders only).
 * `base` is the container's field path (default `spec.workload.containers.<cname>`; a sidecar's is
 * `spec.sidecars.<name>`).
 */
export function resolveCommandLine(state: DerivationState, cname: string, container: Container, base: string[] = ['spec', 'workload', 'containers', cname]): { command?: string[]; args?: string[] } {
  const out: { command?: string[]; args?: string[] } = {};
  for (const field of ['command', 'args'] as const) {
    const list = container[field];
    if (list === undefined) continue;
    out[field] = list.map((item, i) => {
      const res = resolve(state, item, [...base, field, i], new Map(), false);
      return res ? textOf(res.pieces) : item;
    });
  }
  return out;
}

/**
 * Directories a secret file may not be mounted over: a secret file is mounted by its directory (see
 * {@link deriveFiles}), and mounting one of these would hide what every image keeps there (system
 * libraries, CA bundles, the shell). Filesystem Hierarchy Standard top levels and their usual children.
 */
export const SHADOW_FORBIDDEN_DIRECTORIES: readonly string[] = [
  '/', '/bin', '/boot', '/dev', '/etc', '/etc/ssl', '/etc/ssl/certs', '/etc/pki', '/home', '/lib', '/lib32', '/lib64', '/opt',
  '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/usr/bin', '/usr/lib', '/usr/local', '/usr/local/bin',
  '/usr/sbin', '/usr/share', '/var', '/var/lib', '/var/run',
];

/** The directory of an absolute file path (`/etc/app/a.conf` → `/etc/app`, `/a` → `/`). */
export function directoryOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** True when `path` is `dir` or below it. */
function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * The files of a container, mounted so that a rotated secret reaches the running pod (route 3):
 *
 * - a file with secret placeholders is rendered by ESO into the Secret `<svc>-<container>-secret-files`
 *   and mounted **by its directory**, never with `subPath`: the kubelet updates the files of a
 *   secret or projected volume in place when the Secret changes (atomic symlink swap, within the
 *   kubelet sync period plus its cache TTL, about a minute), but never a subPath mount
 *   (kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-files-from-a-pod, "mounted
 *   Secrets are updated automatically" ... "a container using a Secret as a subPath volume mount
 *   does not receive automated Secret updates"). The application must re-read the file.
 * - such a directory mount hides whatever the image has in that directory. So: every file at or
 *   below a secret file's directory (secret or not, including files in subdirectories) goes into one
 *   `projected` volume mounted at that directory (files sharing a directory share it; nested secret
 *   directories collapse into the outermost one); a secret file directly in a system directory
 *   ({@link SHADOW_FORBIDDEN_DIRECTORIES}, e.g. `/etc`) is refused (Validated, reason
 *   SecretFileShadowsImage) because it would hide the image's own files there; elsewhere the
 *   image's content of that directory is hidden, as the README says (keep secret files in a
 *   directory of their own).
 * - every other non-secret file stays a ConfigMap item mounted with `subPath`, which hides nothing;
 *   its content is in the config hash, so a change rolls the pods instead.
 */
function deriveFiles(
  state: DerivationState,
  cname: string,
  container: Container,
  bindings: Map<string, SecretBinding>,
  wiring: ContainerWiring,
  base: string[],
): void {
  const svc = state.service.metadata.name;
  const plainData: Record<string, string> = {};
  const secretData: Record<string, TemplatePiece[]> = {};
  const usedKeys = new Set<string>();
  const paths = Object.keys(container.files ?? {}).sort();
  const files: { path: string; key: string; mode?: number; secret: boolean }[] = [];
  const fieldOf: Record<string, (string | number)[]> = {};
  for (const path of paths) {
    const file = container.files![path]!;
    const fieldBase = [...base, 'files', path];
    let content = file.content;
    if (content === undefined && file.source !== undefined) {
      content = ownValue(state.input.fileSources, file.source);
      if (content === undefined) {
        const why = ownValue(state.input.fileSourceErrors, file.source);
        state.diagnostics.push(validationError(state, [...fieldBase, 'source'], 'FileSourceUnreadable',
          `file source "${file.source}" could not be read${why !== undefined ? `: ${why}` : ''}. A source is a path relative to the YAML file declaring the service, ` +
            'inside that file\'s folder, naming a regular file of at most 1 MiB; check that it exists there, or inline the text with content. (In a cluster, use content: the controller reads no local files.)'));
        continue;
      }
    }
    if (content === undefined) continue;
    const key = fileKey(path, usedKeys);
    const mode = file.mode !== undefined ? parseInt(file.mode, 8) : undefined;
    const res = file.noExpand ? { pieces: [{ text: content }], hasSecret: false } : resolve(state, content, [...fieldBase, 'content'], bindings, true);
    if (!res) continue;
    fieldOf[key] = [...fieldBase, file.content !== undefined ? 'content' : 'source'];
    if (res.hasSecret) {
      const dir = directoryOf(path);
      if (SHADOW_FORBIDDEN_DIRECTORIES.includes(dir)) {
        const base = path.slice(dir === '/' ? 1 : dir.length + 1);
        state.diagnostics.push(validationError(state, fieldBase, 'SecretFileShadowsImage',
          `file ${path} reads a secret, so it is mounted by its directory to receive rotated values in place; mounting ${dir} would hide the image's own files there. ` +
            `Move the file to a directory of its own, e.g. ${dir === '/' ? '' : dir}/${svc}/${base} or /run/secrets/${svc}/${base}, and point the application at it.`));
        continue;
      }
      secretData[key] = res.pieces;
    } else {
      plainData[key] = textOf(res.pieces);
    }
    const entry: { path: string; key: string; mode?: number; secret: boolean } = { path, key, secret: res.hasSecret };
    if (mode !== undefined) entry.mode = mode;
    files.push(entry);
  }
  // Outermost directories of secret files: each becomes one projected volume.
  const roots: string[] = [];
  for (const dir of [...new Set(files.filter((f) => f.secret).map((f) => directoryOf(f.path)))].sort((a, b) => a.length - b.length || (a < b ? -1 : 1))) {
    if (!roots.some((r) => isUnder(dir, r))) roots.push(dir);
  }
  roots.sort();
  const configMapName = childName([svc, cname, 'files'], 253);
  const secretName = childName([svc, cname, 'secret-files'], 253);
  // An oversized ConfigMap or Secret is an error on the service (fitsConfigMap/fitsSecret), so nothing is derived.
  if (Object.keys(plainData).length > 0 && fitsConfigMap(state, configMapName, plainData, fieldOf)) emit(state, configMap(state, configMapName, plainData));
  if (Object.keys(secretData).length > 0 && fitsSecret(state, secretName, secretData, fieldOf)) emit(state, templatedExternalSecret(state, secretName, secretData));
  const item = (f: { key: string; mode?: number }, path: string): { key: string; path: string; mode?: number } =>
    (f.mode !== undefined ? { key: f.key, path, mode: f.mode } : { key: f.key, path });
  roots.forEach((root, i) => {
    const under = files.filter((f) => isUnder(f.path, root));
    const rel = (p: string): string => (root === '/' ? p.slice(1) : p.slice(root.length + 1));
    const sources: NonNullable<NonNullable<Volume['projected']>['sources']> = [];
    const secretItems = under.filter((f) => f.secret).map((f) => item(f, rel(f.path)));
    const plainItems = under.filter((f) => !f.secret).map((f) => item(f, rel(f.path)));
    if (secretItems.length > 0) sources.push({ secret: { name: secretName, items: secretItems } });
    if (plainItems.length > 0) sources.push({ configMap: { name: configMapName, items: plainItems } });
    const volumeName = childName([cname, 'secret-dir', String(i)]);
    state.pod.volumes.push({ name: volumeName, projected: { sources } });
    wiring.volumeMounts.push({ name: volumeName, mountPath: root, readOnly: true });
  });
  const rest = files.filter((f) => !roots.some((r) => isUnder(f.path, r)));
  if (rest.length > 0) {
    const plainVolume = childName([cname, 'files']);
    state.pod.volumes.push({ name: plainVolume, configMap: { name: configMapName, items: rest.map((f) => item(f, f.key)) } });
    for (const f of rest) wiring.volumeMounts.push({ name: plainVolume, mountPath: f.path, subPath: f.key, readOnly: true });
  }
}

function deriveVolumes(state: DerivationState, cname: string, container: Container, wiring: ContainerWiring): void {
  const resources = state.service.spec.workload.resources ?? {};
  const defaultLimit = state.ctx.settings.defaultVolumeSizeLimit;
  let index = 0;
  for (const [mountPath, v] of Object.entries(container.volumes ?? {})) {
    let volumeName: string;
    if (v.source !== undefined) {
      const resource = v.source.replace(/^\$\{resources\.([^}.]+)\}$/, '$1');
      volumeName = childName(['shared', resource]);
      if (!state.pod.volumes.some((vol) => vol.name === volumeName)) {
        const r = ownValue(resources, resource);
        const params = (r?.params ?? {}) as VolumeParams;
        if (r !== undefined && volumeRole(r) !== 'local') {
          // A persistent volume: the claim this service owns, or the owner's claim (volumes.ts).
          state.pod.volumes.push({ name: volumeName, persistentVolumeClaim: { claimName: claimName(state.service.metadata.name, resource, r) } });
        } else {
          const emptyDir: NonNullable<Volume['emptyDir']> = { sizeLimit: params.sizeLimit ?? defaultLimit };
          if (params.medium) emptyDir.medium = params.medium;
          state.pod.volumes.push({ name: volumeName, emptyDir });
        }
      }
    } else {
      volumeName = childName([cname, 'scratch', String(index++)]);
      const emptyDir: NonNullable<Volume['emptyDir']> = { sizeLimit: v.sizeLimit ?? defaultLimit };
      if (v.medium) emptyDir.medium = v.medium;
      state.pod.volumes.push({ name: volumeName, emptyDir });
    }
    const mount: ContainerWiring['volumeMounts'][number] = { name: volumeName, mountPath };
    if (v.path !== undefined) mount.subPath = v.path;
    if (v.readOnly) mount.readOnly = true;
    wiring.volumeMounts.push(mount);
  }
}

/** A ConfigMap key for a file path: its base name, made unique with a numeric suffix. */
function fileKey(path: string, used: Set<string>): string {
  const base = (path.split('/').pop() || 'file').replace(/[^-._a-zA-Z0-9]/g, '_');
  let key = base;
  for (let n = 2; used.has(key); n++) key = `${base}-${n}`;
  used.add(key);
  return key;
}

function textOf(pieces: TemplatePiece[]): string {
  return pieces.map((p) => ('text' in p ? p.text : '')).join('');
}

/**
 * Most bytes the data of one ConfigMap or Secret may hold: 1 MiB (1048576). Kubernetes sums the
 * byte lengths of the values (`data` and `binaryData`; keys are not counted) and refuses the object
 * above `core.MaxSecretSize` = 1 * 1024 * 1024 (k8s.io/kubernetes pkg/apis/core/validation/
 * validation.go, ValidateConfigMap and ValidateSecret; "The data stored in a ConfigMap cannot exceed
 * 1 MiB", kubernetes.io/docs/concepts/configuration/configmap).
 */
export const MAX_CONFIG_DATA_BYTES = 1024 * 1024;

const DATA_SIZE_FIX =
  'Keep large content out of the spec: build it into the image, or mount it from a volume filled at runtime (an init container, an image volume); ' +
  'split it into smaller files if the program can read several. A Secret has the same 1 MiB limit, so moving it to a secret resource does not help.';

/**
 * True when `data` fits one ConfigMap ({@link MAX_CONFIG_DATA_BYTES}, counted in UTF-8 bytes as the
 * API server counts them); otherwise records a ConfigMapTooLarge error on the largest entry's field.
 */
function fitsConfigMap(state: DerivationState, name: string, data: Record<string, string>, fieldOf: Record<string, (string | number)[]>): boolean {
  const sizes = Object.entries(data).map(([key, value]) => ({ key, bytes: Buffer.byteLength(value, 'utf8') }));
  return fitsData(state, sizes, fieldOf, 'ConfigMapTooLarge', `ConfigMap ${name} would hold`);
}

/**
 * True when the Secret that ESO renders from a templated ExternalSecret can fit the 1 MiB limit:
 * its literal text alone (secret values come on top) must not exceed {@link MAX_CONFIG_DATA_BYTES}.
 * Otherwise records a SecretTooLarge error on the largest entry's field.
 */
function fitsSecret(state: DerivationState, name: string, data: Record<string, TemplatePiece[]>, fieldOf: Record<string, (string | number)[]>): boolean {
  const sizes = Object.entries(data).map(([key, pieces]) => ({ key, bytes: Buffer.byteLength(textOf(pieces), 'utf8') }));
  return fitsData(state, sizes, fieldOf, 'SecretTooLarge', `Secret ${name} (rendered by the External Secrets Operator) would hold at least`);
}

function fitsData(
  state: DerivationState,
  sizes: { key: string; bytes: number }[],
  fieldOf: Record<string, (string | number)[]>,
  reason: string,
  what: string,
): boolean {
  const total = sizes.reduce((n, s) => n + s.bytes, 0);
  if (total <= MAX_CONFIG_DATA_BYTES) return true;
  const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const path = ownValue(fieldOf, largest.key) ?? [];
  state.diagnostics.push(validationError(state, path, reason,
    `${what} ${total} bytes of data, over Kubernetes' limit of ${MAX_CONFIG_DATA_BYTES} bytes (1 MiB) for a ConfigMap's or Secret's data, so the API server would refuse it. ` +
      `The largest entry is ${fieldPath(path)} (${largest.bytes} bytes). ${DATA_SIZE_FIX}`));
  return false;
}

function emit(state: DerivationState, obj: KubeObject): void {
  state.objects.push(obj);
  state.pod.configInputs[`${obj.kind}/${obj.metadata.name}`] = JSON.stringify({ data: obj.data, spec: obj.spec });
}

function configMap(state: DerivationState, name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: derivedMeta(state, name), data };
}

function validationError(state: DerivationState, path: (string | number)[], reason: string, message: string): Diagnostic {
  const d: Diagnostic = { severity: 'error', condition: VALIDATED, reason, path: fieldPath(path), message };
  if (state.input.locate) d.location = state.input.locate(path);
  return d;
}

/**
 * Resolves the placeholders of `text`. Returns undefined (after recording diagnostics) when any
 * placeholder is invalid. `allowSecrets` is false for fields that cannot carry secrets.
 */
function resolve(
  state: DerivationState,
  text: string,
  path: (string | number)[],
  bindings: Map<string, SecretBinding>,
  allowSecrets: boolean,
): Resolution | undefined {
  const parsed = parseTemplate(text);
  if (!parsed.ok) {
    state.diagnostics.push(validationError(state, path, 'InvalidPlaceholder', `${parsed.message}`));
    return undefined;
  }
  const pieces: TemplatePiece[] = [];
  let ok = true;
  let hasSecret = false;
  for (const part of parsed.parts) {
    if (part.kind === 'text') {
      pieces.push({ text: part.text });
      continue;
    }
    const resolved = resolvePlaceholder(state, part, path, bindings, allowSecrets);
    if (resolved === undefined) {
      ok = false;
      continue;
    }
    if ('binding' in resolved) hasSecret = true;
    pieces.push(resolved);
  }
  if (!ok) return undefined;
  // Merge adjacent text pieces so route 1 is recognised exactly.
  const merged: TemplatePiece[] = [];
  for (const p of pieces) {
    const last = merged[merged.length - 1];
    if (last && 'text' in last && 'text' in p) merged[merged.length - 1] = { text: last.text + p.text };
    else merged.push(p);
  }
  return { pieces: merged, hasSecret };
}

function resolvePlaceholder(
  state: DerivationState,
  part: Extract<TemplatePart, { kind: 'placeholder' }>,
  path: (string | number)[],
  bindings: Map<string, SecretBinding>,
  allowSecrets: boolean,
): TemplatePiece | undefined {
  const { service } = state;
  const fail = (reason: string, message: string, secretProblem = false): undefined => {
    state.diagnostics.push(
      secretProblem ? secretError(state, path, reason, message) : validationError(state, path, reason, message),
    );
    return undefined;
  };
  const [root, ...rest] = part.path;
  if (root === 'metadata') {
    const [what, key] = rest;
    if (what === 'name' && key === undefined) return { text: service.metadata.name };
    if (what === 'namespace' && key === undefined) return { text: service.metadata.namespace ?? 'default' };
    if (what === 'annotations' && key !== undefined) {
      const value = ownValue(service.metadata.annotations, key);
      if (value === undefined) {
        return fail('UnknownPlaceholder', `placeholder ${part.raw} names annotation "${key}", which metadata.annotations does not have (it has: ${Object.keys(service.metadata.annotations ?? {}).join(', ') || 'none'}).`);
      }
      return { text: value };
    }
    return fail('UnknownPlaceholder', `placeholder ${part.raw} is not known. Valid metadata placeholders: \${metadata.name}, \${metadata.namespace}, \${metadata.annotations.KEY}.`);
  }
  if ((root !== 'resources' && root !== 'secret') || rest.length === 0) {
    return fail('UnknownPlaceholder', `placeholder ${part.raw} is not known. Placeholders start with metadata., resources. or secret., e.g. \${metadata.name}, \${resources.db.password} or \${secret.db.password}; write $\${ for a literal \${.`);
  }
  const [resourceName, key, ...extra] = rest as [string, string | undefined, ...string[]];
  const declared = service.spec.workload.resources ?? {};
  const resource = ownValue(declared, resourceName);
  if (!resource) {
    return fail('UnknownResource', `placeholder ${part.raw} names resource "${resourceName}", which is not declared in spec.workload.resources (declared: ${Object.keys(declared).join(', ') || 'none'}). Declare it or fix the name.`);
  }
  // ${secret.R.K} is the reference's spelling of ${resources.R.K} for a secret resource: the same
  // meaning (the value stays in the synced Secret, read by reference), and only for secrets.
  if (root === 'secret' && resource.type !== 'secret') {
    return fail('UnknownPlaceholder', `placeholder ${part.raw} reads resource "${resourceName}" as a secret, but it is of type ${resource.type}: write \${resources.${resourceName}.${key ?? 'KEY'}} for its ${resource.type === 'service' || resource.type === 'external-service' ? 'host, port or url' : 'value'}, or declare a secret resource.`);
  }
  if (key === undefined || extra.length > 0) {
    return fail('UnknownPlaceholder', `placeholder ${part.raw} must name one key of resource "${resourceName}", as \${resources.${resourceName}.KEY}. Valid keys: ${validKeys(state, resourceName).join(', ')}.`);
  }
  if (resource.type === 'secret') {
    if (!allowSecrets) {
      return fail('SecretInUnsupportedField',
        `placeholder ${part.raw} reads a secret, but this field cannot carry secrets because it is visible in the pod spec. ` +
          `Secret placeholders are allowed in ${SECRET_CAPABLE_FIELDS}. Put the secret in a variable and refer to it here as $(VARIABLE_NAME), which Kubernetes expands.`, true);
    }
    const binding = bindings.get(resourceName);
    if (!binding) return undefined; // the provider problem was already reported by bindSecrets
    if (binding.keys !== undefined && !binding.keys.includes(key)) {
      return fail('SecretKeyNotDeclared',
        `placeholder ${part.raw} uses key "${key}" of secret "${resourceName}", which is not in its params.keys (${binding.keys.join(', ')}). Add "${key}" to spec.workload.resources.${resourceName}.params.keys or use one of the declared keys.`, true);
    }
    return { binding, key };
  }
  const values = nonSecretValues(state, resourceName);
  if (values === undefined) {
    return fail('UnknownPlaceholder', `placeholder ${part.raw}: resources of type ${resource.type} have no values to insert; only secret, service and external-service resources do.`);
  }
  if (values.unknown?.keys.includes(key)) return fail('UnknownPlaceholder', `placeholder ${part.raw}: ${values.unknown.why}`);
  const value = ownValue(values.values, key);
  if (value === undefined) {
    return fail('UnknownPlaceholder', `placeholder ${part.raw} names key "${key}", which resource "${resourceName}" (type ${resource.type}) does not have. Valid keys: ${validKeys(state, resourceName).join(', ')}.`);
  }
  return { text: value };
}

function validKeys(state: DerivationState, resourceName: string): string[] {
  const r = ownValue(state.service.spec.workload.resources, resourceName);
  if (r?.type === 'secret') {
    const keys = (r.params as { keys?: string[] } | undefined)?.keys;
    return keys ?? ['any key of the remote secret'];
  }
  if (r?.type === 'service' || r?.type === 'external-service') return ['host', 'port', 'url'];
  return ['none'];
}

/** Values of a service or external-service resource, and the keys that exist but cannot be known yet. */
interface ResourceValues {
  values: Record<string, string>;
  unknown?: { keys: string[]; why: string };
}

/** host/port/url of a service or external-service resource; undefined for other types. */
function nonSecretValues(state: DerivationState, resourceName: string): ResourceValues | undefined {
  const { service, ctx } = state;
  const r = ownValue(service.spec.workload.resources, resourceName);
  if (!r) return undefined;
  if (r.type === 'service') {
    const target = r.id ?? resourceName;
    const namespace = r.namespace ?? service.metadata.namespace ?? 'default';
    const host = `${target}.${namespace}.svc.${ctx.settings.clusterDomain}`;
    const other = ctx.services.get(`${namespace}/${target}`);
    const firstPort = other ? Object.values(other.service.spec.workload.service?.ports ?? {})[0] : undefined;
    if (!firstPort) {
      const why = other ? `service ${namespace}/${target} declares no ports` : `service ${namespace}/${target} is not among the services Lattice knows`;
      return { values: { host }, unknown: { keys: ['port', 'url'], why: `${why}, so its port and url are unknown. Render it together with this service, or write the port literally.` } };
    }
    return { values: { host, port: String(firstPort.port), url: `http://${host}:${firstPort.port}` } };
  }
  if (r.type === 'external-service') {
    const first = parsedEndpoints(r.params)[0];
    if (first === undefined) return undefined;
    const e = first.endpoint;
    if (e.form === 'entity') {
      return { values: {}, unknown: { keys: ['host', 'port', 'url'], why: `its first endpoint is the Cilium entity ${e.entity}, which has no host name or URL to insert; write the address literally, or list a URL endpoint first` } };
    }
    const host = e.host.includes(':') ? `[${e.host}]` : e.host;
    return { values: { host: e.host, port: String(e.port), url: `${e.scheme}://${host}:${e.port}` } };
  }
  return undefined;
}
