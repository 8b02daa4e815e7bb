/**
 * `LatticeJob` (lattice.dev/v1alpha1): a batch or training job in one resource. Lattice derives a
 * Volcano Job (`batch.volcano.sh/v1alpha1` Job, volcano.sh "VolcanoJob"), or a Volcano CronJob when
 * `spec.schedule` is set, whose tasks are pods built by the same workload pipeline as a
 * LatticeService's (src/compiler/workload/): every guarantee (Cedar gates, digest pinning, secrets by
 * reference, restricted security context, default-deny mesh with bilateral agreements) holds for a job.
 *
 * Field names follow the original Lattice's LatticeJob (github.com/evan-hines-js/lattice,
 * `crates/lattice-common/src/crd/job.rs`: `schedulerName`, `minAvailable`, `maxRetry`, `queue`,
 * `priorityClassName`, `tasks.<name>.{replicas, workload, restartPolicy}`) and Volcano's Job API
 * (`policies`, `minAvailable` per task, the `pytorch`/`mpi` plugin arguments) where the reference has
 * none. This module is the single source of truth for the kind's types, defaults, validation, CRD
 * schema and field documentation.
 */
import { z } from 'zod';
import { API_VERSION, dnsLabel, duration, refusePrototypeKeys, workloadDocument } from '../common.ts';
import { latticeServiceSpecSchema, latticeServiceStatusSchema } from '../latticeservice/v1alpha1.ts';

export const KIND = 'LatticeJob';
export const PLURAL = 'latticejobs';
export const SHORT_NAMES = ['lj'];

/** A DNS-1123 subdomain (Kubernetes object names such as a Volcano Queue or a PriorityClass). */
const subdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'is not a valid object name: use lower-case letters, digits, "-" and "."');

/**
 * The Volcano events a lifecycle policy may react to (Volcano `batch.volcano.sh/v1alpha1` Job,
 * `spec.policies[].event`; the CRD's enum without the controller-internal `OutOfSync`,
 * `CommandIssued` and `JobUpdated`).
 */
export const POLICY_EVENTS = ['*', 'PodPending', 'PodRunning', 'PodFailed', 'PodEvicted', 'Unknown', 'TaskCompleted', 'TaskFailed'] as const;

/**
 * The Volcano actions a lifecycle policy may take (volcano.sh docs, "VolcanoJob", policies; Volcano
 * `pkg/apis/bus/v1alpha1` Action): abort, restart or terminate the job, restart one task or pod,
 * or mark the job complete.
 */
export const POLICY_ACTIONS = ['AbortJob', 'RestartJob', 'RestartTask', 'RestartPod', 'TerminateJob', 'CompleteJob'] as const;

