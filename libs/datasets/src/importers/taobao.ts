import type { CanonicalEventJson } from '../canonical-event';
import { LineParser, LineResult, normalizeId } from './types';

/** Taobao UserBehavior `behavior` → canonical event type. */
export const TAOBAO_BEHAVIORS: Readonly<Record<string, string>> = {
  pv: 'view',
  cart: 'cart_add',
  fav: 'favorite',
  buy: 'purchase',
};

/**
 * Taobao UserBehavior CSV: no header, `user_id,item_id,category_id,behavior,timestamp` with unix
 * seconds. A header line (`user_id,...`) is tolerated. Event ids are `taobao:<file>:<line>`.
 */
export function taobaoParser(fileName: string): LineParser {
  return {
    parse(line: string, lineNo: number): LineResult {
      if (line.trim().length === 0) return { kind: 'skip' };
      const cells = line.split(',');
      if (lineNo === 1 && cells[0].trim().toLowerCase() === 'user_id') return { kind: 'skip' };
      if (cells.length !== 5) return { kind: 'error', reason: `expected 5 columns, got ${cells.length}` };
      const user = normalizeId(cells[0]);
      if (user === '') return { kind: 'error', reason: 'user_id: empty' };
      const behavior = cells[3].trim().toLowerCase();
      const eventType = TAOBAO_BEHAVIORS[behavior];
      if (!eventType) return { kind: 'error', reason: `behavior: unknown ${JSON.stringify(cells[3])} (pv, cart, fav, buy)` };
      const seconds = cells[4].trim();
      if (!/^\d{1,12}$/.test(seconds)) return { kind: 'error', reason: `timestamp: not unix seconds (${JSON.stringify(seconds)})` };
      const ts = Number(seconds) * 1000;
      const event: CanonicalEventJson = { event_id: `taobao:${fileName}:${lineNo}`, user_id: user, event_type: eventType, ts };
      const item = normalizeId(cells[1]);
      if (item) event.item_id = item;
      const category = normalizeId(cells[2]);
      if (category) event.category = category;
      return { kind: 'event', event, ts };
    },
  };
}
