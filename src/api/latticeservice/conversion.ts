/**
 * Conversion of a LatticeService between `lattice.dev/v1alpha1` and `lattice.dev/v1beta1`, lossless
 * both ways. Used by the operator's conversion webhook (src/controller/conversion.ts), by the
 * compiler to read v1beta1 documents as the v1alpha1 (hub) shape it derives from, and by the tests.
 *
 * The conversion is the table of path moves in src/api/latticeservice/v1beta1.ts (`MOVES`), applied
 * to `spec`; everything else (metadata, status, every field not moved) passes through unchanged.
 *
 * Lossless: whatever the target version cannot hold is carried in the annotation
 * {@link CONVERSION_ANNOTATION}, the Kubernetes convention for round-tripping through a version
 * that lacks a field (Cluster API and others do the same; see the API conventions on
 * "changing API versions": "the old version must be able to round-trip"). After moving, the result
 * is converted back; every field where that differs from the input is recorded there as
 * `{path, value}` (or `{path, absent: true}`), with the version it belongs to. Converting back to
 * that version restores them and removes the annotation. For valid documents the only such case is a
 * v1alpha1 `capabilities: {}` (an empty holder v1beta1 has no spelling for); for the objects an API
 * server may hold (structurally valid, not necessarily valid Lattice) anything may be.
 */
import { isDeepStrictEqual } from 'node:util';
import { KIND } from './v1alpha1.ts';
import { API_VERSION as V1BETA1, MOVES } from './v1beta1.ts';
import { API_VERSION as V1ALPHA1 } from '../constants.ts';
import { moveData, type Direction } from './moves.ts';

/** Annotation carrying the fields the object's version cannot express, for the way back. */
export const CONVERSION_ANNOTATION = 'lattice.dev/conversion-data';

/** The served LatticeService apiVersions, newest first. */
export const SERVICE_API_VERSIONS: readonly string[] = [V1BETA1, V1ALPHA1];

type Raw = Record<string, unknown>;

/** One field restored on the way back: its path from the object root, and its value (or that it was absent). */
export interface CarriedField {
  path: string[];
  value?: unknown;
  absent?: true;
}

/** The content of {@link CONVERSION_ANNOTATION} (JSON). */
export interface ConversionData {
  /** The apiVersion the fields belong to. */
  apiVersion: string;
  fields: CarriedField[];
  /** True when the conversion created `metadata.annotations` to hold this annotation. */
  createdAnnotations?: true;
}

/** Why an object cannot be converted (not a LatticeService, an unserved version). */
export class ConversionError extends Error {}

function isObject(x: unknown): x is Raw {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Every field path where `a` differs from `b` (objects compared key by key, anything else whole). */
function differences(a: unknown, b: unknown, path: string[], out: CarriedField[]): void {
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const av = Object.hasOwn(a, key) ? a[key] : undefined;
      const bv = Object.hasOwn(b, key) ? b[key] : undefined;
      differences(av, bv, [...path, key], out);
    }
    return;
  }
  if (isDeepStrictEqual(a, b)) return;
  out.push(a === undefined ? { path, absent: true } : { path, value: a });
}

function restore(object: Raw, fields: readonly CarriedField[]): void {
  for (const f of fields) {
    let cur = object;
    for (const seg of f.path.slice(0, -1)) {
      if (!isObject(cur[seg])) cur[seg] = {};
      cur = cur[seg] as Raw;
    }
    const last = f.path[f.path.length - 1]!;
    if (f.absent) delete cur[last];
    else cur[last] = structuredClone(f.value);
  }
}

function annotationsOf(object: Raw): Raw | undefined {
  const meta = object.metadata;
  return isObject(meta) && isObject(meta.annotations) ? meta.annotations : undefined;
}

/** Reads and removes the conversion data meant for `apiVersion` (left alone when meant for another version or unreadable). */
function takeCarried(object: Raw, apiVersion: string): ConversionData | undefined {
  const annotations = annotationsOf(object);
  const text = annotations?.[CONVERSION_ANNOTATION];
  if (typeof text !== 'string') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(data) || data.apiVersion !== apiVersion || !Array.isArray(data.fields)) return undefined;
  delete annotations![CONVERSION_ANNOTATION];
  if (data.createdAnnotations === true && Object.keys(annotations!).length === 0) delete (object.metadata as Raw).annotations;
  return data as unknown as ConversionData;
}

function putCarried(object: Raw, data: ConversionData): void {
  if (!isObject(object.metadata)) object.metadata = {};
  const meta = object.metadata as Raw;
  if (!isObject(meta.annotations)) {
    meta.annotations = {};
    data.createdAnnotations = true;
  }
  (meta.annotations as Raw)[CONVERSION_ANNOTATION] = JSON.stringify(data);
}

function direction(from: string, to: string): Direction {
  return from === V1ALPHA1 && to === V1BETA1 ? 'forward' : 'backward';
}

/**
 * Converts a LatticeService object to `toApiVersion` (a served version), without changing `object`.
 * Throws {@link ConversionError} when `object` is not a LatticeService of a served version or the
 * target is not served; the message says which.
 */
export function convertLatticeService(object: unknown, toApiVersion: string): Raw {
  if (!isObject(object)) throw new ConversionError('the object is not a map');
  const from = object.apiVersion;
  if (object.kind !== KIND) throw new ConversionError(`kind ${JSON.stringify(object.kind)} is not ${KIND}`);
  if (typeof from !== 'string' || !SERVICE_API_VERSIONS.includes(from)) {
    throw new ConversionError(`apiVersion ${JSON.stringify(from)} is not a served ${KIND} version (${SERVICE_API_VERSIONS.join(', ')})`);
  }
  if (!SERVICE_API_VERSIONS.includes(toApiVersion)) {
    throw new ConversionError(`cannot convert to ${JSON.stringify(toApiVersion)}: ${KIND} is served as ${SERVICE_API_VERSIONS.join(' and ')}`);
  }
  const source = structuredClone(object);
  if (from === toApiVersion) return source;
  const carried = takeCarried(source, toApiVersion);
  const out = structuredClone(source);
  moveData(out.spec, MOVES, direction(from, toApiVersion));
  out.apiVersion = toApiVersion;
  if (carried !== undefined) restore(out, carried.fields);
  // What would the way back lose? Convert back and compare with the input.
  const back = structuredClone(out);
  takeCarried(back, from);
  moveData(back.spec, MOVES, direction(toApiVersion, from));
  back.apiVersion = from;
  const lost: CarriedField[] = [];
  differences(source, back, [], lost);
  if (lost.length > 0) putCarried(out, { apiVersion: from, fields: lost });
  return out;
}

/** The apiVersion a LatticeService object claims, or undefined. */
export function apiVersionOf(object: unknown): string | undefined {
  return isObject(object) && typeof object.apiVersion === 'string' ? object.apiVersion : undefined;
}
