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

/**
 * The deprecation of LatticeService `lattice.dev/v1alpha1` (docs/versioning.md): since when, the
 * earliest date it may stop being served, and the replacement. The CRD's `deprecationWarning`
 * (shown by kubectl on every request) and `lattice render` print the same sentence.
 */
export const V1ALPHA1_DEPRECATION = {
  since: '2026-12-06',
  removal: '2027-06-30',
  replacement: `${GROUP}/v1beta1`,
} as const;

/** The warning for a deprecated LatticeService version: the date, the replacement and the command that migrates. */
export const SERVICE_V1ALPHA1_WARNING =
  `${GROUP}/v1alpha1 LatticeService is deprecated since ${V1ALPHA1_DEPRECATION.since} and may stop being served after ${V1ALPHA1_DEPRECATION.removal}; ` +
  `use ${V1ALPHA1_DEPRECATION.replacement} (\`lattice migrate PATH\` rewrites files in place)`;

/**
 * The conversion webhook of kinds served in more than one version (LatticeService): the controller
 * serves `ConversionReview`s on HTTPS at `path` behind this Service (src/controller/conversion.ts);
 * cert-manager issues the serving certificate `certificate` and injects its CA into the CRD
 * (`cert-manager.io/inject-ca-from`). `lattice install` derives the Service, Issuer and Certificate
 * from the same names.
 */
export const CONVERSION_WEBHOOK = {
  namespace: PLATFORM_NAMESPACE,
  service: 'lattice-controller-webhook',
  certificate: 'lattice-controller-webhook',
  path: '/convert',
  port: 443,
  containerPort: 9443,
} as const;
