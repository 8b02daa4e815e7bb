/**
 * `LatticeModel` (lattice.dev/v1alpha1): a served model (LLM inference) in one resource. This module
 * is the single source of truth for its types, defaults, validation, CRD schema and field docs.
 *
 * A model is a workload like a service: the same `replicas`, `workload` (containers, ports,
 * resources, including the services it calls and the callers it accepts), `imagePullSecrets`,
 * `autoscaling` and `observability` fields, at the same paths and with the same rules (they are the
 * LatticeService schema's own fields), plus what makes it a model:
 * - `modelSource`: where the weights come from (`hf://`, `s3://`, `gs://`), with credentials only
 *   by reference to a secret resource, never in the URI;
 * - `gpu`: GPUs per pod, mapped onto the serving container's extended-resource limit, the GPU
 *   node taint's toleration and, with `model`, the GPU product node label;
 * - `routing`: the Kthena router's view of the model (a `ModelServer` selecting its pods, and one
 *   `ModelRoute` per route, matched on the OpenAI `model` field of requests).
 *
 * Field names follow the reference design (github.com/evan-hines-js/lattice,
 * `crates/lattice-common/src/crd/model_serving.rs`: `modelSource.uri`, `cacheSize`, `mountPath`,
 * `routing.inferenceEngine`, `model`, `port`, `trafficPolicy.retry.attempts`, `routes.*.modelName`,
 * `loraAdapters`, `rateLimit`) and Kthena's CRDs (networking.serving.volcano.sh/v1alpha1).
 */
import { z } from 'zod';
import { API_VERSION, dnsLabel, duration, quantity, refusePrototypeKeys, workloadDocument } from '../common.ts';
import { latticeServiceSpecSchema, latticeServiceStatusSchema } from '../latticeservice/v1alpha1.ts';

export const KIND = 'LatticeModel';
export const PLURAL = 'latticemodels';
export const SHORT_NAMES = ['lm'];

/** URI schemes of `modelSource.uri`: Hugging Face Hub, Amazon S3, Google Cloud Storage. */
export const MODEL_URI_SCHEMES = ['hf', 's3', 'gs'] as const;

/**
 * Why `uri` is not an acceptable model URI, or undefined. Credentials never go in the URI (they
 * would land in the pod spec, readable by anyone who can read the Deployment): user info
 * (`user:pass@`), a query string or a fragment are refused; use `modelSource.credentials`.
 */
export function modelUriProblem(uri: string): string | undefined {
  const m = /^([a-z0-9]+):\/\/(.*)$/.exec(uri);
  if (!m) return `"${uri}" is not a model URI: write hf://ORG/MODEL, s3://BUCKET/PATH or gs://BUCKET/PATH`;
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (!(MODEL_URI_SCHEMES as readonly string[]).includes(scheme)) {
    return `scheme "${scheme}://" is not supported: use ${MODEL_URI_SCHEMES.map((s) => `${s}://`).join(', ')}`;
  }
  if (/[@?#\s]/.test(rest) || rest.includes('\0')) {
    return 'must not carry credentials, a query, a fragment or spaces: put tokens and keys in a secret resource and name it in modelSource.credentials';
  }
  const parts = rest.split('/');
  if (parts.length < 2 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    return scheme === 'hf'
      ? `"${uri}" must name a repository as hf://ORG/MODEL (e.g. hf://Qwen/Qwen2.5-0.5B-Instruct)`
      : `"${uri}" must name a bucket and a path as ${scheme}://BUCKET/PATH, without empty, "." or ".." segments`;
  }
  return undefined;
}

/** `spec.modelSource`. */
export const modelSourceSchema = z.strictObject({
  uri: z
    .string()
    .max(1024)
    .superRefine((v, ctx) => {
      const problem = modelUriProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe('Where the weights come from: hf://ORG/MODEL (Hugging Face Hub), s3://BUCKET/PATH or gs://BUCKET/PATH. Never credentials: see credentials.'),
  credentials: dnsLabel
    .optional()
    .describe('Name of a resource of type secret in workload.resources whose keys become environment variables of the serving container (HF_TOKEN for hf://; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for s3://). Read through an ExternalSecret, so the value never passes through Lattice.'),
  cacheSize: quantity.default('20Gi').describe('Size limit of the writable volume the weights are downloaded into (an emptyDir; default 20Gi).'),
  mountPath: z
    .string()
    .regex(/^\/[^\0]*$/, 'must be an absolute path (start with "/")')
    .refine((p) => !p.split('/').includes('..'), 'must not contain ".." segments')
    .default('/models')
    .describe('Where the cache volume is mounted in the serving container (default /models).'),
});

/** Extended-resource names (Kubernetes: a domain-prefixed name such as nvidia.com/gpu or amd.com/gpu). */
const EXTENDED_RESOURCE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+\/[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;

/** `spec.gpu`. */
export const modelGpuSchema = z.strictObject({
  count: z.number().int().min(1).max(64).describe('GPUs per pod, all given to the serving container (the first container).'),
  resource: z
    .string()
    .max(253)
    .regex(EXTENDED_RESOURCE, 'is not an extended resource name: write e.g. nvidia.com/gpu or amd.com/gpu')
    .refine((r) => !r.startsWith('kubernetes.io/') && !r.endsWith('.kubernetes.io/gpu'), 'must not be in the kubernetes.io domain')
    .default('nvidia.com/gpu')
    .describe('Extended resource the device plugin advertises (default nvidia.com/gpu). Pods tolerate the NoSchedule taint of that name, the usual taint of GPU nodes.'),
  model: z
    .string()
    .max(63)
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'is not a label value: write the product name as GPU feature discovery labels it, e.g. NVIDIA-A100-SXM4-80GB')
    .optional()
    .describe('GPU product the pods need: a node selector on the label nvidia.com/gpu.product (set by NVIDIA GPU feature discovery), written as that label value (NVIDIA-A100-SXM4-80GB) or a short name (H100, A100, L4...) that maps to it.'),
});

/** Inference engines Kthena's ModelServer knows (`spec.inferenceEngine`). */
export const INFERENCE_ENGINES = ['vLLM', 'SGLang'] as const;

/** One entry of `spec.routing.routes`. */
export const modelRouteSchema = z.strictObject({
  modelName: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9][-A-Za-z0-9_.:/]*$/, 'is not a model name: letters, digits, "-", "_", ".", ":" and "/"')
    .optional()
    .describe('Model name clients put in the "model" field of OpenAI-style requests to the Kthena router (default: the route name). One model of the whole platform owns each name.'),
  loraAdapters: z.array(z.string().min(1).max(253)).max(32).optional().describe('LoRA adapter names this route also matches (Kthena ModelRoute loraAdapters).'),
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/, 'is not an HTTP header name'), z.string().max(1024))
    .optional()
    .describe('Only requests carrying these headers with exactly these values match (Kthena modelMatch.headers, exact).'),
  rateLimit: z
    .strictObject({
      inputTokensPerUnit: z.number().int().min(1).optional().describe('Input tokens allowed per unit.'),
      outputTokensPerUnit: z.number().int().min(1).optional().describe('Output tokens allowed per unit.'),
      unit: z.enum(['second', 'minute', 'hour', 'day', 'month']).default('second').describe('Time unit (default second).'),
    })
    .refine((r) => r.inputTokensPerUnit !== undefined || r.outputTokensPerUnit !== undefined, 'set inputTokensPerUnit or outputTokensPerUnit, or remove rateLimit')
    .optional()
    .describe('Token rate limit the router enforces for this route (local to each router replica).'),
});

