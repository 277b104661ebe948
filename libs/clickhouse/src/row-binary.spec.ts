import { RowBinaryEncoder } from './row-binary';

const hex = (f: (e: RowBinaryEncoder) => void) => {
  const e = new RowBinaryEncoder(4);
  f(e);
  return e.bytes().toString('hex');
};

describe(RowBinaryEncoder.name, () => {
  it('writes strings as LEB128 length + UTF-8, ASCII or not', () => {
    expect(hex((e) => e.string(''))).toBe('00');
    expect(hex((e) => e.string('ab'))).toBe('026162');
    expect(hex((e) => e.string('é'))).toBe('02c3a9');
    expect(hex((e) => e.string('北京'))).toBe('06e58c97e4baac');
    const long = 'x'.repeat(200);
    expect(hex((e) => e.string(long))).toBe('c801' + '78'.repeat(200));
    const longUnicode = 'é'.repeat(100);
    expect(hex((e) => e.string(longUnicode))).toBe('c801' + 'c3a9'.repeat(100));
  });

  it('writes numbers little-endian, DateTime as UInt32, UInt64 from numbers and decimal strings', () => {
    expect(hex((e) => e.uint8(7))).toBe('07');
    expect(hex((e) => e.uint16(0x1234))).toBe('3412');
    expect(hex((e) => e.uint32(0x01020304))).toBe('04030201');
    expect(hex((e) => e.dateTime(1_700_000_000))).toBe(Buffer.from([0x00, 0xf1, 0x53, 0x65]).toString('hex'));
    expect(hex((e) => e.uint64(2 ** 40 + 5))).toBe('0500000000010000');
    expect(hex((e) => e.uint64('18446744073709551615'))).toBe('ffffffffffffffff');
    expect(hex((e) => e.uint64('1099511627781'))).toBe('0500000000010000');
    expect(hex((e) => e.float64(1.5))).toBe('000000000000f83f');
  });

  it('writes Nullable as a null flag, then the value unless null; arrays as count + elements', () => {
    expect(hex((e) => e.nullableFloat64(null))).toBe('01');
    expect(hex((e) => e.nullableFloat64(2))).toBe('00' + '0000000000000040');
    expect(hex((e) => e.nullableUInt8(null))).toBe('01');
    expect(hex((e) => e.nullableUInt8(5))).toBe('0005');
    expect(hex((e) => e.stringArray(['a', 'bc']))).toBe('02016102' + '6263');
    expect(hex((e) => e.stringArray([]))).toBe('00');
  });

  it('refuses values a column cannot hold instead of wrapping them', () => {
    const e = new RowBinaryEncoder();
    expect(() => e.uint8(256)).toThrow(/out of range|not written/);
    expect(() => e.uint16(-1)).toThrow(/out of range|not written/);
    expect(() => e.nullableUInt8(300)).toThrow(/out of range|not written/);
    expect(() => e.uint64(-1)).toThrow(/out of range|not written/);
  });

  it('grows, truncates a half-written row, patches a flag and hands over a copy', () => {
    const e = new RowBinaryEncoder(2);
    e.string('first');
    e.endRow();
    const mark = e.byteLength;
    e.string('half');
    e.truncate(mark);
    e.uint8(0);
    e.setUInt8(mark, 9);
    e.endRow();
    expect(e.rows).toBe(2);
    const out = e.take().bytes;
    expect(out.toString('hex')).toBe('05' + Buffer.from('first').toString('hex') + '09');
    expect(e.byteLength).toBe(0);
    e.string('zz');
    expect(out.toString('hex')).toBe('05' + Buffer.from('first').toString('hex') + '09');
    expect(() => e.setUInt8(10, 1)).toThrow(/out of range|not written/);
  });

  it("writes integers and doubles byte for byte as Buffer's writers do, and refuses what they refuse", () => {
    const values = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -1, 1.7, 0.5, -0.5, Number.NaN, 2 ** 53 - 1, 1e300, -0, Infinity];
    const writers: [string, (e: RowBinaryEncoder, v: number) => void, (b: Buffer, v: number) => number, number][] = [
      ['uint8', (e, v) => e.uint8(v), (b, v) => b.writeUInt8(v, 0), 1],
      ['uint16', (e, v) => e.uint16(v), (b, v) => b.writeUInt16LE(v, 0), 2],
      ['uint32', (e, v) => e.uint32(v), (b, v) => b.writeUInt32LE(v, 0), 4],
      ['dateTime', (e, v) => e.dateTime(v), (b, v) => b.writeUInt32LE(v, 0), 4],
      ['float64', (e, v) => e.float64(v), (b, v) => b.writeDoubleLE(v, 0), 8],
      ['nullableUInt8', (e, v) => e.nullableUInt8(v), (b, v) => (b.writeUInt8(0, 0), b.writeUInt8(v, 1)), 2],
    ];
    for (const [name, write, reference, size] of writers) {
      for (const v of values) {
        const want = Buffer.alloc(size);
        let wantErr: string | null = null;
        try {
          reference(want, v);
        } catch (err) {
          wantErr = (err as Error).name;
        }
        const e = new RowBinaryEncoder(4);
        let gotErr: string | null = null;
        try {
          write(e, v);
        } catch (err) {
          gotErr = (err as Error).name;
          expect((err as Error).message).toMatch(/out of range/);
        }
        expect([name, v, gotErr]).toEqual([name, v, wantErr]);
        if (wantErr === null) expect([name, v, e.bytes().toString('hex')]).toEqual([name, v, want.toString('hex')]);
        else expect([name, v, e.byteLength]).toEqual([name, v, 0]); // nothing written
      }
    }
    const e = new RowBinaryEncoder(4);
    e.uint64(2 ** 53 - 1);
    e.uint64('18446744073709551615');
    e.uint64(4294967296 + 5);
    const want = Buffer.alloc(24);
    want.writeBigUInt64LE(2n ** 53n - 1n, 0);
    want.writeBigUInt64LE(2n ** 64n - 1n, 8);
    want.writeBigUInt64LE(4294967301n, 16);
    expect(e.bytes().toString('hex')).toBe(want.toString('hex'));
  });

  describe('take', () => {
    const value = Buffer.alloc(1000, 0x61);
    /** ~400 KB of rows whose bytes are `fill`. */
    const fill = (e: RowBinaryEncoder, byte: number) => {
      value.fill(byte);
      for (let i = 0; i < 400; i++) {
        e.rawString(value, 0, value.length);
        e.endRow();
      }
    };

    it('hands a mostly full buffer over, writes on elsewhere, and reuses it once released', () => {
      const e = new RowBinaryEncoder(512 * 1024);
      fill(e, 0x61);
      const a = e.take();
      expect(a.bytes.length).toBe(400 * 1002);
      const aWas = Buffer.from(a.bytes);
      fill(e, 0x62);
      const b = e.take();
      expect(a.bytes.equals(aWas)).toBe(true); // not overwritten by the next rows
      expect(b.bytes.buffer).not.toBe(a.bytes.buffer);
      a.release();
      a.release(); // once only: the buffer is not handed out twice
      const bWas = Buffer.from(b.bytes);
      fill(e, 0x63);
      const c = e.take(); // the encoder goes on in a's memory
      expect(c.bytes.buffer).not.toBe(a.bytes.buffer);
      fill(e, 0x64);
      const d = e.take();
      expect(d.bytes.buffer).toBe(a.bytes.buffer); // a's memory, reused
      expect(d.bytes[2]).toBe(0x64); // after the 2-byte length
      expect(b.bytes.equals(bWas)).toBe(true);
      expect(c.bytes[2]).toBe(0x63);
      fill(e, 0x65);
      expect(e.take().bytes.buffer).not.toBe(a.bytes.buffer); // released once, reused once
    });

    it('hands a chunk filling less than half of its buffer over only when a spare can take its place', () => {
      const e = new RowBinaryEncoder(1024 * 1024);
      const rows = (n: number) => {
        for (let i = 0; i < n; i++) e.rawString(value, 0, value.length);
      };
      rows(300); // ~300 KB of 1 MiB, no spare: copied
      const copied = e.take();
      expect(copied.bytes.buffer.byteLength).toBe(300 * 1002);
      rows(600); // more than half: handed over
      const full = e.take();
      expect(full.bytes.buffer.byteLength).toBe(1024 * 1024);
      full.release();
      rows(300); // less than half, a spare at hand: handed over
      const handed = e.take();
      expect(handed.bytes.buffer.byteLength).toBe(1024 * 1024);
      expect(handed.bytes.length).toBe(300 * 1002);
    });

    it('copies a small chunk, so that a few rows do not hold a large buffer', () => {
      const e = new RowBinaryEncoder(4 * 1024 * 1024);
      e.string('few');
      e.endRow();
      const small = e.take();
      expect(small.bytes.buffer.byteLength).toBeLessThan(1024 * 1024);
      e.string('zzz');
      expect(small.bytes.toString('latin1')).toBe('\x03few');
    });
  });
});
