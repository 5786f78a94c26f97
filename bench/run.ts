/**
 * `npm run bench [-- name…]`: runs every dist/bench/*.bench.js (each exports a default
 * async function returning BenchResult[]), prints the figures and rewrites that bench's
 * section of BENCHMARKS.md with the command, the machine and the date.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchModule, BenchResult } from './types.js';

const here = import.meta.dirname;
const root = join(here, '..', '..');
const mdPath = join(root, 'BENCHMARKS.md');

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toPrecision(3);
}

function section(name: string, results: BenchResult[]): string {
  const rows = results.map((r) => `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.note ?? ''} |`).join('\n');
  return (
    `<!-- bench:${name}:start -->\n` +
    `### ${name}\n\n` +
    `Command: \`npm run bench -- ${name}\` · Date: ${new Date().toISOString().slice(0, 10)} · Machine: ${machine()}\n\n` +
    `| measure | value | unit | note |\n|---|---|---|---|\n${rows}\n` +
    `<!-- bench:${name}:end -->`
  );
}

function updateMarkdown(name: string, results: BenchResult[]): void {
  let md = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '# Benchmarks\n\nFigures written by `npm run bench`; each section says how, where and when it was measured.\n';
  const block = section(name, results);
  const re = new RegExp(`<!-- bench:${name}:start -->[\\s\\S]*?<!-- bench:${name}:end -->`);
  md = re.test(md) ? md.replace(re, block) : `${md.trimEnd()}\n\n${block}\n`;
  writeFileSync(mdPath, md);
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .sort();
let failed = false;
for (const f of files) {
  const name = basename(f, '.bench.js');
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stdout.write(`\n== ${name}\n`);
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as { default: BenchModule };
    const results = await mod.default();
    for (const r of results) process.stdout.write(`  ${r.name.padEnd(58)} ${fmt(r.value).padStart(14)} ${r.unit}${r.note ? `  (${r.note})` : ''}\n`);
    if (!process.argv.includes('--no-write')) updateMarkdown(name, results);
  } catch (e) {
    failed = true;
    process.stderr.write(`bench ${name} failed: ${(e as Error).stack ?? String(e)}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
