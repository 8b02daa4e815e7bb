/**
 * The pod-level reference corpus (test/reference/pod/): LatticeServices written in the original
 * Lattice's shapes (list-form capabilities, dropCapabilities, runAsGroup, seccomp/AppArmor profiles,
 * allowedBinaries, sidecars with `init`, sysctls, shareProcessNamespace,
 * automountServiceAccountToken, spec-level hostNetwork, topology, GPUs, memory-only limits) render
 * Ready under a realistic policy set; each derived object is checked field by field and against its
 * upstream schema (Kubernetes models, the vendored Tetragon and Volcano CRDs). The second half tries
 * to get around every new gate: each relaxation without its permit, through a sidecar, through the
 * alias field, and with a forbid in place.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseYamlDocuments } from '../src/api/source.ts';
import { derivePlatform, type PlatformDocument, type PlatformResult } from '../src/compiler/platform/snapshot.ts';
import type { KubeObject, ServiceResult } from '../src/compiler/types.ts';
import { IMAGE, NOW, deriveObjects, objectOf, resultOf, service } from './support/fixtures.ts';
import { validateObject } from './support/schemas.ts';

const DIR = new URL('./reference/pod/', import.meta.url);

function corpusDocuments(): PlatformDocument[] {
  const docs: PlatformDocument[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    const { documents, errors } = parseYamlDocuments(readFileSync(new URL(file, DIR), 'utf8'), `test/reference/pod/${file}`);
    assert.deepEqual(errors, [], `${file} parses`);
    for (const d of documents) docs.push({ object: d.object, locate: d.locate });
  }
  return docs;
}

function renderCorpus(): PlatformResult {
  return derivePlatform(corpusDocuments(), { now: NOW });
}

type Pod = {
  metadata: { annotations: Record<string, string> };
  spec: Record<string, unknown> & {
    containers: Array<Record<string, unknown> & { name: string }>;
    initContainers?: Array<Record<string, unknown> & { name: string }>;
  };
};

function podOf(r: ServiceResult): Pod {
  return (objectOf(r, 'Deployment') as unknown as { spec: { template: Pod } }).spec.template;
}

function containerOf(pod: Pod, name: string): Record<string, unknown> {
  const c = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === name);
  assert.ok(c, `container ${name} in the pod`);
  return c;
}

const platform = renderCorpus();

describe('the reference corpus renders Ready', () => {
  test('every service of test/reference/pod is Ready, with no warnings', () => {
    assert.deepEqual(platform.problems, []);
    assert.deepEqual(platform.ignored, []);
    assert.deepEqual(
      platform.services.map((s) => [s.key, s.status.phase, s.diagnostics.map((d) => `${d.path}: ${d.message}`)]).sort(),
      [
        ['edge/haproxy-fw', 'Ready', []],
        ['media/nzbget', 'Ready', []],
        ['ml/inference', 'Ready', []],
        ['ml/trainer', 'Ready', []],
      ],
    );
  });

  test('every derived object validates against its upstream schema (Kubernetes, Tetragon, Volcano)', () => {
    const objects = platform.services.flatMap((s) => s.objects);
    for (const kind of ['Deployment', 'TracingPolicyNamespaced', 'PodGroup']) assert.ok(objects.some((o) => o.kind === kind), `the corpus derives a ${kind}`);
    const problems = objects.flatMap((o) => validateObject(o).map((p) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${p}`));
    assert.deepEqual(problems, []);
  });
});

describe('container security (nzbget)', () => {
  const r = resultOf(platform, 'media/nzbget');
  const pod = podOf(r);

  test('the main container: root group, Localhost seccomp, AppArmor unconfined, everything else restricted', () => {
    assert.deepEqual(containerOf(pod, 'main').securityContext, {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/nzbget.json' },
      runAsGroup: 0,
      appArmorProfile: { type: 'Unconfined' },
    });
  });

  test('list-form and object-form capabilities both become capabilities.add, with ALL dropped', () => {
    assert.deepEqual((containerOf(pod, 'vpn').securityContext as { capabilities: unknown }).capabilities, { drop: ['ALL'], add: ['NET_ADMIN'] });
    assert.deepEqual((containerOf(pod, 'fix-permissions').securityContext as { capabilities: unknown }).capabilities, { drop: ['ALL'], add: ['NET_ADMIN'] });
  });

  test('sidecars: the init sidecar runs to completion first, the VPN sidecar is a native sidecar; the main container keeps the ports', () => {
    assert.deepEqual(pod.spec.initContainers?.map((c) => [c.name, c.restartPolicy ?? null]), [
      ['fix-permissions', null],
      ['vpn', 'Always'],
    ]);
    assert.deepEqual(pod.spec.containers.map((c) => c.name), ['main']);
    const init = containerOf(pod, 'fix-permissions');
    assert.deepEqual(init.command, ['/bin/chown', '-R', '65532:0', '/downloads']);
    assert.equal(init.image, 'registry.example.com/library/busybox:1.37@sha256:3333333333333333333333333333333333333333333333333333333333333333');
    assert.deepEqual(init.resources, { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } });
    assert.deepEqual(init.volumeMounts, [{ name: 'shared-downloads', mountPath: '/downloads' }]);
    assert.equal(init.ports, undefined);
    assert.deepEqual(containerOf(pod, 'main').ports, [{ name: 'http', containerPort: 6789, protocol: 'TCP' }]);
  });

  test('a sidecar is wired like a container: secret placeholders by reference, plain variables in its own ConfigMap, its probe kept', () => {
    const vpn = containerOf(pod, 'vpn');
    assert.deepEqual(vpn.env, [{ name: 'OPENVPN_USER', valueFrom: { secretKeyRef: { name: 'nzbget-vpn-credentials', key: 'username' } } }]);
    assert.deepEqual(vpn.envFrom, [{ configMapRef: { name: 'nzbget-vpn-env' } }]);
    assert.deepEqual((objectOf(r, 'ConfigMap', 'nzbget-vpn-env') as unknown as { data: unknown }).data, { VPN_SERVICE_PROVIDER: 'mullvad' });
    assert.deepEqual(vpn.startupProbe, { exec: { command: ['/gluetun-entrypoint', 'healthcheck'] } });
    assert.deepEqual(vpn.resources, { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '256Mi' } });
  });

  test('allowedBinaries: one TracingPolicyNamespaced per container with a list, killing every other exec of that container', () => {
    const policies = r.objects.filter((o) => o.kind === 'TracingPolicyNamespaced');
    assert.deepEqual(policies.map((p) => p.metadata.name), ['nzbget-main-allowed-binaries', 'nzbget-vpn-allowed-binaries']);
    const main = objectOf(r, 'TracingPolicyNamespaced', 'nzbget-main-allowed-binaries');
    assert.equal(main.apiVersion, 'cilium.io/v1alpha1');
    assert.equal(main.metadata.namespace, 'media');
    assert.deepEqual(main.spec, {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nzbget' } },
      containerSelector: { matchExpressions: [{ key: 'name', operator: 'In', values: ['main'] }] },
      kprobes: [
        {
          call: 'security_bprm_check',
          syscall: false,
          args: [{ index: 0, type: 'linux_binprm' }],
          selectors: [
            {
              // declared entries + command[0] + the exec probe, sorted
              matchArgs: [{ index: 0, operator: 'NotEqual', values: ['/app/nzbget/nzbget', '/usr/bin/7z', '/usr/bin/test', '/usr/bin/unrar'] }],
              matchActions: [{ action: 'Sigkill' }],
            },
          ],
        },
      ],
    });
    const vpn = objectOf(r, 'TracingPolicyNamespaced', 'nzbget-vpn-allowed-binaries') as unknown as { spec: { containerSelector: unknown; kprobes: Array<{ selectors: Array<{ matchArgs: Array<{ values: string[] }> }> }> } };
    assert.deepEqual(vpn.spec.containerSelector, { matchExpressions: [{ key: 'name', operator: 'In', values: ['vpn'] }] });
    assert.deepEqual(vpn.spec.kprobes[0]!.selectors[0]!.matchArgs[0]!.values, ['/gluetun-entrypoint', '/sbin/iptables']);
  });

  test('the pod selector of the allow-list selects exactly the Deployment\'s pods', () => {
    const deployment = objectOf(r, 'Deployment') as unknown as { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } } };
    const policy = objectOf(r, 'TracingPolicyNamespaced', 'nzbget-main-allowed-binaries') as unknown as { spec: { podSelector: { matchLabels: Record<string, string> } } };
    assert.deepEqual(policy.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels);
    for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) assert.equal(deployment.spec.template.metadata.labels[k], v);
  });
});

describe('pod-level settings (haproxy-fw)', () => {
  const r = resultOf(platform, 'edge/haproxy-fw');
  const pod = podOf(r);

  test('hostNetwork (at spec level), shareProcessNamespace, the API token and sysctls reach the pod spec', () => {
    assert.equal(pod.spec.hostNetwork, true);
    assert.equal(pod.spec.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(pod.spec.shareProcessNamespace, true);
    assert.equal(pod.spec.automountServiceAccountToken, true);
    assert.deepEqual((pod.spec.securityContext as { sysctls: unknown }).sysctls, [
      { name: 'net.ipv4.ip_local_port_range', value: '1024 65000' },
      { name: 'net.ipv4.ip_unprivileged_port_start', value: '80' },
    ]);
    // The ServiceAccount itself still never mounts the token: only this pod asks for it.
    assert.equal((objectOf(r, 'ServiceAccount') as unknown as { automountServiceAccountToken: boolean }).automountServiceAccountToken, false);
  });

  test('topology: a Volcano PodGroup keeps the pods within tier 1, and the pods join it under the Volcano scheduler', () => {
    const group = objectOf(r, 'PodGroup', 'haproxy-fw');
    assert.equal(group.apiVersion, 'scheduling.volcano.sh/v1beta1');
    assert.equal(group.metadata.namespace, 'edge');
    assert.deepEqual(group.spec, { minMember: 1, networkTopology: { mode: 'hard', highestTierAllowed: 1 } });
    assert.equal(pod.spec.schedulerName, 'volcano');
    assert.equal(pod.metadata.annotations['scheduling.k8s.io/group-name'], 'haproxy-fw');
  });

  test('memory-only limits: the memory limit is kept, the CPU request is the small profile\'s, no CPU limit', () => {
    assert.deepEqual(containerOf(pod, 'haproxy').resources, { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '512Mi' } });
    assert.deepEqual(containerOf(pod, 'reloader').resources, { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '64Mi' } });
  });

  test('a sidecar without security settings runs restricted, as a native sidecar', () => {
    const reloader = containerOf(pod, 'reloader');
    assert.equal(reloader.restartPolicy, 'Always');
    assert.deepEqual(reloader.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  });
});

describe('GPUs (trainer, inference)', () => {
  test('dedicated GPUs: nvidia.com/gpu on the first container, the H100 product label, the GPU taint tolerated, default scheduler', () => {
    const pod = podOf(resultOf(platform, 'ml/trainer'));
    assert.deepEqual(containerOf(pod, 'main').resources, { requests: { cpu: '8', memory: '64Gi' }, limits: { cpu: '8', memory: '64Gi', 'nvidia.com/gpu': '2' } });
    assert.deepEqual(pod.spec.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    assert.deepEqual(pod.spec.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.equal(pod.spec.schedulerName, undefined);
    // Shared memory for NCCL / data loaders: a memory-backed /dev/shm, size-limited by the platform default.
    assert.deepEqual(containerOf(pod, 'main').volumeMounts, [{ name: 'dshm', mountPath: '/dev/shm' }]);
    assert.deepEqual(pod.spec.volumes, [{ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } }]);
  });

  test('a GPU container that mounts its own /dev/shm keeps it, and gets no second one', () => {
    const r = resultOf(deriveObjects([service('gpu', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '8Gi' } }, volumes: { '/dev/shm': { sizeLimit: '4Gi' } } } }, resources: { g: { type: 'gpu', params: { count: 1 } } } } })]), 'shop/gpu');
    const pod = podOf(r);
    assert.deepEqual(containerOf(pod, 'main').volumeMounts, [{ name: 'main-scratch-0', mountPath: '/dev/shm' }]);
    assert.deepEqual(pod.spec.volumes, [{ name: 'main-scratch-0', emptyDir: { sizeLimit: '4Gi' } }]);
  });

  test('fractional GPUs: Volcano vGPU resources (memory in MiB, cores in percent), the Volcano scheduler, no toleration when turned off', () => {
    const pod = podOf(resultOf(platform, 'ml/inference'));
    assert.deepEqual((containerOf(pod, 'server').resources as { limits: unknown }).limits, {
      memory: '16Gi',
      'volcano.sh/vgpu-number': '1',
      'volcano.sh/vgpu-memory': '20480',
      'volcano.sh/vgpu-cores': '50',
    });
    assert.deepEqual(pod.spec.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-L4' });
    assert.equal(pod.spec.tolerations, undefined);
    assert.equal(pod.spec.schedulerName, 'volcano');
  });

  test('two gpu resources in one service are refused (one device limit per pod)', () => {
    const r = resultOf(deriveObjects([service('two', { workload: { resources: { a: { type: 'gpu', params: { count: 1 } }, b: { type: 'gpu', params: { count: 1 } } } } })]), 'shop/two');
    assert.equal(r.status.phase, 'Failed');
    assert.match(r.diagnostics.map((d) => d.message).join('\n'), /a pod takes one gpu resource; a and b are both of type gpu/);
  });
});

// ---------------------------------------------------------------------------------------------
// Trying to get around the gates
// ---------------------------------------------------------------------------------------------

/** A CedarPolicy in lattice-system with `policies`. */
function policy(name: string, policies: string): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name, namespace: 'lattice-system' }, spec: { policies } };
}