/** One Volcano lifecycle policy: on these events (or this exit code), take this action. */
export const jobPolicySchema = z
  .strictObject({
    event: z.enum(POLICY_EVENTS).optional().describe('The event that triggers the action (one of event, events or exitCode).'),
    events: z.array(z.enum(POLICY_EVENTS)).min(1).optional().describe('Several events that trigger the action.'),
    exitCode: z
      .number()
      .int()
      .refine((v) => v !== 0, 'must not be 0: exit code 0 is success, which never triggers a policy')
      .optional()
      .describe('A container exit code that triggers the action (not 0).'),
    action: z.enum(POLICY_ACTIONS).describe('What Volcano does: AbortJob, RestartJob, RestartTask, RestartPod, TerminateJob or CompleteJob.'),
    timeout: duration.optional().describe('Wait this long (e.g. 10m) after the event before acting; the action is skipped if the job recovers.'),
  })
  .superRefine((p, ctx) => {
    const triggers = [p.event !== undefined, p.events !== undefined, p.exitCode !== undefined].filter(Boolean).length;
    if (triggers !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a policy needs exactly one trigger: event, events or exitCode (Volcano refuses a policy with ${triggers === 0 ? 'none' : 'several'})`,
      });
    }
  });

/** Pod restart policies a task may use. `Always` is refused: see {@link jobTaskSchema}. */
export const TASK_RESTART_POLICIES = ['Never', 'OnFailure'] as const;

const serviceSpec = latticeServiceSpecSchema.shape;

/**
 * One task of a job: a set of identical pods (a training role such as `master` or `worker`, or
 * the only task of a batch job). Its `workload` is a LatticeService's workload (containers,
 * resources, ports, secrets, files), validated by the same rules.
 *
 * `restartPolicy` is the pod's (Kubernetes): `Never` (the default, as the reference) leaves a failed
 * pod failed so the job's `policies` and `maxRetry` decide; `OnFailure` lets the kubelet restart the
 * container in place. `Always` is refused: a pod that always restarts never completes, so the task
 * could never finish (Kubernetes refuses it for batch/v1 Jobs for the same reason).
 */
export const jobTaskSchema = z.strictObject({
  replicas: z.number().int().min(0).default(1).describe('Number of pods of the task. Default 1.'),
  minAvailable: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Pods of this task that must be schedulable together (Volcano task minAvailable); at most replicas.'),
  restartPolicy: z
    .enum(TASK_RESTART_POLICIES)
    .default('Never')
    .describe('Pod restart policy: Never (default: a failed pod stays failed and the policies decide) or OnFailure (restart the container in place).'),
  maxRetry: z.number().int().min(0).optional().describe('Restarts of this task before it counts as failed (Volcano task maxRetry).'),
  policies: z.array(jobPolicySchema).optional().describe('Lifecycle policies of this task; they take precedence over the job\'s.'),
  workload: serviceSpec.workload.describe('What each pod runs: containers, the ports it serves and the resources it uses (as a LatticeService\'s workload).'),
  imagePullSecrets: serviceSpec.imagePullSecrets,
});

/** Distributed-training frameworks Lattice wires through Volcano's job plugins. */
export const TRAINING_FRAMEWORKS = ['pytorch', 'mpi'] as const;

/**
 * Default rendezvous ports: Volcano's pytorch plugin opens 23456 (`DefaultPort`,
 * pkg/controllers/job/plugins/distributed-framework/pytorch), its mpi plugin 22 (ssh).
 */
export const TRAINING_DEFAULT_PORTS: Record<(typeof TRAINING_FRAMEWORKS)[number], number> = { pytorch: 23456, mpi: 22 };

/** Distributed training: which tasks are the master and the workers, and the port they meet on. */
export const trainingSchema = z.strictObject({
  framework: z
    .enum(TRAINING_FRAMEWORKS)
    .describe('pytorch (Volcano pytorch plugin: MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK in every container) or mpi (Volcano mpi and ssh plugins: an MPI host file).'),
  master: dnsLabel.default('master').describe('The task of the master (rank 0). Default master.'),
  worker: dnsLabel.default('worker').describe('The task of the workers. Default worker.'),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe('The port the tasks meet on (default 23456 for pytorch, 22 for mpi). Only the job\'s own pods may reach it.'),
});

/** Cron concurrency policies (Volcano CronJob `spec.concurrencyPolicy`, as Kubernetes CronJob's). */
export const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'] as const;

const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Why `text` is not a standard 5-field cron expression or macro, or undefined when it is one. */
export function cronProblem(text: string): string | undefined {
  const t = text.trim();
  if (/^(CRON_)?TZ=/.test(t)) return 'must not set a time zone inside the expression (Volcano and Kubernetes refuse TZ= and CRON_TZ=): use schedule.timeZone';
  if (t.startsWith('@')) return CRON_MACROS.includes(t) ? undefined : `is not a known macro (${CRON_MACROS.join(', ')})`;
  const fields = t.split(/\s+/);
  if (fields.length !== 5) return `has ${fields.length} field${fields.length === 1 ? '' : 's'}; a cron expression has 5: minute hour day-of-month month day-of-week, e.g. "0 2 * * *"`;
  const bad = fields.find((f) => !/^[0-9A-Za-z*?/,-]+$/.test(f));
  return bad === undefined ? undefined : `field "${bad}" is not a cron field (digits, names, *, ?, -, / and ,)`;
}

/** When a scheduled job runs (a Volcano CronJob, `batch.volcano.sh/v1alpha1`, Volcano 1.13+). */
export const scheduleSchema = z.strictObject({
  cron: z
    .string()
    .superRefine((v, ctx) => {
      const problem = cronProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `"${v}" ${problem}` });
    })
    .describe('Standard cron expression (minute hour day-of-month month day-of-week) or macro (@daily, @hourly...).'),
  timeZone: z
    .string()
    .regex(/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/, 'is not an IANA time zone name such as Etc/UTC or Europe/Paris')
    .optional()
    .describe('IANA time zone of the schedule (e.g. Europe/Paris); the controller\'s when unset.'),
  concurrencyPolicy: z
    .enum(CONCURRENCY_POLICIES)
    .default('Forbid')
    .describe('What to do when a run is due while the previous one still runs: Forbid (default: skip the new run), Replace (stop the old one) or Allow (run both).'),
  suspend: z.boolean().optional().describe('true stops new runs (running ones go on).'),
  startingDeadlineSeconds: z.number().int().min(0).optional().describe('Seconds after its time a missed run may still start.'),
  successfulJobsHistoryLimit: z.number().int().min(0).optional().describe('Finished successful runs to keep (Volcano default 3).'),
  failedJobsHistoryLimit: z.number().int().min(0).optional().describe('Failed runs to keep (Volcano default 1).'),
});

/**
 * Longest name of a scheduled job: the scheduler appends a suffix to each run's Job name and the
 * run's name must stay a valid name, so, like a Kubernetes CronJob (at most 52 characters,
 * kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/), Lattice keeps 11 characters free.
 */
export const SCHEDULED_NAME_MAX = 52;

/**
 * Longest pod host name (an RFC 1123 label, 63 characters). Volcano's svc plugin sets each pod's
 * host name to its pod name, `<job>-<task>-<index>` (pkg/controllers/job/plugins/svc), so a job
 * whose tasks find each other by name must keep that within 63.
 */
export const HOSTNAME_MAX = 63;

/** The `spec` of a LatticeJob. */
export const latticeJobSpecSchema = z
  .strictObject({
    schedulerName: z.string().min(1).max(63).default('volcano').describe('Scheduler of the pods (default volcano, which does gang scheduling).'),
    minAvailable: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Gang size: pods that must be schedulable together before any starts (Volcano minAvailable). Default: every pod of every task.'),
    maxRetry: z.number().int().min(0).optional().describe('Restarts of the whole job before it is Failed (Volcano maxRetry, default 3).'),
    queue: subdomain.optional().describe('Volcano queue the job is scheduled in (default: the queue named default).'),
    priorityClassName: subdomain.optional().describe('PriorityClass of the job\'s pods: decides who is preempted when the cluster is full.'),
    ttlSecondsAfterFinished: z.number().int().min(0).optional().describe('Seconds after completion or failure before Volcano deletes the finished job and its pods.'),
    policies: z.array(jobPolicySchema).optional().describe('Lifecycle policies: on an event (PodFailed, PodEvicted, TaskCompleted...) or exit code, restart, abort, terminate or complete the job.'),
    training: trainingSchema.optional().describe('Distributed training (PyTorch or MPI): wires the master and worker tasks together on one port, reachable only by the job\'s own pods.'),
    schedule: scheduleSchema.optional().describe('Run the job on a schedule: derives a Volcano CronJob (Volcano 1.13 or later) instead of a Job.'),
    tasks: z
      .record(dnsLabel, jobTaskSchema)
      .refine((t) => Object.keys(t).length > 0, 'declare at least one task')
      .describe('The tasks, name to task: each a set of identical pods with its own containers.'),
  })
  .superRefine((spec, ctx) => {
    const tasks = Object.entries(spec.tasks);
    const total = tasks.reduce((n, [, t]) => n + t.replicas, 0);
    if (spec.minAvailable !== undefined && spec.minAvailable > total) {
      ctx.addIssue({ code: 'custom', path: ['minAvailable'], message: `minAvailable (${spec.minAvailable}) is above the job's ${total} pods (the replicas of every task): Volcano would never start it. Lower minAvailable or add replicas` });
    }
    for (const [name, task] of tasks) {
      if (task.minAvailable !== undefined && task.minAvailable > task.replicas) {
        ctx.addIssue({ code: 'custom', path: ['tasks', name, 'minAvailable'], message: `minAvailable (${task.minAvailable}) is above the task's replicas (${task.replicas}): lower it or add replicas` });
      }
      // The workload rules across fields (secrets named by envFrom, volume sources, port clashes)
      // are a LatticeService's: check each task as one.
      const unit = latticeServiceSpecSchema.safeParse({ workload: task.workload, imagePullSecrets: task.imagePullSecrets });
      if (!unit.success) {
        for (const issue of unit.error.issues) {
          ctx.addIssue({ code: 'custom', path: ['tasks', name, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')], message: issue.message });
        }
      }
    }
    // The tasks share one mesh identity (src/compiler/job/view.ts): a resource name means one thing
    // in the whole job, and the view's container keys `<task>-<container>` must be unique.
    const resources = new Map<string, { task: string; text: string }>();
    const keys = new Map<string, string>();
    for (const [name, task] of tasks) {
      for (const cname of Object.keys(task.workload.containers)) {
        const key = `${name}-${cname}`;
        const other = keys.get(key);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['tasks', name, 'workload', 'containers', cname], message: `task ${name} container ${cname} and ${other} both read as "${key}" where the job's containers are listed together (authorization, images): rename the task or the container` });
        }
        keys.set(key, `task ${name} container ${cname}`);
      }
      for (const [rname, r] of Object.entries(task.workload.resources ?? {})) {
        const text = JSON.stringify(r);
        const seen = resources.get(rname);
        if (seen === undefined) resources.set(rname, { task: name, text });
        else if (seen.text !== text) {
          ctx.addIssue({ code: 'custom', path: ['tasks', name, 'workload', 'resources', rname], message: `resource ${rname} is declared differently by tasks ${seen.task} and ${name}; the tasks of a job share one identity, so a resource name must mean the same thing in every task: make the declarations equal or rename one` });
        }
      }
    }
    if (spec.training) {
      const { master, worker, framework } = spec.training;
      for (const [role, task] of [['master', master], ['worker', worker]] as const) {
        if (spec.tasks[task] === undefined) {
          ctx.addIssue({ code: 'custom', path: ['training', role], message: `${framework} ${role} task "${task}" is not one of the job's tasks (${Object.keys(spec.tasks).join(', ')}): name a task or add it` });
        }
      }
      if (master === worker) ctx.addIssue({ code: 'custom', path: ['training', 'worker'], message: `the master and worker tasks must differ (both are "${master}")` });
    }
  });

