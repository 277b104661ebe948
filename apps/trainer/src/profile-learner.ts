import * as tf from '@tensorflow/tfjs';
import type { ModelUpdate } from '@app/contracts';
import {
  attributeLayerName,
  buildProfileModel,
  encodeBatch,
  exportModel,
  importModel,
  inputTensors,
  NEXT_CATEGORIES_HEAD,
  parseNormalization,
  PURCHASE_HEAD,
  RawSample,
  runHeads,
  RunningNormalizer,
  StoredVersion,
  transferWeights,
} from '@app/model';
import type { TrainingSample } from './delayed-label-joiner';

export interface LearnerOptions {
  /** Declared attribute heads; null = add a head for every attribute name seen in the labels. */
  attributes: string[] | null;
  maxClasses: number;
  categorySlots: number;
  learningRate: number;
}

/** Vocabularies and class counts: what a restart needs besides weights and optimizer state. */
export interface LearnerState {
  attributes: { name: string; classes: string[]; counts: number[] }[];
  categories: string[];
  categoryPositives: number;
  categoryCells: number;
  purchaseCounts: [number, number];
  trainedSamples: number;
  steps: number;
}

const CLIP = 1e-7;

/**
 * The trainable profile model plus everything its training step needs: online normalisation,
 * append-only class vocabularies (a class keeps its output slot for life, so published versions
 * stay comparable), class counts for the class weights, and the Adam optimizer whose state is
 * saved with every version.
 *
 * Class imbalance: class weights, w_c = clip(sqrt(N / (K · n_c)), 0.25, 4) from running counts.
 * Chosen over focal loss because (1) the counts are known exactly online, (2) square-root
 * weights lift rare classes without wrecking calibration as much as full inverse frequency or
 * focal loss does — and the publisher shows probabilities as confidences — and (3) it has no
 * extra hyper-parameter (γ) to tune on a stream.
 */
export class ProfileLearner {
  model: tf.LayersModel;
  optimizer: tf.AdamOptimizer;
  readonly normalizer: RunningNormalizer;
  readonly state: LearnerState;
  private learningRate: number;

  private constructor(
    readonly options: LearnerOptions,
    model: tf.LayersModel,
    normalizer: RunningNormalizer,
    state: LearnerState,
  ) {
    this.model = model;
    this.normalizer = normalizer;
    this.state = state;
    this.learningRate = options.learningRate;
    this.optimizer = tf.train.adam(options.learningRate);
  }

  static create(options: LearnerOptions): ProfileLearner {
    const state: LearnerState = {
      attributes: (options.attributes ?? []).map((name) => ({ name, classes: [], counts: [] })),
      categories: [],
      categoryPositives: 0,
      categoryCells: 0,
      purchaseCounts: [0, 0],
      trainedSamples: 0,
      steps: 0,
    };
    const model = buildProfileModel(ProfileLearner.shape(options, state));
    return new ProfileLearner(options, model, new RunningNormalizer(), state);
  }

  /** Resumes from a saved version: weights, normalisation, vocabularies and optimizer state. */
  static async restore(options: LearnerOptions, saved: StoredVersion): Promise<ProfileLearner> {
    const state = saved.meta.learner_state as LearnerState | undefined;
    if (!state?.attributes) throw new Error(`version ${saved.meta.model_version} has no learner state`);
    const model = await importModel({
      topologyJson: saved.update.topology_json,
      weightSpecsJson: saved.update.weight_specs_json,
      weights: Buffer.from(saved.update.weights),
    });
    const learner = new ProfileLearner(options, model, RunningNormalizer.fromState(parseNormalization(saved.update.normalization_json)), state);
    if (saved.optimizer) {
      const named = tf.io.decodeWeights(saved.optimizer.data, saved.optimizer.specs);
      // Adam's state is positional (iterations, then m and v in variable order): restore only
      // when the saved layout fits this model.
      const entries = saved.optimizer.specs.map((s) => ({ name: s.name, tensor: named[s.name] }));
      if (entries.length === 1 + 2 * model.trainableWeights.length) await learner.optimizer.setWeights(entries);
      else entries.forEach((e) => e.tensor.dispose());
    }
    if (options.attributes) learner.ensureAttributes(options.attributes);
    return learner;
  }

