/**
 * Loading CedarPolicy documents: each one's `spec.policies` text is split into its policies, each
 * policy gets its Lattice id (`<CedarPolicy name>/<@id annotation or 0-based position>`), and the
 * whole text is validated against the Lattice schema in strict mode (Cedar's validator). Every error
 * is reported with Cedar's own message, line and column. A policy with an error is left out and the
 * other policies of its CedarPolicy are used; a CedarPolicy whose text cannot be split into policies
 * (a syntax error, a template) is left out as a whole. What a left-out forbid could have forbidden is
 * refused by the authorization gate (fail closed).
 */
import type { CedarPolicy } from '../api/cedarpolicy/v1alpha1.ts';
import {
  byteOffsetToIndex,
  describeCedarError,
  errorStart,
  policyInfo,
  positionOf,
  splitPolicyText,
  validateStrict,
  type DetailedError,
  type TextPosition,
} from './cedar.ts';

/**
 * One CedarPolicy to load, with where it came from. `locateText` maps a character index in
 * `spec.policies` to its line and column in the input file (see {@link policyTextLocator}); without
 * it, positions are given relative to the policies text only.
 */
export interface PolicySource {
  policy: CedarPolicy;
  /** Path of the file the document came from, for messages. */
  file?: string;
  /** Maps a 0-based character index in `spec.policies` to a 1-based position in the file. */
  locateText?: (index: number) => TextPosition;
}

/** Something wrong (error) or doubtful (warning) with a CedarPolicy. Errors keep it from being used. */
export interface PolicyProblem {
  severity: 'error' | 'warning';
  /** metadata.name of the CedarPolicy. */
  cedarPolicy: string;
  /** Id of the policy concerned, when the problem is in one policy. */
  policyId?: string;
  /** Cedar's message (with its hint), or Lattice's for problems Cedar does not check. */
  message: string;
  /** 1-based line and column in `spec.policies`, when the problem has a position. */
  position?: TextPosition;
  /** The same position in the input file, when the source has `locateText`. */
  location?: { file?: string; line: number; column: number };
}

/** One policy of a CedarPolicy, ready to be put in the engine's policy set. */
export interface LoadedPolicy {
  /** `<CedarPolicy name>/<@id or index>`. */
  id: string;
  cedarPolicy: string;
  /** 0-based position of the policy in `spec.policies`. */
  index: number;
  effect: 'permit' | 'forbid';
  /** The policy's exact source text. */
  text: string;
  /** Character index of the policy in `spec.policies`, when found. */
  offset?: number;
  /** Actions its action scope names; undefined when the scope is unconstrained (`action`). */
  actions?: string[];
  /** What it can read: every string of its JSON form, and whether it reads tags by computed keys (src/policy/memo.ts). */
  references: { names: string[]; dynamicTags: boolean };
}

/**
 * A policy left out because of an error in it. Its effect and action scope parsed (Cedar's parser
 * read them), so what it could have decided is known: a rejected `forbid` keeps every request of
 * its actions (all actions when `actions` is undefined) from being allowed, a rejected `permit`
 * permits nothing (default deny covers it). See src/compiler/workload/authorization.ts.
 */
export interface RejectedPolicy {
  id: string;
  effect: 'permit' | 'forbid';
  /** Actions of its scope; undefined when unconstrained. */
  actions?: string[];
  /** Its first error. */
  message: string;
  position?: TextPosition;
  location?: { file?: string; line: number; column: number };
}

/** The result of loading one CedarPolicy. */
export interface CedarPolicyValidation {
  /** metadata.name. */
  name: string;
  enabled: boolean;
  /** spec.owner, when set. */
  owner?: string;
  /** True when no problem of severity error was found. */
  valid: boolean;
  /**
   * False when an error concerns the CedarPolicy as a whole (its text does not parse, a template,
   * a duplicate name, a policy that cannot be told apart): then none of its policies is used. True
   * otherwise, even with errors in single policies: those are left out (see `rejectedPolicies`) and
   * the others are used.
   */
  usable: boolean;
  /** The policies in use, in source order: every policy without an error (none when not usable). */
  policies: LoadedPolicy[];
  /** Policies left out because of an error in them (only when usable), with what they could decide. */
  rejectedPolicies: RejectedPolicy[];
  problems: PolicyProblem[];
  /** The source, for mapping positions of evaluation errors later. */
  source: PolicySource;
}

/**
 * Validates every CedarPolicy (enabled or not) against the Lattice schema in strict mode. Returns one
 * result per source, in order. A second CedarPolicy with an already used name is an error (policy ids
 * would collide). All policies are validated in one Cedar call. Used by `lattice authz validate` and
 * by {@link PolicyEngine}. Never throws for bad policies: every problem is in the results.
 */
