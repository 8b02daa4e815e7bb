/**
 * Test harness for the controller: a fake API server with the platform set up, controllers started
 * against it with fast timings, bounded polling for convergence, and the expected state computed by
 * the render path (`derivePlatform`, with images verified as `lattice render` verifies them) from the
 * same objects the controller reads. Test support; never shipped.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { derivePlatform, type PlatformDocument } from '../../src/compiler/platform/snapshot.ts';
import { verifyImages } from '../../src/cli/images.ts';
import { Controller, type ControllerOptions, type ControllerTimings } from '../../src/controller/controller.ts';
import { DERIVED_KINDS, READ_KINDS, latticeResourceTypes, objectId } from '../../src/controller/resources.ts';
import type { EventRecorder } from '../../src/controller/events.ts';
import { FakeApiServer, type FakeApiOptions } from './server.ts';
import type { Obj } from './store.ts';

/**
 * Timings short enough for tests. The Lease keeps client-go's 15s/10s so a busy CI machine never
 * loses it by accident; handovers in the tests go through a release, which takes one retry period.
 */
export const FAST: ControllerTimings = {
  resyncMs: 60_000,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 100,
  backoffBaseMs: 20,
  backoffMaxMs: 400,
  watchRetryMs: 50,
  drainTimeoutMs: 5_000,
  discoveryTtlMs: 200,
};

export const API = 'lattice.dev/v1alpha1';
export const IMAGE = 'registry.example.com/payments@sha256:9f2b7c1d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c';
export const IMAGE_B = 'registry.example.com/orders@sha256:3e8a1f0c2b4d6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071';

/** The Cedar policy the platform starts with: services read secrets under their namespace, any image may run. */
export const PERMIT_POLICY = {
  apiVersion: API,
  kind: 'CedarPolicy',
  metadata: { name: 'baseline', namespace: 'lattice-system' },
  spec: {
    description: 'Secrets under the own namespace; any image.',
    policies: [
      '@id("own-namespace")',
      'permit (principal, action == Lattice::Action::"AccessSecret", resource)',
      'when { resource has namespace && resource.namespace == principal.namespace };',
      '',
      '@id("any-image")',
      'permit (principal, action == Lattice::Action::"DeployImage", resource);',
      '',
    ].join('\n'),
  },
};

/** Polls `fn` every 20ms until it returns something truthy; fails after `timeoutMs` saying what was awaited. */
export async function until<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A LatticeService document. */
export function service(name: string, namespace: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: API, kind: 'LatticeService', metadata: { name, namespace }, spec };
}

/** A container spec with the test image. */
export function container(image = IMAGE, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { image, resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } }, ...extra };
}

/** Events recorded in memory (tests that do not care about the Events API). */
export class MemoryEvents implements EventRecorder {
  readonly events: { name: string; type: string; reason: string; note: string }[] = [];
  async record(subject: { metadata: { name: string; namespace?: string } }, e: { type: string; reason: string; note: string }): Promise<void> {
    this.events.push({ name: `${subject.metadata.namespace}/${subject.metadata.name}`, type: e.type, reason: e.reason, note: e.note });
  }
}

/** One test's world: the fake API server and the controllers started on it. */
export class World {
  readonly api: FakeApiServer;
  readonly controllers: Controller[] = [];
  /** Every log line of every controller, as parsed JSON. */
  readonly logs: Record<string, unknown>[] = [];

  constructor(options: FakeApiOptions = {}) {
    this.api = new FakeApiServer(options);
  }

  /** Starts the fake and creates the namespaces, the default SecretProvider and the permit policy. */
  async setUp(namespaces: string[] = ['commerce']): Promise<void> {
    await this.api.start();
    for (const ns of ['lattice-system', 'istio-system', ...namespaces]) this.api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    this.api.create({
      apiVersion: API,
      kind: 'SecretProvider',
      metadata: { name: 'vault', namespace: 'lattice-system' },
      spec: { default: true, provider: { vault: { server: 'https://vault.example.com:8200', path: 'secret', version: 'v2' } } },
    });
    this.api.create(PERMIT_POLICY);
  }

