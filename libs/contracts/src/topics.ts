import type { ClickEvent, ClickEventInput, MessageName } from './generated/types';

/** Every Kafka topic of Portrait, defined once. The `.v1` suffix is the contract version. */
export const Topics = {
  /** Events as producers send them (possibly invalid); the ingestor validates them. */
  ClickstreamRaw: 'clickstream.raw.v1',
  /** Validated, normalised events. */
  ClickstreamEvents: 'clickstream.events.v1',
  /** Dead letters of every service. */
  ClickstreamDlq: 'clickstream.dlq.v1',
  /** Known attribute values per user (compacted). */
  UserAttributes: 'user.attributes.v1',
  /** Rolling behaviour features per user. */
  UserFeatures: 'user.features.v1',
  /** Model versions that passed the trainer's gate. */
  ModelUpdates: 'model.updates.v1',
  /** Prequential metrics of the live model. */
  ModelMetrics: 'model.metrics.v1',
  /** Current profile per user (compacted). */
  ProfileUpdated: 'profile.updated.v1',
} as const;

export type TopicKey = keyof typeof Topics;
export type TopicName = (typeof Topics)[TopicKey];

/** Message contract carried by each topic (type-level too, for `codecForTopic`). */
export const TOPIC_MESSAGE = {
  [Topics.ClickstreamRaw]: 'ClickEvent',
  [Topics.ClickstreamEvents]: 'ClickEvent',
  [Topics.ClickstreamDlq]: 'DeadLetter',
  [Topics.UserAttributes]: 'UserAttributes',
  [Topics.UserFeatures]: 'UserFeatures',
  [Topics.ModelUpdates]: 'ModelUpdate',
  [Topics.ModelMetrics]: 'ModelMetrics',
  [Topics.ProfileUpdated]: 'ProfileUpdated',
} as const satisfies Record<TopicName, MessageName>;

export type TopicMessage = typeof TOPIC_MESSAGE;

export interface TopicSpec {
  name: TopicName;
  /** Message contract of every value on the topic (`schemas/<message>.avsc`). */
  message: MessageName;
  partitions: number;
  /** Topic-level configs to create the topic with (Kafka `configEntries`). */
  config: Readonly<Record<string, string>>;
  /** What the message key is. */
  key: string;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const MIB = 1024 * 1024;

/**
 * How each topic is created. Event topics have 6 partitions so the aggregator and publisher can
 * scale out to 6 consumers; the model topics have one partition because versions must stay
 * ordered. Replication factor is left to the broker default (1 locally).
 */
export const TOPIC_SPECS: Readonly<Record<TopicName, TopicSpec>> = {
  [Topics.ClickstreamRaw]: {
    name: Topics.ClickstreamRaw,
    message: TOPIC_MESSAGE[Topics.ClickstreamRaw],
    partitions: 6,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) },
    key: 'user_id, else anonymous_id (see clickEventKey)',
  },
  [Topics.ClickstreamEvents]: {
    name: Topics.ClickstreamEvents,
    message: TOPIC_MESSAGE[Topics.ClickstreamEvents],
    partitions: 6,
    // Long enough to rebuild the 30-day windows by replaying the topic.
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(31 * DAY_MS) },
    key: 'user_id, else anonymous_id (see clickEventKey)',
  },
  [Topics.ClickstreamDlq]: {
    name: Topics.ClickstreamDlq,
    message: TOPIC_MESSAGE[Topics.ClickstreamDlq],
    partitions: 6,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
    key: 'the original message key',
  },
  [Topics.UserAttributes]: {
    name: Topics.UserAttributes,
    message: TOPIC_MESSAGE[Topics.UserAttributes],
    partitions: 6,
    config: {
      'cleanup.policy': 'compact',
      'segment.ms': String(HOUR_MS),
      'min.cleanable.dirty.ratio': '0.1',
    },
    key: 'user_id',
  },
  [Topics.UserFeatures]: {
    name: Topics.UserFeatures,
    message: TOPIC_MESSAGE[Topics.UserFeatures],
    partitions: 6,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(3 * DAY_MS) },
    key: 'user_id',
  },
  [Topics.ModelUpdates]: {
    name: Topics.ModelUpdates,
    message: TOPIC_MESSAGE[Topics.ModelUpdates],
    partitions: 1,
    // A version carries all weights: raise the 1 MiB default message size. Consumers need
    // maxBytes/maxBytesPerPartition of at least this much to fetch one.
    config: {
      'cleanup.policy': 'delete',
      'retention.ms': String(30 * DAY_MS),
      'retention.bytes': String(2048 * MIB),
      'max.message.bytes': String(64 * MIB),
    },
    key: 'model_version',
  },
  [Topics.ModelMetrics]: {
    name: Topics.ModelMetrics,
    message: TOPIC_MESSAGE[Topics.ModelMetrics],
    partitions: 1,
    config: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
    key: 'model_version',
  },
  [Topics.ProfileUpdated]: {
    name: Topics.ProfileUpdated,
    message: TOPIC_MESSAGE[Topics.ProfileUpdated],
    partitions: 6,
    config: {
      'cleanup.policy': 'compact',
      'segment.ms': String(HOUR_MS),
      'min.cleanable.dirty.ratio': '0.1',
    },
    key: 'user_id',
  },
};

/** All topic specs, in the order of `Topics`. */
export const ALL_TOPIC_SPECS: readonly TopicSpec[] = Object.values(Topics).map((t) => TOPIC_SPECS[t]);

export function isTopicName(name: string): name is TopicName {
  return Object.prototype.hasOwnProperty.call(TOPIC_SPECS, name);
}

/**
 * Partition key of a click event: the user, so one user's events stay ordered in one partition
 * (the aggregator keeps per-user state per partition). Anonymous visitors are keyed by their
 * anonymous id; an event with neither (invalid) by its event id.
 */
export function clickEventKey(
  event: Pick<ClickEvent | ClickEventInput, 'user_id' | 'anonymous_id' | 'event_id'>,
): string {
  return event.user_id ?? event.anonymous_id ?? event.event_id;
}
