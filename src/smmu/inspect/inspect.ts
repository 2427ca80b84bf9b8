// `vsmmu inspect` core: reconstructs an SMMUv3's state from guest memory (RAM images, or a live
// guest read through a debugger) and a register dump, and reports streams (STEs and their CDs),
// mapped ranges, queue contents and step-by-step translations. The report is produced item by
// item into a sink (JSON or text), so its size in memory never depends on the size of the image;
// every list view is bounded by a limit and says where to resume.
// IHI 0070: §3.3 stream table, §5.2 STE, §5.4 CD, §3.5 queues, chapter 4 commands, §7.3 events.
import type { PhysMemory, U64 } from '../../memory/types.js';
import { get32, paOf, rd } from '../../spec/bits.js';
import { decodeCommand } from '../../spec/smmuv3/commands.js';
import { decodeEvent, encodeEvent, eventInputAddr, eventName, eventShape, EVT, type SmmuEvent } from '../../spec/smmuv3/events.js';
import { featuresFromIdRegisters } from '../id-registers.js';
import { L1STD } from '../../spec/smmuv3/l1-descriptors.js';
import { CERROR, CMDQ_ENTRY_BYTES, CR0, CR2, EVENTQ_ENTRY_BYTES, decodeStreamTableRegs, GBPA, QUEUE_CONS, queueBaseAddr, queueLog2, type RegName, type StreamTableRegs } from '../../spec/smmuv3/registers.js';
import { STE, STE_CONFIG } from '../../spec/smmuv3/ste.js';
import { hex } from '../../util/hex.js';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { ptrIndex, ptrInc, queueEmpty } from '../device/queue.js';
import { Translator } from '../translation/index.js';
import { streamTableBase, streamTableLog2, streamTableSpanUsable, streamTableSplit, streamTableTwoLevel } from '../translation/config-fetch.js';
import { decodeStream, forEachMapping, translateVerbose } from '../translation/inspect.js';
import { makeRequest, PERM_R, PERM_W, PERM_X, XLATE_KIND, type MappedRange, type StreamReport, type TranslationResult, type WalkStep } from '../translation/types.js';
import type { IdRange, RegisterDump, TranslateQuery } from './inputs.js';
import { ChunkedWriter, JsonStream } from './json-stream.js';
import { WatchedMemory } from './watched-memory.js';

/** Upper bound on STEs visited by one stream scan (a guest can claim 2^32). */
export const MAX_SCANNED_STES = 1 << 20;
/** Entries per list view unless `--limit` says otherwise. */
export const DEFAULT_LIMIT = 1000;
/** Descriptors read per mapping walk when the view is unlimited. */
const UNLIMITED_WALK_BUDGET = 1 << 24;

export interface InspectRequest {
  /** true: every valid, non-abort stream; a range: every stream in it (abort and invalid ones too). */
  readonly streams?: boolean | IdRange;
  /** true: every valid stream; an object: one stream (and substream). */
  readonly mappings?: true | { sid: number; ssid: number | null };
  /** true: every pending entry; a range: pending entries whose queue index lies in it. */
  readonly queues?: boolean | IdRange;
  readonly translate?: readonly TranslateQuery[];
  /** Entries per list view (0: no limit). Default DEFAULT_LIMIT. */
  readonly limit?: number;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };

export function permString(p: number): string {
  return (p & PERM_R ? 'r' : '') + (p & PERM_W ? 'w' : '') + (p & PERM_X ? 'x' : '') || '-';
}

function fieldsHex(f: Record<string, bigint> | null): Json {
  if (f === null) return null;
  const o: Record<string, Json> = {};
  for (const [k, v] of Object.entries(f)) o[k] = hex(v);
  return o;
}

/** Whether a fault reaches the event queue, and if not, why (§5.2 S2R, §5.4 R/S, §6.3.12 RECINVSID). */
export interface FaultFate {
  readonly recorded: boolean;
  readonly reason: string | null;
}

/**
 * An event record as JSON: its type, the raw record and its decoded fields. `fate` is absent only
 * where the caller states it elsewhere.
 */
