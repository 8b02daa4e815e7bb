/**
 * A model's GPUs (`spec.gpu`) on the pod template. The shared pipeline already derives them from the
 * unit's gpu resource (src/compiler/model/unit.ts passes count, resource and model;
 * src/compiler/workload/gpu.ts and pod.ts write the serving container's limit, the toleration of the
 * taint named after the resource, and the `nvidia.com/gpu.product` node selector). A model adds one
 * thing: the serving container's request equal to its limit. GPUs are extended resources, which
 * cannot be overcommitted, so a request, when set, must equal the limit
 * (kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/); writing it makes the reservation explicit
 * in the Deployment a model owner reads.
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.d.ts';
import type { ModelGpu } from '../../api/latticemodel/v1alpha1.ts';

/** Sets the GPU request of `container` in `template` (in place) to `gpu.count` of `gpu.resource`. */
export function applyGpu(template: PodTemplateSpec, container: string, gpu: ModelGpu): void {
  const c = template.spec?.containers.find((x) => x.name === container);
  if (!c) return;
  c.resources = { ...c.resources, requests: { ...c.resources?.requests, [gpu.resource]: String(gpu.count) } };
}
