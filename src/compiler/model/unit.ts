/**
 * A LatticeModel's validation and its "unit": the LatticeService-shaped view the shared workload
 * pipeline, the service graph, the mesh, quotas and image verification read.
 *
 * A model's spec carries the LatticeService fields (`replicas`, `workload`, `imagePullSecrets`,
 * `autoscaling`, `observability`) at the same paths, so the unit is those fields plus what the
 * model's source and GPUs add to the serving container (the first container):
 * - variables `LATTICE_MODEL_URI` (the source URI), `LATTICE_MODEL_PATH` (the cache mount path) and,
 *   for an `hf://` source, `HF_HOME` (the Hugging Face cache directory: huggingface_hub downloads
 *   into `$HF_HOME/hub`, huggingface.co/docs/huggingface_hub, "Environment variables");
 * - `envFrom` of the `modelSource.credentials` secret resource (so its keys, e.g. `HF_TOKEN`, reach
 *   the container through the shared secrets path: Cedar AccessSecret, an ExternalSecret, a
 *   `secretRef`; never a value);
 * - a writable emptyDir at `modelSource.mountPath` of size `cacheSize` (the root filesystem is
 *   read-only);
 * - a resource `lattice-gpu` of type gpu with `params.count`, so quotas count the model's GPUs.
 *
 * Everything the model adds is checked not to collide with what the developer wrote, and the unit
 * is validated by the LatticeService schema itself, so every cross-field rule of a service (a
 * secret named by envFrom must be declared, ports of routes and metrics exist...) holds for models
 * at the same field paths.
 */