export function eventJson(ev: SmmuEvent | null, fate?: FaultFate): Json {
  if (ev === null || ev.type === 0) return null;
  const shape = eventShape(ev.type);
  const o: Obj = { type: eventName(ev.type), code: ev.type, record: encodeEvent(ev).map((w) => hex(w)), sid: ev.sid, ssid: ev.ssv ? ev.ssid : null };
  if (shape.access) {
    o.inputAddr = hex(eventInputAddr(ev));
    o.access = ev.rnw ? 'read' : 'write';
    o.privileged = ev.pnu;
    o.instruction = ev.ind;
    o.stage = ev.s2 ? 2 : 1;
    o.class = ['CD', 'TT', 'IN'][ev.cls] ?? String(ev.cls);
    o.stall = ev.stall;
  }
  if (shape.ipa) o.ipa = hex(ev.ipa);
  if (shape.fetch) o.fetchAddr = hex(ev.fetchAddr);
  if (fate !== undefined) {
    o.recorded = fate.recorded;
    if (fate.reason !== null) o.reason = fate.reason;
  }
  return o;
}

function stepJson(s: WalkStep): Json {
  return {
    kind: s.kind,
    stage: s.stage,
    level: s.level,
    table: hex(s.tableBase),
    index: s.index,
    address: hex(s.address),
    value: s.value === null ? null : hex(s.value),
  };
}

/** Why an STE of this configuration does what it does (for people). */
const CONFIG_REASON: Readonly<Record<string, string>> = {
  abort: 'STE.Config = abort: every transaction terminates silently (no event)',
  bypass: 'STE.Config = bypass: addresses pass through untranslated',
  s1: 'STE.Config = stage 1 only',
  s2: 'STE.Config = stage 2 only',
  nested: 'STE.Config = stage 1 and stage 2 (nested)',
};

/** An SMMU reconstructed from a register dump over guest memory. */
export class SmmuSnapshot {
  readonly features: SmmuFeatures;
  readonly translator: Translator;
  /** The memory as read (counted; aborted addresses remembered for warnings). */
  readonly mem: WatchedMemory;
  private readonly tmp: U64 = { lo: 0, hi: 0 };

  /**
   * @param memory guest-physical memory (reads only)
   * @param memoryDescription what the memory is, for warnings ("images: ram.img at 0x40000000-...")
   */
  constructor(
    memory: PhysMemory,
    readonly regs: RegisterDump,
    readonly memoryDescription = 'the memory given',
  ) {
    this.mem = new WatchedMemory(memory);
    const idr = (n: RegName): number | undefined => (regs.has(n) ? Number(regs.get(n)! & 0xffff_ffffn) : undefined);
    const ids: Partial<Record<'idr0' | 'idr1' | 'idr3' | 'idr5' | 'iidr' | 'aidr', number>> = {};
    for (const [k, n] of [['idr0', 'IDR0'], ['idr1', 'IDR1'], ['idr3', 'IDR3'], ['idr5', 'IDR5'], ['iidr', 'IIDR'], ['aidr', 'AIDR']] as const) {
      const v = idr(n);
      if (v !== undefined) ids[k] = v;
    }
    this.features = featuresFromIdRegisters(ids, DEFAULT_FEATURES);
    this.translator = new Translator(this.mem, this.features, { cachesEnabled: false });
    this.translator.setStreamTable(this.streamTableRegs());
    this.translator.setRecordInvalidSid(this.recInvSid());
  }

  reg(name: RegName): bigint {
    return this.regs.get(name) ?? 0n;
  }

  reg32(name: RegName): number {
    return Number(this.reg(name) & 0xffff_ffffn);
  }

  private regHi(name: RegName): number {
    return Number((this.reg(name) >> 32n) & 0xffff_ffffn);
  }

  strtabBase(): number {
    return this.streamTableRegs().base;
  }

  private streamTableRegs(): StreamTableRegs {
    return decodeStreamTableRegs(this.reg32('STRTAB_BASE'), this.regHi('STRTAB_BASE'), this.reg32('STRTAB_BASE_CFG'));
  }

