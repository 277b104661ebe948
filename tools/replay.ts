import { Presets, SingleBar } from 'cli-progress';
import { ReplayArgumentError, ReplayProgress, ReplaySummary, replay, resolveSource } from '@app/datasets';
import { parseReplayArgs, REPLAY_USAGE } from './replay/replay-args';

/**
 * `npm run replay -- --source <path> --format <fmt> [--labels <csv>] [--rate <n>|max] [--to kafka|http]`
 * (CONTRACTS.md): publishes a dataset or the built-in generator into the pipeline with a progress
 * bar. The work is `replay()` in @app/datasets; this file is the command line around it.
 */

function formatSummary(s: ReplaySummary): string {
  const lines = [
    `replayed ${s.dataset} (${s.format}) to ${s.to}${s.aborted ? ' — interrupted' : ''}`,
    `  events:    ${s.events}`,
    `  errors:    ${s.errors} (skipped locally)`,
    `  labels:    ${s.labels}${s.labelErrors ? ` (${s.labelErrors} bad rows skipped)` : ''}`,
  ];
  if (s.to === 'http') lines.push(`  ingestor:  ${s.duplicates} duplicates, ${s.rejected} rejected`);
  if (s.firstEventTs !== null && s.lastEventTs !== null) {
    lines.push(`  time span: ${new Date(s.firstEventTs).toISOString()} … ${new Date(s.lastEventTs).toISOString()}`);
  }
  lines.push(`  duration:  ${(s.durationMs / 1000).toFixed(2)} s`, `  rate:      ${Math.round(s.eventsPerSec)} events/s`);
  for (const n of s.notes) lines.push(`  note: ${n}`);
  if (s.errorSamples.length > 0) lines.push('  first errors:', ...s.errorSamples.map((e) => `    ${e}`));
  if (s.rejectSamples.length > 0) lines.push('  first rejections:', ...s.rejectSamples.map((e) => `    ${e}`));
  return lines.join('\n');
}

function progressReporter(): { onProgress: (p: ReplayProgress) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      {
        format: ' {bar} {percentage}% | {value}/{total} events | {rate} events/s | errors {errors} | ETA {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      onProgress: (p) => {
        const total = Math.max(p.total ?? p.events, p.events);
        if (!started) {
          bar.start(total, p.events, { rate: 0, errors: 0 });
          started = true;
        }
        bar.setTotal(total);
        bar.update(p.events, { rate: Math.round(p.eventsPerSec), errors: p.errors });
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    onProgress: (p) => {
      if (p.elapsedMs - last < 5000) return;
      last = p.elapsedMs;
      const of = p.total ? `/${p.total}` : '';
      process.stderr.write(`replay: ${p.events}${of} events, ${Math.round(p.eventsPerSec)} events/s, ${p.errors} errors\n`);
    },
    stop: () => undefined,
  };
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseReplayArgs(process.argv.slice(2), (s) => {
      try {
        return resolveSource(s);
      } catch {
        return s;
      }
    });
  } catch (e) {
    process.stderr.write(`replay: ${(e as Error).message}\n\n${REPLAY_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(REPLAY_USAGE);
    return 0;
  }
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nreplay: stopping after the batch in flight (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const progress = progressReporter();
  try {
    const summary = await replay({
      ...parsed.options,
      signal: abort.signal,
      onProgress: progress.onProgress,
      onNote: (n) => process.stderr.write(`replay: ${n}\n`),
    });
    progress.stop();
    process.stdout.write(`${parsed.json ? JSON.stringify(summary, null, 2) : formatSummary(summary)}\n`);
    return 0;
  } catch (e) {
    progress.stop();
    if (e instanceof ReplayArgumentError) {
      process.stderr.write(`replay: ${e.message}\n\n${REPLAY_USAGE}`);
      return 2;
    }
    process.stderr.write(`replay failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`replay failed: ${String(e)}\n`);
    process.exit(1);
  },
);
