/**
 * Decision rule of a softmax head: predict argmax_c (log p_c + b_c) instead of argmax_c p_c.
 *
 * Why: the probabilities are (roughly) calibrated, so plain argmax maximises accuracy — on a
 * skewed label (JData's sex is ~89 % one class) that means almost always answering the majority
 * class, which is exactly the majority baseline's macro-F1. Profiles are judged per class
 * (macro-F1: marketing wants the minority segments found), so the trainer fits per-class log
 * offsets b on its prequential window (every sample scored before it was learnt from: no
 * training-set optimism) and ships them with the version; the distribution published stays the
 * model's own probabilities, only the chosen `value` moves.
 *
 * Fitting: coordinate ascent over a grid of offsets, class 0 fixed at 0 (only differences matter),
 * a few rounds; ties keep the offset closest to 0. A window too small or with a single class gives
 * zeros (plain argmax), and offsets that do not beat plain argmax's macro-F1 by `minGain` are not
 * used at all — a rule tuned on noise would only add variance.
 */

export interface ScoredSample {
  truth: number;
  probs: ArrayLike<number>;
}

export interface FitOptions {
  /** Fewer window samples than this: no offsets. */
  minSamples?: number;
  /** Each class present needs at least this many samples in the window. */
  minPerClass?: number;
  /** Required macro-F1 improvement over plain argmax. */
  minGain?: number;
  /** Largest |offset| tried (log space). */
  maxOffset?: number;
  step?: number;
  rounds?: number;
}

const LOG_EPS = 1e-7;

/** The class the rule picks; `bias` may be empty (= plain argmax) or shorter than `probs`. */
export function decide(probs: ArrayLike<number>, bias: readonly number[], classes = probs.length): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < classes; c++) {
    const s = Math.log(Math.max(LOG_EPS, probs[c])) + (bias[c] ?? 0);
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  }
  return best;
}

/** Macro-F1 of the rule over the classes present in the truth, as the evaluation computes it. */
export function macroF1(samples: readonly ScoredSample[], k: number, bias: readonly number[]): number {
  return macroF1OfLogs(
    samples.map((s) => logProbs(s.probs, k)),
    samples.map((s) => s.truth),
    k,
    bias,
  );
}

function logProbs(probs: ArrayLike<number>, k: number): Float64Array {
  const l = new Float64Array(k);
  for (let c = 0; c < k; c++) l[c] = Math.log(Math.max(LOG_EPS, probs[c]));
  return l;
}

function macroF1OfLogs(logs: readonly Float64Array[], truths: readonly number[], k: number, bias: readonly number[]): number {
  const tp = new Float64Array(k);
  const truth = new Float64Array(k);
  const pred = new Float64Array(k);
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i];
    let p = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = l[c] + (bias[c] ?? 0);
      if (v > bestScore) {
        bestScore = v;
        p = c;
      }
    }
    truth[truths[i]]++;
    pred[p]++;
    if (p === truths[i]) tp[p]++;
  }
  let sum = 0;
  let present = 0;
  for (let c = 0; c < k; c++) {
    if (truth[c] === 0) continue;
    present++;
    const precision = pred[c] > 0 ? tp[c] / pred[c] : 0;
    const recall = tp[c] / truth[c];
    sum += precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return present > 0 ? sum / present : 0;
}

/** Fits the offsets (see above); returns [] when plain argmax should be used. */
export function fitDecisionBias(samples: readonly ScoredSample[], k: number, options: FitOptions = {}): number[] {
  const { minSamples = 200, minPerClass = 5, minGain = 0.01, maxOffset = 4, step = 0.1, rounds = 3 } = options;
  if (k < 2 || samples.length < minSamples) return [];
  const counts = new Array<number>(k).fill(0);
  for (const s of samples) counts[s.truth]++;
  const present = counts.filter((n) => n > 0);
  if (present.length < 2 || present.some((n) => n < minPerClass)) return [];
  // Precompute log-probabilities once: the search only adds offsets.
  const logs = samples.map((s) => logProbs(s.probs, k));
  const truths = samples.map((s) => s.truth);
  const score = (bias: number[]) => macroF1OfLogs(logs, truths, k, bias);
  const base = score([]);
  const bias = new Array<number>(k).fill(0);
  let best = base;
  const grid: number[] = [];
  for (let v = -maxOffset; v <= maxOffset + 1e-9; v += step) grid.push(Math.round(v * 1000) / 1000);
  grid.sort((a, b) => Math.abs(a) - Math.abs(b)); // ties keep the offset closest to 0
  for (let r = 0; r < rounds; r++) {
    let moved = false;
    for (let c = 1; c < k; c++) {
      if (counts[c] === 0) continue;
      let bestV = bias[c];
      for (const v of grid) {
        bias[c] = v;
        const f = score(bias);
        if (f > best + 1e-12) {
          best = f;
          bestV = v;
          moved = true;
        }
      }
      bias[c] = bestV;
    }
    if (!moved) break;
  }
  return best >= base + minGain ? bias : [];
}
