/**
 * The thin layer over the official Cedar engine (`@cedar-policy/cedar-wasm`, its Node.js build):
 * the Lattice schema, preparsed policy sets with reference counting, and turning Cedar's errors
 * (byte offsets into the policy text) into line and column positions. Nothing here evaluates a
 * policy: every decision is Cedar's.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { policyReferences } from './memo.ts';
import type { DetailedError, EntityJson, EntityUidJson, CedarValueJson, AuthorizationAnswer, SchemaJson } from '@cedar-policy/cedar-wasm/nodejs';

export type { DetailedError, EntityJson, CedarValueJson, AuthorizationAnswer };

/** The Cedar namespace of every Lattice entity type and action. */
export const CEDAR_NAMESPACE = 'Lattice';

/** The Cedar schema text (`src/policy/lattice.cedarschema`), read once when this module loads. */
export const LATTICE_SCHEMA: string = readFileSync(new URL('./lattice.cedarschema', import.meta.url), 'utf8');

/** Name under which the schema is preparsed in the engine's cache (versioned by content). */
const SCHEMA_NAME = `lattice-schema-${createHash('sha256').update(LATTICE_SCHEMA).digest('hex').slice(0, 16)}`;
let schemaPreparsed = false;

/**
 * Preparses the Lattice schema once per process (`preparseSchema`), so authorization calls refer to
 * it by name instead of re-parsing it. Throws when the shipped schema does not parse (a build defect).
 */
export function preparsedSchemaName(): string {
  if (!schemaPreparsed) {
    const answer = cedar.preparseSchema(SCHEMA_NAME, LATTICE_SCHEMA);
    if (answer.type === 'failure') {
      throw new Error(`the Lattice Cedar schema does not parse: ${answer.errors.map((e) => e.message).join('; ')}`);
    }
    schemaPreparsed = true;
  }
  return SCHEMA_NAME;
}

/** Version of the Cedar engine and of the Cedar language it implements, e.g. `{engine: "4.13.0", language: "4.5"}`. */
export function cedarVersion(): { engine: string; language: string } {
  return { engine: cedar.getCedarVersion(), language: cedar.getCedarLangVersion() };
}

const preparsed = new Map<string, number>();
let parseCount = 0;

/**
 * Preparses a policy set (`preparsePolicySet`) under an id derived from its content, so equal sets
 * share one cached copy. Each call must be balanced by {@link releasePolicySet}. Returns the id, or
 * Cedar's errors when the set does not parse.
 */
export function acquirePolicySet(policies: Record<string, string>): { ok: true; id: string } | { ok: false; errors: DetailedError[] } {
  const hash = createHash('sha256');
  for (const [id, text] of Object.entries(policies)) hash.update(`${id.length}:${id}${text.length}:${text}`);
  const id = `lattice-policies-${hash.digest('hex')}`;
  const count = preparsed.get(id) ?? 0;
  if (count === 0) {
    const answer = cedar.preparsePolicySet(id, { staticPolicies: policies });
    parseCount++;
    if (answer.type === 'failure') return { ok: false, errors: answer.errors };
  }
  preparsed.set(id, count + 1);
  return { ok: true, id };
}

/**
 * Releases a policy set acquired with {@link acquirePolicySet}. When no holder is left, the cached
 * set is replaced by an empty one: cedar-wasm has no call that removes a preparsed set.
 */
export function releasePolicySet(id: string): void {
  const count = preparsed.get(id);
  if (count === undefined) return;
  if (count > 1) {
    preparsed.set(id, count - 1);
    return;
  }
  preparsed.delete(id);
  cedar.preparsePolicySet(id, { staticPolicies: {} });
}

/** How many times a policy set was parsed into the cache since the process started (for tests and benchmarks). */
export function policySetParseCount(): number {
  return parseCount;
}

/** One authorization call against a preparsed policy set and the preparsed Lattice schema. */
export function isAuthorizedPreparsed(call: {
  policySetId: string;
  principal: { type: string; id: string };
  action: string;
  resource: { type: string; id: string };
  context: Record<string, CedarValueJson>;
  entities: EntityJson[];
}): AuthorizationAnswer {
  return cedar.statefulIsAuthorized({
    principal: call.principal,
    action: { type: `${CEDAR_NAMESPACE}::Action`, id: call.action },
    resource: call.resource,
    context: call.context,
    entities: call.entities,
    preparsedSchemaName: preparsedSchemaName(),
    validateRequest: true,
    preparsedPolicySetId: call.policySetId,
  });
}

