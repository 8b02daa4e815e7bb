/**
 * Tests of the schema oracles in test/support: each oracle must accept a valid object and reject broken
 * ones (wrong type, missing required field, unknown field, unknown kind), and the structural-schema
 * checker must accept a good schema and reject one example of each rule. An oracle that accepts
 * everything would make every other test meaningless, so these tests pin the exact problem lines.
 */
import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

import { assertValid, knownKinds, upstreamSchemasDir, validateAgainstCrd, validateObject } from './support/schemas.ts';
import {
  compileSchemaValidator,
  crdProblems,
  pruningProblems,
  re2Problems,
  re2ToRegExp,
  structuralSchemaProblems,
} from './support/structural.ts';

type Raw = Record<string, unknown>;

/** A deep copy of `base` changed by `edit`, so each case starts from the same valid object. */
function variant<T>(base: T, edit: (copy: T) => void): T {
  const copy = structuredClone(base);
  edit(copy);
  return copy;
}

/** Asserts that `problems` is exactly one line at `path` containing `fragment`. */
function assertOnly(problems: string[], path: string, fragment: string): void {
  assert.equal(problems.length, 1, `expected one problem at ${path}, got:\n${problems.join('\n')}`);
  assert.ok(problems[0]!.startsWith(`${path}: `), `expected the problem to be at ${path}: ${problems[0]}`);
  assert.ok(problems[0]!.includes(fragment), `expected "${fragment}" in: ${problems[0]}`);
}

/** Asserts that one of `problems` is at `path` and contains `fragment`. */
function assertHas(problems: string[], path: string, fragment: string): void {
  assert.ok(
    problems.some((p) => p.startsWith(`${path}: `) && p.includes(fragment)),
    `expected a problem at ${path} containing "${fragment}", got:\n${problems.join('\n')}`,
  );
}

const unknownModelField = (path: string, field: string, schema: string) =>
  `${path}: unknown field ${JSON.stringify(field)}: not in the ${schema} schema; the API server would drop it (or reject it under strict field validation)`;
const unknownCrdField = (path: string, field: string) =>
  `${path}: unknown field ${JSON.stringify(field)}: the API server would silently drop it (it is not in the schema)`;

// ---------------------------------------------------------------------------------------------

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { 'app.kubernetes.io/name': 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
    template: {
      metadata: { labels: { 'app.kubernetes.io/name': 'web' } },
      spec: {
        serviceAccountName: 'web',
        containers: [
          {
            name: 'web',
            image: 'registry.example.com/web@sha256:' + 'a'.repeat(64),
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } },
            readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
          },
        ],
      },
    },
  },
};

describe('validateObject: Deployment (kubernetes-models)', () => {
  it('accepts a valid Deployment', () => {
    assert.deepEqual(validateObject(deployment), []);
    assertValid(deployment);
  });

  it('rejects a wrong type', () => {
    const bad = variant(deployment, (d) => ((d.spec as Raw).replicas = 'three'));
    assert.deepEqual(validateObject(bad), ['spec.replicas: must be of type integer (got string)']);
  });

  it('rejects a missing required field', () => {
    const bad = variant(deployment, (d) => delete (d.spec as Partial<typeof d.spec>).selector);
    assert.deepEqual(validateObject(bad), ['spec.selector: Required value: the field is missing']);
  });

  it('rejects unknown fields at any depth, which kubernetes-models alone would accept', () => {
    const bad = variant(deployment, (d) => {
      (d.spec as Raw).replica = 3;
      (d.spec.template.spec.containers[0] as Raw).imagePullPolicyy = 'Always';
    });
    assert.deepEqual(validateObject(bad), [
      unknownModelField('spec.template.spec.containers[0].imagePullPolicyy', 'imagePullPolicyy', 'apps/v1 Deployment (kubernetes-models)'),
      unknownModelField('spec.replica', 'replica', 'apps/v1 Deployment (kubernetes-models)'),
    ]);
  });

  it('accepts both forms of an int-or-string field and open maps such as labels', () => {
    const ok = variant(deployment, (d) => {
      d.spec.strategy.rollingUpdate = { maxSurge: 1, maxUnavailable: '10%' } as never;
      (d.metadata.labels as Raw)['example.com/anything'] = 'yes';
    });
    assert.deepEqual(validateObject(ok), []);
  });

  it('rejects null values, an invalid name and a bad label value', () => {
    const bad = variant(deployment, (d) => {
      (d.spec as Raw).paused = null;
      d.metadata.name = 'Web_1';
      d.metadata.labels['app.kubernetes.io/name'] = '-web';
    });
    const problems = validateObject(bad);
    assert.equal(problems.length, 3, problems.join('\n'));
    assertHas(problems, 'spec.paused', 'null value');
    assertHas(problems, 'metadata.name', 'invalid Deployment name "Web_1"');
    assertHas(problems, 'metadata.labels["app.kubernetes.io/name"]', 'invalid label value "-web"');
  });
});

