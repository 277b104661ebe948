import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import * as tf from '@tensorflow/tfjs';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import { ClickHouseStore, toDateTimeString } from '@app/clickhouse';
import { ALL_TOPIC_SPECS, Codecs, ProfileUpdated, Topics, UserFeatures } from '@app/contracts';
import { BatchConsumer, IncomingMessage, KafkaBus, MessageProducer } from '@app/kafka';
import { FEATURE_VECTOR_WIDTH, featureVector } from '@app/model';
import { HealthRegistry, LOGGER, Metrics } from '@app/observability';
import { ModelRegistry } from './model-registry';
import { assembleProfile, Prediction } from './profile-assembler';
import { ProfileCache } from './profile-cache';

/** user.features.v1 + model.updates.v1 → profile.updated.v1, ClickHouse and the lookup cache. */
@Injectable()
export class ProfilePipeline implements OnApplicationBootstrap, OnModuleDestroy {
  private features: BatchConsumer | null = null;
  private models: BatchConsumer | null = null;
  private producer: MessageProducer | null = null;
  private readonly published;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly bus: KafkaBus,
    private readonly store: ClickHouseStore,
    private readonly cache: ProfileCache,
    private readonly registry: ModelRegistry,
    private readonly health: HealthRegistry,
    metrics: Metrics,
  ) {
    this.published = metrics.counter('portrait_profiles_published_total', 'Profiles published');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.ensureTopics(ALL_TOPIC_SPECS);
    this.producer = await this.bus.producer();
    // Every replica needs every model version: a group of its own, read from the beginning.
    this.models = this.bus.consumer({
      groupId: `profile-publisher-models-${randomUUID()}`,
      topics: [Topics.ModelUpdates],
      handler: (messages) => this.onModels(messages),
    });
    this.features = this.bus.consumer({
      groupId: 'profile-publisher',
      topics: [Topics.UserFeatures],
      handler: (messages) => this.onFeatures(messages),
    });
    const [models, features] = [this.models, this.features];
    this.health.register('features_consumer', () => features.health());
    this.health.register('models_consumer', () => models.health());
    await models.start();
    await features.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.features?.disconnect();
    await this.models?.disconnect();
  }

  private async onModels(messages: IncomingMessage[]): Promise<void> {
    const last = messages[messages.length - 1];
    if (!last?.value) return;
    const r = Codecs.ModelUpdate.tryDecode(last.value);
    if (!r.ok) {
      this.logger.error({ event: 'model_update_rejected', reason: r.error }, 'undecodable model update; keeping the current model');
      return;
    }
    try {
      const loaded = await this.registry.load(r.value);
      this.logger.info({ event: 'model_loaded', version: loaded.version }, 'model version loaded');
    } catch (e) {
      this.logger.error({ event: 'model_update_rejected', version: r.value.model_version, err: e }, 'model failed to load; keeping the current model');
    }
  }

  private async onFeatures(messages: IncomingMessage[]): Promise<void> {
    const batch: UserFeatures[] = [];
    for (const m of messages) {
      const r = m.value ? Codecs.UserFeatures.tryDecode(m.value) : null;
      if (r?.ok) batch.push(r.value);
      else this.logger.warn({ event: 'features_undecodable', offset: m.offset }, 'skipping undecodable features');
    }
    if (batch.length === 0) return;
    const predictions = this.predict(batch);
    const now = Date.now();
    const profiles: ProfileUpdated[] = batch.map((f, i) => assembleProfile(f, this.cache.get(f.user_id), predictions[i] ?? null, now));
    await this.store.insert(
      'user_profiles',
      profiles.map((p) => ({
        user_id: p.user_id,
        version: p.version,
        as_of: toDateTimeString(p.as_of),
        computed_at: toDateTimeString(p.computed_at),
        model_version: p.model_version ?? '',
        segments: p.segments,
        risk_score: p.risk.score,
        profile_json: JSON.stringify(p),
      })),
    );
    await this.producer!.send(
      this.bus.topic(Topics.ProfileUpdated),
      profiles.map((p) => ({ key: p.user_id, value: Codecs.ProfileUpdated.encode(p), timestamp: p.as_of })),
    );
    for (const p of profiles) this.cache.put(p);
    this.published.inc(profiles.length);
  }

  private predict(batch: UserFeatures[]): (Prediction | null)[] {
    const loaded = this.registry.model;
    if (!loaded) return batch.map(() => null);
    const x = new Float32Array(batch.length * FEATURE_VECTOR_WIDTH);
    batch.forEach((f, i) => featureVector(f.features, x, i * FEATURE_VECTOR_WIDTH));
    const values = tf.tidy(() => {
      const out = loaded.model.predict(tf.tensor2d(x, [batch.length, FEATURE_VECTOR_WIDTH])) as tf.Tensor;
      return out.dataSync();
    });
    return batch.map((_, i) => ({ modelVersion: loaded.version, purchasePropensity: values[i] ?? null }));
  }
}
