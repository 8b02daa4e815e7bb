/**
 * Cloud identity (spec.cloudAccess): the ACK objects for AWS and the ASO objects for Azure checked
 * field by field, the Cedar AccessCloud gate (a deny derives nothing, wildcards are visible to a
 * forbid), the egress rules of the CiliumNetworkPolicy, and the errors for missing platform settings.
 *
 * The ACK objects are validated against the upstream CRDs vendored in test/upstream-schemas/ack/
 * (descriptions removed), the CiliumNetworkPolicy against Cilium's. The ASO CRDs (Azure) are not
 * vendored (several MB per group, no npm package ships them), so the Azure objects are checked field
 * by field against the ASO v2 samples (v2/samples/managedidentity/v1api20230131,
 * v2/samples/authorization/v1api20220401): owner, issuer, subject, audiences, principalIdFromConfig,
 * roleDefinitionReference.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { conditionOf, deriveObjects, objectOf, resultOf, service } from './support/fixtures.ts';
import { latticeServiceSchema } from '../src/api/latticeservice/v1alpha1.ts';
import { derivedKind } from '../src/controller/resources.ts';
import { validateObject } from './support/schemas.ts';
import type { KubeObject, ServiceResult } from '../src/compiler/types.ts';

const ISSUER = 'https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/';
const RG = '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/shop';
const STORAGE = `${RG}/providers/Microsoft.Storage/storageAccounts/orders`;

function platform(cloud: unknown): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticePlatform', metadata: { name: 'default' }, spec: { platformContact: '#platform', cloud } };
}

const CLOUD = {
  aws: { clusterName: 'prod-eu', permissionsBoundary: 'arn:aws:iam::123456789012:policy/lattice-boundary' },
  azure: { oidcIssuer: ISSUER, resourceGroupId: RG, location: 'westeurope' },
};

const AWS_ACCESS = [
  { actions: ['s3:GetObject', 's3:PutObject'], resources: ['arn:aws:s3:::orders/*'] },
  { actions: ['sqs:SendMessage'], resources: ['arn:aws:sqs:eu-west-1:123456789012:orders'] },
];
const AZURE_ACCESS = [{ role: 'Storage Blob Data Reader', scopes: [STORAGE] }];

function withPolicies(text: string): Record<string, unknown> {
  return { apiVersion: 'lattice.dev/v1alpha1', kind: 'CedarPolicy', metadata: { name: 'cloud', namespace: 'lattice-system' }, spec: { owner: '#security', policies: text } };
}

const PERMIT_OTHERS = '@id("others")\npermit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" || action == Lattice::Action::"AccessCloud" };\n';

function derive(cloudAccess: unknown, opts: { cloud?: unknown; policies?: string } = {}): ServiceResult {
  const docs: unknown[] = [platform(opts.cloud ?? CLOUD), service('orders', { cloudAccess, workload: { service: { ports: { http: { port: 8080 } } } } })];
  if (opts.policies !== undefined) docs.unshift(withPolicies(PERMIT_OTHERS + opts.policies));
  return resultOf(deriveObjects(docs), 'shop/orders');
}

function spec(o: KubeObject): Record<string, unknown> {
  return o.spec as Record<string, unknown>;
}

function egressOf(r: ServiceResult): Record<string, unknown>[] {
  return (spec(objectOf(r, 'CiliumNetworkPolicy')).egress as Record<string, unknown>[]);
}

describe('AWS: ACK Role and PodIdentityAssociation', () => {
  const r = derive({ aws: AWS_ACCESS });

  test('the service derives with both objects, each known to the controller', () => {
    assert.equal(conditionOf(r, 'Ready').status, 'True', JSON.stringify(r.diagnostics));
    for (const [apiVersion, kind] of [['iam.services.k8s.aws/v1alpha1', 'Role'], ['eks.services.k8s.aws/v1alpha1', 'PodIdentityAssociation']] as const) {
      const o = objectOf(r, kind, 'orders');
      assert.equal(o.apiVersion, apiVersion);
      assert.equal(o.metadata.namespace, 'shop');
      assert.equal(o.metadata.labels?.['lattice.dev/service'], 'orders');
      assert.ok(derivedKind(apiVersion, kind), `${kind} missing from DERIVED_KINDS`);
    }
  });

  test('Role: name, path, trust policy for EKS Pod Identity, inline policy, permissions boundary', () => {
    const s = spec(objectOf(r, 'Role', 'orders'));
    assert.equal(s.name, 'prod-eu-shop-orders', 'cluster, namespace, service: unique in the AWS account');
    assert.equal(s.path, '/lattice/');
    assert.equal(s.permissionsBoundary, 'arn:aws:iam::123456789012:policy/lattice-boundary');
    assert.equal(typeof s.assumeRolePolicyDocument, 'string', 'ACK wants the trust policy as a JSON string');
    assert.deepEqual(JSON.parse(s.assumeRolePolicyDocument as string), {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
    });
    const inline = s.inlinePolicies as Record<string, string>;
    assert.deepEqual(Object.keys(inline), ['lattice-cloud-access']);
    assert.deepEqual(JSON.parse(inline['lattice-cloud-access']!), {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'LatticeCloudAccess0', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: ['arn:aws:s3:::orders/*'] },
        { Sid: 'LatticeCloudAccess1', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: ['arn:aws:sqs:eu-west-1:123456789012:orders'] },
      ],
    });
    assert.ok(!('policies' in s), 'no managed policy is attached');
  });

  test('PodIdentityAssociation: cluster, namespace, the ServiceAccount of the Deployment, roleRef to the Role', () => {
    const s = spec(objectOf(r, 'PodIdentityAssociation', 'orders'));
    assert.deepEqual(s, { clusterName: 'prod-eu', namespace: 'shop', serviceAccount: 'orders', roleRef: { from: { name: 'orders' } } });
    const sa = objectOf(r, 'ServiceAccount', 'orders');
    const pod = (spec(objectOf(r, 'Deployment', 'orders')).template as { spec: { serviceAccountName: string } }).spec;
    assert.equal(pod.serviceAccountName, sa.metadata.name);
  });

  test('no permissions boundary when the platform sets none; a long role name is cut to 64 characters', () => {
    const docs = [platform({ aws: { clusterName: 'prod' } }), service('a'.repeat(60), { cloudAccess: { aws: AWS_ACCESS } }, 'b'.repeat(30))];
    const res = resultOf(deriveObjects(docs), `${'b'.repeat(30)}/${'a'.repeat(60)}`);
    const s = spec(objectOf(res, 'Role'));
    assert.ok(!('permissionsBoundary' in s));
    assert.ok((s.name as string).length <= 64 && /^[\w+=,.@-]+$/.test(s.name as string), s.name as string);
  });

  test('the Role, the PodIdentityAssociation and the CiliumNetworkPolicy validate against their upstream CRDs', () => {
    for (const kind of ['Role', 'PodIdentityAssociation', 'CiliumNetworkPolicy']) assert.deepEqual(validateObject(objectOf(r, kind, 'orders')), [], kind);
    const broken = structuredClone(objectOf(r, 'PodIdentityAssociation', 'orders'));
    delete (broken.spec as Record<string, unknown>).serviceAccount;
    assert.notDeepEqual(validateObject(broken), [], 'the oracle catches a missing required field');
  });

  test('egress to the EKS Pod Identity agent, and nothing for Azure', () => {
    const eg = egressOf(r);
    const port80 = [{ ports: [{ port: '80', protocol: 'TCP' }] }];
    assert.deepEqual(eg.filter((e) => 'toCIDR' in e || 'toEntities' in e), [{ toCIDR: ['169.254.170.23/32'], toPorts: port80 }, { toEntities: ['host'], toPorts: port80 }]);
    assert.ok(!JSON.stringify(eg).includes('login.microsoftonline.com'));
  });
});

describe('Azure: ASO UserAssignedIdentity, FederatedIdentityCredential, RoleAssignment', () => {
  const r = derive({ azure: [...AZURE_ACCESS, { role: '/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7', scopes: [RG, STORAGE] }] });

  test('derives', () => assert.equal(conditionOf(r, 'Ready').status, 'True', JSON.stringify(r.diagnostics)));

  test('UserAssignedIdentity: owner resource group, location, exported ids', () => {
    const o = objectOf(r, 'UserAssignedIdentity', 'orders');
    assert.equal(o.apiVersion, 'managedidentity.azure.com/v1api20230131');
    assert.deepEqual(spec(o), {
      azureName: 'lattice-shop-orders',
      location: 'westeurope',
      owner: { armId: RG },
      operatorSpec: {
        configMaps: {
          clientId: { name: 'orders-azure-identity', key: 'clientId' },
          principalId: { name: 'orders-azure-identity', key: 'principalId' },
          tenantId: { name: 'orders-azure-identity', key: 'tenantId' },
        },
      },
    });
  });

  test('FederatedIdentityCredential: issuer, subject of the ServiceAccount, token exchange audience', () => {
    const o = objectOf(r, 'FederatedIdentityCredential', 'orders');
    assert.equal(o.apiVersion, 'managedidentity.azure.com/v1api20230131');
    assert.deepEqual(spec(o), { owner: { name: 'orders' }, issuer: ISSUER, subject: 'system:serviceaccount:shop:orders', audiences: ['api://AzureADTokenExchange'] });
  });

  test('one RoleAssignment per role and scope, owned by the scope, principal from the exported config', () => {
    const ras = r.objects.filter((o) => o.kind === 'RoleAssignment');
    assert.equal(ras.length, 3);
    const got = ras.map((o) => spec(o)).map((s) => [s.owner, s.roleDefinitionReference]);
    assert.deepEqual(got, [
      [{ armId: STORAGE }, { wellKnownName: 'Storage Blob Data Reader' }],
      [{ armId: RG }, { armId: '/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7' }],
      [{ armId: STORAGE }, { armId: '/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7' }],
    ]);
    for (const o of ras) {
      assert.equal(o.apiVersion, 'authorization.azure.com/v1api20220401');
      assert.deepEqual(spec(o).principalIdFromConfig, { name: 'orders-azure-identity', key: 'principalId' });
      assert.equal(spec(o).principalType, 'ServicePrincipal');
      assert.match(o.metadata.name, /^orders-role-[0-9a-f]{10}$/);
    }
    assert.equal(new Set(ras.map((o) => o.metadata.name)).size, 3);
  });

  test('pods: Workload Identity label and AZURE_CLIENT_ID from the exported ConfigMap', () => {
    const template = spec(objectOf(r, 'Deployment', 'orders')).template as { metadata: { labels: Record<string, string> }; spec: { containers: { env?: unknown[] }[] } };
    assert.equal(template.metadata.labels['azure.workload.identity/use'], 'true');
    for (const c of template.spec.containers) {
      assert.deepEqual(c.env?.filter((e) => (e as { name: string }).name === 'AZURE_CLIENT_ID'), [{ name: 'AZURE_CLIENT_ID', valueFrom: { configMapKeyRef: { name: 'orders-azure-identity', key: 'clientId' } } }]);
    }
  });

  test('egress to the Entra token endpoint by name (toFQDNs) and its DNS lookup, none to the Pod Identity agent', () => {
    const eg = egressOf(r);
    assert.ok(eg.some((e) => JSON.stringify(e) === JSON.stringify({ toFQDNs: [{ matchName: 'login.microsoftonline.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] })));
    const dns = eg.find((e) => JSON.stringify(e).includes('"dns"')) as { toPorts: { rules: { dns: { matchName: string }[] } }[] };
    assert.ok(dns.toPorts[0]!.rules.dns.some((d) => d.matchName === 'login.microsoftonline.com'));
    assert.ok(!JSON.stringify(eg).includes('169.254.170.23'));
  });
});

describe('no cloudAccess: nothing cloud-related', () => {
  test('no cloud objects, no egress to the agent or Entra, no Azure label', () => {
    const r = derive(undefined);
    assert.equal(conditionOf(r, 'Ready').status, 'True');
    for (const kind of ['Role', 'PodIdentityAssociation', 'UserAssignedIdentity', 'FederatedIdentityCredential', 'RoleAssignment']) assert.ok(!r.objects.some((o) => o.kind === kind), kind);
    const text = JSON.stringify(r.objects);
    for (const s of ['169.254.170.23', 'login.microsoftonline.com', 'azure.workload.identity', 'AZURE_CLIENT_ID', 'toEntities']) assert.ok(!text.includes(s), s);
  });
});

describe('Cedar gate AccessCloud', () => {
  test('no permit: nothing derived, PolicyAuthorized False with CloudAccessDenied for each permission', () => {
    const r = derive({ aws: AWS_ACCESS }, { policies: '' });
    assert.equal(r.objects.length, 0);
    const c = conditionOf(r, 'PolicyAuthorized');
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'CloudAccessDenied');
    assert.match(c.message, /AWS action s3:GetObject on arn:aws:s3:::orders\/\*/);
    assert.equal(r.diagnostics.filter((d) => d.reason === 'CloudAccessDenied').length, 3);
    assert.deepEqual(r.diagnostics.filter((d) => d.reason === 'CloudAccessDenied').map((d) => d.path), ['spec.cloudAccess.aws.0.actions.0', 'spec.cloudAccess.aws.0.actions.1', 'spec.cloudAccess.aws.1.actions.0']);
  });

  test('a permit on provider and resource prefix allows; one permission outside it denies the whole service', () => {
    const permit = '@id("orders-bucket")\npermit (principal, action == Lattice::Action::"AccessCloud", resource) when { resource.provider == "aws" && resource.resource like "arn:aws:s3:::orders/*" };';
    assert.equal(derive({ aws: [AWS_ACCESS[0]] }, { policies: permit }).objects.some((o) => o.kind === 'Role'), true);
    const r = derive({ aws: AWS_ACCESS }, { policies: permit });
    assert.equal(r.objects.length, 0);
    assert.equal(r.diagnostics.filter((d) => d.reason === 'CloudAccessDenied').length, 1);
    assert.match(conditionOf(r, 'PolicyAuthorized').message, /sqs:SendMessage/);
  });

  test('a forbid on wildcard actions sees s3:* and *, names the policy, and derives nothing', () => {
    const policies = '@id("all-cloud")\npermit (principal, action == Lattice::Action::"AccessCloud", resource);\n@id("no-wildcards")\nforbid (principal, action == Lattice::Action::"AccessCloud", resource) when { resource.wildcard };';
    assert.equal(conditionOf(derive({ aws: AWS_ACCESS }, { policies }), 'PolicyAuthorized').status, 'True', 'no wildcard: allowed');
    for (const action of ['s3:*', '*', 's3:Get*']) {
      const r = derive({ aws: [{ actions: [action], resources: ['arn:aws:s3:::orders/*'] }] }, { policies });
      assert.equal(r.objects.length, 0, action);
      const c = conditionOf(r, 'PolicyAuthorized');
      assert.equal(c.reason, 'CloudAccessDenied');
      assert.match(c.message, /cloud\/no-wildcards \(forbid\)/);
    }
    // The resource ARN's wildcard is a separate attribute: arn:aws:s3:::orders/* alone is not a wildcard action.
    const res = '@id("all")\npermit (principal, action == Lattice::Action::"AccessCloud", resource);\n@id("no-any-resource")\nforbid (principal, action == Lattice::Action::"AccessCloud", resource) when { resource.resource == "*" };';
    assert.equal(derive({ aws: [{ actions: ['s3:GetObject'], resources: ['*'] }] }, { policies: res }).objects.length, 0);
  });

  test('Azure roles are asked per scope with provider azure', () => {
    const policies = '@id("azure-readers")\npermit (principal, action == Lattice::Action::"AccessCloud", resource) when { resource.provider == "azure" && resource.action == "Storage Blob Data Reader" };';
    assert.equal(conditionOf(derive({ azure: AZURE_ACCESS }, { policies }), 'Ready').status, 'True');
    const r = derive({ azure: [{ role: 'Owner', scopes: [RG] }] }, { policies });
    assert.equal(r.objects.length, 0);
    assert.match(conditionOf(r, 'PolicyAuthorized').message, /Azure role Owner on \/subscriptions\//);
  });
});

