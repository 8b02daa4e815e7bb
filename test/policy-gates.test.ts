/**
 * The gates: which Cedar requests a LatticeService produces (one per secret, container image,
 * external endpoint, relaxed security field, inbound wildcard and route host), the entities
 * sent with them, and the decisions of the example policies for each gate.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyEngine, serviceRequests, securityOverrides, namespaceFacts, type ServiceAuthorizationInput, type AuthorizationRequest } from '../src/policy/index.ts';
import { cedarPolicy, container, DIGEST, examplePolicies, latticeService, sources } from './fixtures/policy/helpers.ts';

const engine = PolicyEngine.fromPolicies(examplePolicies());
after(() => engine.dispose());

/** A service using every gate. */
function everyGate(): ServiceAuthorizationInput {
  return {
    service: latticeService(
      {
        name: 'checkout',
        namespace: 'commerce',
        labels: { 'lattice.dev/environment': 'dev', tier: 'frontend' },
        spec: {
          workload: {
            containers: {
              web: container(`registry.example.com/shop/web:1.2@${DIGEST}`),
              agent: container('docker.io/datadog/agent:7'),
            },
            service: { ports: { http: { port: 8080 } } },
            resources: {
              db: { type: 'secret' },
              'api-key': { type: 'secret', id: 'payments/api-key', params: { provider: 'aws' } },
              stripe: { type: 'external-service', params: { endpoints: ['https://api.stripe.com', 'http://legacy.example.com:8080/v1'] } },
              callers: { type: 'service', direction: 'inbound', id: '*' },
              orders: { type: 'service' },
            },
          },
          ingress: {
            routes: {
              web: { hosts: ['shop.example.com', 'www.shop.example.com'], exposure: 'public' },
              admin: { hosts: ['admin.internal.example.com'] },
            },
          },
        },
      },
      {
        security: {
          agent: {
            capabilities: { add: ['NET_BIND_SERVICE', 'cap_sys_ptrace'] },
            privileged: true,
            runAsUser: 0,
            readOnlyRootFilesystem: false,
            allowPrivilegeEscalation: true,
          },
          web: { runAsNonRoot: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        },
        hostNetwork: true,
      },
    ),
    namespaces: {
      commerce: { labels: { 'lattice.dev/team': 'shop', 'lattice.dev/environment': 'dev' }, annotations: { 'lattice.dev/owner': '#shop' } },
      payments: { labels: { team: 'payments' } },
    },
    defaultSecretProvider: 'vault',
    imageVerifications: [{ image: `registry.example.com/shop/web:1.2@${DIGEST}`, signed: true, verifiedBy: 'ci@example.com' }],
  };
}

function entity(r: AuthorizationRequest, type: string, id: string): { attrs: Record<string, unknown>; parents: unknown[]; tags?: Record<string, unknown> } {
  const e = r.entities.find((x) => (x.uid as { type: string; id: string }).type === `Lattice::${type}` && (x.uid as { id: string }).id === id);
  assert.ok(e, `entity Lattice::${type}::"${id}" in the request`);
  return e as { attrs: Record<string, unknown>; parents: unknown[]; tags?: Record<string, unknown> };
}

describe('requests of a service', () => {
  const requests = serviceRequests(everyGate());

  test('one request per gate instance, in gate order, with the field behind it', () => {
    assert.deepEqual(
      requests.map((r) => [r.action, `${r.resource.type}::${r.resource.id}`, r.path, r.context]),
      [
        ['AccessSecret', 'Lattice::Secret::aws:payments/api-key', 'spec.workload.resources.api-key', {}],
        ['AccessSecret', 'Lattice::Secret::vault:commerce/db', 'spec.workload.resources.db', {}],
        ['DeployImage', 'Lattice::Image::docker.io/datadog/agent:7', 'spec.workload.containers.agent.image', { container: 'agent' }],
        ['DeployImage', `Lattice::Image::registry.example.com/shop/web:1.2@${DIGEST}`, 'spec.workload.containers.web.image', { container: 'web' }],
        ['AccessExternalEndpoint', 'Lattice::ExternalEndpoint::https://api.stripe.com:443', 'spec.workload.resources.stripe.params.endpoints.0', {}],
        ['AccessExternalEndpoint', 'Lattice::ExternalEndpoint::http://legacy.example.com:8080', 'spec.workload.resources.stripe.params.endpoints.1', {}],
        ['OverrideSecurity', 'Lattice::SecurityOverride::capability:NET_BIND_SERVICE', 'spec.workload.containers.agent.security.capabilities.add.0', { container: 'agent' }],
        ['OverrideSecurity', 'Lattice::SecurityOverride::capability:SYS_PTRACE', 'spec.workload.containers.agent.security.capabilities.add.1', { container: 'agent' }],
        ['OverrideSecurity', 'Lattice::SecurityOverride::privileged', 'spec.workload.containers.agent.security.privileged', { container: 'agent' }],
        ['OverrideSecurity', 'Lattice::SecurityOverride::runAsRoot', 'spec.workload.containers.agent.security.runAsUser', { container: 'agent' }],
        ['OverrideSecurity', 'Lattice::SecurityOverride::readOnlyRootFilesystem', 'spec.workload.containers.agent.security.readOnlyRootFilesystem', { container: 'agent' }],
        ['OverrideSecurity', 'Lattice::SecurityOverride::allowPrivilegeEscalation', 'spec.workload.containers.agent.security.allowPrivilegeEscalation', { container: 'agent' }],
        ['OverrideSecurity', 'Lattice::SecurityOverride::runAsRoot', 'spec.workload.containers.web.security.runAsNonRoot', { container: 'web' }],
        ['OverrideSecurity', 'Lattice::SecurityOverride::hostNetwork', 'spec.workload.hostNetwork', {}],
        ['AllowWildcard', 'Lattice::Mesh::inbound', 'spec.workload.resources.callers.id', {}],
        ['ExposeRoute', 'Lattice::Route::admin.internal.example.com', 'spec.ingress.routes.admin.hosts.0', {}],
        ['ExposeRoute', 'Lattice::Route::shop.example.com', 'spec.ingress.routes.web.hosts.0', {}],
        ['ExposeRoute', 'Lattice::Route::www.shop.example.com', 'spec.ingress.routes.web.hosts.1', {}],
      ],
    );
  });

  test('the service entity: attributes, labels as tags, member of its namespace', () => {
    const r = requests[0] as AuthorizationRequest;
    assert.deepEqual(r.principal, { type: 'Lattice::Service', id: 'commerce/checkout' });
    const svc = entity(r, 'Service', 'commerce/checkout');
    assert.deepEqual(svc.attrs, {
      namespace: 'commerce',
      name: 'checkout',
      team: 'shop',
      owner: '#shop',
      images: ['docker.io/datadog/agent:7', `registry.example.com/shop/web:1.2@${DIGEST}`],
    });
    // lattice.dev/ tags come from the namespace, never from the service's own labels.
    assert.deepEqual(svc.tags, { tier: 'frontend', 'lattice.dev/team': 'shop', 'lattice.dev/environment': 'dev' });
    assert.deepEqual(svc.parents, [{ type: 'Lattice::Namespace', id: 'commerce' }]);
    const ns = entity(r, 'Namespace', 'commerce');
    assert.deepEqual(ns.attrs, { name: 'commerce', team: 'shop', environment: 'dev', owner: '#shop' });
    assert.deepEqual(ns.tags, { 'lattice.dev/team': 'shop', 'lattice.dev/environment': 'dev' });
  });

  test('secret entities: provider, path, owning namespace and its team', () => {
    const [other, own] = requests as [AuthorizationRequest, AuthorizationRequest];
    assert.deepEqual(entity(other, 'Secret', 'aws:payments/api-key'), {
      uid: { type: 'Lattice::Secret', id: 'aws:payments/api-key' },
      attrs: { provider: 'aws', path: 'payments/api-key', namespace: 'payments', team: 'payments' },
      parents: [{ type: 'Lattice::Namespace', id: 'payments' }],
    });
    assert.deepEqual(entity(other, 'Namespace', 'payments').attrs, { name: 'payments', team: 'payments' });
    assert.deepEqual(other.owner, { namespace: 'payments', team: 'payments' });
    assert.equal(other.resourceDescription, 'secret payments/api-key (provider aws)');
    // The default id is <namespace>/<resource name>.
    assert.deepEqual(entity(own, 'Secret', 'vault:commerce/db').attrs, { provider: 'vault', path: 'commerce/db', namespace: 'commerce', team: 'shop' });
    assert.equal(own.resourceDescription, 'secret commerce/db');
  });

  test('image entities: registry, repository, tag, digest and the verification result when known', () => {
    const web = requests[3] as AuthorizationRequest;
    assert.deepEqual(entity(web, 'Image', `registry.example.com/shop/web:1.2@${DIGEST}`).attrs, {
      registry: 'registry.example.com',
      repository: 'shop/web',
      name: 'web',
      tag: '1.2',
      digest: DIGEST,
      signed: true,
      verifiedBy: 'ci@example.com',
    });
    const agent = requests[2] as AuthorizationRequest;
    assert.deepEqual(entity(agent, 'Image', 'docker.io/datadog/agent:7').attrs, { registry: 'docker.io', repository: 'datadog/agent', name: 'agent', tag: '7' });
  });

  test('endpoint, override and route entities', () => {
    assert.deepEqual(entity(requests[5] as AuthorizationRequest, 'ExternalEndpoint', 'http://legacy.example.com:8080').attrs, { host: 'legacy.example.com', port: 8080, scheme: 'http', protocol: 'http' });
    assert.deepEqual(entity(requests[7] as AuthorizationRequest, 'SecurityOverride', 'capability:SYS_PTRACE').attrs, { kind: 'capability', category: 'capability', override_id: 'capability:SYS_PTRACE', capability: 'SYS_PTRACE' });
    assert.deepEqual(entity(requests[13] as AuthorizationRequest, 'SecurityOverride', 'hostNetwork').attrs, { kind: 'hostNetwork', category: 'pod', override_id: 'hostNetwork' });
    assert.deepEqual(entity(requests[15] as AuthorizationRequest, 'Route', 'admin.internal.example.com').attrs, { host: 'admin.internal.example.com', exposure: 'internal', namespace: 'commerce', kind: 'HTTPRoute' });
    assert.deepEqual(entity(requests[16] as AuthorizationRequest, 'Route', 'shop.example.com').attrs, { host: 'shop.example.com', exposure: 'public', namespace: 'commerce', kind: 'HTTPRoute' });
  });

  test('a service without relaxations, secrets or wildcard asks only about its images', () => {
    const plain = serviceRequests({ service: latticeService({ name: 'api', namespace: 'default', spec: { workload: { containers: { api: container('registry.example.com/api:1') } } } }) });
    assert.deepEqual(
      plain.map((r) => r.action),
      ['DeployImage'],
    );
  });
});

describe('security overrides', () => {
  test('each field relaxed from the restricted defaults is one override; restricted values are none', () => {
    assert.deepEqual(securityOverrides(undefined), []);
    assert.deepEqual(securityOverrides({ privileged: false, runAsUser: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: [] } }), []);
    assert.deepEqual(
      securityOverrides({ capabilities: { add: ['NET_ADMIN', 'CAP_NET_ADMIN'] }, runAsUser: 0, runAsNonRoot: false }).map((o) => o.id),
      ['capability:NET_ADMIN', 'runAsRoot'],
    );
  });
});