  private recInvSid(): boolean {
    return get32(this.reg32('CR2'), CR2.RECINVSID) === 1;
  }

  /** SMMUEN from CR0 (assumed enabled when the dump has no CR0). */
  enabled(): boolean {
    return !this.regs.has('CR0') || get32(this.reg32('CR0'), CR0.SMMUEN) === 1;
  }

  /** EVENTQEN from CR0 (assumed enabled when the dump has no CR0). */
  eventQueueEnabled(): boolean {
    return !this.regs.has('CR0') || get32(this.reg32('CR0'), CR0.EVENTQEN) === 1;
  }

  /** Number of stream IDs the table covers (2^LOG2SIZE capped by IDR1.SIDSIZE). */
  sidCount(): number {
    return 2 ** streamTableLog2(this.streamTableRegs(), this.features);
  }

  private read64(addr: number): bigint | null {
    if (!this.mem.read64(addr, this.tmp)) return null;
    return (BigInt(this.tmp.hi) << 32n) | BigInt(this.tmp.lo);
  }

  /**
   * Stream IDs worth listing, in order: STEs that are valid and not a plain abort STE (Linux
   * pre-fills every STE with abort; listing those would drown the interesting ones), and STEs
   * whose fetch aborts (the SMMU reports F_STE_FETCH for them) unless `aborts` is false. Scans
   * the linear table, or the L2 tables that valid L1 descriptors point at, visiting at most
   * MAX_SCANNED_STES entries; with `range`, every SID of the range instead.
   */
  *sids(range: IdRange | null = null, aborts = true): Generator<number> {
    if (range !== null) {
      const last = Math.min(range.last, range.first + MAX_SCANNED_STES - 1);
      for (let sid = range.first; sid <= last; sid++) yield sid;
      return;
    }
    // The table located as the SMMU locates it (base alignment, effective SPLIT and LOG2SIZE).
    const st = this.streamTableRegs();
    const twoLevel = streamTableTwoLevel(st, this.features);
    const base = streamTableBase(st, twoLevel);
    const split = streamTableSplit(st);
    const sidCount = this.sidCount();
    const w0 = new Uint32Array(2);
    // 1: list, 0: skip (abort STE or V = 0; a fetch abort unless `aborts`)
    const steListed = (addr: number): boolean => {
      if (!this.mem.read64(addr, this.tmp)) return aborts;
      w0[0] = this.tmp.lo;
      w0[1] = this.tmp.hi;
      return rd(w0, STE.V) === 1 && rd(w0, STE.CONFIG) !== STE_CONFIG.ABORT;
    };
    let visited = 0;
    if (twoLevel) {
      const l1Count = Math.ceil(sidCount / 2 ** split);
      const w = new Uint32Array(2);
      for (let i = 0; i < l1Count && visited < MAX_SCANNED_STES; i++) {
        visited++;
        if (!this.mem.read64(base + i * 8, this.tmp)) {
          if (aborts) yield i * 2 ** split; // F_STE_FETCH (L1 descriptor fetch abort) for this span
          continue;
        }
        w[0] = this.tmp.lo;
        w[1] = this.tmp.hi;
        const span = rd(w, L1STD.SPAN);
        // A span the SMMU refuses makes every SID of it a bad StreamID (nothing to fetch).
        if (!streamTableSpanUsable(span, split)) continue;
        const l2 = paOf(w[0], w[1], L1STD.L2PTR);
        const n = Math.min(2 ** (span - 1), 2 ** split, sidCount - i * 2 ** split);
        for (let j = 0; j < n && visited < MAX_SCANNED_STES; j++, visited++) if (steListed(l2 + j * 64)) yield i * 2 ** split + j;
      }
    } else {
      const n = Math.min(sidCount, MAX_SCANNED_STES);
      for (let sid = 0; sid < n; sid++) if (steListed(base + sid * 64)) yield sid;
    }
  }

  /** The listed stream IDs as an array (bounded by MAX_SCANNED_STES). */
  validSids(): number[] {
    return [...this.sids()];
  }

  stream(sid: number): StreamReport {
    return decodeStream(this.translator, sid);
  }

