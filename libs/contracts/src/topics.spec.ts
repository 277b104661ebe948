import { AvroCodec } from './avro-codec';
import { codecForTopic, Codecs } from './codecs';
import { exampleClickEvent } from './fixtures';
import { MESSAGE_NAMES } from './generated/types';
import { ALL_TOPIC_SPECS, clickEventKey, isTopicName, TOPIC_SPECS, Topics } from './topics';

describe('Topics', () => {
  it('names the eight topics of CONTRACTS.md', () => {
    expect(Object.values(Topics).sort()).toEqual(
      [
        'clickstream.raw.v1',
        'clickstream.events.v1',
        'clickstream.dlq.v1',
        'user.attributes.v1',
        'user.features.v1',
        'model.updates.v1',
        'model.metrics.v1',
        'profile.updated.v1',
      ].sort(),
    );
  });
});

describe('TOPIC_SPECS', () => {
  it('has one spec per topic, under its own name, listed in ALL_TOPIC_SPECS', () => {
    for (const [name, spec] of Object.entries(TOPIC_SPECS)) expect(spec.name).toBe(name);
    expect(ALL_TOPIC_SPECS.map((s) => s.name)).toEqual(Object.values(Topics));
  });

  it('gives event topics at least 6 partitions and the model topics one (ordered versions)', () => {
    for (const t of [
      Topics.ClickstreamRaw,
      Topics.ClickstreamEvents,
      Topics.ClickstreamDlq,
      Topics.UserFeatures,
    ]) {
      expect(TOPIC_SPECS[t].partitions).toBeGreaterThanOrEqual(6);
    }
    expect(TOPIC_SPECS[Topics.UserAttributes].partitions).toBe(6);
    expect(TOPIC_SPECS[Topics.ProfileUpdated].partitions).toBe(6);
    expect(TOPIC_SPECS[Topics.ModelUpdates].partitions).toBe(1);
    expect(TOPIC_SPECS[Topics.ModelMetrics].partitions).toBe(1);
  });

  it('compacts the keyed state topics and gives the others a retention', () => {
    const compacted = ALL_TOPIC_SPECS.filter((s) => s.config['cleanup.policy'] === 'compact').map(
      (s) => s.name,
    );
    expect(compacted.sort()).toEqual([Topics.ProfileUpdated, Topics.UserAttributes].sort());
    for (const spec of ALL_TOPIC_SPECS) {
      if (!compacted.includes(spec.name)) expect(Number(spec.config['retention.ms'])).toBeGreaterThan(0);
    }
  });

  it('names a message with a schema for every topic', () => {
    for (const spec of ALL_TOPIC_SPECS) expect(MESSAGE_NAMES).toContain(spec.message);
  });
});

describe(codecForTopic.name, () => {
  it('returns the codec of the message the topic carries', () => {
    expect(codecForTopic(Topics.ClickstreamEvents)).toBe(Codecs.ClickEvent);
    expect(codecForTopic(Topics.ClickstreamRaw)).toBe(Codecs.ClickEvent);
    expect(codecForTopic(Topics.ProfileUpdated)).toBe(Codecs.ProfileUpdated);
    expect(codecForTopic('model.updates.v1')).toBeInstanceOf(AvroCodec);
  });

  it('throws for a topic that is not ours', () => {
    expect(() => codecForTopic('clickstream.events.v0')).toThrow(
      /no message contract for topic "clickstream.events.v0"/,
    );
    expect(isTopicName('__consumer_offsets')).toBe(false);
  });
});

describe(clickEventKey.name, () => {
  it('keys by user, else anonymous id, else event id', () => {
    expect(clickEventKey(exampleClickEvent())).toBe('u-10023');
    expect(clickEventKey(exampleClickEvent({ user_id: null }))).toBe('anon-8c1e');
    expect(clickEventKey(exampleClickEvent({ user_id: null, anonymous_id: null }))).toBe(
      exampleClickEvent().event_id,
    );
  });
});
