/**
 * One reconcile: make the cluster match what the compiler derives for one key.
 *
 * For a LatticeService (`namespace/name`):
 * 1. derive it from the cached platform (src/controller/derive.ts: the same functions as `lattice render`);
 * 2. derived: first read every object of a derived name; when one exists that is not Lattice's (no
 *    managed-by label, service label and owner reference to this service), apply nothing and report
 *    `ResourcesOwned=False`, reason `ResourceConflict` (Lattice never adopts). Else server-side apply
 *    every object in the compiler's apply order, each with an owner reference to the service; then
 *    prune the objects of earlier derivations that are not derived any more: only objects carrying
 *    the service's labels AND an owner reference to its uid are candidates;
 * 3. not derived (invalid spec, denied, unverified image, any gate): delete every object derived for
 *    the service, so nothing keeps running with a permission that was revoked; when the refusal only
 *    means "could not decide now" ({@link UNDECIDED_REASONS}), remove its ExternalSecrets only;
 * 4. write `.status` through the status subresource when it changed, and record an Event when the
 *    Ready condition changes or a new generation becomes Ready.
 * A service that is gone needs nothing: the API server's garbage collector deletes what it owned.
 *
 * For the platform key: apply the platform-level objects of `derivePlatform` (ClusterSecretStores,
 * the mesh baseline) and prune those not derived any more. They carry no owner reference (a
 * cluster-scoped object cannot be owned by a namespaced SecretProvider), so a platform object is a
 * prune candidate only when it has Lattice's labels, no `lattice.dev/service` label, and managedFields
 * naming the controller's field manager as applier.
 *
 * Every write first checks that this replica still leads; when it does not, the reconcile stops
 * with {@link NotLeaderError} and nothing more is written.
 */
import type { Logger } from 'pino';
import type { Condition } from '../api/common.ts';
import type { LatticeServiceStatus } from '../api/latticeservice/v1alpha1.ts';
import { isVolcanoJob, withJobRun } from '../compiler/job/status.ts';
import type { KubeObject } from '../compiler/types.ts';
import type { Clock } from './clock.ts';
import { rfc3339 } from './clock.ts';
import type { PlatformView } from './derive.ts';
import type { EventRecorder } from './events.ts';
import { apiFailure, type ApiFailure, type LatticeObjectApi, type Unstructured } from './kube.ts';
import type { ControllerMetrics } from './metrics.ts';
import type { AdoptionMetrics } from './adoption.ts';
import { stableJson } from './stable.ts';
import { LABELS, MANAGED_BY } from '../compiler/naming.ts';
import {
  DERIVED_KINDS,
  PLATFORM_SELECTOR,
  type OwnerReference,
  SERVICE_RESOURCE,
  appliedByController,
  derivedKind,
  isOwnedBy,
  objectId,
  ownerReferenceFor,
  serviceSelector,
  type DerivedKind,
} from './resources.ts';

/** The work queue key of the platform-level objects (a service key always has a `/`). */
export const PLATFORM_KEY = '@platform';

/** Thrown when a write is about to happen and this replica no longer leads. */
export class NotLeaderError extends Error {
  constructor() {
    super('this replica no longer holds the leader Lease; stopping without writing');
  }
}

/** An object could not be applied or deleted. Carries the API failure (for Retry-After). */
export class WriteError extends Error {
  constructor(
    readonly object: string,
    readonly failure: ApiFailure,
    message: string,
  ) {
    super(message);
  }
}

/** What the reconciler needs. */
export interface ReconcilerDeps {
  api: LatticeObjectApi;
  view: PlatformView;
  /** The cached LatticeService `namespace/name`. */
  service(namespace: string, name: string): Unstructured | undefined;
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
  metrics: ControllerMetrics;
  /** Adoption metrics, told of every derivation (optional: tests may leave it out). */
  adoption?: AdoptionMetrics;
  isLeader(): boolean;
  /** How long "the cluster does not serve this kind" is believed before asking discovery again (ms). */
  discoveryTtlMs: number;
}

/**
 * Ready reasons that mean "could not decide now" rather than "refused": a CedarPolicy that does not
 * load or evaluate, a registry that did not answer. Objects of an earlier derivation are then left
 * running (only their ExternalSecrets are removed); for every other refusal they are deleted.
 */
export const UNDECIDED_REASONS: ReadonlySet<string> = new Set(['PolicyInvalid', 'PolicyEvaluationError', 'RegistryUnavailable']);

