/**
 * The cluster side of `lattice diff --cluster` (loaded only for that flag: it brings in the
 * Kubernetes client). For every object the render derives, side A is the live object (absent when
 * it does not exist) and side B is the answer of a server-side apply with `dryRun=All` as the
 * controller would send it, so server defaults appear on both sides and only real changes differ
 * (the method of `kubectl diff`). Objects that the controller would prune (carrying the
 * `lattice.dev/service` label of a rendered service but no longer derived) are on side A only.
 * LatticeServices themselves are left out: their status is the controller's to write.
 */
import { loadKubeConfig, LatticeObjectApi, apiFailure, type Unstructured } from '../controller/kube.ts';
import { DERIVED_KINDS } from '../controller/resources.ts';
import { LABELS } from '../compiler/naming.ts';
import { objectKey } from '../compiler/diff.ts';
import type { KubeObject } from '../compiler/types.ts';
import { DiffUsageError, type DiffSide } from './diff.ts';

/** Connection options, as `lattice controller` takes them. */
export interface ClusterOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** For tests: an API already connected. */
  api?: LatticeObjectApi;
}

function asKube(o: Unstructured): KubeObject {
  return o as unknown as KubeObject;
}

/** `[live, would-be]` for the rendered objects of `local`. */
export async function clusterSide(local: DiffSide, options: ClusterOptions): Promise<[DiffSide, DiffSide]> {
  let api = options.api;
  if (!api) {
    try {
      const conn: { kubeconfig?: string; context?: string } = {};
      if (options.kubeconfig !== undefined) conn.kubeconfig = options.kubeconfig;
      if (options.context !== undefined) conn.context = options.context;
      api = LatticeObjectApi.make(loadKubeConfig(conn).kc);
    } catch (err) {
      throw new DiffUsageError((err as Error).message);
    }
  }
  const derived = local.objects.filter((o) => o.kind !== 'LatticeService');
  const live: KubeObject[] = [];
  const next: KubeObject[] = [];
  const services = new Set<string>();
  for (const o of derived) {
    const service = o.metadata.labels?.[LABELS.service];
    if (service !== undefined && o.metadata.namespace !== undefined) services.add(`${o.metadata.namespace}/${service}`);
    try {
      if (!(await api.serves(o.apiVersion, o.kind))) {
        throw new DiffUsageError(`the cluster does not serve ${o.apiVersion} ${o.kind} (needed by ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}): install its CRDs first`);
      }
      const current = await api.getObject(o);
      if (current) live.push(asKube(current));
      next.push(asKube(await api.applyDryRun(o as Unstructured & KubeObject)));
    } catch (err) {
      if (err instanceof DiffUsageError) throw err;
      const f = apiFailure(err);
      throw new DiffUsageError(`the cluster refused ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}: ${f.code ?? 'no answer'} ${f.reason ?? ''} ${f.message}`.replace(/ +/g, ' '));
    }
  }
  // What the controller would prune: objects of a rendered service that the render no longer derives.
  const wanted = new Set(derived.map(objectKey));
  for (const kind of DERIVED_KINDS.filter((k) => k.namespaced)) {
    if (!(await api.serves(kind.apiVersion, kind.kind))) continue;
    const namespaces = new Set([...services].map((s) => s.split('/')[0]!));
    for (const ns of namespaces) {
      const list = await api.listObjects(kind, { namespace: ns, labelSelector: LABELS.service });
      for (const item of list.items) {
        const o = asKube(item);
        const owner = `${o.metadata.namespace}/${o.metadata.labels?.[LABELS.service]}`;
        if (services.has(owner) && !wanted.has(objectKey(o))) live.push(o);
      }
    }
  }
  return [{ objects: live, inputErrors: false }, { objects: next, inputErrors: local.inputErrors }];
}
