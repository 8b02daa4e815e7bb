/**
 * Secrets: External Secrets Operator (ESO, external-secrets.io/v1) resources for the secret resources
 * a service declares. Lattice only ever emits references (remote keys, properties, templates); the
 * values are fetched and assembled by ESO inside the cluster.
 *
 * - one `ExternalSecret` per secret resource, syncing its keys (`data`) or all keys (`dataFrom.extract`)
 *   into a Secret of the same name, owned by the ExternalSecret (`creationPolicy: Owner`);
 * - templated ExternalSecrets (routes 2 and 3 of the README) whose `target.template` renders a whole
 *   string from text and secret keys, using ESO's Go-template engine v2;
 * - one `ClusterSecretStore` per SecretProvider (platform level);
 * - the secret store boundary (platform level, {@link secretStoreBoundary}): a ValidatingAdmissionPolicy
 *   that lets only Lattice create ExternalSecrets and PushSecrets against those stores.
 */
import type { SecretProvider } from '../../api/secretprovider/v1alpha1.ts';
import { ClusterSecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore';
import type { SecretParams } from '../../api/latticeservice/v1alpha1.ts';
import { credentialKey } from '../../api/imageprovider/v1alpha1.ts';
import { ownValue } from '../../api/common.ts';
import { childName } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import type { Diagnostic, DerivationState, KubeObject } from '../types.ts';
import { fieldPath } from '../service/validate.ts';

/** The ESO API version Lattice emits. */
export const ESO_API_VERSION = 'external-secrets.io/v1';
/** Condition type of secret problems. */
export const SECRETS_RESOLVED = 'SecretsResolved';
/** ESO's refresh interval when a secret resource sets none. */
export const DEFAULT_REFRESH_INTERVAL = '1h';
/** Secret type of registry credentials (kubernetes.io/docs/concepts/configuration/secret/#docker-config-secrets). */
export const DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';

/** A secret resource of a service, resolved to its provider and remote key. */
export interface SecretBinding {
  /** Resource name in `spec.workload.resources`. */
  resource: string;
  /** SecretProvider (and ClusterSecretStore) name. */
  provider: string;
  /** Key (path) in the backend: `id`, or `<namespace>/<resource>`. */
  remoteKey: string;
  /** Declared keys; undefined means every key of the remote secret. */
  keys?: string[];
  refreshInterval: string;
  secretType?: string;
  /** Name of the synced Kubernetes Secret (and of its ExternalSecret). */
  secretName: string;
}

/** Name of the Secret synced for secret resource `resource` of service `service`. */
export function syncedSecretName(service: string, resource: string): string {
  return childName([service, resource], 253);
}

/**
 * Resolves every secret resource of the service to its provider, reporting a missing default
 * provider or an unknown provider as SecretsResolved errors. Resources used as imagePullSecrets get
 * the dockerconfigjson type. An imagePullSecrets name that is not a resource names an ImageProvider
 * (the original Lattice's meaning): its credential (`.dockerconfigjson` of `spec.credentials`) is
 * bound under that name, so it is synced like a secret resource.
 */
export function bindSecrets(state: DerivationState): Map<string, SecretBinding> {
  const { service, ctx } = state;
  const name = service.metadata.name;
  const namespace = service.metadata.namespace ?? 'default';
  const pullSecrets = new Set(service.spec.imagePullSecrets ?? []);
  const bindings = new Map<string, SecretBinding>();
  for (const [resource, r] of Object.entries(service.spec.workload.resources ?? {})) {
    if (r.type !== 'secret') continue;
    const params = (r.params ?? {}) as SecretParams;
    const path = ['spec', 'workload', 'resources', resource, 'params', 'provider'];
    const provider = params.provider ?? ctx.defaultSecretProvider;
    if (provider === undefined) {
      state.diagnostics.push(secretError(state, path, 'NoSecretProvider',
        `secret resource "${resource}" names no provider and the platform has no default SecretProvider. ` +
          `Set params.provider to one of: ${[...ctx.secretProviders.keys()].join(', ') || '(none declared)'}, or ask the platform team to mark a SecretProvider default: true.`));
      continue;
    }
    if (!ctx.secretProviders.has(provider)) {
      state.diagnostics.push(secretError(state, path, 'SecretProviderNotFound',
        `secret resource "${resource}" uses SecretProvider "${provider}", which does not exist in lattice-system. ` +
          `Known providers: ${[...ctx.secretProviders.keys()].join(', ') || '(none)'}. Fix the name or ask the platform team to create it.`));
      continue;
    }
    let secretType = params.secretType;
    if (pullSecrets.has(resource)) {
      if (secretType !== undefined && secretType !== DOCKER_CONFIG_JSON) {
        state.diagnostics.push(secretError(state, ['spec', 'workload', 'resources', resource, 'params', 'secretType'], 'InvalidPullSecret',
          `secret resource "${resource}" is used in imagePullSecrets, so its type must be ${DOCKER_CONFIG_JSON}, not ${secretType}: remove params.secretType`));
      }
      if (params.keys !== undefined && !params.keys.includes('.dockerconfigjson')) {
        state.diagnostics.push(secretError(state, ['spec', 'workload', 'resources', resource, 'params', 'keys'], 'InvalidPullSecret',
          `secret resource "${resource}" is used in imagePullSecrets, so it must sync the key .dockerconfigjson: add it to params.keys or remove keys`));
      }
      secretType = DOCKER_CONFIG_JSON;
    }
    const binding: SecretBinding = {
      resource,
      provider,
      remoteKey: r.id ?? `${namespace}/${resource}`,
      refreshInterval: params.refreshInterval ?? DEFAULT_REFRESH_INTERVAL,
      secretName: syncedSecretName(name, resource),
    };
    if (params.keys !== undefined) binding.keys = params.keys;
    if (secretType !== undefined) binding.secretType = secretType;
    bindings.set(resource, binding);
  }
  (service.spec.imagePullSecrets ?? []).forEach((pull, i) => {
    if (ownValue(service.spec.workload.resources, pull) !== undefined) return;
    const path = ['spec', 'imagePullSecrets', i];
    const ip = ctx.imageProviders.find((p) => p.metadata.name === pull);
    if (ip === undefined) {
      state.diagnostics.push(secretError(state, path, 'PullSecretNotFound',
        `imagePullSecrets names "${pull}", which is neither a secret resource of this service nor an ImageProvider. ` +
          `Add \`${pull}: {type: secret}\` to workload.resources (a remote secret holding .dockerconfigjson), or name one of the ImageProviders: ${ctx.imageProviders.map((p) => p.metadata.name).join(', ') || '(none declared)'}.`));
      return;
    }
    if (ip.spec.credentials === undefined) {
      state.diagnostics.push(secretError(state, path, 'PullSecretNotFound',
        `imagePullSecrets names ImageProvider "${pull}", which has no credentials (a public registry): there is nothing to pull with. Remove "${pull}" from imagePullSecrets, or ask the platform team to add spec.credentials to it.`));
      return;
    }
    const provider = ip.spec.credentials.provider ?? ctx.defaultSecretProvider;
    if (provider === undefined || !ctx.secretProviders.has(provider)) {
      state.diagnostics.push(secretError(state, path, provider === undefined ? 'NoSecretProvider' : 'SecretProviderNotFound',
        `the credential of ImageProvider "${pull}" is read through ${provider === undefined ? 'the default SecretProvider, and the platform has none' : `SecretProvider "${provider}", which does not exist in lattice-system`}. Ask the platform team to fix spec.credentials.provider of ImageProvider "${pull}".`));
      return;
    }
    // The credential is synced into the service's namespace (a pod can only use a pull Secret of
    // its own namespace); the authorization gate asked AccessSecret for it first.
    bindings.set(pull, {
      resource: pull,
      provider,
      remoteKey: credentialKey(ip.spec.credentials),
      keys: ['.dockerconfigjson'],
      refreshInterval: DEFAULT_REFRESH_INTERVAL,
      secretType: DOCKER_CONFIG_JSON,
      secretName: syncedSecretName(name, pull),
    });
  });
  return bindings;
}

/** A SecretsResolved error diagnostic at the field `path`. */
export function secretError(state: DerivationState, path: (string | number)[], reason: string, message: string): Diagnostic {
  const d: Diagnostic = { severity: 'error', condition: SECRETS_RESOLVED, reason, path: fieldPath(path), message };
  if (state.input.locate) d.location = state.input.locate(path);
  return d;
}


/** The ExternalSecret that syncs one secret resource into the Secret `binding.secretName`. */
export function externalSecretFor(state: DerivationState, binding: SecretBinding): KubeObject {
  const target: Record<string, unknown> = { name: binding.secretName, creationPolicy: 'Owner' };
  if (binding.secretType !== undefined) target.template = { type: binding.secretType, engineVersion: 'v2' };
  const spec: Record<string, unknown> = {
    refreshInterval: binding.refreshInterval,
    secretStoreRef: { name: binding.provider, kind: 'ClusterSecretStore' },
    target,
  };
  if (binding.keys === undefined) {
    spec.dataFrom = [{ extract: { key: binding.remoteKey } }];
  } else {
    spec.data = binding.keys.map((key) => ({ secretKey: key, remoteRef: { key: binding.remoteKey, property: key } }));
  }
  return { apiVersion: ESO_API_VERSION, kind: 'ExternalSecret', metadata: derivedMeta(state, binding.secretName), spec };
}

/** One piece of a templated value: literal text, or a key of a secret resource. */
export type TemplatePiece = { text: string } | { binding: SecretBinding; key: string };

/** The ESO data key under which a secret resource's key is available to templates. */
function templateKey(binding: SecretBinding, key: string): string {
  return `${binding.resource}.${key}`;
}

/**
 * Renders pieces as an ESO (Go text/template, engine v2) template: secret keys as
 * `{{ index . "<resource>.<key>" }}`, literal text as is, or quoted as a Go string when it contains
 * template delimiters.
 */
export function toEsoTemplate(pieces: TemplatePiece[]): string {
  return pieces
    .map((p) => {
      if ('text' in p) return p.text.includes('{{') || p.text.includes('}}') ? `{{ ${JSON.stringify(p.text)} }}` : p.text;
      return `{{ index . ${JSON.stringify(templateKey(p.binding, p.key))} }}`;
    })
    .join('');
}

/**
 * An ExternalSecret whose target Secret `name` holds `values` (Secret key → pieces), rendered by ESO
 * from the referenced secret keys. Each referenced key is fetched from its own provider through
 * `data[].sourceRef` when it differs from the first one's.
 */
export function templatedExternalSecret(
  state: DerivationState,
  name: string,
  values: Record<string, TemplatePiece[]>,
): KubeObject {
  const refs = new Map<string, { binding: SecretBinding; key: string }>();
  for (const pieces of Object.values(values)) {
    for (const p of pieces) if ('binding' in p) refs.set(templateKey(p.binding, p.key), p);
  }
  const sorted = [...refs.entries()].sort(([a], [b]) => a.localeCompare(b));
  const first = sorted[0]?.[1].binding;
  const data = sorted.map(([secretKey, { binding, key }]) => {
    const entry: Record<string, unknown> = { secretKey, remoteRef: { key: binding.remoteKey, property: key } };
    if (first && binding.provider !== first.provider) {
      entry.sourceRef = { storeRef: { name: binding.provider, kind: 'ClusterSecretStore' } };
    }
    return entry;
  });
  const spec: Record<string, unknown> = {
    refreshInterval: sorted.map(([, r]) => r.binding.refreshInterval).sort(byDuration)[0] ?? DEFAULT_REFRESH_INTERVAL,
  };
  if (first) spec.secretStoreRef = { name: first.provider, kind: 'ClusterSecretStore' };
  Object.assign(spec, {
    target: {
      name,
      creationPolicy: 'Owner',
      template: {
        engineVersion: 'v2',
        data: Object.fromEntries(Object.entries(values).map(([k, pieces]) => [k, toEsoTemplate(pieces)])),
      },
    },
    data,
  });
  return { apiVersion: ESO_API_VERSION, kind: 'ExternalSecret', metadata: derivedMeta(state, name), spec };
}

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Orders Go durations shortest first (so a templated secret refreshes as often as its fastest input). */
function byDuration(a: string, b: string): number {
  return seconds(a) - seconds(b);
}

function seconds(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/([0-9.]+)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
  return total;
}

/** The ClusterSecretStore derived from a SecretProvider: same name, provider block copied as is. */
export function clusterSecretStoreFor(provider: SecretProvider): KubeObject {
  const spec: Record<string, unknown> = { provider: provider.spec.provider };
  if (provider.spec.refreshInterval !== undefined) spec.refreshInterval = provider.spec.refreshInterval;
  return {
    apiVersion: ESO_API_VERSION,
    kind: 'ClusterSecretStore',
    metadata: {
      name: provider.metadata.name,
      labels: { 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'lattice', 'lattice.dev/secret-provider': provider.metadata.name },
    },
    spec,
  };
}

/**
 * Problems of a SecretProvider's `spec.provider` against ESO's own schema (external-secrets.io/v1
 * ClusterSecretStore, through @kubernetes-models/external-secrets): wrong types, values outside ESO's
 * enums, missing required fields, each as `spec.provider.<path>: <problem>`. The schema package does
 * not reject unknown fields, so a misspelled provider name is left to ESO to refuse.
 */
export function providerSchemaProblems(provider: SecretProvider): string[] {
  try {
    new ClusterSecretStore(clusterSecretStoreFor(provider) as never).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: { instancePath?: string; message?: string; params?: { allowedValues?: unknown[] } }[] }).errors;
    if (!Array.isArray(errors)) return [(err as Error).message];
    return errors.map((e) => {
      const path = (e.instancePath ?? '').split('/').filter(Boolean).join('.');
      const allowed = e.params?.allowedValues ? ` (${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')})` : '';
      return `${path}: ${e.message ?? 'is not valid'}${allowed}`;
    });
  }
}

