/**
 * The derivation of one LatticeJob: validate, run the shared gates, derive each task's pods through
 * the shared workload pipeline, wrap them in a Volcano Job (or CronJob), derive the job's mesh
 * policies, build the status. Pure and all-or-nothing: a job with any error gets no derived
 * objects, only its status (the same Condition shapes as a LatticeService, src/compiler/status.ts).
 *
 * Stages, on two kinds of state:
 * 1. the job's view (src/compiler/job/view.ts: every container of every task, one identity `<job>`)
 *    goes through the shared gates (`WORKLOAD_GATES`: protected namespace, digest pinning and
 *    signatures, Cedar) and the quota gate, so Cedar sees one principal, the job, and every
 *    container and resource of every task; a refusal names the task's own field
 *    (`spec.tasks.<task>.workload...`);
 * 2. each task is a unit named `<job>-<task>` (a LatticeService-shaped workload: the task's
 *    workload, replicas and pull secrets) that goes through the shared derivers (`WORKLOAD_DERIVERS`:
 *    ConfigMaps, ExternalSecrets by reference, the pod wiring), and its pod template comes from the
 *    shared `podTemplate()` with the task's restartPolicy, running as the job's ServiceAccount
 *    `<job>` and labelled with the job's name, `lattice.dev/task: <task>` and Istio ambient enrolment.
 *    Objects a task derives are named after the unit (`<job>-<task>-<container>-env`), so two tasks
 *    with a container of one name never collide; `${metadata.name}` in a task reads `<job>-<task>`.
 * 3. the mesh stage on the view (agreed edges of the job, as for a service) plus the job's own rules
 *    (src/compiler/job/mesh.ts).
 * Every derived object carries the job's standard labels (`lattice.dev/service: <job>`).
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.d.ts';
import { documentIdentity, emptyPod, timed, workloadResult } from '../workload/run.ts';
import { latticeJobSchema, usesHostNames, type LatticeJob } from '../../api/latticejob/v1alpha1.ts';
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import { issuesToDiagnostics } from '../service/validate.ts';
import { nameCollision } from '../service/pipeline.ts';
import { sortForApply } from '../service/pipeline.ts';
import { WORKLOAD_DERIVERS, WORKLOAD_GATES, hasErrors, type Stage } from '../workload/stages.ts';
import { podTemplate, serviceAccount } from '../workload/pod.ts';
import { gateQuota } from '../platform/quota.ts';
import { selfCollisions } from '../platform/collisions.ts';
import { AMBIENT_LABEL, deriveMesh } from '../mesh/mesh.ts';
import { standardLabels } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import type { DerivationContext, DerivationState, Diagnostic, KubeObject, ServiceInput, ServiceResult } from '../types.ts';
import { jobView, joinPath, splitPath, viewPathToJob, type JobView } from './view.ts';
import { applyJobMesh } from './mesh.ts';
import { volcanoJobSpec, volcanoObject } from './volcano.ts';

/** The pod label naming a pod's task (Volcano adds its own `volcano.sh/task-spec` too). */
export const TASK_LABEL = 'lattice.dev/task';

/** Gates of a job, on its view: the shared workload gates, then its namespace's quotas. */
export const JOB_GATES: readonly Stage[] = [...WORKLOAD_GATES, gateQuota];


/** Rewrites the paths (and positions) of diagnostics from index `from` on with `map`. */
function remapDiagnostics(diagnostics: Diagnostic[], from: number, map: (path: (string | number)[]) => (string | number)[], input: ServiceInput): void {
  for (let i = from; i < diagnostics.length; i++) {
    const d = diagnostics[i]!;
    if (d.path === undefined) continue;
    const mapped = map(splitPath(d.path));
    d.path = joinPath(mapped);
    if (input.locate) d.location = input.locate(mapped);
  }
}

/** The LatticeService-shaped unit of one task (see the module doc). */
function taskUnit(job: LatticeJob, task: string): LatticeService {
  const t = job.spec.tasks[task]!;
  const spec: LatticeService['spec'] = { replicas: t.replicas, workload: t.workload };
  if (t.imagePullSecrets !== undefined) spec.imagePullSecrets = t.imagePullSecrets;
  return { apiVersion: job.apiVersion, kind: 'LatticeService', metadata: { ...job.metadata, name: `${job.metadata.name}-${task}` }, spec };
}

/** Validates a raw LatticeJob, every problem at once. */
export function validateJob(input: ServiceInput): { ok: true; job: LatticeJob } | { ok: false; diagnostics: Diagnostic[] } {
  const parsed = latticeJobSchema.safeParse(input.object, { reportInput: true });
  if (parsed.success) return { ok: true, job: parsed.data };
  return { ok: false, diagnostics: issuesToDiagnostics(parsed.error.issues, input) };
}