describe('validateObject: other built-in kinds', () => {
  it('checks name formats per kind: Service names are DNS-1035 labels', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: '1web', namespace: 'shop' }, spec: { ports: [{ port: 80, targetPort: 'http' }] } };
    assertOnly(validateObject(svc), 'metadata.name', 'start with an alphabetic character');
    assert.deepEqual(validateObject(variant(svc, (s) => (s.metadata.name = 'web'))), []);
  });

  it('rejects a namespace on a cluster-scoped kind', () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'lattice:reader', namespace: 'shop' }, rules: [] };
    assertOnly(validateObject(role), 'metadata.namespace', 'ClusterRole is cluster-scoped');
  });

  it('does not echo values in messages (Secret data stays out of test output)', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, data: { password: 424242 } };
    const problems = validateObject(secret);
    assert.deepEqual(problems, ['data.password: must be of type string (got integer)']);
    assert.ok(!problems.join('\n').includes('424242'));
  });
});

// ---------------------------------------------------------------------------------------------

const cnp = {
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    endpointSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
    ingress: [
      {
        fromEndpoints: [{ matchLabels: { 'app.kubernetes.io/name': 'api', 'k8s:io.kubernetes.pod.namespace': 'shop' } }],
        toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }],
      },
    ],
    egress: [{ toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s-app': 'kube-dns' } }], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }] }] }],
  },
};

describe('validateObject: CiliumNetworkPolicy (upstream CRD)', () => {
  it('accepts a valid policy', () => {
    assert.deepEqual(validateObject(cnp), []);
  });

  it('rejects a wrong type and a value outside the enum', () => {
    const bad = variant(cnp, (c) => (c.spec.ingress[0]!.toPorts[0]!.ports[0] = { port: 8080, protocol: 'TCPX' } as never));
    assert.deepEqual(validateObject(bad), [
      'spec.ingress[0].toPorts[0].ports[0].port: must be of type string (got integer)',
      'spec.ingress[0].toPorts[0].ports[0].protocol: must be one of "TCP", "UDP", "SCTP", "VRRP", "IGMP", "ANY"',
    ]);
  });

  it('rejects a missing required field', () => {
    const ccnp = variant(cnp, (c) => {
      c.kind = 'CiliumClusterwideNetworkPolicy';
      delete (c.metadata as Partial<typeof c.metadata>).namespace;
      delete (c.spec as Partial<typeof c.spec>).ingress;
      delete (c.spec as Partial<typeof c.spec>).egress;
    });
    assertOnly(validateObject(ccnp), 'spec', "spec must have required property 'ingress'");
  });

  it('rejects unknown fields that pruning would drop, in spec and in metadata', () => {
    const bad = variant(cnp, (c) => {
      (c.spec.ingress[0] as Raw).fromEndpoint = [];
      (c.metadata as Raw).label = { a: 'b' };
    });
    assert.deepEqual(validateObject(bad), [
      unknownCrdField('spec.ingress[0].fromEndpoint', 'fromEndpoint'),
      unknownModelField('metadata.label', 'label', 'ObjectMeta'),
    ]);
  });

  it('rejects a namespace on the cluster-wide kind (scope comes from the CRD)', () => {
    const bad = variant(cnp, (c) => (c.kind = 'CiliumClusterwideNetworkPolicy'));
    assertOnly(validateObject(bad), 'metadata.namespace', 'CiliumClusterwideNetworkPolicy is cluster-scoped');
  });
});

// ---------------------------------------------------------------------------------------------

const vmServiceScrape = {
  apiVersion: 'operator.victoriametrics.com/v1beta1',
  kind: 'VMServiceScrape',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
    endpoints: [{ port: 'metrics', path: '/metrics', interval: '30s', scheme: 'http' }],
  },
};

describe('validateObject: VMServiceScrape (upstream CRD)', () => {
  it('accepts a valid scrape', () => {
    assert.deepEqual(validateObject(vmServiceScrape), []);
  });

  it('rejects a wrong type', () => {
    const bad = variant(vmServiceScrape, (v) => (v.spec.endpoints[0]!.port = 9090 as never));
    assert.deepEqual(validateObject(bad), ['spec.endpoints[0].port: must be of type string (got integer)']);
  });

  it('rejects a missing required field', () => {
    const bad = variant(vmServiceScrape, (v) => delete (v.spec as Partial<typeof v.spec>).endpoints);
    assert.deepEqual(validateObject(bad), ['spec.endpoints: Required value: the field is missing']);
  });

  it('rejects an unknown field', () => {
    const bad = variant(vmServiceScrape, (v) => ((v.spec.endpoints[0] as Raw).scrapeIntervall = '10s'));
    assert.deepEqual(validateObject(bad), [unknownCrdField('spec.endpoints[0].scrapeIntervall', 'scrapeIntervall')]);
  });
});

// ---------------------------------------------------------------------------------------------

const externalSecret = {
  apiVersion: 'external-secrets.io/v1',
  kind: 'ExternalSecret',
  metadata: { name: 'db', namespace: 'shop' },
  spec: {
    refreshInterval: '1h',
    secretStoreRef: { kind: 'ClusterSecretStore', name: 'vault' },
    target: { name: 'db', creationPolicy: 'Owner', deletionPolicy: 'Retain' },
    data: [{ secretKey: 'password', remoteRef: { key: 'shop/db', property: 'password' } }],
  },
};

