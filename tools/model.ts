import { ALL_TOPIC_SPECS, Codecs, Topics } from '@app/contracts';
import { loadConfig, trainerConfigSchema } from '@app/config';
import { KafkaBus } from '@app/kafka';
import { ModelVersionStore } from '@app/model';
import { createLogger } from '@app/observability';

/**
 * `npm run model -- list | show <version> | rollback <version>` over the trainer's version store
 * (TRAINER_MODEL_DIR, default .cache/models).
 * rollback republishes the saved version unchanged on model.updates.v1 (created_at = now, so it is
 * the newest message) and marks it in the store so the trainer resumes from it at its next start.
 */
async function main() {
  const [cmd, version] = process.argv.slice(2);
  const config = loadConfig(trainerConfigSchema);
  const store = new ModelVersionStore(config.TRAINER_MODEL_DIR);
  if (cmd === 'list') {
    const versions = await store.versions();
    if (versions.length === 0) {
      console.log(`no versions in ${store.root}`);
      return;
    }
    const mark = await store.rollbackMark();
    console.log(['version', 'created_at', 'parent', 'samples', 'published', 'gate'].join('\t'));
    for (const v of versions) {
      const m = await store.meta(v);
      const flag = mark?.version === v ? ' (rolled back to)' : '';
      console.log([v, new Date(m.created_at).toISOString(), m.parent_version ?? '-', m.trained_samples, m.published ? 'yes' : 'no', m.gate + flag].join('\t'));
    }
  } else if (cmd === 'show' && version) {
    const m = await store.meta(version);
    const norm = JSON.parse(m.normalization_json) as { count: number; features: string[] };
    console.log(
      JSON.stringify(
        { ...m, normalization_json: undefined, normalization: { samples: norm.count, features: norm.features.length }, metrics: JSON.parse(m.metrics_json) as unknown, metrics_json: undefined },
        null,
        2,
      ),
    );
  } else if (cmd === 'rollback' && version) {
    const saved = await store.load(version);
    const logger = createLogger('model-cli', config.LOG_LEVEL);
    const bus = new KafkaBus({
      brokers: config.KAFKA_BROKERS,
      clientId: 'portrait-model-cli',
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      groupPrefix: config.KAFKA_GROUP_PREFIX,
      logger,
    });
    await bus.ensureTopics(ALL_TOPIC_SPECS.filter((t) => t.name === Topics.ModelUpdates));
    const producer = await bus.producer();
    try {
      const update = { ...saved.update, created_at: Date.now() };
      await producer.send(bus.topic(Topics.ModelUpdates), [{ key: 'profile-model', value: Codecs.ModelUpdate.encode(update) }]);
      await store.markRollback(version, update.created_at);
      console.log(`republished ${version} on ${bus.topic(Topics.ModelUpdates)}; the trainer resumes from it at its next start`);
    } finally {
      await producer.disconnect();
    }
  } else {
    console.error('usage: npm run model -- list | show <version> | rollback <version>');
    process.exitCode = 2;
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
