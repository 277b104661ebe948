import type { HeadMetrics } from '@app/contracts';

const EPS = 1e-7;

type Entry = { truth: number; probs: Float32Array } | { truthSet: Uint8Array; probs: Float32Array };

interface HeadWindow {
  kind: 'softmax' | 'sigmoid' | 'multilabel';
  classes: () => readonly string[];
  entries: Entry[];
  next: number;
}

/**
 * Sliding-window prequential (test-then-train) metrics: every labelled sample is recorded with the
 * prediction made *before* the model learnt from it. Metrics are recomputed from the window on
 * demand (window ≤ a few thousand samples), each with the majority-class baseline beside it.
 */
export class PrequentialEvaluator {
  private readonly heads = new Map<string, HeadWindow>();
  samplesSeen = 0;

  constructor(readonly windowSize: number) {}

  defineHead(name: string, kind: HeadWindow['kind'], classes: () => readonly string[]): void {
    if (!this.heads.has(name)) this.heads.set(name, { kind, classes, entries: [], next: 0 });
  }

  /** softmax: truth = class index, probs over the classes; sigmoid: truth 0/1, probs = [p]. */
  record(head: string, truth: number, probs: Float32Array): void {
    this.push(head, { truth, probs });
  }

  recordMultilabel(head: string, truthSet: Uint8Array, probs: Float32Array): void {
    this.push(head, { truthSet, probs });
  }

  private push(head: string, e: Entry): void {
    const h = this.heads.get(head);
    if (!h) throw new Error(`unknown head ${head}`);
    if (h.entries.length < this.windowSize) h.entries.push(e);
    else h.entries[h.next] = e;
    h.next = (h.next + 1) % this.windowSize;
  }

  /** The window of a softmax head as (truth, probabilities) pairs, oldest first not guaranteed. */
  window(head: string): readonly { truth: number; probs: Float32Array }[] {
    const h = this.heads.get(head);
    return h && h.kind === 'softmax' ? (h.entries as { truth: number; probs: Float32Array }[]) : [];
  }

  metrics(): HeadMetrics[] {
    const out: HeadMetrics[] = [];
    for (const [name, h] of this.heads) {
      if (h.kind === 'multilabel') out.push(multilabelMetrics(name, h));
      else out.push(classMetrics(name, h));
    }
    return out;
  }

  /** Mean window log loss over the heads with labelled samples (lower is better); null if none. */
  meanLogLoss(): number | null {
    const m = this.metrics().filter((x) => x.n > 0);
    return m.length === 0 ? null : m.reduce((a, x) => a + x.log_loss, 0) / m.length;
  }
}