  /** Coalesced mapped ranges of a stream, in address order, to `visit` (false stops). */
  forEachMapping(sid: number, ssid: number | null, budget: number, visit: (m: MappedRange) => boolean): 'done' | 'stopped' | 'budget' {
    return forEachMapping(this.translator, sid, ssid, budget, visit);
  }

  mappings(sid: number, ssid: number | null, limit = 100_000): MappedRange[] {
    const out: MappedRange[] = [];
    this.forEachMapping(sid, ssid, Math.max(1024, limit * 64), (m) => (out.push(m), out.length < limit));
    return out;
  }

  /** Fate of a configuration fault found while decoding a stream (always recorded but C_BAD_STREAMID). */
  configFaultFate(ev: SmmuEvent): FaultFate {
    if (ev.type === EVT.C_BAD_STREAMID && !this.recInvSid()) return { recorded: false, reason: 'CR2.RECINVSID = 0' };
    return this.queueFate({ recorded: true, reason: null });
  }

  private queueFate(f: FaultFate): FaultFate {
    if (f.recorded && !this.eventQueueEnabled()) return { recorded: false, reason: 'event queue disabled (CR0.EVENTQEN = 0)' };
    return f;
  }

  /** Fate of a failed translation (the engine says whether it records; the queue must be on too). */
  private translationFate(r: TranslationResult): FaultFate {
    const ev = r.event;
    if (ev.type === 0) return { recorded: false, reason: 'STE.Config = abort' };
    if (r.record) return this.queueFate({ recorded: true, reason: null });
    if (ev.type === EVT.C_BAD_STREAMID) return { recorded: false, reason: 'CR2.RECINVSID = 0' };
    return { recorded: false, reason: ev.s2 ? 'STE.S2R = 0' : 'CD.R = 0' };
  }

  translate(q: TranslateQuery): Obj {
    const head: Obj = { sid: q.sid, ssid: q.ssid, iova: hex(q.iova), access: q.access };
    if (!this.enabled()) {
      // SMMUEN = 0: GBPA decides (abort without an event, or bypass), §6.3.14.
      if (get32(this.reg32('GBPA'), GBPA.ABORT) === 1) {
        return { ...head, ok: false, event: null, recorded: false, reason: 'SMMUEN = 0 and GBPA.ABORT = 1', response: 'abort', steps: [] };
      }
      return { ...head, ok: true, pa: hex(q.iova), size: 4096, perm: 'rwx', reason: 'SMMUEN = 0: GBPA bypass', steps: [] };
    }
    const req = makeRequest(q.sid, q.ssid, q.iova, { write: q.access === 'w', instr: q.access === 'x', priv: q.priv });
    const t = translateVerbose(this.translator, req);
    const steps = t.steps.map(stepJson);
    const r = t.result;
    if (r.ok) {
      const o: Obj = { ...head, ok: true, pa: hex(r.pa), size: r.size, perm: permString(q.priv ? r.permsPriv : r.permsUnpriv) };
      if (r.kind === XLATE_KIND.BYPASS) o.reason = 'bypass (STE.Config = bypass, or STE.S1DSS = bypass for this request)';
      o.steps = steps;
      return o;
    }
    const fate = this.translationFate(r);
    const response = r.stall ? 'stall' : r.razWi ? 'raz-wi' : 'abort';
    const o: Obj = { ...head, ok: false, event: eventJson(r.event, fate), recorded: fate.recorded };
    if (fate.reason !== null) o.reason = fate.reason;
    o.response = response;
    o.steps = steps;
    return o;
  }

