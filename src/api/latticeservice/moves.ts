/**
 * Path moves: the one declared table that makes `lattice.dev/v1beta1` out of `lattice.dev/v1alpha1`.
 *
 * A {@link PathMove} says "the field at `from` in v1alpha1 is at `to` in v1beta1". The same table is
 * read three ways, so the versions cannot drift apart:
 *
 * - {@link moveSchema} builds the v1beta1 zod schema from v1alpha1's pieces (everything not moved is
 *   the very same zod node, so a field another change adds to v1alpha1 is in v1beta1 at once);
 * - {@link moveData} converts an object's `spec` either way (everything not moved passes through);
 * - {@link movePath} maps a field path either way (validation issues, `lattice explain`).
 *
 * Paths are relative to `spec`; `*` stands for every key of a map (the container names). Three
 * shapes of move exist: a plain move (`workload.hostNetwork` to `hostNetwork`), a *collapse*, where
 * `to` is a proper prefix of `from` (`capabilities.add` to `capabilities`: the holder object is
 * replaced by the value), and its inverse, an *expand*. A wildcard must stand at the same position in
 * `from` and `to` (a move never carries a field from one container to another).
 */
import { z } from 'zod';

/** One declared difference between v1alpha1 (`from`) and v1beta1 (`to`), paths relative to `spec`. */
export interface PathMove {
  from: readonly string[];
  to: readonly string[];
  /** Why v1beta1 differs: the lesson, in one sentence (shown in docs/versioning.md and the tests). */
  reason: string;
  /**
   * v1alpha1 already accepts `to` too, as an alias of `from` (it took the reference's place beside
   * its own and requires the two to agree); v1beta1 keeps only `to`. Forward, a document with both
   * set drops `from`; the v1beta1 schema keeps v1alpha1's existing `to` field.
   */
  alias?: boolean;
}

/** Direction of a conversion: `forward` is v1alpha1 to v1beta1, `backward` the reverse. */
export type Direction = 'forward' | 'backward';

type Raw = Record<string, unknown>;

