/**
 * A LatticeJob's run, read from its Volcano Job: the pure mapping the controller applies to the
 * Volcano Job's `status` (batch.volcano.sh/v1alpha1 Job, `status.state.phase` and the pod counts)
 * to write the LatticeJob's `status.jobPhase` and its run conditions beside the derivation's.
 *
 * Volcano's job phases (the CRD's `status.state.phase` enum; volcano.sh docs, "VolcanoJob", status):
 * Pending (waiting for the gang: fewer than minAvailable pods schedulable, or queued), Running,
 * Restarting (a policy restarts the job; `retryCount` counts the restarts up to `maxRetry`),
 * Completing/Completed, Aborting/Aborted (stopped by a policy or a command; may be resumed),
 * Terminating/Terminated (stopped by a policy) and Failed (`maxRetry` exhausted).
 *
 * Three run conditions, each always present once the Volcano Job exists (Kubernetes API conventions:
 * conditions with CamelCase reasons, the Volcano phase as reason so it can be traced):
 * - `Running`: True while pods run (Running, Completing); False otherwise;
 * - `Complete`: True once Completed;
 * - `Failed`: True once Failed, Aborted or Terminated; False otherwise.
 * `jobPhase` folds them for `kubectl get`: Pending, Running, Succeeded or Failed (the reference's
 * LatticeJob phases). A scheduled job (Volcano CronJob) has one Volcano Job per run: the controller
 * maps the newest run's status; the CronJob itself has no phase.
 */
import type { Condition } from '../../api/common.ts';

/** The Volcano Job phases (CRD enum of `status.state.phase`). */
export const VOLCANO_PHASES = ['Pending', 'Aborting', 'Aborted', 'Running', 'Restarting', 'Completing', 'Completed', 'Terminating', 'Terminated', 'Failed'] as const;

/** A Volcano Job phase. */
export type VolcanoPhase = (typeof VOLCANO_PHASES)[number];

/** A LatticeJob's run phase (`status.jobPhase`). */
export type JobRunPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** The part of a Volcano Job's status the mapping reads (all optional, as on a fresh object). */
export interface VolcanoJobStatus {
  state?: { phase?: string; reason?: string; message?: string };
  minAvailable?: number;
  pending?: number;
  running?: number;
  succeeded?: number;
  failed?: number;
  retryCount?: number;
}

/** The run status of a LatticeJob: its phase and its three run conditions, in the order Running, Complete, Failed. */
export interface JobRunStatus {
  jobPhase: JobRunPhase;
  conditions: Condition[];
}

/** Options of {@link jobRunStatus}. */
export interface JobRunOptions {
  /** Time written on a condition whose status changed (RFC 3339). */
  now: string;
  /** The LatticeJob's current conditions: an unchanged status keeps its lastTransitionTime. */
  previous?: readonly Condition[];
  /** The LatticeJob's metadata.generation, written as observedGeneration. */
  generation?: number;
  /** The job's maxRetry (Volcano default 3), named in messages. */
  maxRetry?: number;
}

const PHASE_OF: Record<VolcanoPhase, JobRunPhase> = {
  Pending: 'Pending',
  Restarting: 'Pending',
  Running: 'Running',
  Completing: 'Running',
  Completed: 'Succeeded',
  Aborting: 'Running',
  Terminating: 'Running',
  Aborted: 'Failed',
  Terminated: 'Failed',
  Failed: 'Failed',
};

function isVolcanoPhase(p: string | undefined): p is VolcanoPhase {
  return p !== undefined && (VOLCANO_PHASES as readonly string[]).includes(p);
}

/**
 * Maps a Volcano Job's `status` (or undefined: the Volcano Job does not exist yet or has no status)
 * to the LatticeJob's run phase and conditions (see the module doc). Pure; an unknown phase is
 * reported as Unknown conditions with reason `UnknownVolcanoPhase`, never thrown.
 */
