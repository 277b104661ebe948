import type { ModelUpdate, UserFeatures } from '@app/contracts';
import { exampleUserFeatures } from '@app/contracts';
import type { LoadedProfileModel, ProfileModelLoader, ProfilePrediction } from './profile-model';

export interface ActiveModel {
  version: string;
  model: LoadedProfileModel;
}

export type LoadOutcome =
  | { status: 'loaded'; version: string; previous: string | null }
  | { status: 'unchanged'; version: string }
  | { status: 'rejected'; version: string; reason: string; kept: string | null };

/**
 * The model version profiles are computed with. A new version is fully loaded AND smoke-tested
 * (one prediction on a fixture) before it replaces the current one in a single reference swap,
 * so no profile sees a half-loaded model; a version that fails either step is rejected and the
 * previous one kept. Inference is synchronous, so a swap can never happen in the middle of a
 * batch: the batch's predictions and the stamped version always belong together.
 */
export class ModelRegistry {
  private current: ActiveModel | null = null;

  constructor(private readonly loader: ProfileModelLoader) {}

  get version(): string | null {
    return this.current?.version ?? null;
  }

  async load(update: ModelUpdate): Promise<LoadOutcome> {
    const kept = this.current?.version ?? null;
    if (kept === update.model_version) return { status: 'unchanged', version: kept };
    let model: LoadedProfileModel;
    try {
      model = await this.loader(update);
    } catch (e) {
      return { status: 'rejected', version: update.model_version, reason: errorText(e), kept };
    }
    try {
      const probe = model.predict([exampleUserFeatures()]);
      if (probe.length !== 1) throw new Error(`smoke prediction returned ${probe.length} rows for 1 input`);
    } catch (e) {
      model.dispose();
      return { status: 'rejected', version: update.model_version, reason: `smoke prediction failed: ${errorText(e)}`, kept };
    }
    const previous = this.current;
    this.current = { version: update.model_version, model };
    previous?.model.dispose();
    return { status: 'loaded', version: update.model_version, previous: previous?.version ?? null };
  }

  /** Predictions for a batch with the version that made them; null predictions while no model exists. */
  predict(batch: UserFeatures[]): { version: string | null; predictions: (ProfilePrediction | null)[] } {
    const active = this.current;
    if (!active || batch.length === 0) return { version: null, predictions: batch.map(() => null) };
    const predictions = active.model.predict(batch);
    return { version: active.version, predictions };
  }

  dispose(): void {
    this.current?.model.dispose();
    this.current = null;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