describe('validateObject: ExternalSecret external-secrets.io/v1', () => {
  const schema = 'external-secrets.io/v1 ExternalSecret (@kubernetes-models/external-secrets)';

  it('accepts a valid v1 ExternalSecret', () => {
    assert.deepEqual(validateObject(externalSecret), []);
  });

  it('rejects a wrong type', () => {
    const bad = variant(externalSecret, (e) => (e.spec.refreshInterval = 3600 as never));
    assert.deepEqual(validateObject(bad), ['spec.refreshInterval: must be of type string (got integer)']);
  });

  it('rejects a missing required field and a value outside the enum', () => {
    const bad = variant(externalSecret, (e) => {
      delete (e.spec.data[0] as Partial<(typeof e.spec.data)[0]>).remoteRef;
      e.spec.target.creationPolicy = 'Always';
    });
    assert.deepEqual(validateObject(bad), [
      'spec.data[0].remoteRef: Required value: the field is missing',
      'spec.target.creationPolicy: must be one of "Owner", "Orphan", "Merge", "None"',
    ]);
  });

  it('rejects a secretKey that breaks the upstream pattern', () => {
    const bad = variant(externalSecret, (e) => (e.spec.data[0]!.secretKey = 'db password'));
    assertOnly(validateObject(bad), 'spec.data[0].secretKey', 'must match pattern');
  });

  it('rejects an unknown field', () => {
    const bad = variant(externalSecret, (e) => ((e.spec.data[0]!.remoteRef as Raw).keyy = 'x'));
    assert.deepEqual(validateObject(bad), [unknownModelField('spec.data[0].remoteRef.keyy', 'keyy', schema)]);
  });

  it('knows no schema for the superseded v1beta1 API, so it cannot be emitted by mistake', () => {
    const old = variant(externalSecret, (e) => (e.apiVersion = 'external-secrets.io/v1beta1'));
    assertOnly(validateObject(old), 'no schema known for external-secrets.io/v1beta1 ExternalSecret', 'add a kubernetes-models class');
  });
});

// ---------------------------------------------------------------------------------------------

const authorizationPolicy = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
    action: 'ALLOW',
    rules: [
      {
        from: [{ source: { principals: ['cluster.local/ns/shop/sa/api'] } }],
        to: [{ operation: { ports: ['8080'], methods: ['GET'] } }],
        when: [{ key: 'request.headers[x-tenant]', values: ['a'] }],
      },
    ],
  },
};

