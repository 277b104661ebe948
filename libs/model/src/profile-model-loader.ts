import * as tf from '@tensorflow/tfjs';
import type { ModelUpdate, UserFeatures } from '@app/contracts';
import { encodeBatch, encodeUsers, NormalizationState, parseNormalization, RawSample } from './input-encoding';
import { decide } from './decision-bias';
import { topIndices } from './top-indices';
import { importModel } from './model-artifacts';
import { NEXT_CATEGORIES_HEAD, inputTensors } from './profile-model';

export interface AttributePrediction {
  value: string;
  confidence: number;
  distribution: Record<string, number>;
}
export interface ProfilePrediction {
  attributes: Record<string, AttributePrediction>;
  purchasePropensity: number | null;
  nextCategories: { key: string; score: number }[];
}
export interface LoadedProfileModel {
  version: string;
  heads: ModelUpdate['heads'];
  predict(batch: UserFeatures[]): ProfilePrediction[];
  /** Raw head outputs (one flat row-major array per head) for already encoded samples. */
  predictHeads(raw: readonly RawSample[]): Float32Array[];
  dispose(): void;
}

/**
 * The model's outputs for the given inputs as plain arrays; every tensor is freed.
 * The data is read *after* tf.tidy: a tidy that returns typed arrays makes tfjs walk every element
 * looking for tensors to keep (walkTensorContainer), which cost more than the matmuls
 * (13 % of predict time at batch 1024 in a profile of bench:train).
 */
export function predictArrays(model: tf.LayersModel, inputs: () => tf.Tensor[]): Float32Array[] {
  const ys = tf.tidy(() => {
    const xs = inputs();
    // One pass over the whole batch: LayersModel.predict otherwise slices it into chunks of 32
    // rows and runs every layer per chunk (4× slower at batch 1024 in bench:train).
    const out = model.predict(xs, { batchSize: Math.max(1, xs[0]?.shape[0] ?? 1) });
    return Array.isArray(out) ? out : [out];
  });
  try {
    return ys.map((y) => y.dataSync() as Float32Array);
  } finally {
    tf.dispose(ys);
  }
}

/** Runs the model on raw samples with the given normalisation; all intermediate tensors are freed. */
export function runHeads(model: tf.LayersModel, norm: NormalizationState, raw: readonly RawSample[]): Float32Array[] {
  const enc = encodeBatch(raw, norm);
  return predictArrays(model, () => inputTensors(enc));
}

/** How many next-24 h categories a prediction lists (highest score first). */
const NEXT_CATEGORIES_LISTED = 5;

/**
 * Loads a ModelUpdate for inference with exactly the trainer's input encoding (the
 * normalisation statistics and key hashing of `normalization_json`). Throws a clear Error when the
 * artifacts are corrupt or do not fit this code (encoding version, input width, head layout).
 *
 * Head semantics: softmax heads may have more outputs than `classes` (slots not yet given a class):
 * the distribution is renormalised over the named classes. `sigmoid` heads give the probability of
 * `classes[0]`; `multilabel` heads give one independent probability per class.
 */
