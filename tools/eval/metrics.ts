/**
 * Classification metrics of the evaluation: accuracy and macro-F1 over the classes present in
 * the truth or the predictions, and the majority-class baseline (the most frequent class among
 * the *training* labels, predicted for every held-out user).
 */
export interface AttributeScore {
  classes: string[];
  n: number;
  accuracy: number;
  macro_f1: number;
  majority_class: string | null;
  majority_accuracy: number;
  majority_macro_f1: number;
  /** Held-out users the pipeline gave no prediction for (counted as wrong). */
  missing: number;
}

export function accuracy(truth: readonly string[], pred: readonly (string | null)[]): number {
  if (truth.length === 0) return 0;
  let ok = 0;
  truth.forEach((t, i) => {
    if (pred[i] === t) ok++;
  });
  return ok / truth.length;
}

/** Macro-F1 over `classes` (a class never predicted nor true has F1 0 and still counts). */
export function macroF1(truth: readonly string[], pred: readonly (string | null)[], classes: readonly string[]): number {
  if (classes.length === 0) return 0;
  let sum = 0;
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    truth.forEach((t, i) => {
      const p = pred[i];
      if (p === c && t === c) tp++;
      else if (p === c) fp++;
      else if (t === c) fn++;
    });
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / classes.length;
}

export function majorityClass(labels: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best: string | null = null;
  let bestN = -1;
  for (const [c, n] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (n > bestN) {
      best = c;
      bestN = n;
    }
  }
  return best;
}

export function scoreAttribute(
  truth: readonly string[],
  pred: readonly (string | null)[],
  trainingLabels: readonly string[],
): AttributeScore {
  const classes = [...new Set([...truth, ...trainingLabels])].sort();
  const majority = majorityClass(trainingLabels);
  const base = truth.map(() => majority);
  return {
    classes,
    n: truth.length,
    accuracy: accuracy(truth, pred),
    macro_f1: macroF1(truth, pred, classes),
    majority_class: majority,
    majority_accuracy: accuracy(truth, base),
    majority_macro_f1: macroF1(truth, base, classes),
    missing: pred.filter((p) => p === null).length,
  };
}

/** Seeded Fisher–Yates pick of `fraction` of `ids` (sorted first, so the input order is irrelevant). */
export function seededHoldout(ids: Iterable<string>, fraction: number, seed: number): Set<string> {
  const sorted = [...new Set(ids)].sort();
  let s = seed >>> 0 || 1;
  const rand = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j], sorted[i]];
  }
  return new Set(sorted.slice(0, Math.round(sorted.length * fraction)));
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx];
}
