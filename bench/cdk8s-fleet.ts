/**
 * The comparison point of the render benchmark (bench/render.ts): cdk8s-plus-30 synthesising the
 * same fleet intent as `lattice render`, run as its own process the same way.
 *
 * `node --import tsx bench/cdk8s-fleet.ts DIR`: reads every `*.yaml` under DIR (the generated fleet,
 * parsed with the `yaml` library as Lattice parses it) and, for every LatticeService, builds with
 * cdk8s-plus-30 a ServiceAccount, a Deployment (its container, image, variables as environment,
 * requests and limits, readiness probe), a Service exposing its ports, and a default-deny
 * NetworkPolicy admitting the callers it declares inbound and the callees it declares outbound (pods
 * selected by name and namespace). Writes `app.synthYaml()` to stdout. The Lattice output is a
 * superset (status, ExternalSecrets, Cilium and Istio policies, scrape targets, budgets, Cedar and
 * quota checks); this is the same core intent with a general-purpose construct library.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-30';

interface ServiceDoc {
  kind?: string;
  metadata: { name: string; namespace: string };
  spec: {
    replicas: number;
    workload: {
      containers: Record<string, { image: string; variables?: Record<string, string> }>;
      service?: { ports: Record<string, { port: number; targetPort?: number }> };
      resources?: Record<string, { type: string; direction?: string; id?: string; namespace?: string }>;
    };
  };
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: cdk8s-fleet.ts DIR\n');
  process.exit(2);
}

const services: ServiceDoc[] = [];
for (const file of readdirSync(dir).sort()) {
  if (!file.endsWith('.yaml')) continue;
  for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
    const o = doc.toJS() as ServiceDoc;
    if (o?.kind === 'LatticeService') services.push(o);
  }
}

const app = new App();
const chart = new Chart(app, 'fleet', { disableResourceNameHashes: true });
const namespaces = new Map<string, kplus.Namespaces>();
const namespaceSelector = (name: string): kplus.Namespaces => {
  let n = namespaces.get(name);
  if (!n) {
    n = kplus.Namespaces.select(chart, `ns-${name}`, { names: [name] });
    namespaces.set(name, n);
  }
  return n;
};

for (const svc of services) {
  const { name, namespace } = svc.metadata;
  const id = `${namespace}-${name}`;
  const serviceAccount = new kplus.ServiceAccount(chart, `${id}-sa`, { metadata: { name, namespace }, automountToken: false });
  const ports = Object.entries(svc.spec.workload.service?.ports ?? {}).map(([pname, p]) => ({ name: pname, port: p.port, targetPort: p.targetPort ?? p.port }));
  const containers = Object.entries(svc.spec.workload.containers).map(([cname, c]) => ({
    name: cname,
    image: c.image,
    ports: ports.map((p) => ({ name: p.name, number: p.targetPort })),
    envVariables: Object.fromEntries(Object.entries(c.variables ?? {}).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)])),
    resources: {
      cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
      memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
    },
    readiness: kplus.Probe.fromHttpGet('/ready', { port: 8080 }),
  }));
  const deployment = new kplus.Deployment(chart, id, {
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': name } },
    replicas: svc.spec.replicas,
    serviceAccount,
    automountServiceAccountToken: false,
    containers,
  });
  deployment.exposeViaService({ name, ports });
  const peers = (direction: 'inbound' | 'outbound'): kplus.NetworkPolicyRule[] =>
    Object.entries(svc.spec.workload.resources ?? {})
      .filter(([, r]) => r.type === 'service' && (r.direction === direction || r.direction === 'both' || (direction === 'outbound' && r.direction === undefined)))
      .map(([rname, r]) => ({
        peer: kplus.Pods.select(chart, `${id}-${direction}-${rname}`, { labels: { 'app.kubernetes.io/name': r.id ?? rname }, namespaces: namespaceSelector(r.namespace ?? namespace) }),
        ports: [kplus.NetworkPolicyPort.tcp(8080)],
      }));
  new kplus.NetworkPolicy(chart, `${id}-np`, {
    metadata: { name, namespace },
    selector: deployment,
    ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY, rules: peers('inbound') },
    egress: { default: kplus.NetworkPolicyTrafficDefault.DENY, rules: peers('outbound') },
  });
}

process.stdout.write(app.synthYaml());
process.stderr.write(`cdk8s timings: ${JSON.stringify({ total: Math.round(performance.now() * 10) / 10, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