function classMetrics(name: string, h: HeadWindow): HeadMetrics {
  const binary = h.kind === 'sigmoid';
  const classes = binary ? ['no', 'yes'] : [...h.classes()];
  const k = classes.length;
  const tp = new Float64Array(k);
  const truthCount = new Float64Array(k);
  const predCount = new Float64Array(k);
  let correct = 0;
  let loss = 0;
  const scored: { p: number; y: number }[] = [];
  const entries = h.entries as { truth: number; probs: Float32Array }[];
  for (const e of entries) {
    let pred: number;
    let pTrue: number;
    if (binary) {
      const p = e.probs[0];
      pred = p >= 0.5 ? 1 : 0;
      pTrue = e.truth === 1 ? p : 1 - p;
      scored.push({ p, y: e.truth });
    } else {
      pred = 0;
      for (let c = 1; c < e.probs.length; c++) if (e.probs[c] > e.probs[pred]) pred = c;
      pTrue = e.probs[e.truth] ?? 0;
    }
    loss += -Math.log(Math.max(EPS, pTrue));
    truthCount[e.truth] = (truthCount[e.truth] ?? 0) + 1;
    predCount[pred] = (predCount[pred] ?? 0) + 1;
    if (pred === e.truth) {
      correct++;
      tp[pred] = (tp[pred] ?? 0) + 1;
    }
  }
  const n = entries.length;
  const seen = [...truthCount.keys()].filter((c) => truthCount[c] > 0);
  const f1 = (c: number) => {
    const p = predCount[c] > 0 ? tp[c] / predCount[c] : 0;
    const r = truthCount[c] > 0 ? tp[c] / truthCount[c] : 0;
    return p + r > 0 ? (2 * p * r) / (p + r) : 0;
  };
  let majority = 0;
  for (const c of seen) if (truthCount[c] > truthCount[majority]) majority = c;
  const majAcc = n > 0 ? truthCount[majority] / n : 0;
  const majF1 = seen.length > 0 ? (2 * majAcc) / (majAcc + 1) / seen.length : 0;
  const perClassRecall: Record<string, number> = {};
  for (const c of seen) perClassRecall[classes[c] ?? String(c)] = tp[c] / truthCount[c];
  return {
    head: name,
    kind: h.kind,
    n,
    accuracy: n > 0 ? correct / n : 0,
    macro_f1: seen.length > 0 ? seen.reduce((a, c) => a + f1(c), 0) / seen.length : 0,
    log_loss: n > 0 ? loss / n : 0,
    auc: binary ? auc(scored) : null,
    majority_accuracy: majAcc,
    majority_macro_f1: majF1,
    per_class_recall: perClassRecall,
  };
}

function multilabelMetrics(name: string, h: HeadWindow): HeadMetrics {
  const classes = h.classes();
  const entries = h.entries as { truthSet: Uint8Array; probs: Float32Array }[];
  const k = classes.length;
  const tp = new Float64Array(k);
  const pos = new Float64Array(k);
  const predPos = new Float64Array(k);
  let correct = 0;
  let cells = 0;
  let loss = 0;
  for (const e of entries) {
    for (let c = 0; c < k; c++) {
      const y = e.truthSet[c] ?? 0;
      const p = e.probs[c] ?? 0;
      const pred = p >= 0.5 ? 1 : 0;
      cells++;
      if (pred === y) correct++;
      loss += -Math.log(Math.max(EPS, y ? p : 1 - p));
      if (y) pos[c] = pos[c] + 1;
      if (pred) predPos[c] = predPos[c] + 1;
      if (y && pred) tp[c] = tp[c] + 1;
    }
  }
  const active = [...pos.keys()].filter((c) => pos[c] > 0);
  const f1 = (c: number) => {
    const p = predPos[c] > 0 ? tp[c] / predPos[c] : 0;
    const r = tp[c] / pos[c];
    return p + r > 0 ? (2 * p * r) / (p + r) : 0;
  };
  const negatives = cells - pos.reduce((a, b) => a + b, 0);
  const perClassRecall: Record<string, number> = {};
  for (const c of active.sort((a, b) => pos[b] - pos[a]).slice(0, 20)) perClassRecall[classes[c]] = tp[c] / pos[c];
  return {
    head: name,
    kind: 'multilabel',
    n: entries.length,
    accuracy: cells > 0 ? correct / cells : 0,
    macro_f1: active.length > 0 ? active.reduce((a, c) => a + f1(c), 0) / active.length : 0,
    log_loss: cells > 0 ? loss / cells : 0,
    auc: null,
    // Baseline: predict every category absent (the per-cell majority class).
    majority_accuracy: cells > 0 ? negatives / cells : 0,
    majority_macro_f1: 0,
    per_class_recall: perClassRecall,
  };
}

/** ROC AUC by the rank-sum (Mann–Whitney) formula with tied scores averaged; null without both classes. */
export function auc(scored: { p: number; y: number }[]): number | null {
  const pos = scored.filter((s) => s.y === 1).length;
  const neg = scored.length - pos;
  if (pos === 0 || neg === 0) return null;
  const sorted = [...scored].sort((a, b) => a.p - b.p);
  let rankSum = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1].p === sorted[i].p) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (sorted[t].y === 1) rankSum += rank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
