import { judgeStep, nextRate, purchaseNext24h, readProc } from './pipeline';

describe('pipeline: rate search', () => {
  it('doubles until the first failure, then bisects', () => {
    expect(nextRate(1000, null, 64000, 10)).toBe(2000);
    expect(nextRate(32000, null, 40000, 10)).toBe(40000);
    expect(nextRate(40000, null, 40000, 10)).toBeNull();
    expect(nextRate(4000, 8000, 64000, 10)).toBe(6000);
    expect(nextRate(4000, 4100, 64000, 10)).toBeNull();
  });

  it('halves while even the first rate falls behind, down to the floor', () => {
    expect(nextRate(0, 1000, 64000, 100)).toBe(500);
    expect(nextRate(0, 150, 64000, 100)).toBeNull();
  });

  it('judges a step by each group’s end lag against its input rate', () => {
    const opts = { lagBudgetSec: 3, minLagAllowed: 2000 };
    expect(judgeStep({ a: 1500, b: 10000 }, { a: 100, b: 5000 }, opts)).toEqual({ bounded: true, allowed: { a: 2000, b: 15000 } });
    expect(judgeStep({ a: 2500 }, { a: 100 }, opts).bounded).toBe(false);
  });
});

describe('pipeline: purchase-in-next-24h label', () => {
  const H = 3_600_000;
  it('is 1 when a purchase follows within 24 h of event time', () => {
    expect(purchaseNext24h([10 * H], 0, 100 * H)).toBe(1);
  });
  it('is 0 only when the stream reaches 24 h past as_of', () => {
    expect(purchaseNext24h([30 * H], 0, 100 * H)).toBe(0);
    expect(purchaseNext24h(undefined, 0, 10 * H)).toBeNull();
  });
  it('does not count the purchase at as_of itself (no leakage)', () => {
    expect(purchaseNext24h([5 * H], 5 * H, 100 * H)).toBe(0);
  });
});

describe('pipeline: /proc sampling', () => {
  it('reads CPU ticks and RSS of this process', () => {
    const p = readProc(process.pid);
    expect(p).not.toBeNull();
    expect(p!.rss_kb).toBeGreaterThan(0);
    expect(Number.isFinite(p!.ticks)).toBe(true);
  });
  it('returns null for a process that does not exist', () => {
    expect(readProc(2 ** 22 + 12345)).toBeNull();
  });
});