  private static shape(options: LearnerOptions, state: LearnerState) {
    return {
      attributes: state.attributes.map((a) => ({ name: a.name, slots: options.maxClasses })),
      categorySlots: options.categorySlots,
    };
  }

  heads(): ModelUpdate['heads'] {
    return [
      ...this.state.attributes.map((a) => ({ name: a.name, kind: 'softmax', classes: [...a.classes], decision_bias: [] })),
      { name: PURCHASE_HEAD, kind: 'sigmoid', classes: ['yes'], decision_bias: [] },
      { name: NEXT_CATEGORIES_HEAD, kind: 'multilabel', classes: [...this.state.categories], decision_bias: [] },
    ];
  }

  /**
   * Grows vocabularies from a batch before it is scored: new attribute heads (rebuilding the model
   * with the learnt layers carried over), new classes and categories take free slots. Returns
   * true when the model was rebuilt (the optimizer restarts then).
   */
  observe(samples: readonly TrainingSample[]): boolean {
    const newAttrs = new Set<string>();
    for (const s of samples) {
      for (const [name, value] of Object.entries(s.attributes)) {
        if (value === null || value === '') continue;
        let a = this.state.attributes.find((x) => x.name === name);
        if (!a) {
          if (this.options.attributes) continue;
          newAttrs.add(name);
          continue;
        }
        if (!a.classes.includes(value) && a.classes.length < this.options.maxClasses) {
          a.classes.push(value);
          a.counts.push(0);
        }
        a = undefined;
      }
      for (const key of [...(s.nextCategories ?? []), ...s.categoriesAtAsOf]) {
        if (this.state.categories.length >= this.options.categorySlots) break;
        if (!this.state.categories.includes(key)) this.state.categories.push(key);
      }
    }
    if (newAttrs.size === 0) return false;
    this.ensureAttributes([...this.state.attributes.map((a) => a.name), ...[...newAttrs].sort()]);
    // New heads' classes: a second pass now that they exist.
    this.observe(samples);
    return true;
  }

  private ensureAttributes(names: string[]): void {
    const missing = names.filter((n) => !this.state.attributes.some((a) => a.name === n));
    if (missing.length === 0) return;
    for (const name of missing) this.state.attributes.push({ name, classes: [], counts: [] });
    const next = buildProfileModel(ProfileLearner.shape(this.options, this.state));
    transferWeights(this.model, next);
    this.model.dispose();
    this.model = next;
    this.optimizer.dispose();
    this.optimizer = tf.train.adam(this.learningRate);
  }

  /** Head outputs for raw samples with the current normalisation (flat row-major, one per head). */
  predict(raw: readonly RawSample[]): Float32Array[] {
    return runHeads(this.model, this.normalizer.state(), raw);
  }

  /** Temporarily scales the learning rate (drift reaction); 1 restores it. */
  setLearningRateFactor(f: number): void {
    this.learningRate = this.options.learningRate * f;
    (this.optimizer as unknown as { learningRate: number }).learningRate = this.learningRate;
  }

  /** Updates the class counts and normalisation with fresh (not replayed) samples. */
  count(samples: readonly TrainingSample[]): void {
    this.normalizer.update(samples.map((s) => s.raw));
    for (const s of samples) {
      for (const a of this.state.attributes) {
        const v = s.attributes[a.name];
        const c = v == null ? -1 : a.classes.indexOf(v);
        if (c >= 0) a.counts[c] = (a.counts[c] ?? 0) + 1;
      }
      if (s.purchase !== null) this.state.purchaseCounts[s.purchase ? 1 : 0]++;
      if (s.nextCategories) {
        this.state.categoryCells += this.state.categories.length;
        this.state.categoryPositives += s.nextCategories.filter((k) => this.state.categories.includes(k)).length;
      }
    }
  }

