import * as tf from '@tensorflow/tfjs';
import type { Logger } from 'pino';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export interface BackendChoice {
  backend: string;
  requested: string;
  tried: { name: string; error?: string }[];
}

/**
 * Picks the fastest usable TensorFlow.js backend: tfjs-node-gpu when it loads and sees a CUDA GPU,
 * else tfjs-node, else wasm (SIMD), else plain cpu. `TRAINER_BACKEND` forces one
 * (`gpu|node|wasm|cpu`). `tf.setBackend` resolves false instead of throwing when a backend fails,
 * so its result is checked. The tfjs-node packages are optional dependencies: their install
 * downloads libtensorflow and fails offline, which must not break `npm ci`.
 */
export async function selectBackend(logger: Logger, forced = process.env.TRAINER_BACKEND): Promise<BackendChoice> {
  tf.enableProdMode();
  const tried: BackendChoice['tried'] = [];
  const order = forced ? [forced] : ['gpu', 'node', 'wasm', 'cpu'];
  for (const name of order) {
    try {
      if (name === 'gpu') {
        require('@tensorflow/tfjs-node-gpu');
        if (!(await tf.setBackend('tensorflow'))) throw new Error('setBackend(tensorflow) returned false');
        if (!hasCudaDevice()) throw new Error('tfjs-node-gpu loaded but no CUDA GPU is visible');
      } else if (name === 'node') {
        require('@tensorflow/tfjs-node');
        if (!(await tf.setBackend('tensorflow'))) throw new Error('setBackend(tensorflow) returned false');
      } else if (name === 'wasm') {
        require('@tensorflow/tfjs-backend-wasm');
        if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
      } else if (name === 'cpu') {
        if (!(await tf.setBackend('cpu'))) throw new Error('setBackend(cpu) returned false');
      } else {
        throw new Error(`unknown TRAINER_BACKEND "${name}" (gpu|node|wasm|cpu)`);
      }
      await tf.ready();
      tried.push({ name });
      const choice = { backend: tf.getBackend(), requested: name, tried };
      logger.info({ event: 'tf_backend_selected', ...choice }, `TensorFlow.js backend: ${choice.backend}`);
      return choice;
    } catch (e) {
      tried.push({ name, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
    }
  }
  throw new Error(`no usable TensorFlow.js backend: ${JSON.stringify(tried)}`);
}

function hasCudaDevice(): boolean {
  // tfjs-node-gpu exposes no device query; the TF runtime logs the GPU it binds. Treat the
  // NVIDIA device node as the signal, which is what the CUDA runtime itself needs.
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node:fs').existsSync('/dev/nvidia0') as boolean;
  } catch {
    return false;
  }
}
