import type { Logger } from 'pino';
import * as tf from '@tensorflow/tfjs';
import type { HeadMetrics, ModelMetrics, ModelUpdate, UserFeatures } from '@app/contracts';
import { fitDecisionBias, LoadedProfileModel, loadProfileModel, ModelVersionStore, NEXT_CATEGORIES_HEAD, PURCHASE_HEAD, versionId } from '@app/model';
import { DelayedLabelJoiner, JoinerOptions, TrainingSample } from './delayed-label-joiner';
import { PageHinkley } from './drift-detector';
import { PrequentialEvaluator } from './prequential-evaluator';
import { LearnerOptions, ProfileLearner } from './profile-learner';
import { Reservoir } from './reservoir';

export interface OnlineTrainerOptions extends LearnerOptions, JoinerOptions {
  batchSize: number;
  reservoirSize: number;
  replayRatio: number;
  versionEveryBatches: number;
  versionEveryMs: number;
  gateTolerance: number;
  gateMinSamples: number;
  evalWindow: number;
  driftLambda: number;
  maxAttributeUsers: number;
  modelDir: string;
  backend: string;
}

/** A candidate version and the gate's decision on it. */
export interface Candidate {
  update: ModelUpdate;
  published: boolean;
  gate: string;
}

const EPS = 1e-7;
/** Drift reaction: learning rate ×3 and replay halved for this many mini-batches. */
const DRIFT_BOOST_BATCHES = 50;

/**
 * The trainer's core, free of Kafka and ClickHouse (the consumer wires those):
 * UserFeatures + known attributes → delayed-label join → test-then-train on mini-batches of fresh
 * samples mixed with a reservoir of past ones → candidate versions every N batches or T ms →
 * a safety gate against the live version (paired prequential log loss on the same fresh
 * samples) → saved to disk always, published when it passes.
 */
export class OnlineTrainer {
  private learner!: ProfileLearner;
  private live: LoadedProfileModel | null = null;
  private readonly attributes = new Map<string, Record<string, string | null>>();
  private readonly joiner: DelayedLabelJoiner;
  private readonly ready: TrainingSample[] = [];
  private readonly reservoir: Reservoir<TrainingSample>;
  private learnerEval!: PrequentialEvaluator;
  private liveEval!: PrequentialEvaluator;
  private paired: { learner: number; live: number }[] = [];
  private pairedNext = 0;
  private readonly drift: PageHinkley;
  private driftBoost = 0;
  private driftSinceMetrics = false;
  readonly store: ModelVersionStore;
  private versionCounter = 0;
  private lastVersion: string | null = null;
  private batchesSinceCandidate = 0;
  private samplesSinceCandidate = 0;
  private lastCandidateAt = Date.now();
  trainedSamples = 0;
  steps = 0;
  lastLoss: number | null = null;
  driftEvents = 0;

  constructor(
    readonly options: OnlineTrainerOptions,
    private readonly logger: Logger,
  ) {
    this.joiner = new DelayedLabelJoiner(options, (id) => this.attributes.get(id));
    this.reservoir = new Reservoir(Math.max(1, options.reservoirSize));
    this.drift = new PageHinkley(0.01, options.driftLambda, 200);
    this.store = new ModelVersionStore(options.modelDir);
  }

  get liveVersion(): string | null {
    return this.live?.version ?? null;
  }

  get pendingSamples(): number {
    return this.joiner.pending + this.ready.length;
  }

