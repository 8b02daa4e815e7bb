/**
 * Kubernetes Events (events.k8s.io/v1) about LatticeServices, shown by `kubectl describe` and
 * `kubectl events`: Normal `Derived` when a service becomes Ready or a new generation is applied,
 * Warning with the failing condition's reason when it stops being Ready. Events are best effort: a
 * failure to record one is logged and never fails a reconcile.
 */
import { randomBytes } from 'node:crypto';
import { EventsV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { REPORTING_CONTROLLER } from './resources.ts';
import { apiFailure } from './kube.ts';

/** The object an Event is about. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** One Event to record. */
export interface EventDraft {
  type: 'Normal' | 'Warning';
  /** CamelCase reason (`Derived`, or the condition's reason). */
  reason: string;
  /** What happened, in words (at most 1 KiB is kept: the API server's limit on `note`). */
  note: string;
  /** What the controller was doing (`Reconcile`). */
  action: string;
}

/** Records Events. */
export interface EventRecorder {
  record(subject: EventSubject, event: EventDraft): Promise<void>;
}

/** The most bytes of `note` the API server accepts (events.k8s.io/v1 validation). */
export const MAX_NOTE_BYTES = 1024;

/** Cuts `note` to at most {@link MAX_NOTE_BYTES} bytes of UTF-8, ending with "…" when cut. */
export function truncateNote(note: string): string {
  if (Buffer.byteLength(note) <= MAX_NOTE_BYTES) return note;
  // "…" is 3 bytes; a character cut in half decodes to U+FFFD, dropped.
  const cut = Buffer.from(note).subarray(0, MAX_NOTE_BYTES - 3).toString('utf8').replace(/\uFFFD+$/, '');
  return `${cut}…`;
}

/** Writes Events through the events.k8s.io/v1 API, as `reportingController` lattice.dev/lattice-controller. */
export class KubeEventRecorder implements EventRecorder {
  private readonly api: EventsV1Api;

  constructor(
    kc: KubeConfig,
    private readonly instance: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.api = kc.makeApiClient(EventsV1Api);
  }

  async record(subject: EventSubject, event: EventDraft): Promise<void> {
    const namespace = subject.metadata.namespace ?? 'default';
    const regarding: Record<string, string> = { apiVersion: subject.apiVersion, kind: subject.kind, name: subject.metadata.name, namespace };
    if (subject.metadata.uid) regarding.uid = subject.metadata.uid;
    if (subject.metadata.resourceVersion) regarding.resourceVersion = subject.metadata.resourceVersion;
    try {
      await this.api.createNamespacedEvent({
        namespace,
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name: `${subject.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
          eventTime: new V1MicroTime(this.now()),
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: this.instance.slice(0, 128),
          action: event.action,
          reason: event.reason,
          note: truncateNote(event.note),
          type: event.type,
          regarding,
        },
      });
    } catch (err) {
      const f = apiFailure(err);
      this.logger.warn({ event: event.reason, code: f.code, error: f.message }, 'could not record an Event; carrying on');
    }
  }
}
