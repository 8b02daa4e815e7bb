/**
 * OCI image references, parsed with the grammar of the distribution project
 * (github.com/distribution/reference, `reference.go`):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path-component ["/" path-component]*
 *   domain    := host [":" port]
 *   tag       := [\w][\w.-]{0,127}
 *   digest    := algorithm ":" hex
 *
 * The first component is the registry when it contains "." or ":" or is "localhost"; otherwise the
 * image is on Docker Hub (`docker.io`, single names under `library/`). This module is a leaf: it
 * imports nothing, so the API layer may use it for validation.
 */

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The normal form of a registry host, the one every comparison uses (ImageProvider scopes, Cedar's
 * `Image.registry`, credentials): lower case (host names are case-insensitive, RFC 4343), without
 * the HTTPS default port `:443` (the OCI distribution API is HTTPS, so `host:443` and `host` are one
 * registry), and `docker.io` for Docker Hub's other names (`index.docker.io`, the legacy default
 * domain of github.com/distribution/reference `normalize.go`, and `registry-1.docker.io`, its API
 * host). Other ports are kept: `host:5000` is a different registry.
 */
export function normaliseRegistryHost(host: string): string {
  const h = host.toLowerCase().replace(/:443$/, '');
  return DOCKER_HUB_ALIASES.has(h) ? 'docker.io' : h;
}

/**
 * A parsed image reference. `registry` is normalised ({@link normaliseRegistryHost}; `docker.io`
 * when none was written), so two spellings of one registry never compare as two.
 */
export interface ImageReference {
  /** The reference exactly as written. */
  original: string;
  /** Normalised registry host with optional port, e.g. `registry.example.com` or `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `payments` or `library/nginx`. */
  repository: string;
  /** Tag, when written. */
  tag?: string;
  /** Digest `sha256:<64 hex>`, when written. */
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Result of {@link parseImageReference}: the reference, or a message saying what is wrong. */
export type ParseResult = { ok: true; ref: ImageReference } | { ok: false; error: string };

/** Parses `text` as an OCI image reference. Never throws. */
export function parseImageReference(text: string): ParseResult {
  if (text.length === 0) return { ok: false, error: 'image reference is empty' };
  if (text !== text.trim()) return { ok: false, error: 'image reference has leading or trailing spaces' };
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { ok: false, error: `digest "${digest}" is not of the form sha256:<64 hex digits>` };
    if (digest.startsWith('sha256:') && !SHA256_DIGEST.test(digest)) {
      return { ok: false, error: `digest "${digest}" must be sha256: followed by 64 lower-case hex digits` };
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { ok: false, error: `tag "${tag}" is not valid: at most 128 letters, digits, "_", "." and "-", not starting with "." or "-"` };
  }
  if (rest.length === 0) return { ok: false, error: 'image reference has no repository name' };
  if (rest.length > 255) return { ok: false, error: `repository name is ${rest.length} characters; the limit is 255` };
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) return { ok: false, error: `registry "${first}" is not a valid host[:port]` };
    registry = normaliseRegistryHost(first);
    parts.shift();
  }
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      return { ok: false, error: `repository component "${part}" is not valid: use lower-case letters and digits separated by ".", "_", "__" or "-"` };
    }
  }
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const ref: ImageReference = { original: text, registry, repository: parts.join('/') };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return { ok: true, ref };
}

/** True when the reference is pinned to a sha256 digest, the only form the platform runs by default. */
export function isDigestPinned(ref: ImageReference): boolean {
  return ref.digest !== undefined && SHA256_DIGEST.test(ref.digest);
}
