import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { PublisherConfig } from '@app/config';
import {
  ALL_TOPIC_SPECS,
  buildDeadLetter,
  Codecs,
  DeadLetter,
  DeadLetterReasons,
  ProfileUpdated,
  Topics,
  UserFeatures,
} from '@app/contracts';
import { BatchConsumer, IncomingMessage, KafkaBus, MessageProducer, OutgoingMessage } from '@app/kafka';
import { HealthRegistry, LOGGER, Metrics } from '@app/observability';
import { ChangeThresholds, materialChanges } from './change-detector';
import { ModelRegistry } from './inference/model-registry';
import { KnownAttributesStore } from './known-attributes.store';
import { profileUpdate, reviseProfile } from './profile-assembler';
import { ProfileCache } from './profile-cache';
import { ProfileRepository, SegmentTransition } from './profile.repository';
import { SegmentRuleSet } from './segments/segment-rule-set';
import { PUBLISHER_CONFIG } from './tokens';

const SERVICE = 'profile-publisher';

/**
 * user.features.v1 (+ model.updates.v1, user.attributes.v1) → profile.updated.v1, ClickHouse and
 * the lookup cache. Per batch: decode (dead-letter what does not), keep the newest state per
 * user, batched inference with one model version, assemble, keep only material changes, write
 * ClickHouse (durable), then produce, then update the cache; offsets are committed after that.
 *
 * TRICKY: features, attribute updates and segment reloads all produce new versions of the same
 * users' profiles, so they run one at a time (`exclusive`): two versions computed concurrently
 * from the same previous profile would share a version number.
 */
