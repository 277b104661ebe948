import { createHmac } from 'node:crypto';
import type { ClickEvent } from '@app/contracts';
import { PrivacyConfigError, PrivacyFilter, truncateIp } from './privacy';

const event = (extra: Partial<ClickEvent> = {}): ClickEvent =>
  ({
    event_id: 'e', user_id: 'u', anonymous_id: null, session_id: null, event_type: 'view', ts: 1, item_id: null,
    category: null, brand: null, price: null, currency: null, quantity: null, rating: null, query: null,
    target_user_id: null, device: null, os: null, city: null, region: null, country: null, ip: null, user_agent: null,
    referrer: null, properties: {}, ingested_at: 1, source: 'http', backfill: false, ...extra,
  });

describe('truncateIp', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0'],
    [' 10.1.2.3 ', '10.1.2.0'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::'],
    ['2001:DB8::1', '2001:db8:0::'],
    ['[2001:db8:1:2::1]', '2001:db8:1::'],
    ['fe80::1%eth0', 'fe80:0:0::'],
    ['::ffff:192.0.2.128', '192.0.2.0'],
    ['::1', '0:0:0::'],
  ])('%s → %s', (ip, out) => expect(truncateIp(ip)).toBe(out));

  it.each(['', 'localhost', '256.1.1.1', '1.2.3', '2001:db8::g', 'not an ip'])('rejects %j', (ip) => expect(truncateIp(ip)).toBeNull());
});

describe(PrivacyFilter.name, () => {
  const key = 'k'.repeat(32);
  const hmac = (v: string) => createHmac('sha256', key).update(v).digest('hex');

  it('truncates the IP always', () => {
    const e = event({ ip: '198.51.100.23' });
    expect(new PrivacyFilter({ pseudonymize: [], drop: [] }).apply(e)).toBe(true);
    expect(e.ip).toBe('198.51.100.0');
    expect(new PrivacyFilter({ pseudonymize: [], drop: [] }).apply(event({ ip: 'nope' }))).toBe(false);
  });

  it('drops deny-listed fields and pseudonymises listed ones with a keyed HMAC', () => {
    const sut = new PrivacyFilter({ pseudonymize: ['user_id', 'properties.email'], drop: ['user_agent', 'properties.phone'], hmacKey: key });
    const e = event({ user_agent: 'UA', properties: { email: 'a@b.c', phone: '123', keep: 'x' } });
    sut.apply(e);
    expect(e.user_id).toBe(hmac('u'));
    expect(e.user_agent).toBeNull();
    expect({ ...e.properties }).toEqual({ email: hmac('a@b.c'), keep: 'x' });
  });

  it('scrubs dead-letter JSON the same way, including unknown top-level fields', () => {
    const sut = new PrivacyFilter({ pseudonymize: ['user_id'], drop: ['properties.email'], hmacKey: key });
    const out = sut.scrubJson({ user_id: 'u', ip: '1.2.3.4', email: 'a@b.c', price: -1 }) as Record<string, unknown>;
    expect({ ...out }).toEqual({ user_id: hmac('u'), ip: '1.2.3.0', price: -1 });
  });

  it('refuses a configuration it cannot honour', () => {
    expect(() => new PrivacyFilter({ pseudonymize: ['user_id'], drop: [] })).toThrow(PrivacyConfigError);
    expect(() => new PrivacyFilter({ pseudonymize: [], drop: ['event_type'] })).toThrow(/cannot drop/);
  });
});
