/**
 * The controller's HTTP endpoints (plain HTTP, for the kubelet's probes and Prometheus):
 *
 * - `GET /healthz`: liveness; 200 while the process serves requests and, when it leads, still
 *   renews its Lease; 500 otherwise (the kubelet then restarts the container).
 * - `GET /readyz`: readiness; 200 once every informer has listed its kind (a standby replica is
 *   ready too: it is warm and takes over at once), 503 before, with what is missing.
 * - `GET /metrics`: Prometheus text format (see src/controller/metrics.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Registry } from 'prom-client';

/** What the endpoints report on. */
export interface HealthSource {
  /** Undefined when healthy, else why not. */
  unhealthy(): string | undefined;
  /** Undefined when ready, else why not. */
  notReady(): string | undefined;
  registry: Registry;
}

/** A running endpoint server. */
export interface HttpEndpoints {
  /** `http://host:port` it listens on. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts `server` listening on `listen` (port 0: any free port) and returns its URL (`scheme://host:port`,
 * an IPv6 host in brackets) and a close that ends open connections too and then runs `onClose`.
 * Rejects with the listen error (address in use, permission denied).
 */
export async function listenOn(
  server: NetServer & { closeAllConnections(): void },
  listen: { host: string; port: number },
  scheme: 'http' | 'https',
  onClose: () => void = () => undefined,
): Promise<HttpEndpoints> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `${scheme}://${host}:${addr.port}`,
    close: () => new Promise<void>((resolve) => {
      onClose();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Parses `host:port` or `:port` (all interfaces). Throws with the fix when malformed. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(.*):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`"${text}" is not an address: write host:port or :port, e.g. :8080 or 127.0.0.1:8080`);
  const host = m[1] === '' ? '0.0.0.0' : m[1]!.replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** Starts the endpoints on `host:port` (port 0: any free port). */
export async function serveEndpoints(listen: { host: string; port: number }, source: HealthSource): Promise<HttpEndpoints> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      const problem = source.unhealthy();
      res.writeHead(problem ? 500 : 200, { 'content-type': 'text/plain' }).end(problem ? `unhealthy: ${problem}\n` : 'ok\n');
    } else if (path === '/readyz') {
      const problem = source.notReady();
      res.writeHead(problem ? 503 : 200, { 'content-type': 'text/plain' }).end(problem ? `not ready: ${problem}\n` : 'ok\n');
    } else if (path === '/metrics') {
      source.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': source.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz or /metrics\n');
    }
  });
  return listenOn(server, listen, 'http');
}
