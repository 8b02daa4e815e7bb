/**
 * How the rest of the platform sees a LatticeJob: one LatticeService-shaped workload (see
 * WorkloadKind.view in src/compiler/kinds.ts). The service graph and the mesh, quotas, image
 * verification and the Cedar gates read it; the job's own derivation builds one unit per task.
 *
 * One mesh identity per job: every task's pods run as the job's ServiceAccount `<job>` and carry
 * its name label, so a peer agrees with "the job" (`resources.<job>: {type: service}`), whatever
 * task calls. The view therefore holds:
 * - containers keyed `<task>-<container>` (every container of every task, so the image gate and
 *   Cedar check each one);
 * - the union of the tasks' resources (a resource name declared by two tasks must mean the same
 *   thing: the API's validation refuses a conflict);
 * - the union of the tasks' ports, keyed `<task>-<port>` (what an agreed caller may reach);
 * - replicas: the largest task's (the registry's convention for multi-pod kinds).
 */
import type { LatticeService } from '../../api/latticeservice/v1alpha1.ts';
import type { LatticeJob } from '../../api/latticejob/v1alpha1.ts';

/** Where a view container comes from: its task and its name there. */
export interface ViewOrigin {
  task: string;
  container: string;
}

/** The folded view of a job and where each of its containers, resources and pull secrets comes from. */
export interface JobView {
  service: LatticeService;
  /** View container key (`<task>-<container>`) to its task and container. */
  containers: Map<string, ViewOrigin>;
  /** Resource name to the first task declaring it. */
  resources: Map<string, string>;
}

/** The view of `job` (see the module doc). Pure. */
export function jobView(job: LatticeJob): JobView {
  const containers: LatticeService['spec']['workload']['containers'] = {};
  const resources: NonNullable<LatticeService['spec']['workload']['resources']> = {};
  const ports: NonNullable<LatticeService['spec']['workload']['service']>['ports'] = {};
  const pullSecrets: string[] = [];
  const origins = new Map<string, ViewOrigin>();
  const resourceTasks = new Map<string, string>();
  let replicas = 0;
  let hostNetwork = false;
  for (const [task, t] of Object.entries(job.spec.tasks)) {
    replicas = Math.max(replicas, t.replicas);
    if (t.workload.hostNetwork) hostNetwork = true;
    for (const [cname, c] of Object.entries(t.workload.containers)) {
      const key = `${task}-${cname}`;
      containers[key] = c;
      origins.set(key, { task, container: cname });
    }
    for (const [rname, r] of Object.entries(t.workload.resources ?? {})) {
      if (resourceTasks.has(rname)) continue;
      resources[rname] = r;
      resourceTasks.set(rname, task);
    }
    for (const [pname, p] of Object.entries(t.workload.service?.ports ?? {})) ports[`${task}-${pname}`] = p;
    for (const s of t.imagePullSecrets ?? []) if (!pullSecrets.includes(s)) pullSecrets.push(s);
  }
  const workload: LatticeService['spec']['workload'] = { containers };
  if (Object.keys(resources).length > 0) workload.resources = resources;
  if (Object.keys(ports).length > 0) workload.service = { ports, serviceType: 'ClusterIP' };
  if (hostNetwork) workload.hostNetwork = true;
  const spec: LatticeService['spec'] = { replicas, workload };
  if (pullSecrets.length > 0) spec.imagePullSecrets = pullSecrets;
  const service: LatticeService = { apiVersion: job.apiVersion, kind: 'LatticeService', metadata: job.metadata, spec };
  return { service, containers: origins, resources: resourceTasks };
}

/**
 * Maps a field path of the view (as the shared gates report it) to the job's own field:
 * `spec.workload.containers.<task>-<c>...` to `spec.tasks.<task>.workload.containers.<c>...`,
 * `spec.workload.resources.<r>...` to the first task declaring `r`, `spec.imagePullSecrets[i]` to
 * the task listing that secret, `spec.replicas` to the largest task's, `spec.workload.*` else to the first task. Other paths are unchanged.
 */
export function viewPathToJob(view: JobView, job: LatticeJob, path: readonly (string | number)[]): (string | number)[] {
  if (path[0] !== 'spec') return [...path];
  const firstTask = Object.keys(job.spec.tasks)[0]!;
  if (path[1] === 'workload') {
    if (path[2] === 'containers' && typeof path[3] === 'string') {
      const origin = view.containers.get(path[3]);
      if (origin) return ['spec', 'tasks', origin.task, 'workload', 'containers', origin.container, ...path.slice(4)];
    }
    if (path[2] === 'resources' && typeof path[3] === 'string') {
      const task = view.resources.get(path[3]);
      if (task !== undefined) return ['spec', 'tasks', task, ...path.slice(1)];
    }
    if (path[2] === 'hostNetwork') {
      const task = Object.entries(job.spec.tasks).find(([, t]) => t.workload.hostNetwork)?.[0] ?? firstTask;
      return ['spec', 'tasks', task, ...path.slice(1)];
    }
    return ['spec', 'tasks', firstTask, ...path.slice(1)];
  }
  if (path[1] === 'replicas') {
    // The view's replicas are the largest task's (what the quota gate names).
    const largest = Object.entries(job.spec.tasks).reduce((a, b) => (b[1].replicas > a[1].replicas ? b : a));
    return ['spec', 'tasks', largest[0], 'replicas', ...path.slice(2)];
  }
  if (path[1] === 'imagePullSecrets') {
    const secret = typeof path[2] === 'number' ? view.service.spec.imagePullSecrets?.[path[2]] : undefined;
    for (const [task, t] of Object.entries(job.spec.tasks)) {
      const i = secret === undefined ? -1 : (t.imagePullSecrets ?? []).indexOf(secret);
      if (i >= 0) return ['spec', 'tasks', task, 'imagePullSecrets', i, ...path.slice(3)];
    }
  }
  return [...path];
}

/** Splits a dotted field path (`spec.workload.containers.main.image`, `args[0]`) into segments. */
export function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((\[[0-9]+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1] !== '') out.push(/^[0-9]+$/.test(m[1]!) ? Number(m[1]) : m[1]!);
    for (const idx of m[2]!.matchAll(/\[([0-9]+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Joins segments back into a dotted path, indexes as `[n]` (the form diagnostics use). */
export function joinPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out.length === 0 ? seg : `.${seg}`;
  }
  return out;
}
