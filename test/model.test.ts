/**
 * LatticeModel: what a model derives, field by field and against the upstream schemas (Kubernetes,
 * Kthena, Cilium, Istio, ESO, KEDA), and every guarantee of a workload tried against a model: Cedar
 * gates on every container and secret, digest pinning, secrets by reference only (never in the URI
 * nor in any derived object), the restricted security context, protected namespaces, quotas with
 * GPUs, the bilateral mesh, and one owner per model name.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionOf, deriveObjects, deriveYaml, IMAGE, objectOf, permitAll, resultOf, service } from './support/fixtures.ts';
import { assertValid } from './support/schemas.ts';
import { KINDS, RESERVED_KINDS, kindProblem } from '../src/api/kinds.ts';
import { modelUriProblem } from '../src/api/latticemodel/v1alpha1.ts';
import { workloadView } from '../src/compiler/kinds.ts';
import { lattice } from './support/cli.ts';
import { computeQuotaUsage } from '../src/compiler/platform/quota.ts';
import { defaultPlatformSettings } from '../src/api/latticeplatform/v1alpha1.ts';
import { latticeQuotaSchema } from '../src/api/latticequota/v1alpha1.ts';
import type { KubeObject, ServiceResult } from '../src/compiler/types.ts';

const ENGINE = `registry.example.com/vllm@sha256:${'c'.repeat(64)}`;

/** A valid LatticeModel `name` in namespace `ai`; `spec` fields are merged over a minimal routed model. */
function model(name: string, spec: Record<string, unknown> = {}, namespace = 'ai'): Record<string, unknown> {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeModel',
    metadata: { name, namespace },
    spec: {
      modelSource: { uri: 'hf://Qwen/Qwen2.5-0.5B-Instruct' },
      workload: {
        containers: { engine: { image: ENGINE, args: ['--port', '8000'], resources: { limits: { cpu: '2', memory: '8Gi' } } } },
        service: { ports: { http: { port: 8000 } } },
      },
      ...spec,
    },
  };
}

function provider(): Record<string, unknown> {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'SecretProvider',
    metadata: { name: 'vault', namespace: 'lattice-system' },
    spec: { default: true, provider: { vault: { server: 'https://vault.example.com', path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault-token', key: 'token', namespace: 'external-secrets' } } } } },
  };
}

/** The model of the field-by-field tests: credentials, GPUs, autoscaling, two routes, an agreed caller. */
const FULL = model('chat', {
  replicas: 2,
  autoscaling: { max: 4, metrics: [{ metric: 'vllm:num_requests_waiting', target: 5 }] },
  modelSource: { uri: 'hf://Qwen/Qwen2.5-0.5B-Instruct', credentials: 'hf', cacheSize: '30Gi', mountPath: '/cache' },
  gpu: { count: 2, model: 'NVIDIA-A100-SXM4-80GB' },
  workload: {
    containers: {
      engine: { image: ENGINE, variables: { VLLM_LOGGING_LEVEL: 'INFO' }, resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { memory: '16Gi' } } },
      exporter: { image: IMAGE, resources: { limits: { cpu: '100m', memory: '64Mi' } } },
    },
    service: { ports: { http: { port: 80, targetPort: 8000 }, metrics: { port: 9400 } } },
    resources: {
      hf: { type: 'secret', id: 'ai/hf-token', params: { keys: ['HF_TOKEN'] } },
      assistant: { type: 'service', direction: 'inbound' },
    },
  },
  routing: {
    inferenceEngine: 'vLLM',
    model: 'qwen',
    trafficPolicy: { timeout: '30s', retry: { attempts: 3, retryInterval: '200ms' } },
    routes: {
      chat: { modelName: 'qwen-chat', rateLimit: { inputTokensPerUnit: 1000, unit: 'minute' } },
      premium: { modelName: 'qwen-premium', loraAdapters: ['sql-lora'], headers: { 'x-tier': 'premium' } },
    },
  },
});
const ASSISTANT = service('assistant', { workload: { service: { ports: { http: { port: 8080 } } }, resources: { chat: { type: 'service' } } } }, 'ai');

const PLATFORM = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { prometheusAddress: 'http://vmsingle.monitoring.svc:8429' } };
const full = deriveObjects([permitAll(), PLATFORM, provider(), FULL, ASSISTANT]);
const chat = resultOf(full, 'ai/chat');

