import { decide, fitDecisionBias, macroF1, ScoredSample } from './decision-bias';

/** A seeded stream of a skewed binary label whose probabilities carry a weak signal. */
function skewed(n: number, seed = 7): ScoredSample[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: ScoredSample[] = [];
  for (let i = 0; i < n; i++) {
    const truth = rand() < 0.1 ? 1 : 0;
    // Calibrated-ish: the minority class never reaches p > 0.5, but it scores higher on average.
    const p1 = Math.min(0.45, (truth === 1 ? 0.18 : 0.08) + rand() * 0.12);
    out.push({ truth, probs: [1 - p1, p1] });
  }
  return out;
}

describe('decision bias', () => {
  it('plain argmax without offsets', () => {
    expect(decide([0.2, 0.5, 0.3], [])).toBe(1);
    expect(decide([0.2, 0.5, 0.3], [0, 0, 0.6])).toBe(2);
  });

  it('finds offsets that beat the majority answer on a skewed label, and the majority baseline', () => {
    const samples = skewed(2000);
    const plain = macroF1(samples, 2, []);
    const bias = fitDecisionBias(samples, 2);
    expect(bias).toHaveLength(2);
    expect(bias[0]).toBe(0);
    expect(bias[1]).toBeGreaterThan(0);
    const tuned = macroF1(samples, 2, bias);
    expect(tuned).toBeGreaterThan(plain + 0.1);
    // On fresh samples of the same stream (no tuning on them) the rule still beats plain argmax.
    const fresh = skewed(2000, 99);
    expect(macroF1(fresh, 2, bias)).toBeGreaterThan(macroF1(fresh, 2, []) + 0.1);
  });

  it('returns no offsets for a thin window, a single class, or no real gain', () => {
    expect(fitDecisionBias(skewed(50), 2)).toEqual([]);
    expect(fitDecisionBias(skewed(500).map((s) => ({ ...s, truth: 0 })), 2)).toEqual([]);
    // Perfectly separated already: argmax is optimal, nothing to gain.
    const clean = Array.from({ length: 400 }, (_, i) => ({ truth: i % 3, probs: [0, 1, 2].map((c) => (c === i % 3 ? 0.8 : 0.1)) }));
    expect(fitDecisionBias(clean, 3)).toEqual([]);
  });
});
