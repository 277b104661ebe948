import type { IngestorConfig } from '@app/config';
import type { ClickEvent } from '@app/contracts';
import { normalizeEvent, NormalizeOptions } from './event-normalizer';
import { PrivacyFilter } from './privacy';

export type ValidationResult = { ok: true; event: ClickEvent } | { ok: false; field: string; reason: string };

/** Normalisation, then privacy rules: one step shared by the HTTP and the Kafka intake. */
export class EventValidator {
  readonly options: NormalizeOptions;
  readonly privacy: PrivacyFilter;

  constructor(config: IngestorConfig) {
    this.options = {
      maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_MS,
      backfillAfterMs: config.INGEST_BACKFILL_AFTER_MS,
      defaultCurrency: config.INGEST_DEFAULT_CURRENCY,
      unknownFields: config.INGEST_UNKNOWN_FIELDS,
      maxIdLength: config.INGEST_MAX_ID_LENGTH,
      maxStringLength: config.INGEST_MAX_STRING_LENGTH,
      maxProperties: config.INGEST_MAX_PROPERTIES,
      maxPrice: config.INGEST_MAX_PRICE,
      maxQuantity: config.INGEST_MAX_QUANTITY,
    };
    this.privacy = new PrivacyFilter({
      pseudonymize: config.INGEST_PSEUDONYMIZE_FIELDS,
      drop: config.INGEST_DROP_FIELDS,
      hmacKey: config.PORTRAIT_HMAC_KEY,
    });
  }

  validate(item: unknown, now: number, source: string): ValidationResult {
    let r: ReturnType<typeof normalizeEvent>;
    try {
      r = normalizeEvent(item, now, source, this.options);
    } catch (e) {
      // A bug must not take the request down with it: the item is rejected and dead-lettered.
      return { ok: false, field: '(event)', reason: `could not be validated: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (!r.ok) return r;
    if (!this.privacy.apply(r.event)) return { ok: false, field: 'ip', reason: 'must be an IPv4 or IPv6 address' };
    return r;
  }
}
