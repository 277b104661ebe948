/**
 * A small, safe rule language for segments: JSON trees of `all` / `any` / `not` over comparisons
 * of profile fields with constants. Rules are validated once at load (a malformed rule is
 * rejected with its name and the reason) and compiled to closures; nothing is ever eval'd.
 *
 *   { "name": "high_value", "rule": { "all": [ { "field": "features.spend_30d", "op": ">=", "value": 500 } ] } }
 */

export type Op = '>' | '>=' | '<' | '<=' | '==' | '!=' | 'in' | 'not_in' | 'contains' | 'exists' | 'missing';

const OPS: readonly Op[] = ['>', '>=', '<', '<=', '==', '!=', 'in', 'not_in', 'contains', 'exists', 'missing'];
const NUMERIC_OPS = new Set<Op>(['>', '>=', '<', '<=']);

/** Top-level names a rule may read: the profile sections plus `derived` (see segmentContext). */
export const RULE_ROOTS = [
  'attributes',
  'features',
  'predictions',
  'interests',
  'preferences',
  'social',
  'risk',
  'segments',
  'model_version',
  'derived',
] as const;

const PATH_PART = /^[A-Za-z0-9_]{1,64}$/;
const SEGMENT_NAME = /^[a-z0-9_]{1,64}$/;
const MAX_DEPTH = 8;
const MAX_NODES = 64;

export interface SegmentDefinition {
  name: string;
  description: string;
  test: (ctx: object) => boolean;
}

export class SegmentRuleError extends Error {
  constructor(
    readonly rule: string,
    readonly reason: string,
  ) {
    super(`segment rule "${rule}": ${reason}`);
    this.name = 'SegmentRuleError';
  }
}

type Scalar = string | number | boolean | null;
type Predicate = (ctx: object) => boolean;

/** Parses a whole rule file; throws SegmentRuleError naming the first bad rule and why. */
export function parseSegmentFile(text: string): SegmentDefinition[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SegmentRuleError('(file)', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const list = isObject(doc) ? doc.segments : undefined;
  if (!Array.isArray(list)) throw new SegmentRuleError('(file)', 'expected an object with a "segments" array');
  const seen = new Set<string>();
  return list.map((entry, i) => {
    if (!isObject(entry)) throw new SegmentRuleError(`#${i}`, 'each segment must be an object');
    const name = entry.name;
    if (typeof name !== 'string' || !SEGMENT_NAME.test(name)) {
      throw new SegmentRuleError(typeof name === 'string' ? name : `#${i}`, 'name must be 1-64 characters of a-z, 0-9 or _');
    }
    if (seen.has(name)) throw new SegmentRuleError(name, 'duplicate segment name');
    seen.add(name);
    const description = entry.description === undefined ? '' : entry.description;
    if (typeof description !== 'string') throw new SegmentRuleError(name, 'description must be a string');
    if (entry.rule === undefined) throw new SegmentRuleError(name, 'missing "rule"');
    const budget = { nodes: 0 };
    const test = compile(entry.rule, name, 'rule', 0, budget);
    return { name, description, test };
  });
}

function compile(node: unknown, name: string, at: string, depth: number, budget: { nodes: number }): Predicate {
  if (depth > MAX_DEPTH) throw new SegmentRuleError(name, `${at}: nested deeper than ${MAX_DEPTH}`);
  if (++budget.nodes > MAX_NODES) throw new SegmentRuleError(name, `more than ${MAX_NODES} conditions`);
  if (!isObject(node)) throw new SegmentRuleError(name, `${at}: expected an object`);
  const keys = Object.keys(node);
  for (const combinator of ['all', 'any'] as const) {
    if (combinator in node) {
      if (keys.length !== 1) throw new SegmentRuleError(name, `${at}: "${combinator}" must be the only key`);
      const children = node[combinator];
      if (!Array.isArray(children) || children.length === 0) {
        throw new SegmentRuleError(name, `${at}.${combinator}: expected a non-empty array`);
      }
      const preds = children.map((c, i) => compile(c, name, `${at}.${combinator}[${i}]`, depth + 1, budget));
      // Loops, not every/some with an arrow: no closure per evaluation (rules run for every input).
      return combinator === 'all'
        ? (ctx) => {
            for (const p of preds) if (!p(ctx)) return false;
            return true;
          }
        : (ctx) => {
            for (const p of preds) if (p(ctx)) return true;
            return false;
          };
    }
  }
  if ('not' in node) {
    if (keys.length !== 1) throw new SegmentRuleError(name, `${at}: "not" must be the only key`);
    const inner = compile(node.not, name, `${at}.not`, depth + 1, budget);
    return (ctx) => !inner(ctx);
  }
  return compileCondition(node, name, at);
}

function compileCondition(node: Record<string, unknown>, name: string, at: string): Predicate {
  const extra = Object.keys(node).filter((k) => k !== 'field' && k !== 'op' && k !== 'value');
  if (extra.length > 0) throw new SegmentRuleError(name, `${at}: unknown key "${extra[0]}" (expected all/any/not or field/op/value)`);
  const { field, op, value } = node;
  if (typeof field !== 'string') throw new SegmentRuleError(name, `${at}: "field" must be a string path such as features.purchases_30d`);
  const path = field.split('.');
  if (!path.every((p) => PATH_PART.test(p))) throw new SegmentRuleError(name, `${at}: field "${field}" is not a dotted path of [A-Za-z0-9_]`);
  if (!(RULE_ROOTS as readonly string[]).includes(path[0])) {
    throw new SegmentRuleError(name, `${at}: field "${field}" must start with one of ${RULE_ROOTS.join(', ')}`);
  }
  if (typeof op !== 'string' || !OPS.includes(op as Op)) {
    throw new SegmentRuleError(name, `${at}: op must be one of ${OPS.join(' ')}`);
  }
  const o = op as Op;
  const get = (ctx: object) => readPath(ctx, path);
  if (o === 'exists' || o === 'missing') {
    if (value !== undefined) throw new SegmentRuleError(name, `${at}: op "${o}" takes no value`);
    return o === 'exists' ? (ctx) => get(ctx) != null : (ctx) => get(ctx) == null;
  }
  if (NUMERIC_OPS.has(o)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new SegmentRuleError(name, `${at}: op "${o}" needs a finite number value`);
    return (ctx) => {
      const v = get(ctx);
      if (typeof v !== 'number') return false;
      return o === '>' ? v > value : o === '>=' ? v >= value : o === '<' ? v < value : v <= value;
    };
  }
  if (o === 'in' || o === 'not_in') {
    if (!Array.isArray(value) || !value.every(isScalar)) throw new SegmentRuleError(name, `${at}: op "${o}" needs an array of scalars`);
    const set = new Set<unknown>(value);
    return o === 'in' ? (ctx) => set.has(get(ctx)) : (ctx) => !set.has(get(ctx));
  }
  if (!isScalar(value)) throw new SegmentRuleError(name, `${at}: op "${o}" needs a scalar value (string, number, boolean or null)`);
  if (o === 'contains') {
    return (ctx) => {
      const v = get(ctx);
      if (Array.isArray(v)) return v.some((x) => x === value || (isObject(x) && (x.key === value || x.category === value)));
      return typeof v === 'string' && typeof value === 'string' && v.includes(value);
    };
  }
  return o === '==' ? (ctx) => (get(ctx) ?? null) === value : (ctx) => (get(ctx) ?? null) !== value;
}

function readPath(ctx: object, path: readonly string[]): unknown {
  let cur: unknown = ctx;
  for (const p of path) {
    if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}
