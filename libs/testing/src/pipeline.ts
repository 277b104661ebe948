import { Kafka, logLevel } from 'kafkajs';
import { rmSync } from 'node:fs';
import { freePort } from './ports';
import { AppName, ServiceProcess } from './service-process';
import { TestNamespace } from './test-env';

export interface RunningPipeline {
  ports: Record<AppName, number>;
  services: ServiceProcess[];
  env: Record<string, string>;
  /** Total consumer lag of each service's main group (messages not yet processed). */
  lag(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Each service's main consumer group and the topics it reads (base names). */
export const PIPELINE_GROUPS: Record<string, string[]> = {
  'ingestor-raw': ['clickstream.raw.v1'],
  'feature-aggregator': ['clickstream.events.v1'],
  trainer: ['user.features.v1'],
  'profile-publisher': ['user.features.v1'],
};

/**
 * The four services as real processes in one namespace (its own topics, groups, database and
 * ports): what the e2e tests, `npm run eval` and the pipeline benchmark run against.
 */
export async function startPipeline(ns: TestNamespace, extraEnv: Record<string, string> = {}): Promise<RunningPipeline> {
  const ports: Record<AppName, number> = {
    ingestor: await freePort(),
    'feature-aggregator': await freePort(),
    trainer: await freePort(),
    'profile-publisher': await freePort(),
  };
  const env: Record<string, string> = {
    ...ns.env,
    INGESTOR_PORT: String(ports.ingestor),
    AGGREGATOR_PORT: String(ports['feature-aggregator']),
    TRAINER_PORT: String(ports.trainer),
    PUBLISHER_PORT: String(ports['profile-publisher']),
    ...extraEnv,
  };
  const services = (Object.keys(ports) as AppName[]).map((app) => new ServiceProcess(app, ports[app], env));
  try {
    // The ingestor creates the topics; the others follow once it is ready.
    await services[0].start();
    await Promise.all(services.slice(1).map((s) => s.start()));
  } catch (e) {
    await Promise.all(services.map((s) => s.stop(true)));
    throw e;
  }
  const kafka = new Kafka({ clientId: 'pipeline-lag', brokers: ns.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  return {
    ports,
    services,
    env,
    async lag() {
      const out: Record<string, number> = {};
      for (const [group, topics] of Object.entries(PIPELINE_GROUPS)) {
        let total = 0;
        for (const base of topics) {
          const topic = `${ns.topicPrefix}${base}`;
          const [ends, committed] = await Promise.all([
            admin.fetchTopicOffsets(topic),
            admin.fetchOffsets({ groupId: `${ns.groupPrefix}${group}`, topics: [topic] }),
          ]);
          const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
          for (const p of ends) {
            const c = done.get(p.partition) ?? -1;
            total += Number(p.high) - Math.max(c, Number(p.low));
          }
        }
        out[group] = total;
      }
      return out;
    },
    async stop() {
      await admin.disconnect();
      await Promise.all(services.map((s) => s.stop()));
      if (env.TRAINER_MODEL_DIR) rmSync(env.TRAINER_MODEL_DIR, { recursive: true, force: true });
    },
  };
}