/** Derives one job (see the module doc). Never throws for bad input: problems become diagnostics and status. */
export function deriveJob(input: ServiceInput, value: LatticeJob | undefined, ctx: DerivationContext): ServiceResult {
  const id = documentIdentity(input.object);
  const key = `${id.namespace}/${id.name}`;
  const result = (objects: KubeObject[], diagnostics: Diagnostic[], conditions: DerivationState['conditions']): ServiceResult =>
    workloadResult('LatticeJob', input, id, ctx, objects, diagnostics, conditions);
  let job = value;
  if (job === undefined) {
    const validation = validateJob(input);
    if (!validation.ok) return result([], validation.diagnostics, new Map());
    job = validation.job;
  }
  const name = job.metadata.name;
  const view: JobView = jobView(job);
  const diagnostics: Diagnostic[] = [];
  const conditions: DerivationState['conditions'] = new Map();
  const toJob = (path: (string | number)[]): (string | number)[] => viewPathToJob(view, job, path);
  const viewInput: ServiceInput = { ...input };
  if (input.locate) viewInput.locate = (path) => input.locate!(toJob([...path]));

  // 1. Gates on the view.
  const gateState: DerivationState = { key, service: view.service, input: viewInput, ctx, objects: [], diagnostics, conditions, pod: emptyPod() };
  for (const gate of JOB_GATES) timed(ctx, gate.name, () => gate(gateState));
  remapDiagnostics(diagnostics, 0, toJob, input);
  if (hasErrors(gateState)) return result([], diagnostics, conditions);

  // 2. Each task through the shared derivers and pod template.
  const objects: KubeObject[] = [serviceAccount(gateState, name)];
  const templates = new Map<string, PodTemplateSpec>();
  for (const [task, t] of Object.entries(job.spec.tasks)) {
    const toTask = (path: (string | number)[]): (string | number)[] => (path[0] === 'spec' ? ['spec', 'tasks', task, ...path.slice(1)] : path);
    const taskInput: ServiceInput = { ...input };
    if (input.locate) taskInput.locate = (path) => input.locate!(toTask([...path]));
    const pod = emptyPod();
    for (const cname of Object.keys(t.workload.containers)) {
      const resolved = gateState.pod.images[`${task}-${cname}`];
      if (resolved !== undefined) pod.images[cname] = resolved;
    }
    const state: DerivationState = { key, service: taskUnit(job, task), input: taskInput, ctx, objects: [], diagnostics, conditions, pod };
    const from = diagnostics.length;
    for (const stage of WORKLOAD_DERIVERS) timed(ctx, stage.name, () => stage(state));
    remapDiagnostics(diagnostics, from, toTask, input);
    if (hasErrors(state)) continue;
    objects.push(...state.objects);
    const template = podTemplate(state, name, { restartPolicy: t.restartPolicy, labels: { [TASK_LABEL]: task, [AMBIENT_LABEL.key]: AMBIENT_LABEL.value } });
    if (job.spec.priorityClassName !== undefined) template.spec!.priorityClassName = job.spec.priorityClassName;
    templates.set(task, template);
  }
  if (diagnostics.some((d) => d.severity === 'error')) return result([], diagnostics, conditions);

  const hostNames = usesHostNames(job.spec);
  objects.push(volcanoObject(job, derivedMeta(gateState, name), volcanoJobSpec(job, templates, hostNames)));

  // 3. The mesh: the job's agreed edges as a service's, then its own rules.
  const meshState: DerivationState = { ...gateState, objects: [] };
  const from = diagnostics.length;
  deriveMesh(meshState);
  remapDiagnostics(diagnostics, from, toJob, input);
  applyJobMesh(meshState, job, hostNames);
  objects.push(...meshState.objects);

  const labels = standardLabels(name, ctx.settings.partOf ?? id.namespace);
  for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...labels };
  for (const c of selfCollisions(objects)) {
    diagnostics.push(nameCollision(
      `this job would derive ${c.descriptions.length} objects with one name: ${c.descriptions.join(' and ')}. Derived names join the job, task, container and resource names with "-", so two different combinations can meet. Rename one of the tasks, containers or resources involved.`,
      input.locate?.(['metadata', 'name']),
    ));
  }
  const failed = diagnostics.some((d) => d.severity === 'error');
  return result(failed ? [] : sortForApply(objects), diagnostics, conditions);
}
