import { Codecs } from '@app/contracts';
import { toClickEventInput } from './click-event-conversion';
import { TokenBucket } from './token-bucket';

describe('toClickEventInput', () => {
  it('makes canonical JSON encodable: ids as strings, numbers as numbers, extras into properties', () => {
    const r = toClickEventInput(
      { event_id: 'e1', user_id: 266079 as unknown as string, event_type: 'buy', ts: '2024-01-01T00:00:00Z', price: '9.5' as unknown as number, quantity: 2, properties: { a: 'b', n: 1 as unknown as string }, ...({ campaign: 'x' } as object) },
      Date.UTC(2024, 0, 1),
      { source: 'replay:canonical', backfill: true },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({
      event_id: 'e1',
      user_id: '266079',
      event_type: 'buy',
      ts: Date.UTC(2024, 0, 1),
      price: 9.5,
      quantity: 2,
      properties: { a: 'b', n: '1', campaign: 'x' },
      source: 'replay:canonical',
      backfill: true,
    });
    expect(Codecs.ClickEvent.decode(Codecs.ClickEvent.encode(r.value))).toMatchObject({ event_id: 'e1', user_id: '266079' });
  });

  it('reports what cannot be carried', () => {
    expect(toClickEventInput({ event_id: '', event_type: 'view', ts: 1 }, 1)).toEqual({ ok: false, reason: expect.stringContaining('event_id') });
    expect(toClickEventInput({ event_id: 'x', event_type: 'view', ts: 1, quantity: 1.5 }, 1)).toEqual({ ok: false, reason: expect.stringContaining('quantity') });
    expect(toClickEventInput({ event_id: 'x', event_type: 'view', ts: 1, price: 'abc' as unknown as number }, 1)).toEqual({ ok: false, reason: expect.stringContaining('price') });
    expect(toClickEventInput({ event_id: 'x', event_type: 'view', ts: 1, user_id: {} as unknown as string }, 1)).toEqual({ ok: false, reason: expect.stringContaining('user_id') });
  });
});

describe(TokenBucket.name, () => {
  it('paces takes at the rate once the burst is spent', async () => {
    let now = 0;
    const slept: number[] = [];
    const bucket = new TokenBucket(100, 10, () => now, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    await bucket.take(10);
    expect(slept).toEqual([]);
    await bucket.take(50);
    expect(slept).toEqual([500]);
    now += 100;
    await bucket.take(10);
    expect(slept).toEqual([500]);
  });
});
