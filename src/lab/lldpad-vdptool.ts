/**
 * vdptool as an orchestrator uses it against an lldpad station: argument building, output
 * parsing, and batch scripts that run many requests in one `ip netns exec` (a namespace
 * entry per VSI costs more than lldpad's answer does).
 *
 * vdptool facts this relies on (lldpad 1.1): `-W` waits up to 5 s for lldpad's event with
 * the bridge's answer and exits 0 whether or not one came ("Response from VDP" in the
 * output tells); refusals print "FAILED: <reason>" and exit 1; a query (`-t -c uuid=…`)
 * shows the last bridge response in the `hints` field (255 = none yet, 0 = success); the
 * unfiltered listing is one 4 KB clif message, so it is empty above ~30 VSIs.
 */
import { LabError } from './netns.js';

export type VdpMode = 'assoc' | 'preassoc' | 'preassoc-rr' | 'deassoc';

export interface VdptoolRequest {
  mode: VdpMode;
  /** manager ID: ≤15 alphanumerics (ASCII) or hex digits/dashes (hex-decoded by lldpad) */
  mgrid2: string;
  typeId: number;
  typeVersion: number;
  uuid: string;
  hints?: 'none' | 'to' | 'from';
  /** vdptool filter syntax: `<vlan16>[-<mac>[-<gid>]]` or `<vlan16>--<gid>` (vlan16 = PS/PCP/VID) */
  filters: string[];
  /** -W: wait for the bridge's answer (default true) */
  wait?: boolean;
  /** further `-c` values, e.g. `oui=cisco,vm_name=vm1` */
  extra?: string[];
}

/** One VSI as vdptool prints it (query listing or the "Response from VDP" event). */
export interface VdptoolVsi {
  mode: string;
  mgrid2: string;
  typeId: number;
  typeVersion: number;
  uuid: string;
  /** in a query: lldpad's last response status for the VSI (255 none yet, 0 success) */
  hints?: number;
  filters: string[];
}