/**
 * The `status` of a LatticeJob: the derivation's (the same shape as a LatticeService's: Validated,
 * gates, Ready) plus, in a cluster, the run's own conditions read from the Volcano Job
 * (src/compiler/job/status.ts: `Running`, `Complete`, `Failed`).
 */
export const latticeJobStatusSchema = latticeServiceStatusSchema.extend({
  jobPhase: z
    .enum(['Pending', 'Running', 'Succeeded', 'Failed'])
    .optional()
    .describe('Where the run is: Pending (waiting for the gang to be scheduled), Running, Succeeded or Failed; read from the Volcano Job.'),
});

/** A LatticeJob as written by a developer (before defaults). */
export const latticeJobSchema = refusePrototypeKeys(workloadDocument(API_VERSION, KIND, latticeJobSpecSchema, 'The job intent.').superRefine((job, ctx) => {
  const name = job.metadata.name;
  if (job.spec.schedule && name.length > SCHEDULED_NAME_MAX) {
    ctx.addIssue({ code: 'custom', path: ['metadata', 'name'], message: `a scheduled job's name may have at most ${SCHEDULED_NAME_MAX} characters (this one has ${name.length}): each run's name adds a suffix to it. Shorten the name` });
  }
  if (usesHostNames(job.spec)) {
    const suffix = job.spec.schedule ? 11 : 0;
    for (const [task, t] of Object.entries(job.spec.tasks)) {
      const host = `${name}-${task}-${Math.max(t.replicas - 1, 0)}`;
      if (host.length + suffix > HOSTNAME_MAX) {
        ctx.addIssue({ code: 'custom', path: ['spec', 'tasks', task], message: `the pods of task ${task} are named ${host}${suffix ? ' plus the run suffix' : ''}, over ${HOSTNAME_MAX} characters, and Volcano uses the pod name as the host name the other tasks reach it by. Shorten the job or task name` });
      }
    }
  }
}));

/**
 * True when the job's pods reach each other by host name, so Lattice enables Volcano's svc plugin
 * (a headless Service and `<job>-<task>-<index>.<job>` host names): distributed training, or a
 * task declaring ports.
 */
export function usesHostNames(spec: Pick<LatticeJobSpec, 'training' | 'tasks'>): boolean {
  return spec.training !== undefined || Object.values(spec.tasks).some((t) => Object.keys(t.workload.service?.ports ?? {}).length > 0);
}

/** A validated LatticeJob with defaults applied. */
export type LatticeJob = z.output<typeof latticeJobSchema>;
/** The spec with defaults applied. */
export type LatticeJobSpec = z.output<typeof latticeJobSpecSchema>;
/** One task with defaults applied. */
export type JobTask = z.output<typeof jobTaskSchema>;
/** One lifecycle policy. */
export type JobPolicy = z.output<typeof jobPolicySchema>;
/** The status written back onto the LatticeJob. */
export type LatticeJobStatus = z.output<typeof latticeJobStatusSchema>;
