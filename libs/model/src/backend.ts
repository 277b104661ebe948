import { existsSync } from 'node:fs';
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
const BACKEND_OF: Record<string, string> = { gpu: 'tensorflow', node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

export interface BackendEnvironment {
  /** Loads an optional backend package (throws MODULE_NOT_FOUND when it is not installed). */
  load(pkg: string): void;
  setBackend(name: string): Promise<boolean>;
  hasCudaDevice(): boolean;
}

const nodeEnvironment: BackendEnvironment = {
  load: (pkg) => {
    // Optional packages: a static import would make them mandatory.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg);
  },
  setBackend: (name) => tf.setBackend(name),
  hasCudaDevice,
};

export async function selectBackend(logger: Logger, forced = process.env.TRAINER_BACKEND, env: BackendEnvironment = nodeEnvironment): Promise<BackendChoice> {
  tf.enableProdMode();
  const tried: BackendChoice['tried'] = [];
  const order = forced ? [forced] : ['gpu', 'node', 'wasm', 'cpu'];
  for (const name of order) {
    try {
      if (name === 'gpu') {
        env.load('@tensorflow/tfjs-node-gpu');
        // Checked before switching: tfjs-node-gpu without a GPU would silently run TF on the CPU.
        if (!env.hasCudaDevice()) throw new Error('tfjs-node-gpu loaded but no CUDA GPU is visible');
        if (!(await env.setBackend('tensorflow'))) throw new Error('setBackend(tensorflow) returned false');
      } else if (name === 'node') {
        env.load('@tensorflow/tfjs-node');
        if (!(await env.setBackend('tensorflow'))) throw new Error('setBackend(tensorflow) returned false');
      } else if (name === 'wasm') {
        env.load('@tensorflow/tfjs-backend-wasm');
        if (!(await env.setBackend('wasm'))) throw new Error('setBackend(wasm) returned false');
      } else if (name === 'cpu') {
        if (!(await env.setBackend('cpu'))) throw new Error('setBackend(cpu) returned false');
      } else {
        throw new Error(`unknown TRAINER_BACKEND "${name}" (gpu|node|wasm|cpu)`);
      }
      if (env === nodeEnvironment) {
        await tf.ready();
        if (tf.getBackend() !== BACKEND_OF[name]) throw new Error(`tf.getBackend() is ${tf.getBackend()} after selecting ${BACKEND_OF[name]}`);
      }
      tried.push({ name });
      const choice = { backend: BACKEND_OF[name], requested: name, tried };
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
  return existsSync('/dev/nvidia0');
}
