/**
 * A model's GPUs (`spec.gpu`), mapped onto Kubernetes scheduling fields of the pod template the
 * shared pipeline derived (src/compiler/workload/pod.ts):
 * - the serving container's `resources.limits[<resource>] = count` (and the same request): GPUs are
 *   extended resources, which cannot be overcommitted, so a request, when set, must equal the limit
 *   (kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/: "GPUs are only supposed to be specified
 *   in the limits section");
 * - a toleration of the NoSchedule taint named after the resource (`nvidia.com/gpu`), the taint GPU
 *   node pools carry so that only pods asking for GPUs land there (the ExtendedResourceToleration
 *   admission plugin adds the same toleration where it is enabled; writing it keeps the pod
 *   schedulable where it is not);
 * - with `model`, a node selector on `nvidia.com/gpu.product`, the label NVIDIA GPU feature
 *   discovery puts on each GPU node (e.g. `NVIDIA-A100-SXM4-80GB`).
 *
 * Free-form tolerations and node selectors are not offered: they would let a team place pods onto
 * nodes reserved for others, which the platform, not a tenant, decides.
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.d.ts';
import type { ModelGpu } from '../../api/latticemodel/v1alpha1.ts';

/** Node label NVIDIA GPU feature discovery sets to the GPU product name. */
export const GPU_PRODUCT_LABEL = 'nvidia.com/gpu.product';

/**
 * Sets `gpu` on `template` (in place): the limit and request of `container`, the toleration and
 * the node selector. Setting the same key twice gives the same result, so a shared GPU field
 * writing the same limit does not conflict.
 */
export function applyGpu(template: PodTemplateSpec, container: string, gpu: ModelGpu): void {
  const spec = template.spec!;
  const c = spec.containers.find((x) => x.name === container);
  if (!c) return;
  const count = String(gpu.count);
  c.resources = { ...c.resources, limits: { ...c.resources?.limits, [gpu.resource]: count }, requests: { ...c.resources?.requests, [gpu.resource]: count } };
  const toleration = { key: gpu.resource, operator: 'Exists', effect: 'NoSchedule' };
  const tolerations = spec.tolerations ?? [];
  if (!tolerations.some((t) => t.key === toleration.key && t.operator === toleration.operator && t.effect === toleration.effect)) tolerations.push(toleration);
  spec.tolerations = tolerations;
  if (gpu.model !== undefined) spec.nodeSelector = { ...spec.nodeSelector, [GPU_PRODUCT_LABEL]: gpu.model };
}
