import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import pino from 'pino';
import { selectBackend, userFeaturesFixture } from '@app/model';
import { OnlineTrainer } from '../../apps/trainer/src/online-trainer';

/**
 * No leaks over TRAINER_LEAK_STEPS (default 10,000) training steps of the real trainer core:
 * label join, prequential scoring by learner and live model, masked multi-task step with replay,
 * and a gated candidate version (export, save to disk, load as live) every 1,000 steps.
 * tf.memory().numTensors must be identical at every checkpoint after warm-up, and RSS flat.
 * Small mini-batches (3 fresh + 1 replayed) keep 10,000 steps around a minute on one core.
 */
const STEPS = Number(process.env.TRAINER_LEAK_STEPS ?? 10_000);

describe('trainer core: no tensor or memory leak', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trainer-leak-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`keeps numTensors and RSS flat over ${STEPS} training steps`, async () => {
    const logger = pino({ level: 'silent' });
    await selectBackend(logger, process.env.TRAINER_BACKEND ?? 'wasm');
    const trainer = new OnlineTrainer(
      {
        attributes: ['sex'], maxClasses: 4, categorySlots: 8, learningRate: 1e-3,
        horizonMs: 0, spacingMs: 0, watermarkLagMs: 0, maxPending: 1000, maxUsers: 1000, maxAttributeUsers: 1000,
        batchSize: 4, reservoirSize: 256, replayRatio: 1 / 3, versionEveryBatches: 1000, versionEveryMs: 1e9,
        gateTolerance: 10, gateMinSamples: 0, evalWindow: 500, driftLambda: 50, modelDir: dir, backend: tf.getBackend(),
      },
      logger,
    );
    await trainer.init();
    for (let u = 0; u < 50; u++) trainer.setAttributes(`u${u}`, { sex: String(u % 2) });
    const checkpoints: { step: number; tensors: number; rssMb: number }[] = [];
    let t = Date.UTC(2016, 3, 1);
    let steps = 0;
    const started = Date.now();
    while (steps < STEPS) {
      const batch = [0, 1, 2].map((k) => {
        const f = userFeaturesFixture(`u${(steps * 3 + k) % 50}`, { views_30d: (steps + k) % 40 }, (t += 1000));
        f.category_scores = [{ key: `c${(steps + k) % 10}`, score: 1 }];
        return f;
      });
      trainer.addFeatures(batch);
      steps += trainer.trainReady();
      if (trainer.candidateDue()) await trainer.candidate();
      if (steps % 1000 === 0 && steps > 0) {
        global.gc?.();
        checkpoints.push({ step: steps, tensors: tf.memory().numTensors, rssMb: process.memoryUsage().rss / 2 ** 20 });
      }
    }
    const elapsed = (Date.now() - started) / 1000;
     
    console.log(`leak test: ${steps} steps in ${elapsed.toFixed(1)} s on ${tf.getBackend()}`, checkpoints);
    const after = checkpoints.slice(1); // the first checkpoint is after warm-up (first live version loaded)
    expect(after.length).toBeGreaterThan(0);
    for (const c of after) expect(c.tensors).toBe(checkpoints[0].tensors);
    // RSS saw-tooths with garbage collection (the wasm heap and V8's old space are returned in
    // bursts), so compare the trend, not single points: a per-step leak over 10,000 steps shows as
    // a climb from the first to the last third of the run.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const third = Math.max(1, Math.floor(checkpoints.length / 3));
    const early = median(checkpoints.slice(0, third).map((c) => c.rssMb));
    const late = median(checkpoints.slice(-third).map((c) => c.rssMb));
    expect(late - early).toBeLessThan(96);
    trainer.dispose();
  }, Math.max(600_000, STEPS * 250)); // ~20 ms CPU per step; the shared CI machine gives us a fraction of a core
});
