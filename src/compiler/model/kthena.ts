/**
 * A model's objects for the Kthena router (networking.serving.volcano.sh/v1alpha1; kthena.volcano.sh,
 * "Router Routing" and the CRD reference):
 * - `ModelServer`: the model's pods as one inference backend: `workloadSelector.matchLabels` the
 *   model's selector label (the pods of its Deployment and nothing else: workloads of every kind
 *   share one name space per namespace), `workloadPort` the engine's container port, `model` the
 *   name the engine serves, `inferenceEngine`, `trafficPolicy`. The router reads pods directly (no
 *   Service in between).
 * - one `ModelRoute` per `routing.routes` entry: requests whose OpenAI `model` field is the route's
 *   `modelName` (or one of its `loraAdapters`) go to the ModelServer, optionally only with given
 *   headers, with an optional token rate limit.
 *
 * Why a Deployment and not a Kthena ModelBooster or ModelServing: those build the pods from their
 * own templates (ModelBooster's workers carry only image, resources, affinity and tolerations), so
 * the pods would escape the shared pod template (restricted security context, secrets by
 * reference, digest pinning, config hash). A ModelServer selects any pods by label, so the shared
 * pipeline's Deployment serves as Kthena's backend unchanged.
 *
 * Model names are one name space across the platform (the router matches the `model` field of a
 * request against every ModelRoute). The model whose `namespace/name` sorts first owns a name;
 * another model claiming it fails with `ModelNameAlreadyClaimed`, naming the owner.
 *
 * The router runs in namespace {@link KTHENA_ROUTER}`.namespace` (the Helm release namespace,
 * `kthena-system`, enrolled in the ambient mesh) as ServiceAccount `kthena-router`; a model with
 * routes lets exactly that identity in, on the engine port (Istio) through ztunnel's 15008 (Cilium).
 */
import { KIND as MODEL_KIND, type LatticeModel } from '../../api/latticemodel/v1alpha1.ts';
import { LABELS, childName, selectorLabels } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import { CILIUM_LABELS, HBONE_PORT, ciliumPodLabel, principalOf } from '../mesh/mesh.ts';
import { huggingFaceId, routingPortName } from './unit.ts';
import type { DerivationState, IndexedService } from '../types.ts';

/** Group and version of Kthena's router API. */
export const KTHENA_NETWORKING = 'networking.serving.volcano.sh/v1alpha1';

/**
 * The Kthena router's identity (its Helm chart: Deployment `kthena-router`, pod label
 * `app.kubernetes.io/component: kthena-router`, ServiceAccount `kthena-router`, in the release
 * namespace `kthena-system`).
 */
export const KTHENA_ROUTER = {
  namespace: 'kthena-system',
  serviceAccount: 'kthena-router',
  podLabels: { 'app.kubernetes.io/component': 'kthena-router' },
} as const;

/** Condition reason of a model name another model owns. */
export const MODEL_NAME_CLAIMED = 'ModelNameAlreadyClaimed';

/** The model names (route modelName, else route name) of a model, in route order. */
export function modelNames(model: LatticeModel): string[] {
  return Object.entries(model.spec.routing?.routes ?? {}).map(([rname, r]) => r.modelName ?? rname);
}

/** The owner (the key that sorts first) of each model name among the indexed models. */
function owners(services: ReadonlyMap<string, IndexedService>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, s] of services) {
    if (s.kind !== MODEL_KIND) continue;
    const model = s.value as LatticeModel;
    for (const name of modelNames(model)) {
      const owner = out.get(name);
      if (owner === undefined || key < owner) out.set(name, key);
    }
  }
  return out;
}