/** Name of the ValidatingAdmissionPolicy (and its binding) that guards the Lattice secret stores. */
export const SECRET_STORE_BOUNDARY = 'lattice-secret-store-boundary';

/** A CEL condition: `ref` (an ESO store reference expression) names one of the Lattice ClusterSecretStores. */
function latticeStoreRef(ref: string): string {
  return `(has(${ref}.kind) && ${ref}.kind == 'ClusterSecretStore' && ((has(${ref}.name) && ${ref}.name in variables.latticeStores) || has(${ref}.labelSelector)))`;
}

/**
 * The secret store boundary: a `ValidatingAdmissionPolicy` (admissionregistration.k8s.io/v1,
 * Kubernetes 1.30+) and its `ValidatingAdmissionPolicyBinding`, both named
 * {@link SECRET_STORE_BOUNDARY}, derived when the platform has SecretProviders.
 *
 * Why: a ClusterSecretStore can be referenced by an ExternalSecret in any namespace (ESO,
 * "ClusterSecretStore"), so without a boundary anyone who can create an ExternalSecret in their own
 * namespace reads any path of the backend through a Lattice store, bypassing the Cedar AccessSecret
 * decision, and a PushSecret writes any path. Three ways were weighed:
 * - ClusterSecretStore `spec.conditions` (namespaceSelector / namespaces): limits which namespaces
 *   may use a store, not which paths; a service's namespace must be allowed, and then a hand-written
 *   ExternalSecret there reads every path all the same;
 * - per-namespace SecretStores: the same, unless every provider can scope credentials per
 *   namespace (Vault roles can, most others cannot), which Lattice cannot assume;
 * - chosen: an admission policy. Only the user names in LatticePlatform
 *   `spec.externalSecretWriters` (default: the Lattice controller's ServiceAccount) may create an
 *   ExternalSecret or PushSecret, or change its spec, when it references a Lattice store: by
 *   `spec.secretStoreRef`, `spec.data[].sourceRef.storeRef`, `spec.dataFrom[].sourceRef.storeRef`
 *   or (PushSecret) `spec.secretStoreRefs[]`, of kind ClusterSecretStore by name, or by
 *   `labelSelector` (which could select a Lattice store). Lattice writes those objects only after
 *   Cedar permitted every secret, so the Cedar decision is the only way in. An update that leaves
 *   the spec unchanged passes (ESO's own finalizer and metadata writes); a reference of kind
 *   SecretStore (a namespace's own store, ESO's default kind) or to another ClusterSecretStore passes.
 * `failurePolicy: Fail` and `validationActions: [Deny]`: fail closed. A ClusterExternalSecret or
 * ClusterPushSecret against a Lattice store is refused too, since ESO's controller creates the
 * namespaced objects (add its user name to externalSecretWriters to allow it). The store names are
 * written into the policy, so it changes with the SecretProviders. Returns [] without stores.
 *
 * Sources: kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/ (variables,
 * `request.userInfo.username`, `oldObject` null on CREATE); external-secrets.io API reference for the
 * reference fields.
 */
