import * as tf from '@tensorflow/tfjs';
import type { ModelUpdate, UserFeatures } from '@app/contracts';
import { FEATURE_VECTOR_WIDTH, featureVector, importModel, loadProfileModel, predictArrays } from '@app/model';
import type { LoadedProfileModel as LibLoadedProfileModel, ProfilePrediction } from '@app/model';

export type { AttributePrediction, ProfilePrediction } from '@app/model';

/** What inference needs of a loaded version: libs/model's `LoadedProfileModel`, or the plain-heads loader below. */
export type LoadedProfileModel = Pick<LibLoadedProfileModel, 'predict' | 'dispose'>;

export type ProfileModelLoader = (update: ModelUpdate) => Promise<LoadedProfileModel>;

const PROPENSITY_HEADS = new Set(['purchase_24h', 'purchase_propensity', 'purchase_propensity_24h']);

/**
 * Loader for the walking-skeleton model format: one input (the feature vector), outputs in
 * `heads` order, either as separate tensors or concatenated into one. Heads: softmax (attribute
 * classes), sigmoid (purchase propensity, one unit) and multilabel (next categories).
 */
export async function loadHeadsModel(update: ModelUpdate): Promise<LoadedProfileModel> {
  const model = await importModel({
    topologyJson: update.topology_json,
    weightSpecsJson: update.weight_specs_json,
    weights: Buffer.from(update.weights),
  });
  const heads = update.heads;
  const widths = heads.map((h) => (h.kind === 'sigmoid' ? 1 : h.classes.length));
  const total = widths.reduce((a, b) => a + b, 0);
  const inputShape = model.inputs[0]?.shape;
  if (!inputShape || inputShape[1] !== FEATURE_VECTOR_WIDTH) {
    model.dispose();
    throw new Error(`model input width ${String(inputShape?.[1])} does not match the feature vector width ${FEATURE_VECTOR_WIDTH}`);
  }
  return {
    predict(batch: UserFeatures[]): ProfilePrediction[] {
      const n = batch.length;
      if (n === 0) return [];
      const x = new Float32Array(n * FEATURE_VECTOR_WIDTH);
      batch.forEach((f, i) => featureVector(f.features, x, i * FEATURE_VECTOR_WIDTH));
      const widths = model.outputs.map((o) => o.shape[1] ?? 1);
      const outputs = predictArrays(model, () => [tf.tensor2d(x, [n, FEATURE_VECTOR_WIDTH])]).map((data, k) => ({ width: widths[k], data }));
      // Concatenate the outputs row-wise into one [n, total] view.
      const width = outputs.reduce((a, o) => a + o.width, 0);
      if (width !== total) throw new Error(`model outputs ${width} columns, heads declare ${total}`);
      return batch.map((_, i) => {
        const row = new Float64Array(total);
        let c = 0;
        for (const o of outputs) for (let j = 0; j < o.width; j++) row[c++] = o.data[i * o.width + j] ?? 0;
        return decodeRow(heads, widths, row);
      });
    },
    dispose: () => model.dispose(),
  };
}

function decodeRow(heads: ModelUpdate['heads'], widths: number[], row: Float64Array): ProfilePrediction {
  const p: ProfilePrediction = { attributes: {}, purchasePropensity: null, nextCategories: [] };
  let at = 0;
  heads.forEach((h, k) => {
    const w = widths[k];
    const v = row.subarray(at, at + w);
    at += w;
    if (h.kind === 'sigmoid') {
      if (PROPENSITY_HEADS.has(h.name)) p.purchasePropensity = clamp01(v[0] ?? 0);
    } else if (h.kind === 'multilabel') {
      p.nextCategories = h.classes
        .map((key, j) => ({ key, score: clamp01(v[j] ?? 0) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 5);
    } else {
      const distribution: Record<string, number> = {};
      let best = -1;
      let value: string | null = null;
      h.classes.forEach((cls, j) => {
        const q = clamp01(v[j] ?? 0);
        distribution[cls] = q;
        if (q > best) [best, value] = [q, cls];
      });
      // A head without classes predicts nothing: no entry rather than a null value.
      if (value !== null) p.attributes[h.name] = { value, confidence: best, distribution };
    }
  });
  return p;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/**
 * The production loader: the trainer's format (libs/model `loadProfileModel`, with its input
 * normalisation), else the plain heads format of older versions. A version neither can load is
 * rejected with the first loader's reason.
 */
export async function loadAnyProfileModel(update: ModelUpdate): Promise<LoadedProfileModel> {
  try {
    return await loadProfileModel(update);
  } catch (first) {
    try {
      return await loadHeadsModel(update);
    } catch {
      throw first;
    }
  }
}
