/**
 * Endpoints of `type: external-service` resources: the forms a developer may write, parsed once into
 * one shape that the mesh (Cilium egress, Istio ServiceEntry), the placeholders and the Cedar requests
 * all read, so the three never disagree about what an endpoint means.
 *
 * Accepted forms (`params.endpoints` is a list of them, or a map endpoint name -> form, the reference's
 * shape; map entries are read in name order, as the reference's BTreeMap does):
 *
 * - `scheme://host[:port][/path]` with scheme http, https, grpc, grpcs (default ports 80/443/80/443),
 *   tcp, tls or udp (port required). The path is ignored: the mesh allows hosts and ports, not paths.
 * - `host:port` without a scheme: TCP to that host and port (the reference's fallback, used by its
 *   homelab examples, e.g. `api.nzbgeek.info:443`).
 * - `entity:NAME` or `entity:NAME:PORT`: a Cilium entity (docs.cilium.io, "Layer 3 Examples",
 *   "Entities Based"): `kube-apiserver`, `world`, `host` or `remote-node`. Derived as a Cilium
 *   `toEntities` egress rule, on TCP PORT or, without a port, on every port and protocol. Entities that
 *   would open the whole cluster (`cluster`, `all`, `ingress`, `health`, `init`, `unmanaged`) are
 *   refused: pods of the cluster are reached through the bilateral mesh only.
 *
 * Host names are lower-cased and a trailing dot dropped; IPv4 and bracketed IPv6 addresses are marked
 * `ip`. The Cedar id of an endpoint is `scheme://host:port` (`tcp://` for the scheme-less form), or
 * `entity:NAME[:PORT]` (scheme `entity`, port 0 when none).
 */

/** Schemes of URL endpoints and their default ports (none: the port is required). */
export const ENDPOINT_SCHEMES: Record<string, number | undefined> = { http: 80, https: 443, grpc: 80, grpcs: 443, tcp: undefined, tls: undefined, udp: undefined };

/** Cilium entities an endpoint may name (docs.cilium.io, "Entities Based"); the others would bypass the mesh. */
export const ENDPOINT_ENTITIES = ['kube-apiserver', 'world', 'host', 'remote-node'] as const;

/** One parsed endpoint. */
export type ParsedEndpoint =
  | {
      form: 'url' | 'host-port';
      /** http, https, grpc, grpcs, tcp, tls or udp (`tcp` for the scheme-less form). */
      scheme: string;
      /** Lower-case host name without a trailing dot, or an IP address (IPv6 without brackets). */
      host: string;
      ip: boolean;
      port: number;
      /** TCP, or UDP for `udp://`. */
      protocol: 'TCP' | 'UDP';
      /** The Cedar ExternalEndpoint id. */
      id: string;
    }
  | {
      form: 'entity';
      scheme: 'entity';
      /** The Cilium entity name. */
      entity: (typeof ENDPOINT_ENTITIES)[number];
      host: string;
      ip: false;
      /** The TCP port, or 0 for every port and protocol. */
      port: number;
      protocol: 'TCP' | 'ANY';
      id: string;
    };

