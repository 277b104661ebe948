import type { CanonicalEventJson } from '../canonical-event';
import { splitCsvLine } from './csv';
import { LineParser, LineResult, normalizeId } from './types';

/** JData 2017 action `type` → canonical event type (CONTRACTS.md). */
export const JDATA_ACTION_TYPES: Readonly<Record<string, string>> = {
  '1': 'view',
  '2': 'cart_add',
  '3': 'cart_remove',
  '4': 'purchase',
  '5': 'favorite',
  '6': 'click',
};

export const JDATA_ACTION_COLUMNS = ['user_id', 'sku_id', 'time', 'model_id', 'type', 'cate', 'brand'] as const;
/** JData times have no zone: they are China time. */
export const JDATA_UTC_OFFSET_MS = 8 * 3600 * 1000;

/** `2016-01-31 23:59:02` (China time, UTC+8) → epoch ms; null when not that shape. */
export function jdataTime(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(s.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, se, ms] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return null;
  return Date.UTC(y, mo - 1, d, h, mi, se, ms) - JDATA_UTC_OFFSET_MS;
}

/**
 * JData action CSV (`user_id,sku_id,time,model_id,type,cate,brand`, with a header; columns are
 * found by name). Event ids are `jdata:<file>:<line>`.
 */
export function jdataActionParser(fileName: string): LineParser {
  let col: Record<string, number> | null = null;
  return {
    parse(line: string, lineNo: number): LineResult {
      if (line.trim().length === 0) return { kind: 'skip' };
      const cells = splitCsvLine(line);
      if (col === null) {
        const names = cells.map((c) => c.trim().toLowerCase());
        if (names.includes('user_id') && names.includes('type')) {
          const missing = JDATA_ACTION_COLUMNS.filter((c) => c !== 'model_id' && !names.includes(c));
          if (missing.length > 0) return { kind: 'error', reason: `header lacks ${missing.join(', ')}` };
          col = Object.fromEntries(names.map((n, i) => [n, i]));
          return { kind: 'skip' };
        }
        // No header: the documented column order.
        col = Object.fromEntries(JDATA_ACTION_COLUMNS.map((n, i) => [n, i]));
      }
      const width = Math.max(...Object.values(col)) + 1;
      if (cells.length < width) return { kind: 'error', reason: `expected ${width} columns, got ${cells.length}` };
      const get = (name: string): string => (col?.[name] === undefined ? '' : cells[col[name]].trim());
      const user = normalizeId(get('user_id'));
      if (user === '') return { kind: 'error', reason: 'user_id: empty' };
      const rawType = get('type');
      const eventType = JDATA_ACTION_TYPES[normalizeId(rawType)];
      if (!eventType) return { kind: 'error', reason: `type: unknown action type ${JSON.stringify(rawType)} (1–6)` };
      const ts = jdataTime(get('time'));
      if (ts === null) return { kind: 'error', reason: `time: not "YYYY-MM-DD hh:mm:ss" (${JSON.stringify(get('time'))})` };
      const event: CanonicalEventJson = { event_id: `jdata:${fileName}:${lineNo}`, user_id: user, event_type: eventType, ts };
      const sku = normalizeId(get('sku_id'));
      if (sku) event.item_id = sku;
      const cate = normalizeId(get('cate'));
      if (cate) event.category = cate;
      const brand = normalizeId(get('brand'));
      if (brand) event.brand = brand;
      const model = normalizeId(get('model_id'));
      if (model) event.properties = { model_id: model };
      return { kind: 'event', event, ts };
    },
  };
}