/** Derives the ModelServer and ModelRoutes of `model` into `state`, or the claim errors. */
export function deriveKthena(state: DerivationState, model: LatticeModel): void {
  const routing = model.spec.routing;
  if (!routing) return;
  const name = model.metadata.name;
  const claimed = owners(state.ctx.services);
  for (const [rname, r] of Object.entries(routing.routes)) {
    const modelName = r.modelName ?? rname;
    const owner = claimed.get(modelName);
    if (owner !== undefined && owner < state.key) {
      const path = ['spec', 'routing', 'routes', rname, ...(r.modelName !== undefined ? ['modelName'] : [])];
      const d = {
        severity: 'error' as const,
        condition: 'Validated',
        reason: MODEL_NAME_CLAIMED,
        path: path.join('.'),
        message: `model name "${modelName}" is already served by model ${owner}: the Kthena router sends every request for a model name to one model. Choose another modelName, or ask the owners of ${owner} to release it`,
      };
      if (state.input.locate) Object.assign(d, { location: state.input.locate(path) });
      state.diagnostics.push(d);
    }
  }
  const ports = model.spec.workload.service?.ports ?? {};
  const port = ports[routingPortName(model)!]!;
  const serverSpec: Record<string, unknown> = {
    model: routing.model ?? huggingFaceId(model.spec.modelSource.uri),
    inferenceEngine: routing.inferenceEngine,
    workloadSelector: { matchLabels: selectorLabels(name) },
    workloadPort: { port: port.targetPort ?? port.port, protocol: routing.protocol },
  };
  if (routing.trafficPolicy) serverSpec.trafficPolicy = routing.trafficPolicy;
  state.objects.push({ apiVersion: KTHENA_NETWORKING, kind: 'ModelServer', metadata: derivedMeta(state, name), spec: serverSpec });
  for (const [rname, r] of Object.entries(routing.routes)) {
    const rule: Record<string, unknown> = { name: 'default', targetModels: [{ modelServerName: name }] };
    if (r.headers) rule.modelMatch = { headers: Object.fromEntries(Object.entries(r.headers).map(([h, v]) => [h, { exact: v }])) };
    const spec: Record<string, unknown> = { modelName: r.modelName ?? rname, rules: [rule] };
    if (r.loraAdapters?.length) spec.loraAdapters = r.loraAdapters;
    if (r.rateLimit) spec.rateLimit = r.rateLimit;
    state.objects.push({ apiVersion: KTHENA_NETWORKING, kind: 'ModelRoute', metadata: derivedMeta(state, childName([name, rname])), spec });
  }
}

/**
 * Lets the Kthena router into a routed model's pods: a Cilium ingress peer (its namespace,
 * ServiceAccount and component label) on ztunnel's HBONE port, and an Istio ALLOW rule for its
 * SPIFFE principal on the engine port. Amends the policies the mesh stage derived (the same
 * default-deny policies as a service's); adds the AuthorizationPolicy when the mesh derived none.
 */
export function allowRouter(state: DerivationState, model: LatticeModel): void {
  if (!model.spec.routing || Object.keys(model.spec.routing.routes).length === 0) return;
  const name = model.metadata.name;
  const ports = model.spec.workload.service?.ports ?? {};
  const port = ports[routingPortName(model)!]!;
  const enginePort = String(port.targetPort ?? port.port);
  const matchLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(KTHENA_ROUTER.podLabels)) matchLabels[ciliumPodLabel(k)] = v;
  matchLabels[CILIUM_LABELS.namespace] = KTHENA_ROUTER.namespace;
  matchLabels[CILIUM_LABELS.serviceAccount] = KTHENA_ROUTER.serviceAccount;
  const cnp = state.objects.find((o) => o.kind === 'CiliumNetworkPolicy' && o.metadata.name === name);
  if (cnp) {
    const spec = cnp.spec as { ingress?: unknown[]; description?: string };
    spec.ingress = [...(spec.ingress ?? []), { fromEndpoints: [{ matchLabels }], toPorts: [{ ports: [{ port: String(HBONE_PORT), protocol: 'TCP' }] }] }];
    if (spec.description) spec.description = spec.description.replace(' over ztunnel', ', the Kthena router over ztunnel');
  }
  const trustDomain = state.ctx.settings.mesh.trustDomain;
  const rule = { from: [{ source: { principals: [principalOf(trustDomain, KTHENA_ROUTER.namespace, KTHENA_ROUTER.serviceAccount)] } }], to: [{ operation: { ports: [enginePort] } }] };
  const ap = state.objects.find((o) => o.kind === 'AuthorizationPolicy' && o.metadata.name === name);
  if (ap) (ap.spec as { rules: unknown[] }).rules.push(rule);
  else {
    state.objects.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: derivedMeta(state, name),
      spec: { selector: { matchLabels: { [LABELS.name]: name } }, action: 'ALLOW', rules: [rule] },
    });
  }
}
