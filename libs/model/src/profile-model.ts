import * as tf from '@tensorflow/tfjs';
import { FEATURE_VECTOR_WIDTH } from './feature-vector';
import { DEFAULT_HASH_BUCKETS, EncodedBatch } from './input-encoding';

export const PURCHASE_HEAD = 'purchase_24h';
export const NEXT_CATEGORIES_HEAD = 'next_categories';

export interface ProfileModelShape {
  /** One softmax head per attribute, `slots` outputs each (classes fill the slots as they are seen). */
  attributes: { name: string; slots: number }[];
  /** Outputs of the multi-label next-24 h category head. */
  categorySlots: number;
  buckets?: number;
  embeddingDim?: number;
  trunk?: number[];
}

/** Layer names are stable so weights can be carried into a model with more heads. */
export function attributeLayerName(attr: string): string {
  return `attr_${attr.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * The multi-task profile network (functional API): standardised numeric features + two
 * score-weighted hashed embedding bags (categories, brands) → shared trunk → heads
 * [...attributes (softmax), purchase_24h (sigmoid), next_categories (multi-label sigmoid)].
 */
export function buildProfileModel(shape: ProfileModelShape): tf.LayersModel {
  const buckets = shape.buckets ?? DEFAULT_HASH_BUCKETS;
  const dim = shape.embeddingDim ?? 16;
  const numeric = tf.input({ shape: [FEATURE_VECTOR_WIDTH], name: 'numeric' });
  const bag = (name: string): [tf.SymbolicTensor, tf.SymbolicTensor] => {
    const input = tf.input({ shape: [buckets], name: `${name}_bag` });
    // Bias-free dense on a weighted multi-hot vector = score-weighted embedding bag.
    const emb = tf.layers
      .dense({ units: dim, useBias: false, name: `${name}_embedding`, kernelInitializer: tf.initializers.randomNormal({ stddev: 0.1 }) })
      .apply(input) as tf.SymbolicTensor;
    return [input, emb];
  };
  const [catBag, catVec] = bag('category');
  const [brandBag, brandVec] = bag('brand');
  let h = tf.layers.concatenate({ name: 'concat' }).apply([numeric, catVec, brandVec]) as tf.SymbolicTensor;
  (shape.trunk ?? [128, 64]).forEach((units, i) => {
    h = tf.layers.dense({ units, activation: 'relu', name: `trunk_${i}`, kernelInitializer: 'heNormal' }).apply(h) as tf.SymbolicTensor;
  });
  const outputs = [
    ...shape.attributes.map(
      (a) => tf.layers.dense({ units: a.slots, activation: 'softmax', name: attributeLayerName(a.name) }).apply(h) as tf.SymbolicTensor,
    ),
    tf.layers.dense({ units: 1, activation: 'sigmoid', name: PURCHASE_HEAD }).apply(h) as tf.SymbolicTensor,
    tf.layers.dense({ units: shape.categorySlots, activation: 'sigmoid', name: NEXT_CATEGORIES_HEAD }).apply(h) as tf.SymbolicTensor,
  ];
  return tf.model({ inputs: [numeric, catBag, brandBag], outputs, name: 'profile_model' });
}

/** The batch as input tensors in the model's input order; the caller disposes them. */
export function inputTensors(b: EncodedBatch): tf.Tensor[] {
  return [
    tf.tensor2d(b.numeric, [b.size, FEATURE_VECTOR_WIDTH]),
    tf.tensor2d(b.categoryBag, [b.size, b.buckets]),
    tf.tensor2d(b.brandBag, [b.size, b.buckets]),
  ];
}

/**
 * Copies weights from `from` into `to` for every layer that exists in both with the same name
 * and weight shapes (used when a new attribute head appears: the trunk keeps what it learnt).
 */
export function transferWeights(from: tf.LayersModel, to: tf.LayersModel): string[] {
  const copied: string[] = [];
  for (const layer of to.layers) {
    let src: tf.layers.Layer;
    try {
      src = from.getLayer(layer.name);
    } catch {
      continue;
    }
    const a = src.getWeights();
    const b = layer.getWeights();
    if (a.length === b.length && a.length > 0 && a.every((w, i) => w.shape.join() === b[i].shape.join())) {
      layer.setWeights(a);
      copied.push(layer.name);
    }
  }
  return copied;
}
