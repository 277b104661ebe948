import * as tf from '@tensorflow/tfjs';

/** A model as plain data: what `model.updates.v1` carries and what the version store keeps. */
export interface ModelArtifactsData {
  topologyJson: string;
  weightSpecsJson: string;
  weights: Buffer;
}

/** Serialises a layers model without any file system handler (tfjs has none without tfjs-node). */
export async function exportModel(model: tf.LayersModel): Promise<ModelArtifactsData> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = captured as tf.io.ModelArtifacts | null;
  if (!a?.modelTopology || !a.weightSpecs || !a.weightData) throw new Error('model export produced no artifacts');
  const data = a.weightData instanceof ArrayBuffer ? a.weightData : tf.io.concatenateArrayBuffers(a.weightData);
  return {
    topologyJson: JSON.stringify(a.modelTopology),
    weightSpecsJson: JSON.stringify(a.weightSpecs),
    weights: Buffer.from(data),
  };
}

/** Loads a model from plain data; throws a clear error for corrupt artifacts. */
export async function importModel(data: ModelArtifactsData): Promise<tf.LayersModel> {
  const topology = JSON.parse(data.topologyJson) as object;
  const weightSpecs = JSON.parse(data.weightSpecsJson) as tf.io.WeightsManifestEntry[];
  const expected = weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (expected !== data.weights.length) {
    throw new Error(`weights are ${data.weights.length} bytes, the specs need ${expected}`);
  }
  const buf = data.weights.buffer.slice(data.weights.byteOffset, data.weights.byteOffset + data.weights.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs, weightData: buf }));
}