const IMAGES_ONLY = 'permit (principal, action == Lattice::Action::"DeployImage", resource);';

/** Derives `spec` as service shop/web under `policies` and returns the denied override ids and their paths. */
function denials(spec: Record<string, unknown>, policies = IMAGES_ONLY): { phase: string; denied: string[] } {
  const r = resultOf(deriveObjects([policy('p', policies), service('web', spec)]), 'shop/web');
  const denied = r.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.reason} ${d.path ?? ''}`);
  return { phase: r.status.phase, denied };
}

const SIDECAR_IMAGE = `registry.example.com/sidecar@sha256:${'b'.repeat(64)}`;

describe('every relaxation needs its permit (fail closed)', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['list-form capabilities', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { capabilities: ['NET_ADMIN'] } } } } }, ['SecurityOverrideDenied spec.workload.containers.main.security.capabilities.0']],
    ['runAsGroup 0', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { runAsGroup: 0 } } } } }, ['SecurityOverrideDenied spec.workload.containers.main.security.runAsGroup']],
    ['seccomp Unconfined', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { seccompProfile: 'Unconfined' } } } } }, ['SecurityOverrideDenied spec.workload.containers.main.security.seccompProfile']],
    ['seccomp Localhost (a node-local profile can allow anything)', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { seccompProfile: 'Localhost', seccompLocalhostProfile: 'any.json' } } } } }, ['SecurityOverrideDenied spec.workload.containers.main.security.seccompProfile']],
    ['AppArmor Unconfined', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { apparmorProfile: 'Unconfined' } } } } }, ['SecurityOverrideDenied spec.workload.containers.main.security.apparmorProfile']],
    ['AppArmor Localhost', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { apparmorProfile: 'Localhost', apparmorLocalhostProfile: 'loose' } } } } }, ['SecurityOverrideDenied spec.workload.containers.main.security.apparmorProfile']],
    ['an allow-list entry', { workload: { containers: { main: { image: IMAGE, command: ['/app'], resources: { limits: { memory: '1Gi' } }, security: { allowedBinaries: ['/bin/sh'] } } } } }, ['SecurityOverrideDenied spec.workload.containers.main.security.allowedBinaries.0']],
    ['the allow-list wildcard', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { allowedBinaries: ['*'] } } } } }, ['SecurityOverrideDenied spec.workload.containers.main.security.allowedBinaries.0']],
    ['sysctls', { sysctls: { 'net.core.somaxconn': '1024' } }, ['SecurityOverrideDenied spec.sysctls.net.core.somaxconn']],
    ['shareProcessNamespace', { shareProcessNamespace: true }, ['SecurityOverrideDenied spec.shareProcessNamespace']],
    ['automountServiceAccountToken', { automountServiceAccountToken: true }, ['SecurityOverrideDenied spec.automountServiceAccountToken']],
    ['hostNetwork at spec level (the alias is no way around the gate)', { hostNetwork: true }, ['SecurityOverrideDenied spec.hostNetwork']],
  ];
  for (const [what, spec, expected] of cases) {
    test(`${what} without a permit: denied, nothing derived`, () => {
      const { phase, denied } = denials(spec);
      assert.equal(phase, 'Failed');
      assert.deepEqual(denied, expected);
    });
  }

  test('dropCapabilities without ALL: every runtime default capability it keeps is asked as capability:NAME', () => {
    const spec = { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { dropCapabilities: ['NET_RAW', 'MKNOD', 'SYS_CHROOT', 'SETFCAP', 'SETPCAP', 'AUDIT_WRITE', 'KILL', 'FSETID', 'FOWNER', 'DAC_OVERRIDE', 'SETUID', 'SETGID'] } } } } };
    const ids = (allowed: string) => denials(spec, `${IMAGES_ONLY}\npermit (principal, action == Lattice::Action::"OverrideSecurity", resource) when { resource.capability == "${allowed}" };`.replace('resource.capability', 'resource has capability && resource.capability'));
    // CHOWN and NET_BIND_SERVICE are kept: permitting one leaves the other denied.
    assert.deepEqual(ids('CHOWN').denied, ['SecurityOverrideDenied spec.workload.containers.main.security.dropCapabilities']);
    const r = resultOf(deriveObjects([policy('p', `${IMAGES_ONLY}\npermit (principal, action == Lattice::Action::"OverrideSecurity", resource) when { resource has capability && (resource.capability == "CHOWN" || resource.capability == "NET_BIND_SERVICE") };`), service('web', spec)]), 'shop/web');
    assert.equal(r.status.phase, 'Ready');
    assert.deepEqual((podOf(r).spec.containers[0]!.securityContext as { capabilities: unknown }).capabilities, { drop: ['NET_RAW', 'MKNOD', 'SYS_CHROOT', 'SETFCAP', 'SETPCAP', 'AUDIT_WRITE', 'KILL', 'FSETID', 'FOWNER', 'DAC_OVERRIDE', 'SETUID', 'SETGID'] });
  });

  test('a sidecar goes through the same gates: its capability, its image permit and its digest pinning', () => {
    const sidecar = (extra: Record<string, unknown>) => ({ sidecars: { helper: { image: SIDECAR_IMAGE, resources: { limits: { memory: '64Mi' } }, ...extra } } });
    // Capability on a sidecar, container's permit only.
    const onlyMain = `${IMAGES_ONLY}\npermit (principal, action == Lattice::Action::"OverrideSecurity", resource == Lattice::SecurityOverride::"capability:NET_ADMIN") when { context has container && context.container == "main" };`;
    assert.deepEqual(denials(sidecar({ security: { capabilities: ['NET_ADMIN'] } }), onlyMain).denied, ['SecurityOverrideDenied spec.sidecars.helper.security.capabilities.0']);
    // DeployImage is asked for the sidecar's image, with its field.
    const mainImageOnly = `permit (principal, action == Lattice::Action::"DeployImage", resource) when { context.container == "main" };`;
    assert.deepEqual(denials(sidecar({}), mainImageOnly).denied, ['DeployImageDenied spec.sidecars.helper.image']);
    // A tag-only sidecar image is not pinned.
    const r = resultOf(deriveObjects([service('web', { sidecars: { helper: { image: 'registry.example.com/sidecar:1.0', resources: { limits: { memory: '64Mi' } } } } })]), 'shop/web');
    assert.equal(r.status.phase, 'Failed');
    assert.ok(r.diagnostics.some((d) => d.path === 'spec.sidecars.helper.image' && d.reason === 'ImageNotPinned'), JSON.stringify(r.diagnostics));
  });

  test('a forbid on a category wins over a permit-all', () => {
    const { phase, denied } = denials(
      { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security: { apparmorProfile: 'Unconfined' } } } } },
      'permit (principal, action, resource);\nforbid (principal, action == Lattice::Action::"OverrideSecurity", resource) when { resource.category == "profile" };',
    );
    assert.equal(phase, 'Failed');
    assert.deepEqual(denied, ['SecurityOverrideDenied spec.workload.containers.main.security.apparmorProfile']);
  });

  test('the corpus policy forbids unconfined seccomp for nzbget though it permits other profile overrides', () => {
    const docs = corpusDocuments().map((d) => d.object as { kind: string; metadata: { name: string }; spec: { workload?: { containers: Record<string, { security?: Record<string, unknown> }> } } });
    const nzbget = structuredClone(docs.find((d) => d.kind === 'LatticeService' && d.metadata.name === 'nzbget')!);
    nzbget.spec.workload!.containers.main!.security = { seccompProfile: 'Unconfined', allowedBinaries: ['/usr/bin/unrar'] };
    const r = resultOf(derivePlatform([...docs.filter((d) => d.kind !== 'LatticeService'), nzbget].map((object) => ({ object })), { now: NOW }), 'media/nzbget');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.path), ['spec.workload.containers.main.security.seccompProfile']);
  });

  test('a Localhost profile outside the permitted directory is denied (the profile name is in the entity)', () => {
    const docs = corpusDocuments().map((d) => d.object as { kind: string; metadata: { name: string }; spec: { workload?: { containers: Record<string, { security?: Record<string, unknown> }> } } });
    const nzbget = structuredClone(docs.find((d) => d.kind === 'LatticeService' && d.metadata.name === 'nzbget')!);
    nzbget.spec.workload!.containers.main!.security = { ...nzbget.spec.workload!.containers.main!.security, seccompLocalhostProfile: 'other/permissive.json' };
    const r = resultOf(derivePlatform([...docs.filter((d) => d.kind !== 'LatticeService'), nzbget].map((object) => ({ object })), { now: NOW }), 'media/nzbget');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.path), ['spec.workload.containers.main.security.seccompProfile']);
  });
});

describe('validation of the new fields', () => {
  function errors(spec: Record<string, unknown>): string[] {
    const r = resultOf(deriveObjects([service('web', spec)]), 'shop/web');
    return r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.path}: ${d.message}`);
  }
  const main = (security: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } }, security, ...extra } } } });

  test('with an allow-list, a relative command[0] or exec probe is refused (Tetragon matches full paths)', () => {
    assert.deepEqual(errors(main({ allowedBinaries: ['/usr/bin/curl'] }, { command: ['socat', 'x'], livenessProbe: { exec: { command: ['true'] } } })), [
      'spec.workload.containers.main.command[0]: command[0] "socat" must be an absolute path when security.allowedBinaries is set: the allow-list matches the full path of each executed file (write e.g. /usr/bin/socat)',
      'spec.workload.containers.main.livenessProbe.exec.command[0]: exec probe command "true" must be an absolute path when security.allowedBinaries is set (write e.g. /bin/true)',
    ]);
  });

  test('"*" cannot be mixed with paths; entries must be absolute', () => {
    assert.match(errors(main({ allowedBinaries: ['*', '/bin/sh'] })).join('\n'), /"\*" turns the allow-list off, so it cannot be combined with paths/);
    assert.match(errors(main({ allowedBinaries: ['sh'] })).join('\n'), /must be an absolute executable path/);
  });

  test('Localhost profiles need their name, and a name needs Localhost', () => {
    assert.deepEqual(errors(main({ seccompProfile: 'Localhost' })), ['spec.workload.containers.main.security.seccompLocalhostProfile: seccompProfile Localhost needs seccompLocalhostProfile: name the profile on the node']);
    assert.deepEqual(errors(main({ apparmorLocalhostProfile: 'x' })), ['spec.workload.containers.main.security.apparmorLocalhostProfile: apparmorLocalhostProfile only applies with apparmorProfile: Localhost; set that, or remove apparmorLocalhostProfile']);
  });

  test('an init sidecar needs a command and takes no probes; a sidecar may not reuse a container name', () => {
    const errs = errors({ sidecars: { main: { image: SIDECAR_IMAGE, resources: { limits: { memory: '64Mi' } } }, setup: { init: true, image: SIDECAR_IMAGE, resources: { limits: { memory: '64Mi' } }, readinessProbe: { exec: { command: ['/bin/true'] } } } } });
    assert.ok(errs.includes('spec.sidecars.setup.command: an init sidecar (init: true) needs command: it runs once to completion, so its entrypoint must be known'), errs.join('\n'));
    assert.ok(errs.some((e) => e.startsWith('spec.sidecars.setup.readinessProbe: an init sidecar (init: true) runs to completion and cannot have a readinessProbe')), errs.join('\n'));
    assert.ok(errs.some((e) => e.startsWith('spec.sidecars.main: sidecar "main" has the name of a container in workload.containers')), errs.join('\n'));
  });

  test('a sidecar\'s placeholders are checked like a container\'s, at the sidecar\'s own fields', () => {
    const r = resultOf(deriveObjects([service('web', { sidecars: { helper: { image: SIDECAR_IMAGE, resources: { limits: { memory: '64Mi' } }, variables: { X: '${resources.nope.key}' }, files: { '/etc/h/a.conf': { content: 'k=${resources.nope.key}' } } } } })]), 'shop/web');
    assert.equal(r.status.phase, 'Failed');
    assert.deepEqual(r.diagnostics.map((d) => [d.path, d.reason]), [
      ['spec.sidecars.helper.variables.X', 'UnknownResource'],
      ['spec.sidecars.helper.files["/etc/h/a.conf"].content', 'UnknownResource'],
    ]);
  });

  test('a sidecar takes no envFrom (the reference\'s SidecarSpec has none): an unknown field', () => {
    assert.match(errors({ sidecars: { helper: { image: SIDECAR_IMAGE, resources: { limits: { memory: '64Mi' } }, envFrom: ['x'] } } }).join('\n'), /spec\.sidecars\.helper/);
  });

  test('hostNetwork in both places must agree; topology Hard needs maxTier', () => {
    assert.match(errors({ hostNetwork: true, workload: { hostNetwork: false } }).join('\n'), /hostNetwork \(true\) and workload\.hostNetwork \(false\) disagree/);
    assert.match(errors({ topology: { mode: 'Hard' } }).join('\n'), /topology mode Hard needs maxTier/);
  });

  test('GPU params: compute is a percentage, memory whole Mi or Gi', () => {
    const gpu = (params: Record<string, unknown>) => errors({ workload: { resources: { g: { type: 'gpu', params } } } });
    assert.match(gpu({ count: 1, compute: 0 }).join('\n'), /spec\.workload\.resources\.g\.params\.compute/);
    assert.match(gpu({ count: 1, memory: '1.5Gi' }).join('\n'), /must be a whole number of Mi or Gi/);
  });
});

