/**
 * The API's fixed names, in a leaf module without zod so the command line can name them in its help
 * without loading the schemas. `common.ts` re-exports them; import them from there elsewhere.
 */

/** The API group of every Lattice kind. */
export const GROUP = 'lattice.dev';
/** The only served version so far. */
export const VERSION = 'v1alpha1';
/** `apiVersion` of every Lattice kind. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** The platform namespace: platform-wide resources (providers, policies, quotas, settings) live here. */
export const PLATFORM_NAMESPACE = 'lattice-system';