/** `spec.routing`. */
export const modelRoutingSchema = z.strictObject({
  inferenceEngine: z.enum(INFERENCE_ENGINES).describe('Engine serving the model: vLLM or SGLang (Kthena ModelServer inferenceEngine).'),
  model: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('Name the engine serves the model under (Kthena ModelServer model; the router rewrites requests to it). Default: ORG/MODEL of an hf:// source; required for other sources.'),
  port: z.string().optional().describe('Name of the port in workload.service.ports the engine serves on (default: the port named http, else the only port).'),
  protocol: z.enum(['http', 'https']).default('http').describe('Protocol of the engine port (default http).'),
  trafficPolicy: z
    .strictObject({
      timeout: duration.optional().describe('How long the router waits for the engine to start responding, e.g. 30s.'),
      retry: z
        .strictObject({
          attempts: z.number().int().min(1).max(10).describe('Retries of a failed request.'),
          retryInterval: duration.optional().describe('Wait between retries (Kthena default 100ms).'),
        })
        .optional()
        .describe('Retry policy of the router.'),
    })
    .optional()
    .describe('How the Kthena router treats requests to this model.'),
  routes: z
    .record(dnsLabel, modelRouteSchema)
    .default({})
    .describe('Named routes, each a Kthena ModelRoute sending the requests for its model name to this model. None: the model is reachable only by agreed callers through its Service.'),
});

const serviceFields = latticeServiceSpecSchema.shape;

/** The `spec` of a LatticeModel. */
export const latticeModelSpecSchema = z.strictObject({
  replicas: serviceFields.replicas,
  workload: serviceFields.workload,
  imagePullSecrets: serviceFields.imagePullSecrets,
  autoscaling: serviceFields.autoscaling,
  observability: serviceFields.observability,
  modelSource: modelSourceSchema.describe('Where the weights come from and the writable cache they are downloaded into.'),
  gpu: modelGpuSchema.optional().describe('GPUs per pod. Omitted: the model runs on CPU.'),
  routing: modelRoutingSchema.optional().describe('Inference routing through the Kthena router: a ModelServer over the pods and a ModelRoute per route.'),
});

/** The `status` of a LatticeModel: the same shape as a LatticeService's. */
export const latticeModelStatusSchema = latticeServiceStatusSchema;

/** A LatticeModel as written by a developer (before defaults). */
export const latticeModelSchema = refusePrototypeKeys(workloadDocument(API_VERSION, KIND, latticeModelSpecSchema, 'The model intent.'));

/** A validated LatticeModel with defaults applied. */
export type LatticeModel = z.output<typeof latticeModelSchema>;
/** The spec with defaults applied. */
export type LatticeModelSpec = z.output<typeof latticeModelSpecSchema>;
/** `spec.routing` with defaults applied. */
export type ModelRouting = z.output<typeof modelRoutingSchema>;
/** `spec.gpu` with defaults applied. */
export type ModelGpu = z.output<typeof modelGpuSchema>;
