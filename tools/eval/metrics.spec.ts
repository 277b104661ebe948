import { accuracy, macroF1, majorityClass, percentile, scoreAttribute, seededHoldout } from './metrics';

describe('evaluation metrics', () => {
  it('computes accuracy and macro-F1', () => {
    const truth = ['a', 'a', 'b', 'c'];
    const pred = ['a', 'b', 'b', null];
    expect(accuracy(truth, pred)).toBe(0.5);
    // a: tp1 fp0 fn1 → 2/3; b: tp1 fp1 fn0 → 2/3; c: 0
    expect(macroF1(truth, pred, ['a', 'b', 'c'])).toBeCloseTo((2 / 3 + 2 / 3 + 0) / 3, 10);
  });

  it('scores the majority baseline from the training labels', () => {
    const s = scoreAttribute(['a', 'b', 'b'], ['b', 'b', 'b'], ['b', 'b', 'a']);
    expect(s.majority_class).toBe('b');
    expect(s.majority_accuracy).toBeCloseTo(2 / 3);
    expect(s.accuracy).toBeCloseTo(2 / 3);
    expect(s.classes).toEqual(['a', 'b']);
    expect(majorityClass([])).toBeNull();
  });

  it('picks a seeded, order-independent hold-out of the requested size', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `u${i}`);
    const a = seededHoldout(ids, 0.3, 7);
    const b = seededHoldout([...ids].reverse(), 0.3, 7);
    expect(a.size).toBe(30);
    expect([...a].sort()).toEqual([...b].sort());
    expect([...seededHoldout(ids, 0.3, 8)].sort()).not.toEqual([...a].sort());
  });

  it('computes percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 100)).toBe(5);
    expect(percentile([], 50)).toBeNull();
  });
});
