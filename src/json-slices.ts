/**
 * A JSON array built from chunks of values, one chunk per event-loop turn: the status of
 * 10,000 VSIs is megabytes of JSON, which serialised at once would hold the
 * wire up for tens of ms. The next chunk is only asked for after the turn was given back, so
 * a lazy source (a generator over the VSI table) spreads its own work the same way.
 */
export async function jsonArrayInSlices(chunks: Iterable<readonly unknown[]>): Promise<{ text: string; cpuMs: number }> {
  const parts: string[] = [];
  const it = chunks[Symbol.iterator]();
  let cpuMs = 0;
  let t = performance.now();
  for (let first = true; ; first = false) {
    if (!first) {
      cpuMs += performance.now() - t;
      await new Promise<void>((r) => setImmediate(r));
      t = performance.now();
    }
    const next = it.next();
    if (next.done) break;
    if (next.value.length > 0) parts.push(JSON.stringify(next.value).slice(1, -1));
  }
  cpuMs += performance.now() - t;
  return { text: `[${parts.join(',')}]`, cpuMs };
}