export function secretStoreBoundary(storeNames: readonly string[], writers: readonly string[]): KubeObject[] {
  if (storeNames.length === 0) return [];
  const labels = { 'app.kubernetes.io/managed-by': 'lattice', 'app.kubernetes.io/part-of': 'lattice' };
  const list = (xs: readonly string[]): string => `[${[...xs].sort().map((x) => `'${x.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]`;
  const usesLatticeStore = [
    `(has(object.spec.secretStoreRef) && ${latticeStoreRef('object.spec.secretStoreRef')})`,
    `(has(object.spec.data) && object.spec.data.exists(d, has(d.sourceRef) && has(d.sourceRef.storeRef) && ${latticeStoreRef('d.sourceRef.storeRef')}))`,
    `(has(object.spec.dataFrom) && object.spec.dataFrom.exists(d, has(d.sourceRef) && has(d.sourceRef.storeRef) && ${latticeStoreRef('d.sourceRef.storeRef')}))`,
    `(has(object.spec.secretStoreRefs) && object.spec.secretStoreRefs.exists(r, ${latticeStoreRef('r')}))`,
  ].join(' || ');
  const policy: KubeObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: SECRET_STORE_BOUNDARY, labels },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: ['external-secrets.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['externalsecrets', 'pushsecrets'] }],
      },
      variables: [
        { name: 'latticeStores', expression: list(storeNames) },
        { name: 'usesLatticeStore', expression: `has(object.spec) && (${usesLatticeStore})` },
        { name: 'allowedWriter', expression: `request.userInfo.username in ${list(writers)}` },
        { name: 'specUnchanged', expression: "request.operation == 'UPDATE' && oldObject != null && has(object.spec) && has(oldObject.spec) && object.spec == oldObject.spec" },
      ],
      validations: [
        {
          expression: '!variables.usesLatticeStore || variables.allowedWriter || variables.specUnchanged',
          reason: 'Forbidden',
          message: 'This object references a Lattice ClusterSecretStore, which only Lattice may use: declare the secret in a LatticeService (spec.workload.resources, type secret), where the Cedar policies decide.',
          messageExpression:
            "request.kind.kind + ' ' + request.name + ' references a Lattice ClusterSecretStore, which only Lattice may use: declare the secret in a LatticeService (spec.workload.resources, type secret), where the Cedar policies decide. User ' + request.userInfo.username + ' is not in LatticePlatform spec.externalSecretWriters.'",
        },
      ],
    },
  };
  const binding: KubeObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: SECRET_STORE_BOUNDARY, labels },
    spec: { policyName: SECRET_STORE_BOUNDARY, validationActions: ['Deny'] },
  };
  return [policy, binding];
}