export interface VdptoolResult {
  /** vdptool exit status 0 (lldpad took the request) */
  ok: boolean;
  exitCode: number;
  /** lldpad reported the bridge's answer within vdptool's 5 s wait */
  responseSeen: boolean;
  /** the answer as lldpad reported it (filters carry bridge-assigned VIDs) */
  response?: VdptoolVsi;
  rawOutput: string;
  ms: number;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkRequest(r: VdptoolRequest): void {
  const bad = (what: string) => {
    throw new LabError(`vdptool request ${r.uuid}: ${what}`);
  };
  if (!UUID_RE.test(r.uuid)) bad('uuid must be a UUID');
  if (!Number.isInteger(r.typeId) || r.typeId < 0 || r.typeId > 0xffffff) bad('typeId must be 0..16777215');
  if (!Number.isInteger(r.typeVersion) || r.typeVersion < 0 || r.typeVersion > 255) bad('typeVersion must be 0..255');
  if (r.filters.length === 0) bad('at least one filter is required');
  for (const v of [r.mgrid2, ...r.filters, ...(r.extra ?? [])]) if (/\s/.test(v) || v === '') bad(`empty value or whitespace in ${JSON.stringify(v)}`);
}

/** vdptool arguments for a set request on `ifname` (without the binary name). */
export function vdptoolArgs(ifname: string, r: VdptoolRequest): string[] {
  checkRequest(r);
  const a = ['-i', ifname, '-T'];
  if (r.wait !== false) a.push('-W');
  a.push('-V', r.mode, '-c', `mode=${r.mode}`, '-c', `mgrid2=${r.mgrid2}`, '-c', `typeid=${r.typeId}`, '-c', `typeidver=${r.typeVersion}`, '-c', `uuid=${r.uuid}`, '-c', `hints=${r.hints ?? 'none'}`);
  for (const f of r.filters) a.push('-c', `filter=${f}`);
  for (const e of r.extra ?? []) a.push('-c', e);
  return a;
}

export function vdptoolQueryArgs(ifname: string, mode: string, uuid?: string): string[] {
  const a = ['-i', ifname, '-t', '-V', mode];
  if (uuid !== undefined) a.push('-c', `uuid=${uuid}`);
  return a;
}

/** Every VSI block ("VSI  n:" or "Response from VDP" followed by tab-indented `key = value` lines). */
export function parseVdptoolVsis(text: string): VdptoolVsi[] {
  const out: VdptoolVsi[] = [];
  let cur: Map<string, string[]> | undefined;
  const flush = () => {
    if (!cur) return;
    const one = (k: string) => cur!.get(k)?.[0];
    const hints = one('hints');
    const uuid = one('uuid');
    if (uuid !== undefined) {
      out.push({
        mode: one('mode') ?? '',
        mgrid2: one('mgrid2') ?? '',
        typeId: Number(one('typeid') ?? NaN),
        typeVersion: Number(one('typeidver') ?? NaN),
        uuid,
        ...(hints !== undefined && /^\d+$/.test(hints) ? { hints: Number(hints) } : {}),
        filters: cur.get('filter') ?? [],
      });
    }
    cur = undefined;
  };
  for (const line of text.split('\n')) {
    if (/^(VSI\s+\d+:|Response from VDP)/.test(line)) {
      flush();
      cur = new Map();
      continue;
    }
    const m = /^\s+(\w+) = (.*)$/.exec(line);
    if (m && cur) cur.set(m[1]!, [...(cur.get(m[1]!) ?? []), m[2]!.trim()]);
  }
  flush();
  return out;
}

export function resultFromOutput(exitCode: number, output: string, ms: number): VdptoolResult {
  const responseSeen = output.includes('Response from VDP');
  const response = responseSeen ? parseVdptoolVsis(output.slice(output.indexOf('Response from VDP')))[0] : undefined;
  return { ok: exitCode === 0, exitCode, responseSeen, ...(response ? { response } : {}), rawOutput: output, ms };
}

// ---- batch scripts ------------------------------------------------------------------

export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface BatchItemResult {
  index: number;
  uuid: string;
  mode: VdpMode;
  exitCode: number;
  responseSeen: boolean;
  /** time vdptool took for this VSI, measured inside the namespace */
  ms: number;
  /** first line of vdptool's output when it failed */
  error?: string;
}

export interface BatchResult {
  results: BatchItemResult[];
  /** from the first request to the last answer, measured inside the namespace */
  totalMs: number;
  /** including namespace entry and process start-up */
  wallMs: number;
}

export interface BatchOptions {
  /** run the requests from this many concurrent vdptool loops (default 1: one after another) */
  parallel?: number;
}

// bash ≥ 5 (EPOCHREALTIME): timestamps without a fork per VSI
const BATCH_PRELUDE = `set +e
r() {
  local i=$1 t0 t1 out rc seen=0; shift
  t0=\${EPOCHREALTIME/./}; out=$(vdptool "$@" 2>&1); rc=$?; t1=\${EPOCHREALTIME/./}
  case $out in *"Response from VDP"*) seen=1;; esac
  printf '@@ %d %d %d %d\\n' "$i" "$rc" "$seen" $((t1 - t0))
  [ $rc -ne 0 ] && printf '@! %d %s\\n' "$i" "\${out%%$'\\n'*}"
  return 0
}
q() {
  local i=$1 out h; shift
  out=$(vdptool "$@" 2>&1)
  h=\${out#*hints = }
  if [ "$h" = "$out" ]; then printf '@Q %d missing\\n' "$i"; else printf '@Q %d %s\\n' "$i" "\${h%%$'\\n'*}"; fi
}
T0=\${EPOCHREALTIME/./}
`;
const BATCH_END = `T1=\${EPOCHREALTIME/./}\nprintf '@T %d\\n' $((T1 - T0))\n`;

function groups<T>(items: T[], parallel: number): T[][] {
  const p = Math.max(1, Math.min(parallel, items.length));
  const g: T[][] = Array.from({ length: p }, () => []);
  items.forEach((it, i) => g[i % p]!.push(it));
  return g;
}

function wrap(lines: string[][]): string {
  if (lines.length === 1) return lines[0]!.join('\n') + '\n';
  return lines.map((g) => `(\n${g.join('\n')}\n) &`).join('\n') + '\nwait\n';
}

export function batchRequestScript(ifname: string, reqs: VdptoolRequest[], o: BatchOptions = {}): string {
  const lines = reqs.map((r, i) => `r ${i} ${vdptoolArgs(ifname, r).map(shQuote).join(' ')}`);
  return BATCH_PRELUDE + wrap(groups(lines, o.parallel ?? 1)) + BATCH_END;
}

export function batchQueryScript(ifname: string, uuids: string[], mode: string): string {
  const lines = uuids.map((u, i) => `q ${i} ${vdptoolQueryArgs(ifname, mode, u).map(shQuote).join(' ')}`);
  return BATCH_PRELUDE + lines.join('\n') + '\n' + BATCH_END;
}

export function parseBatchRequestOutput(reqs: VdptoolRequest[], text: string, wallMs: number): BatchResult {
  const rows = new Map<number, BatchItemResult>();
  const errors = new Map<number, string>();
  let totalUs = NaN;
  for (const line of text.split('\n')) {
    let m = /^@@ (\d+) (\d+) ([01]) (-?\d+)$/.exec(line);
    if (m) {
      const i = Number(m[1]);
      const r = reqs[i];
      if (r) rows.set(i, { index: i, uuid: r.uuid, mode: r.mode, exitCode: Number(m[2]), responseSeen: m[3] === '1', ms: Number(m[4]) / 1000 });
      continue;
    }
    m = /^@! (\d+) (.*)$/.exec(line);
    if (m) {
      errors.set(Number(m[1]), m[2]!);
      continue;
    }
    m = /^@T (-?\d+)$/.exec(line);
    if (m) totalUs = Number(m[1]);
  }
  const results = reqs.map((r, i): BatchItemResult => {
    const row = rows.get(i) ?? { index: i, uuid: r.uuid, mode: r.mode, exitCode: -1, responseSeen: false, ms: NaN, error: 'no result line from the batch script' };
    const e = errors.get(i);
    return e !== undefined ? { ...row, error: e } : row;
  });
  return { results, totalMs: totalUs / 1000, wallMs };
}

export function parseBatchQueryOutput(uuids: string[], text: string): Map<string, number | 'missing'> {
  const out = new Map<string, number | 'missing'>();
  for (const line of text.split('\n')) {
    const m = /^@Q (\d+) (\S+)$/.exec(line);
    const u = m ? uuids[Number(m[1])] : undefined;
    if (m && u !== undefined) out.set(u, /^\d+$/.test(m[2]!) ? Number(m[2]) : 'missing');
  }
  for (const u of uuids) if (!out.has(u)) out.set(u, 'missing');
  return out;
}