/** Sentence appended to the status of a service that could not be decided, about what stays in the cluster. */
export const KEPT_NOTE = 'Objects derived from an earlier, valid spec are left as they were, except its ExternalSecrets, which were removed.';

/** Sentence appended to the status of a refused service. */
export const REMOVED_NOTE =
  'Every object derived from an earlier spec was deleted (its Deployment included), so nothing keeps running with permissions the current spec and policies do not grant; this status stays until the spec is derived again.';

/** Condition type written when a derived object's name is taken by an object Lattice does not own. */
export const RESOURCES_OWNED = 'ResourcesOwned';
/** Reason of {@link RESOURCES_OWNED} (and Ready) then. */
export const RESOURCE_CONFLICT = 'ResourceConflict';

/** Reconciles keys; stateless between calls except for the discovery cache. */
export class Reconciler {
  private readonly notServed = new Map<string, number>();
  private lastPlatformProblems = '';

  constructor(private readonly deps: ReconcilerDeps) {}

  /** Reconciles one key; throws to have it retried with backoff. */
  async reconcile(key: string): Promise<void> {
    if (key === PLATFORM_KEY) return this.reconcilePlatform(this.deps.logger.child({ key }));
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    return this.reconcileService(namespace, name, this.deps.logger.child({ service: key }));
  }

