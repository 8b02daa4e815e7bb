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
 * {@link decisionKey} writes down exactly what (2) and (3) say may matter; equal keys mean equal
 * answers. What a policy "names" is over-approximated from the policy's JSON form (Cedar's own
 * parse, escapes resolved): every string in it, keys and values, except the name a `has` tests
 * last (presence is always in the key). An answer with an evaluation error
 * or a rejected request is never memoised (its messages name values), so errors always come from Cedar.
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
 * The type of a value as schema validation sees it: strings, whole numbers in the safe range and
 * booleans by kind; the members of a set by their kinds; a record by its fields; entity types,
 * extension values and any `type` field verbatim (validation reads them).
 */
function typeSignature(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return key === 'type' ? value : 's';
  if (typeof value === 'boolean') return 'b';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'i' : value;
  if (Array.isArray(value)) return ['[', ...[...new Set(value.map((v) => JSON.stringify(typeSignature(v))))].sort()];
  if (value === null || typeof value !== 'object') return value ?? null;
  if ('__entity' in value) return ['E', (value.__entity as Uid).type];
  if ('__extn' in value) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, typeSignature(v, k)]));
}

/**
 * The memo key of a request under a policy set's references. Two requests with equal keys get the
 * same answer from Cedar (see the module comment). The key keeps the action, the context, and for
 * every entity in order: its UID, its parents, the attributes and tags the policies name (values),
 * and the others by name and type only. The principal's and the resource's UIDs are written as
 * placeholders (`[0, type]`, `[1, type]`) unless a policy names their id or some value refers to it.
 */
export function decisionKey(request: MemoRequest, refs: PolicyReferences): string {
  const { principal, resource } = request;
  let abstractPrincipal = !refs.names.has(principal.id);
  let abstractResource = !refs.names.has(resource.id);
  if (abstractPrincipal || abstractResource) {
    const values = [request.context, ...request.entities.map((e) => [e.attrs, e.tags])];
    if (abstractPrincipal && refersTo(values, principal.id)) abstractPrincipal = false;
    if (abstractResource && refersTo(values, resource.id)) abstractResource = false;
  }
  const uid = (value: unknown): unknown => {
    const u = uidOf(value);
    if (abstractPrincipal && u.type === principal.type && u.id === principal.id) return [0, u.type];
    if (abstractResource && u.type === resource.type && u.id === resource.id) return [1, u.type];
    return [u.type, u.id];
  };
  const fields = (record: Readonly<Record<string, unknown>> | undefined, all: boolean): unknown[] => {
    const out: unknown[] = [];
    for (const [name, value] of Object.entries(record ?? {})) out.push(all || refs.names.has(name) ? [name, value] : [name, typeSignature(value)]);
    return out;
  };
  const entities = request.entities.map((e) => [uid(e.uid), (e.parents ?? []).map(uid), fields(e.attrs, false), fields(e.tags, refs.dynamicTags)]);
  return JSON.stringify([request.action, uid(principal), uid(resource), request.context, entities]);
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
