import { exampleProfileUpdated, ProfileUpdated } from '@app/contracts';
import { DEFAULT_THRESHOLDS, materialChanges } from './change-detector';

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