describe('missing platform settings', () => {
  test('AWS without clusterName: PlatformSupported False naming spec.cloud.aws.clusterName, nothing derived', () => {
    const r = derive({ aws: AWS_ACCESS }, { cloud: {} });
    assert.equal(r.objects.length, 0);
    const c = conditionOf(r, 'PlatformSupported');
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'CloudIdentityNotConfigured');
    assert.match(c.message, /LatticePlatform spec\.cloud\.aws\.clusterName/);
    assert.match(c.message, /#platform/);
  });

  test('Azure without issuer: the message names spec.cloud.azure.oidcIssuer (and the other missing fields)', () => {
    const r = derive({ azure: AZURE_ACCESS }, { cloud: { azure: { location: 'westeurope' } } });
    assert.equal(r.objects.length, 0);
    const c = conditionOf(r, 'PlatformSupported');
    assert.equal(c.reason, 'CloudIdentityNotConfigured');
    assert.match(c.message, /spec\.cloud\.azure\.oidcIssuer, spec\.cloud\.azure\.resourceGroupId/);
    assert.ok(!c.message.includes('location'));
  });
});

describe('validation of spec.cloudAccess', () => {
  const parse = (cloudAccess: unknown): boolean => latticeServiceSchema.safeParse(service('x', { cloudAccess })).success;
  test('accepts IAM actions and ARNs, Azure roles and scopes', () => {
    assert.ok(parse({ aws: AWS_ACCESS }));
    assert.ok(parse({ aws: [{ actions: ['*'], resources: ['*'] }] }));
    assert.ok(parse({ azure: AZURE_ACCESS }));
  });
  test('refuses what is not an action, an ARN or a scope, and an empty cloudAccess', () => {
    assert.ok(!parse({}));
    assert.ok(!parse({ aws: [{ actions: ['GetObject'], resources: ['arn:aws:s3:::x'] }] }));
    assert.ok(!parse({ aws: [{ actions: ['s3:GetObject'], resources: ['orders-bucket'] }] }));
    assert.ok(!parse({ aws: [{ actions: [], resources: ['*'] }] }));
    assert.ok(!parse({ azure: [{ role: 'Reader', scopes: ['shop'] }] }));
    assert.ok(!parse({ gcp: [] }));
  });
});