describe('validateObject: AuthorizationPolicy security.istio.io/v1', () => {
  const schema = 'security.istio.io/v1 AuthorizationPolicy (@kubernetes-models/istio)';

  it('accepts a valid policy', () => {
    assert.deepEqual(validateObject(authorizationPolicy), []);
  });

  it('rejects a wrong type', () => {
    const bad = variant(authorizationPolicy, (a) => (a.spec.rules = {} as never));
    assert.deepEqual(validateObject(bad), ['spec.rules: must be of type array (got object)']);
  });

  it('rejects a missing required field', () => {
    const bad = variant(authorizationPolicy, (a) => delete (a.spec.rules[0]!.when[0] as Partial<(typeof a.spec.rules)[0]['when'][0]>).key);
    assert.deepEqual(validateObject(bad), ['spec.rules[0].when[0].key: Required value: the field is missing']);
  });

  it('rejects an action outside the enum', () => {
    const bad = variant(authorizationPolicy, (a) => (a.spec.action = 'PERMIT'));
    assert.deepEqual(validateObject(bad), ['spec.action: must be one of "ALLOW", "DENY", "AUDIT", "CUSTOM"']);
  });

  it('rejects an unknown field', () => {
    const bad = variant(authorizationPolicy, (a) => ((a.spec.rules[0]!.from[0]!.source as Raw).principal = ['x']));
    assert.deepEqual(validateObject(bad), [unknownModelField('spec.rules[0].from[0].source.principal', 'principal', schema)]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('validateObject: dispatch', () => {
  it('reports an unknown kind instead of passing it', () => {
    assert.deepEqual(validateObject({ apiVersion: 'example.com/v1', kind: 'Widget' }), [
      'no schema known for example.com/v1 Widget: add a kubernetes-models class or a vendored upstream CRD for it in test/support/schemas.ts (or fix the apiVersion/kind if it is a typo)',
    ]);
  });

  it('reports input that is not a Kubernetes object', () => {
    assert.deepEqual(validateObject(null as never), ['(root): must be a Kubernetes object (a mapping with apiVersion and kind), got null']);
    assert.deepEqual(validateObject({ kind: 'Deployment' } as never), ['apiVersion: Required value: every Kubernetes object needs an apiVersion']);
    assert.deepEqual(validateObject({ apiVersion: 'apps/v1' } as never), ['kind: Required value: every Kubernetes object needs a kind']);
  });

  it('knows every kind Lattice derives', () => {
    const kinds = knownKinds();
    for (const k of [
      'v1 ServiceAccount', 'v1 Service', 'v1 ConfigMap', 'v1 Secret', 'v1 Namespace', 'apps/v1 Deployment',
      'policy/v1 PodDisruptionBudget', 'autoscaling/v2 HorizontalPodAutoscaler', 'rbac.authorization.k8s.io/v1 Role',
      'rbac.authorization.k8s.io/v1 RoleBinding', 'rbac.authorization.k8s.io/v1 ClusterRole', 'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
      'coordination.k8s.io/v1 Lease', 'apiextensions.k8s.io/v1 CustomResourceDefinition', 'networking.k8s.io/v1 NetworkPolicy',
      'cilium.io/v2 CiliumNetworkPolicy', 'cilium.io/v2 CiliumClusterwideNetworkPolicy', 'operator.victoriametrics.com/v1beta1 VMServiceScrape',
      'security.istio.io/v1 AuthorizationPolicy', 'security.istio.io/v1 PeerAuthentication', 'networking.istio.io/v1 ServiceEntry',
      'external-secrets.io/v1 ExternalSecret', 'external-secrets.io/v1 ClusterSecretStore', 'keda.sh/v1alpha1 ScaledObject',
      'gateway.networking.k8s.io/v1 HTTPRoute', 'cert-manager.io/v1 Certificate', 'batch.volcano.sh/v1alpha1 Job', 'batch.volcano.sh/v1alpha1 CronJob',
      'cilium.io/v1alpha1 TracingPolicy', 'workload.serving.volcano.sh/v1alpha1 ModelBooster',
    ]) {
      assert.ok(kinds.includes(k), `${k} is not registered`);
    }
  });

  it('finds unknown fields for every registered kind (each schema source really loads)', () => {
    for (const k of knownKinds()) {
      const [apiVersion, kind] = k.split(' ') as [string, string];
      const problems = validateObject({ apiVersion, kind, metadata: { name: 'x' }, unexpected: true } as never);
      assert.ok(
        problems.some((p) => p.startsWith('unexpected: unknown field "unexpected"')),
        `${k}: the top-level unknown field was not reported:\n${problems.join('\n')}`,
      );
      assert.ok(!problems.some((p) => p.includes('could not') || p.includes('cannot')), `${k}: ${problems.join('\n')}`);
    }
  });

  it('assertValid throws an AssertionError naming the object and listing each problem', () => {
    const bad = variant(deployment, (d) => ((d.spec as Raw).replicas = 'three'));
    assert.throws(
      () => assertValid(bad),
      (err: unknown) => {
        assert.ok(err instanceof AssertionError);
        assert.equal(err.message, 'Deployment "shop/web" (apps/v1) is not valid against its upstream schema:\n  - spec.replicas: must be of type integer (got string)');
        return true;
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('compileSchemaValidator and pruningProblems (CRD value semantics)', () => {
  const schema = {
    type: 'object',
    properties: {
      port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      bare: { 'x-kubernetes-int-or-string': true },
      note: { type: 'string', nullable: true },
      ratio: { type: 'number', minimum: 0, exclusiveMinimum: true },
      when: { type: 'string', format: 'date-time' },
      every: { type: 'string', format: 'duration' },
      ip: { type: 'string', format: 'cidr' },
      host: { type: 'string', pattern: '^\\pL[\\pL\\d-]*\\z' },
      mode: { type: 'string', default: 'auto', enum: ['auto', 'manual'] },
      tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
      ports: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, number: { type: 'integer' } } },
      },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { a: { type: 'string' } } } } },
      empty: { type: 'object' },
      template: {
        type: 'object',
        'x-kubernetes-embedded-resource': true,
        properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: { type: 'object', properties: { x: { type: 'string' } } } },
      },
    },
  };
  const validate = compileSchemaValidator(schema);

  it('accepts int-or-string both ways, nullable null, formats, RE2 patterns and defaults', () => {
    assert.deepEqual(
      validate({ port: 8080, bare: 'http', note: null, ratio: 0.5, when: '2025-01-02T03:04:05Z', every: '1h30m', ip: '10.0.0.0/8', host: 'Ünïcode-1' }),
      [],
    );
    assert.deepEqual(validate({ port: 'http', bare: 3, every: '2d', ip: 'fd00::/8' }), []);
  });

  it('rejects values the API server would reject', () => {
    assert.deepEqual(validate({ port: true }), ['port: must be of type integer or string (got boolean)']);
    assert.deepEqual(validate({ bare: 1.5 }), ['bare: must be of type integer or string (got number)']);
    assert.deepEqual(validate({ ratio: 0 }), ['ratio: must be > 0']);
    assert.deepEqual(validate({ when: 'yesterday' }), ['when: must match format "date-time"']);
    assert.deepEqual(validate({ every: '1 fortnight' }), ['every: must match format "duration"']);
    assert.deepEqual(validate({ ip: '10.0.0.0/33' }), ['ip: must match format "cidr"']);
    assert.deepEqual(validate({ host: '1host' }), ['host: must match pattern "^\\pL[\\pL\\d-]*\\z"']);
    assert.deepEqual(validate({ mode: 'sometimes' }), ['mode: must be one of "auto", "manual"']);
    assert.deepEqual(validate({ ports: [{ number: 1 }] }), ['ports[0].name: Required value: the field is missing']);
  });

  it('does not change the value it validates (defaults go to a copy)', () => {
    const value: Raw = {};
    assert.deepEqual(validate(value), []);
    assert.deepEqual(value, {});
  });

  it('reports fields pruning would drop, following properties, additionalProperties and preserve-unknown-fields', () => {
    const value = {
      labels: { anything: 'ok' },
      free: { whatever: { deep: 1 }, known: { a: 'x', b: 'dropped' } },
      empty: { gone: 1 },
      extra: 1,
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { x: 'a', y: 'b' } },
    };
    assert.deepEqual(pruningProblems(value, schema), [
      'free.known.b: unknown field "b": the API server would silently drop it (it is not in the schema)',
      'empty.gone: unknown field "gone": the API server would silently drop it (it is not in the schema)',
      'extra: unknown field "extra": the API server would silently drop it (it is not in the schema)',
      'template.spec.y: unknown field "y": the API server would silently drop it (it is not in the schema)',
    ]);
  });

  it('exempts apiVersion, kind and metadata at a resource root only', () => {
    const root = { type: 'object', properties: { spec: { type: 'object' } } };
    assert.deepEqual(pruningProblems({ apiVersion: 'a/v1', kind: 'K', metadata: { name: 'x' }, spec: {} }, root, { isResourceRoot: true }), []);
    assert.equal(pruningProblems({ metadata: {} }, root).length, 1);
  });

  it('reports duplicates in set and map lists and embedded resources without apiVersion/kind', () => {
    assert.deepEqual(pruningProblems({ tags: ['a', 'b', 'a'], ports: [{ name: 'http', number: 1 }, { name: 'http', number: 2 }], template: { metadata: {} } }, schema), [
      'tags[2]: Duplicate value: x-kubernetes-list-type is set, so items must be unique',
      'ports[1]: Duplicate value: x-kubernetes-list-type is map with keys name, so no two items may share them',
      'template.apiVersion: Required value: must not be empty for an embedded resource',
      'template.kind: Required value: must not be empty for an embedded resource',
    ]);
  });
});

describe('validateAgainstCrd', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 } } } } } },
        },
      ],
    },
  };
  const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop' }, spec: { size: 2 } };

  it('accepts a valid object and reports type, required, unknown-field and metadata problems', () => {
    assert.deepEqual(validateAgainstCrd(crd, widget), []);
    assert.deepEqual(validateAgainstCrd(crd, variant(widget, (w) => (w.spec.size = 0))), ['spec.size: must be >= 1']);
    assert.deepEqual(validateAgainstCrd(crd, variant(widget, (w) => delete (w.spec as Partial<typeof w.spec>).size)), ['spec.size: Required value: the field is missing']);
    assert.deepEqual(validateAgainstCrd(crd, variant(widget, (w) => ((w.spec as Raw).colour = 'red'))), [unknownCrdField('spec.colour', 'colour')]);
    assertOnly(validateAgainstCrd(crd, variant(widget, (w) => (w.metadata.name = 'W'))), 'metadata.name', 'invalid Widget name "W"');
  });

  it('rejects an apiVersion the CRD does not serve', () => {
    assert.deepEqual(validateAgainstCrd(crd, variant(widget, (w) => (w.apiVersion = 'example.com/v2'))), ['apiVersion: CRD widgets.example.com has no version v2 (it has v1)']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('RE2 patterns', () => {
  it('accepts RE2 syntax and translates it to JavaScript', () => {
    for (const [pattern, yes, no] of [
      ['^\\PC*$', 'plain text', 'bell\u0007'],
      ['(?i)^abc$', 'ABC', 'abd'],
      ['^(?P<word>[[:alpha:]]+)\\z', 'Word', 'Word\n'],
      ['^a{2,3}$', 'aaa', 'aaaa'],
      ['^x{,3}$', 'x{,3}', 'xxx'],
    ] as const) {
      assert.deepEqual(re2Problems(pattern), [], pattern);
      const re = re2ToRegExp(pattern);
      assert.equal(re.test(yes), true, `${pattern} should match ${JSON.stringify(yes)}`);
      assert.equal(re.test(no), false, `${pattern} should not match ${JSON.stringify(no)}`);
    }
  });

  it('rejects what Go regexp rejects: lookaround, backreferences, possessive quantifiers, bad escapes', () => {
    assert.deepEqual(re2Problems('a(?=b)'), ['lookahead (?=...) is not supported by RE2']);
    assert.deepEqual(re2Problems('(?<!a)b'), ['lookbehind (?<!...) is not supported by RE2']);
    assert.deepEqual(re2Problems('(a)\\1'), ['\\1 is a backreference, which RE2 does not support']);
    assert.deepEqual(re2Problems('(?>a)'), ['atomic groups (?>...) are not supported by RE2']);
    assert.deepEqual(re2Problems('a++'), ['invalid nested repetition operator ++ (possessive and stacked quantifiers are not supported by RE2)']);
    assert.deepEqual(re2Problems('end\\Z'), ['invalid escape sequence \\Z (RE2 has no \\Z; use \\z (end of text))']);
    assert.deepEqual(re2Problems('\\u00e9'), ['invalid escape sequence \\u (RE2 has no \\uXXXX; use \\x{XXXX})']);
    assert.deepEqual(re2Problems('a{1001}'), ['invalid repeat count {1001}: RE2 allows at most 1000']);
    assert.deepEqual(re2Problems('*a'), ['missing argument to repetition operator *']);
    assert.deepEqual(re2Problems('(a'), ['missing closing ): unbalanced parentheses']);
    assert.throws(() => re2ToRegExp('a(?=b)'), /is not valid RE2: lookahead/);
  });
});

// ---------------------------------------------------------------------------------------------

const goodSchema = {
  type: 'object',
  description: 'A widget.',
  properties: {
    apiVersion: { type: 'string', description: 'API version.' },
    kind: { type: 'string', description: 'Kind.' },
    metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 63 } } },
    spec: {
      type: 'object',
      description: 'Desired state.',
      required: ['port'],
      properties: {
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], description: 'Port.' },
        replicas: { type: 'integer', minimum: 0, default: 1, description: 'Replicas.' },
        labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Labels.' },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Free-form settings.' },
        hosts: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9.-]+$' }, 'x-kubernetes-list-type': 'set', description: 'Hosts.' },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string', description: 'Name.' } } },
          description: 'Ports.',
        },
        target: {
          type: 'object',
          description: 'Exactly one of a or b.',
          properties: { a: { type: 'string', description: 'A.' }, b: { type: 'string', description: 'B.' } },
          oneOf: [{ required: ['a'] }, { required: ['b'] }],
          'x-kubernetes-validations': [{ rule: 'has(self.a) != has(self.b)', message: 'set exactly one of a and b' }],
        },
      },
    },
    status: { type: 'object', description: 'Observed state.', properties: { phase: { type: 'string', description: 'Phase.' } } },
  },
};

