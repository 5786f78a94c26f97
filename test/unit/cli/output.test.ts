/** vdpctl's buffered stdout (src/cli/output.ts): what is written comes out as its UTF-8, whatever its size. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferedOut, writeJsonLines } from '../../../src/cli/output.js';

function written(parts: string[] | ((out: BufferedOut) => void)): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'vdpd-out-'));
  try {
    const path = join(dir, 'out');
    const fd = openSync(path, 'w');
    const out = new BufferedOut(fd);
    if (typeof parts === 'function') parts(out);
    else for (const p of parts) out.write(p);
    out.flush();
    closeSync(fd);
    return readFileSync(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('BufferedOut', () => {
  it('writes megabytes as their UTF-8, with multi-octet characters and surrogate pairs across every piece boundary', () => {
    // a pair's high half at each of the positions around 65,536 and 131,072 code units
    const texts: string[] = [];
    for (const at of [65_534, 65_535, 65_536, 131_071]) texts.push(`${'a'.repeat(at)}😀×é${'b'.repeat(1000)}`);
    texts.push(`${'{"vsi": "ÿ", "n": 1}\n'.repeat(200_000)}🎉`);
    for (const t of texts) expect(written([t]).equals(Buffer.from(t, 'utf8'))).toBe(true);
    const parts = ['x'.repeat(70_000), '€'.repeat(30_000), 'y'];
    expect(written(parts).equals(Buffer.from(parts.join(''), 'utf8'))).toBe(true);
  });
});

describe('writeJsonLines', () => {
  const lines = (doc: object) => written((out) => writeJsonLines(out, doc)).toString('utf8');

  it('is the same JSON as JSON.stringify, for any document', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (doc) => {
        const text = lines(doc);
        expect(text.endsWith('}\n')).toBe(true);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
      { numRuns: 300 },
    );
  });

  it('has a line per top-level member and per element of a top-level array, compact inside a line', () => {
    const doc = { file: 'x.pcap', frames: { total: 2, other: 0 }, vsis: [{ vsiid: 'a', timeline: [{ t: 1 }, { t: 2 }] }, { vsiid: 'b', timeline: [] }], gone: undefined, findings: [], summary: { errors: 0 } };
    expect(lines(doc)).toBe(
      '{"file":"x.pcap",\n"frames":{"total":2,"other":0},\n"vsis":[\n{"vsiid":"a","timeline":[{"t":1},{"t":2}]},\n{"vsiid":"b","timeline":[]}\n],\n"findings":[],\n"summary":{"errors":0}}\n',
    );
    expect(lines({})).toBe('{}\n');
    expect(lines({ f: () => 1, a: [undefined, () => 2], n: null })).toBe('{"a":[\nnull,\nnull\n],\n"n":null}\n');
  });
});
