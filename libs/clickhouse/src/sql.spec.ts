import { clickhouseErrorCode, id, ident, literal, sql, toDateTimeString } from './sql';

describe('sql', () => {
  it('escapes strings so injection stays inside the literal', () => {
    const hostile = "x' OR 1=1; DROP TABLE events --\\\n";
    expect(sql`SELECT * FROM t WHERE user_id = ${hostile}`).toBe(
      "SELECT * FROM t WHERE user_id = 'x\\' OR 1=1; DROP TABLE events --\\\\\\n'",
    );
  });

  it('renders numbers, bigints, arrays and nulls', () => {
    expect(literal([1, 'a', null, 5n])).toBe("[1, 'a', NULL, 5]");
    expect(() => literal(NaN)).toThrow(/finite/);
  });

  it('whitelists identifiers', () => {
    expect(sql`SELECT 1 FROM ${id('events')}`).toBe('SELECT 1 FROM events');
    expect(() => ident('events; DROP')).toThrow(/identifier/);
  });

  it('formats DateTime in UTC', () => {
    expect(toDateTimeString(Date.UTC(2024, 0, 2, 3, 4, 5, 999))).toBe('2024-01-02 03:04:05');
  });

  it('parses the code of an 18.16 error', () => {
    expect(clickhouseErrorCode(new Error('Code: 60, e.displayText() = DB::Exception: Table x does not exist'))).toBe(60);
    expect(clickhouseErrorCode(new Error('nope'))).toBeNull();
  });
});