  /** One masked multi-task gradient step; returns the loss. */
  trainStep(samples: readonly TrainingSample[]): number {
    const n = samples.length;
    if (n === 0) return 0;
    const enc = encodeBatch(
      samples.map((s) => s.raw),
      this.normalizer.state(),
    );
    const S = this.options.maxClasses;
    const K = this.options.categorySlots;
    const attrTargets = this.state.attributes.map((a) => {
      const y = new Float32Array(n * S);
      const w = new Float32Array(n);
      const weights = classWeights(a.counts);
      let known = 0;
      samples.forEach((s, i) => {
        const v = s.attributes[a.name];
        const c = v == null ? -1 : a.classes.indexOf(v);
        if (c < 0) return; // unknown label: masked out
        y[i * S + c] = 1;
        w[i] = weights[c]!;
        known++;
      });
      return { y, w, known };
    });
    const pw = classWeights(this.state.purchaseCounts);
    const py = new Float32Array(n);
    const pwRow = new Float32Array(n);
    let pKnown = 0;
    const cy = new Float32Array(n * K);
    const cw = new Float32Array(n * K);
    let cKnown = 0;
    const active = this.state.categories.length;
    const posWeight = Math.min(10, Math.max(1, Math.sqrt((this.state.categoryCells - this.state.categoryPositives + 1) / (this.state.categoryPositives + 1))));
    samples.forEach((s, i) => {
      if (s.purchase !== null) {
        py[i] = s.purchase ? 1 : 0;
        pwRow[i] = pw[s.purchase ? 1 : 0]!;
        pKnown++;
      }
      if (s.nextCategories && active > 0) {
        cKnown++;
        for (let c = 0; c < active; c++) cw[i * K + c] = 1;
        for (const key of s.nextCategories) {
          const c = this.state.categories.indexOf(key);
          if (c >= 0) {
            cy[i * K + c] = 1;
            cw[i * K + c] = posWeight;
          }
        }
      }
    });
    if (pKnown === 0 && cKnown === 0 && attrTargets.every((t) => t.known === 0)) return 0; // nothing to learn
    const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = tf.tidy(() => {
      const xs = inputTensors(enc);
      const cost = this.optimizer.minimize(
        () => {
          const outs = this.model.apply(xs, { training: true }) as tf.Tensor[];
          const terms: tf.Scalar[] = [];
          attrTargets.forEach((t, h) => {
            if (t.known === 0) return;
            const p = tf.clipByValue(outs[h], CLIP, 1);
            const ce = tf.neg(tf.sum(tf.mul(tf.tensor2d(t.y, [n, S]), tf.log(p)), 1));
            terms.push(tf.div(tf.sum(tf.mul(ce, tf.tensor1d(t.w))), t.known));
          });
          const a = this.state.attributes.length;
          if (pKnown > 0) {
            const p = tf.clipByValue(tf.reshape(outs[a], [n]), CLIP, 1 - CLIP);
            const y = tf.tensor1d(py);
            const bce = tf.neg(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))));
            terms.push(tf.div(tf.sum(tf.mul(bce, tf.tensor1d(pwRow))), pKnown));
          }
          if (cKnown > 0) {
            const p = tf.clipByValue(outs[a + 1], CLIP, 1 - CLIP);
            const y = tf.tensor2d(cy, [n, K]);
            const bce = tf.neg(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))));
            terms.push(tf.div(tf.sum(tf.mul(bce, tf.tensor2d(cw, [n, K]))), cKnown * active));
          }
          return terms.length === 0 ? tf.scalar(0) : tf.addN(terms);
        },
        true,
        vars,
      );
      return cost ? cost.dataSync()[0] : 0;
    });
    this.state.steps++;
    return loss;
  }

  async optimizerWeights(): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } | null> {
    const named = await this.optimizer.getWeights();
    try {
      if (named.length <= 1) return null;
      const { data, specs } = await tf.io.encodeWeights(named);
      return { data, specs };
    } finally {
      // getWeights() returns the moment variables themselves plus a fresh `iter` scalar: free that one.
      for (const n of named) if (!(n.tensor instanceof tf.Variable)) n.tensor.dispose();
    }
  }

  async artifacts(): Promise<{ topologyJson: string; weightSpecsJson: string; weights: Buffer }> {
    return exportModel(this.model);
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }

  /** For an attribute head index in heads(). */
  static attributeLayer(name: string): string {
    return attributeLayerName(name);
  }
}

/** sqrt-inverse-frequency class weights, clipped to [0.25, 4]; 1 for classes never seen. */
export function classWeights(counts: readonly number[]): number[] {
  const seen = counts.filter((c) => c > 0);
  const total = seen.reduce((a, b) => a + b, 0);
  return counts.map((c) => (c > 0 ? Math.min(4, Math.max(0.25, Math.sqrt(total / (seen.length * c)))) : 1));
}
