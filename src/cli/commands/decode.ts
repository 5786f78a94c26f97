/**
 * vdpctl decode FILE [--json]: every frame of a capture decoded by name; a frame that
 * fails shows the codec error with its byte offset, and decoding goes on.
 */
import type { Command } from 'commander';
import { PduError } from '../../../pdu/errors.js';
import { ethernetOf, type PcapRecord } from '../../../pdu/pcap.js';
import { tryDecodeFrame } from '../../../pdu/frame.js';
import {
  describeError,
  describeFrame,
  describeStatus,
  EVB_MODE_NAMES,
  FILTER_FORMAT_NAMES,
  filterText,
  RRSTAT_NAMES,
  summarizeFrame,
  timerMs,
  VSI_TLV_NAMES,
  vsiidText,
  VSIID_FORMAT_NAMES,
} from '../../../pdu/describe.js';
import type { DecodedFrame, EvbTlv, VsiTlv } from '../../../pdu/types.js';
import { readPcapFile } from '../../pcap/file.js';
import { BufferedOut } from '../output.js';

export interface DecodeStats {
  frames: number;
  decoded: number;
  errors: number;
  skipped: number;
}

function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 100_000 ? 0 : 2)} s` : `${v.toFixed(2)} ms`;
}

function evbDetail(t: EvbTlv): string {
  const br = [t.bgid && 'BGID', t.rrcap && 'RRCAP', t.rrctr && 'RRCTR'].filter(Boolean).join('+') || 'none';
  const st = [t.sgid && 'SGID', t.rrreq && 'RRREQ'].filter(Boolean).join('+') || 'none';
  return (
    `EVB TLV: mode ${EVB_MODE_NAMES[t.evbMode]}; bridge status ${br}; station status ${st}, RRSTAT ${t.rrstat} (${RRSTAT_NAMES[t.rrstat]}); ` +
    `ECP retries R=${t.r}, RTE=${t.rte} (ack timer ${ms(timerMs(t.rte))}); ` +
    `RWD=${t.rwd} (${ms(timerMs(t.rwd))}${t.rolRwd ? ', from peer' : ', local'}); RKA=${t.rka} (${ms(timerMs(t.rka))}${t.rolRka ? ', from peer' : ', local'})`
  );
}

function vsiDetail(t: VsiTlv): string {
  const s = describeStatus(t.status);
  const flags = s.response
    ? `response, ${s.reasonText}${s.keep ? ', KEEP' : ''}${s.hard ? ', HARD' : ''}`
    : `request${s.migratingTo ? ', M (migrating to)' : ''}${s.suspended ? ', S (suspended/migrating from)' : ''}${s.reason ? `, reason bits ${s.reason}` : ''}`;
  return (
    `${VSI_TLV_NAMES[t.mode]}: status 0x${t.status.toString(16).padStart(2, '0')} (${flags}); VSI type ${t.typeId} version ${t.typeVersion}; ` +
    `VSIID ${VSIID_FORMAT_NAMES[t.vsiidFormat] ?? `format ${t.vsiidFormat}`} ${vsiidText(t.vsiidFormat, t.vsiid)}; ` +
    `filter ${FILTER_FORMAT_NAMES[t.filterFormat]} ×${t.filters.length}: ${t.filters.map(filterText).join(', ')}`
  );
}

function textLines(f: DecodedFrame): string[] {
  const out: string[] = [];
  if (f.kind === 'lldp') {
    for (const t of f.lldpdu.tlvs) {
      if (t.kind === 'evb') out.push(evbDetail(t));
      if (t.kind === 'cdcp') out.push(`CDCP TLV: role ${t.role}, SComp ${t.scomp ? 1 : 0}, ChnCap ${t.chnCap}, channels ${t.channels.map((c) => `SCID ${c.scid}/SVID ${c.svid}`).join(', ') || 'none'}`);
    }
  } else if (f.kind === 'ecp22' && f.vdp) {
    for (const t of f.vdp.tlvs) if (t.kind === 'vsi') out.push(vsiDetail(t));
  }
  return out;
}

/** Decode a capture to `out`; shared by the CLI and the benchmark. */
export async function decodeCapture(path: string, json: boolean, out: BufferedOut): Promise<DecodeStats> {
  const st: DecodeStats = { frames: 0, decoded: 0, errors: 0, skipped: 0 };
  let t0: number | undefined;
  if (json) out.write(`{"file":${JSON.stringify(path)},"frames":[`);
  const emit = (rec: PcapRecord): void => {
    st.frames++;
    t0 ??= rec.time;
    const rel = rec.time - t0;
    const eth = ethernetOf(rec);
    if (!eth) {
      st.skipped++;
      if (json) out.write(`${st.frames > 1 ? ',' : ''}\n{"frame":${rec.index},"time":${rel.toFixed(6)},"length":${rec.caplen},"skipped":"link type ${rec.linktype}"}`);
      else out.line(`${String(rec.index).padStart(6)} ${rel.toFixed(6).padStart(11)}  link type ${rec.linktype} not decoded`);
      return;
    }
    const f = tryDecodeFrame(eth);
    if (f instanceof PduError) {
      st.errors++;
      if (json) out.write(`${st.frames > 1 ? ',' : ''}\n{"frame":${rec.index},"time":${rel.toFixed(6)},"length":${rec.caplen},"error":${JSON.stringify(describeError(f))}}`);
      else out.line(`${String(rec.index).padStart(6)} ${rel.toFixed(6).padStart(11)}  ${String(eth.length).padStart(4)}B  MALFORMED ${f.message}`);
      return;
    }
    st.decoded++;
    if (json) {
      out.write(`${st.frames > 1 ? ',' : ''}\n{"frame":${rec.index},"time":${rel.toFixed(6)},"length":${rec.caplen},"decoded":${JSON.stringify(describeFrame(f))}}`);
    } else {
      out.line(`${String(rec.index).padStart(6)} ${rel.toFixed(6).padStart(11)}  ${f.eth.src} > ${f.eth.dst}${f.eth.vlan ? ` vlan ${f.eth.vlan.vid}` : ''}  ${String(eth.length).padStart(4)}B  ${summarizeFrame(f)}`);
      for (const l of textLines(f)) out.line(`                    ${l}`);
    }
  };
  let fileError: PduError | undefined;
  try {
    for await (const rec of readPcapFile(path)) emit(rec);
  } catch (e) {
    if (!(e instanceof PduError)) throw e;
    fileError = e;
  }
  if (json) {
    const summary: Record<string, unknown> = { ...st };
    if (fileError) summary['fileError'] = describeError(fileError);
    out.write(`\n],"summary":${JSON.stringify(summary)}}\n`);
  } else {
    if (fileError) out.line(`capture damaged: ${fileError.message}`);
    out.line(`${st.frames} frames: ${st.decoded} decoded, ${st.errors} malformed${st.skipped ? `, ${st.skipped} not Ethernet` : ''}`);
  }
  out.flush();
  return st;
}

export function registerDecodeCommand(program: Command): void {
  program
    .command('decode')
    .description('decode every LLDP/ECP/VDP frame of a pcap, pcapng or gzip capture')
    .argument('<file>', 'capture file')
    .option('--json', 'one JSON document')
    .action(async (file: string, o: { json?: boolean }) => {
      const out = new BufferedOut();
      try {
        await decodeCapture(file, o.json === true, out);
      } catch (e) {
        out.flush();
        process.stderr.write(`vdpctl decode: cannot read ${file}: ${(e as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}
