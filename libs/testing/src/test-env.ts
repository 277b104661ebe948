import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A unique namespace per test file: its own topic prefix, consumer-group prefix and database. */
export interface TestNamespace {
  id: string;
  topicPrefix: string;
  groupPrefix: string;
  database: string;
  brokers: string[];
  clickhouseUrl: string;
  /** Environment for a service process started by the test. */
  env: Record<string, string>;
}

export function testNamespace(label = 't'): TestNamespace {
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const clickhouseUrl = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
  const ns = {
    id,
    topicPrefix: `${id}.`,
    groupPrefix: `${id}.`,
    database: `test_${id}`,
    brokers,
    clickhouseUrl,
  };
  return {
    ...ns,
    env: {
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: ns.topicPrefix,
      KAFKA_GROUP_PREFIX: ns.groupPrefix,
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: ns.database,
      NODE_ENV: 'test',
      // Model versions of this namespace only: a trainer must not resume another run's model.
      TRAINER_MODEL_DIR: join(tmpdir(), `portrait-models-${id}`),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    },
  };
}