export function validateCedarPolicies(sources: readonly PolicySource[]): CedarPolicyValidation[] {
  const seen = new Set<string>();
  const prepared = sources.map((source) => {
    const p = prepare(source);
    if (seen.has(p.result.name)) {
      p.result.problems.unshift({
        severity: 'error',
        cedarPolicy: p.result.name,
        message: `another CedarPolicy is already named ${p.result.name}; policy ids start with the CedarPolicy name, so names must be unique: rename one of them`,
      });
      p.result.valid = false;
    }
    seen.add(p.result.name);
    return p;
  });
  // Cedar's validator checks each policy on its own, so one call for all of them gives the same
  // errors as one call per CedarPolicy. Keys are internal (`<source>#<index>`): ids may collide in
  // an invalid input.
  const batch: Record<string, string> = {};
  const owners = new Map<string, { p: Prepared; policy: LoadedPolicy }>();
  prepared.forEach((p, s) => {
    if (!p.parsed) return;
    for (const policy of p.result.policies) {
      const key = `${s}#${policy.index}`;
      batch[key] = policy.text;
      owners.set(key, { p, policy });
    }
  });
  if (Object.keys(batch).length > 0) {
    const answer = validateStrict(batch);
    if (answer.type === 'failure') {
      // Not expected: every policy parsed alone. Report it on each CedarPolicy rather than guess.
      for (const p of prepared) {
        if (!p.parsed || p.result.policies.length === 0) continue;
        for (const e of answer.errors) p.problem('error', describeCedarError(e));
      }
    } else {
      for (const [severity, list] of [
        ['error', answer.validationErrors],
        ['warning', answer.validationWarnings],
      ] as const) {
        for (const v of list) {
          const owner = owners.get(v.policyId);
          if (!owner) continue;
          const start = errorStart(v.error);
          const index = start === undefined || owner.policy.offset === undefined ? undefined : owner.policy.offset + byteOffsetToIndex(owner.policy.text, start);
          const message = describeCedarError(v.error).replaceAll(`\`${v.policyId}\``, `\`${owner.policy.id}\``);
          owner.p.problem(severity, message, index, owner.policy.id);
        }
      }
      for (const w of answer.otherWarnings) {
        const m = /`(\d+#\d+)`/.exec(w.message);
        const owner = m ? owners.get(m[1] ?? '') : undefined;
        if (owner) owner.p.problem('warning', describeCedarError(w).replaceAll(`\`${m?.[1]}\``, `\`${owner.policy.id}\``), undefined, owner.policy.id);
      }
    }
  }
  return prepared.map(({ result }) => {
    // AccessSecret applies to Secret and to its alias SecretPath (same attributes): Cedar reports a
    // problem once per type; the SecretPath copy says nothing new.
    result.problems = result.problems.filter((p) => {
      const twin = p.message.replaceAll('`Lattice::SecretPath`', '`Lattice::Secret`');
      return twin === p.message || !result.problems.some((q) => q !== p && q.policyId === p.policyId && q.message === twin);
    });
    // Errors tied to one policy leave that policy out; any other error leaves the whole object out.
    const errors = result.problems.filter((p) => p.severity === 'error');
    const bad = new Map<string, PolicyProblem>();
    for (const e of errors) if (e.policyId !== undefined && !bad.has(e.policyId)) bad.set(e.policyId, e);
    result.usable = errors.every((e) => e.policyId !== undefined && result.policies.some((p) => p.id === e.policyId));
    if (!result.usable) {
      result.policies = [];
    } else {
      for (const p of result.policies) {
        const e = bad.get(p.id);
        if (!e) continue;
        const r: RejectedPolicy = { id: p.id, effect: p.effect, message: e.message };
        if (p.actions !== undefined) r.actions = p.actions;
        if (e.position) r.position = e.position;
        if (e.location) r.location = e.location;
        result.rejectedPolicies.push(r);
      }
      result.policies = result.policies.filter((p) => !bad.has(p.id));
    }
    // Problems without a position (about the whole CedarPolicy) first, then in text order.
    const key = (p: PolicyProblem): number => (p.position ? p.position.line * 1e6 + p.position.column : -1);
    result.problems.sort((a, b) => key(a) - key(b));
    return result;
  });
}

/** Loads and validates one CedarPolicy (see {@link validateCedarPolicies}). */
export function loadCedarPolicy(source: PolicySource): CedarPolicyValidation {
  return validateCedarPolicies([source])[0] as CedarPolicyValidation;
}

/** A CedarPolicy split into its policies, before schema validation. */
interface Prepared {
  result: CedarPolicyValidation;
  /** False when the text did not parse (no policies to validate). */
  parsed: boolean;
  problem(severity: PolicyProblem['severity'], message: string, index?: number, policyId?: string): void;
}