  /** Starts a controller as `user` (its bearer token), with FAST timings unless overridden. */
  async startController(user: string, opts: Partial<ControllerOptions> = {}): Promise<Controller> {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() === '') continue;
          const parsed = JSON.parse(line) as Record<string, unknown>;
          this.logs.push(parsed);
          if (process.env.LATTICE_TEST_LOG) process.stderr.write(`[${user}] ${line}\n`);
        }
        cb();
      },
    });
    const c = new Controller({
      kubeConfig: this.api.kubeConfig(user),
      identity: user,
      logger: pino({ level: 'debug', base: { user } }, sink),
      defaultMetrics: false,
      ...opts,
      timings: { ...FAST, ...opts.timings },
    });
    this.controllers.push(c);
    await c.start();
    return c;
  }

  /** Stops every controller (gracefully) and the fake. */
  async tearDown(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.stop()));
    await this.api.stop();
  }

  /** The LatticeService as stored. */
  svc(namespace: string, name: string): Obj | undefined {
    return this.api.get(API, 'LatticeService', namespace, name);
  }

  /** Waits until the service's status describes its current generation with `phase`. */
  async converged(namespace: string, name: string, phase: string, timeoutMs?: number): Promise<Obj> {
    return until(`${namespace}/${name} ${phase} at its current generation`, () => {
      const s = this.svc(namespace, name);
      const status = s?.status as { phase?: string; observedGeneration?: number } | undefined;
      return s && status?.phase === phase && status.observedGeneration === s.metadata.generation ? s : undefined;
    }, timeoutMs);
  }

  /** Waits until no controller has anything queued, running or waiting for a retry, twice in a row. */
  async idle(): Promise<void> {
    let quiet = 0;
    await until('the controllers to be idle', () => {
      const busy = this.controllers.some((c) => {
        const q = c.queueState;
        return q.depth + q.active + q.retrying > 0;
      });
      quiet = busy ? 0 : quiet + 1;
      return quiet >= 3;
    });
  }

  /** Every stored object of the derived kinds labelled for service `name` in `namespace`. */
  derivedOf(namespace: string, name: string): Obj[] {
    return DERIVED_KINDS.filter((k) => k.levels.includes('service')).flatMap((k) =>
      this.api.list(k.apiVersion, k.kind, namespace, `lattice.dev/service=${name},app.kubernetes.io/managed-by=lattice`),
    );
  }

  /** The render path's result for the objects in the store now (images verified as `lattice render` does). */
  async expected(): Promise<ReturnType<typeof derivePlatform>> {
    const docs: PlatformDocument[] = [];
    for (const t of [...latticeResourceTypes(), ...READ_KINDS]) for (const o of this.api.list(t.apiVersion, t.kind)) docs.push({ object: o });
    const images = await verifyImages(docs);
    return derivePlatform(docs, { now: '2026-01-01T00:00:00Z', images });
  }

  /**
   * Asserts that the service's objects in the store are exactly what `lattice render` derives for
   * the stored inputs, field by field, each owned by the service and labelled; and that its status
   * matches the render's status (times aside).
   */
  async assertMatchesRender(namespace: string, name: string): Promise<void> {
    const result = (await this.expected()).services.find((s) => s.key === `${namespace}/${name}`);
    assert.ok(result, `render derives no ${namespace}/${name}`);
    const live = this.svc(namespace, name)!;
    const stored = this.derivedOf(namespace, name).filter((o) => (o.metadata.ownerReferences ?? []).some((r) => r.uid === live.metadata.uid));
    if (result.status.phase === 'Ready') {
      assert.deepEqual(stored.map(objectId).sort(), result.objects.map(objectId).sort(), `the objects of ${namespace}/${name} in the store are not the rendered ones`);
      for (const want of result.objects) {
        const got = stored.find((o) => objectId(o) === objectId(want))!;
        assert.deepEqual(withoutServerFields(got), withoutServerFields(want as unknown as Obj), `${objectId(want)} differs from the rendered object`);
        assert.deepEqual(got.metadata.ownerReferences, [{ apiVersion: API, kind: 'LatticeService', name, uid: live.metadata.uid, controller: true, blockOwnerDeletion: true }], `${objectId(want)} owner reference`);
        assert.equal(got.metadata.labels?.['app.kubernetes.io/managed-by'], 'lattice');
        assert.equal(got.metadata.labels?.['lattice.dev/service'], name);
      }
    }
    const status = live.status as { phase: string; conditions: { type: string; status: string; reason: string }[]; resources: unknown[]; resourceCount: number };
    assert.equal(status.phase, result.status.phase);
    assert.deepEqual(status.conditions.map((c) => [c.type, c.status, c.reason]), result.status.conditions.map((c) => [c.type, c.status, c.reason]));
    assert.deepEqual(status.resources, result.status.resources);
    assert.equal(status.resourceCount, result.status.resourceCount);
  }

  /** Asserts that no stored object has owner references all pointing at objects that do not exist (nothing orphaned). */
  assertNoOrphans(): void {
    const uids = new Set(this.api.store.all().map((o) => o.metadata.uid));
    for (const o of this.api.store.all()) {
      const refs = o.metadata.ownerReferences ?? [];
      assert.ok(refs.length === 0 || refs.some((r) => uids.has(r.uid)), `${objectId(o)} is orphaned: its owners are gone`);
    }
  }

  /** Requests that wrote (not GET), optionally by one user, excluding the Lease. */
  writes(user?: string): typeof this.api.requests {
    return this.api.requests.filter((r) => r.method !== 'GET' && r.resource?.plural !== 'leases' && (user === undefined || r.user === user));
  }
}

/** The object without what the API server or the controller adds (for comparing with rendered objects). */
export function withoutServerFields(o: Obj): Record<string, unknown> {
  const { metadata, status: _status, ...rest } = o as Obj & { status?: unknown };
  const { uid: _u, resourceVersion: _rv, generation: _g, creationTimestamp: _c, managedFields: _m, ownerReferences: _o, ...meta } = metadata;
  return { ...rest, metadata: meta };
}
