/**
 * The service catalog: a static HTML site of the platform's services, built from what the platform
 * derived (src/compiler/platform/snapshot.ts), the scorecards (src/compiler/score/) and the service graph.
 * Pure: returns the files as `path -> HTML`; `lattice catalog` (src/cli/catalog.ts) writes them.
 *
 * - `index.html`: every service with its owner, namespace, images, status and score; the teams; the
 *   check most services fail;
 * - `services/<namespace>/<name>.html`: one page per service: its dependency graph (an inline SVG
 *   laid out here: callers left, the service in the middle, callees and external endpoints right;
 *   dashed red when not agreed), the secrets it consumes (resource names, remote keys and key names,
 *   never a value: variable values are not shown at all), its routes, its escape hatches (security
 *   overrides, host network, wildcard callers, public routes) and its scorecard.
 *
 * Self-contained: no script, no external style, font or image; each page carries a
 * Content-Security-Policy `default-src 'none'` so a browser fetches nothing when viewing it.
 */
import { podContainers, type LatticeService } from '../api/latticeservice/v1alpha1.ts';
import { parseLatticeService } from '../api/latticeservice/index.ts';
import type { PlatformResult } from '../compiler/platform/snapshot.ts';
import type { FleetScore, Scorecard } from '../compiler/score/index.ts';
import type { NamespaceMetadata } from '../policy/index.ts';
import { escapeHatches } from '../compiler/score/hatches.ts';

export { escapeHatches, type EscapeHatch } from '../compiler/score/hatches.ts';

/** A node of the service graph, as `lattice graph` draws it (src/cli/graph.ts `GraphView`). */
export interface CatalogNode {
  id: string;
  kind: 'service' | 'external';
  status: string;
  label: string;
}

/** An edge of the service graph, caller to callee. */
export interface CatalogEdge {
  from: string;
  to: string;
  allowed: boolean;
  missing?: string;
}

/** What the catalog is built from. */
export interface CatalogInput {
  platform: PlatformResult;
  score: FleetScore;
  graph: { nodes: CatalogNode[]; edges: CatalogEdge[] };
  /** Shown in the page footer, e.g. the render time. */
  generated?: string;
}

/** A secret a service consumes: names and references only. */
export interface ConsumedSecret {
  resource: string;
  provider: string;
  /** Remote key or path in the store (`id`, default `<namespace>/<resource>`). */
  remote: string;
  /** Key names synced (`all keys` when unrestricted). */
  keys: string[];
  /** Where the service uses it: container variables/files named, envFrom, imagePullSecrets. */
  usedBy: string[];
}

