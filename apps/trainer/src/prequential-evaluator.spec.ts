import { auc, PrequentialEvaluator } from './prequential-evaluator';
import { PageHinkley } from './drift-detector';
import { Reservoir } from './reservoir';

describe(PrequentialEvaluator.name, () => {
  it('computes accuracy, macro-F1, recall, log loss and the majority baseline over a sliding window', () => {
    const e = new PrequentialEvaluator(4);
    e.defineHead('sex', 'softmax', () => ['m', 'f']);
    e.record('sex', 0, new Float32Array([0.1, 0.9])); // falls out of the window
    e.record('sex', 0, new Float32Array([0.8, 0.2]));
    e.record('sex', 0, new Float32Array([0.6, 0.4]));
    e.record('sex', 1, new Float32Array([0.7, 0.3]));
    e.record('sex', 0, new Float32Array([0.9, 0.1]));
    const m = e.metrics()[0];
    expect(m.n).toBe(4);
    expect(m.accuracy).toBe(0.75);
    expect(m.per_class_recall).toEqual({ m: 1, f: 0 });
    // F1(m) = 2·0.75·1/(1.75), F1(f) = 0
    expect(m.macro_f1).toBeCloseTo((2 * 0.75) / 1.75 / 2, 6);
    expect(m.majority_accuracy).toBe(0.75);
    expect(m.majority_macro_f1).toBeCloseTo((2 * 0.75) / 1.75 / 2, 6);
    expect(m.log_loss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6) + Math.log(0.3) + Math.log(0.9)) / 4, 5);
    expect(m.auc).toBeNull();
  });

  it('gives AUC for sigmoid heads', () => {
    expect(auc([{ p: 0.9, y: 1 }, { p: 0.1, y: 0 }, { p: 0.5, y: 1 }, { p: 0.5, y: 0 }])).toBeCloseTo(0.875, 6);
    expect(auc([{ p: 0.9, y: 1 }])).toBeNull();
    const e = new PrequentialEvaluator(10);
    e.defineHead('purchase_24h', 'sigmoid', () => ['yes']);
    e.record('purchase_24h', 1, new Float32Array([0.8]));
    e.record('purchase_24h', 0, new Float32Array([0.3]));
    expect(e.metrics()[0]).toMatchObject({ accuracy: 1, auc: 1, per_class_recall: { no: 1, yes: 1 } });
  });
});

describe(PageHinkley.name, () => {
  it('stays quiet on a stationary stream and fires after the mean rises', () => {
    const ph = new PageHinkley(0.05, 20, 50);
    let rnd = 7;
    const noise = () => ((rnd = (rnd * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
    let fired = 0;
    for (let i = 0; i < 2000; i++) if (ph.add(0.5 + noise())) fired++;
    expect(fired).toBe(0);
    let at = -1;
    for (let i = 0; i < 500 && at < 0; i++) if (ph.add(1.0 + noise())) at = i;
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(100);
  });
});

describe(Reservoir.name, () => {
  it('keeps a bounded uniform sample', () => {
    const r = new Reservoir<number>(100);
    for (let i = 0; i < 10_000; i++) r.add(i);
    expect(r.size).toBe(100);
    const drawn = r.draw(1000);
    expect(drawn.filter((x) => x >= 5000).length).toBeGreaterThan(300); // not only the first items
  });
});
