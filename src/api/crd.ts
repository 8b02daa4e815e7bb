/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1) generated from the zod schemas.
 *
 * zod's JSON Schema output (`z.toJSONSchema(..., {target: 'openapi-3.0', io: 'input'})`) is turned
 * into a *structural* schema as the API server requires
 * (kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema):
 * every node has a `type` (or `x-kubernetes-int-or-string` / `x-kubernetes-preserve-unknown-fields`),
 * no `$ref`, and `properties` never stands beside `additionalProperties`.
 */
import { z } from 'zod';
import { KINDS, atVersion, servedVersions, type KindDefinition } from './kinds.ts';
import { CONVERSION_WEBHOOK } from './constants.ts';

/** An OpenAPI v3 schema node as it appears in a CRD. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  anyOf?: JSONSchemaProps[];
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

type Raw = Record<string, unknown>;

/** Converts a zod schema into a structural OpenAPI v3 schema. */
export function structuralSchema(schema: z.ZodType): JSONSchemaProps {
  const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any', reused: 'inline', cycles: 'throw' }) as Raw;
  return toStructural(raw);
}

function isIntOrString(raw: Raw): boolean {
  const anyOf = raw.anyOf as Raw[] | undefined;
  if (!anyOf || anyOf.length !== 2) return false;
  const types = anyOf.map((a) => a.type).sort();
  return types[0] === 'integer' && types[1] === 'string';
}

function toStructural(raw: Raw): JSONSchemaProps {
  const out: JSONSchemaProps = {};
  if (typeof raw.description === 'string') out.description = raw.description;
  if (raw.default !== undefined) out.default = raw.default;
  if (isIntOrString(raw)) {
    out['x-kubernetes-int-or-string'] = true;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    return out;
  }
  if (raw.anyOf !== undefined || raw.oneOf !== undefined || raw.allOf !== undefined) {
    // A union the API server cannot describe structurally: accept any value, validation happens in Lattice.
    out['x-kubernetes-preserve-unknown-fields'] = true;
    return out;
  }
  const type = raw.type as JSONSchemaProps['type'] | undefined;
  if (type === undefined) {
    out.type = 'object';
    out['x-kubernetes-preserve-unknown-fields'] = true;
    return out;
  }
  out.type = type;
  for (const key of ['enum', 'pattern', 'minimum', 'exclusiveMinimum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'format'] as const) {
    if (raw[key] !== undefined) (out as Raw)[key] = raw[key];
  }
  if (raw.maximum !== undefined && raw.maximum !== Number.MAX_SAFE_INTEGER) out.maximum = raw.maximum as number;
  if (raw.const !== undefined) out.enum = [raw.const];
  if (type === 'object') {
    const props = raw.properties as Record<string, Raw> | undefined;
    const additional = raw.additionalProperties as Raw | boolean | undefined;
    if (props && Object.keys(props).length > 0) {
      out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toStructural(v)]));
      const required = (raw.required as string[] | undefined)?.filter((r) => (props[r] as Raw | undefined)?.default === undefined);
      if (required && required.length > 0) out.required = required;
    } else if (additional && typeof additional === 'object') {
      const value = toStructural(additional);
      if (value['x-kubernetes-preserve-unknown-fields'] && value.type === 'object' && !value.properties) {
        out['x-kubernetes-preserve-unknown-fields'] = true;
      } else {
        out.additionalProperties = value;
      }
    } else if (props === undefined) {
      out['x-kubernetes-preserve-unknown-fields'] = true;
    }
  }
  if (type === 'array' && raw.items && typeof raw.items === 'object') out.items = toStructural(raw.items as Raw);
  return out;
}

/** The openAPIV3Schema of a kind: apiVersion, kind, metadata, spec and status. */
export function kindSchema(def: KindDefinition): JSONSchemaProps {
  const properties: Record<string, JSONSchemaProps> = {
    apiVersion: { type: 'string', description: `APIVersion of the object: ${def.group}/${def.version}.` },
    kind: { type: 'string', description: `Kind of the object: ${def.kind}.` },
    metadata: { type: 'object' }, // the API server allows nothing else on root metadata (validateStructuralMetadataInvariants)
    spec: { ...structuralSchema(def.spec), description: `Desired state of the ${def.kind}.` },
  };
  if (def.status) properties.status = { ...structuralSchema(def.status), description: `Observed state of the ${def.kind}, written by Lattice.` };
  return { type: 'object', description: def.description, properties, required: ['spec'] };
}

/**
 * The CustomResourceDefinition of one kind, as the API server accepts it. A kind served in several
 * versions (LatticeService) lists every version, newest first: exactly one `storage: true`
 * (`storageVersion`), a deprecated one with `deprecated: true` and its `deprecationWarning`, and
 * `spec.conversion` of strategy `Webhook` pointing at the controller's conversion endpoint
 * ({@link CONVERSION_WEBHOOK}, `conversionReviewVersions: [v1]`), whose CA cert-manager's CA injector
 * writes into `caBundle` from the annotation `cert-manager.io/inject-ca-from` (cert-manager.io/docs/concepts/ca-injector/).
 * See kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definition-versioning/.
 */
export function crdFor(def: KindDefinition): Record<string, unknown> {
  const storage = def.storageVersion ?? def.version;
  const versions = servedVersions(def).map((v) => {
    const atV = atVersion(def, v.version)!;
    const version: Record<string, unknown> = { name: v.version, served: true, storage: v.version === storage };
    if (v.deprecationWarning !== undefined) {
      version.deprecated = true;
      version.deprecationWarning = v.deprecationWarning;
    }
    version.schema = { openAPIV3Schema: kindSchema(atV) };
    version.additionalPrinterColumns = def.printerColumns;
    if (atV.status) version.subresources = { status: {} };
    return version;
  });
  const multi = versions.length > 1;
  const metadata: Record<string, unknown> = {
    name: `${def.plural}.${def.group}`,
    labels: { 'app.kubernetes.io/name': 'lattice', 'app.kubernetes.io/part-of': 'lattice' },
  };
  if (multi) metadata.annotations = { 'cert-manager.io/inject-ca-from': `${CONVERSION_WEBHOOK.namespace}/${CONVERSION_WEBHOOK.certificate}` };
  const conversion = {
    strategy: 'Webhook',
    webhook: {
      conversionReviewVersions: ['v1'],
      clientConfig: { service: { namespace: CONVERSION_WEBHOOK.namespace, name: CONVERSION_WEBHOOK.service, path: CONVERSION_WEBHOOK.path, port: CONVERSION_WEBHOOK.port } },
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata,
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['lattice'],
      },
      scope: def.scope,
      versions,
      ...(multi ? { conversion } : {}),
    },
  };
}

/** Every Lattice CRD. */
export function allCrds(): Record<string, unknown>[] {
  return KINDS.map(crdFor);
}
