/**
 * The replay's intern table (src/replay/items.ts ByteTable): a long key is hashed over a
 * sample of its octets, so keys that differ only outside the sample share a hash; a lookup
 * must still tell them apart by comparing every octet.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteTable } from '../../../src/replay/items.js';

describe('ByteTable', () => {
  it('tells apart long keys that differ only outside the hashed sample', () => {
    const base = new Uint8Array(600).map((_, i) => (i * 7) & 0xff);
    const h = ByteTable.hash(base, 0, base.length);
    // find octets the sample skips: changing one leaves the hash as it was
    const skipped: number[] = [];
    for (let i = 0; i < base.length && skipped.length < 3; i++) {
      const k = base.slice();
      k[i] ^= 0xff;
      if (ByteTable.hash(k, 0, k.length) === h) skipped.push(i);
    }
    expect(skipped.length).toBe(3);
    const t = new ByteTable<number>(100);
    const keys = skipped.map((i) => {
      const k = base.slice();
      k[i] ^= 0xff;
      return k;
    });
    t.set(h, base, 0, base.length, -1);
    keys.forEach((k, n) => t.set(h, k, 0, k.length, n));
    expect(t.get(h, base, 0, base.length)).toBe(-1);
    keys.forEach((k, n) => expect(t.get(h, k, 0, k.length)).toBe(n));
    const other = base.slice();
    other[skipped[0]!] ^= 0x01;
    expect(t.get(h, other, 0, other.length)).toBeUndefined();
  });

  it('finds every key stored, in place inside a larger buffer, and no key not stored', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 40 }), fc.nat(16), (keys, pad) => {
        const t = new ByteTable<number>(1000);
        const at = (k: Uint8Array): [Uint8Array, number, number] => {
          const b = new Uint8Array(pad + k.length + 3).fill(0xaa);
          b.set(k, pad);
          return [b, pad, pad + k.length];
        };
        const first = new Map<string, number>();
        keys.forEach((k, i) => {
          const [b, s, e] = at(k);
          const h = ByteTable.hash(b, s, e);
          expect(ByteTable.hash(k, 0, k.length)).toBe(h);
          if (t.get(h, b, s, e) === undefined) {
            t.set(h, b, s, e, i);
            first.set(Buffer.from(k).toString('hex'), i);
          }
        });
        for (const k of keys) {
          const [b, s, e] = at(k);
          expect(t.get(ByteTable.hash(b, s, e), b, s, e)).toBe(first.get(Buffer.from(k).toString('hex')));
        }
        const absent = new Uint8Array(301).fill(1);
        expect(t.get(ByteTable.hash(absent, 0, absent.length), absent, 0, absent.length)).toBeUndefined();
      }),
    );
  });

  it('keeps copies of the keys: changing or reusing the source buffer afterwards changes nothing', () => {
    const t = new ByteTable<number>(1000);
    const src = new Uint8Array(80_000);
    const sizes = [0, 1, 17, 63, 64, 65, 300, 70_000]; // 70,000: larger than an arena block
    const stored: Uint8Array[] = [];
    sizes.forEach((n, i) => {
      for (let j = 0; j < n; j++) src[j] = (i * 31 + j * 7) & 0xff;
      stored.push(src.slice(0, n));
      t.set(ByteTable.hash(src, 0, n), src, 0, n, i);
    });
    src.fill(0x55);
    stored.forEach((k, i) => expect(t.get(ByteTable.hash(k, 0, k.length), k, 0, k.length)).toBe(i));
    const changed = stored[6]!.slice();
    changed[150] ^= 1;
    expect(t.get(ByteTable.hash(changed, 0, changed.length), changed, 0, changed.length)).toBeUndefined();
  });

  it('forgets everything when it reaches its limit, then stores again', () => {
    const t = new ByteTable<number>(3);
    const key = (i: number): Uint8Array => new Uint8Array([i, i + 1, i + 2]);
    for (let i = 0; i < 3; i++) t.set(ByteTable.hash(key(i), 0, 3), key(i), 0, 3, i);
    expect(t.get(ByteTable.hash(key(2), 0, 3), key(2), 0, 3)).toBe(2);
    t.set(ByteTable.hash(key(9), 0, 3), key(9), 0, 3, 9);
    expect(t.get(ByteTable.hash(key(0), 0, 3), key(0), 0, 3)).toBeUndefined();
    expect(t.get(ByteTable.hash(key(9), 0, 3), key(9), 0, 3)).toBe(9);
  });
});