import { latticeServiceSchema, type LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { latticeModelSchema, type LatticeModel } from '../../api/latticemodel/v1alpha1.ts';
import { ownValue } from '../../api/common.ts';
import { fieldPath, issuesToDiagnostics, VALIDATED } from '../service/validate.ts';
import type { Diagnostic, ServiceInput } from '../types.ts';

/** Variables the model sets on its serving container. */
export const MODEL_VARIABLES = { uri: 'LATTICE_MODEL_URI', path: 'LATTICE_MODEL_PATH', hfHome: 'HF_HOME' } as const;

/** Name of the gpu resource the unit carries for quotas. */
export const GPU_RESOURCE = 'lattice-gpu';

/** The name of the serving container: the first one (the one carrying the ports, as for a service). */
export function servingContainer(model: Pick<LatticeModel, 'spec'>): string {
  return Object.keys(model.spec.workload.containers)[0]!;
}

/** The Hugging Face repository id (`ORG/MODEL`) of an `hf://` URI, else undefined. */
export function huggingFaceId(uri: string): string | undefined {
  return uri.startsWith('hf://') ? uri.slice('hf://'.length) : undefined;
}

/** Escapes `${` so a literal value passes the placeholder language unchanged (src/compiler/workload/template.ts). */
function literal(text: string): string {
  return text.replaceAll('${', '$${');
}

/**
 * The LatticeService-shaped unit of a (schema-valid) model: see the module docs. Pure; the result
 * has the shape of a validated LatticeService (defaults applied).
 */
export function modelUnit(model: LatticeModel): LatticeService {
  const { spec } = model;
  const serving = servingContainer(model);
  const containers = { ...spec.workload.containers };
  const first = containers[serving]!;
  const source = spec.modelSource;
  const variables: Record<string, string> = { ...first.variables, [MODEL_VARIABLES.uri]: literal(source.uri), [MODEL_VARIABLES.path]: literal(source.mountPath) };
  if (huggingFaceId(source.uri) !== undefined) variables[MODEL_VARIABLES.hfHome] = literal(source.mountPath);
  containers[serving] = {
    ...first,
    variables,
    ...(source.credentials !== undefined ? { envFrom: [...(first.envFrom ?? []), source.credentials] } : {}),
    volumes: { ...first.volumes, [source.mountPath]: { sizeLimit: source.cacheSize } },
  };
  const resources = { ...spec.workload.resources };
  if (spec.gpu) resources[GPU_RESOURCE] = { type: 'gpu', params: { count: spec.gpu.count, ...(spec.gpu.resource !== 'nvidia.com/gpu' ? { resource: spec.gpu.resource } : {}), ...(spec.gpu.model ? { model: spec.gpu.model } : {}) } } as (typeof resources)[string];
  const workload: LatticeService['spec']['workload'] = { ...spec.workload, containers };
  if (Object.keys(resources).length > 0) workload.resources = resources;
  const unitSpec: LatticeService['spec'] = { replicas: spec.replicas, workload };
  if (spec.imagePullSecrets) unitSpec.imagePullSecrets = spec.imagePullSecrets;
  if (spec.autoscaling) unitSpec.autoscaling = spec.autoscaling;
  if (spec.observability) unitSpec.observability = spec.observability;
  return { apiVersion: model.apiVersion, kind: 'LatticeService', metadata: model.metadata, spec: unitSpec };
}

/** Result of validating a raw LatticeModel. */
export type ModelValidation = { ok: true; model: LatticeModel; unit: LatticeService } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Validates `input.object` as a LatticeModel: the schema, the rules between the model's own fields
 * (see {@link modelRules}), then the LatticeService rules on its unit. Every problem at once, each
 * with its field path and input position.
 */
export function validateModel(input: Pick<ServiceInput, 'object' | 'locate'>): ModelValidation {
  const parsed = latticeModelSchema.safeParse(input.object, { reportInput: true });
  if (!parsed.success) return { ok: false, diagnostics: issuesToDiagnostics(parsed.error.issues, input) };
  const model = parsed.data;
  const problems = modelRules(model);
  if (problems.length > 0) {
    return {
      ok: false,
      diagnostics: problems.map(({ path, message }) => {
        const d: Diagnostic = { severity: 'error', condition: VALIDATED, reason: 'InvalidSpec', path: fieldPath(path), message };
        if (input.locate) d.location = input.locate(path);
        return d;
      }),
    };
  }
  const unit = modelUnit(model);
  // The unit is the developer's own fields at their own paths plus checked additions: a problem the
  // service rules find is one of the developer's fields.
  const checked = latticeServiceSchema.safeParse(unit, { reportInput: true });
  if (!checked.success) return { ok: false, diagnostics: issuesToDiagnostics(checked.error.issues, input) };
  return { ok: true, model, unit };
}

/** A problem of a model's own rules: the path (from the document root) and the message. */
export interface ModelProblem {
  path: (string | number)[];
  message: string;
}

/** The rules between a model's fields that its schema cannot state field by field. */
export function modelRules(model: LatticeModel): ModelProblem[] {
  const out: ModelProblem[] = [];
  const { spec } = model;
  const serving = servingContainer(model);
  const container = spec.workload.containers[serving]!;
  const at = ['spec', 'workload', 'containers', serving];
  const source = spec.modelSource;
  const resources = spec.workload.resources ?? {};
  const set: string[] = [MODEL_VARIABLES.uri, MODEL_VARIABLES.path, ...(huggingFaceId(source.uri) !== undefined ? [MODEL_VARIABLES.hfHome] : [])];
  for (const v of set) {
    if (ownValue(container.variables ?? {}, v) !== undefined) {
      out.push({ path: [...at, 'variables', v], message: `${v} is set by the platform from spec.modelSource on the serving container (${serving}): remove it here` });
    }
  }
  for (const mount of Object.keys({ ...container.volumes, ...container.files })) {
    if (mount === source.mountPath || mount.startsWith(`${source.mountPath.replace(/\/$/, '')}/`) || source.mountPath.startsWith(`${mount.replace(/\/$/, '')}/`)) {
      const field = ownValue(container.volumes ?? {}, mount) !== undefined ? 'volumes' : 'files';
      out.push({ path: [...at, field, mount], message: `${mount} overlaps spec.modelSource.mountPath (${source.mountPath}), where the model cache is mounted: move one of them` });
    }
  }
  if (source.credentials !== undefined) {
    const r = ownValue(resources, source.credentials);
    if (r === undefined) {
      out.push({ path: ['spec', 'modelSource', 'credentials'], message: `names "${source.credentials}", which is not declared in workload.resources: add \`${source.credentials}: {type: secret, id: ...}\` there` });
    } else if (r.type !== 'secret') {
      out.push({ path: ['spec', 'modelSource', 'credentials'], message: `names "${source.credentials}", a resource of type ${r.type}; credentials must be a resource of type secret (read by reference, never as a value)` });
    } else if ((container.envFrom ?? []).includes(source.credentials)) {
      out.push({ path: [...at, 'envFrom'], message: `${source.credentials} is already given to the serving container by spec.modelSource.credentials: remove it from envFrom` });
    }
  }
  for (const [name, r] of Object.entries(resources)) {
    if (name === GPU_RESOURCE) out.push({ path: ['spec', 'workload', 'resources', name], message: `the resource name ${GPU_RESOURCE} is reserved for spec.gpu: rename this resource` });
    else if (r.type === 'gpu') out.push({ path: ['spec', 'workload', 'resources', name], message: 'a model declares its GPUs in spec.gpu (count, resource, model), not as a resource of type gpu: move it there' });
  }
  const routing = spec.routing;
  if (routing) {
    const ports = spec.workload.service?.ports ?? {};
    const declared = Object.keys(ports);
    if (declared.length === 0) {
      out.push({ path: ['spec', 'routing'], message: 'routing needs the port the engine serves on: declare workload.service.ports (e.g. http: {port: 8000})' });
    } else if (routing.port !== undefined && ownValue(ports, routing.port) === undefined) {
      out.push({ path: ['spec', 'routing', 'port'], message: `port "${routing.port}" is not declared in workload.service.ports (declared: ${declared.join(', ')})` });
    } else if (routing.port === undefined && ports.http === undefined && declared.length > 1) {
      out.push({ path: ['spec', 'routing', 'port'], message: `routing names no port and the model has several (${declared.join(', ')}) and none named http: set port to one of them` });
    } else {
      const p = ports[routingPortName(model)!]!;
      if (p.protocol !== 'TCP') out.push({ path: ['spec', 'routing', 'port'], message: `port "${routingPortName(model)}" uses ${p.protocol}; the Kthena router speaks HTTP over TCP` });
    }
    if (routing.model === undefined && huggingFaceId(source.uri) === undefined) {
      out.push({ path: ['spec', 'routing', 'model'], message: `set the name the engine serves the model under: it cannot be taken from ${source.uri.split('://')[0]}:// sources (only hf://ORG/MODEL gives one)` });
    }
    const seen = new Map<string, string>();
    for (const [rname, route] of Object.entries(routing.routes)) {
      const name = route.modelName ?? rname;
      const other = seen.get(name);
      if (other !== undefined) out.push({ path: ['spec', 'routing', 'routes', rname, 'modelName'], message: `routes ${other} and ${rname} both serve model name "${name}": give each route its own modelName` });
      seen.set(name, rname);
    }
  }
  return out;
}

/** The name of the port the engine serves on (routing.port, else http, else the only port), or undefined without ports. */
export function routingPortName(model: Pick<LatticeModel, 'spec'>): string | undefined {
  const ports = model.spec.workload.service?.ports ?? {};
  if (model.spec.routing?.port !== undefined) return model.spec.routing.port;
  if (ports.http !== undefined) return 'http';
  return Object.keys(ports)[0];
}