@Injectable()
export class ProfilePipeline implements OnApplicationBootstrap, OnModuleDestroy {
  private consumers: BatchConsumer[] = [];
  private producer: MessageProducer | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly sharedRuns = new Set<Promise<void>>();
  /** True while the cache holds every stored profile (warm-up got them all, nothing evicted since). */
  private cacheComplete = false;
  private evictionsAtWarm = 0;
  private readonly thresholds: ChangeThresholds;
  private readonly m;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(PUBLISHER_CONFIG) private readonly config: PublisherConfig,
    private readonly bus: KafkaBus,
    private readonly repo: ProfileRepository,
    private readonly cache: ProfileCache,
    private readonly registry: ModelRegistry,
    private readonly rules: SegmentRuleSet,
    private readonly known: KnownAttributesStore,
    private readonly health: HealthRegistry,
    metrics: Metrics,
  ) {
    this.thresholds = {
      minCountChange: config.PUBLISHER_MIN_COUNT_CHANGE,
      minScoreDelta: config.PUBLISHER_MIN_SCORE_DELTA,
      maxStalenessMs: config.PUBLISHER_MAX_STALENESS_MS,
    };
    this.warmLimit = config.PUBLISHER_WARM_PROFILES;
    this.rescoreLimit = config.PUBLISHER_RESCORE_USERS;
    this.m = {
      inputs: metrics.counter('portrait_publisher_features_in_total', 'UserFeatures messages consumed'),
      published: metrics.counter('portrait_profiles_published_total', 'Profile versions published'),
      suppressed: metrics.counter('portrait_profiles_suppressed_total', 'Profiles computed but not published (no material change)'),
      perInput: metrics.gauge('portrait_publisher_messages_per_input', 'Published profiles per consumed features message since start'),
      deadLetters: metrics.counter('portrait_publisher_dead_letters_total', 'Input messages dead-lettered'),
      modelLoads: metrics.counter('portrait_publisher_model_loads_total', 'Model versions loaded'),
      modelRejections: metrics.counter('portrait_publisher_model_rejections_total', 'Model versions rejected (undecodable or failed to load)'),
      freshness: metrics.histogram('portrait_profile_freshness_seconds', 'Profile published minus newest event ingested', [], [
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
      ]),
      batchSeconds: metrics.histogram('portrait_publisher_batch_seconds', 'Time to process one features batch', [], [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]),
    };
  }

  private readonly warmLimit: number;
  private readonly rescoreLimit: number;
  /** Each user's latest UserFeatures as received (encoded), most recent last: the input of a re-score. */
  private readonly lastFeatures = new Map<string, Buffer>();
  private rescoring: Promise<void> = Promise.resolve();
  private inputsSeen = 0;
  private publishedCount = 0;

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.ensureTopics(ALL_TOPIC_SPECS);
    this.producer = await this.bus.producer();
    await this.warmCache();
    this.logger.info({ event: 'cache_warmed', profiles: this.cache.size, complete: this.cacheComplete }, 'profile cache warmed from ClickHouse');
    // Entering or leaving a segment is a profile change, also when the rules (not the user) changed.
    this.rules.onReloaded((outcome) => {
      if (!outcome.ok || !outcome.changed) return;
      this.reevaluateSegments().then(
        (n) => this.logger.info({ event: 'segments_reevaluated', profiles_changed: n }, 'cached profiles re-evaluated against the new rules'),
        (e: unknown) => this.logger.error({ event: 'segments_reevaluation_failed', err: e }, 're-evaluating segments failed; profiles catch up on their next features'),
      );
    });
    this.rules.start();

    // Every replica needs every model version and every known attribute: groups of their own.
    const models = this.bus.consumer({
      groupId: `profile-publisher-models-${randomUUID()}`,
      topics: [Topics.ModelUpdates],
      handler: (messages) => this.onModels(messages),
    });
    const attributes = this.bus.consumer({
      groupId: `profile-publisher-attributes-${randomUUID()}`,
      topics: [Topics.UserAttributes],
      handler: (messages) => this.exclusive(() => this.onAttributes(messages)),
    });
    const features = this.bus.consumer({
      groupId: 'profile-publisher',
      topics: [Topics.UserFeatures],
      handler: (messages) => this.shared(() => this.onFeatures(messages)),
      concurrency: this.config.PUBLISHER_PARTITION_CONCURRENCY,
      onAssignment: () => this.exclusive(async () => this.onFeaturesAssignment()),
    });
    this.consumers = [models, attributes, features];
    this.health.register('models_consumer', () => models.health());
    this.health.register('attributes_consumer', () => attributes.health());
    this.health.register('features_consumer', () => features.health());
    this.health.register('segment_rules', () => ({
      ok: true,
      detail: this.rules.lastError ? `kept previous rules; last rejection: ${this.rules.lastError.rule}: ${this.rules.lastError.reason}` : `${this.rules.names.length} segments`,
    }));
    await models.start();
    await attributes.start();
    await features.start();
  }

  private stopping = false;

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.rules.stop();
    for (const c of [...this.consumers].reverse()) await c.disconnect();
    await this.rescoring;
    await this.chain.catch(() => undefined);
    await Promise.allSettled([...this.sharedRuns]);
    this.registry.dispose();
  }

  /** Re-evaluates cached profiles after a rule reload; membership changes are published. */
  async reevaluateSegments(): Promise<number> {
    return this.exclusive(async () => {
      const revised: ProfileUpdated[] = [];
      const previous = new Map<string, ProfileUpdated>();
      const now = Date.now();
      for (const prev of this.cache.recent(this.cache.size)) {
        const next = reviseProfile(prev, this.known.get(prev.user_id), this.rules.current, now);
        if (next.segments.join(',') !== prev.segments.join(',')) {
          revised.push(next);
          previous.set(prev.user_id, prev);
        }
      }
      for (let i = 0; i < revised.length; i += 5000) await this.publish(revised.slice(i, i + 5000), previous);
      return revised.length;
    });
  }

  /**
   * TRICKY: with several replicas, partitions (and so users) move between them on a rebalance,
   * and the new owner's cached profiles may be older than what the previous owner published.
   * After any assignment but the first, forget the cache: previous versions then come from
   * ClickHouse, which every replica writes before it publishes, so `version` stays monotonic.
   */
  private assignments = 0;
  private async onFeaturesAssignment(): Promise<void> {
    if (this.assignments++ === 0) return;
    this.cache.clear();
    await this.warmCache();
    this.logger.info(
      { event: 'cache_rewarmed_after_rebalance', profiles: this.cache.size, complete: this.cacheComplete },
      'partitions reassigned: profile cache reloaded from ClickHouse',
    );
  }

  /**
   * Loads the most recently computed profiles (oldest first, so the newest end up most recent),
   * and whether the cache now holds every stored profile — then a miss is a new user and needs no
   * ClickHouse round trip. After a rebalance too: leaving the cache "incomplete" for good there
   * sent every new user's first features to ClickHouse (`latestFor`) for the rest of the process's
   * life, which at 3,000 new users/s put the publisher seconds behind.
   */
  private async warmCache(): Promise<void> {
    this.cacheComplete = false;
    const evictionsBefore = this.cache.evictions;
    const warm = await this.repo.mostRecent(this.warmLimit);
    for (let i = warm.length - 1; i >= 0; i--) this.cache.put(warm[i]);
    this.evictionsAtWarm = this.cache.evictions;
    this.cacheComplete = warm.length < this.warmLimit && this.cache.evictions === evictionsBefore;
  }

  /** Runs alone: waits for running work, and holds back new work until it is done. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const shared = [...this.sharedRuns];
    const run = this.chain.then(() => Promise.allSettled(shared)).then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs alongside other shared work. Features batches are shared: each partition's batch holds
   * disjoint users (keyed by user), so they need not wait for each other.
   */
  private shared<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.sharedRuns.add(settled);
    void settled.then(() => this.sharedRuns.delete(settled));
    return run;
  }

  private async onModels(messages: IncomingMessage[]): Promise<void> {
    // Newest first: the newest version that loads wins; older ones need not be loaded at all.
    const dead: DeadLetter[] = [];
    const candidates = [];
    for (const m of messages) {
      const r = m.value ? Codecs.ModelUpdate.tryDecode(m.value) : null;
      if (r?.ok) candidates.push(r.value);
      else {
        this.m.modelRejections.inc();
        const reason = r ? r.error.message : 'empty message';
        this.logger.error({ event: 'model_update_rejected', offset: m.offset, reason }, 'undecodable model update; keeping the current model');
        dead.push(this.deadLetter(m, reason, r ? r.reasonCode : DeadLetterReasons.CorruptAvro, 'decode_model'));
      }
    }
    for (const update of candidates.reverse()) {
      const outcome = await this.registry.load(update);
      if (outcome.status === 'loaded') {
        this.m.modelLoads.inc();
        this.logger.info({ event: 'model_loaded', version: outcome.version, previous: outcome.previous }, 'model version loaded');
        // Predictions should follow the model, not wait for each user's next event.
        this.rescoring = this.rescoring
          .then(() => this.rescoreAll())
          .then(
            () => undefined,
            (e: unknown) =>
              this.logger.error({ event: 'rescore_failed', err: e }, 're-scoring after a model update failed; profiles catch up on their next features'),
          );
        break;
      }
      if (outcome.status === 'unchanged') break;
      this.m.modelRejections.inc();
      this.logger.error(
        { event: 'model_update_rejected', version: outcome.version, reason: outcome.reason, kept: outcome.kept },
        `model ${outcome.version} failed to load (${outcome.reason}); keeping ${outcome.kept ?? 'no model'}`,
      );
    }
    await this.sendDeadLetters(dead);
  }

  private async onAttributes(messages: IncomingMessage[]): Promise<void> {
    const dead: DeadLetter[] = [];
    const touched = new Set<string>();
    for (const m of messages) {
      const r = m.value ? Codecs.UserAttributes.tryDecode(m.value) : null;
      if (r?.ok) {
        if (this.known.apply(r.value)) touched.add(r.value.user_id);
      } else dead.push(this.deadLetter(m, r ? r.error.message : 'empty message', r ? r.reasonCode : DeadLetterReasons.CorruptAvro, 'decode_attributes'));
    }
    if (touched.size > 0) {
      const previous = await this.previousProfiles([...touched]);
      const now = Date.now();
      const revised: ProfileUpdated[] = [];
      for (const prev of previous.values()) revised.push(reviseProfile(prev, this.known.get(prev.user_id), this.rules.current, now));
      await this.publish(
        revised.filter((p) => materialChanges(previous.get(p.user_id), p, this.thresholds).length > 0),
        previous,
      );
    }
    await this.sendDeadLetters(dead);
  }

  private async onFeatures(messages: IncomingMessage[]): Promise<void> {
    const started = process.hrtime.bigint();
    const dead: DeadLetter[] = [];
    // Each message is the user's whole current state: the last one per user in the batch is enough.
    const latest = new Map<string, UserFeatures>();
    for (const m of messages) {
      const r = m.value ? Codecs.UserFeatures.tryDecode(m.value) : null;
      if (r?.ok) {
        latest.delete(r.value.user_id);
        latest.set(r.value.user_id, r.value);
        this.rememberFeatures(r.value.user_id, m.value!);
      } else {
        const reason = r ? r.error.message : 'empty message';
        this.logger.warn({ event: 'features_dead_lettered', offset: m.offset, reason }, 'undecodable features message dead-lettered');
        dead.push(this.deadLetter(m, reason, r ? r.reasonCode : DeadLetterReasons.CorruptAvro, 'decode_features'));
      }
    }
    this.inputsSeen += messages.length;
    this.m.inputs.inc(messages.length);

    const previous = await this.previousProfiles([...latest.keys()]);
    // Replays can deliver states older than what was published: never go back in event time.
    const batch = [...latest.values()].filter((f) => {
      const prev = previous.get(f.user_id);
      return !prev || f.as_of >= prev.as_of;
    });
    const { version, predictions } = this.predict(batch);
    const now = Date.now();
    const segments = this.rules.current;
    const changed: ProfileUpdated[] = [];
    batch.forEach((f, i) => {
      const next = profileUpdate(
        { features: f, previous: previous.get(f.user_id), prediction: predictions[i] ?? null, modelVersion: version, known: this.known.get(f.user_id), segments, now },
        this.thresholds,
      );
      if (next) changed.push(next);
    });
    this.m.suppressed.inc(messages.length - dead.length - changed.length);
    await this.publish(changed, previous);
    await this.sendDeadLetters(dead);
    this.m.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private rememberFeatures(userId: string, encoded: Buffer): void {
    if (this.rescoreLimit === 0) return;
    this.lastFeatures.delete(userId);
    this.lastFeatures.set(userId, encoded);
    if (this.lastFeatures.size > this.rescoreLimit) this.lastFeatures.delete(this.lastFeatures.keys().next().value!);
  }

  /**
   * After a new model version loaded: recomputes the predictions of every user whose latest
   * features are remembered and publishes the profiles that changed materially (in chunks, each
   * alone like any other profile change, so versions stay monotonic).
   */
  async rescoreAll(chunk = 1000): Promise<number> {
    const version = this.registry.version;
    if (!version) return 0;
    const users = [...this.lastFeatures.keys()];
    let published = 0;
    for (let i = 0; i < users.length; i += chunk) {
      if (this.registry.version !== version || this.stopping) break; // a newer version re-scores on its own
      published += await this.exclusive(async () => {
        const batch: UserFeatures[] = [];
        for (const u of users.slice(i, i + chunk)) {
          const raw = this.lastFeatures.get(u);
          const r = raw ? Codecs.UserFeatures.tryDecode(raw) : null;
          if (r?.ok) batch.push(r.value);
        }
        const previous = await this.previousProfiles(batch.map((f) => f.user_id));
        const stale = batch.filter((f) => {
          const prev = previous.get(f.user_id);
          return prev !== undefined && prev.model_version !== version && f.as_of >= prev.as_of;
        });
        if (stale.length === 0) return 0;
        const { version: used, predictions } = this.predict(stale);
        const now = Date.now();
        const changed: ProfileUpdated[] = [];
        stale.forEach((f, k) => {
          const next = profileUpdate(
            {
              features: f,
              previous: previous.get(f.user_id),
              prediction: predictions[k] ?? null,
              modelVersion: used,
              known: this.known.get(f.user_id),
              segments: this.rules.current,
              now,
            },
            this.thresholds,
          );
          if (next) changed.push(next);
        });
        await this.publish(changed, previous);
        return changed.length;
      });
    }
    this.logger.info({ event: 'profiles_rescored', version, users: users.length, published }, 'profiles re-scored with the new model');
    return published;
  }

  private predict(batch: UserFeatures[]) {
    try {
      return this.registry.predict(batch);
    } catch (e) {
      // A model that loaded but cannot score this batch: profiles go out without fresh predictions.
      this.logger.error({ event: 'inference_failed', version: this.registry.version, err: e }, 'inference failed; publishing without predictions');
      return { version: null, predictions: batch.map(() => null) };
    }
  }

  /** Previous published profile per user: the cache, else ClickHouse (keeps `version` monotonic across restarts). */
  private async previousProfiles(userIds: string[]): Promise<Map<string, ProfileUpdated>> {
    const out = new Map<string, ProfileUpdated>();
    const missing: string[] = [];
    for (const id of userIds) {
      const p = this.cache.get(id);
      if (p) out.set(id, p);
      else missing.push(id);
    }
    // A miss in a cache that holds every stored profile is a new user: no ClickHouse round trip.
    if (this.cacheComplete && this.cache.evictions === this.evictionsAtWarm) return out;
    for (const p of await this.repo.latestFor(missing)) out.set(p.user_id, p);
    return out;
  }

  private async publish(profiles: ProfileUpdated[], previous: Map<string, ProfileUpdated>): Promise<void> {
    if (profiles.length === 0) return;
    const transitions: SegmentTransition[] = [];
    for (const p of profiles) {
      const before = new Set(previous.get(p.user_id)?.segments ?? []);
      const after = new Set(p.segments);
      for (const s of after) if (!before.has(s)) transitions.push({ segment: s, userId: p.user_id, action: 'enter', at: p.as_of, profileVersion: p.version });
      for (const s of before) if (!after.has(s)) transitions.push({ segment: s, userId: p.user_id, action: 'leave', at: p.as_of, profileVersion: p.version });
    }
    const messages: OutgoingMessage[] = profiles.map((p) => ({ key: p.user_id, value: Codecs.ProfileUpdated.encode(p), timestamp: p.computed_at }));
    // Both must be durable before the batch's offsets are committed, in either order: a retry
    // after a partial failure rewrites the same versions (ReplacingMergeTree by version; consumers
    // of the compacted topic see a repeated version at most). Side by side instead of one after
    // the other: the ClickHouse write no longer delays the message (pipeline freshness).
    await Promise.all([this.repo.write(profiles, transitions), this.producer!.send(this.bus.topic(Topics.ProfileUpdated), messages)]);
    const publishedAt = Date.now();
    for (const p of profiles) {
      this.cache.put(p);
      const ingested = p.freshness.ingested;
      if (ingested !== undefined && p.changed_fields.includes('features')) this.m.freshness.observe(Math.max(0, publishedAt - ingested) / 1000);
    }
    this.publishedCount += profiles.length;
    this.m.published.inc(profiles.length);
    if (this.inputsSeen > 0) this.m.perInput.set(this.publishedCount / this.inputsSeen);
  }

  private deadLetter(m: IncomingMessage, error: string, reasonCode: string, stage: string): DeadLetter {
    this.m.deadLetters.inc();
    return buildDeadLetter({
      payload: m.value ?? Buffer.alloc(0),
      error,
      reasonCode,
      stage,
      service: SERVICE,
      source: { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, headers: m.headers },
    });
  }

  private async sendDeadLetters(dead: DeadLetter[]): Promise<void> {
    if (dead.length === 0) return;
    await this.producer!.send(
      this.bus.topic(Topics.ClickstreamDlq),
      dead.map((d) => ({ key: d.key, value: Codecs.DeadLetter.encode(d) })),
    );
  }
}
