import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateEvents, generateLabels, generatePersonas, GENERATOR_ATTRIBUTES } from '@app/datasets';
import { repoRoot } from '@app/testing';

const run = promisify(execFile);

/**
 * A smoke-size `npm run eval` on a generated dataset: the whole pipeline runs (real Kafka,
 * ClickHouse, four service processes) and the output JSON is well-formed per CONTRACTS.md.
 * Asserts shapes and invariants, never timings or quality.
 */
describe('npm run eval (smoke)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eval-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the evaluation JSON and a Markdown summary', async () => {
    const opts = { seed: 3, users: 120, days: 2, eventsPerUserPerDay: 8, botFraction: 0.02 };
    const source = join(dir, 'events.ndjson');
    writeFileSync(source, [...generateEvents(opts)].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const labels = generateLabels(generatePersonas({ seed: opts.seed, users: opts.users, botFraction: opts.botFraction }), { fraction: 0.8, seed: 3 });
    const csv = ['user_id,' + GENERATOR_ATTRIBUTES.join(','), ...labels.map((l) => [l.user_id, ...GENERATOR_ATTRIBUTES.map((a) => l.attributes[a] ?? '')].join(','))];
    writeFileSync(join(dir, 'labels.csv'), csv.join('\n') + '\n');
    const out = join(dir, 'eval.json');

    const { stdout } = await run(
      process.execPath,
      [join(repoRoot(), 'dist', 'tools', 'eval.js'), '--source', source, '--format', 'canonical', '--labels', join(dir, 'labels.csv'), '--holdout', '0.3', '--seed', '1', '--out', out, '--timeout-s', '400'],
      { cwd: repoRoot(), env: { ...process.env, LOG_LEVEL: 'warn', EVAL_TRAINER_BATCH_SIZE: '32' }, maxBuffer: 64 * 1024 * 1024 },
    );
    expect(stdout).toContain('| attribute | n | accuracy | macro-F1 |');

    const r = JSON.parse(readFileSync(out, 'utf8')) as {
      events: number;
      users: number;
      labelled_users: number;
      holdout_users: number;
      attributes: Record<string, { classes: string[]; n: number; accuracy: number; macro_f1: number; majority_accuracy: number; majority_macro_f1: number }>;
      pipeline: { events_per_s: number; freshness_p50_ms: number; freshness_p99_ms: number };
    };
    expect(r.events).toBeGreaterThan(500);
    expect(r.users).toBeLessThanOrEqual(opts.users);
    expect(r.holdout_users).toBe(Math.round(r.labelled_users * 0.3));
    expect(Object.keys(r.attributes).sort()).toEqual([...GENERATOR_ATTRIBUTES].sort());
    for (const s of Object.values(r.attributes)) {
      expect(s.classes.length).toBeGreaterThan(1);
      expect(s.n).toBeGreaterThan(0);
      for (const x of [s.accuracy, s.macro_f1, s.majority_accuracy, s.majority_macro_f1]) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
      }
    }
    expect(r.pipeline.events_per_s).toBeGreaterThan(0);
    expect(r.pipeline.freshness_p99_ms).toBeGreaterThanOrEqual(r.pipeline.freshness_p50_ms);
  }, 600000);
});
