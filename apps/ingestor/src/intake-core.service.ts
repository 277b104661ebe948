import { Inject, Injectable } from '@nestjs/common';
import type { IngestorConfig } from '@app/config';
import { buildDeadLetter, clickEventKey, ClickEvent, Codecs, DeadLetterSource } from '@app/contracts';
import type { OutgoingMessage } from '@app/kafka';
import { Metrics } from '@app/observability';
import { CanonicalFastPath } from './canonical-fast-path';
import { DedupWindow, HashSet64, hashString, lastHash } from './dedup-window';
import { EventValidator } from './event-validator';
import { INGESTOR_CONFIG } from './tokens';

export type IntakePath = 'http' | 'kafka';

/** Largest original payload kept in a dead letter (records over ~1 MiB are refused by Kafka). */
const MAX_DEAD_LETTER_PAYLOAD = 256 * 1024;

/** One batch's outputs: messages for clickstream.events.v1 and the dead-letter topic. */
export class IntakeBatch {
  readonly events: OutgoingMessage[] = [];
  readonly deadLetters: OutgoingMessage[] = [];
  readonly rejected: { index: number; reason: string }[] = [];
  /** 64-bit hashes (pairs) of the forwarded ids, remembered once the events are acknowledged. */
  readonly idHashes: number[] = [];
  duplicates = 0;
  private readonly batchIds: HashSet64;

  /** `expected`: how many items the batch will see (sizes its id set). */
  constructor(
    readonly path: IntakePath,
    readonly now: number,
    expected = 16,
  ) {
    this.batchIds = new HashSet64(expected);
  }

  /**
   * True when the id (hashed with `hashString`/`hashBytes`) was forwarded before (window) or
   * seen earlier in this batch.
   */
  isDuplicate(dedup: DedupWindow, h1: number, h2: number): boolean {
    if (this.batchIds.has(h1, h2) || dedup.hasHash(h1, h2)) return true;
    this.batchIds.add(h1, h2);
    return false;
  }

  /** Adds an event for clickstream.events.v1; its id is remembered once Kafka acknowledged. */
  forward(message: OutgoingMessage, h1: number, h2: number): void {
    this.events.push(message);
    this.idHashes.push(h1, h2);
  }
}

/**
 * The intake step shared by HTTP and Kafka: validate + normalise + privacy, dedup, encode, and
 * dead letters for whatever fails. Effects (sending, remembering ids) stay with the caller, which
 * knows when Kafka acknowledged.
 */
@Injectable()
export class IntakeCore {
  readonly validator: EventValidator;
  readonly dedup: DedupWindow;
  /** Raw Avro records already in canonical form skip decoding; null when privacy rules apply. */
  private readonly fastPath: CanonicalFastPath | null;
  private readonly events;
  private readonly deadLetters;
  private readonly dedupIds;

  constructor(
    @Inject(INGESTOR_CONFIG) config: IngestorConfig,
    metrics: Metrics,
  ) {
    this.validator = new EventValidator(config);
    this.dedup = new DedupWindow({ horizonMs: config.INGEST_DEDUP_HORIZON_MS, maxIds: config.INGEST_DEDUP_MAX_IDS });
    // Dropped or pseudonymised fields would need rewriting: those events take the general path.
    this.fastPath = this.validator.privacy.hasRules || !config.INGEST_RAW_FAST_PATH ? null : new CanonicalFastPath(this.validator.options, 'kafka');
    this.events = metrics.counter('portrait_ingest_events_total', 'Events received, by intake path and outcome', ['path', 'outcome']);
    this.deadLetters = metrics.counter('portrait_ingest_dead_letters_total', 'Dead letters written, by path and reason code', ['path', 'reason']);
    this.dedupIds = metrics.gauge('portrait_ingest_dedup_ids', 'Event ids remembered by the dedup window');
    metrics.gauge('portrait_ingest_dedup_bytes', 'Bytes held by the dedup window (fixed at start)').set(this.dedup.bytes);
  }

  /**
   * A raw Avro ClickEvent from clickstream.raw.v1 into `batch`: canonical records through the
   * fast path, the rest decoded and validated like HTTP items; undecodable ones dead-lettered.
   */
  acceptAvro(batch: IntakeBatch, index: number, value: Buffer | null, source: DeadLetterSource): void {
    const fast = this.fastPath;
    if (value !== null && fast !== null && fast.transcode(value, batch.now)) {
      if (batch.isDuplicate(this.dedup, fast.h1, fast.h2)) batch.duplicates++;
      else batch.forward({ key: fast.key, value: fast.value, timestamp: batch.now }, fast.h1, fast.h2);
      return;
    }
    const raw = () => value ?? Buffer.alloc(0);
    if (value === null || value.length === 0) {
      this.reject(batch, index, '(record)', 'empty value', 'not_single_object', 'decode', raw, source);
      return;
    }
    const d = Codecs.ClickEvent.tryDecode(value);
    if (!d.ok) {
      this.reject(batch, index, '(record)', d.error.message, d.reasonCode, 'decode', raw, source);
      return;
    }
    this.accept(batch, index, d.value, raw, source);
  }