/** The problems of `goodSchema` after `edit`. */
function problemsAfter(edit: (s: typeof goodSchema & Raw) => void): string[] {
  return structuralSchemaProblems(variant(goodSchema as typeof goodSchema & Raw, edit));
}
const spec = (s: Raw) => ((s.properties as Raw).spec as Raw).properties as Raw;
const P = 'openAPIV3Schema';
const SPEC = `${P}.properties[spec]`;

describe('structuralSchemaProblems', () => {
  it('accepts a good structural schema', () => {
    assert.deepEqual(structuralSchemaProblems(goodSchema), []);
  });

  it('accepts every vendored upstream CRD (no false positives on real, accepted schemas)', () => {
    const dir = upstreamSchemasDir();
    for (const group of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const file of readdirSync(`${dir}${group.name}`).filter((f) => f.endsWith('.yaml'))) {
        const crd = parseYaml(readFileSync(`${dir}${group.name}/${file}`, 'utf8')) as object;
        const problems = crdProblems(crd).filter((p) => !p.includes('Lattice convention'));
        assert.deepEqual(problems, [], `${group.name}/${file}`);
      }
    }
  });

  it('requires a non-empty type on every field, item and the root', () => {
    assertOnly(problemsAfter((s) => delete (spec(s).replicas as Raw).type), `${SPEC}.properties[replicas].type`, 'must not be empty for specified object fields');
    assertOnly(problemsAfter((s) => delete ((spec(s).hosts as Raw).items as Raw).type), `${SPEC}.properties[hosts].items.type`, 'must not be empty for specified array items');
    assertHas(problemsAfter((s) => delete (s as Raw).type), `${P}.type`, 'must not be empty at the root');
  });

  it('forbids $ref', () => {
    assertOnly(problemsAfter((s) => (spec(s).replicas = { $ref: '#/definitions/x', type: 'integer' })), `${SPEC}.properties[replicas].$ref`, '$ref is not supported');
  });

  it('forbids additionalProperties next to properties, and at the root', () => {
    assertOnly(problemsAfter((s) => ((spec(s).target as Raw).additionalProperties = { type: 'string' })), `${SPEC}.properties[target].additionalProperties`, 'mutually exclusive');
    assertHas(problemsAfter((s) => ((s as Raw).additionalProperties = false)), `${P}.additionalProperties`, 'must not be used at the root');
  });

  it('lets root metadata restrict only name and generateName, with no description', () => {
    assertOnly(
      problemsAfter((s) => (((s.properties as Raw).metadata as Raw).properties = { labels: { type: 'object' } })),
      `${P}.properties[metadata]`,
      'found properties[labels]',
    );
    assertOnly(problemsAfter((s) => (((s.properties as Raw).metadata as Raw).description = 'Standard metadata.')), `${P}.properties[metadata]`, 'found "description"');
  });

  it('forbids type, description, default, additionalProperties and nullable inside junctors', () => {
    const inOneOf = (extra: Raw) => problemsAfter((s) => ((spec(s).target as Raw).oneOf = [{ required: ['a'], ...extra }, { required: ['b'] }]));
    assertOnly(inOneOf({ type: 'object' }), `${SPEC}.properties[target].oneOf[0].type`, 'must be empty to be structural');
    assertOnly(inOneOf({ description: 'x' }), `${SPEC}.properties[target].oneOf[0].description`, 'must be empty to be structural');
    assertOnly(inOneOf({ default: {} }), `${SPEC}.properties[target].oneOf[0].default`, 'must be undefined to be structural');
    assertOnly(inOneOf({ additionalProperties: { type: 'string' } }), `${SPEC}.properties[target].oneOf[0].additionalProperties`, 'must be undefined to be structural');
    assertOnly(inOneOf({ nullable: true }), `${SPEC}.properties[target].oneOf[0].nullable`, 'must be false to be structural');
  });

  it('allows the int-or-string anyOf pattern but no other typed anyOf, and no int-or-string with preserve-unknown-fields', () => {
    const typedAnyOf = problemsAfter((s) => ((spec(s).port as Raw).anyOf = [{ type: 'integer' }, { type: 'boolean' }]));
    assert.equal(typedAnyOf.length, 2, typedAnyOf.join('\n'));
    assertHas(typedAnyOf, `${SPEC}.properties[port].anyOf[0].type`, 'must be empty to be structural');
    assertHas(typedAnyOf, `${SPEC}.properties[port].anyOf[1].type`, 'must be empty to be structural');
    assertOnly(
      problemsAfter((s) => ((spec(s).port as Raw)['x-kubernetes-preserve-unknown-fields'] = true)),
      `${SPEC}.properties[port].x-kubernetes-preserve-unknown-fields`,
      'must be false if x-kubernetes-int-or-string is true',
    );
  });

  it('requires fields named in junctors to be in the skeleton', () => {
    assertOnly(
      problemsAfter((s) => ((spec(s).target as Raw).anyOf = [{ properties: { c: { minLength: 1 } } }])),
      `${SPEC}.properties[target].properties[c]`,
      'because it is defined in',
    );
  });

  it('forbids metadata in a nested context', () => {
    assertHas(
      problemsAfter((s) => ((spec(s).target as Raw).allOf = [{ properties: { metadata: { minProperties: 1 } } }])),
      `${SPEC}.properties[target].allOf[0].properties[metadata]`,
      'must not be specified in a nested context',
    );
  });

  it('checks defaults: valid, without pruned fields, and not in top-level metadata', () => {
    assertOnly(problemsAfter((s) => ((spec(s).replicas as Raw).default = 'one')), `${SPEC}.properties[replicas].default`, 'invalid default value: (root): must be of type integer (got string)');
    assertOnly(problemsAfter((s) => ((spec(s).target as Raw).default = { a: 'x', c: 'y' })), `${SPEC}.properties[target].default`, 'must not have unknown fields: c: unknown field');
    assertOnly(
      problemsAfter((s) => ((((s.properties as Raw).metadata as Raw).properties as Raw).name = { type: 'string', default: 'x' })),
      `${P}.properties[metadata].properties[name].default`,
      'must not be set in top-level metadata',
    );
  });

  it('requires items on arrays and an object type at the root', () => {
    assertOnly(problemsAfter((s) => delete (spec(s).hosts as Raw).items), `${SPEC}.properties[hosts].items`, 'must be specified for type array');
    assertOnly(problemsAfter((s) => ((s as Raw).type = 'string')), `${P}.type`, 'must be object at the root');
  });

  it('forbids uniqueItems, a null type, array-valued items, nullable root and preserve-unknown-fields: false', () => {
    assertOnly(problemsAfter((s) => ((spec(s).hosts as Raw).uniqueItems = true)), `${SPEC}.properties[hosts].uniqueItems`, 'uniqueItems cannot be set to true');
    assertOnly(problemsAfter((s) => ((spec(s).replicas as Raw).type = 'null')), `${SPEC}.properties[replicas].type`, 'type cannot be set to null');
    assertHas(problemsAfter((s) => ((spec(s).hosts as Raw).items = [{ type: 'string' }])), `${SPEC}.properties[hosts].items`, 'must be a schema object and not an array');
    assertOnly(problemsAfter((s) => ((s as Raw).nullable = true)), `${P}.nullable`, 'nullable cannot be true at the root');
    assertOnly(problemsAfter((s) => ((spec(s).extra as Raw)['x-kubernetes-preserve-unknown-fields'] = false)), `${SPEC}.properties[extra].x-kubernetes-preserve-unknown-fields`, 'must be true or undefined');
  });

  it('checks list types: map lists need keys that are required or defaulted', () => {
    assertOnly(problemsAfter((s) => delete (spec(s).ports as Raw)['x-kubernetes-list-map-keys']), `${SPEC}.properties[ports].x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map');
    assertOnly(
      problemsAfter((s) => delete ((spec(s).ports as Raw).items as Raw).required),
      `${SPEC}.properties[ports].items.properties[name].default`,
      'must have a default or be a required property',
    );
    assertOnly(problemsAfter((s) => ((spec(s).hosts as Raw)['x-kubernetes-list-type'] = 'bag')), `${SPEC}.properties[hosts].x-kubernetes-list-type`, 'must be atomic, set or map');
  });

  it('checks embedded resources and RE2 patterns', () => {
    assertOnly(
      problemsAfter((s) => (spec(s).template = { type: 'string', 'x-kubernetes-embedded-resource': true, description: 'T.', properties: { kind: { type: 'string' } } })),
      `${SPEC}.properties[template].type`,
      'must be object if x-kubernetes-embedded-resource is true',
    );
    assertOnly(problemsAfter((s) => (((spec(s).hosts as Raw).items as Raw).pattern = '^(?!www)')), `${SPEC}.properties[hosts].items.pattern`, 'lookahead (?!...) is not supported by RE2');
  });

  it('checks the shape of x-kubernetes-validations rules (CEL itself is not compiled)', () => {
    assertOnly(problemsAfter((s) => ((spec(s).target as Raw)['x-kubernetes-validations'] = [{ rule: ' ' }])), `${SPEC}.properties[target].x-kubernetes-validations[0].rule`, 'rule is not specified');
  });
});

// ---------------------------------------------------------------------------------------------

const goodCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget', shortNames: ['wd'], categories: ['all'] },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: goodSchema },
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
    ],
  },
};

function crdAfter(edit: (c: Raw) => void): string[] {
  return crdProblems(variant(goodCrd as Raw, edit));
}
const version0 = (c: Raw) => ((c.spec as Raw).versions as Raw[])[0]!;

describe('crdProblems', () => {
  it('accepts a good CRD', () => {
    assert.deepEqual(crdProblems(goodCrd), []);
  });

  it('requires metadata.name to be <plural>.<group> and a dotted group', () => {
    assertOnly(crdAfter((c) => ((c.metadata as Raw).name = 'widget.example.com')), 'metadata.name', 'must be spec.names.plural+"."+spec.group');
    assertHas(crdAfter((c) => ((c.spec as Raw).group = 'example')), 'spec.group', 'should be a domain with at least one dot');
  });

  it('checks names', () => {
    assertOnly(crdAfter((c) => (((c.spec as Raw).names as Raw).listKind = 'Widget')), 'spec.names.listKind', 'kind and listKind may not be the same');
    assertOnly(crdAfter((c) => (((c.spec as Raw).names as Raw).shortNames = ['w_d'])), 'spec.names.shortNames[0]', "must consist of lower case alphanumeric characters or '-'");
  });

  it('requires exactly one storage version and a schema for each', () => {
    assertOnly(crdAfter((c) => (version0(c).storage = false)), 'spec.versions', 'must have exactly one version marked as storage version (found 0)');
    assertOnly(crdAfter((c) => delete version0(c).schema), 'spec.versions[0].schema.openAPIV3Schema', 'schemas are required');
  });

  it('reports structural problems of each version under its path', () => {
    const problems = crdAfter((c) => delete ((((version0(c).schema as Raw).openAPIV3Schema as Raw).properties as Raw).kind as Raw).type);
    assert.equal(problems.length, 2, problems.join('\n'));
    assertHas(problems, 'spec.versions[0].schema.openAPIV3Schema.properties[kind].type', 'must not be empty for specified object fields');
    assertHas(problems, 'spec.versions[0].schema.openAPIV3Schema.properties[kind].type', 'must be string');
  });

  it('requires a description on every property (Lattice convention), except root metadata', () => {
    assertOnly(
      crdAfter((c) => delete (spec((version0(c).schema as Raw).openAPIV3Schema as Raw).replicas as Raw).description),
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].description',
      'Lattice convention',
    );
  });

  it('requires the status subresource when the schema has a status (Lattice convention)', () => {
    assertOnly(crdAfter((c) => delete version0(c).subresources), 'spec.versions[0].subresources.status', 'Lattice convention');
  });

  it('checks printer columns: JSONPath syntax, the field it names, and the type', () => {
    const column = (col: Raw) => crdAfter((c) => (version0(c).additionalPrinterColumns = [col]));
    assertOnly(column({ name: 'Phase', type: 'string', jsonPath: 'status.phase' }), 'spec.versions[0].additionalPrinterColumns[0].jsonPath', 'must be a simple json path starting with .');
    assertOnly(column({ name: 'Phase', type: 'string', jsonPath: '.status.phaze' }), 'spec.versions[0].additionalPrinterColumns[0].jsonPath', 'does not name a field in the schema');
    assertOnly(column({ name: 'Phase', type: 'text', jsonPath: '.status.phase' }), 'spec.versions[0].additionalPrinterColumns[0].type', 'must be one of integer, number, string, boolean, date');
    assert.deepEqual(column({ name: 'Ready', type: 'string', jsonPath: '.spec.ports[?(@.name=="http")].name' }), []);
  });

  it('forbids spec.preserveUnknownFields: true', () => {
    assertOnly(crdAfter((c) => ((c.spec as Raw).preserveUnknownFields = true)), 'spec.preserveUnknownFields', 'must not be true');
  });
});