  /** Header of a queue (CMDQ or EVENTQ) and where its pending entries are. */
  queueInfo(name: 'CMDQ' | 'EVENTQ'): { head: Obj; base: number; log2: number; prod: number; cons: number; entryBytes: number } {
    const entryBytes = name === 'CMDQ' ? CMDQ_ENTRY_BYTES : EVENTQ_ENTRY_BYTES;
    const maxLog2 = name === 'CMDQ' ? this.features.cmdqLog2 : this.features.eventqLog2;
    const baseReg = this.reg(`${name}_BASE` as RegName);
    const baseLo = Number(baseReg & 0xffff_ffffn);
    const log2 = queueLog2(baseLo, maxLog2);
    const base = queueBaseAddr(baseLo, Number(baseReg >> 32n), log2, entryBytes);
    const prod = this.reg32(`${name}_PROD` as RegName);
    const cons = this.reg32(`${name}_CONS` as RegName);
    const head: Obj = {
      base: hex(base),
      log2size: log2,
      prod: hex(prod),
      cons: hex(cons),
      ...(name === 'CMDQ' ? { err: get32(cons, QUEUE_CONS.ERR) } : { overflow: ((prod ^ cons) >>> 31) === 1 }),
    };
    return { head, base, log2, prod, cons, entryBytes };
  }

  /**
   * Pending entries (CONS up to PROD) of a queue, decoded, in queue order; with `range` only
   * those whose index lies in it. An entry that cannot be read ends the walk with the error the
   * SMMU would have raised there (CMDQ: CERROR_ABT, §4.3; EVENTQ: GERROR.EVENTQ_ABT_ERR, §7.2).
   */
  *queueEntries(name: 'CMDQ' | 'EVENTQ', range: IdRange | null): Generator<Obj> {
    const { base, log2, prod, entryBytes } = this.queueInfo(name);
    let cons = get32(this.reg32(`${name}_CONS` as RegName), QUEUE_CONS.RD);
    for (let n = 0; n < 2 ** log2 && !queueEmpty(prod, cons, log2); n++, cons = ptrInc(cons, log2)) {
      const idx = ptrIndex(cons, log2);
      if (range !== null && (idx < range.first || idx > range.last)) continue;
      const addr = base + idx * entryBytes;
      const words: bigint[] = [];
      for (let i = 0; i < entryBytes / 8; i++) {
        const w = this.read64(addr + 8 * i);
        if (w === null) {
          yield name === 'CMDQ'
            ? { index: idx, address: hex(addr), abort: 'CERROR_ABT', code: CERROR.ABT }
            : { index: idx, address: hex(addr), abort: 'EVENTQ_ABT_ERR' };
          return;
        }
        words.push(w);
      }
      if (name === 'CMDQ') {
        const d = decodeCommand(words);
        yield { index: idx, address: hex(addr), words: words.map((w) => hex(w)), command: d.name === null ? `RESERVED_${hex(d.opcode, 2)}` : `CMD_${d.name}`, opcode: d.opcode, fields: fieldsHex({ ...d.fields }) };
      } else {
        const ev = decodeEvent(words);
        yield { index: idx, address: hex(addr), record: words.map((w) => hex(w)), type: eventName(ev.type), code: ev.type, sid: ev.sid, ssid: ev.ssv ? ev.ssid : null, inputAddr: hex(eventInputAddr(ev)), event: eventJson(ev) };
      }
    }
  }

  /** One line per aborted read: the address and what the memory is. */
  warnings(): string[] {
    const w = this.mem.aborted.map((r) => `${r.last - r.first < 8 ? `read of ${hex(r.first)}` : `reads of ${hex(r.first)}-${hex(r.last)}`} aborted: outside ${this.memoryDescription}`);
    if (w.length > 0) w.push(`${this.mem.abortCount} aborted reads in all; the SMMU reports an external abort there (F_STE_FETCH, F_CD_FETCH, F_WALK_EABT)`);
    return w;
  }
}

export function streamJson(snap: SmmuSnapshot, r: StreamReport): Obj {
  const o: Obj = {
    sid: r.sid,
    config: r.config,
    ste: r.steAddress === null ? null : { address: hex(r.steAddress), words: (r.steWords ?? []).map((w) => hex(w)), fields: fieldsHex(r.steFields) },
    fault: r.fault === null ? null : eventJson(r.fault, snap.configFaultFate(r.fault)),
    cds: r.cds.map((c) => ({ ssid: c.ssid, address: hex(c.address), words: c.words.map((w) => hex(w)), fields: fieldsHex(c.fields), fault: c.fault === null ? null : eventJson(c.fault, snap.configFaultFate(c.fault)) })),
  };
  const why = CONFIG_REASON[r.config];
  if (why !== undefined && r.fault === null) o.reason = why;
  return o;
}

