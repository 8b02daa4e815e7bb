/**
 * Memoised Cedar decisions: a decision is reused for a later request only when Cedar provably
 * answers both the same way. A fleet asks the same questions over and over (each service of a
 * namespace reads its own team's secrets from the same registry), but no two requests are equal:
 * each names its own service and its own secret. What makes them equivalent is what the policies
 * cannot see.
 *
 * The argument (Cedar's semantics, docs.cedarpolicy.com "Policy evaluation" and "Entities & context
 * syntax"):
 * 1. A policy reads an entity's attribute only by a name written in the policy (`e.attr`, `e["attr"]`,
 *    `e has attr`) and a tag by a key it computes (`e.getTag(expr)`, `e.hasTag(expr)`). Cedar has no
 *    way to list an entity's attributes or turn an entity UID into a string; a UID is only compared
 *    (`==`, `in`, `is`, its type) and followed to its attributes and parents.
 * 2. So two requests whose entities differ only in the values of attributes and tags that no policy
 *    names, and in the ids of the principal and resource UIDs (renamed consistently, where no policy
 *    names those ids and no attribute refers to them), evaluate every policy to the same result: the same
 *    decision and the same determining policies.
 * 3. Cedar also validates the request and entities against the Lattice schema. That depends on
 *    entity types and value types only, so an attribute no policy names still counts, by its type.
 *
 * {@link trimRequest} keeps exactly what (2) and (3) say may matter: the entities Cedar is asked
 * with (other attributes reduced to their types, other tags left out, which also makes Cedar's
 * parsing faster) and a key, equal for requests Cedar answers alike. What a policy "names" is
 * over-approximated from the policy's JSON form (Cedar's own parse, escapes resolved): every string
 * in it, keys and values, except the name a `has` tests last (presence is always kept). An answer
 * with an evaluation error or a rejected request is never memoised (its messages name values), and
 * the engine asks it again untrimmed, so errors always come from Cedar for the request as built.
 */
import type { CedarValueJson, EntityJson } from './cedar.ts';

/** What a set of policies can read: see {@link policyReferences}. */
export interface PolicyReferences {
  /** Every string in the policies' JSON form: attribute names, tag keys, entity ids, literals, and the JSON form's own keys. */
  names: ReadonlySet<string>;
  /** True when some policy reads a tag whose key is computed (`getTag(resource.k)`), so every tag can matter. */
  dynamicTags: boolean;
}

/**
 * What one policy can read, from its JSON form (`policyToJson`, the "EST"): every string in it,
 * and whether a `getTag`/`hasTag` takes anything but a string literal.
 */
export function policyReferences(json: unknown): { names: string[]; dynamicTags: boolean } {
  const names = new Set<string>();
  let dynamicTags = false;
  const walk = (node: unknown): void => {
    if (typeof node === 'string') {
      names.add(node);
      return;
    }
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      names.add(key);
      if (key === 'getTag' || key === 'hasTag') {
        const right = (value as { right?: { Value?: unknown } } | null)?.right;
        if (typeof right?.Value !== 'string') dynamicTags = true;
      }
      if (key === 'has' && value !== null && typeof value === 'object' && 'attr' in value) {
        // `e has a` tests presence only, which every key keeps (attributes are listed by name), so
        // its last name is not a read of a value; `e has a.b` does read `a` (to look inside it).
        const { attr, ...rest } = value as { attr: unknown };
        const path = Array.isArray(attr) ? attr : [attr];
        walk(path.slice(0, -1));
        walk(rest);
        continue;
      }
      walk(value);
    }
  };
  walk(json);
  return { names: [...names], dynamicTags };
}

/** The union of several policies' references. */
export function mergeReferences(all: ReadonlyArray<{ names: readonly string[]; dynamicTags: boolean }>): PolicyReferences {
  const names = new Set<string>();
  let dynamicTags = false;
  for (const r of all) {
    for (const n of r.names) names.add(n);
    dynamicTags ||= r.dynamicTags;
  }
  return { names, dynamicTags };
}

/** The parts of a request that can decide it (the action, principal, resource, context and entities). */
export interface MemoRequest {
  action: string;
  principal: { type: string; id: string };
  resource: { type: string; id: string };
  context: Record<string, CedarValueJson>;
  entities: readonly EntityJson[];
}

type Uid = { type: string; id: string };

function uidOf(value: unknown): Uid {
  const v = value as { __entity?: Uid } & Uid;
  return v.__entity ?? v;
}

/**
 * True when `value` holds a reference to an entity with this id: `{"__entity": {type, id}}`, or a
 * `{type, id}` record (the form Cedar accepts where the schema expects an entity). A string equal to
 * the id is not a reference: Cedar compares strings and UIDs apart.
 */
function refersTo(value: unknown, id: string): boolean {
  if (Array.isArray(value)) return value.some((v) => refersTo(v, id));
  if (value === null || typeof value !== 'object') return false;
  const o = value as Record<string, unknown>;
  if (o.id === id) return true;
  return Object.values(o).some((v) => refersTo(v, id));
}

