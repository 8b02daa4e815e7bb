/**
 * The Volcano CronJob CRD (`cronjobs.batch.volcano.sh`, `batch.volcano.sh/v1alpha1` CronJob, Volcano
 * 1.13+) as a schema oracle, composed rather than copied: its upstream file
 * (volcano-sh/volcano `config/crd/volcano/bases/batch.volcano.sh_cronjobs.yaml`, read at commit
 * 178acf02f7b674f2a809349bb802f973a35d3f10 through the source index; 260 KB, not fetchable byte for
 * byte from this environment) is the Job CRD's spec schema under `spec.jobTemplate.spec` plus the
 * CronJob fields below, transcribed from that file (types, formats, minimums, defaults, enum and the
 * `required` list as upstream; descriptions left out).
 *
 * `jobTemplate.spec` is taken from the vendored Job CRD (volcano/batch.volcano.sh_jobs.yaml), an
 * older Volcano than the CronJob's: the newer file adds task fields (`partitionPolicy`,
 * `reservationNodeNames`) Lattice does not use, so the oracle is at most stricter than upstream.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

type Raw = Record<string, unknown>;

/** The composed CronJob CRD (see the module doc); `dir` is test/upstream-schemas/ with a trailing slash. */
export function volcanoCronJobCrd(dir: string): Raw {
  const job = parseYaml(readFileSync(`${dir}volcano/batch.volcano.sh_jobs.yaml`, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: { properties: { spec: Raw } } } }[] } };
  const jobSpec = job.spec.versions.find((v) => v.name === 'v1alpha1')!.schema.openAPIV3Schema.properties.spec;
  const objectMeta = {
    properties: {
      annotations: { additionalProperties: { type: 'string' }, type: 'object' },
      finalizers: { items: { type: 'string' }, type: 'array' },
      labels: { additionalProperties: { type: 'string' }, type: 'object' },
      name: { type: 'string' },
      namespace: { type: 'string' },
    },
    type: 'object',
  };
  const spec = {
    properties: {
      concurrencyPolicy: { default: 'Allow', enum: ['Allow', 'Forbid', 'Replace'], type: 'string' },
      failedJobsHistoryLimit: { default: 1, format: 'int32', minimum: 0, type: 'integer' },
      jobTemplate: { properties: { metadata: objectMeta, spec: jobSpec }, type: 'object' },
      schedule: { type: 'string' },
      startingDeadlineSeconds: { format: 'int64', minimum: 0, type: 'integer' },
      successfulJobsHistoryLimit: { default: 3, format: 'int32', minimum: 0, type: 'integer' },
      suspend: { default: false, type: 'boolean' },
      timeZone: { type: 'string' },
    },
    required: ['jobTemplate', 'schedule'],
    type: 'object',
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'cronjobs.batch.volcano.sh' },
    spec: {
      group: 'batch.volcano.sh',
      names: { kind: 'CronJob', listKind: 'CronJobList', plural: 'cronjobs', shortNames: ['cronvcjob', 'cronvj'], singular: 'cronjob' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
                status: {
                  properties: {
                    active: { items: { type: 'object', 'x-kubernetes-map-type': 'atomic', properties: { apiVersion: { type: 'string' }, fieldPath: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' }, namespace: { type: 'string' }, resourceVersion: { type: 'string' }, uid: { type: 'string' } } }, type: 'array', 'x-kubernetes-list-type': 'atomic' },
                    lastScheduleTime: { format: 'date-time', type: 'string' },
                    lastSuccessfulTime: { format: 'date-time', type: 'string' },
                  },
                  type: 'object',
                },
              },
              type: 'object',
            },
          },
        },
      ],
    },
  };
}
