import { ClickEvent, exampleClickEvent } from '@app/contracts';

const TYPES = ['view', 'view', 'view', 'view', 'click', 'cart_add', 'purchase', 'favorite', 'search'];

/**
 * bench:aggregate's event i of user u (bench:consume-floor measures the same stream): every
 * optional field the ingestor passes on.
 */
export function aggregateEvent(
  prefix: string,
  u: number,
  i: number,
  ts: number,
  ingestedAt: number,
): ClickEvent {
  return exampleClickEvent({
    event_id: `${prefix}-${u}-${i}`,
    user_id: `${prefix}-u${u}`,
    anonymous_id: null,
    session_id: `s${u}-${Math.floor(i / 10)}`,
    event_type: TYPES[(u + i) % TYPES.length],
    ts,
    item_id: `sku-${(u * 7 + i * 13) % 50000}`,
    category: `c${(u + i) % 40}>sub${i % 5}`,
    brand: `brand-${(u + i) % 300}`,
    ingested_at: ingestedAt,
  });
}
