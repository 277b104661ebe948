import { createHash } from 'node:crypto';
import { FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { parseSegmentFile, SegmentDefinition, SegmentRuleError } from './segment-rules';

export type ReloadOutcome = { ok: true; segments: string[]; changed: boolean } | { ok: false; rule: string; reason: string };

/**
 * The current segment rules, read from a JSON file and reloaded when it changes, without a
 * restart: fs.watch on the folder (editors often replace the file rather than write it) plus a
 * poll as the fallback where watch events are missed (network file systems, some containers).
 * A malformed file is rejected with the rule and the reason, and the previous rule set is kept.
 */
export class SegmentRuleSet {
  private definitions: SegmentDefinition[] = [];
  private hash: string | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private readonly listeners: ((outcome: ReloadOutcome) => void)[] = [];
  lastError: { rule: string; reason: string; at: number } | null = null;
  readonly file: string;

  constructor(
    file: string,
    private readonly logger: Logger,
    private readonly pollMs = 2000,
    onReload?: (outcome: ReloadOutcome) => void,
  ) {
    if (onReload) this.listeners.push(onReload);
    this.file = resolve(file);
  }

  /** Called after every reload attempt that applied or rejected a new file content. */
  onReloaded(listener: (outcome: ReloadOutcome) => void): void {
    this.listeners.push(listener);
  }

  get current(): readonly SegmentDefinition[] {
    return this.definitions;
  }

  get names(): string[] {
    return this.definitions.map((d) => d.name);
  }

  start(): void {
    this.reload();
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, (_type, name) => {
        if (name && name.toString() !== basename(this.file)) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.reload(), 50);
      });
      this.watcher.on('error', (e) => this.logger.warn({ event: 'segments_watch_failed', err: e }, 'fs.watch failed; polling only'));
    } catch (e) {
      this.logger.warn({ event: 'segments_watch_failed', err: e }, 'fs.watch unavailable; polling only');
    }
    this.timer = setInterval(() => this.reload(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher = null;
    this.timer = null;
  }

  /** Reads the file; applies it when it parsed and differs from what is loaded. */
  reload(): ReloadOutcome {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      return this.reject('(file)', `cannot read ${this.file}: ${e instanceof Error ? e.message : String(e)}`, 'unreadable');
    }
    const hash = createHash('sha1').update(text).digest('hex');
    if (hash === this.hash) return { ok: true, segments: this.names, changed: false };
    try {
      this.definitions = parseSegmentFile(text);
    } catch (e) {
      const err = e instanceof SegmentRuleError ? e : new SegmentRuleError('(file)', String(e));
      return this.reject(err.rule, err.reason, hash);
    }
    this.hash = hash;
    this.lastError = null;
    const outcome: ReloadOutcome = { ok: true, segments: this.names, changed: true };
    this.logger.info({ event: 'segments_loaded', file: this.file, segments: outcome.segments }, 'segment rules loaded');
    for (const l of this.listeners) l(outcome);
    return outcome;
  }

  private reject(rule: string, reason: string, hash: string | null): ReloadOutcome {
    // Remember the bad content's hash so a poll does not log the same rejection every interval.
    if (hash !== null && hash === this.hash) return { ok: false, rule, reason };
    if (hash !== null) this.hash = hash;
    this.lastError = { rule, reason, at: Date.now() };
    this.logger.error(
      { event: 'segments_rejected', file: this.file, rule, reason, kept: this.names },
      `segment rules rejected (rule ${rule}: ${reason}); keeping the previous rule set`,
    );
    const outcome: ReloadOutcome = { ok: false, rule, reason };
    for (const l of this.listeners) l(outcome);
    return outcome;
  }
}