  /** Validates one decoded item (canonical JSON form) into `batch`. */
  accept(batch: IntakeBatch, index: number, item: unknown, raw: () => Buffer, source?: DeadLetterSource): void {
    const r = this.validator.validate(item, batch.now, batch.path);
    if (!r.ok) {
      this.reject(batch, index, r.field, r.reason, 'validation', 'validate', () => this.scrubbedPayload(item, raw, batch.path), source);
      return;
    }
    const event = r.event;
    const h1 = hashString(event.event_id);
    const h2 = lastHash.h2;
    if (batch.isDuplicate(this.dedup, h1, h2)) {
      batch.duplicates++;
      return;
    }
    let value: Buffer;
    try {
      value = Codecs.ClickEvent.encode(event);
    } catch (e) {
      this.reject(batch, index, '(event)', `cannot be encoded: ${e instanceof Error ? e.message : String(e)}`, 'validation', 'encode', raw, source);
      return;
    }
    // NOTE: the Kafka timestamp is the ingest time, not the event time: backfilled events from
    // 2016 would otherwise fall outside the topic's time-based retention at once.
    batch.forward({ key: clickEventKey(event), value, timestamp: batch.now }, h1, h2);
  }

  /** Dead-letters a record that failed before or during validation. */
  reject(
    batch: IntakeBatch,
    index: number,
    field: string,
    reason: string,
    reasonCode: string,
    stage: string,
    payload: () => Buffer,
    source?: DeadLetterSource,
  ): void {
    const message = `${field}: ${reason}`;
    batch.rejected.push({ index, reason: message });
    let bytes = payload();
    let note = '';
    if (bytes.length > MAX_DEAD_LETTER_PAYLOAD) {
      // A dead letter must fit in one Kafka record, or the batch could never be acknowledged.
      note = ` (payload truncated from ${bytes.length} bytes)`;
      bytes = bytes.subarray(0, MAX_DEAD_LETTER_PAYLOAD);
    }
    const dl = buildDeadLetter({
      payload: bytes,
      error: message + note,
      reasonCode,
      field: field === '(event)' ? null : field,
      stage: `ingestor-${batch.path}:${stage}`,
      service: 'ingestor',
      source,
      failedAt: batch.now,
    });
    batch.deadLetters.push({ key: source?.key ? Buffer.from(source.key) : null, value: Codecs.DeadLetter.encode(dl), timestamp: batch.now });
    this.deadLetters.inc({ path: batch.path, reason: reasonCode });
  }

  /** After Kafka acknowledged the batch: remember its ids and count its outcomes. */
  committed(batch: IntakeBatch): void {
    const hashes = batch.idHashes;
    for (let i = 0; i < hashes.length; i += 2) this.dedup.addHash(hashes[i], hashes[i + 1], batch.now);
    this.events.inc({ path: batch.path, outcome: 'accepted' }, batch.events.length);
    if (batch.duplicates > 0) this.events.inc({ path: batch.path, outcome: 'duplicate' }, batch.duplicates);
    if (batch.rejected.length > 0) this.events.inc({ path: batch.path, outcome: 'rejected' }, batch.rejected.length);
    this.dedupIds.set(this.dedup.size);
  }

  /**
   * The dead letter keeps the original payload, except that the privacy rules (IP truncation,
   * dropped and pseudonymised fields) apply to it as well: the DLQ is storage too.
   */
  private scrubbedPayload(item: unknown, raw: () => Buffer, path: IntakePath): Buffer {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return raw();
    const ip = Object.prototype.hasOwnProperty.call(item, 'ip') ? (item as { ip?: unknown }).ip : undefined;
    if ((ip === undefined || ip === null) && !this.validator.privacy.hasRules) return raw();
    const scrubbed = this.validator.privacy.scrubJson(item);
    try {
      if (path === 'kafka') return Codecs.ClickEvent.encode(scrubbed as ClickEvent);
      return Buffer.from(JSON.stringify(scrubbed) ?? 'null');
    } catch {
      return raw();
    }
  }
}
