/**
 * Adoption and health metrics (src/controller/adoption.ts): read back from the Prometheus text the
 * registry serves, after a scripted sequence of derivations on a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { AdoptionMetrics, type AdoptionSnapshot } from '../src/controller/adoption.ts';
import { IMAGE } from './support/fixtures.ts';

function svc(name: string, namespace: string, phase: string | undefined, spec: Record<string, unknown> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {
    apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name, namespace, uid: `uid-${name}` },
    spec: { workload: { containers: { main: { image: IMAGE, resources: { profile: 'small' } } } }, ...spec },
  };
  if (phase !== undefined) o.status = { phase };
  return o;
}

/** The samples of `metric` as `labels value` lines, sorted. */
async function samples(registry: Registry, metric: string): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)).sort();
}

function setup(snapshot: AdoptionSnapshot, clock: { now: number }): { registry: Registry; adoption: AdoptionMetrics } {
  const registry = new Registry();
  return { registry, adoption: new AdoptionMetrics(registry, () => snapshot, () => clock.now) };
}

const NAMESPACES = { shop: { labels: { 'lattice.dev/team': 'commerce' } }, pay: { labels: { 'lattice.dev/team': 'payments' } } };

test('lattice_platform_services counts services by team and phase; no team is "none"', async () => {
  const snapshot: AdoptionSnapshot = {
    services: [svc('a', 'shop', 'Ready'), svc('b', 'shop', 'Ready'), svc('c', 'shop', 'Failed'), svc('d', 'pay', undefined), svc('e', 'attic', 'Ready')],
    namespaces: NAMESPACES,
  };
  const { registry } = setup(snapshot, { now: 0 });
  assert.deepEqual(await samples(registry, 'lattice_platform_services'), [
    'lattice_platform_services{team="commerce",phase="Failed"} 1',
    'lattice_platform_services{team="commerce",phase="Ready"} 2',
    'lattice_platform_services{team="none",phase="Ready"} 1',
    'lattice_platform_services{team="payments",phase="Pending"} 1',
  ]);
  // Computed at scrape time: a service removed from the cache is gone at the next scrape.
  snapshot.services = [svc('a', 'shop', 'Ready')];
  assert.deepEqual(await samples(registry, 'lattice_platform_services'), ['lattice_platform_services{team="commerce",phase="Ready"} 1']);
});

test('lattice_escape_hatches counts each hatch in the specs by kind and team', async () => {
  const snapshot: AdoptionSnapshot = {
    services: [
      svc('web', 'shop', 'Ready', {
        workload: {
          containers: { main: { image: IMAGE, resources: { profile: 'small' }, security: { capabilities: { add: ['NET_BIND_SERVICE', 'NET_RAW'] } } } },
          service: { ports: { http: { port: 80 } } },
          resources: { any: { type: 'service', direction: 'inbound', id: '*' } },
        },
        ingress: { routes: { web: { hosts: ['shop.example.com'], exposure: 'public' } } },
      }),
      svc('root', 'pay', 'Ready', { workload: { hostNetwork: true, containers: { main: { image: IMAGE, resources: { profile: 'small' }, security: { runAsUser: 0 } } } } }),
      { apiVersion: 'lattice.dev/v1alpha1', kind: 'LatticeService', metadata: { name: 'broken', namespace: 'shop' }, spec: {} },
    ],
    namespaces: NAMESPACES,
  };
  const { registry } = setup(snapshot, { now: 0 });
  assert.deepEqual(await samples(registry, 'lattice_escape_hatches'), [
    'lattice_escape_hatches{kind="host-network",team="none"} 0',
    'lattice_escape_hatches{kind="host-network",team="payments"} 1',
    'lattice_escape_hatches{kind="public-route",team="commerce"} 1',
    'lattice_escape_hatches{kind="public-route",team="none"} 0',
    'lattice_escape_hatches{kind="security-override",team="commerce"} 2',
    'lattice_escape_hatches{kind="security-override",team="none"} 0',
    'lattice_escape_hatches{kind="security-override",team="payments"} 1',
    'lattice_escape_hatches{kind="wildcard-caller",team="commerce"} 1',
    'lattice_escape_hatches{kind="wildcard-caller",team="none"} 0',
  ]);
});

test('first-try derivations are counted once per service; one already Ready before this controller is not', async () => {
  const { registry, adoption } = setup({ services: [], namespaces: {} }, { now: 0 });
  adoption.observe({ uid: 'a' }, true, true);
  adoption.observe({ uid: 'a' }, true, true);
  adoption.observe({ uid: 'b' }, false, false);
  adoption.observe({ uid: 'b' }, true, true); // fixed later: still a failure on the first try
  adoption.observe({ uid: 'c', previousPhase: 'Ready' }, true, true); // seen after a restart
  adoption.observe({ uid: 'd', previousPhase: 'Pending' }, true, true);
  assert.deepEqual(await samples(registry, 'lattice_first_derivation_total'), [
    'lattice_first_derivation_total{result="failure"} 1',
    'lattice_first_derivation_total{result="success"} 2',
  ]);
});

test('lattice_time_to_ready_seconds: from creation to the first Ready, once per service', async () => {
  const clock = { now: Date.parse('2026-01-01T00:10:00Z') };
  const { registry, adoption } = setup({ services: [], namespaces: {} }, clock);
  // Created 10 minutes ago, first derivation fails, Ready 5 minutes later: 900 s.
  adoption.observe({ uid: 'slow', creationTimestamp: '2026-01-01T00:00:00Z' }, false, false);
  clock.now += 5 * 60_000;
  adoption.observe({ uid: 'slow', creationTimestamp: '2026-01-01T00:00:00Z' }, true, true);
  clock.now += 60_000;
  adoption.observe({ uid: 'slow', creationTimestamp: '2026-01-01T00:00:00Z' }, true, true); // Ready again: not timed again
  // No creationTimestamp: timed from first sight; Ready 3 s later.
  adoption.observe({ uid: 'quick' }, false, false);
  clock.now += 3000;
  adoption.observe({ uid: 'quick' }, true, true);
  // Already Ready when first seen (a restart): not timed.
  adoption.observe({ uid: 'old', creationTimestamp: '2025-01-01T00:00:00Z', previousPhase: 'Ready' }, true, true);
  const lines = await samples(registry, 'lattice_time_to_ready_seconds_count');
  assert.deepEqual(lines, ['lattice_time_to_ready_seconds_count 2']);
  assert.deepEqual(await samples(registry, 'lattice_time_to_ready_seconds_sum'), ['lattice_time_to_ready_seconds_sum 903']);
  const buckets = await samples(registry, 'lattice_time_to_ready_seconds_bucket');
  assert.ok(buckets.includes('lattice_time_to_ready_seconds_bucket{le="5"} 1'), buckets.join('\n'));
  assert.ok(buckets.includes('lattice_time_to_ready_seconds_bucket{le="300"} 1'));
  assert.ok(buckets.includes('lattice_time_to_ready_seconds_bucket{le="900"} 2'));
  adoption.forget('quick');
  adoption.observe({ uid: 'quick', previousPhase: 'Ready' }, true, true);
  assert.deepEqual(await samples(registry, 'lattice_time_to_ready_seconds_count'), ['lattice_time_to_ready_seconds_count 2'], 'a forgotten service seen Ready again is not timed');
});