function rangeJson(m: MappedRange, priv = false): Obj {
  return {
    iova: hex(m.iova),
    end: hex(m.iova + BigInt(m.size) - 1n),
    pa: hex(m.pa),
    size: m.size,
    perm: permString(priv ? m.permsPriv : m.permsUnpriv),
    permPriv: permString(m.permsPriv),
    permUnpriv: permString(m.permsUnpriv),
    global: m.global,
  };
}

// ---------------------------------------------------------------- report sinks

/**
 * What makes consecutive StreamIDs one line in a listing that folds them (text): the same fault
 * type, or else the same configuration and STE words, and no CDs.
 */
export function foldKey(r: StreamReport): string {
  if (r.fault !== null) return `fault:${eventName(r.fault.type)}`;
  if (r.cds.length > 0) return `unique:${r.sid}`;
  return `${r.config}:${r.steWords === null ? '' : r.steWords.join(',')}`;
}

/**
 * Receives the report piece by piece. `wouldMerge` lets a sink coalesce entries (text does): the
 * report asks it first, by StreamID and {@link foldKey}, and builds no entry for one it folds.
 */
export interface ReportSink {
  beginList(key: 'streams' | 'mappings' | 'translations'): void;
  endList(): void;
  /** True when stream `sid` with fold key `key` would be folded into the entry before it (it then takes no extra room). */
  wouldMerge(sid: number, key: string): boolean;
  /** A stream entry; `s` is null when {@link wouldMerge} said it folds. */
  stream(sid: number, key: string, s: Obj | null): void;
  beginMapping(sid: number, ssid: number | null): void;
  range(r: Obj): void;
  endMapping(): void;
  translation(t: Obj): void;
  beginQueues(): void;
  beginQueue(key: 'cmdq' | 'eventq', head: Obj): void;
  queueEntry(e: Obj): void;
  endQueue(): void;
  endQueues(): void;
  /** Lists cut short: view -> what was shown and how to see the rest. */
  truncated(t: Obj): void;
  warnings(w: string[]): void;
  end(): void;
}

/** The JSON report: one document, written incrementally. */
export class JsonSink implements ReportSink {
  private readonly j: JsonStream;
  private readonly w: ChunkedWriter;

  constructor(write: (s: string) => void) {
    this.w = new ChunkedWriter(write);
    this.j = new JsonStream(this.w);
    this.j.open('{');
  }
  beginList(key: string): void {
    this.j.open('[', key);
  }
  endList(): void {
    this.j.close(']');
  }
  wouldMerge(): boolean {
    return false;
  }
  stream(_sid: number, _key: string, s: Obj | null): void {
    this.j.value(s);
  }
  beginMapping(sid: number, ssid: number | null): void {
    this.j.open('{');
    this.j.value(sid, 'sid');
    this.j.value(ssid, 'ssid');
    this.j.open('[', 'ranges');
  }
  range(r: Obj): void {
    this.j.value(r);
  }
  endMapping(): void {
    this.j.close(']');
    this.j.close('}');
  }
  translation(t: Obj): void {
    this.j.value(t);
  }
  beginQueues(): void {
    this.j.open('{', 'queues');
  }
  beginQueue(key: string, head: Obj): void {
    this.j.open('{', key);
    for (const [k, v] of Object.entries(head)) this.j.value(v, k);
    this.j.open('[', 'entries');
  }
  queueEntry(e: Obj): void {
    this.j.value(e);
  }
  endQueue(): void {
    this.j.close(']');
    this.j.close('}');
  }
  endQueues(): void {
    this.j.close('}');
  }
  truncated(t: Obj): void {
    this.j.value(t, 'truncated');
  }
  warnings(w: string[]): void {
    this.j.value(w, 'warnings');
  }
  end(): void {
    this.j.close('}');
    this.w.push('\n');
    this.w.flush();
  }
}

const sidRange = (first: number, last: number): string => (first === last ? hex(first) : `${hex(first)}-${hex(last)}`);

