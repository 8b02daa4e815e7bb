/**
 * Secret ids (the remote key of a `secret` resource, `workload.resources.<name>.id`) as paths. The
 * id is both what Cedar authorizes (its first segment is the owning namespace, see
 * src/policy/requests.ts) and what the External Secrets Operator asks the store for, so the two must
 * read it the same way. Stores resolve paths themselves: Vault's HTTP API and most stores' clients
 * treat `..` and `.` segments, repeated or leading `/`, and percent-encoded bytes as path syntax, so
 * `alpha/../beta/api-key` would be authorized as namespace `alpha` and read from `beta`. Only plain,
 * already-normal paths are accepted: no empty, `.` or `..` segment, no leading or trailing `/`, no
 * backslash (a separator on some stores), no percent-encoded byte and no control character.
 * Leaf module: imports nothing.
 */

/**
 * What is wrong with a secret id, as a phrase completing "secret id "...": ", or undefined when it is
 * a normal path (segments separated by single "/", none empty, "." or "..").
 */
export function secretPathProblem(id: string): string | undefined {
  const fix = 'write the normal path of the secret in the store, segments separated by single "/", e.g. payments/api-key';
  if (id.length === 0) return `is empty: ${fix}`;
  if ([...id].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return `contains a control character: ${fix}`;
  if (id.includes('\\')) return `contains a backslash, which some stores read as a path separator: ${fix}`;
  if (/%[0-9a-fA-F]{2}/.test(id)) return `contains a percent-encoded byte, which stores may decode into "/" or ".": ${fix}`;
  if (id.startsWith('/')) return `is absolute (starts with "/"): ids are relative to the store's root; ${fix}`;
  const segments = id.split('/');
  if (segments.some((s) => s === '..')) return `has a ".." segment, which would let it leave the namespace it names (it is authorized by its first segment): ${fix}`;
  if (segments.some((s) => s === '.')) return `has a "." segment: ${fix}`;
  if (segments.some((s) => s === '')) return `has an empty segment ("//" or a trailing "/"): ${fix}`;
  return undefined;
}