  /** Resumes from the latest saved version (weights, optimizer, vocabularies) and its live model. */
  async init(): Promise<void> {
    const versions = await this.store.versions();
    this.versionCounter = versions.reduce((m, v) => Math.max(m, Number(v.slice(1))), 0);
    let latest = versions.length > 0 ? await this.store.load(versions[versions.length - 1]) : null;
    // An operator's rollback (npm run model -- rollback) made after the latest version wins.
    const rollback = await this.store.rollbackMark();
    const rolledBack = latest !== null && rollback !== null && rollback.at > latest.meta.created_at && versions.includes(rollback.version);
    if (rolledBack) latest = await this.store.load(rollback.version);
    if (latest) {
      this.learner = await ProfileLearner.restore(this.options, latest);
      this.trainedSamples = latest.meta.trained_samples;
      this.steps = (latest.meta.learner_state as { steps?: number } | undefined)?.steps ?? 0;
      this.lastVersion = latest.meta.model_version;
      for (let i = rolledBack ? versions.indexOf(latest.meta.model_version) : versions.length - 1; i >= 0; i--) {
        const meta = await this.store.meta(versions[i]);
        if (meta.published) {
          this.live = await loadProfileModel((await this.store.load(meta.model_version)).update);
          break;
        }
      }
      this.logger.info(
        { event: 'trainer_resumed', version: latest.meta.model_version, rolled_back: rolledBack, live: this.live?.version ?? null, trained_samples: this.trainedSamples },
        `resumed from ${latest.meta.model_version}`,
      );
    } else {
      this.learner = ProfileLearner.create(this.options);
      this.logger.info({ event: 'trainer_fresh_start', model_dir: this.options.modelDir }, 'no saved version: starting a new model');
    }
    this.resetEvaluators(true);
  }

  private resetEvaluators(learnerToo: boolean): void {
    const define = (e: PrequentialEvaluator) => {
      for (const a of this.learner.state.attributes) e.defineHead(a.name, 'softmax', () => a.classes);
      e.defineHead(PURCHASE_HEAD, 'sigmoid', () => ['yes']);
      e.defineHead(NEXT_CATEGORIES_HEAD, 'multilabel', () => this.learner.state.categories);
    };
    if (learnerToo) {
      this.learnerEval = new PrequentialEvaluator(this.options.evalWindow);
      define(this.learnerEval);
    }
    this.liveEval = new PrequentialEvaluator(this.options.evalWindow);
    define(this.liveEval);
    this.paired = [];
    this.pairedNext = 0;
  }

  get attributeUsers(): number {
    return this.attributes.size;
  }

  /** Latest known attribute values of a user (user.attributes.v1 is compacted: latest wins). */
  setAttributes(userId: string, attributes: Record<string, string | null>): void {
    this.attributes.delete(userId);
    this.attributes.set(userId, attributes);
    if (this.attributes.size > this.options.maxAttributeUsers) this.attributes.delete(this.attributes.keys().next().value as string);
  }

  /** Feeds UserFeatures; samples whose label window closed queue up for training. */
  addFeatures(batch: readonly UserFeatures[]): void {
    for (const u of batch) for (const s of this.joiner.add(u)) this.ready.push(s);
  }

  get readySamples(): number {
    return this.ready.length;
  }

  /** Trains every full mini-batch (and the partial rest when `flush`); returns the steps taken. */
  trainReady(flush = false): number {
    let n = 0;
    const freshPerBatch = Math.max(1, Math.round(this.options.batchSize / (1 + this.replayRatio())));
    while (this.ready.length >= freshPerBatch || (flush && this.ready.length > 0)) {
      this.step(this.ready.splice(0, freshPerBatch));
      n++;
    }
    return n;
  }

  private replayRatio(): number {
    return this.driftBoost > 0 ? this.options.replayRatio / 2 : this.options.replayRatio;
  }

  /** Test-then-train on one set of fresh samples. */
  private step(fresh: TrainingSample[]): void {
    if (this.learner.observe(fresh)) this.resetEvaluators(true);
    this.score(fresh);
    this.learner.count(fresh);
    const replay = this.reservoir.draw(Math.round(fresh.length * this.replayRatio()));
    this.lastLoss = this.learner.trainStep([...fresh, ...replay]);
    for (const s of fresh) this.reservoir.add(s);
    this.trainedSamples += fresh.length;
    this.samplesSinceCandidate += fresh.length;
    this.steps++;
    this.batchesSinceCandidate++;
    if (this.driftBoost > 0 && --this.driftBoost === 0) this.learner.setLearningRateFactor(1);
  }

