#!/usr/bin/env node
/**
 * The build: tsc compiles the tree to dist/, then each of vdpctl's light subcommand modules
 * (dist/src/cli/commands/NAME.js, loaded alone by src/cli/registry.ts) is replaced by one
 * self-contained file with everything it imports from this project (npm packages stay
 * imports). Node's ESM loader costs ~1–2 ms per module file on this machine, and
 * `vdpctl replay` loads 28 of them: bundled, it starts ~40 ms sooner (BENCHMARKS.md,
 * replay-vs-tshark). The bundle is made from tsc's output, so it runs the code tsc emitted.
 * `lab` is left as tsc wrote it: it finds the daemon's script from its own location.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLED_COMMANDS = ['decode', 'replay', 'capture', 'vsi', 'netlink'];

if (process.env.VDPD_BUILD_LOCKED !== '1') {
  // one build at a time (test files build dist/ at the same moment): esbuild must never read
  // a file another build's tsc is writing. flock(1) lets go when the holder dies.
  const r = spawnSync('flock', [join(ROOT, 'node_modules', '.vdpd-build.lock'), process.execPath, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, VDPD_BUILD_LOCKED: '1' },
  });
  if (r.error) console.error(`vdpd build: cannot run flock(1) (util-linux): ${r.error.message}`);
  process.exit(r.status ?? 1);
}

execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });

for (const name of BUNDLED_COMMANDS) {
  const file = join(ROOT, 'dist', 'src', 'cli', 'commands', `${name}.js`);
  // written beside it and renamed over it: a vdpctl starting meanwhile reads one whole file
  const tmp = `${file}.${process.pid}.tmp`;
  await build({ entryPoints: [file], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: tmp, logLevel: 'warning' });
  renameSync(tmp, file);
  // tsc's map describes the unbundled file
  rmSync(`${file}.map`, { force: true });
}

// vdpctl itself, with commander, in one file too: commander is CommonJS, and Node's ESM
// loader parses each of its files for their exports before running them (~15 ms of every
// vdpctl start here). The subcommand modules stay separate files (loaded one at a time), and
// commander's own require() calls for Node's modules go through a real require.
{
  const file = join(ROOT, 'dist', 'src', 'cli', 'vdpctl.js');
  const tmp = `${file}.${process.pid}.tmp`;
  await build({
    entryPoints: [file],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['./commands/*'],
    banner: { js: "import { createRequire as vdpctlCreateRequire } from 'node:module';\nconst require = vdpctlCreateRequire(import.meta.url);" },
    outfile: tmp,
    logLevel: 'warning',
  });
  renameSync(tmp, file);
  rmSync(`${file}.map`, { force: true });
}

// the two commands run as they are (their `#!` lines set Node's flags and glibc's tunables)
for (const bin of ['vdpd', 'vdpctl']) chmodSync(join(ROOT, 'dist', 'src', 'cli', `${bin}.js`), 0o755);
