/**
 * Registry scopes: which images an ImageProvider covers. A scope is a registry host (with optional
 * port) and an optional repository path prefix, e.g. `registry.example.com/team`. It covers an image
 * when the image is on that host and its repository is the prefix itself or lies below it, compared on
 * whole path components: `registry.example.com/team` covers `registry.example.com/team/api` but not
 * `registry.example.com/teamfoo/api` (a plain string prefix would).
 *
 * Hosts are compared in their normal form (`normaliseRegistryHost`): lower case, without the default
 * port 443, and `docker.io` for Docker Hub's several names (`docker.io`, `index.docker.io`,
 * `registry-1.docker.io`), as in the distribution reference grammar.
 * This module is a leaf (it imports only reference.ts) so the API layer may use it for validation.
 */
import { normaliseRegistryHost, type ImageReference } from './reference.ts';

/** A parsed registry scope. */
export interface RegistryScope {
  /** Host with optional port, normalised (`docker.io` for Docker Hub). */
  host: string;
  /** Repository path prefix without leading or trailing "/", or "" for the whole registry. */
  prefix: string;
}

const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;

/** Normalises a registry host (lower case, no `:443`, `docker.io` for Docker Hub's aliases): see reference.ts. */
export { normaliseRegistryHost };

/** Result of {@link parseRegistryScope}. */
export type ScopeParseResult = { ok: true; scope: RegistryScope } | { ok: false; error: string };

/**
 * Parses `host[:port][/path/prefix]`. The host must look like one in an image reference (contain "."
 * or ":", or be `localhost`), since anything else would be read as a Docker Hub repository.
 * Never throws.
 */
export function parseRegistryScope(text: string): ScopeParseResult {
  if (text.length === 0) return { ok: false, error: 'registry is empty: write a host, e.g. registry.example.com or registry.example.com/team' };
  if (/^[a-z]+:\/\//i.test(text)) return { ok: false, error: `registry "${text}" has a URL scheme: write the host without it, e.g. ${text.replace(/^[a-z]+:\/\//i, '')}` };
  const trimmed = text.replace(/\/+$/, '');
  const [host = '', ...path] = trimmed.split('/');
  if (!HOST.test(host)) return { ok: false, error: `registry host "${host}" is not a valid host[:port]` };
  if (!(host.includes('.') || host.includes(':') || host === 'localhost')) {
    return { ok: false, error: `registry host "${host}" has no "." or port: image references would read it as a Docker Hub repository; write the full host, e.g. ${host}.example.com, or docker.io/${host} for Docker Hub` };
  }
  for (const part of path) {
    if (!PATH_COMPONENT.test(part)) {
      return { ok: false, error: `repository path component "${part}" is not valid: use lower-case letters and digits separated by ".", "_", "__" or "-"` };
    }
  }
  return { ok: true, scope: { host: normaliseRegistryHost(host), prefix: path.join('/') } };
}

/** True when `scope` covers the image `ref` (same host, repository at or below the prefix). */
export function scopeCovers(scope: RegistryScope, ref: ImageReference): boolean {
  if (normaliseRegistryHost(ref.registry) !== scope.host) return false;
  if (scope.prefix === '') return true;
  return ref.repository === scope.prefix || ref.repository.startsWith(`${scope.prefix}/`);
}