  private score(fresh: TrainingSample[]): void {
    const raw = fresh.map((s) => s.raw);
    const heads = this.learner.heads();
    const mine = this.learner.predict(raw);
    const liveHeads = this.live?.heads ?? [];
    const theirs = this.live ? this.live.predictHeads(raw) : null;
    const S = this.options.maxClasses;
    const K = this.options.categorySlots;
    fresh.forEach((s, i) => {
      let lossMine = 0;
      let lossLive = 0;
      let labelled = 0;
      let pairedHeads = 0;
      heads.forEach((h, k) => {
        const li = liveHeads.findIndex((x) => x.name === h.name);
        const out = (o: Float32Array[] | null, idx: number, width: number) => (o && idx >= 0 ? o[idx].subarray(i * width, (i + 1) * width) : null);
        if (h.kind === 'softmax') {
          const v = s.attributes[h.name];
          const c = v == null ? -1 : h.classes.indexOf(v);
          if (c < 0) return;
          const probs = (row: Float32Array) => {
            const p = row.slice(0, h.classes.length);
            const t = p.reduce((a, b) => a + b, 0);
            return p.map((x) => (t > 0 ? x / t : 1 / p.length));
          };
          const pm = probs(out(mine, k, S)!);
          this.learnerEval.record(h.name, c, pm);
          lossMine += -Math.log(Math.max(EPS, pm[c]));
          labelled++;
          const lr = out(theirs, li, S);
          if (lr) {
            const pl = probs(lr);
            this.liveEval.record(h.name, c, pl);
            lossLive += -Math.log(Math.max(EPS, pl[c]));
            pairedHeads++;
          }
        } else if (h.kind === 'sigmoid') {
          if (s.purchase === null) return;
          const y = s.purchase ? 1 : 0;
          const p = out(mine, k, 1)![0];
          this.learnerEval.record(h.name, y, new Float32Array([p]));
          lossMine += bce(y, p);
          labelled++;
          const lr = out(theirs, li, 1);
          if (lr) {
            this.liveEval.record(h.name, y, new Float32Array([lr[0]]));
            lossLive += bce(y, lr[0]);
            pairedHeads++;
          }
        } else {
          const active = h.classes.length;
          if (s.nextCategories === null || active === 0) return;
          const truth = new Uint8Array(active);
          for (const key of s.nextCategories) {
            const c = h.classes.indexOf(key);
            if (c >= 0) truth[c] = 1;
          }
          const pm = out(mine, k, K)!.slice(0, active);
          this.learnerEval.recordMultilabel(h.name, truth, pm);
          lossMine += meanBce(truth, pm);
          labelled++;
          const lr = out(theirs, li, K);
          if (lr) {
            const pl = lr.slice(0, active);
            this.liveEval.recordMultilabel(h.name, truth, pl);
            lossLive += meanBce(truth, pl);
            pairedHeads++;
          }
        }
      });
      if (labelled === 0) return;
      this.learnerEval.samplesSeen++;
      if (theirs) this.liveEval.samplesSeen++;
      if (pairedHeads === labelled && theirs) this.pushPaired(lossMine / labelled, lossLive / labelled);
      if (this.drift.add(lossMine / labelled)) this.onDrift();
    });
  }

  private pushPaired(learner: number, live: number): void {
    const e = { learner, live };
    if (this.paired.length < this.options.evalWindow) this.paired.push(e);
    else this.paired[this.pairedNext] = e;
    this.pairedNext = (this.pairedNext + 1) % this.options.evalWindow;
  }

  /**
   * Drift reaction (documented in docs/trainer.md): the learning rate goes ×3 and the replay share
   * is halved for DRIFT_BOOST_BATCHES mini-batches, so the model adapts to the new regime faster
   * while the reservoir still guards against forgetting; the gate still protects the live version.
   */
  private onDrift(): void {
    this.driftEvents++;
    this.driftSinceMetrics = true;
    this.driftBoost = DRIFT_BOOST_BATCHES;
    this.learner.setLearningRateFactor(3);
    this.logger.warn(
      { event: 'drift_detected', detector: 'page_hinkley', steps: this.steps, samples: this.trainedSamples, reaction: 'lr x3, replay /2 for 50 batches' },
      'prequential loss drift detected',
    );
  }

  /** True when a candidate is due (N batches or T ms since the last one, with new training). */
  candidateDue(now = Date.now()): boolean {
    if (this.samplesSinceCandidate === 0) return false;
    return this.batchesSinceCandidate >= this.options.versionEveryBatches || now - this.lastCandidateAt >= this.options.versionEveryMs || this.live === null;
  }