/** The parts of a policy set text: its static policies and its templates, each as the exact source text. */
export function splitPolicyText(text: string): { ok: true; policies: string[]; templates: string[] } | { ok: false; errors: DetailedError[] } {
  const answer = cedar.policySetTextToParts(text);
  if (answer.type === 'failure') return { ok: false, errors: answer.errors };
  return { ok: true, policies: answer.policies, templates: answer.policy_templates };
}

/** What Lattice reads from one policy's JSON form: effect, annotations and action scope. */
export interface PolicyInfo {
  effect: 'permit' | 'forbid';
  /** Annotations, e.g. `@id("x")` gives `{id: "x"}`. */
  annotations: Record<string, string>;
  /** Actions named by the action scope (`action == A`, `action in [A, B]`); undefined for an unconstrained `action`. */
  actions?: string[];
  /** What the policy can read, for memoising decisions (src/policy/memo.ts). */
  references: { names: string[]; dynamicTags: boolean };
}

/** The effect, annotations, action scope and references of one policy (Cedar's `policyToJson`), or Cedar's errors. */
export function policyInfo(policyText: string): { ok: true; info: PolicyInfo } | { ok: false; errors: DetailedError[] } {
  const answer = cedar.policyToJson(policyText);
  if (answer.type === 'failure') return { ok: false, errors: answer.errors };
  const info: PolicyInfo = { effect: answer.json.effect, annotations: answer.json.annotations ?? {}, references: policyReferences(answer.json) };
  const scope = answer.json.action;
  const uidId = (uid: EntityUidJson): string => ('__entity' in uid ? uid.__entity.id : uid.id);
  if (scope.op === '==' && 'entity' in scope) info.actions = [uidId(scope.entity)];
  else if (scope.op === 'in') info.actions = 'entity' in scope ? [uidId(scope.entity)] : scope.entities.map(uidId);
  return { ok: true, info };
}

let schemaAsJson: SchemaJson<string> | undefined;

/**
 * Strict validation of policies against the Lattice schema (Cedar's `validate`). Takes policies by
 * id so a batch of CedarPolicies is validated in one call (the schema is parsed once per call; its
 * JSON form, computed once, parses about twice as fast as the text).
 */
export function validateStrict(policies: Record<string, string>): ReturnType<typeof cedar.validate> {
  if (schemaAsJson === undefined) {
    const answer = cedar.schemaToJson(LATTICE_SCHEMA);
    if (answer.type === 'failure') throw new Error(`the Lattice Cedar schema does not parse: ${answer.errors.map((e) => e.message).join('; ')}`);
    schemaAsJson = answer.json;
  }
  return cedar.validate({ schema: schemaAsJson, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
}

/** The Lattice schema as Cedar's JSON schema format (to list its entity types and actions). */
export function schemaJson(): ReturnType<typeof cedar.schemaToJson> {
  return cedar.schemaToJson(LATTICE_SCHEMA);
}

/** A 1-based line and column, as editors show them. Columns count characters. */
export interface TextPosition {
  line: number;
  column: number;
}

/**
 * Converts a UTF-8 byte offset (what Cedar reports in `sourceLocations`) to an index into the
 * JavaScript string. Offsets past the end map to the end.
 */
export function byteOffsetToIndex(text: string, byteOffset: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length && bytes < byteOffset) {
    const code = text.codePointAt(i) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    i += code >= 0x10000 ? 2 : 1;
  }
  return i;
}

/** The 1-based line and column of the character at `index` in `text`. */
export function positionOf(text: string, index: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** Cedar's message with its labels and help, e.g. `unexpected token \`}\` (expected identifier)` or `... (hint: try ...)`. */
export function describeCedarError(error: DetailedError): string {
  let text = error.message;
  const labels = (error.sourceLocations ?? []).map((l) => l.label).filter((l): l is string => typeof l === 'string' && l !== '');
  if (labels.length > 0) text += ` (${labels.join('; ')})`;
  if (error.help) text += ` (hint: ${error.help})`;
  return text;
}

/** Byte offset where a Cedar error starts, when it has a source location. */
export function errorStart(error: DetailedError): number | undefined {
  return error.sourceLocations?.[0]?.start;
}