function podSpec(r: ServiceResult): Record<string, unknown> & { containers: Record<string, unknown>[] } {
  return ((objectOf(r, 'Deployment').spec as { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } }).template.spec);
}

describe('LatticeModel is a registered kind', () => {
  test('it is served (CRD, explain, reference) and no longer reserved', () => {
    const k = KINDS.find((x) => x.kind === 'LatticeModel');
    assert.ok(k);
    assert.deepEqual([k.plural, k.singular, k.shortNames, k.scope], ['latticemodels', 'latticemodel', ['lm'], 'Namespaced']);
    assert.equal(RESERVED_KINDS.includes('LatticeModel'), false);
    assert.equal(kindProblem('lattice.dev/v1alpha1', 'LatticeModel'), undefined);
    assert.equal(kindProblem('lattice.dev/v1beta1', 'LatticeModel')?.reason, 'UnsupportedVersion');
  });
});

describe('what a model derives, field by field', () => {
  test('Ready, kind LatticeModel, the objects in apply order, each valid against its upstream schema', () => {
    assert.equal(chat.status.phase, 'Ready', JSON.stringify(chat.status.conditions));
    assert.equal(chat.kind, 'LatticeModel');
    assert.deepEqual(chat.objects.map((o) => `${o.kind}/${o.metadata.name}`), [
      'ServiceAccount/chat',
      'ConfigMap/chat-engine-env',
      'ExternalSecret/chat-hf',
      'Deployment/chat',
      'Service/chat',
      'PodDisruptionBudget/chat',
      'VMServiceScrape/chat',
      'CiliumNetworkPolicy/chat',
      'AuthorizationPolicy/chat',
      'ScaledObject/chat',
      'ModelServer/chat',
      'ModelRoute/chat-chat',
      'ModelRoute/chat-premium',
    ]);
    for (const o of [...chat.objects, ...resultOf(full, 'ai/assistant').objects]) assertValid(o);
  });

  test('the pod template is the shared one: restricted security, no token, pinned images', () => {
    const spec = podSpec(chat);
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.serviceAccountName, 'chat');
    assert.deepEqual(spec.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of spec.containers) {
      assert.deepEqual(c.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    }
    assert.deepEqual(spec.containers.map((c) => c.image), [ENGINE, IMAGE]);
    const labels = (objectOf(chat, 'Deployment').spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    assert.equal(labels['istio.io/dataplane-mode'], 'ambient');
    assert.equal(labels['app.kubernetes.io/name'], 'chat');
  });

  test('GPUs: limit and request on the serving container only, the taint toleration, the product node selector', () => {
    const spec = podSpec(chat);
    const [engine, exporter] = spec.containers as { resources: { requests: Record<string, string>; limits: Record<string, string> } }[];
    assert.deepEqual(engine!.resources, { requests: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '2' }, limits: { memory: '16Gi', 'nvidia.com/gpu': '2' } });
    assert.equal(exporter!.resources.limits['nvidia.com/gpu'], undefined);
    assert.deepEqual(spec.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(spec.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' });
    // Another extended resource name, no product: no node selector.
    const amd = deriveObjects([model('m', { gpu: { count: 1, resource: 'amd.com/gpu' } })]);
    const s = podSpec(resultOf(amd, 'ai/m'));
    assert.deepEqual((s.containers[0] as { resources: { limits: Record<string, string> } }).resources.limits['amd.com/gpu'], '1');
    assert.deepEqual(s.tolerations, [{ key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.equal(s.nodeSelector, undefined);
    // No gpu: none of it.
    const cpu = podSpec(resultOf(deriveObjects([model('m')]), 'ai/m'));
    assert.equal(cpu.tolerations, undefined);
    assert.equal(cpu.nodeSelector, undefined);
  });

  test('a GPU short name (the reference\'s A100) becomes the product label value in the node selector, not the short name', () => {
    const spec = podSpec(resultOf(deriveObjects([model('m', { gpu: { count: 1, model: 'A100' } })]), 'ai/m'));
    assert.deepEqual(spec.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' });
    assert.deepEqual(spec.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  test('model source: URI and cache path as variables, credentials by envFrom of the ExternalSecret, a writable cache of cacheSize', () => {
    const cm = objectOf(chat, 'ConfigMap', 'chat-engine-env');
    assert.deepEqual(cm.data, { HF_HOME: '/cache', LATTICE_MODEL_PATH: '/cache', LATTICE_MODEL_URI: 'hf://Qwen/Qwen2.5-0.5B-Instruct', VLLM_LOGGING_LEVEL: 'INFO' });
    const engine = podSpec(chat).containers[0] as { envFrom: unknown[]; volumeMounts: { name: string; mountPath: string }[] };
    assert.deepEqual(engine.envFrom, [{ secretRef: { name: 'chat-hf' } }, { configMapRef: { name: 'chat-engine-env' } }]);
    const mount = engine.volumeMounts.find((m) => m.mountPath === '/cache')!;
    const volume = (podSpec(chat).volumes as { name: string; emptyDir?: { sizeLimit: string } }[]).find((v) => v.name === mount.name);
    assert.deepEqual(volume?.emptyDir, { sizeLimit: '30Gi' });
    const es = objectOf(chat, 'ExternalSecret', 'chat-hf');
    assert.deepEqual((es.spec as { data: unknown }).data, [{ secretKey: 'HF_TOKEN', remoteRef: { key: 'ai/hf-token', property: 'HF_TOKEN' } }]);
    // s3:// sources get no HF_HOME.
    const s3 = deriveObjects([model('m', { modelSource: { uri: 's3://bucket/models/llama' }, routing: { inferenceEngine: 'vLLM', model: 'llama' } })]);
    assert.deepEqual(objectOf(resultOf(s3, 'ai/m'), 'ConfigMap').data, { LATTICE_MODEL_PATH: '/models', LATTICE_MODEL_URI: 's3://bucket/models/llama' });
  });

  test('ModelServer: the pods by selector label, the engine container port, model, engine, traffic policy', () => {
    assert.deepEqual(objectOf(chat, 'ModelServer').spec, {
      model: 'qwen',
      inferenceEngine: 'vLLM',
      workloadSelector: { matchLabels: { 'app.kubernetes.io/name': 'chat' } },
      workloadPort: { port: 8000, protocol: 'http' },
      trafficPolicy: { timeout: '30s', retry: { attempts: 3, retryInterval: '200ms' } },
    });
    // The served name defaults to the hf:// repository.
    const plain = resultOf(deriveObjects([model('m', { routing: { inferenceEngine: 'SGLang', routes: { m: {} } } })]), 'ai/m');
    assert.deepEqual(objectOf(plain, 'ModelServer').spec, {
      model: 'Qwen/Qwen2.5-0.5B-Instruct',
      inferenceEngine: 'SGLang',
      workloadSelector: { matchLabels: { 'app.kubernetes.io/name': 'm' } },
      workloadPort: { port: 8000, protocol: 'http' },
    });
    assert.deepEqual(objectOf(plain, 'ModelRoute', 'm-m').spec, { modelName: 'm', rules: [{ name: 'default', targetModels: [{ modelServerName: 'm' }] }] });
  });

  test('ModelRoutes: model name, LoRA adapters, exact header match, rate limit', () => {
    assert.deepEqual(objectOf(chat, 'ModelRoute', 'chat-chat').spec, {
      modelName: 'qwen-chat',
      rules: [{ name: 'default', targetModels: [{ modelServerName: 'chat' }] }],
      rateLimit: { inputTokensPerUnit: 1000, unit: 'minute' },
    });
    assert.deepEqual(objectOf(chat, 'ModelRoute', 'chat-premium').spec, {
      modelName: 'qwen-premium',
      loraAdapters: ['sql-lora'],
      rules: [{ name: 'default', modelMatch: { headers: { 'x-tier': { exact: 'premium' } } }, targetModels: [{ modelServerName: 'chat' }] }],
    });
  });

  test('autoscaling: a KEDA ScaledObject on the Deployment, which leaves replicas to it', () => {
    const so = objectOf(chat, 'ScaledObject');
    const spec = so.spec as { scaleTargetRef: unknown; minReplicaCount: number; maxReplicaCount: number; triggers: { type: string; metadata: { query: string; threshold: string } }[] };
    assert.deepEqual(spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'chat' });
    assert.deepEqual([spec.minReplicaCount, spec.maxReplicaCount], [2, 4]);
    assert.equal(spec.triggers[0]!.metadata.query, 'sum(vllm:num_requests_waiting{namespace="ai",service="chat"})');
    assert.equal((objectOf(chat, 'Deployment').spec as { replicas?: number }).replicas, undefined);
    const fixed = resultOf(deriveObjects([model('m', { replicas: 3 })]), 'ai/m');
    assert.equal((objectOf(fixed, 'Deployment').spec as { replicas?: number }).replicas, 3);
  });

  test('the mesh: the agreed caller and the Kthena router on the engine port, the scraper on the metrics port', () => {
    const ap = objectOf(chat, 'AuthorizationPolicy').spec as { rules: { from: { source: { principals: string[] } }[]; to: { operation: { ports: string[] } }[] }[] };
    assert.deepEqual(ap.rules.map((r) => [r.from[0]!.source.principals, r.to[0]!.operation.ports]), [
      [['cluster.local/ns/ai/sa/assistant'], ['8000', '9400']],
      [['cluster.local/ns/monitoring/sa/vmagent-vmagent'], ['9400']],
      [['cluster.local/ns/kthena-system/sa/kthena-router'], ['8000']],
    ]);
    const cnp = objectOf(chat, 'CiliumNetworkPolicy').spec as { ingress: { fromEndpoints: { matchLabels: Record<string, string> }[]; toPorts: unknown }[] };
    assert.deepEqual(cnp.ingress[1], {
      fromEndpoints: [{ matchLabels: { 'k8s:app.kubernetes.io/component': 'kthena-router', 'k8s:io.kubernetes.pod.namespace': 'kthena-system', 'k8s:io.cilium.k8s.policy.serviceaccount': 'kthena-router' } }],
      toPorts: [{ ports: [{ port: '15008', protocol: 'TCP' }] }],
    });
    // A model without routes lets no router in; with nobody allowed in, it gets no AuthorizationPolicy at all.
    const closed = resultOf(deriveObjects([model('m', { workload: { containers: { engine: { image: ENGINE, resources: { limits: { cpu: '1', memory: '1Gi' } } } } } })]), 'ai/m');
    assert.equal(closed.objects.some((o) => o.kind === 'AuthorizationPolicy' || o.kind === 'ModelServer'), false);
    assert.equal(JSON.stringify(objectOf(closed, 'CiliumNetworkPolicy')).includes('kthena'), false);
    // Routes and no caller: the scraper (on the only port) and the router, nobody else.
    const routedOnly = resultOf(deriveObjects([model('m', { routing: { inferenceEngine: 'vLLM', routes: { m: {} } } })]), 'ai/m');
    assert.deepEqual((objectOf(routedOnly, 'AuthorizationPolicy').spec as { rules: unknown[] }).rules, [
      { from: [{ source: { principals: ['cluster.local/ns/monitoring/sa/vmagent-vmagent'] } }], to: [{ operation: { ports: ['8000'] } }] },
      { from: [{ source: { principals: ['cluster.local/ns/kthena-system/sa/kthena-router'] } }], to: [{ operation: { ports: ['8000'] } }] },
    ]);
  });

  test('a caller agrees to a model like to a service: one-sided declarations let nothing through', () => {
    // The model accepts assistant, but assistant does not call it.
    const oneSided = deriveObjects([model('m', { workload: { containers: { engine: { image: ENGINE, resources: { limits: { cpu: '1', memory: '1Gi' } } } }, service: { ports: { http: { port: 8000 } } }, resources: { assistant: { type: 'service', direction: 'inbound' } } } }), service('assistant', {}, 'ai')]);
    const m = resultOf(oneSided, 'ai/m');
    assert.equal(m.status.phase, 'Ready');
    assert.equal(conditionOf(m, 'DependenciesAgreed').reason, 'OutboundNotDeclared');
    assert.equal(JSON.stringify(objectOf(m, 'AuthorizationPolicy')).includes('/sa/assistant'), false);
    assert.equal(JSON.stringify(objectOf(m, 'CiliumNetworkPolicy')).includes('assistant'), false);
    // The caller resolves the model's URL like a service's.
    const agreed = deriveObjects([model('m', { workload: { containers: { engine: { image: ENGINE, resources: { limits: { cpu: '1', memory: '1Gi' } } } }, service: { ports: { http: { port: 8000 } } }, resources: { a: { type: 'service', direction: 'inbound' } } } }),
      service('a', { workload: { containers: { main: { image: IMAGE, variables: { URL: '${resources.m.url}' }, resources: { limits: { cpu: '1', memory: '1Gi' } } } }, resources: { m: { type: 'service' } } } }, 'ai')]);
    assert.deepEqual((objectOf(resultOf(agreed, 'ai/a'), 'ConfigMap') as KubeObject & { data: Record<string, string> }).data.URL, 'http://m.ai.svc.cluster.local:8000');
  });

  test('lattice graph and authz check see a model as a workload (its unit)', () => {
    const unit = workloadView(FULL);
    assert.equal(unit?.metadata.name, 'chat');
    assert.deepEqual(Object.keys(unit!.spec.workload.resources ?? {}), ['hf', 'assistant', 'lattice-gpu']);
    assert.equal(workloadView({ ...FULL, spec: { ...(FULL.spec as object), gpu: { count: 0 } } }), undefined);
  });
});

describe('every guarantee holds for a model', () => {
  const policies = (text: string): Record<string, unknown> => ({ apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name: 'p', namespace: 'lattice-system' }, spec: { policies: text } });
  const ALLOW = 'permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };';

  test('Cedar DeployImage runs on every container of a model: a forbidden image fails it whole', () => {
    const r = resultOf(deriveObjects([policies(`${ALLOW}\n@id("no-vllm") forbid (principal, action == Lattice::Action::"DeployImage", resource) when { resource.repository == "vllm" };`), PLATFORM, FULL, provider()]), 'ai/chat');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'DeployImageDenied');
  });

  test('Cedar AccessSecret runs on the source credentials: no permit, no model', () => {
    const r = resultOf(deriveObjects([policies(`${ALLOW}\n@id("no-secrets") forbid (principal, action == Lattice::Action::"AccessSecret", resource);`), PLATFORM, FULL, provider()]), 'ai/chat');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'AccessSecretDenied');
  });

  test('Cedar OverrideSecurity: a privileged serving container is refused without a permit', () => {
    const r = resultOf(deriveObjects([policies(`${ALLOW}\n@id("no-privileged") forbid (principal, action == Lattice::Action::"OverrideSecurity", resource) when { resource.kind == "privileged" };`),
      model('m', { workload: { containers: { engine: { image: ENGINE, security: { privileged: true }, resources: { limits: { cpu: '1', memory: '1Gi' } } } } } })]), 'ai/m');
    assert.equal(r.status.phase, 'Failed');
    assert.equal(conditionOf(r, 'PolicyAuthorized').reason, 'SecurityOverrideDenied');
  });

  test('digest pinning: an engine image by tag is refused', () => {
    const r = resultOf(deriveObjects([model('m', { workload: { containers: { engine: { image: 'vllm/vllm-openai:latest', resources: { limits: { cpu: '1', memory: '1Gi' } } } } } })]), 'ai/m');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.objects, []);
    assert.equal(conditionOf(r, 'ImageVerified').status, 'False');
  });

  test('secrets by reference: credentials in the URI are refused; the secret value appears nowhere', () => {
    for (const uri of ['hf://user:hf_abcdef@Qwen/Qwen2.5', 's3://bucket/model?X-Amz-Signature=abc', 'gs://bucket/model#token', 'hf://Qwen/Qwen2.5 token']) {
      assert.match(modelUriProblem(uri) ?? '', /credentials/, uri);
      const r = resultOf(deriveObjects([model('m', { modelSource: { uri } })]), 'ai/m');
      assert.equal(r.status.phase, 'Failed', uri);
      assert.equal(conditionOf(r, 'Validated').reason, 'InvalidSpec');
    }
    for (const uri of ['http://example.com/m', 'hf://Qwen', 's3://bucket', 'hf://Qwen/../x', 'file:///etc/passwd']) assert.ok(modelUriProblem(uri), uri);
    // The derived objects carry the remote reference and key names only.
    const text = JSON.stringify(chat.objects);
    assert.ok(text.includes('ai/hf-token'));
    assert.equal(/hf_[A-Za-z0-9]{8,}/.test(text), false);
    assert.equal(chat.objects.some((o) => o.kind === 'Secret'), false);
  });

  test('credentials must name a resource of type secret, and nothing else may pose as one', () => {
    const notDeclared = resultOf(deriveObjects([model('m', { modelSource: { uri: 'hf://a/b', credentials: 'nope' } })]), 'ai/m');
    assert.match(conditionOf(notDeclared, 'Validated').message, /^spec\.modelSource\.credentials: names "nope", which is not declared in workload.resources/);
    const wrongType = resultOf(deriveObjects([model('m', {
      modelSource: { uri: 'hf://a/b', credentials: 'vol' },
      workload: { containers: { engine: { image: ENGINE, resources: { limits: { cpu: '1', memory: '1Gi' } } } }, resources: { vol: { type: 'volume' } } },
    })]), 'ai/m');
    assert.match(conditionOf(wrongType, 'Validated').message, /a resource of type volume; credentials must be a resource of type secret/);
  });

  test('a tenant cannot steer scheduling beyond its GPUs: no free-form tolerations or node selectors', () => {
    for (const extra of [{ tolerations: [{ operator: 'Exists' }] }, { nodeSelector: { 'node-role.kubernetes.io/control-plane': '' } }]) {
      const r = resultOf(deriveObjects([model('m', { gpu: { count: 1, ...extra } })]), 'ai/m');
      assert.equal(r.status.phase, 'Failed');
      assert.match(conditionOf(r, 'Validated').message, /unknown field/);
    }
    const kube = resultOf(deriveObjects([model('m', { gpu: { count: 1, resource: 'kubernetes.io/cpu' } })]), 'ai/m');
    assert.equal(kube.status.phase, 'Failed');
  });

  test('protected namespaces: no model in a platform namespace (the router\'s own included)', () => {
    for (const ns of ['kube-system', 'kthena-system', 'lattice-system']) {
      const r = resultOf(deriveObjects([model('m', {}, ns)]), `${ns}/m`);
      assert.equal(r.status.phase, 'Failed', ns);
      assert.equal(r.status.conditions.find((c) => c.status === 'False' && c.type !== 'Ready')?.reason, 'ProtectedNamespace', ns);
    }
  });

  test('quotas count a model\'s GPUs at its maximum replicas', () => {
    const quota = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeQuota', metadata: { name: 'gpus', namespace: 'lattice-system' }, spec: { selector: { namespaces: ['ai'] }, hard: { gpu: 4 } } };
    const over = resultOf(deriveObjects([quota, model('m', { replicas: 1, autoscaling: { max: 3 }, gpu: { count: 2 } })]), 'ai/m');
    assert.equal(over.status.phase, 'Failed');
    assert.equal(conditionOf(over, 'QuotaSatisfied').reason, 'QuotaExceeded');
    assert.match(conditionOf(over, 'QuotaSatisfied').message, /requests 6 \(max 3 replicas × 2\)/);
    const within = resultOf(deriveObjects([quota, model('m', { replicas: 2, gpu: { count: 2 } })]), 'ai/m');
    assert.equal(within.status.phase, 'Ready');
    const unit = workloadView(model('m', { replicas: 2, gpu: { count: 2 } }))!;
    const usage = computeQuotaUsage([latticeQuotaSchema.parse(quota)], [{ key: 'ai/m', service: unit }], new Map(), defaultPlatformSettings());
    assert.equal(usage.get('gpus')!.used.gpu, 4);
  });

  test('one model per model name: the key that sorts first owns it, another claimant fails naming it', () => {
    const a = model('alpha', { routing: { inferenceEngine: 'vLLM', routes: { r: { modelName: 'shared' } } } }, 'team-a');
    const b = model('beta', { routing: { inferenceEngine: 'vLLM', routes: { r: { modelName: 'shared' } } } }, 'team-b');
    const out = deriveObjects([b, a]);
    assert.equal(resultOf(out, 'team-a/alpha').status.phase, 'Ready');
    const loser = resultOf(out, 'team-b/beta');
    assert.equal(loser.status.phase, 'Failed');
    assert.deepEqual(loser.objects, []);
    const c = conditionOf(loser, 'Validated');
    assert.equal(c.reason, 'ModelNameAlreadyClaimed');
    assert.match(c.message, /model name "shared" is already served by model team-a\/alpha/);
    // Incrementally (the controller's Fleet): when the owner goes or stops serving the name, the
    // other claimant is re-derived and serves it; when the owner claims it again, the other fails.
    const fleet = out.fleet!;
    const freed = fleet.remove('team-a/alpha');
    assert.deepEqual(freed.rederived.map((r) => [r.key, r.status.phase]), [['team-b/beta', 'Ready']]);
    const back = fleet.upsert({ object: a });
    assert.deepEqual(back.rederived.map((r) => [r.key, r.status.phase]), [['team-a/alpha', 'Ready'], ['team-b/beta', 'Failed']]);
    const renamed = fleet.upsert({ object: model('alpha', { routing: { inferenceEngine: 'vLLM', routes: { r: { modelName: 'other' } } } }, 'team-a') });
    assert.deepEqual(renamed.rederived.map((r) => [r.key, r.status.phase]), [['team-a/alpha', 'Ready'], ['team-b/beta', 'Ready']]);
    // Two routes of one model with one name: refused at validation.
    const dup = resultOf(deriveObjects([model('m', { routing: { inferenceEngine: 'vLLM', routes: { a: { modelName: 'x' }, x: {} } } })]), 'ai/m');
    assert.match(conditionOf(dup, 'Validated').message, /routes a and x both serve model name "x"/);
  });
});

describe('validation of a model, with positions', () => {
  const yaml = (spec: string): string => `apiVersion: lattice.dev/v1alpha1
kind: LatticeModel
metadata: {name: m, namespace: ai}
spec:
${spec}`;
  const first = (text: string): string => conditionOf(resultOf(deriveYaml(text, 'm.yaml'), 'ai/m'), 'Validated').message;

  test('what the model sets on the serving container may not be set by hand', () => {
    assert.match(first(yaml(`  modelSource: {uri: "hf://a/b"}
  workload:
    containers:
      engine:
        image: ${ENGINE}
        variables: {HF_HOME: /x}
        volumes: {/models/sub: {}}
        resources: {limits: {cpu: 1, memory: 1Gi}}`)), /m\.yaml:10:21 spec\.workload\.containers\.engine\.variables\.HF_HOME: HF_HOME is set by the platform from spec\.modelSource.*m\.yaml:11:19 .*\/models\/sub overlaps spec\.modelSource\.mountPath/s);
  });

  test('GPUs go in spec.gpu; routing needs a port and, for non-hf sources, a served model name', () => {
    assert.match(first(yaml(`  modelSource: {uri: "s3://b/m"}
  workload:
    containers: {engine: {image: ${ENGINE}, resources: {limits: {cpu: 1, memory: 1Gi}}}}
    resources: {g: {type: gpu, params: {count: 1}}}
  routing: {inferenceEngine: vLLM}`)), /a model declares its GPUs in spec.gpu.*routing needs the port the engine serves on.*set the name the engine serves the model under/s);
  });

  test('the service rules hold at the same paths (envFrom must name a secret resource)', () => {
    assert.match(first(yaml(`  modelSource: {uri: "hf://a/b"}
  workload:
    containers: {engine: {image: ${ENGINE}, envFrom: [nope], resources: {limits: {cpu: 1, memory: 1Gi}}}}`)), /spec\.workload\.containers\.engine\.envFrom\[0\].*envFrom names "nope"/);
  });
});

describe('the commands cover models', () => {
  test('lattice graph draws the model and the agreed edge; lattice authz check explains a model\'s decisions', async () => {
    const graph = await lattice('graph', 'examples/', '-o', 'json');
    assert.equal(graph.code, 0, graph.stderr);
    const view = JSON.parse(graph.stdout) as { nodes: { id: string; status: string }[]; edges: { from?: string; to?: string; caller?: string; callee?: string; state: string }[] };
    assert.equal(view.nodes.find((n) => n.id === 'ml/chat')?.status, 'valid');
    const edge = view.edges.find((e) => JSON.stringify(e).includes('ml/assistant') && JSON.stringify(e).includes('ml/chat'));
    assert.equal(edge?.state, 'agreed');
    const authz = await lattice('authz', 'check', 'examples/', '--service', 'ml/chat');
    assert.equal(authz.code, 0, authz.stderr);
    assert.match(authz.stdout, /AccessSecret +secret ml\/hf-token +ALLOW +team-secrets\/own-namespace/);
    assert.match(authz.stdout, /AccessExternalEndpoint +endpoint https:\/\/huggingface\.co/);
    assert.match(authz.stdout, /DeployImage +image registry\.example\.com\/vllm-openai@sha256:[0-9a-f]{64} \(container engine\) +ALLOW/);
  });

  test('lattice render: the models example is Ready, every object listed by name', async () => {
    const r = await lattice('render', 'examples/models', 'examples/platform', 'examples/signatures', '-o', 'name');
    assert.match(r.stderr, /ml\/chat +LatticeModel +Ready +15/);
    assert.match(r.stderr, /ml\/assistant +LatticeService +Ready +8/);
    const names = r.stdout.split('\n');
    for (const n of ['modelserver.networking.serving.volcano.sh/chat', 'modelroute.networking.serving.volcano.sh/chat-chat', 'latticemodel.lattice.dev/chat', 'deployment.apps/chat']) assert.ok(names.includes(n), n);
  });
});

describe('the incremental Fleet derives models like services', () => {
  test('upserting a model re-derives it and its callers, to the same result as a full derivation', () => {
    const caller = service('assistant', { workload: { service: { ports: { http: { port: 8080 } } }, resources: { m: { type: 'service' } } } }, 'ai');
    const closed = model('m');
    const open = model('m', { workload: { containers: { engine: { image: ENGINE, resources: { limits: { cpu: '2', memory: '8Gi' } } } }, service: { ports: { http: { port: 8000 } } }, resources: { assistant: { type: 'service', direction: 'inbound' } } } });
    const fleet = deriveObjects([caller, closed]).fleet!;
    assert.equal(conditionOf(fleet.result('ai/assistant')!, 'DependenciesAgreed').reason, 'InboundNotDeclared');
    const change = fleet.upsert({ object: open });
    assert.deepEqual(change.rederived.map((r) => `${r.kind ?? 'LatticeService'} ${r.key}`), ['LatticeModel ai/m', 'LatticeService ai/assistant']);
    assert.equal(conditionOf(fleet.result('ai/assistant')!, 'DependenciesAgreed').reason, 'AllAgreed');
    const full = deriveObjects([caller, open]);
    const strip = (r: ServiceResult): unknown => ({ kind: r.kind, key: r.key, objects: r.objects, conditions: r.status.conditions.map((c) => [c.type, c.status, c.reason, c.message]) });
    assert.deepEqual(fleet.results().map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), full.services.map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
  });
});