  private async write<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.deps.isLeader()) throw new NotLeaderError();
    return fn();
  }

  /** True when the cluster serves the kind; a "no" is remembered for discoveryTtlMs. */
  private async served(kind: Pick<DerivedKind, 'apiVersion' | 'kind'>): Promise<boolean> {
    const id = `${kind.apiVersion}/${kind.kind}`;
    const until = this.notServed.get(id);
    if (until !== undefined && until > this.deps.clock.now()) return false;
    const ok = await this.deps.api.serves(kind.apiVersion, kind.kind);
    if (ok) this.notServed.delete(id);
    else this.notServed.set(id, this.deps.clock.now() + this.deps.discoveryTtlMs);
    return ok;
  }

  private async applyObject(object: KubeObject, log: Logger): Promise<Unstructured> {
    const id = objectId(object);
    const known = derivedKind(object.apiVersion, object.kind);
    if (!known) {
      throw new WriteError(id, { message: 'unknown kind' },
        `Lattice derived ${id}, a kind the controller does not know (it is missing from src/controller/resources.ts), so it could never prune it; it was not applied. This is a bug in Lattice: please report it.`);
    }
    if (!(await this.served(object))) {
      throw new WriteError(id, { code: 404, message: 'kind not served' },
        `the cluster does not serve ${object.apiVersion} ${object.kind}, needed for ${id}: install ${known.providedBy}, then the controller applies it on its next retry.`);
    }
    try {
      const applied = await this.write(() => this.deps.api.apply(object as Unstructured & KubeObject));
      log.debug({ object: id }, 'applied');
      return applied;
    } catch (err) {
      if (err instanceof NotLeaderError) throw err;
      const f = apiFailure(err);
      throw new WriteError(id, f, `applying ${id} failed: ${f.code !== undefined ? `HTTP ${f.code}${f.reason ? ` ${f.reason}` : ''}: ` : ''}${f.message}`);
    }
  }

  /**
   * Why an existing object with the identity of `object` is not Lattice's to write, or undefined when
   * it does not exist or is Lattice's. A service's object is Lattice's when it carries
   * `app.kubernetes.io/managed-by=lattice`, `lattice.dev/service=<name>` and an owner reference to
   * the service's uid; a platform object when it carries managed-by=lattice, no service label, and
   * managedFields naming the controller as applier. Anything else belongs to someone else (Helm,
   * kubectl, another controller) and server-side apply with force would take it over.
   */
  private async foreignObject(object: KubeObject, service?: { name: string; uid: string }): Promise<string | undefined> {
    if (!derivedKind(object.apiVersion, object.kind) || !(await this.served(object))) return undefined; // applyObject reports these
    let existing: Unstructured | undefined;
    try {
      existing = await this.deps.api.getObject(object as Unstructured & KubeObject);
    } catch (err) {
      const f = apiFailure(err);
      throw new WriteError(objectId(object), f, `reading ${objectId(object)} to check who owns it failed: ${f.code !== undefined ? `HTTP ${f.code}: ` : ''}${f.message}`);
    }
    if (!existing) return undefined;
    const labels = (existing.metadata?.labels ?? {}) as Record<string, string>;
    const ours = labels[LABELS.managedBy] === MANAGED_BY && (service
      ? labels[LABELS.service] === service.name && isOwnedBy(existing, service.uid)
      : labels[LABELS.service] === undefined && appliedByController(existing));
    if (ours) return undefined;
    return `${objectId(object)} already exists and is ${describeManager(existing)}`;
  }

  private async deleteObject(object: Unstructured, log: Logger, why: string): Promise<void> {
    const id = objectId(object);
    try {
      await this.write(() => this.deps.api.deleteObject(object as Unstructured & KubeObject));
      log.info({ object: id }, why);
    } catch (err) {
      if (err instanceof NotLeaderError) throw err;
      const f = apiFailure(err);
      if (f.code === 409) {
        // The uid precondition failed: the object was replaced by another one of the same name, which is not ours to delete.
        log.info({ object: id }, 'not pruned: it was replaced by another object since it was listed');
        return;
      }
      throw new WriteError(id, f, `deleting ${id} failed: ${f.code !== undefined ? `HTTP ${f.code}: ` : ''}${f.message}`);
    }
  }

  /**
   * Deletes the objects owned by `service` (labels + owner reference to its uid) of `kinds` that are
   * not in `keep`, in reverse apply order.
   */
  private async pruneService(service: Unstructured, keep: Set<string>, kinds: readonly DerivedKind[], log: Logger): Promise<number> {
    const { name, namespace, uid } = service.metadata as { name: string; namespace: string; uid: string };
    let pruned = 0;
    for (const kind of [...kinds].reverse()) {
      if (!(await this.served(kind))) continue;
      let items: Unstructured[];
      try {
        items = (await this.deps.api.listObjects(kind, { namespace, labelSelector: serviceSelector(name) })).items;
      } catch (err) {
        const f = apiFailure(err);
        throw new WriteError(`${kind.kind} in ${namespace}`, f, `listing ${kind.kind}s of ${namespace}/${name} to prune failed: ${f.message}`);
      }
      for (const item of items) {
        if (!isOwnedBy(item, uid) || keep.has(objectId(item))) continue;
        await this.deleteObject(item, log, 'pruned: no longer derived');
        pruned += 1;
      }
    }
    return pruned;
  }

  private async reconcileService(namespace: string, name: string, log: Logger): Promise<void> {
    // Image verification needs the network: done first, on the object as cached once verification
    // ends (it may change meanwhile: then its images are verified again); new results re-derive it.
    let live = this.deps.service(namespace, name);
    let verified = false;
    for (let attempt = 0; live && attempt < 3; attempt++) {
      if (await this.deps.view.verifyImages(live)) verified = true;
      const again = this.deps.service(namespace, name);
      if (again?.metadata?.resourceVersion === live.metadata?.resourceVersion) break;
      live = again;
    }
    if (!live) {
      log.debug('the LatticeService is gone; the garbage collector deletes what it owned');
      return;
    }
    const meta = live.metadata as { uid?: string; deletionTimestamp?: unknown; generation?: number };
    if (meta.deletionTimestamp) {
      log.debug('the LatticeService is being deleted; nothing to do');
      return;
    }
    if (!meta.uid) throw new Error(`LatticeService ${namespace}/${name} has no metadata.uid; the API server always sets one`);
    const key = `${namespace}/${name}`;
    const now = rfc3339(this.deps.clock.now());
    const view = this.deps.view;
    let result = view.result(key);
    const derivedFrom = (result?.object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
    if (verified || !result || derivedFrom !== live.metadata?.resourceVersion) {
      // Derive from exactly the cached object (its status holds the previous conditions).
      view.upsert(live, now);
      result = view.result(key);
    }
    if (!result) throw new Error(`the fleet has no derivation of ${key} after adding it; this is a bug in Lattice`);
    const derived = result.status.phase !== 'Failed';
    this.deps.metrics.derivations.inc({ result: derived ? 'success' : 'failure' });
    const cached = live as { metadata?: { creationTimestamp?: unknown }; status?: { phase?: unknown } };
    const observed: { uid: string; creationTimestamp?: string; previousPhase?: string } = { uid: meta.uid };
    if (typeof cached.metadata?.creationTimestamp === 'string') observed.creationTimestamp = cached.metadata.creationTimestamp;
    if (typeof cached.status?.phase === 'string') observed.previousPhase = cached.status.phase;
    this.deps.adoption?.observe(observed, derived, result.status.phase === 'Ready');
    let status: LatticeServiceStatus = result.status;
    try {
      if (derived) {
        const owner = ownerReferenceFor({ apiVersion: live.apiVersion ?? SERVICE_RESOURCE.apiVersion, kind: live.kind ?? SERVICE_RESOURCE.kind, metadata: { name, uid: meta.uid } });
        const objects = result.objects.map((o) => withOwner(o, owner, namespace));
        // Never adopt: every object whose name is taken by an object Lattice does not own stops the
        // whole apply (all-or-nothing), and the status names each one and its manager.
        const conflicts: string[] = [];
        for (const o of objects) {
          const foreign = await this.foreignObject(o, { name, uid: meta.uid });
          if (foreign) conflicts.push(foreign);
        }
        if (conflicts.length > 0) {
          status = conflictStatus(result.status, live, conflicts, now);
          log.warn({ generation: meta.generation, conflicts }, 'not applied: derived names are taken by objects Lattice does not own');
        } else {
          let volcanoJob: Unstructured | undefined;
          for (const o of objects) {
            const applied = await this.applyObject(o, log);
            if (isVolcanoJob(o)) volcanoJob = applied;
          }
          // A LatticeJob's run (Volcano's status of the Job just applied) becomes its jobPhase and its
          // Running/Complete/Failed conditions; every resync applies again, so the run stays current.
          if (live.kind === 'LatticeJob' && volcanoJob !== undefined) {
            const spec = (live as { spec?: { maxRetry?: unknown } }).spec;
            const previous = (live as { status?: { conditions?: Condition[] } }).status?.conditions;
            const options: Parameters<typeof withJobRun>[2] = { now };
            if (previous !== undefined) options.previous = previous;
            if (typeof spec?.maxRetry === 'number') options.maxRetry = spec.maxRetry;
            status = withJobRun(status, volcanoJob as { status?: unknown }, options);
          }
          const pruned = await this.pruneService(live, new Set(objects.map(objectId)), DERIVED_KINDS.filter((k) => k.levels.includes('service')), log);
          log.info({ generation: meta.generation, applied: objects.length, pruned }, 'derived and applied');
        }
      } else {
        // Refused: nothing derived from an earlier spec keeps running (a privilege revoked by a
        // policy change must end), except when the refusal is only "could not decide now".
        const undecided = result.diagnostics.filter((d) => d.severity === 'error').every((d) => UNDECIDED_REASONS.has(d.reason));
        const kinds = DERIVED_KINDS.filter((k) => k.levels.includes('service') && (!undecided || k.secretBearing));
        const removed = await this.pruneService(live, new Set(), kinds, log);
        status = failedStatus(status, undecided ? KEPT_NOTE : REMOVED_NOTE);
        log.info({ generation: meta.generation, reason: readyOf(status)?.reason, removed, undecided }, 'not derived: ' + (status.message ?? ''));
      }
    } catch (err) {
      if (err instanceof NotLeaderError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      status = applyFailedStatus(result.status, live, message, now);
      try {
        await this.writeStatus(live, status, log);
      } catch (statusErr) {
        if (statusErr instanceof NotLeaderError) throw statusErr;
        log.debug({ error: apiFailure(statusErr).message }, 'could not write the ApplyFailed status');
      }
      throw err;
    }
    await this.writeStatus(live, status, log);
  }

  /** Writes the status when it differs from the cached one, then records an Event on a transition. */
  private async writeStatus(live: Unstructured, status: LatticeServiceStatus, log: Logger): Promise<void> {
    const previous = (live as { status?: Record<string, unknown> }).status;
    if (stableJson(previous ?? null) === stableJson(status)) return;
    const apiVersion = live.apiVersion ?? SERVICE_RESOURCE.apiVersion;
    const kind = live.kind ?? SERVICE_RESOURCE.kind;
    await this.write(() => this.deps.api.patchStatus({ apiVersion, kind, metadata: live.metadata as { name: string; namespace: string; resourceVersion?: string } }, status as unknown as Record<string, unknown>, previous));
    log.debug({ phase: status.phase, observedGeneration: status.observedGeneration }, 'status written');
    const before = readyOf(previous as LatticeServiceStatus | undefined);
    const after = readyOf(status);
    if (!after) return;
    const newGeneration = (previous as { observedGeneration?: unknown } | undefined)?.observedGeneration !== status.observedGeneration;
    if (before?.status === after.status && before?.reason === after.reason && !(after.status === 'True' && newGeneration)) return;
    const subject = { apiVersion, kind, metadata: live.metadata as { name: string; namespace: string; uid?: string; resourceVersion?: string } };
    if (after.status === 'True') {
      await this.deps.events.record(subject, { type: 'Normal', reason: 'Derived', action: 'Reconcile', note: `${status.message ?? after.message} Applied for generation ${status.observedGeneration ?? '?'}.` });
    } else {
      await this.deps.events.record(subject, { type: 'Warning', reason: after.reason, action: 'Reconcile', note: after.message });
    }
  }

  private async reconcilePlatform(log: Logger): Promise<void> {
    const view = this.deps.view;
    const result = { problems: view.problems, platformObjects: view.platformObjects() };
    const problems = result.problems.map((p) => `${p.kind} ${p.name}: ${p.diagnostics.map((d) => d.message).join('; ')}`).join('\n');
    if (problems !== this.lastPlatformProblems) {
      this.lastPlatformProblems = problems;
      for (const p of result.problems) log.warn({ resource: `${p.kind} ${p.name}`, reasons: p.diagnostics.map((d) => d.reason) }, `platform resource not used: ${p.diagnostics.map((d) => d.message).join('; ')}`);
    }
    // Platform objects do not depend on each other: one that fails (say, Istio is not installed) does
    // not keep the others from being applied; the first failure is thrown at the end for a retry.
    const keep = new Set<string>(result.platformObjects.map(objectId));
    const failures: WriteError[] = [];
    for (const o of result.platformObjects) {
      const known = derivedKind(o.apiVersion, o.kind);
      try {
        if (known && !known.levels.includes('platform')) {
          throw new WriteError(objectId(o), { message: 'wrong level' }, `Lattice derived ${objectId(o)} at platform level, but the controller only prunes ${o.kind} per service. This is a bug in Lattice: please report it.`);
        }
        const foreign = await this.foreignObject(o);
        if (foreign) {
          throw new WriteError(objectId(o), { message: RESOURCE_CONFLICT },
            `${RESOURCE_CONFLICT}: ${foreign}; Lattice does not take over objects it did not create, so its platform object was not applied. Delete or rename that object (after checking nothing else needs it), or remove what derives Lattice's, and the controller applies it on its next retry.`);
        }
        await this.applyObject(o, log);
      } catch (err) {
        if (!(err instanceof WriteError)) throw err;
        log.warn({ object: err.object, code: err.failure.code }, err.message);
        failures.push(err);
      }
    }
    let pruned = 0;
    for (const kind of DERIVED_KINDS.filter((k) => k.levels.includes('platform')).reverse()) {
      if (!(await this.served(kind))) continue;
      const items = (await this.deps.api.listObjects(kind, { labelSelector: PLATFORM_SELECTOR })).items;
      for (const item of items) {
        if (!appliedByController(item) || keep.has(objectId(item))) continue;
        await this.deleteObject(item, log, 'pruned: no longer derived for the platform');
        pruned += 1;
      }
    }
    if (failures.length > 0) throw failures[0]!;
    log.info({ applied: result.platformObjects.length, pruned, problems: result.problems.length }, 'platform objects applied');
  }
}

/** The derived object with the owner reference added; refuses objects outside the service's namespace (owner references cannot cross namespaces). */
function withOwner(o: KubeObject, owner: ReturnType<typeof ownerReferenceFor>, namespace: string): KubeObject {
  if (o.metadata.namespace !== namespace) {
    throw new WriteError(objectId(o), { message: 'wrong namespace' },
      `Lattice derived ${objectId(o)} outside the service's namespace ${namespace}; an owner reference cannot cross namespaces, so the controller could not prune it and did not apply it. This is a bug in Lattice: please report it.`);
  }
  // Data-holding kinds (PersistentVolumeClaims) get no owner reference: never garbage-collected or pruned.
  if (derivedKind(o.apiVersion, o.kind)?.retained) return o;
  return { ...o, metadata: { ...o.metadata, ownerReferences: [owner] } };
}

function readyOf(status: { conditions?: Condition[] } | undefined): Condition | undefined {
  return status?.conditions?.find((c) => c.type === 'Ready');
}

/** The compiler's status of a failed service, with what the controller kept and removed (`note`). */
function failedStatus(status: LatticeServiceStatus, note: string): LatticeServiceStatus {
  const conditions = status.conditions.map((c) => (c.type === 'Ready' ? { ...c, message: `${c.message} ${note}` } : c));
  return { ...status, conditions, message: `${status.message ?? ''} ${note}`.trim() };
}

/**
 * Who manages an object Lattice does not own, from what the object says: its
 * `app.kubernetes.io/managed-by` label, its controller owner reference, and the field managers of
 * its managedFields. E.g. `managed by Helm (label app.kubernetes.io/managed-by=Helm; field managers: helm)`.
 */
export function describeManager(object: Unstructured): string {
  const meta = (object.metadata ?? {}) as { labels?: Record<string, string>; ownerReferences?: OwnerReference[]; managedFields?: { manager?: string }[] };
  const facts: string[] = [];
  const label = meta.labels?.[LABELS.managedBy];
  if (label !== undefined) facts.push(`label ${LABELS.managedBy}=${label}`);
  const owner = (meta.ownerReferences ?? []).find((r) => r.controller) ?? meta.ownerReferences?.[0];
  if (owner) facts.push(`owned by ${owner.kind} ${owner.name} (uid ${owner.uid})`);
  const managers = [...new Set((meta.managedFields ?? []).map((f) => f.manager).filter((m): m is string => typeof m === 'string'))];
  if (managers.length > 0) facts.push(`field managers: ${managers.join(', ')}`);
  const who = label !== undefined && label !== MANAGED_BY ? label : owner ? `${owner.kind} ${owner.name}` : managers[0];
  const lead = label === MANAGED_BY ? 'labelled as Lattice\'s but not owned by this LatticeService' : `managed by ${who ?? 'someone else'}`;
  return `${lead}${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`;
}

/**
 * The status when derived objects could not be applied because their names are taken by objects
 * Lattice does not own: phase Failed, `ResourcesOwned` False and Ready False with reason
 * `ResourceConflict`, naming each object, its manager and the fix. Objects of an earlier derivation
 * are left as they were. lastTransitionTime is kept when the condition's status did not change.
 */
export function conflictStatus(derived: LatticeServiceStatus, live: Unstructured, conflicts: readonly string[], now: string): LatticeServiceStatus {
  const previous = (live as { status?: LatticeServiceStatus }).status?.conditions ?? [];
  const since = (type: string): string => {
    const p = previous.find((c) => c.type === type);
    return p && p.status === 'False' ? p.lastTransitionTime : now;
  };
  const text =
    `${conflicts.join('; ')}. Lattice does not take over objects it did not create (applying over them would move their fields to Lattice, and deleting this LatticeService would delete them), so nothing was applied. ` +
    'Rename the service, container or resource so the derived names are free, or, if the object is a leftover nobody needs, delete it; the controller applies the service at its next resync.';
  const condition = (type: string): Condition => {
    const c: Condition = { type, status: 'False', reason: RESOURCE_CONFLICT, message: text, lastTransitionTime: since(type) };
    if (derived.observedGeneration !== undefined) c.observedGeneration = derived.observedGeneration;
    return c;
  };
  const conditions = derived.conditions.filter((c) => c.type !== 'Ready' && c.type !== RESOURCES_OWNED);
  return { ...derived, phase: 'Failed', conditions: [...conditions, condition(RESOURCES_OWNED), condition('Ready')], message: `Failed: ${text}` };
}

/**
 * The status after a derivation that succeeded but could not be applied: phase Pending, Ready False
 * with reason ApplyFailed and the API server's answer. lastTransitionTime is kept when Ready was
 * already False.
 */
export function applyFailedStatus(derived: LatticeServiceStatus, live: Unstructured, message: string, now: string): LatticeServiceStatus {
  const previous = readyOf((live as { status?: LatticeServiceStatus }).status);
  const text = `Derived ${derived.resourceCount} resources but could not apply them: ${message}. Retrying with backoff.`;
  const ready: Condition = {
    type: 'Ready',
    status: 'False',
    reason: 'ApplyFailed',
    message: text,
    lastTransitionTime: previous && previous.status === 'False' ? previous.lastTransitionTime : now,
  };
  if (derived.observedGeneration !== undefined) ready.observedGeneration = derived.observedGeneration;
  return {
    ...derived,
    phase: 'Pending',
    conditions: derived.conditions.map((c) => (c.type === 'Ready' ? ready : c)),
    message: text,
  };
}
