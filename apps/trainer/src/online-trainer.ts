import * as tf from '@tensorflow/tfjs';
import type { ModelUpdate, UserFeatures } from '@app/contracts';
import { exportModel, FEATURE_VECTOR_NAMES, FEATURE_VECTOR_WIDTH, featureVector } from '@app/model';

/**
 * Online mini-batch learner (walking-skeleton form: one sigmoid head for purchase propensity,
 * label = the user purchased in the last 24 h, inputs exclude purchase counts of that window).
 */
export class OnlineTrainer {
  private readonly model: tf.LayersModel;
  private version = 0;
  trainedSamples = 0;
  lastLoss: number | null = null;

  constructor(readonly backend: string) {
    const input = tf.input({ shape: [FEATURE_VECTOR_WIDTH], name: 'features' });
    const trunk = tf.layers.dense({ units: 64, activation: 'relu', name: 'trunk' }).apply(input) as tf.SymbolicTensor;
    const head = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'purchase_propensity' }).apply(trunk) as tf.SymbolicTensor;
    this.model = tf.model({ inputs: input, outputs: head });
    this.model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  }

  /** One gradient step on a mini-batch; returns the loss. */
  async trainBatch(samples: readonly UserFeatures[]): Promise<number> {
    const x = new Float32Array(samples.length * FEATURE_VECTOR_WIDTH);
    const y = new Float32Array(samples.length);
    samples.forEach((s, i) => {
      const f = { ...s.features, purchases_24h: 0, purchases_7d: 0 };
      featureVector(f, x, i * FEATURE_VECTOR_WIDTH);
      y[i] = s.features.purchases_24h > 0 ? 1 : 0;
    });
    const xs = tf.tensor2d(x, [samples.length, FEATURE_VECTOR_WIDTH]);
    const ys = tf.tensor2d(y, [samples.length, 1]);
    try {
      const loss = (await this.model.trainOnBatch(xs, ys)) as number;
      this.trainedSamples += samples.length;
      this.lastLoss = loss;
      return loss;
    } finally {
      xs.dispose();
      ys.dispose();
    }
  }

  async snapshot(): Promise<ModelUpdate> {
    const artifacts = await exportModel(this.model);
    this.version++;
    return {
      model_version: `v${String(this.version).padStart(6, '0')}`,
      created_at: Date.now(),
      parent_version: this.version > 1 ? `v${String(this.version - 1).padStart(6, '0')}` : null,
      backend: this.backend,
      trained_samples: this.trainedSamples,
      topology_json: artifacts.topologyJson,
      weight_specs_json: artifacts.weightSpecsJson,
      weights: artifacts.weights,
      normalization_json: JSON.stringify({ inputs: FEATURE_VECTOR_NAMES, transform: 'log1p' }),
      heads: [{ name: 'purchase_propensity', kind: 'sigmoid', classes: ['no', 'yes'] }],
      metrics_json: JSON.stringify({ loss: this.lastLoss }),
    };
  }
}
