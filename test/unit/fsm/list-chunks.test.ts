/**
 * The VSI table in chunks (status and list of 10,000 VSIs): the views a chunk at a time, each
 * built when asked for, so the daemon can spread them over event-loop turns.
 */
import { describe, expect, it } from 'vitest';
import { BackToBack } from '../../../fsm/sim/b2b.js';
import { testVsi } from './vsis.js';

describe('listChunks', () => {
  it('station and bridge: chunks of the asked size, together the same views as list()', () => {
    const b = new BackToBack().start();
    for (let i = 1; i <= 1200; i++) b.station.command('assoc', testVsi(i));
    b.advance(3000);
    const st = [...b.station.listChunks(500)];
    expect(st.map((c) => c.length)).toEqual([500, 500, 200]);
    expect(st.flat()).toEqual(b.station.list());
    expect(st.flat().filter((v) => v.state === 'ASSOCIATED')).toHaveLength(1200);
    const br = [...b.bridge.listChunks(500)];
    expect(br.map((c) => c.length)).toEqual([500, 500, 200]);
    expect(br.flat()).toEqual(b.bridge.list());
  });

  it('a chunk is built when asked for: a VSI commanded between chunks is in a later one, with its state then', () => {
    const b = new BackToBack().start();
    for (let i = 1; i <= 10; i++) b.station.command('assoc', testVsi(i));
    b.advance(3000);
    const it = b.station.listChunks(5);
    const first = it.next();
    expect(first.done).toBe(false);
    expect(first.value).toHaveLength(5);
    b.station.command('assoc', testVsi(11));
    const rest = [...it].flat();
    expect(rest).toHaveLength(6);
    // the view was made after the command: the new VSI is shown in progress, not as before it
    expect(rest.at(-1)).toMatchObject({ inProgress: true });
  });
});
