import { exampleProfileUpdated, Features, ProfileUpdated } from '@app/contracts';
import { ChangeThresholds, DEFAULT_THRESHOLDS, FEATURE_FIELDS, IGNORED_FEATURES, materialChanges, RATE_FEATURES } from './change-detector';

const base = (): ProfileUpdated => {
  const p = exampleProfileUpdated();
  return { ...p, segments: ['a'], risk: { score: 0.1, reasons: [] }, features: { ...p.features, views_30d: 50, purchases_30d: 0 } };
};

describe('materialChanges', () => {
  it('publishes a new user', () => {
    expect(materialChanges(undefined, base(), DEFAULT_THRESHOLDS)).toEqual(['new_profile']);
  });

  it('suppresses an identical profile and a small relative count change', () => {
    const prev = base();
    expect(materialChanges(prev, base(), DEFAULT_THRESHOLDS)).toEqual([]);
    const next = base();
    next.features = { ...next.features, views_30d: 52 };
    expect(materialChanges(prev, next, DEFAULT_THRESHOLDS)).toEqual([]);
  });

  it('publishes a large relative count change, including the second view of a new user', () => {
    const prev = base();
    const next = base();
    next.features = { ...next.features, views_30d: 56 };
    expect(materialChanges(prev, next, DEFAULT_THRESHOLDS)).toEqual(['features.views_30d']);
    prev.features = { ...prev.features, views_30d: 1 };
    next.features = { ...next.features, views_30d: 2 };
    expect(materialChanges(prev, next, DEFAULT_THRESHOLDS)).toContain('features.views_30d');
  });

  it('publishes segment changes, attribute value changes, risk band changes and the first model', () => {
    const prev = base();
    const seg = { ...base(), segments: ['a', 'b'] };
    expect(materialChanges(prev, seg, DEFAULT_THRESHOLDS)).toEqual(['segments']);
    const name = Object.keys(prev.attributes)[0];
    const attr = { ...base(), attributes: { ...prev.attributes, [name]: { ...prev.attributes[name], value: 'other' } } };
    expect(materialChanges(prev, attr, DEFAULT_THRESHOLDS)).toEqual([`attributes.${name}`]);
    const risk = { ...base(), risk: { score: 0.35, reasons: ['x'] } };
    expect(materialChanges(prev, risk, DEFAULT_THRESHOLDS)).toEqual(['risk.band']);
    const noModel = { ...base(), model_version: null };
    expect(materialChanges(noModel, base(), DEFAULT_THRESHOLDS)).toContain('model_version');
  });

  it('honours configured thresholds', () => {
    const prev = base();
    const next = base();
    next.features = { ...next.features, views_30d: 52 };
    expect(materialChanges(prev, next, { ...DEFAULT_THRESHOLDS, minCountChange: 0.01 })).toEqual(['features.views_30d']);
    const risk = { ...base(), risk: { score: 0.2, reasons: [] } };
    expect(materialChanges(prev, risk, DEFAULT_THRESHOLDS)).toEqual(['risk.score']);
    expect(materialChanges(prev, risk, { ...DEFAULT_THRESHOLDS, minScoreDelta: 0.2 })).toEqual([]);
  });

  it('publishes a stale profile even without a material change', () => {
    const prev = base();
    const next = { ...base(), as_of: prev.as_of + 2 * 3_600_000 };
    expect(materialChanges(prev, next, DEFAULT_THRESHOLDS)).toEqual(['stale']);
  });
});

/** The rule for one feature, as the loop before the generated code had it (the reference). */
function compareFeature(k: string, a: unknown, b: unknown, t: ChangeThresholds, why: string[]): void {
  if (IGNORED_FEATURES.has(k as keyof Features)) return;
  if (typeof a !== 'number' || typeof b !== 'number') {
    if ((a === null) !== (b === null)) why.push(`features.${k}`);
    return;
  }
  if (RATE_FEATURES.has(k as keyof Features) ? Math.abs(b - a) >= t.minScoreDelta : a !== b && Math.abs(b - a) / Math.max(Math.abs(a), 1) >= t.minCountChange) why.push(`features.${k}`);
}

describe('the generated features comparison', () => {
  it('covers every field of the Features record', () => {
    expect([...FEATURE_FIELDS].sort()).toEqual(Object.keys(exampleProfileUpdated().features).sort());
  });

  it('gives what compareFeature gives field by field, in schema order, on random changes', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let trial = 0; trial < 500; trial++) {
      const prev = base();
      const next = base();
      const a = prev.features as unknown as Record<string, unknown>;
      const b = next.features as unknown as Record<string, unknown>;
      for (const k of FEATURE_FIELDS) {
        if (typeof a[k] !== 'number' && a[k] !== null) continue;
        const r = rnd();
        // unchanged, nudged, moved a lot, to or from null
        b[k] = r < 0.4 ? a[k] : r < 0.6 ? Number(a[k] ?? 0) * (1 + (rnd() - 0.5) * 0.3) : r < 0.8 ? Number(a[k] ?? 0) + rnd() * 20 : rnd() < 0.5 ? null : rnd();
        if (rnd() < 0.1) a[k] = null;
      }
      const expected: string[] = [];
      for (const k of FEATURE_FIELDS) compareFeature(k, a[k], b[k], DEFAULT_THRESHOLDS, expected);
      const got = materialChanges(prev, next, DEFAULT_THRESHOLDS).filter((w) => w.startsWith('features.'));
      const ownCheck = (prev.features.days_since_last_purchase === null) !== (next.features.days_since_last_purchase === null) ? ['features.days_since_last_purchase'] : [];
      expect(got).toEqual([...expected, ...ownCheck]);
    }
  });
});
