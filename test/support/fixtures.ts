/**
 * Test fixtures: minimal valid documents and a one-call way to derive a platform from objects
 * (or YAML text) with a fixed clock, so tests compare exact output.
 */
import { parseYamlDocuments } from '../../src/api/source.ts';
import { derivePlatform, type PlatformDocument, type PlatformResult } from '../../src/compiler/platform/snapshot.ts';
import type { KubeObject, ServiceResult } from '../../src/compiler/types.ts';

/** The fixed time of every test derivation. */
export const NOW = '2026-01-01T00:00:00Z';

/** A digest-pinned image reference for tests. */
export const IMAGE = `registry.example.com/app@sha256:${'a'.repeat(64)}`;

/** A valid LatticeService with one container; `spec` fields are merged over the defaults. */
export function service(name: string, spec: Record<string, unknown> = {}, namespace = 'shop', metadata: Record<string, unknown> = {}): Record<string, unknown> {
  const workload = (spec.workload ?? {}) as Record<string, unknown>;
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'LatticeService',
    metadata: { name, namespace, ...metadata },
    spec: {
      ...spec,
      workload: {
        containers: {
          main: { image: IMAGE, resources: { limits: { cpu: '500m', memory: '256Mi' } } },
        },
        ...workload,
      },
    },
  };
}

/** A default SecretProvider named `vault`. */
export function provider(name = 'vault', isDefault = true): Record<string, unknown> {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'SecretProvider',
    metadata: { name, namespace: 'lattice-system' },
    spec: { default: isDefault, provider: { vault: { server: 'https://vault.example.com', path: 'secret', version: 'v2', auth: { tokenSecretRef: { name: 'vault-token', key: 'token', namespace: 'external-secrets' } } } } },
  };
}

/**
 * A CedarPolicy permitting every action except SkipImageVerification (a bypass of the supply-chain
 * gate, never granted by accident). Lattice denies by default, so tests of other concerns run on a
 * platform with this policy; authorization tests give their own policies instead.
 */
export function permitAll(): Record<string, unknown> {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'CedarPolicy',
    metadata: { name: 'permit-all', namespace: 'lattice-system' },
    spec: {
      description: 'Tests only: everything but skipping image verification is permitted.',
      policies: 'permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };',
    },
  };
}

function hasPolicies(objects: unknown[]): boolean {
  return objects.some((o) => (o as { kind?: unknown }).kind === 'CedarPolicy');
}

/** Derives a platform from plain objects; without a CedarPolicy among them, on a permit-all platform. */
export function deriveObjects(objects: unknown[]): PlatformResult {
  const all = hasPolicies(objects) ? objects : [permitAll(), ...objects];
  return derivePlatform(all.map((object): PlatformDocument => ({ object })), { now: NOW });
}

/** Derives a platform from YAML text (positions available, file name `file`); permit-all unless it has CedarPolicies. */
export function deriveYaml(text: string, file = 'input.yaml'): PlatformResult {
  const { documents, errors } = parseYamlDocuments(text, file);
  if (errors.length > 0) throw new Error(`fixture YAML does not parse: ${errors.map((e) => e.message).join('; ')}`);
  const docs: PlatformDocument[] = documents.map((d) => ({ object: d.object, locate: d.locate }));
  if (!hasPolicies(documents.map((d) => d.object))) docs.unshift({ object: permitAll() });
  return derivePlatform(docs, { now: NOW });
}

/** The result of service `key` (`namespace/name`); throws when absent. */
export function resultOf(platform: PlatformResult, key: string): ServiceResult {
  const r = platform.services.find((s) => s.key === key);
  if (!r) throw new Error(`no result for ${key}; have ${platform.services.map((s) => s.key).join(', ')}`);
  return r;
}

/** The derived object of `kind` named `name`; throws when absent. */
export function objectOf(result: ServiceResult, kind: string, name?: string): KubeObject {
  const o = result.objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} derived; have ${result.objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/** The condition `type` of a result's status; throws when absent. */
export function conditionOf(result: ServiceResult, type: string): { type: string; status: string; reason: string; message: string } {
  const c = result.status.conditions.find((x) => x.type === type);
  if (!c) throw new Error(`no ${type} condition; have ${result.status.conditions.map((x) => x.type).join(', ')}`);
  return c;
}
