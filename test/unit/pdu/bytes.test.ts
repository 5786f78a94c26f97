import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PduError } from '../../../pdu/errors.js';
import { fromHex, isMac, macInto, toHex, uuidToBytes, uuidToString } from '../../../pdu/bytes.js';
import { sameFilterList } from '../../../fsm/vsi.js';
import type { FilterEntry } from '../../../pdu/types.js';

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

/** the regular-expression definitions the char-code parsers replaced */
const REF_MAC = /^([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})$/;
function refFromHex(s: string): Uint8Array | 'error' {
  const clean = s.replace(/[\s:.-]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) return 'error';
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.substr(i * 2, 2), 16));
}
const attempt = <T,>(f: () => T): T | 'error' => {
  try {
    return f();
  } catch (e) {
    expect(e).toBeInstanceOf(PduError);
    return 'error';
  }
};
/** strings near the accepted forms: hex digits of both cases, the separators, and a few that are neither */
const nearHex = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:-. \tgxZ\u00a0/'.split('')), maxLength: 40 });
const nearMac = fc.oneof(
  fc.tuple(fc.array(fc.constantFrom(...'0123456789abcdefABCDEFg'.split('')), { minLength: 12, maxLength: 12 }), fc.array(fc.constantFrom(':', '-', '.', ' '), { minLength: 5, maxLength: 5 })).map(([d, sep]) => d.map((c, i) => c + (i % 2 === 1 && i < 11 ? sep[(i - 1) / 2] : '')).join('')),
  nearHex,
);

describe('hex and MAC parsing without regular expressions', () => {
  it('fromHex accepts and refuses exactly what the regular-expression version did, with the same octets', () => {
    fc.assert(
      fc.property(nearHex, (s) => {
        expect(attempt(() => fromHex(s))).toEqual(refFromHex(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('macInto and isMac accept exactly the MAC_RE form; a refused MAC writes nothing', () => {
    fc.assert(
      fc.property(nearMac, (s) => {
        const m = REF_MAC.exec(s);
        expect(isMac(s)).toBe(m !== null);
        const out = new Uint8Array(8).fill(0x77);
        const r = attempt(() => macInto(s, out, 1));
        if (m) {
          expect(r).toBeUndefined();
          expect([...out]).toEqual([0x77, ...m.slice(1).map((h) => parseInt(h, 16)), 0x77]);
        } else {
          expect(r).toBe('error');
          expect(out.every((b) => b === 0x77)).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
    expect(attempt(() => macInto(undefined as unknown as string, new Uint8Array(6), 0))).toBe('error');
  });
});

describe('sameFilterList', () => {
  const f = (o: Partial<FilterEntry>): FilterEntry => ({ ps: false, pcp: 0, vid: 10, ...o }) as FilterEntry;
  it('same fields in the same key order: same; another order, a key more, or another value: not', () => {
    const a = f({ mac: '02:00:00:00:00:01' });
    expect(sameFilterList([a], [{ ps: false, pcp: 0, vid: 10, mac: '02:00:00:00:00:01' }])).toBe(true);
    expect(sameFilterList([a], [{ mac: '02:00:00:00:00:01', ps: false, pcp: 0, vid: 10 }])).toBe(false);
    expect(sameFilterList([a], [{ ps: false, pcp: 0, vid: 10, mac: '02:00:00:00:00:01', groupId: undefined }])).toBe(false);
    expect(sameFilterList([a], [f({ mac: '02:00:00:00:00:01', vid: 11 })])).toBe(false);
    // a key that is no filter field: compared key by key
    const odd = { ...a, note: 'x' } as FilterEntry;
    expect(sameFilterList([odd], [{ ...a, note: 'x' } as FilterEntry])).toBe(true);
    expect(sameFilterList([odd], [a])).toBe(false);
  });
});