export function jobRunStatus(volcano: VolcanoJobStatus | undefined, options: JobRunOptions): JobRunStatus {
  const raw = volcano?.state?.phase;
  const phase: VolcanoPhase | undefined = raw === undefined || raw === '' ? 'Pending' : isVolcanoPhase(raw) ? raw : undefined;
  const counts = `${volcano?.running ?? 0} running, ${volcano?.pending ?? 0} pending, ${volcano?.succeeded ?? 0} succeeded, ${volcano?.failed ?? 0} failed`;
  const detail = volcano?.state?.message ? ` Volcano: ${volcano.state.message}` : '';
  const drafts: Omit<Condition, 'lastTransitionTime'>[] = [];
  let jobPhase: JobRunPhase;
  if (phase === undefined) {
    jobPhase = 'Pending';
    const message = `the Volcano Job reports phase "${raw}", which this version of Lattice does not know; check it with kubectl get vcjob.`;
    for (const type of ['Running', 'Complete', 'Failed']) drafts.push({ type, status: 'Unknown', reason: 'UnknownVolcanoPhase', message });
  } else {
    jobPhase = PHASE_OF[phase];
    const retries = `${volcano?.retryCount ?? 0} of ${options.maxRetry ?? 3} retries used`;
    const running = phase === 'Running' || phase === 'Completing';
    const runningMessage: Record<VolcanoPhase, string> = {
      Pending: `Waiting to be scheduled: Volcano starts the job only when ${volcano?.minAvailable !== undefined ? `${volcano.minAvailable} pods` : 'the gang (minAvailable pods)'} can run together, in its queue's turn (${counts}).`,
      Restarting: `Restarting after a lifecycle policy fired (${retries}).`,
      Running: `Running (${counts}).`,
      Completing: `The pods are finishing (${counts}).`,
      Completed: `Not running: the job completed (${counts}).`,
      Aborting: 'Being aborted by a lifecycle policy or a command.',
      Aborted: 'Not running: aborted by a lifecycle policy or a command; it can be resumed (vcctl job resume).',
      Terminating: 'Being terminated by a lifecycle policy.',
      Terminated: 'Not running: terminated by a lifecycle policy.',
      Failed: `Not running: failed (${retries}).`,
    };
    drafts.push({ type: 'Running', status: running ? 'True' : 'False', reason: phase, message: runningMessage[phase] + detail });
    drafts.push({
      type: 'Complete',
      status: phase === 'Completed' ? 'True' : 'False',
      reason: phase,
      message: phase === 'Completed' ? `The job completed (${counts}).` : `Not complete: the job is ${phase}.`,
    });
    const failedMessage: Partial<Record<VolcanoPhase, string>> = {
      Failed: `The job failed: its pods failed and the retries are exhausted (${retries}). Read the pods' logs (kubectl logs -l volcano.sh/job-name=...), fix the cause and re-apply, or raise spec.maxRetry.`,
      Aborted: 'The job was aborted by a lifecycle policy (spec.policies action AbortJob) or a command; resume it with vcctl job resume, or re-apply it.',
      Terminated: 'The job was terminated by a lifecycle policy (spec.policies action TerminateJob); re-apply it to run again.',
    };
    const failed = failedMessage[phase];
    drafts.push({ type: 'Failed', status: failed ? 'True' : 'False', reason: phase, message: (failed ?? `Not failed: the job is ${phase}.`) + detail });
  }
  const previous = new Map((options.previous ?? []).map((c) => [c.type, c]));
  const conditions = drafts.map((d) => {
    const prev = previous.get(d.type);
    const c: Condition = { ...d, lastTransitionTime: prev && prev.status === d.status ? prev.lastTransitionTime : options.now };
    if (options.generation !== undefined) c.observedGeneration = options.generation;
    return c;
  });
  return { jobPhase, conditions };
}

/** The derived Volcano Job of a LatticeJob, recognised by group and kind (a scheduled job derives a CronJob instead). */
export function isVolcanoJob(object: { apiVersion?: unknown; kind?: unknown }): boolean {
  return object.kind === 'Job' && typeof object.apiVersion === 'string' && object.apiVersion.startsWith('batch.volcano.sh/');
}

/**
 * A LatticeJob's status with its run laid over the derivation's: `jobPhase` and the conditions
 * Running, Complete and Failed from the applied Volcano Job's `status` (see {@link jobRunStatus}),
 * after the derivation's own conditions (Validated, the gates, Ready). `live` is the LatticeJob as
 * cached (its previous conditions keep their transition times); `maxRetry` its `spec.maxRetry`.
 * Pure; the derivation's conditions are never replaced.
 */
export function withJobRun<S extends { conditions: Condition[]; observedGeneration?: number | undefined }>(
  status: S,
  volcano: { status?: unknown } | undefined,
  options: { now: string; previous?: readonly Condition[]; maxRetry?: number },
): S & { jobPhase: JobRunPhase } {
  const runOptions: JobRunOptions = { now: options.now };
  if (options.previous !== undefined) runOptions.previous = options.previous;
  if (status.observedGeneration !== undefined) runOptions.generation = status.observedGeneration;
  if (options.maxRetry !== undefined) runOptions.maxRetry = options.maxRetry;
  const run = jobRunStatus(volcano?.status as VolcanoJobStatus | undefined, runOptions);
  const runTypes = new Set(run.conditions.map((c) => c.type));
  return { ...status, jobPhase: run.jobPhase, conditions: [...status.conditions.filter((c) => !runTypes.has(c.type)), ...run.conditions] };
}