/** Splits a CedarPolicy's text into policies and gives each its id; reports syntax problems. */
function prepare(source: PolicySource): Prepared {
  const { policy } = source;
  const name = policy.metadata.name;
  const text = policy.spec.policies;
  const result: CedarPolicyValidation = { name, enabled: policy.spec.enabled, valid: true, usable: true, policies: [], rejectedPolicies: [], problems: [], source };
  if (policy.spec.owner !== undefined) result.owner = policy.spec.owner;
  const problem = (severity: PolicyProblem['severity'], message: string, index?: number, policyId?: string): void => {
    const p: PolicyProblem = { severity, cedarPolicy: name, message };
    if (policyId !== undefined) p.policyId = policyId;
    if (index !== undefined) Object.assign(p, positions(source, index));
    result.problems.push(p);
    if (severity === 'error') result.valid = false;
  };
  const prepared: Prepared = { result, parsed: false, problem };
  const cedarProblems = (errors: readonly DetailedError[], base: number): void => {
    for (const error of errors) {
      for (const e of [error, ...(error.related ?? [])]) {
        const start = errorStart(e);
        problem('error', describeCedarError(e), start === undefined ? undefined : base + byteOffsetToIndex(text.slice(base), start));
      }
    }
  };

  const split = splitPolicyText(text);
  if (!split.ok) {
    cedarProblems(split.errors, 0);
    return prepared;
  }
  const comments = commentRanges(text);
  for (const template of split.templates) {
    problem(
      'error',
      'this policy is a template (it has a ?principal or ?resource slot); a CedarPolicy holds only static policies: name the entity, or test it in a when clause, instead of the slot',
      findCode(text, template, 0, comments),
    );
  }
  if (split.templates.length > 0) return prepared;

  const texts = inSourceOrder(split.policies);
  const ids = new Set<string>();
  let from = 0;
  texts.forEach((policyText, index) => {
    const at = findCode(text, policyText, from, comments);
    if (at !== undefined) from = at + policyText.length;
    const parsed = policyInfo(policyText);
    if (!parsed.ok) {
      cedarProblems(parsed.errors, at ?? 0);
      return;
    }
    const annotated = parsed.info.annotations.id;
    const id = `${name}/${annotated !== undefined && annotated.trim() !== '' ? annotated : String(index)}`;
    if (annotated !== undefined && annotated.trim() === '') {
      problem('error', 'the @id annotation is empty: give the policy a name, e.g. @id("team-secrets"), or remove the annotation to use its position', at, id);
    }
    if (ids.has(id)) problem('error', `two policies have the id ${id}: give each policy a distinct @id`, at, id);
    ids.add(id);
    const loaded: LoadedPolicy = { id, cedarPolicy: name, index, effect: parsed.info.effect, text: policyText, references: parsed.info.references };
    if (at !== undefined) loaded.offset = at;
    if (parsed.info.actions !== undefined) loaded.actions = parsed.info.actions;
    result.policies.push(loaded);
  });
  if (texts.length === 0) {
    problem('warning', 'spec.policies contains no policy (only comments or blanks): this CedarPolicy permits and forbids nothing');
  }
  prepared.parsed = true;
  return prepared;
}

/** Position fields of a problem at character `index` of the policies text. */
function positions(source: PolicySource, index: number): Pick<PolicyProblem, 'position' | 'location'> {
  const out: Pick<PolicyProblem, 'position' | 'location'> = { position: positionOf(source.policy.spec.policies, index) };
  if (source.locateText) {
    const at = source.locateText(index);
    out.location = source.file === undefined ? { line: at.line, column: at.column } : { file: source.file, line: at.line, column: at.column };
  }
  return out;
}

/**
 * Cedar names the policies of a text `policy0`, `policy1`, ... in source order, and
 * `policySetTextToParts` returns them sorted by that id as a string (policy0, policy1, policy10,
 * policy11, policy2, ...). This undoes the sort.
 */
function inSourceOrder(parts: readonly string[]): string[] {
  const sortedIds = parts.map((_, i) => `policy${i}`).sort();
  const ordered: string[] = new Array<string>(parts.length);
  sortedIds.forEach((id, j) => {
    ordered[Number(id.slice('policy'.length))] = parts[j] ?? '';
  });
  return ordered;
}

/** Character ranges `[start, end)` of `//` comments (Cedar's only comment form), skipping string literals. */
function commentRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      ranges.push([i, stop]);
      i = stop;
    }
  }
  return ranges;
}

/** First occurrence of `needle` at or after `from` that does not start inside a comment. */
function findCode(text: string, needle: string, from: number, comments: ReadonlyArray<[number, number]>): number | undefined {
  let at = text.indexOf(needle, from);
  while (at !== -1) {
    const pos = at;
    if (!comments.some(([s, e]) => pos >= s && pos < e)) return at;
    at = text.indexOf(needle, at + 1);
  }
  return undefined;
}


/**
 * One line for a terminal: `FILE:LINE:COL: error: CedarPolicy NAME, policy ID: MESSAGE`. Uses the
 * file position when known, else the position in spec.policies (`spec.policies:LINE:COL`).
 */
export function formatPolicyProblem(problem: PolicyProblem): string {
  let where = '';
  if (problem.location) {
    where = `${problem.location.file ?? `CedarPolicy ${problem.cedarPolicy}`}:${problem.location.line}:${problem.location.column}: `;
  } else if (problem.position) {
    where = `spec.policies:${problem.position.line}:${problem.position.column}: `;
  }
  const what = problem.policyId === undefined ? `CedarPolicy ${problem.cedarPolicy}` : `CedarPolicy ${problem.cedarPolicy}, policy ${problem.policyId}`;
  return `${where}${problem.severity}: ${what}: ${problem.message}`;
}