function isObject(x: unknown): x is Raw {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The moves of `direction`, in the order to apply them (backward: swapped and reversed). */
function oriented(moves: readonly PathMove[], direction: Direction): { from: readonly string[]; to: readonly string[]; alias: boolean }[] {
  return direction === 'forward'
    ? moves.map((m) => ({ from: m.from, to: m.to, alias: m.alias === true }))
    : [...moves].reverse().map((m) => ({ from: m.to, to: m.from, alias: false }));
}

/** Index of the last `*` in `path`, -1 when none. Throws when `from` and `to` disagree up to it. */
function wildcardPrefix(from: readonly string[], to: readonly string[]): number {
  const k = Math.max(from.lastIndexOf('*'), to.lastIndexOf('*'));
  for (let i = 0; i <= k; i++) {
    if (from[i] !== to[i]) throw new Error(`path move ${from.join('.')} -> ${to.join('.')}: both paths must agree up to their last "*"`);
  }
  return k;
}

const isPrefix = (a: readonly string[], b: readonly string[]): boolean => a.length < b.length && a.every((s, i) => b[i] === s);

/** Every concrete object reached by `pattern` (with `*` over own keys) from `root`. */
function reach(root: unknown, pattern: readonly string[]): Raw[] {
  let level: unknown[] = [root];
  for (const seg of pattern) {
    const next: unknown[] = [];
    for (const node of level) {
      if (!isObject(node)) continue;
      if (seg === '*') for (const key of Object.keys(node)) next.push(node[key]);
      else if (Object.hasOwn(node, seg)) next.push(node[seg]);
    }
    level = next;
  }
  return level.filter(isObject);
}

function getAt(node: Raw, path: readonly string[]): unknown {
  let cur: unknown = node;
  for (const seg of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** Sets `path` in `node`, creating plain objects on the way; false when a non-object is in the way. */
function setAt(node: Raw, path: readonly string[], value: unknown): boolean {
  let cur = node;
  for (const seg of path.slice(0, -1)) {
    if (!Object.hasOwn(cur, seg)) cur[seg] = {};
    const next = cur[seg];
    if (!isObject(next)) return false;
    cur = next;
  }
  cur[path[path.length - 1]!] = value;
  return true;
}

/** Deletes `path` from `node`, then every object on it left empty by that, down to (not including) depth `keep`. */
function deleteAt(node: Raw, path: readonly string[], keep: number): void {
  const chain: Raw[] = [node];
  for (const seg of path.slice(0, -1)) {
    const next = chain[chain.length - 1]![seg];
    if (!isObject(next)) return;
    chain.push(next);
  }
  delete chain[chain.length - 1]![path[path.length - 1]!];
  for (let i = chain.length - 1; i > keep && i > 0; i--) {
    if (Object.keys(chain[i]!).length > 0) break;
    delete chain[i - 1]![path[i - 1]!];
  }
}

/**
 * Applies the moves to `spec` in place, in `direction`. A value is only moved into an empty place:
 * when the destination is taken (an object no version allows), both stay, and the caller's round-trip
 * check (src/api/latticeservice/conversion.ts) carries what the target version cannot hold.
 */
export function moveData(spec: unknown, moves: readonly PathMove[], direction: Direction): void {
  if (!isObject(spec)) return;
  for (const { from, to, alias } of oriented(moves, direction)) {
    const k = wildcardPrefix(from, to);
    const relFrom = from.slice(k + 1);
    const relTo = to.slice(k + 1);
    for (const base of reach(spec, from.slice(0, k + 1))) {
      const value = getAt(base, relFrom);
      if (isPrefix(relTo, relFrom)) {
        // Collapse: the holder at `to` gives way to the value; a holder with nothing to move goes.
        const holder = getAt(base, relTo);
        if (!isObject(holder)) continue;
        if (value !== undefined) setAt(base, relTo, value);
        else deleteAt(base, relTo, relTo.length - 1);
      } else if (isPrefix(relFrom, relTo)) {
        // Expand: the value goes one level down into a new holder.
        if (value === undefined) continue;
        deleteAt(base, relFrom, relFrom.length - 1);
        setAt(base, relTo, value);
      } else {
        if (value === undefined) continue;
        let common = 0;
        while (common < relFrom.length && relFrom[common] === relTo[common]) common++;
        if (getAt(base, relTo) !== undefined) {
          // Both places set: for an alias (which the older version requires to agree) the newer keeps `to`.
          if (alias) deleteAt(base, relFrom, common);
          continue;
        }
        common = 0;
        while (common < relFrom.length && relFrom[common] === relTo[common]) common++;
        deleteAt(base, relFrom, common);
        setAt(base, relTo, value);
      }
    }
  }
}

/** Maps a field path relative to `spec` (numbers are list indexes) through the moves in `direction`. */
export function movePath(path: readonly (string | number)[], moves: readonly PathMove[], direction: Direction): (string | number)[] {
  let out = [...path];
  for (const { from, to } of oriented(moves, direction)) {
    if (out.length < from.length) continue;
    const bound: (string | number)[] = [];
    const matched = from.every((seg, i) => {
      const actual = out[i];
      if (seg === '*') {
        if (typeof actual !== 'string') return false;
        bound.push(actual);
        return true;
      }
      return actual === seg;
    });
    if (!matched) continue;
    let w = 0;
    out = [...to.map((seg) => (seg === '*' ? bound[w++]! : seg)), ...out.slice(from.length)];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

type AnySchema = z.ZodType;

/** A copy of `schema` with `def` changes, keeping its registered metadata (the description). */
function cloneWith(schema: AnySchema, changes: Record<string, unknown>): AnySchema {
  const copy = schema.clone({ ...schema._zod.def, ...changes } as typeof schema._zod.def);
  const meta = z.globalRegistry.get(schema);
  if (meta !== undefined) z.globalRegistry.add(copy, meta);
  return copy;
}

/**
 * Rebuilds `schema` along `path` (through optional, default, pipe, object and record nodes; `*`
 * enters a record's values), replacing the node at the end by `edit(node)`. Rebuilt objects and
 * records lose their refinements: their data changed shape, so a check written for v1alpha1's shape
 * could read the wrong fields. Those checks still run: a v1beta1 document is also validated as the
 * v1alpha1 object it converts to, with the issues' paths moved back (src/api/latticeservice/index.ts).
 */
function rebuild(schema: AnySchema, path: readonly string[], edit: (node: AnySchema) => AnySchema): AnySchema {
  if (path.length === 0) return edit(schema);
  const def = schema._zod.def as unknown as Raw & { type: string };
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
      return cloneWith(schema, { innerType: rebuild(def.innerType as AnySchema, path, edit) });
    case 'pipe':
      return cloneWith(schema, { out: rebuild(def.out as AnySchema, path, edit) });
    case 'record': {
      if (path[0] !== '*') throw new Error(`schema move: "${path[0]}" is a map key; write "*"`);
      return cloneWith(schema, { valueType: rebuild(def.valueType as AnySchema, path.slice(1), edit), checks: [] });
    }
    case 'object': {
      const shape = def.shape as Record<string, AnySchema>;
      const [seg, ...rest] = path as [string, ...string[]];
      if (rest.length === 0) {
        const next = { ...shape };
        const replaced = edit(shape[seg] as AnySchema);
        if (replaced === REMOVED) delete next[seg];
        else next[seg] = replaced;
        return cloneWith(schema, { shape: next, checks: [] });
      }
      if (!Object.hasOwn(shape, seg)) throw new Error(`schema move: no field "${seg}"`);
      return cloneWith(schema, { shape: { ...shape, [seg]: rebuild(shape[seg]!, rest, edit) }, checks: [] });
    }
    case 'union': {
      // A field accepted in several shapes (a list, or an object holding it): enter the object option
      // that has the next field.
      const options = def.options as AnySchema[];
      const i = options.findIndex((o) => hasField(o, path[0]!));
      if (i < 0) throw new Error(`schema move: no option of the union has "${path[0]}"`);
      return cloneWith(schema, { options: options.map((o, j) => (j === i ? rebuild(o, path, edit) : o)) });
    }
    default:
      throw new Error(`schema move: cannot enter a ${def.type} schema at "${path.join('.')}"`);
  }
}

const REMOVED = z.never();

/** True when `schema` (through optional, default and pipe wrappers) is an object with field `name`. */
function hasField(schema: AnySchema, name: string): boolean {
  const def = schema._zod.def as unknown as Raw & { type: string };
  if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') return hasField(def.innerType as AnySchema, name);
  if (def.type === 'pipe') return hasField(def.out as AnySchema, name);
  return def.type === 'object' && Object.hasOwn(def.shape as Raw, name);
}

/** The schema node at `path` (see {@link rebuild} for how paths enter wrappers and maps). */
export function schemaAt(schema: AnySchema, path: readonly string[]): AnySchema {
  let found: AnySchema | undefined;
  rebuild(schema, path, (node) => (found = node));
  if (found === undefined) throw new Error(`schema move: no field at ${path.join('.')}`);
  return found;
}

/** `schema` (a v1alpha1 spec) with one move applied: the field at `from` now at `to`. */
export function moveSchema(schema: AnySchema, move: PathMove): AnySchema {
  const field = schemaAt(schema, move.from);
  if (isPrefix(move.to, move.from)) return rebuild(schema, move.to, () => field);
  const without = rebuild(schema, move.from, () => REMOVED);
  return rebuild(without, move.to, (existing) => {
    if (existing !== undefined) {
      if (move.alias) return existing; // the older version's own alias: the newer keeps it alone
      throw new Error(`schema move: ${move.to.join('.')} already exists`);
    }
    return field;
  });
}
