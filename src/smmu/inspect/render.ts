// Human-readable rendering of an inspect report, written line by line as the report is produced
// (never held whole). Stream IDs in hex, event records decoded, table addresses as addresses, and
// runs of identical STEs folded into one line. The JSON form is the stable contract; this text
// form is for people and may change.
import picocolors from 'picocolors';
import { ChunkedWriter } from './json-stream.js';
import type { Json, Obj, ReportSink } from './inspect.js';

// Colour only on a terminal and without NO_COLOR, as `vsmmu run` decides: picocolors' own default
// also colours whenever a CI variable is set, which would put escape codes into piped output.
const pc = picocolors.createColors(process.stdout.isTTY === true && !process.env.NO_COLOR);

function s(v: Json | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const hexn = (v: Json | undefined): string => (typeof v === 'number' ? '0x' + v.toString(16) : s(v));

function bytes(n: Json | undefined): string {
  if (typeof n !== 'number') return s(n);
  for (const [unit, sz] of [['PiB', 2 ** 50], ['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) if (n >= sz && n % sz === 0) return `${n / sz} ${unit}`;
  return `${n} B`;
}

/** Address of a field that holds address bits [hi:lsb] in place, from its decoded value. */
function fieldAddr(fields: Obj | null, name: string, lsb: number): string {
  const v = fields?.[name];
  if (typeof v !== 'string') return '-';
  return '0x' + (BigInt(v) << BigInt(lsb)).toString(16);
}

const num = (fields: Obj | null, name: string): number => (typeof fields?.[name] === 'string' ? Number(BigInt(fields[name] as string)) : 0);

const GRANULE: Readonly<Record<number, string>> = { 0: '4 KiB', 1: '64 KiB', 2: '16 KiB' };

/** A decoded event record in one line: type, SID, SSID, input address and the access flags. */
export function eventLine(e: Json | undefined): string {
  if (e === null || e === undefined) return pc.yellow('terminated silently (no event)');
  const o = e as Obj;
  const parts = [pc.red(s(o.type)), `SID ${hexn(o.sid)}`];
  if (o.ssid !== null && o.ssid !== undefined) parts.push(`SSID ${hexn(o.ssid)}`);
  if (o.inputAddr !== undefined) {
    parts.push(`input ${s(o.inputAddr)}`);
    parts.push(`${s(o.access)} ${o.privileged ? 'priv' : 'unpriv'} ${o.instruction ? 'instr' : 'data'}`);
    parts.push(`stage ${s(o.stage)} class ${s(o.class)}${o.stall ? ' STALL' : ''}`);
  }
  if (o.ipa !== undefined) parts.push(`IPA ${s(o.ipa)}`);
  if (o.fetchAddr !== undefined) parts.push(`fetch ${s(o.fetchAddr)}`);
  if (o.recorded === false) return pc.yellow(`terminated silently (${s(o.reason)})`) + pc.dim(` — would be ${parts.join(', ')}; not recorded`);
  return parts.join(', ');
}

interface Run {
  key: string;
  first: number;
  last: number;
  item: Obj;
}

export class TextSink implements ReportSink {
  private readonly w: ChunkedWriter;
  private run: Run | null = null;
  private mappingLines = 0;

  constructor(
    write: (s: string) => void,
    private readonly warn: (line: string) => void,
  ) {
    this.w = new ChunkedWriter(write);
  }

  private line(t: string): void {
    this.w.push(t + '\n');
  }

  beginList(key: 'streams' | 'mappings' | 'translations'): void {
    if (key === 'streams') this.line(pc.cyan(pc.bold('Streams')));
  }

  endList(): void {
    this.flushRun();
  }

  wouldMerge(sid: number, key: string): boolean {
    return this.run !== null && this.run.key === key && this.run.last + 1 === sid;
  }

  stream(sid: number, key: string, st: Obj | null): void {
    if (st === null || this.wouldMerge(sid, key)) {
      this.run!.last = sid;
      return;
    }
    this.flushRun();
    this.run = { key, first: sid, last: sid, item: st };
  }

  private flushRun(): void {
    const r = this.run;
    if (r === null) return;
    this.run = null;
    const st = r.item;
    const who = r.first === r.last ? `SID ${hexn(r.first)}` : `SIDs ${hexn(r.first)}-${hexn(r.last)}`;
    const ste = st.ste as Obj | null;
    const fields = ste === null ? null : (ste.fields as Obj | null);
    let detail: string;
    if (st.fault !== null) detail = eventLine(st.fault);
    else if (st.config === 's1' || st.config === 'nested' || st.config === 's2') {
      const parts: string[] = [`STE at ${s(ste?.address)}`];
      if (st.config !== 's2') parts.push(`CD table ${fieldAddr(fields, 'S1_CONTEXT_PTR', 6)} (S1CDMax ${num(fields, 'S1CDMAX')})`);
      if (st.config !== 's1') parts.push(`VMID ${hexn(num(fields, 'S2VMID'))} S2TTB ${fieldAddr(fields, 'S2TTB', 4)}`);
      detail = parts.join(', ');
    } else detail = pc.dim(s(st.reason));
    this.line(`  ${who.padEnd(20)} ${pc.green(s(st.config).padEnd(7))} ${detail}`);
    for (const c of st.cds as Obj[]) {
      const f = c.fields as Obj | null;
      const head = `    SSID ${hexn(c.ssid)} CD at ${s(c.address)}`;
      if (c.fault !== null) {
        this.line(`${head}: ${eventLine(c.fault)}`);
        continue;
      }
      const tt: string[] = [];
      if (num(f, 'EPD0') === 0) tt.push(`TTB0 ${fieldAddr(f, 'TTB0', 4)} (T0SZ ${num(f, 'T0SZ')}, ${GRANULE[num(f, 'TG0')] ?? '?'})`);
      if (num(f, 'EPD1') === 0) tt.push(`TTB1 ${fieldAddr(f, 'TTB1', 4)} (T1SZ ${num(f, 'T1SZ')})`);
      this.line(`${head}: ASID ${hexn(num(f, 'ASID'))}, ${tt.join(', ') || 'both halves disabled (EPD0 = EPD1 = 1)'}, R ${num(f, 'R')} S ${num(f, 'S')} A ${num(f, 'A')}`);
    }
  }

  beginMapping(sid: number, ssid: number | null): void {
    this.line(pc.cyan(pc.bold(`Mappings of SID ${hexn(sid)}${ssid === null ? '' : ` SSID ${hexn(ssid)}`}`)));
    this.mappingLines = 0;
  }

  range(x: Obj): void {
    if (this.mappingLines++ === 0) this.line(pc.bold(`  ${'IOVA'.padEnd(39)} ${'PA'.padEnd(18)} ${'size'.padEnd(10)} perm (unpriv / priv)`));
    this.line(`  ${`${s(x.iova)}-${s(x.end)}`.padEnd(39)} ${s(x.pa).padEnd(18)} ${bytes(x.size).padEnd(10)} ${s(x.permUnpriv)} / ${s(x.permPriv)}`);
  }

  endMapping(): void {
    if (this.mappingLines === 0) this.line(pc.dim('  (nothing mapped)'));
  }

  translation(x: Obj): void {
    const who = `SID ${hexn(x.sid)}${x.ssid === null ? '' : ` SSID ${hexn(x.ssid)}`} ${s(x.iova)} (${s(x.access)})`;
    let res: string;
    if (x.ok) res = pc.green(`${s(x.pa)} size ${bytes(x.size)} perm ${s(x.perm)}`) + (x.reason !== undefined ? pc.dim(` — ${s(x.reason)}`) : '');
    else if (x.event === null) res = pc.yellow(`terminated silently (${s(x.reason)})`);
    else res = eventLine(x.event) + (x.response !== 'abort' && x.recorded ? pc.dim(` (${s(x.response)})`) : '');
    this.line(pc.cyan(pc.bold(`Translate ${who}`)) + ' -> ' + res);
    const steps = x.steps as Obj[];
    if (steps.length > 0) {
      this.line(pc.bold(`  ${'step'.padEnd(6)} ${'stage'.padEnd(5)} ${'level'.padEnd(5)} ${'table'.padEnd(14)} ${'index'.padEnd(6)} ${'descriptor at'.padEnd(14)} value`));
      for (const st of steps) {
        this.line(`  ${s(st.kind).padEnd(6)} ${s(st.stage).padEnd(5)} ${s(st.level).padEnd(5)} ${s(st.table).padEnd(14)} ${s(st.index).padEnd(6)} ${s(st.address).padEnd(14)} ${s(st.value)}`);
      }
    }
  }

  private queueKey: 'cmdq' | 'eventq' = 'cmdq';
  private queueLines = 0;

  beginQueues(): void {}

  beginQueue(key: 'cmdq' | 'eventq', h: Obj): void {
    this.queueKey = key;
    this.queueLines = 0;
    const extra = key === 'cmdq' ? ` err ${s(h.err)}` : h.overflow ? ' OVERFLOW' : '';
    this.line(pc.cyan(pc.bold(key === 'cmdq' ? 'Command queue' : 'Event queue')) + pc.dim(` base ${s(h.base)}, 2^${s(h.log2size)} entries, prod ${s(h.prod)} cons ${s(h.cons)}${extra}`));
  }

  queueEntry(e: Obj): void {
    this.queueLines++;
    const at = `  [${s(e.index)}]`.padEnd(10);
    if (e.abort !== undefined) {
      this.line(`${at} ${pc.red(`${s(e.abort)}: the entry at ${s(e.address)} cannot be read`)}`);
      return;
    }
    if (this.queueKey === 'cmdq') {
      const f = Object.entries((e.fields as Obj | null) ?? {}).map(([k, v]) => `${k}=${s(v)}`).join(' ');
      this.line(`${at} ${pc.green(s(e.command).padEnd(20))} ${f}`);
    } else this.line(`${at} ${eventLine(e.event)}`);
  }

  endQueue(): void {
    if (this.queueLines === 0) this.line(pc.dim('  (empty)'));
  }

  endQueues(): void {}

  truncated(t: Obj): void {
    for (const [view, v] of Object.entries(t)) {
      const o = v as Obj;
      const flag = view === 'streams' ? '--streams RANGE' : view === 'mappings' ? '--mappings SID[:SSID]' : '--queues RANGE';
      const what = o.descriptors !== undefined ? `after ${s(o.descriptors)} descriptors` : `after ${s(o.limit)} entries`;
      this.line(pc.yellow(`(${view}: stopped ${what}; next is ${typeof o.next === 'number' ? o.next : s(o.next)} — use ${flag} or --limit N, 0 for no limit)`));
    }
  }

  warnings(w: string[]): void {
    for (const x of w) this.warn(`warning: ${x}`);
  }

  end(): void {
    this.flushRun();
    this.w.flush();
  }
}
