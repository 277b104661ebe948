import * as tf from '@tensorflow/tfjs';
import type { ModelUpdate } from '@app/contracts';
import { exportModel } from './model-artifacts';
import { RunningNormalizer, rawEncode } from './input-encoding';
import { buildProfileModel } from './profile-model';
import { loadProfileModel, topScores } from './profile-model-loader';
import { userFeatures } from './testing/user-features.fixture';

async function makeUpdate(): Promise<ModelUpdate> {
  const model = buildProfileModel({ attributes: [{ name: 'sex', slots: 4 }], categorySlots: 6 });
  const norm = new RunningNormalizer();
  norm.update([rawEncode(userFeatures('a', { views_30d: 3 })), rawEncode(userFeatures('b', { views_30d: 30 }))]);
  const art = await exportModel(model);
  model.dispose();
  return {
    model_version: 'v000001', created_at: 1, parent_version: null, backend: tf.getBackend(), trained_samples: 2,
    topology_json: art.topologyJson, weight_specs_json: art.weightSpecsJson, weights: art.weights,
    normalization_json: JSON.stringify(norm.state()),
    heads: [
      { name: 'sex', kind: 'softmax', classes: ['0', '1'], decision_bias: [] },
      { name: 'purchase_24h', kind: 'sigmoid', classes: ['yes'], decision_bias: [] },
      { name: 'next_categories', kind: 'multilabel', classes: ['phones', 'cases', 'tv'], decision_bias: [] },
    ],
    metrics_json: '{}',
  };
}

describe('loadProfileModel', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('predicts every head with the trainer encoding and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const m = await loadProfileModel(await makeUpdate());
    const afterLoad = tf.memory().numTensors;
    const preds = m.predict([userFeatures('a', { views_30d: 5 }), userFeatures('b')]);
    m.predict([userFeatures('c')]);
    expect(tf.memory().numTensors).toBe(afterLoad);
    expect(preds).toHaveLength(2);
    const sex = preds[0].attributes.sex;
    expect(['0', '1']).toContain(sex.value);
    expect(sex.distribution['0'] + sex.distribution['1']).toBeCloseTo(1, 5);
    expect(sex.confidence).toBe(Math.max(sex.distribution['0'], sex.distribution['1']));
    expect(preds[0].purchasePropensity).toBeGreaterThan(0);
    expect(preds[0].purchasePropensity).toBeLessThan(1);
    expect(preds[0].nextCategories.map((c) => c.key).sort()).toEqual(['cases', 'phones', 'tv']);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects corrupt weights, an incompatible encoding and a head that does not fit', async () => {
    const u = await makeUpdate();
    await expect(loadProfileModel({ ...u, weights: u.weights.subarray(0, 100) })).rejects.toThrow(/v000001: cannot load.*bytes/);
    await expect(loadProfileModel({ ...u, normalization_json: '{"encoding_version":99}' })).rejects.toThrow(/encoding_version 99/);
    await expect(loadProfileModel({ ...u, normalization_json: 'nope' })).rejects.toThrow(/not JSON/);
    await expect(loadProfileModel({ ...u, heads: u.heads.slice(1) })).rejects.toThrow(/outputs/);
    const tooMany = u.heads.map((h) => (h.name === 'sex' ? { ...h, classes: ['a', 'b', 'c', 'd', 'e'] } : h));
    await expect(loadProfileModel({ ...u, heads: tooMany })).rejects.toThrow(/head sex/);
    await expect(loadProfileModel({ ...u, topology_json: '{' })).rejects.toThrow(/cannot load/);
    const badBias = u.heads.map((h) => (h.name === 'sex' ? { ...h, decision_bias: [0, Number.NaN] } : h));
    await expect(loadProfileModel({ ...u, heads: badBias })).rejects.toThrow(/decision_bias/);
    const shortBias = u.heads.map((h) => (h.name === 'sex' ? { ...h, decision_bias: [0] } : h));
    await expect(loadProfileModel({ ...u, heads: shortBias })).rejects.toThrow(/decision_bias/);
  });

  it("applies the head's decision rule to the value and keeps the model's distribution", async () => {
    const u = await makeUpdate();
    const plain = await loadProfileModel(u);
    const users = [userFeatures('a', { views_30d: 5 })];
    const p0 = plain.predict(users)[0].attributes.sex;
    const other = p0.value === '0' ? 1 : 0;
    const bias = [0, 0];
    bias[other] = 30; // far beyond any log-probability gap: the rule must pick the other class
    const tuned = await loadProfileModel({ ...u, heads: u.heads.map((h) => (h.name === 'sex' ? { ...h, decision_bias: bias } : h)) });
    const p1 = tuned.predict(users)[0].attributes.sex;
    expect(p1.value).toBe(String(other));
    expect(p1.distribution).toEqual(p0.distribution);
    expect(p1.confidence).toBe(p0.distribution[String(other)]);
    plain.dispose();
    tuned.dispose();
  });
});

describe('topScores', () => {
  it('equals sorting every score and taking the first n (ties keep class order)', () => {
    let x = 3;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 200; t++) {
      const k = 1 + Math.floor(rand() * 40);
      const classes = Array.from({ length: k }, (_, c) => `c${c}`);
      const out = Float32Array.from({ length: k + 3 }, () => Math.round(rand() * 20) / 20);
      const n = 1 + Math.floor(rand() * 6);
      const expected = classes
        .map((key, c) => ({ key, score: out[3 + c] }))
        .sort((a, b) => b.score - a.score)
        .slice(0, n);
      expect(topScores(classes, out, 3, n)).toEqual(expected);
    }
  });
});
