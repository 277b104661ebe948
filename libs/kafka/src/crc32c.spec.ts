import { crc32c } from './crc32c';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;

describe('crc32c', () => {
  it('gives the standard check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43); // 32 bytes of ones
  });

  it('equals kafkajs’ own function on buffers of every length and alignment', () => {
    let x = 99;
    const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    const big = Buffer.alloc(5000);
    for (let i = 0; i < big.length; i++) big[i] = rand();
    for (let len = 0; len < 70; len++) for (let off = 0; off < 9; off++) {
      const b = big.subarray(off, off + len);
      expect(crc32c(b)).toBe(kafkajsCrc32C(b));
    }
    expect(crc32c(big)).toBe(kafkajsCrc32C(big));
  });
});
