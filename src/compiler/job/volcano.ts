/**
 * The Volcano objects of a LatticeJob: a `batch.volcano.sh/v1alpha1` Job, or a
 * `batch.volcano.sh/v1alpha1` CronJob whose `jobTemplate` is that Job's spec when `spec.schedule`
 * is set. Pure: the pod templates come from the shared workload pipeline (src/compiler/workload/pod.ts).
 *
 * Why a Volcano CronJob and not a Kubernetes `batch/v1` CronJob: a Kubernetes CronJob can only
 * create `batch/v1` Jobs (its `jobTemplate` is a JobTemplateSpec); it cannot create a Volcano Job,
 * so gang scheduling, queues, task roles and lifecycle policies would be lost, and creating one
 * through a pod that runs `kubectl create` would need a job creator with write access to Volcano
 * Jobs in the namespace (a credential in the tenant's namespace, outside Lattice's derivation).
 * Volcano itself schedules Volcano Jobs since 1.13: the `CronJob` kind of `batch.volcano.sh/v1alpha1`
 * (volcano-sh/volcano issue #4397 and pull request #4560, "feat: add cron volcano job"; the v1.13
 * "Cron VolcanoJob" documentation, volcano-sh/website #429), with the Kubernetes CronJob's fields
 * (`schedule`, `timeZone`, `concurrencyPolicy`, `suspend`, `startingDeadlineSeconds`, the history
 * limits) around a Volcano Job spec. So a scheduled LatticeJob needs Volcano 1.13 or later.
 *
 * Plugins (Volcano job plugins, pkg/controllers/job/plugins):
 * - `svc`, whenever the pods reach each other by name (training, or a task with ports): a headless
 *   Service `<job>` and host names `<job>-<task>-<index>.<job>`; always with
 *   `--disable-network-policy=true`, because the plugin's own NetworkPolicy would allow every port
 *   between the job's pods and bypass the mesh (src/compiler/job/mesh.ts);
 * - `pytorch` (`--master`, `--worker`, `--port`): MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK in
 *   every container, and the port opened on the containers;
 * - `mpi` with `ssh` (`--master`, `--worker`, `--port`): the MPI host file and the job's SSH keys
 *   (generated in the cluster by Volcano into a Secret of its own; no secret value passes through Lattice).
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.d.ts';
import { TRAINING_DEFAULT_PORTS, type JobPolicy, type LatticeJob } from '../../api/latticejob/v1alpha1.ts';
import type { KubeObject } from '../types.ts';

/** apiVersion of every Volcano batch object Lattice derives. */
export const VOLCANO_BATCH = 'batch.volcano.sh/v1alpha1';

/** The Volcano `policies` entry of a LatticeJob policy (same fields; only the ones set). */
export function volcanoPolicy(p: JobPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.event !== undefined) out.event = p.event;
  if (p.events !== undefined) out.events = [...p.events];
  if (p.exitCode !== undefined) out.exitCode = p.exitCode;
  out.action = p.action;
  if (p.timeout !== undefined) out.timeout = p.timeout;
  return out;
}

/** The Volcano plugins of `job` (see the module doc), or undefined when it needs none. */
export function volcanoPlugins(job: LatticeJob, usesHostNames: boolean): Record<string, string[]> | undefined {
  const plugins: Record<string, string[]> = {};
  if (usesHostNames) plugins.svc = ['--disable-network-policy=true'];
  const training = job.spec.training;
  if (training) {
    const port = training.port ?? TRAINING_DEFAULT_PORTS[training.framework];
    const args = [`--master=${training.master}`, `--worker=${training.worker}`, `--port=${port}`];
    if (training.framework === 'pytorch') plugins.pytorch = args;
    else {
      plugins.ssh = [];
      plugins.mpi = args;
    }
  }
  return Object.keys(plugins).length > 0 ? plugins : undefined;
}

/**
 * The Volcano Job spec of `job`, its tasks in declaration order, each with its pod template
 * (`templates`, by task name). `minAvailable` is always written: the job's, else every pod of every
 * task (Volcano's own default, made explicit so the gang size shows in the derived object).
 */
export function volcanoJobSpec(job: LatticeJob, templates: ReadonlyMap<string, PodTemplateSpec>, usesHostNames: boolean): Record<string, unknown> {
  const s = job.spec;
  const total = Object.values(s.tasks).reduce((n, t) => n + t.replicas, 0);
  const spec: Record<string, unknown> = { schedulerName: s.schedulerName, minAvailable: s.minAvailable ?? total };
  if (s.queue !== undefined) spec.queue = s.queue;
  if (s.priorityClassName !== undefined) spec.priorityClassName = s.priorityClassName;
  if (s.maxRetry !== undefined) spec.maxRetry = s.maxRetry;
  if (s.ttlSecondsAfterFinished !== undefined) spec.ttlSecondsAfterFinished = s.ttlSecondsAfterFinished;
  if (s.policies?.length) spec.policies = s.policies.map(volcanoPolicy);
  const plugins = volcanoPlugins(job, usesHostNames);
  if (plugins) spec.plugins = plugins;
  spec.tasks = Object.entries(s.tasks).map(([name, t]) => {
    const task: Record<string, unknown> = { name, replicas: t.replicas };
    if (t.minAvailable !== undefined) task.minAvailable = t.minAvailable;
    if (t.maxRetry !== undefined) task.maxRetry = t.maxRetry;
    if (t.policies?.length) task.policies = t.policies.map(volcanoPolicy);
    task.template = templates.get(name);
    return task;
  });
  return spec;
}

/** The Volcano Job (`metadata` given) or, for a scheduled job, the Volcano CronJob around the same spec. */
export function volcanoObject(job: LatticeJob, metadata: KubeObject['metadata'], jobSpec: Record<string, unknown>): KubeObject {
  const schedule = job.spec.schedule;
  if (!schedule) return { apiVersion: VOLCANO_BATCH, kind: 'Job', metadata, spec: jobSpec };
  const spec: Record<string, unknown> = { schedule: schedule.cron };
  if (schedule.timeZone !== undefined) spec.timeZone = schedule.timeZone;
  spec.concurrencyPolicy = schedule.concurrencyPolicy;
  if (schedule.suspend !== undefined) spec.suspend = schedule.suspend;
  if (schedule.startingDeadlineSeconds !== undefined) spec.startingDeadlineSeconds = schedule.startingDeadlineSeconds;
  if (schedule.successfulJobsHistoryLimit !== undefined) spec.successfulJobsHistoryLimit = schedule.successfulJobsHistoryLimit;
  if (schedule.failedJobsHistoryLimit !== undefined) spec.failedJobsHistoryLimit = schedule.failedJobsHistoryLimit;
  spec.jobTemplate = { metadata: { labels: { ...metadata.labels } }, spec: jobSpec };
  return { apiVersion: VOLCANO_BATCH, kind: 'CronJob', metadata, spec };
}