export async function loadProfileModel(update: ModelUpdate): Promise<LoadedProfileModel> {
  const what = `model ${update.model_version}`;
  let norm: NormalizationState;
  let model: tf.LayersModel;
  try {
    norm = parseNormalization(update.normalization_json);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  try {
    model = await importModel({ topologyJson: update.topology_json, weightSpecsJson: update.weight_specs_json, weights: Buffer.from(update.weights) });
  } catch (e) {
    throw new Error(`${what}: cannot load the tfjs artifacts: ${(e as Error).message}`);
  }
  try {
    checkLayout(model, update.heads, norm);
  } catch (e) {
    model.dispose();
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  const heads = update.heads;
  // Heads decoded in name order, so a prediction's attributes come out sorted, as profiles list
  // them (the assembler then keeps the object instead of re-sorting its keys per profile).
  const order = heads.map((_, k) => k).sort((a, b) => (heads[a].name < heads[b].name ? -1 : heads[a].name > heads[b].name ? 1 : a - b));
  let disposed = false;
  return {
    version: update.model_version,
    heads,
    predict(batch: UserFeatures[]): ProfilePrediction[] {
      if (disposed) throw new Error(`${what} is disposed`);
      if (batch.length === 0) return [];
      const enc = encodeUsers(batch, norm);
      const outs = predictArrays(model, () => inputTensors(enc));
      return batch.map((_, i) => decodeRow(heads, order, outs, batch.length, i));
    },
    predictHeads(raw: readonly RawSample[]): Float32Array[] {
      if (disposed) throw new Error(`${what} is disposed`);
      return raw.length === 0 ? heads.map(() => new Float32Array(0)) : runHeads(model, norm, raw);
    },
    dispose(): void {
      if (!disposed) model.dispose();
      disposed = true;
    },
  };
}

function checkLayout(model: tf.LayersModel, heads: ModelUpdate['heads'], norm: NormalizationState): void {
  const inputs = model.inputs.map((i) => i.shape[1]);
  if (inputs.length !== 3 || inputs[0] !== norm.features.length || inputs[1] !== norm.category_buckets || inputs[2] !== norm.brand_buckets) {
    throw new Error(
      `model inputs ${JSON.stringify(model.inputs.map((i) => i.shape))} do not match the encoding (${norm.features.length} numeric, ${norm.category_buckets}/${norm.brand_buckets} buckets)`,
    );
  }
  if (model.outputs.length !== heads.length) throw new Error(`model has ${model.outputs.length} outputs, heads declare ${heads.length}`);
  heads.forEach((h, i) => {
    const units = model.outputs[i].shape[1] ?? 0;
    const ok = h.kind === 'sigmoid' ? units === 1 : (h.kind === 'softmax' || h.kind === 'multilabel') && units >= h.classes.length;
    if (!ok) throw new Error(`head ${h.name} (${h.kind}, ${h.classes.length} classes) does not fit output ${i} with ${units} units`);
    const bias = h.decision_bias ?? [];
    if (bias.length > 0 && (h.kind !== 'softmax' || bias.length !== h.classes.length || !bias.every(Number.isFinite))) {
      throw new Error(`head ${h.name}: decision_bias must be empty or one finite offset per class of a softmax head, got ${JSON.stringify(bias)}`);
    }
  });
}

let probsScratch = new Float64Array(64);
/** A reused buffer for one head's class probabilities (decodeRow runs per user per batch). */
function scratch(n: number): Float64Array {
  if (probsScratch.length < n) probsScratch = new Float64Array(n);
  return probsScratch;
}

function decodeRow(heads: ModelUpdate['heads'], order: readonly number[], outs: Float32Array[], rows: number, row: number): ProfilePrediction {
  const p: ProfilePrediction = { attributes: {}, purchasePropensity: null, nextCategories: [] };
  for (const k of order) {
    const h = heads[k];
    const out = outs[k];
    const width = out.length / rows;
    if (h.kind === 'softmax') {
      if (h.classes.length === 0) continue;
      let total = 0;
      for (let c = 0; c < h.classes.length; c++) total += out[row * width + c];
      const distribution: Record<string, number> = {};
      const probs = scratch(h.classes.length);
      for (let c = 0; c < h.classes.length; c++) {
        const v = total > 0 ? out[row * width + c] / total : 1 / h.classes.length;
        distribution[h.classes[c]] = v;
        probs[c] = v;
      }
      // The trainer's decision rule (argmax of log p + bias; plain argmax without a bias).
      const best = decide(probs, h.decision_bias ?? [], h.classes.length);
      p.attributes[h.name] = { value: h.classes[best], confidence: distribution[h.classes[best]], distribution };
    } else if (h.kind === 'sigmoid') {
      p.purchasePropensity = out[row]!;
    } else if (h.kind === 'multilabel' && h.name === NEXT_CATEGORIES_HEAD) {
      p.nextCategories = topScores(h.classes, out, row * width, NEXT_CATEGORIES_LISTED);
    }
  }
  return p;
}

/** The n highest of out[offset + c] with their class keys, highest first (ties: lower c first). */
export function topScores(classes: readonly string[], out: Float32Array, offset: number, n: number): { key: string; score: number }[] {
  return topIndices(out, n, offset, classes.length).map((c) => ({ key: classes[c], score: out[offset + c] }));
}