/** HTML-escapes text for element content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The secrets `service` consumes (resources of type secret), sorted by name. Values are never read. */
export function consumedSecrets(service: LatticeService, defaultProvider?: string): ConsumedSecret[] {
  const ns = service.metadata.namespace ?? 'default';
  const out: ConsumedSecret[] = [];
  for (const [name, r] of Object.entries(service.spec.workload.resources ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (r.type !== 'secret') continue;
    const params = (r.params ?? {}) as { provider?: string; keys?: string[] };
    const usedBy: string[] = [];
    const ref = new RegExp(`\\$\\{resources\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[.}]`);
    for (const { name: cname, container: c } of podContainers(service.spec)) {
      for (const [v, value] of Object.entries(c.variables ?? {})) if (ref.test(value)) usedBy.push(`${cname} variable ${v}`);
      for (const [p, f] of Object.entries(c.files ?? {})) if (f.content !== undefined && ref.test(f.content)) usedBy.push(`${cname} file ${p}`);
      if (c.envFrom?.includes(name)) usedBy.push(`${cname} envFrom`);
    }
    if (service.spec.imagePullSecrets?.includes(name)) usedBy.push('imagePullSecrets');
    out.push({ resource: name, provider: params.provider ?? defaultProvider ?? '(default)', remote: r.id ?? `${ns}/${name}`, keys: params.keys ?? ['all keys'], usedBy });
  }
  return out;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2330;background:#fff;max-width:72rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:1.75rem 0 .5rem;border-bottom:1px solid #dde1ea;padding-bottom:.25rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #eceff4;vertical-align:top}
th{background:#f5f7fa;font-weight:600}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:.75rem;font-size:.8rem;font-weight:600}
.Ready{background:#dcf5e3;color:#17603a}.Failed{background:#fde2e1;color:#8f1d1a}.Pending{background:#fff4d6;color:#7a5600}
.score{font-weight:700}.muted{color:#667085}.pass{color:#17603a}.fail{color:#8f1d1a}.skip{color:#667085}
nav a{color:#2d5bd7}a{color:#2d5bd7;text-decoration:none}a:hover{text-decoration:underline}
.graph{border:1px solid #eceff4;border-radius:.5rem;background:#fbfcfe}`;

function page(title: string, body: string, generated?: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<p class="muted">Generated by <code>lattice catalog</code>${generated ? ` at ${esc(generated)}` : ''}. Static: nothing is fetched when viewing.</p>
</body>
</html>
`;
}

/** The path of a service's page, relative to the site root. */
export function servicePath(namespace: string, name: string): string {
  return `services/${namespace}/${name}.html`;
}

function owner(namespaces: Readonly<Record<string, NamespaceMetadata>>, ns: string): { owner?: string; team?: string } {
  const meta = namespaces[ns];
  const out: { owner?: string; team?: string } = {};
  const o = meta?.annotations?.['lattice.dev/owner'];
  const t = meta?.labels?.['lattice.dev/team'];
  if (o !== undefined) out.owner = o;
  if (t !== undefined) out.team = t;
  return out;
}

const BOX_W = 210;
const BOX_H = 34;
const ROW = 48;
const COL = [10, 310, 610];

/**
 * The dependency graph of one service as an SVG: callers (column 1) -> the service (column 2) ->
 * callees and external endpoints (column 3). Allowed edges solid, others dashed red with what is
 * missing as a tooltip (`<title>`). Each edge is a `<g class="edge" data-from data-to>`.
 */
export function dependencySvg(key: string, graph: CatalogInput['graph']): string {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const inbound = graph.edges.filter((e) => e.to === key && e.from !== key);
  const outbound = graph.edges.filter((e) => e.from === key && e.to !== key);
  const rows = Math.max(inbound.length, outbound.length, 1);
  const height = rows * ROW + 20;
  const y = (i: number, n: number): number => 10 + (height - 20 - n * ROW) / 2 + i * ROW + (ROW - BOX_H) / 2;
  const label = (id: string): string => {
    const n = nodes.get(id);
    if (!n) return id;
    return n.kind === 'external' ? n.label : id;
  };
  const box = (id: string, x: number, top: number, cls: string): string => {
    const n = nodes.get(id);
    const fill = cls === 'self' ? '#2d5bd7' : n?.kind === 'external' ? '#f2effa' : n?.status === 'valid' ? '#eef3ff' : '#fff4d6';
    const text = cls === 'self' ? '#fff' : '#1d2330';
    const t = label(id);
    const shown = t.length > 30 ? `${t.slice(0, 29)}…` : t;
    return `<g class="node ${cls}" data-id="${esc(id)}"><title>${esc(t)}</title><rect x="${x}" y="${top}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${fill}" stroke="#8a94a8"/><text x="${x + BOX_W / 2}" y="${top + BOX_H / 2 + 4}" text-anchor="middle" font-size="12" fill="${text}">${esc(shown)}</text></g>`;
  };
  const edge = (e: CatalogEdge, x1: number, y1: number, x2: number, y2: number): string => {
    const color = e.allowed ? '#4a5568' : '#c0392b';
    const dash = e.allowed ? '' : ' stroke-dasharray="6 4"';
    const tip = e.allowed ? `${e.from} calls ${label(e.to)}` : `${e.from} -> ${label(e.to)}: not agreed (${e.missing ?? 'one-sided'})`;
    return `<g class="edge${e.allowed ? '' : ' denied'}" data-from="${esc(e.from)}" data-to="${esc(e.to)}"><title>${esc(tip)}</title><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${color}" stroke-width="1.5"${dash} marker-end="url(#arrow)"/></g>`;
  };
  const selfTop = y(0, 1);
  const parts: string[] = [];
  inbound.forEach((e, i) => {
    const top = y(i, inbound.length);
    parts.push(edge(e, COL[0]! + BOX_W, top + BOX_H / 2, COL[1]! - 2, selfTop + BOX_H / 2));
    parts.push(box(e.from, COL[0]!, top, 'caller'));
  });
  outbound.forEach((e, i) => {
    const top = y(i, outbound.length);
    parts.push(edge(e, COL[1]! + BOX_W, selfTop + BOX_H / 2, COL[2]! - 2, top + BOX_H / 2));
    parts.push(box(e.to, COL[2]!, top, 'callee'));
  });
  parts.push(box(key, COL[1]!, selfTop, 'self'));
  const width = COL[2]! + BOX_W + 10;
  return `<svg class="graph" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Dependencies of ${esc(key)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#4a5568"/></marker></defs>${parts.join('')}</svg>`;
}

function images(service: LatticeService | undefined, object: unknown): string[] {
  if (service) return podContainers(service.spec).map((c) => c.container.image);
  const containers = (object as { spec?: { workload?: { containers?: Record<string, { image?: unknown }> } } } | null)?.spec?.workload?.containers;
  return Object.values(containers ?? {}).flatMap((c) => (typeof c?.image === 'string' ? [c.image] : []));
}

function shortImage(image: string): string {
  return image.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}$/, '@sha256:$1…');
}

function scoreCell(card: Scorecard | undefined): string {
  return card ? `<span class="score">${card.score}</span>` : '<span class="muted">-</span>';
}

/** Builds the site: `index.html` and one page per service, as relative path -> HTML. */
export function buildCatalog(input: CatalogInput): Map<string, string> {
  const { platform, score } = input;
  const ctx = platform.fleet?.ctx;
  const namespaces = ctx?.namespaces ?? {};
  const cards = new Map(score.services.map((s) => [s.key, s]));
  const files = new Map<string, string>();
  const rows: string[] = [];
  for (const r of [...platform.services].sort((a, b) => a.key.localeCompare(b.key))) {
    const parsed = parseLatticeService(r.object);
    const service = parsed.success ? parsed.data : undefined;
    const who = owner(namespaces, r.namespace);
    const card = cards.get(r.key);
    const href = servicePath(r.namespace, r.name);
    rows.push(`<tr data-service="${esc(r.key)}"><td><a href="${esc(href)}">${esc(r.name)}</a></td><td>${esc(r.namespace)}</td><td>${who.owner ? esc(who.owner) : '<span class="fail">unknown</span>'}${who.team ? ` <span class="muted">(${esc(who.team)})</span>` : ''}</td><td>${images(service, r.object).map((i) => `<code>${esc(shortImage(i))}</code>`).join('<br>')}</td><td><span class="badge ${esc(r.status.phase)}">${esc(r.status.phase)}</span></td><td>${scoreCell(card)}</td></tr>`);
    files.set(href, servicePage(input, r.key, service, who));
  }
  const worst = score.checks[0];
  const teams = platform.teams.filter((t) => t.team !== undefined).map((t) => `<tr><td>${esc(t.team!.spec.displayName ?? t.name)}</td><td>${esc(t.team!.spec.owner)}</td><td>${t.namespaces.map((n) => `<code>${esc(n)}</code>`).join(', ')}</td></tr>`);
  const ready = platform.services.filter((s) => s.status.phase === 'Ready').length;
  const body = `<h1>Service catalog</h1>
<p class="muted">${platform.services.length} services, ${ready} Ready.${worst && worst.failing.length > 0 ? ` Most failed check: <strong>${esc(worst.id)}</strong> (${worst.failing.length} of ${worst.applicable}).` : ''}</p>
<h2>Services</h2>
<table id="services"><thead><tr><th>Service</th><th>Namespace</th><th>Owner</th><th>Image</th><th>Status</th><th>Score</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
${teams.length > 0 ? `<h2>Teams</h2><table id="teams"><thead><tr><th>Team</th><th>Owner</th><th>Namespaces</th></tr></thead><tbody>${teams.join('')}</tbody></table>` : ''}`;
  files.set('index.html', page('Service catalog', body, input.generated));
  return files;
}

function servicePage(input: CatalogInput, key: string, service: LatticeService | undefined, who: { owner?: string; team?: string }): string {
  const r = input.platform.services.find((s) => s.key === key)!;
  const card = input.score.services.find((s) => s.key === key);
  const root = '../../';
  const secrets = service ? consumedSecrets(service, input.platform.fleet?.ctx.defaultSecretProvider) : [];
  const hatches = service ? escapeHatches(service) : [];
  const routes = Object.entries(service?.spec.ingress?.routes ?? {});
  const annotations = service?.metadata.annotations ?? {};
  const link = (k: string, label: string): string => {
    const v = annotations[k];
    return v !== undefined && /^https:\/\//.test(v) ? `<a href="${esc(v)}">${label}</a>` : '';
  };
  const links = [link('lattice.dev/runbook', 'Runbook'), link('lattice.dev/slo', 'SLO')].filter((x) => x !== '').join(' · ');
  const problems = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `<li>${d.path ? `<code>${esc(d.path)}</code>: ` : ''}${esc(d.message)}</li>`);
  const body = `<nav><a href="${root}index.html">← All services</a></nav>
<h1>${esc(r.name)} <span class="badge ${esc(r.status.phase)}">${esc(r.status.phase)}</span></h1>
<p>Namespace <code>${esc(r.namespace)}</code> · Owner ${who.owner ? esc(who.owner) : '<span class="fail">unknown</span>'}${who.team ? ` (team ${esc(who.team)})` : ''} · Score ${scoreCell(card)}${links ? ` · ${links}` : ''}</p>
<p class="muted">${esc(r.status.message ?? '')}</p>
${problems.length > 0 ? `<h2>Why it is not Ready</h2><ul id="problems">${problems.join('')}</ul>` : ''}
<h2>Dependencies</h2>
${dependencySvg(key, input.graph)}
<h2>Secrets consumed</h2>
${secrets.length === 0 ? '<p class="muted">None.</p>' : `<table id="secrets"><thead><tr><th>Resource</th><th>Provider</th><th>Remote key</th><th>Keys</th><th>Used by</th></tr></thead><tbody>${secrets.map((s) => `<tr><td><code>${esc(s.resource)}</code></td><td>${esc(s.provider)}</td><td><code>${esc(s.remote)}</code></td><td>${s.keys.map((k) => `<code>${esc(k)}</code>`).join(', ')}</td><td>${esc(s.usedBy.join('; ') || '-')}</td></tr>`).join('')}</tbody></table>`}
<h2>Routes</h2>
${routes.length === 0 ? '<p class="muted">None.</p>' : `<table id="routes"><thead><tr><th>Route</th><th>Exposure</th><th>Hosts</th><th>Paths</th></tr></thead><tbody>${routes.map(([n, rt]) => `<tr><td>${esc(n)}</td><td>${esc(rt.exposure)}</td><td>${rt.hosts === undefined ? `<code>${esc(rt.kind)} :${rt.listenPort ?? ''}</code>` : rt.hosts.map((h) => `<code>${esc(h)}</code>`).join(', ')}</td><td>${(rt.paths ?? [{ path: '/', type: 'PathPrefix' }]).map((p) => `<code>${esc(p.path)}</code> ${esc(p.type)}`).join(', ')}</td></tr>`).join('')}</tbody></table>`}
<h2>Escape hatches</h2>
${hatches.length === 0 ? '<p class="muted">None: the platform defaults apply.</p>' : `<table id="escape-hatches"><thead><tr><th>Kind</th><th>Field</th><th>What</th></tr></thead><tbody>${hatches.map((h) => `<tr><td>${esc(h.kind)}</td><td><code>${esc(h.path)}</code></td><td>${esc(h.detail)}</td></tr>`).join('')}</tbody></table>`}
<h2>Scorecard</h2>
${card ? `<table id="scorecard"><thead><tr><th>Check</th><th>Severity</th><th>Result</th><th>Detail</th></tr></thead><tbody>${card.checks.map((c) => `<tr><td>${esc(c.id)}</td><td>${esc(c.severity)}</td><td class="${c.status}">${c.status}</td><td>${esc(c.message)}</td></tr>`).join('')}</tbody></table>` : '<p class="muted">No scorecard.</p>'}`;
  return page(`${key} · Service catalog`, body, input.generated);
}