/**
 * Writes the requested views to `sink`. Keys appear only for what was requested; list views stop
 * after `limit` entries (counted as the sink shows them) and name where to resume under
 * `truncated`; warnings (aborted reads) come last.
 */
export function writeReport(snap: SmmuSnapshot, req: InspectRequest, sink: ReportSink): void {
  const limit = req.limit === undefined ? DEFAULT_LIMIT : req.limit === 0 ? Infinity : req.limit;
  const truncated: Obj = {};
  if (req.streams) {
    const range = req.streams === true ? null : req.streams;
    sink.beginList('streams');
    let shown = 0;
    for (const sid of snap.sids(range)) {
      const r = snap.stream(sid);
      const key = foldKey(r);
      const merge = sink.wouldMerge(sid, key);
      if (!merge && shown >= limit) {
        truncated.streams = { limit, next: range === null ? hex(sid) : sidRange(sid, range.last) };
        break;
      }
      if (!merge) shown++;
      sink.stream(sid, key, merge ? null : streamJson(snap, r));
    }
    if (range !== null && range.last - range.first + 1 > MAX_SCANNED_STES && truncated.streams === undefined) {
      truncated.streams = { limit: MAX_SCANNED_STES, next: sidRange(range.first + MAX_SCANNED_STES, range.last) };
    }
    sink.endList();
  }
  if (req.mappings !== undefined) {
    sink.beginList('mappings');
    let shown = 0;
    const budget = limit === Infinity ? UNLIMITED_WALK_BUDGET : Math.max(1024, limit * 64);
    const one = (sid: number, ssid: number | null): boolean => {
      sink.beginMapping(sid, ssid);
      const end = snap.forEachMapping(sid, ssid, budget, (m) => {
        if (shown >= limit) return false;
        shown++;
        sink.range(rangeJson(m));
        return true;
      });
      sink.endMapping();
      if (end === 'stopped') truncated.mappings = { limit, next: ssid === null ? hex(sid) : `${hex(sid)}:${hex(ssid)}` };
      if (end === 'budget') truncated.mappings = { descriptors: budget, next: ssid === null ? hex(sid) : `${hex(sid)}:${hex(ssid)}` };
      return end === 'done';
    };
    if (req.mappings === true) {
      // Streams whose STE fetch aborts have no mappings: the scan leaves them out.
      outer: for (const sid of snap.sids(null, false)) {
        const s = snap.stream(sid);
        if (s.fault !== null) continue;
        if (s.cds.length === 0) {
          if (!one(sid, null)) break;
        }
        for (const cd of s.cds) if (!one(sid, s.cds.length > 1 || cd.ssid !== 0 ? cd.ssid : null)) break outer;
      }
    } else one(req.mappings.sid, req.mappings.ssid);
    sink.endList();
  }
  if (req.queues) {
    const range = req.queues === true ? null : req.queues;
    sink.beginQueues();
    for (const [key, name] of [['cmdq', 'CMDQ'], ['eventq', 'EVENTQ']] as const) {
      sink.beginQueue(key, snap.queueInfo(name).head);
      let shown = 0;
      for (const e of snap.queueEntries(name, range)) {
        if (shown >= limit) {
          truncated[key] = { limit, next: e.index as number };
          break;
        }
        shown++;
        sink.queueEntry(e);
      }
      sink.endQueue();
    }
    sink.endQueues();
  }
  if (req.translate !== undefined && req.translate.length > 0) {
    sink.beginList('translations');
    for (const q of req.translate) sink.translation(snap.translate(q));
    sink.endList();
  }
  if (Object.keys(truncated).length > 0) sink.truncated(truncated);
  const w = snap.warnings();
  if (w.length > 0) sink.warnings(w);
  sink.end();
}

/** The whole report as one object (for small reports and tests; the CLI streams). */
export function inspect(snap: SmmuSnapshot, req: InspectRequest): Record<string, Json> {
  const parts: string[] = [];
  writeReport(snap, req, new JsonSink((s) => parts.push(s)));
  return JSON.parse(parts.join('')) as Record<string, Json>;
}
