/**
 * GPUs of a workload: a resource of type `gpu` (`params.count`, `memory`, `compute`, `model`,
 * `tolerations`) puts the device limit on the pod's first container and the placement in the pod,
 * as the reference implementation does (its pod template compiler and GPU helpers):
 *
 * - dedicated GPUs (only `count`): the limit `nvidia.com/gpu: <count>`, the extended resource the
 *   NVIDIA device plugin advertises (kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/; an
 *   extended resource is set as a limit, and the request defaults to it);
 * - fractional GPUs (`memory` and/or `compute`): Volcano vGPU's resources `volcano.sh/vgpu-number`,
 *   `volcano.sh/vgpu-memory` (MiB per GPU) and `volcano.sh/vgpu-cores` (percent per GPU), which only
 *   the Volcano scheduler's deviceshare plugin places, so the pod gets `schedulerName: volcano`
 *   (volcano.sh user guide "How to use vGPU");
 * - `model`: a node selector on the `nvidia.com/gpu.product` label that NVIDIA GPU Feature Discovery
 *   puts on GPU nodes, with the reference's short names mapped to label values;
 * - `tolerations` (default true): tolerate the `nvidia.com/gpu` NoSchedule taint GPU node pools
 *   usually carry;
 * - a memory-backed `/dev/shm` on the first container (unless it mounts one itself): GPU frameworks
 *   (NCCL, PyTorch data loaders) exchange data through shared memory, and the runtime's default
 *   64 MiB is too small. Its size limit is the platform's `defaultVolumeSizeLimit`; tmpfs pages count
 *   against the container's memory limit (kubernetes.io/docs/concepts/storage/volumes/#emptydir).
 */
import type { Toleration } from 'kubernetes-types/core/v1.d.ts';
import { gpuParamsSchema, type GpuParams, type LatticeServiceSpec } from '../../api/latticeservice/v1alpha1.ts';
import { parseQuantity } from '../../api/quantity.ts';

/** The reference's short GPU model names and the `nvidia.com/gpu.product` label values they stand for. */
export const GPU_PRODUCTS: Readonly<Record<string, string>> = {
  H100: 'NVIDIA-H100-80GB-HBM3',
  H100SXM: 'NVIDIA-H100-80GB-HBM3',
  H100PCIE: 'NVIDIA-H100-PCIe',
  A100: 'NVIDIA-A100-SXM4-80GB',
  'A100-80G': 'NVIDIA-A100-SXM4-80GB',
  'A100-40G': 'NVIDIA-A100-SXM4-40GB',
  A10G: 'NVIDIA-A10G',
  L40S: 'NVIDIA-L40S',
  L40: 'NVIDIA-L40',
  L4: 'NVIDIA-L4',
  T4: 'NVIDIA-Tesla-T4',
  V100: 'NVIDIA-Tesla-V100-SXM2-16GB',
};

/** Node label NVIDIA GPU Feature Discovery sets to the GPU's product name. */
export const GPU_PRODUCT_LABEL = 'nvidia.com/gpu.product';
/** Taint key GPU nodes carry, tolerated by GPU pods. */
export const GPU_TAINT_KEY = 'nvidia.com/gpu';

/** The validated params of the service's gpu resource (at most one; the schema refuses two), or undefined. */
export function gpuOf(spec: Pick<LatticeServiceSpec, 'workload'>): GpuParams | undefined {
  const r = Object.values(spec.workload.resources ?? {}).find((x) => x.type === 'gpu');
  if (r === undefined) return undefined;
  const parsed = gpuParamsSchema.safeParse(r.params);
  return parsed.success ? parsed.data : undefined;
}

/** True when the GPU is shared (memory or compute given): Volcano vGPU instead of whole devices. */
export function isFractional(gpu: GpuParams): boolean {
  return gpu.memory !== undefined || gpu.compute !== undefined;
}

/** The `nvidia.com/gpu.product` value for a model: the mapped short name, else the value as written. */
export function gpuProduct(model: string): string {
  return GPU_PRODUCTS[model.toUpperCase()] ?? model;
}

/** The extended-resource limits of the first container, as strings (Kubernetes quantities). */
export function gpuLimits(gpu: GpuParams): Record<string, string> {
  if (!isFractional(gpu)) return { [gpu.resource ?? GPU_TAINT_KEY]: String(gpu.count) };
  const out: Record<string, string> = { 'volcano.sh/vgpu-number': String(gpu.count) };
  if (gpu.memory !== undefined) {
    const bytes = /^[0-9]+$/.test(gpu.memory) ? Number(gpu.memory) * 1024 * 1024 : parseQuantity(gpu.memory); // a bare number is MiB, as in the reference
    out['volcano.sh/vgpu-memory'] = String(Math.round(bytes / (1024 * 1024)));
  }
  if (gpu.compute !== undefined) out['volcano.sh/vgpu-cores'] = String(gpu.compute);
  return out;
}

/** Where a GPU pod may run: node selector, tolerations, and the scheduler for fractional GPUs. */
export function gpuScheduling(gpu: GpuParams): { nodeSelector?: Record<string, string>; tolerations: Toleration[]; schedulerName?: string } {
  const out: { nodeSelector?: Record<string, string>; tolerations: Toleration[]; schedulerName?: string } = { tolerations: [] };
  if (gpu.model !== undefined) out.nodeSelector = { [GPU_PRODUCT_LABEL]: gpuProduct(gpu.model) };
  if (gpu.tolerations !== false) out.tolerations.push({ key: gpu.resource ?? GPU_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' });
  if (isFractional(gpu)) out.schedulerName = 'volcano';
  return out;
}

/** Name of the shared-memory volume of GPU pods. */
export const GPU_SHM_VOLUME = 'dshm';
/** Where GPU pods get their shared memory. */
export const SHM_PATH = '/dev/shm';
