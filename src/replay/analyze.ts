/**
 * The replay debugger's engine: records of a capture in, a report out (roles, EVB, ECP per
 * direction, VDP per VSI, findings) plus the ladder the SVG is drawn from. Pure: no I/O
 * except through `analyzeFile`, no clock; the same capture gives the same report. Never
 * throws on bad input: damaged frames and files become findings.
 *
 * The work is done by a streaming pass (pass.ts); the functions here feed it the records
 * and, in the rare case the pass asks for it, feed them a second time: a file is read
 * again, an in-memory capture parsed again, and the records of any other source are kept
 * from the first pass.
 */
import type { ReplayInput } from './collect.js';
import { ReplayPass, type AnalyzeOptions, type Known } from './pass.js';
import { openCapture, scanBytes, scanCapture, type CaptureFile, type RingSize } from './source.js';
import type { ReplayResult } from './types.js';

export type { ReplayInput } from './collect.js';
export type { AnalyzeOptions } from './pass.js';

/** A source's records (copies: a source may reuse its buffers) and how it ended, to feed a second pass. */
interface Kept {
  inputs: ReplayInput[];
  error: { e: unknown } | undefined;
}

function keep(r: ReplayInput, kept: Kept): ReplayInput {
  // a copy whatever the array (Buffer's slice() would be a view of the source's buffer)
  const copy = { ...r, bytes: new Uint8Array(r.bytes) };
  kept.inputs.push(copy);
  return copy;
}

function replayKept(kept: Kept, opts: AnalyzeOptions, known: Known): ReplayResult {
  const pass = new ReplayPass(opts, known);
  for (const r of kept.inputs) pass.push(r);
  if (kept.error) pass.fail(kept.error.e);
  return done(pass);
}

/** the first pass's result, or a second pass over the kept records when the first asks for one */
function finishOrReplay(pass: ReplayPass, kept: Kept, opts: AnalyzeOptions): ReplayResult {
  const out = pass.finish();
  return 'result' in out ? out.result : replayKept(kept, opts, out.again);
}

/** the result of a pass that was given what an earlier one found (such a pass always has one) */
function done(pass: ReplayPass): ReplayResult {
  const out = pass.finish();
  if ('again' in out) throw new Error('replay bug: a second pass asked for a third');
  return out.result;
}

/** Analyse records from any (async) iterable; an error thrown by the source becomes a `truncated-capture` finding. */
export async function analyze(source: Iterable<ReplayInput> | AsyncIterable<ReplayInput>, opts: AnalyzeOptions = {}): Promise<ReplayResult> {
  const kept: Kept = { inputs: [], error: undefined };
  const pass = new ReplayPass(opts);
  try {
    for await (const r of source) pass.push(keep(r, kept));
  } catch (e) {
    kept.error = { e };
    pass.fail(e);
  }
  return finishOrReplay(pass, kept, opts);
}

/** Synchronous form for in-memory records. */
export function analyzeSync(source: Iterable<ReplayInput>, opts: AnalyzeOptions = {}): ReplayResult {
  const kept: Kept = { inputs: [], error: undefined };
  const pass = new ReplayPass(opts);
  try {
    for (const r of source) pass.push(keep(r, kept));
  } catch (e) {
    kept.error = { e };
    pass.fail(e);
  }
  return finishOrReplay(pass, kept, opts);
}

function passOverBytes(buf: Uint8Array, opts: AnalyzeOptions, known?: Known): ReplayPass {
  const pass = new ReplayPass(opts, known);
  try {
    scanBytes(buf, pass);
  } catch (e) {
    pass.fail(e);
  }
  return pass;
}

/** A whole capture in memory (pcap, pcapng, optionally gzip), e.g. for tests. */
export function analyzeBytes(buf: Uint8Array, opts: AnalyzeOptions = {}): ReplayResult {
  const out = passOverBytes(buf, opts).finish();
  return 'result' in out ? out.result : done(passOverBytes(buf, opts, out.again));
}

async function passOverFile(c: CaptureFile, opts: AnalyzeOptions, known: Known | undefined, ring: RingSize | undefined): Promise<ReplayPass> {
  const pass = new ReplayPass(opts, known);
  try {
    await scanCapture(c, pass, ring);
  } catch (e) {
    pass.fail(e);
  }
  return pass;
}

/**
 * A capture file (gzip detected by magic). Throws only when the file cannot be opened.
 * `ring`: the reader's buffers (source.ts), for tests that make it small.
 */
export async function analyzeFile(path: string, opts: AnalyzeOptions = {}, ring?: RingSize): Promise<ReplayResult> {
  const c = openCapture(path);
  const o = { file: path, ...opts };
  const out = (await passOverFile(c, o, undefined, ring)).finish();
  return 'result' in out ? out.result : done(await passOverFile(c, o, out.again, ring));
}
