import { Injectable } from '@nestjs/common';
import * as tf from '@tensorflow/tfjs';
import type { ModelUpdate } from '@app/contracts';
import { importModel } from '@app/model';

export interface LoadedModel {
  version: string;
  model: tf.LayersModel;
  heads: ModelUpdate['heads'];
}

/**
 * The model version profiles are computed with. A new version is fully loaded before it replaces
 * the current one (one reference swap), so no profile sees a half-loaded model; a version that
 * fails to load is rejected and the previous one kept.
 */
@Injectable()
export class ModelRegistry {
  private current: LoadedModel | null = null;

  get model(): LoadedModel | null {
    return this.current;
  }

  async load(update: ModelUpdate): Promise<LoadedModel> {
    const model = await importModel({
      topologyJson: update.topology_json,
      weightSpecsJson: update.weight_specs_json,
      weights: Buffer.from(update.weights),
    });
    const loaded = { version: update.model_version, model, heads: update.heads };
    const previous = this.current;
    this.current = loaded;
    previous?.model.dispose();
    return loaded;
  }
}
