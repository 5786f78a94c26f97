import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, uuidToBytes, uuidToString } from '../../../pdu/bytes.js';

/** the plain definitions the fast versions must agree with */
const refHex = (b: Uint8Array, sep: string): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(sep);
const refUuid = (b: Uint8Array): string => {
  const h = refHex(b, '');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

describe('hex and UUID text', () => {
  it('toHex matches the plain definition, with and without a separator, on views into larger buffers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), fc.constantFrom('', ':', ' '), (bytes, pad, sep) => {
        const big = new Uint8Array(pad + bytes.length + 3).fill(0xee);
        big.set(bytes, pad);
        const view = big.subarray(pad, pad + bytes.length);
        expect(toHex(view, sep)).toBe(refHex(bytes, sep));
        expect(fromHex(toHex(view, sep))).toEqual(bytes);
      }),
    );
  });

  it('uuidToString matches RFC 4122 text order at any offset and round-trips through uuidToBytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(8), (bytes, off) => {
        const big = new Uint8Array(off + 16 + 2).fill(0xaa);
        big.set(bytes, off);
        const s = uuidToString(big, off);
        expect(s).toBe(refUuid(bytes));
        expect(uuidToBytes(s)).toEqual(bytes);
      }),
    );
  });
});
