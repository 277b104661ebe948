import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { guessFormat, parseReplayArgs } from './replay-args';

describe('parseReplayArgs', () => {
  it('defaults to the generator, to kafka, at max rate', () => {
    const { options } = parseReplayArgs([]);
    expect(options).toMatchObject({ format: 'generator', to: 'kafka', rate: undefined });
  });

  it('reads every option', () => {
    const { options, json } = parseReplayArgs(
      ['--format', 'generator', '--seed', '3', '--users', '50', '--days', '2', '--start', '2025-01-01T00:00:00Z', '--rate', '500', '--max', '10', '--to', 'http', '--label-fraction', '0.5', '--json'],
    );
    expect(json).toBe(true);
    expect(options).toMatchObject({
      format: 'generator',
      rate: 500,
      max: 10,
      to: 'http',
      generator: { seed: 3, users: 50, days: 2, startMs: Date.UTC(2025, 0, 1), labelFraction: 0.5 },
    });
    expect(parseReplayArgs(['--source', 'x', '--format', 'jdata', '--labels', 'u.csv', '--unknown-values=-1, 2']).options).toMatchObject({
      source: 'x',
      labels: 'u.csv',
      unknownValues: ['-1', '2'],
    });
  });

  it('--start now ends the simulated period now', () => {
    const before = Date.now();
    const start = parseReplayArgs(['--start', 'now', '--days', '2']).options.generator?.startMs ?? 0;
    expect(start).toBeGreaterThanOrEqual(before - 2 * 86_400_000);
    expect(start).toBeLessThanOrEqual(Date.now() - 2 * 86_400_000);
  });

  it('rejects bad arguments with a clear message', () => {
    expect(() => parseReplayArgs(['--format', 'csv'])).toThrow(/--format must be one of/);
    expect(() => parseReplayArgs(['--rate', 'fast'])).toThrow(/--rate must be/);
    expect(() => parseReplayArgs(['--to', 'ftp'])).toThrow(/--to must be kafka or http/);
    expect(() => parseReplayArgs(['--users', '0'])).toThrow(/--users must be a positive integer/);
    expect(() => parseReplayArgs(['--format', 'jdata'])).toThrow(/--source is required/);
    expect(() => parseReplayArgs(['--bogus'])).toThrow(/bogus/);
  });

  it('guesses the format from file names', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-args-'));
    try {
      fs.writeFileSync(path.join(dir, 'JData_Action_201602.csv'), '');
      expect(guessFormat(dir)).toBe('jdata');
      expect(parseReplayArgs(['--source', dir]).options.format).toBe('jdata');
      fs.writeFileSync(path.join(dir, 'UserBehavior.csv'), '');
      expect(guessFormat(path.join(dir, 'UserBehavior.csv'))).toBe('taobao');
      expect(guessFormat(path.join(dir, 'nope'))).toBeNull();
      expect(() => parseReplayArgs(['--source', path.join(dir, 'nope')])).toThrow(/cannot tell the format/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
