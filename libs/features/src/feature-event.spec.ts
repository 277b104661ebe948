import { CompactFeatureEvent, toFeatureEvent } from './feature-event';

const compact = (ts: number, ingestedAt: number) =>
  new CompactFeatureEvent('e', ts, 'view', null, null, null, null, 1, null, null, ingestedAt);

describe(CompactFeatureEvent.name, () => {
  it('gives back every event time and ingest time exactly', () => {
    const times = [
      0, 1, 999, 1000, 1001, 1_759_276_800_123, 2_147_483_647_999, 4_102_444_799_999, 12.5,
      1_759_276_800_123.25, 0.1,
    ];
    // Spread over the whole range (golden-ratio steps), as integers and with fractions.
    for (let i = 1; i <= 500; i++) {
      const t = ((i * 0.6180339887498949) % 1) * 4_102_444_800_000;
      times.push(Math.floor(t), t);
    }
    for (const t of times) {
      const e = compact(t, t + 500);
      expect([t, e.ts]).toEqual([t, t]);
      expect([t, e.ingested_at]).toEqual([t, t + 500]);
    }
  });

  it('is what toFeatureEvent builds, with the fields of the event', () => {
    const e = toFeatureEvent({
      event_id: 'e1',
      event_type: 'purchase',
      ts: 1_759_276_800_123,
      item_id: 'sku',
      category: '',
      brand: 'b',
      price: 9.99,
      quantity: 2,
      rating: null,
      session_id: 's',
      ingested_at: 1_759_276_801_000,
    });
    expect(e).toBeInstanceOf(CompactFeatureEvent);
    expect({ ...pick(e) }).toEqual({
      event_id: 'e1',
      ts: 1_759_276_800_123,
      type: 'purchase',
      item: 'sku',
      category: null,
      brand: 'b',
      price: 9.99,
      quantity: 2,
      rating: null,
      session: 's',
      ingested_at: 1_759_276_801_000,
    });
  });
});

/** The FeatureEvent fields (ts and ingested_at are getters, not own properties). */
function pick(e: ReturnType<typeof toFeatureEvent>) {
  const { event_id, ts, type, item, category, brand, price, quantity, rating, session, ingested_at } = e;
  return { event_id, ts, type, item, category, brand, price, quantity, rating, session, ingested_at };
}
