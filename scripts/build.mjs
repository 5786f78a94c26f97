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

/**
 * `entry` bundled by esbuild into `file` with `options`, written beside it and renamed over
 * it: a vdpctl starting meanwhile reads one whole file
 */
async function bundle(entry, file, options) {
  const tmp = `${file}.${process.pid}.tmp`;
  await build({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', ...options, outfile: tmp });
  renameSync(tmp, file);
}

for (const name of BUNDLED_COMMANDS) {
  const file = join(ROOT, 'dist', 'src', 'cli', 'commands', `${name}.js`);
  await bundle(file, file, { format: 'esm', packages: 'external' });
  // tsc's map describes the unbundled file
  rmSync(`${file}.map`, { force: true });
}

// CommonJS files get import.meta.url from their own file name (createRequire for modules
// loaded only when needed, e.g. node:zlib); "use strict" first: esbuild's own comes after
// the banner, where it is no directive
const CJS = {
  format: 'cjs',
  define: { 'import.meta.url': 'vdpctlImportMetaUrl' },
  banner: { js: "'use strict';\nconst vdpctlImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

// The subcommands vdpctl.cjs requires, each a CommonJS file of its own beside its ES module
// (commands/NAME.cjs): Node compiles only the one being run. In one file with the executable,
// every start parsed all four (decode, replay, vsi, netlink: 190 of its 450 kB; the whole file
// took 12–16 ms to compile here).
const REQUIRED_COMMANDS = ['decode', 'replay', 'vsi', 'netlink'];
for (const name of REQUIRED_COMMANDS) {
  const dir = join(ROOT, 'dist', 'src', 'cli', 'commands');
  await bundle(join(dir, `${name}.js`), join(dir, `${name}.cjs`), { ...CJS, packages: 'external' });
}

// The vdpctl executable: a CommonJS file, vdpctl.cjs, with commander in it. Node starts a
// CommonJS entry without its ESM loader, requires Node's own modules without building their
// ESM facades (the one of node:fs reads every lazy export, loading fs/promises, streams,
// readline), and a one-round `vdpctl replay` took ~100 ms instead of ~120 (BENCHMARKS.md,
// replay-vs-tshark). The registry's dynamic imports of the subcommands above become lazy
// require()s of their .cjs files; `lab` and `capture` stay ES modules, loaded by a dynamic
// import: they find files from their own location (import.meta). Other npm packages stay
// require()s (koffi and cap are native).
await bundle(join(ROOT, 'dist', 'src', 'cli', 'vdpctl.js'), join(ROOT, 'dist', 'src', 'cli', 'vdpctl.cjs'), {
  ...CJS,
  external: ['./commands/lab.js', './commands/capture.js'],
  plugins: [
    {
      name: 'npm-packages-but-commander-external',
      setup(b) {
        const required = new RegExp(`^\\./commands/(${REQUIRED_COMMANDS.join('|')})\\.js$`);
        b.onResolve({ filter: required }, (args) => ({ path: args.path.replace(/\.js$/, '.cjs'), namespace: 'vdpctl-command' }));
        b.onLoad({ filter: /.*/, namespace: 'vdpctl-command' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
        // that require() is resolved at run time, from vdpctl.cjs's directory
        b.onResolve({ filter: /^\.\/commands\/.*\.cjs$/ }, (args) => ({ path: args.path, external: true }));
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          // commander requires node:child_process at load (for executable subcommands,
          // which vdpctl has none of): with net, dgram and the stream modules ~3 ms of
          // every start. It gets the module on first use instead.
          if (args.path === 'node:child_process' && /[\\/]commander[\\/]/.test(args.importer)) return { path: 'lazy-child-process', namespace: 'vdpctl' };
          return args.path === 'commander' || args.path.startsWith('commander/') ? undefined : { path: args.path, external: true };
        });
        b.onLoad({ filter: /^lazy-child-process$/, namespace: 'vdpctl' }, () => ({
          contents: "let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });",
          loader: 'js',
        }));
      },
    },
  ],
});

// vdpctl.js, with commander, in one file too (an ES module, for `node dist/src/cli/vdpctl.js`
// and for anything that imports it): commander is CommonJS, and Node's ESM
// loader parses each of its files for their exports before running them (~15 ms of every
// vdpctl start here). The subcommand modules stay separate files (loaded one at a time), and
// commander's own require() calls for Node's modules go through a real require.
{
  const file = join(ROOT, 'dist', 'src', 'cli', 'vdpctl.js');
  await bundle(file, file, {
    format: 'esm',
    external: ['./commands/*'],
    banner: { js: "import { createRequire as vdpctlCreateRequire } from 'node:module';\nconst require = vdpctlCreateRequire(import.meta.url);" },
  });
  rmSync(`${file}.map`, { force: true });
}

// the two commands run as they are (their `#!` lines set Node's flags and glibc's tunables)
for (const bin of ['vdpd.js', 'vdpctl.cjs', 'vdpctl.js']) chmodSync(join(ROOT, 'dist', 'src', 'cli', bin), 0o755);
