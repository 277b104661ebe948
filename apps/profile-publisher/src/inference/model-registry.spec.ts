import { exampleModelUpdate, exampleUserFeatures, ModelUpdate } from '@app/contracts';
import { ModelRegistry } from './model-registry';
import type { LoadedProfileModel, ProfileModelLoader } from './profile-model';

function fakeModel(version: string, disposed: string[]): LoadedProfileModel {
  return {
    predict: (batch) => batch.map(() => ({ attributes: { age: { value: version, confidence: 0.9, distribution: { [version]: 0.9 } } }, purchasePropensity: 0.5, nextCategories: [] })),
    dispose: () => disposed.push(version),
  };
}

const update = (version: string): ModelUpdate => ({ ...exampleModelUpdate(), model_version: version });

describe(ModelRegistry.name, () => {
  const disposed: string[] = [];
  const loader: ProfileModelLoader = async (u) => {
    if (u.model_version.startsWith('corrupt')) throw new Error('weights are 3 bytes, the specs need 1024');
    if (u.model_version.startsWith('nan')) return { ...fakeModel(u.model_version, disposed), predict: () => { throw new Error('shape mismatch'); } };
    return fakeModel(u.model_version, disposed);
  };
  let sut: ModelRegistry;
  beforeEach(() => {
    disposed.length = 0;
    sut = new ModelRegistry(loader);
  });

  it('answers "no prediction" while no model exists', () => {
    expect(sut.predict([exampleUserFeatures()])).toEqual({ version: null, predictions: [null] });
  });

  it('swaps to a fully loaded version, stamps it on predictions and disposes the old one', async () => {
    await sut.load(update('v1'));
    expect(await sut.load(update('v2'))).toEqual({ status: 'loaded', version: 'v2', previous: 'v1' });
    const r = sut.predict([exampleUserFeatures(), exampleUserFeatures()]);
    expect(r.version).toBe('v2');
    expect(r.predictions[1]?.attributes.age?.value).toBe('v2');
    expect(disposed).toEqual(['v1']);
  });

  it('rejects a version that fails to load and keeps the previous one', async () => {
    await sut.load(update('v1'));
    expect(await sut.load(update('corrupt-2'))).toEqual({ status: 'rejected', version: 'corrupt-2', reason: expect.stringMatching(/weights/), kept: 'v1' });
    expect(sut.predict([exampleUserFeatures()]).version).toBe('v1');
  });

  it('rejects a version that loads but cannot predict, and disposes it', async () => {
    await sut.load(update('v1'));
    expect(await sut.load(update('nan-3'))).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/smoke prediction failed: shape mismatch/), kept: 'v1' });
    expect(disposed).toEqual(['nan-3']);
    expect(sut.version).toBe('v1');
  });

  it('does not reload the version it already runs', async () => {
    await sut.load(update('v1'));
    expect(await sut.load(update('v1'))).toEqual({ status: 'unchanged', version: 'v1' });
  });
});
