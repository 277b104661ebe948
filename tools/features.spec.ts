import { parseAsOf } from './features';

describe(parseAsOf.name, () => {
  it('reads epoch milliseconds and ISO-8601 times', () => {
    expect(parseAsOf('1790000000000')).toBe(1790000000000);
    expect(parseAsOf('2026-10-01T12:00:00Z')).toBe(Date.UTC(2026, 9, 1, 12));
    expect(parseAsOf('2026-10-01T14:00:00+02:00')).toBe(Date.UTC(2026, 9, 1, 12));
  });

  it('defaults to now and rejects anything else', () => {
    expect(parseAsOf(undefined, 42)).toBe(42);
    expect(() => parseAsOf('yesterday')).toThrow('--as-of');
  });
});