describe('quota and memory-only limits', () => {
  test('a memory-only container still counts the small profile\'s CPU against a CPU quota', () => {
    const quota = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeQuota', metadata: { name: 'q', namespace: 'lattice-system' }, spec: { selector: { namespaces: ['shop'] }, hard: { cpu: '200m' } } };
    const r = resultOf(deriveObjects([quota, service('web', { workload: { containers: { main: { image: IMAGE, resources: { limits: { memory: '1Gi' } } } } } })]), 'shop/web');
    assert.equal(r.status.phase, 'Failed');
    assert.ok(r.diagnostics.some((d) => d.condition === 'QuotaSatisfied' && /CPU/.test(d.message)), JSON.stringify(r.diagnostics));
  });

  test('a sidecar\'s requests count against the quota too', () => {
    const quota = { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeQuota', metadata: { name: 'q', namespace: 'lattice-system' }, spec: { selector: { namespaces: ['shop'] }, hard: { memory: '300Mi' } } };
    const withSidecar = service('web', { sidecars: { helper: { image: SIDECAR_IMAGE, resources: { limits: { cpu: '10m', memory: '64Mi' } } } } });
    const r = resultOf(deriveObjects([quota, withSidecar]), 'shop/web');
    // main 256Mi + helper 64Mi = 320Mi > 300Mi
    assert.equal(r.status.phase, 'Failed');
    const alone = resultOf(deriveObjects([quota, service('web')]), 'shop/web');
    assert.equal(alone.status.phase, 'Ready');
  });
});

test('every derived object of the corpus carries its service label (pruning and ownership find it)', () => {
  for (const o of platform.services.flatMap((s) => s.objects) as KubeObject[]) assert.ok(o.metadata.labels?.['lattice.dev/service'], `${o.kind}/${o.metadata.name}`);
});