describe('namespace facts', () => {
  test('lattice.dev/ labels win over the short ones; the owner annotation wins over the label', () => {
    assert.deepEqual(namespaceFacts('a', { labels: { team: 'x', 'lattice.dev/team': 'y', environment: 'prod', 'lattice.dev/owner': 'label-owner' }, annotations: { 'lattice.dev/owner': 'annotation-owner' } }), {
      name: 'a',
      team: 'y',
      environment: 'prod',
      owner: 'annotation-owner',
      labels: { team: 'x', 'lattice.dev/team': 'y', environment: 'prod', 'lattice.dev/owner': 'label-owner' },
    });
    assert.deepEqual(namespaceFacts('b', undefined), { name: 'b', labels: {} });
  });
});

describe('decisions of the example policies for every gate', () => {
  const { decisions, summary } = engine.authorizeService(everyGate());
  const outcome = decisions.map((d) => [d.action, d.resourceDescription, d.outcome, d.reason, d.determiningPolicies]);

  test('every request is decided and every denial is collected', () => {
    assert.deepEqual(outcome, [
      ['AccessSecret', 'secret payments/api-key (provider aws)', 'deny', 'AccessSecretDenied', []],
      ['AccessSecret', 'secret commerce/db', 'allow', 'Authorized', ['team-secrets/own-namespace', 'team-secrets/same-team']],
      ['DeployImage', 'image docker.io/datadog/agent:7 (container agent)', 'deny', 'DeployImageDenied', ['org-registry/other-registries']],
      ['DeployImage', `image registry.example.com/shop/web:1.2@${DIGEST} (container web)`, 'allow', 'Authorized', ['org-registry/org-registry']],
      ['AccessExternalEndpoint', 'endpoint https://api.stripe.com:443 (resource stripe)', 'allow', 'Authorized', ['external-https/https']],
      ['AccessExternalEndpoint', 'endpoint http://legacy.example.com:8080 (resource stripe)', 'deny', 'ExternalEndpointDenied', []],
      ['OverrideSecurity', 'security override capability:NET_BIND_SERVICE (container agent)', 'allow', 'Authorized', ['security-baseline/bind-low-ports']],
      ['OverrideSecurity', 'security override capability:SYS_PTRACE (container agent)', 'deny', 'SecurityOverrideDenied', []],
      ['OverrideSecurity', 'security override privileged (container agent)', 'deny', 'SecurityOverrideDenied', ['security-baseline/no-privileged']],
      ['OverrideSecurity', 'security override runAsRoot (container agent)', 'allow', 'Authorized', ['security-baseline/root-in-dev']],
      ['OverrideSecurity', 'security override readOnlyRootFilesystem (container agent)', 'deny', 'SecurityOverrideDenied', []],
      ['OverrideSecurity', 'security override allowPrivilegeEscalation (container agent)', 'deny', 'SecurityOverrideDenied', []],
      ['OverrideSecurity', 'security override runAsRoot (container web)', 'allow', 'Authorized', ['security-baseline/root-in-dev']],
      ['OverrideSecurity', 'security override hostNetwork (pod)', 'deny', 'SecurityOverrideDenied', ['security-baseline/no-privileged']],
      ['AllowWildcard', 'inbound wildcard (resource callers)', 'deny', 'WildcardDenied', []],
      ['ExposeRoute', 'internal route admin.internal.example.com (route admin)', 'deny', 'RouteExposureDenied', []],
      ['ExposeRoute', 'public route shop.example.com (route web)', 'deny', 'RouteExposureDenied', []],
      ['ExposeRoute', 'public route www.shop.example.com (route web)', 'deny', 'RouteExposureDenied', []],
    ]);
    assert.deepEqual([summary.status, summary.reason, summary.decisions, summary.allowed, summary.denied, summary.errors], ['False', 'AccessSecretDenied', 18, 6, 12, 0]);
  });

  test('each gate names its request in the denial message', () => {
    const byReason = (reason: string): string[] => decisions.filter((d) => d.reason === reason).map((d) => d.message);
    assert.equal(
      byReason('AccessSecretDenied')[0],
      'AccessSecret denied for secret payments/api-key (provider aws). No Cedar policy permits Service commerce/checkout to access Secret payments/api-key (provider aws). Contact the payments team (owner of namespace payments) to request a permit policy.',
    );
    assert.equal(
      byReason('DeployImageDenied')[0],
      'DeployImage denied for image docker.io/datadog/agent:7 (container agent). Denied by policy org-registry/other-registries (forbid), and a forbid overrides every permit: Service commerce/checkout may not deploy Image docker.io/datadog/agent:7. Contact the security team (owner of CedarPolicy org-registry in lattice-system) if the service needs this.',
    );
    assert.equal(
      byReason('ExternalEndpointDenied')[0],
      'AccessExternalEndpoint denied for endpoint http://legacy.example.com:8080 (resource stripe). No Cedar policy permits Service commerce/checkout to call ExternalEndpoint http://legacy.example.com:8080. Contact the platform team to request a permit policy.',
    );
    assert.equal(
      byReason('SecurityOverrideDenied')[0],
      'OverrideSecurity denied for security override capability:SYS_PTRACE (container agent). No Cedar policy permits Service commerce/checkout to use SecurityOverride capability:SYS_PTRACE. Contact the platform team to request a permit policy.',
    );
    assert.equal(
      byReason('WildcardDenied')[0],
      'AllowWildcard denied for inbound wildcard (resource callers). No Cedar policy permits Service commerce/checkout to accept calls from any service (Mesh inbound). Contact the platform team to request a permit policy.',
    );
    assert.equal(
      byReason('RouteExposureDenied')[1],
      'ExposeRoute denied for public route shop.example.com (route web). No Cedar policy permits Service commerce/checkout to expose Route shop.example.com (public). Contact the platform team to request a permit policy.',
    );
  });

  test('runAsRoot is allowed only where the policy says (environment label of the namespace, not of the service)', () => {
    const input = everyGate();
    input.namespaces = { ...input.namespaces, commerce: { labels: { 'lattice.dev/team': 'shop', 'lattice.dev/environment': 'prod' } } };
    input.service.metadata.labels = { 'lattice.dev/environment': 'dev' };
    const d = engine.authorizeService(input).decisions.find((x) => x.resourceDescription === 'security override runAsRoot (container web)');
    assert.equal(d?.outcome, 'deny');
  });

  test('a wildcard permit and a public-route permit open those gates', () => {
    const e = PolicyEngine.fromPolicies(
      sources(
        cedarPolicy(
          'edge',
          [
            '@id("frontends-take-any-caller")',
            'permit (principal, action == Lattice::Action::"AllowWildcard", resource == Lattice::Mesh::"inbound") when { principal.hasTag("tier") && principal.getTag("tier") == "frontend" };',
            '@id("shop-domain")',
            'permit (principal, action == Lattice::Action::"ExposeRoute", resource) when { resource.exposure == "public" && resource.host like "*shop.example.com" && resource.namespace == principal.namespace };',
          ].join('\n'),
        ),
      ),
    );
    try {
      const decided = e.authorizeService(everyGate()).decisions.filter((d) => d.action === 'AllowWildcard' || d.action === 'ExposeRoute');
      assert.deepEqual(
        decided.map((d) => [d.action, d.outcome, d.determiningPolicies]),
        [
          ['AllowWildcard', 'allow', ['edge/frontends-take-any-caller']],
          ['ExposeRoute', 'deny', []],
          ['ExposeRoute', 'allow', ['edge/shop-domain']],
          ['ExposeRoute', 'allow', ['edge/shop-domain']],
        ],
      );
    } finally {
      e.dispose();
    }
  });

  test('SkipImageVerification is asked per image, for the supply-chain step', () => {
    const e = PolicyEngine.fromPolicies(
      sources(
        cedarPolicy(
          'unsigned-dev',
          '@id("dev-namespaces")\npermit (principal, action == Lattice::Action::"SkipImageVerification", resource)\nwhen { principal.hasTag("lattice.dev/environment") && principal.getTag("lattice.dev/environment") == "dev" && !(resource has signed && resource.signed) };',
        ),
      ),
    );
    try {
      const input = everyGate();
      const agent = e.canSkipImageVerification(input, 'docker.io/datadog/agent:7');
      assert.deepEqual([agent.action, agent.outcome, agent.determiningPolicies, agent.path], ['SkipImageVerification', 'allow', ['unsigned-dev/dev-namespaces'], 'spec.workload.containers.agent.image']);
      // The web image is signed: the policy does not apply, and the denial has its own reason.
      const web = e.canSkipImageVerification(input, `registry.example.com/shop/web:1.2@${DIGEST}`);
      assert.deepEqual([web.outcome, web.reason], ['deny', 'SkipImageVerificationDenied']);
      assert.equal(
        web.message,
        `SkipImageVerification denied for image registry.example.com/shop/web:1.2@${DIGEST} (container web). No Cedar policy permits Service commerce/checkout to skip signature verification of Image registry.example.com/shop/web:1.2@${DIGEST}. Contact the platform team to request a permit policy.`,
      );
    } finally {
      e.dispose();
    }
  });
});
