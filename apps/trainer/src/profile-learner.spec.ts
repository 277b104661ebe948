import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadProfileModel, ModelVersionStore, rawEncode, userFeaturesFixture } from '@app/model';
import type { TrainingSample } from './delayed-label-joiner';
import { classWeights, ProfileLearner } from './profile-learner';

function sample(i: number, sex: string | null, purchase: boolean | null = null): TrainingSample {
  // The signal: users with sex "1" view a lot, "0" rarely.
  const u = userFeaturesFixture(`u${i}`, { views_30d: sex === '1' ? 40 + (i % 7) : i % 3, cart_adds_30d: purchase ? 5 : 0 });
  return { userId: u.user_id, asOf: u.as_of, raw: rawEncode(u), categoriesAtAsOf: ['phones'], attributes: sex === null ? {} : { sex }, purchase, nextCategories: ['phones'] };
}

const options = { attributes: null, maxClasses: 4, categorySlots: 8, learningRate: 0.02 };

describe(ProfileLearner.name, () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('adds heads for attributes seen, learns a separable signal and masks unknown labels', () => {
    const l = ProfileLearner.create(options);
    const batch = Array.from({ length: 64 }, (_, i) => sample(i, i % 2 ? '1' : '0', i % 4 === 0));
    expect(l.observe(batch)).toBe(true);
    expect(l.heads().map((h) => `${h.name}:${h.kind}:${h.classes.join('|')}`)).toEqual(['sex:softmax:0|1', 'purchase_24h:sigmoid:yes', 'next_categories:multilabel:phones']);
    l.count(batch);
    const first = l.trainStep(batch);
    let last = first;
    for (let k = 0; k < 30; k++) last = l.trainStep(batch);
    expect(last).toBeLessThan(first * 0.7);
    const out = l.predict(batch.map((s) => s.raw))[0]; // [64, 4] softmax slots
    const correct = batch.filter((s, i) => (out[i * 4] > out[i * 4 + 1] ? '0' : '1') === s.attributes.sex).length;
    expect(correct / batch.length).toBeGreaterThan(0.9);

    // A batch whose labels are all unknown leaves every weight as it was.
    const before = l.model.getWeights().map((w) => w.dataSync().slice());
    const unlabelled = batch.map((s) => ({ ...s, attributes: {}, purchase: null, nextCategories: null }));
    expect(l.trainStep(unlabelled)).toBe(0);
    l.model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(before[i])));
    l.dispose();
  });

  it('keeps the learnt layers when a new attribute head appears', () => {
    const l = ProfileLearner.create(options);
    const a = [sample(1, '1'), sample(2, '0')];
    l.observe(a);
    l.trainStep(a);
    const trunk = l.model.getLayer('trunk_0').getWeights()[0].dataSync().slice();
    const b = [{ ...sample(3, '1'), attributes: { sex: '1', age: '30' } }];
    expect(l.observe(b)).toBe(true);
    expect(l.heads().map((h) => h.name)).toEqual(['sex', 'age', 'purchase_24h', 'next_categories']);
    expect(Array.from(l.model.getLayer('trunk_0').getWeights()[0].dataSync())).toEqual(Array.from(trunk));
    l.dispose();
  });

  it('round-trips through the version store with optimizer state and serves through loadProfileModel', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-store-'));
    try {
      const l = ProfileLearner.create(options);
      const batch = Array.from({ length: 16 }, (_, i) => sample(i, i % 2 ? '1' : '0', true));
      l.observe(batch);
      l.count(batch);
      for (let k = 0; k < 3; k++) l.trainStep(batch);
      const art = await l.artifacts();
      const opt = await l.optimizerWeights();
      expect(opt).not.toBeNull();
      const update = {
        model_version: 'v000001', created_at: 1, parent_version: null, backend: 'cpu', trained_samples: 48,
        topology_json: art.topologyJson, weight_specs_json: art.weightSpecsJson, weights: art.weights,
        normalization_json: JSON.stringify(l.normalizer.state()), heads: l.heads(), metrics_json: '{}',
      };
      const store = new ModelVersionStore(dir);
      await store.save(update, { published: true, gate: 'first', learnerState: l.state, optimizer: opt });
      expect(await store.versions()).toEqual(['v000001']);
      const restored = await ProfileLearner.restore(options, (await store.latest())!);
      expect(restored.heads()).toEqual(l.heads());
      const x = batch.map((s) => s.raw);
      expect(Array.from(restored.predict(x)[0])).toEqual(Array.from(l.predict(x)[0]));
      // Same optimizer state ⇒ the same next step.
      expect(restored.trainStep(batch)).toBeCloseTo(l.trainStep(batch), 5);
      const served = await loadProfileModel((await store.load('v000001')).update);
      expect(served.predict([userFeaturesFixture('z', { views_30d: 45 })])[0].attributes.sex.value).toMatch(/^[01]$/);
      served.dispose();
      l.dispose();
      restored.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('weights classes by the square root of their inverse frequency, clipped', () => {
    expect(classWeights([90, 10, 0])).toEqual([Math.sqrt(100 / 180), Math.sqrt(100 / 20), 1]);
    expect(classWeights([1000, 1])[1]).toBe(4);
  });
});
