import { ContractEncodeError } from './contract-errors';
import type { DeadLetter } from './generated/types';

/** Reason codes in use (`DeadLetter.reason_code` is a string, so services may add their own). */
export const DeadLetterReasons = {
  /** Not single-object Avro (wrong magic, too short). */
  NotSingleObject: 'not_single_object',
  /** Single-object Avro written with a schema we do not know. */
  UnknownFingerprint: 'unknown_fingerprint',
  /** Known schema, but the body does not decode (truncated, trailing or garbled bytes). */
  CorruptAvro: 'corrupt_avro',
  /** Decodes, but breaks a rule of the contract (missing user, bad price, ...). */
  Validation: 'validation',
  /** Valid, but processing it threw. */
  Processing: 'processing',
} as const;

export type DeadLetterReason = (typeof DeadLetterReasons)[keyof typeof DeadLetterReasons];

type HeaderValue = string | Buffer | null | undefined | ReadonlyArray<string | Buffer>;

/** Where the failed record came from (a Kafka message's coordinates). */
export interface DeadLetterSource {
  topic?: string | null;
  partition?: number | null;
  /** Kafka offset; numbers and bigints are stored as decimal strings. */
  offset?: string | number | bigint | null;
  key?: Buffer | Uint8Array | string | null;
  /** Kafka headers as kafkajs or our Kafka library hands them over. */
  headers?: Readonly<Record<string, HeaderValue>> | null;
}

export interface DeadLetterInit {
  /** The original bytes (a string is stored as UTF-8). */
  payload: Buffer | Uint8Array | string;
  /** An Error (its message is used), a string, or anything else (stringified). */
  error: unknown;
  /** Machine-readable reason, see DeadLetterReasons. */
  reasonCode: DeadLetterReason | (string & {});
  /** Offending field path; defaults to the first bad field of a ContractEncodeError. */
  field?: string | null;
  /** Pipeline step that failed, e.g. `decode`, `validate`, `aggregate`. */
  stage: string;
  /** Service name, e.g. `ingestor`. */
  service: string;
  source?: DeadLetterSource;
  /** Failure time; defaults to Date.now(). */
  failedAt?: number;
}

/** A `DeadLetter` message (ready for `Codecs.DeadLetter.encode`) for a record that failed. */
export function buildDeadLetter(init: DeadLetterInit): DeadLetter {
  const source = init.source ?? {};
  const encodeField =
    init.error instanceof ContractEncodeError && init.error.field !== '' ? init.error.field : null;
  return {
    payload: toBuffer(init.payload),
    source_topic: source.topic ?? null,
    source_partition: source.partition ?? null,
    source_offset: source.offset === undefined || source.offset === null ? null : String(source.offset),
    key: source.key === undefined || source.key === null ? null : toBuffer(source.key),
    error: errorText(init.error),
    reason_code: init.reasonCode,
    field: init.field ?? encodeField,
    stage: init.stage,
    service: init.service,
    failed_at: init.failedAt ?? Date.now(),
    headers: headersToStrings(source.headers),
  };
}

function toBuffer(v: Buffer | Uint8Array | string): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** Header values as UTF-8 strings; repeated headers (arrays) are joined with commas. */
function headersToStrings(headers: DeadLetterSource['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || value === null) continue;
    const text = Array.isArray(value)
      ? (value as ReadonlyArray<string | Buffer>).map((v) => v.toString()).join(',')
      : (value as string | Buffer).toString();
    if (name === '__proto__') {
      Object.defineProperty(out, name, { value: text, enumerable: true, writable: true, configurable: true });
    } else {
      out[name] = text;
    }
  }
  return out;
}