/** Parses one endpoint; `{error}` says why it is not one, in a sentence that names the fix. */
export function parseExternalEndpoint(text: string): ParsedEndpoint | { error: string } {
  if (text.startsWith('entity:')) {
    const m = /^entity:([a-z-]+)(?::(\d{1,5}))?$/.exec(text);
    if (!m) return { error: 'is not an entity endpoint: write entity:NAME or entity:NAME:PORT, e.g. entity:kube-apiserver:443' };
    const entity = m[1]!;
    if (!(ENDPOINT_ENTITIES as readonly string[]).includes(entity)) {
      return { error: `names Cilium entity "${entity}", which is not allowed here (allowed: ${ENDPOINT_ENTITIES.join(', ')}): pods of the cluster are reached through declared service dependencies, not entities` };
    }
    const port = m[2] === undefined ? 0 : Number(m[2]);
    if (m[2] !== undefined && (port < 1 || port > 65535)) return { error: `has port ${m[2]}, which is not between 1 and 65535` };
    return { form: 'entity', scheme: 'entity', entity: entity as (typeof ENDPOINT_ENTITIES)[number], host: entity, ip: false, port, protocol: port === 0 ? 'ANY' : 'TCP', id: port === 0 ? `entity:${entity}` : `entity:${entity}:${port}` };
  }
  const hasScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(text);
  const form = hasScheme ? 'url' : 'host-port';
  if (!hasScheme && !/^(\[[0-9a-fA-F:.]+\]|[^\s/:@?#[\]]+):\d{1,5}$/.test(text)) {
    return { error: 'is not an endpoint: write a URL (https://api.stripe.com, tcp://db.example.com:5432, udp://ntp.example.com:123), host:port (db.example.com:5432) or entity:NAME (entity:kube-apiserver:443)' };
  }
  let url: URL;
  try {
    url = new URL(hasScheme ? text : `tcp://${text}`);
  } catch {
    return { error: 'is not a URL: write e.g. https://api.stripe.com or tcp://db.example.com:5432' };
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (!Object.hasOwn(ENDPOINT_SCHEMES, scheme)) return { error: `has scheme "${scheme}": use ${Object.keys(ENDPOINT_SCHEMES).join(', ')}, or write host:port for TCP` };
  if (url.username !== '' || url.password !== '') return { error: 'carries credentials in the URL: put them in a secret resource and refer to them with ${secret.NAME.KEY}' };
  let host = url.hostname.toLowerCase();
  if (host === '') return { error: 'has no host' };
  const ip = /^\[.*\]$/.test(host) || /^[0-9.]+$/.test(host);
  if (host.startsWith('[')) host = host.slice(1, -1);
  host = host.replace(/\.$/, '');
  const defaultPort = ENDPOINT_SCHEMES[scheme];
  if (url.port === '' && defaultPort === undefined) return { error: `needs a port for scheme ${scheme}, e.g. ${scheme}://${url.hostname}:5432` };
  const port = url.port === '' ? defaultPort! : Number(url.port);
  const idHost = host.includes(':') ? `[${host}]` : host;
  return { form, scheme, host, ip, port, protocol: scheme === 'udp' ? 'UDP' : 'TCP', id: `${scheme}://${idHost}:${port}` };
}

/** An endpoint as written: its name (map form) or index (list form), and its text. */
export interface EndpointEntry {
  /** The key under `params.endpoints`: the map key, or the list index. */
  key: string | number;
  /** The endpoint name: the map key, or undefined in the list form. */
  name?: string;
  text: string;
}

/**
 * The endpoints of external-service params as written: the list in order, or the map in name order.
 * Entries that are not strings are skipped (the schema reports them).
 */
export function endpointEntries(params: unknown): EndpointEntry[] {
  const endpoints = (params as { endpoints?: unknown } | undefined)?.endpoints;
  if (Array.isArray(endpoints)) {
    return endpoints.flatMap((text, i) => (typeof text === 'string' ? [{ key: i, text }] : []));
  }
  if (endpoints !== null && typeof endpoints === 'object') {
    return Object.keys(endpoints)
      .sort()
      .flatMap((name) => {
        const text = (endpoints as Record<string, unknown>)[name];
        return typeof text === 'string' ? [{ key: name, name, text }] : [];
      });
  }
  return [];
}

/** The parsed endpoints of external-service params, with their entries; invalid ones are skipped (the schema reports them). */
export function parsedEndpoints(params: unknown): (EndpointEntry & { endpoint: ParsedEndpoint })[] {
  return endpointEntries(params).flatMap((e) => {
    const endpoint = parseExternalEndpoint(e.text);
    return 'error' in endpoint ? [] : [{ ...e, endpoint }];
  });
}
