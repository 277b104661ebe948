import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelUpdate } from '@app/contracts';

/**
 * A tfjs IOHandler that keeps a model as `model.json` + `weights.bin` in a folder (the layout of
 * tfjs-node's file:// handler, which this tfjs build does not have). Works with `model.save()` and
 * `tf.loadLayersModel()`; the save is atomic (temporary folder, then rename).
 */
export function diskIOHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (a: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      if (!a.modelTopology || !a.weightSpecs || !a.weightData) throw new Error('diskIOHandler: only layers models with weights can be saved');
      const data = a.weightData instanceof ArrayBuffer ? a.weightData : tf.io.concatenateArrayBuffers(a.weightData);
      const manifest = {
        modelTopology: a.modelTopology,
        format: a.format ?? 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: a.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      await fs.promises.mkdir(dir, { recursive: true });
      await writeAtomic(path.join(dir, 'weights.bin'), Buffer.from(data));
      await writeAtomic(path.join(dir, 'model.json'), JSON.stringify(manifest));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: data }) };
    },
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const manifest = JSON.parse(await fs.promises.readFile(path.join(dir, 'model.json'), 'utf8')) as {
        modelTopology: object;
        format?: string;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      };
      const buffers: Buffer[] = [];
      const specs: tf.io.WeightsManifestEntry[] = [];
      for (const group of manifest.weightsManifest) {
        for (const p of group.paths) buffers.push(await fs.promises.readFile(path.join(dir, p)));
        specs.push(...group.weights);
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: manifest.modelTopology,
        format: manifest.format,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, file);
}

/** Everything stored beside a version's model files. */
export interface VersionMeta {
  model_version: string;
  created_at: number;
  parent_version: string | null;
  backend: string;
  trained_samples: number;
  normalization_json: string;
  heads: ModelUpdate['heads'];
  metrics_json: string;
  /** Whether the version passed the gate and went out on model.updates.v1. */
  published: boolean;
  gate: string;
  /** Trainer state needed to resume (vocabularies, class counts, ...). */
  learner_state?: unknown;
  has_optimizer: boolean;
}

export interface StoredVersion {
  meta: VersionMeta;
  update: ModelUpdate;
  optimizer: { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } | null;
}

const VERSION_RE = /^v\d{6,}$/;

/**
 * Model versions on disk: `<root>/<version>/{model.json, weights.bin, meta.json, optimizer.json,
 * optimizer.bin}`. A version folder is written under a temporary name and renamed when complete,
 * so a crash never leaves a half-written version that a restart would resume from.
 */
export class ModelVersionStore {
  constructor(readonly root: string) {}

  async save(
    update: ModelUpdate,
    extra: { published: boolean; gate: string; learnerState?: unknown; optimizer?: { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } | null },
  ): Promise<void> {
    if (!VERSION_RE.test(update.model_version)) throw new Error(`bad version id ${update.model_version}`);
    const final = path.join(this.root, update.model_version);
    const tmp = path.join(this.root, `.tmp-${update.model_version}-${process.pid}`);
    await fs.promises.rm(tmp, { recursive: true, force: true });
    const weights = Buffer.from(update.weights);
    await diskIOHandler(tmp).save!({
      modelTopology: JSON.parse(update.topology_json) as object,
      weightSpecs: JSON.parse(update.weight_specs_json) as tf.io.WeightsManifestEntry[],
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    });
    const meta: VersionMeta = {
      model_version: update.model_version,
      created_at: update.created_at,
      parent_version: update.parent_version,
      backend: update.backend,
      trained_samples: update.trained_samples,
      normalization_json: update.normalization_json,
      heads: update.heads,
      metrics_json: update.metrics_json,
      published: extra.published,
      gate: extra.gate,
      learner_state: extra.learnerState,
      has_optimizer: !!extra.optimizer,
    };
    if (extra.optimizer) {
      await fs.promises.writeFile(path.join(tmp, 'optimizer.json'), JSON.stringify(extra.optimizer.specs));
      await fs.promises.writeFile(path.join(tmp, 'optimizer.bin'), Buffer.from(extra.optimizer.data));
    }
    await fs.promises.writeFile(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 1));
    await fs.promises.rm(final, { recursive: true, force: true });
    await fs.promises.rename(tmp, final);
  }

  /** Version ids, oldest first. */
  async versions(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.root);
    } catch {
      return [];
    }
    const ok: string[] = [];
    for (const n of names.filter((x) => VERSION_RE.test(x))) {
      if (fs.existsSync(path.join(this.root, n, 'meta.json'))) ok.push(n);
    }
    return ok.sort();
  }

  async meta(version: string): Promise<VersionMeta> {
    if (!VERSION_RE.test(version)) throw new Error(`bad version id ${version}`);
    const file = path.join(this.root, version, 'meta.json');
    if (!fs.existsSync(file)) throw new Error(`no version ${version} in ${this.root}`);
    return JSON.parse(await fs.promises.readFile(file, 'utf8')) as VersionMeta;
  }

  async load(version: string): Promise<StoredVersion> {
    const meta = await this.meta(version);
    const dir = path.join(this.root, version);
    const a = await diskIOHandler(dir).load!();
    const update: ModelUpdate = {
      model_version: meta.model_version,
      created_at: meta.created_at,
      parent_version: meta.parent_version,
      backend: meta.backend,
      trained_samples: meta.trained_samples,
      topology_json: JSON.stringify(a.modelTopology),
      weight_specs_json: JSON.stringify(a.weightSpecs),
      weights: Buffer.from(a.weightData as ArrayBuffer),
      normalization_json: meta.normalization_json,
      heads: meta.heads,
      metrics_json: meta.metrics_json,
    };
    let optimizer: StoredVersion['optimizer'] = null;
    if (meta.has_optimizer) {
      const specs = JSON.parse(await fs.promises.readFile(path.join(dir, 'optimizer.json'), 'utf8')) as tf.io.WeightsManifestEntry[];
      const b = await fs.promises.readFile(path.join(dir, 'optimizer.bin'));
      optimizer = { specs, data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) };
    }
    return { meta, update, optimizer };
  }

  /** Records an operator's rollback: the trainer resumes from this version at its next start. */
  async markRollback(version: string, at = Date.now()): Promise<void> {
    await this.meta(version);
    await fs.promises.mkdir(this.root, { recursive: true });
    await writeAtomic(path.join(this.root, 'rollback.json'), JSON.stringify({ version, at }));
  }

  async rollbackMark(): Promise<{ version: string; at: number } | null> {
    try {
      return JSON.parse(await fs.promises.readFile(path.join(this.root, 'rollback.json'), 'utf8')) as { version: string; at: number };
    } catch {
      return null;
    }
  }

  async latest(): Promise<StoredVersion | null> {
    const v = await this.versions();
    return v.length === 0 ? null : this.load(v[v.length - 1]);
  }
}

export function versionId(n: number): string {
  return `v${String(n).padStart(6, '0')}`;
}
