/**
 * `LatticePlatform` (lattice.dev/v1alpha1, cluster-scoped, conventionally named `default`): the
 * platform team's settings. Every setting has a default, so a platform without one works.
 * Later capabilities (mesh, authorization, autoscaling, ingress) add their settings here.
 */
import { z } from 'zod';
import { API_VERSION, objectMeta, quantity } from '../common.ts';

export const KIND = 'LatticePlatform';
export const PLURAL = 'latticeplatforms';
export const SHORT_NAMES = ['lp'];

/** The settings, with defaults. */
export const latticePlatformSpecSchema = z.strictObject({
  clusterDomain: z
    .string()
    .default('cluster.local')
    .describe('DNS suffix of the cluster, used for service host names (<name>.<namespace>.svc.<clusterDomain>).'),
  platformContact: z
    .string()
    .default('the platform team')
    .describe('Who developers ask when the platform refuses something and no owner is known, e.g. "#platform on Slack".'),
  defaultVolumeSizeLimit: quantity
    .default('1Gi')
    .describe('Size limit of a scratch volume that declares none.'),
  partOf: z
    .string()
    .optional()
    .describe('Value of the app.kubernetes.io/part-of label on derived objects (default: the service namespace).'),
});

/** A LatticePlatform document. */
export const latticePlatformSchema = z.object({
  apiVersion: z.literal(API_VERSION).describe(`Always ${API_VERSION}.`),
  kind: z.literal(KIND).describe(`Always ${KIND}.`),
  metadata: objectMeta,
  spec: latticePlatformSpecSchema.default(latticePlatformSpecSchema.parse({})).describe('Platform settings.'),
});

/** Platform settings with every default applied. */
export type PlatformSettings = z.output<typeof latticePlatformSpecSchema>;

/** The settings of a platform that declares no LatticePlatform. */
export function defaultPlatformSettings(): PlatformSettings {
  return latticePlatformSpecSchema.parse({});
}
