#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1 node --v8-pool-size=1 --max-semi-space-size=4
/** vdpctl: client and tools for vdpd. Each subcommand lives in src/cli/commands/; only the one run is loaded (registry.ts). */
// The `#!` line's GLIBC_TUNABLES: glibc asks the kernel for transparent huge pages for what it
// maps (madvise; a kernel set to `never` ignores it). `vdpctl replay` reads a whole capture
// and writes megabytes of output through malloc'ed memory: on a VM where each new 4 KiB page
// costs ~11 µs, a cold replay of 100,000 frames took ~3,000 fewer page faults, ~8 % less time
// (BENCHMARKS.md, replay-vs-tshark). `arena_max=1`: one malloc arena for every thread. V8's
// worker thread (optimising compilations: megabytes of short-lived zone memory) otherwise got
// an arena of its own whose fresh pages it faulted in while the main thread's freed memory sat
// idle: ~2,400 more page faults in a cold replay of 100,000 frames, 35 ms slower (median of 41
// pairs, faster with one arena in 30; a one-round replay the same; BENCHMARKS.md).
// `-u NODE_EXTRA_CA_CERTS`: Node reads and parses that certificate file before it runs any
// script (a system bundle: ~45 ms here, a third of a small replay), and vdpctl never opens a
// TLS connection (its client talks to vdpd's Unix socket).
// `--v8-pool-size=1`: one V8 worker thread for background work (optimising compilations, GC
// tasks) instead of four. A cold `vdpctl replay` keeps the main thread busy while V8 compiles
// its hot code in the background; on a two-core machine four workers took turns with the main
// thread (cold replay of 100,000 frames: fastest of 15 400 ms against 450, quarter 420 against
// 500; BENCHMARKS.md, replay-vs-tshark). A CLI has no parallel GC to lose.
// `--max-semi-space-size=4`: the young generation stops growing at 2 × 4 MB instead of 2 × 16.
// A replay keeps what its first frames build (every VSI's record) and then makes short-lived
// garbage; the larger young generation only meant more fresh memory, and on a VM where a page
// fault costs 5–10 µs a cold replay of 100,000 frames took ~1,500 more of them and 6 ms more
// GC: 13 ms slower (median of 41 pairs, faster with the flag in 34; BENCHMARKS.md).
import { Command } from 'commander';
import { registrationsFor } from './registry.js';

const program = new Command();
program.name('vdpctl').description('client and tools for vdpd, the IEEE 802.1Qbg VDP engine').version('0.1.0');
program.exitOverride((err) => {
  // commander's own errors (unknown option, missing argument) are usage errors: exit 2
  process.exit(err.exitCode === 0 ? 0 : 2);
});
// no top-level await: the build makes the executable a CommonJS file (scripts/build.mjs)
async function main(): Promise<void> {
  for (const register of await registrationsFor(process.argv)) register(program);
  await program.parseAsync(process.argv);
}

void main();