  /** Makes a candidate version, gates it against the live one, saves it; publishes when it passes. */
  async candidate(): Promise<Candidate> {
    const version = versionId(++this.versionCounter);
    const art = await this.learner.artifacts();
    const metrics = { learner: this.learnerEval.metrics(), live: this.live ? { version: this.live.version, heads: this.liveEval.metrics() } : null, loss: this.lastLoss, steps: this.steps };
    const update: ModelUpdate = {
      model_version: version,
      created_at: Date.now(),
      parent_version: this.lastVersion,
      backend: this.options.backend,
      trained_samples: this.trainedSamples,
      topology_json: art.topologyJson,
      weight_specs_json: art.weightSpecsJson,
      weights: art.weights,
      normalization_json: JSON.stringify(this.learner.normalizer.state()),
      heads: this.learner.heads().map((h) =>
        h.kind === 'softmax' ? { ...h, decision_bias: fitDecisionBias(this.learnerEval.window(h.name), h.classes.length) } : h,
      ),
      metrics_json: JSON.stringify(metrics),
    };
    const { published, gate } = this.gate();
    await this.store.save(update, { published, gate, learnerState: { ...this.learner.state, steps: this.steps }, optimizer: await this.learner.optimizerWeights() });
    this.lastVersion = version;
    this.batchesSinceCandidate = 0;
    this.samplesSinceCandidate = 0;
    this.lastCandidateAt = Date.now();
    if (published) {
      const next = await loadProfileModel(update);
      this.live?.dispose();
      this.live = next;
      this.resetEvaluators(false);
    }
    this.logger.info({ event: published ? 'model_candidate_published' : 'model_candidate_held', version, gate, trained_samples: this.trainedSamples }, `candidate ${version}: ${gate}`);
    return { update, published, gate };
  }

  private gate(): { published: boolean; gate: string } {
    if (!this.live) return { published: this.trainedSamples > 0, gate: 'first version: no live version to compare with' };
    const n = this.paired.length;
    if (n < this.options.gateMinSamples) return { published: false, gate: `held: ${n} paired samples < ${this.options.gateMinSamples}` };
    const mine = this.paired.reduce((a, p) => a + p.learner, 0) / n;
    const live = this.paired.reduce((a, p) => a + p.live, 0) / n;
    const limit = live * (1 + this.options.gateTolerance);
    const text = `paired log loss ${mine.toFixed(4)} vs live ${live.toFixed(4)} (limit ${limit.toFixed(4)}, n=${n})`;
    return mine <= limit ? { published: true, gate: `passed: ${text}` } : { published: false, gate: `held: ${text}` };
  }

  /** Sliding-window prequential metrics: the learner's and, when one exists, the live version's. */
  metrics(): { role: 'learner' | 'live'; message: ModelMetrics }[] {
    const drift = this.driftSinceMetrics;
    this.driftSinceMetrics = false;
    const msg = (version: string, e: PrequentialEvaluator, heads: HeadMetrics[]): ModelMetrics => ({
      model_version: version,
      emitted_at: Date.now(),
      samples_seen: e.samplesSeen,
      window_size: this.options.evalWindow,
      drift,
      heads,
    });
    const out: { role: 'learner' | 'live'; message: ModelMetrics }[] = [
      { role: 'learner', message: msg(`${this.lastVersion ?? 'none'}+learner`, this.learnerEval, this.learnerEval.metrics()) },
    ];
    if (this.live) out.push({ role: 'live', message: msg(this.live.version, this.liveEval, this.liveEval.metrics()) });
    return out;
  }

  dispose(): void {
    this.live?.dispose();
    this.learner?.dispose();
    if (tf.memory().numTensors > 0) this.logger.debug({ event: 'tensors_at_dispose', tensors: tf.memory().numTensors }, 'tensors left');
  }
}

function bce(y: number, p: number): number {
  return -Math.log(Math.max(EPS, y ? p : 1 - p));
}

function meanBce(truth: Uint8Array, p: Float32Array): number {
  if (p.length === 0) return 0;
  let s = 0;
  for (let c = 0; c < p.length; c++) s += bce(truth[c], p[c]);
  return s / p.length;
}
