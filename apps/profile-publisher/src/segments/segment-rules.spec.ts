import { parseSegmentFile, SegmentRuleError } from './segment-rules';

const file = (segments: unknown) => JSON.stringify({ segments });
const profile = {
  features: { purchases_30d: 4, spend_30d: 120, days_since_last_purchase: null },
  preferences: { price_sensitivity: 'high', brand_loyalty: 0.8 },
  interests: { categories: [{ key: 'phones', score: 2 }] },
  segments: ['x'],
  derived: { account_age_days: 3 },
};

describe('parseSegmentFile', () => {
  it('compiles all/any/not trees and evaluates them against a profile', () => {
    const defs = parseSegmentFile(
      file([
        { name: 'buyer', rule: { all: [{ field: 'features.purchases_30d', op: '>=', value: 3 }] } },
        { name: 'rich', rule: { field: 'features.spend_30d', op: '>', value: 500 } },
        { name: 'either', rule: { any: [{ field: 'features.spend_30d', op: '>', value: 500 }, { field: 'preferences.price_sensitivity', op: 'in', value: ['high', 'medium'] }] } },
        { name: 'never_bought', rule: { field: 'features.days_since_last_purchase', op: 'missing' } },
        { name: 'not_new', rule: { not: { field: 'derived.account_age_days', op: '<', value: 7 } } },
        { name: 'phones', rule: { field: 'interests.categories', op: 'contains', value: 'phones' } },
      ]),
    );
    expect(defs.filter((d) => d.test(profile)).map((d) => d.name)).toEqual(['buyer', 'either', 'never_bought', 'phones']);
  });

  it('treats a missing field as not matching a numeric comparison', () => {
    const [d] = parseSegmentFile(file([{ name: 'a', rule: { field: 'features.nope', op: '<', value: 1 } }]));
    expect(d.test(profile)).toBe(false);
  });

  it.each([
    ['not JSON', '{', '(file)', /not valid JSON/],
    ['no segments array', '{"x":1}', '(file)', /segments/],
    ['bad name', file([{ name: 'Bad Name', rule: { field: 'features.a', op: '>', value: 1 } }]), 'Bad Name', /name must be/],
    ['duplicate', file([{ name: 'a', rule: { field: 'features.a', op: 'exists' } }, { name: 'a', rule: { field: 'features.a', op: 'exists' } }]), 'a', /duplicate/],
    ['unknown op', file([{ name: 'a', rule: { field: 'features.a', op: '=~', value: 1 } }]), 'a', /op must be one of/],
    ['numeric op with a string', file([{ name: 'a', rule: { field: 'features.a', op: '>', value: '1' } }]), 'a', /finite number/],
    ['unknown root', file([{ name: 'a', rule: { field: 'process.env', op: 'exists' } }]), 'a', /must start with one of/],
    ['code in the path', file([{ name: 'a', rule: { field: 'features.constructor()', op: 'exists' } }]), 'a', /dotted path/],
    ['unknown key', file([{ name: 'a', rule: { field: 'features.a', op: 'exists', eval: 'x' } }]), 'a', /unknown key "eval"/],
    ['empty all', file([{ name: 'a', rule: { all: [] } }]), 'a', /non-empty array/],
    ['missing rule', file([{ name: 'a' }]), 'a', /missing "rule"/],
  ])('rejects %s with the rule name and the reason', (_what, text, rule, reason) => {
    let err: unknown;
    try {
      parseSegmentFile(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentRuleError);
    expect((err as SegmentRuleError).rule).toBe(rule);
    expect((err as SegmentRuleError).reason).toMatch(reason);
  });

  it('rejects rules nested too deep', () => {
    let rule: unknown = { field: 'features.a', op: 'exists' };
    for (let i = 0; i < 12; i++) rule = { not: rule };
    expect(() => parseSegmentFile(file([{ name: 'deep', rule }]))).toThrow(/nested deeper/);
  });

  it('loads the shipped config/segments.json', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const text = require('node:fs').readFileSync(require('node:path').join(__dirname, '../../../../config/segments.json'), 'utf8') as string;
    expect(parseSegmentFile(text).map((d) => d.name)).toEqual(
      expect.arrayContaining(['high_value', 'price_sensitive', 'brand_loyal', 'churn_risk', 'new_user', 'suspected_bot']),
    );
  });
});