/**
 * A value of the same type as `value`, as schema validation sees it, and carrying nothing else:
 * a string becomes `""`, a whole number in the safe range `0`, a boolean `false`; a set keeps one
 * member per distinct member type; a record keeps its fields; entity references, extension values,
 * numbers outside the safe range and any `type` field stay as they are (validation reads them).
 * This assumes no attribute of the Lattice schema is extension-typed (a string there would be
 * parsed as an IP address or a decimal): test/policy-memo.test.ts checks the schema for that.
 */
function typeOnly(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return key === 'type' ? value : '';
  if (typeof value === 'boolean') return false;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 0 : value;
  if (Array.isArray(value)) {
    const members = new Map<string, unknown>();
    for (const v of value) {
      const t = typeOnly(v);
      members.set(JSON.stringify(t), t);
    }
    return [...members.values()];
  }
  if (value === null || typeof value !== 'object' || '__entity' in value || '__extn' in value) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = typeOnly(v, k);
  return out;
}

/** A request as Cedar is asked it when memoising: entities without what no policy reads, and its memo key. */
export interface TrimmedRequest {
  /**
   * The request's entities, each with the attributes the policies name as they are and every other
   * attribute reduced to its type ({@link typeOnly}), and with only the tags the policies name (all
   * of them when some policy reads tags by a computed key). Cedar answers it as it answers the
   * request (the module comment's argument), and parses it faster.
   */
  entities: EntityJson[];
  /**
   * Equal for two requests Cedar answers alike: the action, the principal's and resource's UIDs as
   * placeholders (`[0, type]`, `[1, type]`) unless a policy names their id or an attribute refers to
   * it, the context, and the trimmed entities in order with their UIDs and parents.
   */
  key: string;
}

/** The trimmed entities and memo key of `request` under a policy set's references (see {@link TrimmedRequest}). */
export function trimRequest(request: MemoRequest, refs: PolicyReferences): TrimmedRequest {
  const { principal, resource } = request;
  const named = (record: Readonly<Record<string, CedarValueJson>>): Record<string, CedarValueJson> => {
    const out: Record<string, CedarValueJson> = {};
    for (const [name, value] of Object.entries(record)) out[name] = refs.names.has(name) ? value : (typeOnly(value) as CedarValueJson);
    return out;
  };
  const namedTags = (tags: Readonly<Record<string, CedarValueJson>>): Record<string, CedarValueJson> => {
    if (refs.dynamicTags) return { ...tags };
    const out: Record<string, CedarValueJson> = {};
    // A tag no policy names cannot be seen; one that is not a string still counts, for validation.
    for (const [name, value] of Object.entries(tags)) if (refs.names.has(name) || typeof value !== 'string') out[name] = value;
    return out;
  };
  const entities = request.entities.map((e): EntityJson => {
    const trimmed: EntityJson = { uid: e.uid, attrs: named(e.attrs ?? {}), parents: e.parents ?? [] };
    if (e.tags !== undefined) trimmed.tags = namedTags(e.tags);
    return trimmed;
  });
  let abstractPrincipal = !refs.names.has(principal.id);
  let abstractResource = !refs.names.has(resource.id);
  if (abstractPrincipal || abstractResource) {
    const values = [request.context, ...entities.map((e) => [e.attrs, e.tags])];
    if (abstractPrincipal && refersTo(values, principal.id)) abstractPrincipal = false;
    if (abstractResource && refersTo(values, resource.id)) abstractResource = false;
  }
  const uid = (value: unknown): unknown => {
    const u = uidOf(value);
    if (abstractPrincipal && u.type === principal.type && u.id === principal.id) return [0, u.type];
    if (abstractResource && u.type === resource.type && u.id === resource.id) return [1, u.type];
    return [u.type, u.id];
  };
  const shape = entities.map((e) => [uid(e.uid), (e.parents ?? []).map(uid), e.attrs, e.tags ?? null]);
  return { entities, key: JSON.stringify([request.action, uid(principal), uid(resource), request.context, shape]) };
}

/** The memo key of a request: {@link trimRequest}'s `key`. */
export function decisionKey(request: MemoRequest, refs: PolicyReferences): string {
  return trimRequest(request, refs).key;
}

/** Cedar's answer to a request that evaluated without error: what {@link DecisionMemo} keeps. */
export interface MemoisedAnswer {
  decision: 'allow' | 'deny';
  /** Determining policy ids, sorted. */
  determiningPolicies: readonly string[];
}

/**
 * A bounded map from {@link decisionKey} to answers. When full it starts over (cheaper than an LRU,
 * and a fleet's distinct questions are far fewer than the bound). Counts hits and misses for
 * benchmarks and tests.
 */
export class DecisionMemo {
  private readonly answers = new Map<string, MemoisedAnswer>();
  hits = 0;
  misses = 0;

  /** @param limit most answers kept: a key is about a kilobyte, so 20,000 keys hold about 20 MiB at most. */
  constructor(private readonly limit = 20_000) {}

  get(key: string): MemoisedAnswer | undefined {
    const answer = this.answers.get(key);
    if (answer === undefined) this.misses++;
    else this.hits++;
    return answer;
  }

  set(key: string, answer: MemoisedAnswer): void {
    if (this.answers.size >= this.limit) this.answers.clear();
    this.answers.set(key, answer);
  }

  get size(): number {
    return this.answers.size;
  }
}
