import * as tf from '@tensorflow/tfjs';
import pino from 'pino';
import { BackendEnvironment, selectBackend } from './backend';

const logger = pino({ level: 'silent' });

/** A fake environment: which packages are installed, which setBackend calls succeed. */
function env(installed: string[], working: string[], cuda = false): BackendEnvironment & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    load: (pkg) => {
      calls.push(`load ${pkg}`);
      if (!installed.includes(pkg)) throw Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' });
    },
    setBackend: (name) => {
      calls.push(`set ${name}`);
      return Promise.resolve(working.includes(name));
    },
    hasCudaDevice: () => cuda,
  };
}

describe(selectBackend.name, () => {
  it('falls back gpu → node → wasm when the optional tfjs-node packages are absent', async () => {
    const e = env(['@tensorflow/tfjs-backend-wasm'], ['wasm', 'cpu']);
    const choice = await selectBackend(logger, undefined, e);
    expect(choice.backend).toBe('wasm');
    expect(choice.tried.map((t) => t.name)).toEqual(['gpu', 'node', 'wasm']);
    expect(choice.tried[0].error).toMatch(/Cannot find module/);
    expect(e.calls).toEqual(['load @tensorflow/tfjs-node-gpu', 'load @tensorflow/tfjs-node', 'load @tensorflow/tfjs-backend-wasm', 'set wasm']);
  });

  it('falls back to cpu when setBackend(wasm) resolves false (it never throws)', async () => {
    const choice = await selectBackend(logger, undefined, env(['@tensorflow/tfjs-backend-wasm'], ['cpu']));
    expect(choice.backend).toBe('cpu');
    expect(choice.tried.find((t) => t.name === 'wasm')!.error).toMatch(/returned false/);
  });

  it('skips tfjs-node-gpu without a CUDA device and takes tfjs-node', async () => {
    const e = env(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'], ['tensorflow', 'cpu'], false);
    const choice = await selectBackend(logger, undefined, e);
    expect(choice).toMatchObject({ backend: 'tensorflow', requested: 'node' });
    expect(choice.tried[0].error).toMatch(/no CUDA GPU/);
    expect(e.calls.filter((c) => c === 'set tensorflow')).toHaveLength(1);
  });

  it('takes the GPU when tfjs-node-gpu loads and a CUDA device is visible', async () => {
    const choice = await selectBackend(logger, undefined, env(['@tensorflow/tfjs-node-gpu'], ['tensorflow'], true));
    expect(choice).toMatchObject({ backend: 'tensorflow', requested: 'gpu' });
  });

  it('honours TRAINER_BACKEND and fails loudly when the forced backend is unusable', async () => {
    await expect(selectBackend(logger, 'node', env([], ['cpu']))).rejects.toThrow(/no usable TensorFlow.js backend.*node/);
    await expect(selectBackend(logger, 'tpu', env([], ['cpu']))).rejects.toThrow(/unknown TRAINER_BACKEND/);
    expect((await selectBackend(logger, 'cpu', env([], ['cpu']))).backend).toBe('cpu');
  });

  it('really selects wasm by default in Node here (tfjs-node not installed) and computes with it', async () => {
    let nodeInstalled = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      nodeInstalled = false;
    }
    const choice = await selectBackend(logger);
    expect(choice.backend).toBe(nodeInstalled ? 'tensorflow' : 'wasm');
    expect(tf.getBackend()).toBe(choice.backend);
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
    expect(y).toBe(11);
    await tf.setBackend('cpu');
  });
});
