// `vsmmu inspect` core: reconstructs an SMMUv3's state from guest-RAM images and a register dump
// and reports streams (STEs and their CDs), mapped ranges, queue contents and step-by-step
// translations as a JSON-serialisable report (the stable contract other tools read).
// IHI 0070: §3.3 stream table, §5.2 STE, §5.4 CD, §3.5 queues, chapter 4 commands, §7.3 events.
import type { GuestMemory } from '../../memory/guest-memory.js';
import type { U64 } from '../../memory/types.js';
import { bitsInPlace, rd, rdLoHi } from '../../spec/bits.js';
import { decodeCommand } from '../../spec/smmuv3/commands.js';
import { decodeEvent, encodeEvent, eventInputAddr, eventName, type SmmuEvent } from '../../spec/smmuv3/events.js';
import { featuresFromIdRegisters } from '../../spec/smmuv3/idr.js';
import { L1STD } from '../../spec/smmuv3/l1-descriptors.js';
import { CMDQ_ENTRY_BYTES, CR0, CR2, EVENTQ_ENTRY_BYTES, GBPA, QUEUE_CONS, STRTAB_BASE_CFG, type RegName } from '../../spec/smmuv3/registers.js';

import { UserInputError } from '../../util/errors.js';
import { hex } from '../../util/hex.js';
import { DEFAULT_FEATURES, type SmmuFeatures } from '../features.js';
import { ptrIndex, ptrInc, queueBaseAddr, queueEmpty, queueLog2 } from '../device/queue.js';
import { TranslatorAdapter } from '../device/translator-adapter.js';
import { Translator } from '../translation/index.js';
import { makeRequest, PERM_R, PERM_W, PERM_X, type MappedRange, type StreamReport, type WalkStep } from '../translation/types.js';
import type { RegisterDump, TranslateQuery } from './inputs.js';
import { STE, STE_CONFIG } from '../../spec/smmuv3/ste.js';

/** Upper bound on STEs scanned for --streams / --mappings without a SID (a guest can claim 2^32). */
export const MAX_SCANNED_STES = 1 << 20;

export interface InspectRequest {
  readonly streams?: boolean;
  /** true: every valid stream; an object: one stream (and substream). */
  readonly mappings?: true | { sid: number; ssid: number | null };
  readonly queues?: boolean;
  readonly translate?: readonly TranslateQuery[];
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function permString(p: number): string {
  return (p & PERM_R ? 'r' : '') + (p & PERM_W ? 'w' : '') + (p & PERM_X ? 'x' : '') || '-';
}

function fieldsHex(f: Record<string, bigint> | null): Json {
  if (f === null) return null;
  const o: Record<string, Json> = {};
  for (const [k, v] of Object.entries(f)) o[k] = hex(v);
  return o;
}

export function eventJson(ev: SmmuEvent | null): Json {
  if (ev === null || ev.type === 0) return null;
  return { type: eventName(ev.type), code: ev.type, record: encodeEvent(ev).map((w) => hex(w)) };
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

/** An SMMU reconstructed from a register dump over guest memory. */
export class SmmuSnapshot {
  readonly features: SmmuFeatures;
  readonly translator: Translator;
  private readonly adapter: TranslatorAdapter;
  private readonly tmp: U64 = { lo: 0, hi: 0 };

  constructor(
    readonly mem: GuestMemory,
    readonly regs: RegisterDump,
  ) {
    const idr = (n: RegName): number | undefined => (regs.has(n) ? Number(regs.get(n)! & 0xffff_ffffn) : undefined);
    const ids: Partial<Record<'idr0' | 'idr1' | 'idr3' | 'idr5' | 'iidr' | 'aidr', number>> = {};
    for (const [k, n] of [['idr0', 'IDR0'], ['idr1', 'IDR1'], ['idr3', 'IDR3'], ['idr5', 'IDR5'], ['iidr', 'IIDR'], ['aidr', 'AIDR']] as const) {
      const v = idr(n);
      if (v !== undefined) ids[k] = v;
    }
    this.features = featuresFromIdRegisters(ids, DEFAULT_FEATURES);
    this.translator = new Translator(mem, this.features, { cachesEnabled: false });
    this.adapter = new TranslatorAdapter(this.translator);
    const cfg = this.reg32('STRTAB_BASE_CFG');
    this.adapter.setStreamTable(
      this.strtabBase(),
      rdLoHi(cfg, 0, STRTAB_BASE_CFG.LOG2SIZE.lsb, STRTAB_BASE_CFG.LOG2SIZE.width),
      rdLoHi(cfg, 0, STRTAB_BASE_CFG.FMT.lsb, STRTAB_BASE_CFG.FMT.width),
      rdLoHi(cfg, 0, STRTAB_BASE_CFG.SPLIT.lsb, STRTAB_BASE_CFG.SPLIT.width),
    );
    this.adapter.setRecordInvalidSid(rdLoHi(this.reg32('CR2'), 0, CR2.RECINVSID.lsb, 1) === 1);
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
    return bitsInPlace(this.reg32('STRTAB_BASE'), this.regHi('STRTAB_BASE'), 51, 6);
  }

  /** SMMUEN from CR0 (assumed enabled when the dump has no CR0). */
  enabled(): boolean {
    return !this.regs.has('CR0') || rdLoHi(this.reg32('CR0'), 0, CR0.SMMUEN.lsb, 1) === 1;
  }

  private requireRam(addr: number, len: number, what: string): void {
    if (!this.mem.contains(addr, len)) {
      throw new UserInputError(`${what} at ${hex(addr)} is outside every RAM image`, '--regs');
    }
  }

  private read64(addr: number): bigint | null {
    if (!this.mem.read64(addr, this.tmp)) return null;
    return (BigInt(this.tmp.hi) << 32n) | BigInt(this.tmp.lo);
  }

  /**
   * Stream IDs whose STE is valid and not a plain abort STE (Linux pre-fills every STE with abort;
   * listing those would drown the interesting ones). Bounded scan of the linear table, or of the
   * L2 tables that valid L1 descriptors point at.
   */
  validSids(): number[] {
    const base = this.strtabBase();
    const cfg = this.reg32('STRTAB_BASE_CFG');
    const log2 = Math.min(rdLoHi(cfg, 0, STRTAB_BASE_CFG.LOG2SIZE.lsb, STRTAB_BASE_CFG.LOG2SIZE.width), this.features.sidBits);
    const fmt = rdLoHi(cfg, 0, STRTAB_BASE_CFG.FMT.lsb, STRTAB_BASE_CFG.FMT.width);
    const split = rdLoHi(cfg, 0, STRTAB_BASE_CFG.SPLIT.lsb, STRTAB_BASE_CFG.SPLIT.width);
    this.requireRam(base, 8, 'STRTAB_BASE');
    const out: number[] = [];
    const w0 = new Uint32Array(2);
    const steValid = (addr: number): boolean => {
      if (!this.mem.read64(addr, this.tmp)) return false;
      w0[0] = this.tmp.lo;
      w0[1] = this.tmp.hi;
      return rd(w0, STE.V) === 1 && rd(w0, STE.CONFIG) !== STE_CONFIG.ABORT;
    };
    if (fmt === 1 && this.features.stLevel2 && split > 0 && split < log2) {
      const l1Count = 2 ** (log2 - split);
      for (let i = 0; i < l1Count && out.length < MAX_SCANNED_STES; i++) {
        const d = this.read64(base + i * 8);
        if (d === null) break;
        const w = new Uint32Array([Number(d & 0xffff_ffffn), Number(d >> 32n)]);
        const span = rd(w, L1STD.SPAN);
        if (span === 0 || span > 11) continue;
        const l2 = bitsInPlace(w[0]!, w[1]!, 51, 6);
        const n = Math.min(2 ** (span - 1), 2 ** split);
        for (let j = 0; j < n; j++) if (steValid(l2 + j * 64)) out.push(i * 2 ** split + j);
      }
    } else {
      const n = Math.min(2 ** log2, MAX_SCANNED_STES);
      for (let sid = 0; sid < n; sid++) if (steValid(base + sid * 64)) out.push(sid);
    }
    return out;
  }

  stream(sid: number): StreamReport {
    return this.adapter.decodeStream(sid);
  }

  mappings(sid: number, ssid: number | null): MappedRange[] {
    this.requireRam(this.strtabBase(), 8, 'STRTAB_BASE');
    return this.adapter.mappings(sid, ssid);
  }

  translate(q: TranslateQuery): Json {
    const head: Record<string, Json> = { sid: q.sid, ssid: q.ssid, iova: hex(q.iova), access: q.access };
    if (!this.enabled()) {
      // SMMUEN = 0: GBPA decides (abort without an event, or bypass).
      if (rdLoHi(this.reg32('GBPA'), 0, GBPA.ABORT.lsb, 1) === 1) return { ...head, ok: false, event: null, steps: [] };
      return { ...head, ok: true, pa: hex(q.iova), size: 4096, perm: 'rwx', steps: [] };
    }
    this.requireRam(this.strtabBase(), 8, 'STRTAB_BASE');
    const req = makeRequest(q.sid, q.ssid, q.iova, { write: q.access === 'w', instr: q.access === 'x', priv: q.priv });
    const t = this.adapter.trace(req);
    const steps = t.steps.map(stepJson);
    const r = t.result;
    if (r.ok) return { ...head, ok: true, pa: hex(r.pa), size: r.size, perm: permString(q.priv ? r.permsPriv : r.permsUnpriv), steps };
    return { ...head, ok: false, event: eventJson(r.event), steps };
  }

  /** Decoded command-queue and event-queue contents between CONS and PROD (bounded by the queue size). */
  queues(): Json {
    const q = (name: 'CMDQ' | 'EVENTQ', maxLog2: number, entryBytes: number): Json => {
      const baseReg = this.reg(`${name}_BASE` as RegName);
      const baseLo = Number(baseReg & 0xffff_ffffn);
      const log2 = queueLog2(baseLo, maxLog2);
      const base = queueBaseAddr(baseLo, Number(baseReg >> 32n), log2, entryBytes);
      const prodRaw = this.reg32(`${name}_PROD` as RegName);
      const consRaw = this.reg32(`${name}_CONS` as RegName);
      let cons = rdLoHi(consRaw, 0, QUEUE_CONS.RD.lsb, QUEUE_CONS.RD.width);
      const entries: Json[] = [];
      if (this.regs.has(`${name}_BASE` as RegName)) this.requireRam(base, entryBytes, `${name}_BASE`);
      for (let n = 0; n < 2 ** log2 && !queueEmpty(prodRaw, cons, log2); n++) {
        const idx = ptrIndex(cons, log2);
        const addr = base + idx * entryBytes;
        const words: bigint[] = [];
        for (let i = 0; i < entryBytes / 8; i++) words.push(this.read64(addr + 8 * i) ?? 0n);
        if (name === 'CMDQ') {
          const d = decodeCommand(words);
          entries.push({ index: idx, address: hex(addr), words: words.map((w) => hex(w)), command: d.name === null ? `RESERVED_${hex(d.opcode, 2)}` : `CMD_${d.name}`, opcode: d.opcode, fields: fieldsHex({ ...d.fields }) });
        } else {
          const ev = decodeEvent(words);
          entries.push({
            index: idx,
            address: hex(addr),
            record: words.map((w) => hex(w)),
            type: eventName(ev.type),
            code: ev.type,
            sid: ev.sid,
            ssid: ev.ssv ? ev.ssid : null,
            inputAddr: hex(eventInputAddr(ev)),
          });
        }
        cons = ptrInc(cons, log2);
      }
      return {
        base: hex(base),
        log2size: log2,
        prod: hex(prodRaw),
        cons: hex(consRaw),
        ...(name === 'CMDQ' ? { err: rdLoHi(consRaw, 0, QUEUE_CONS.ERR.lsb, QUEUE_CONS.ERR.width) } : { overflow: ((prodRaw ^ consRaw) >>> 31) === 1 }),
        entries,
      };
    };
    return {
      cmdq: q('CMDQ', this.features.cmdqLog2, CMDQ_ENTRY_BYTES),
      eventq: q('EVENTQ', this.features.eventqLog2, EVENTQ_ENTRY_BYTES),
    };
  }
}

function streamJson(r: StreamReport): Json {
  return {
    sid: r.sid,
    config: r.config,
    ste: r.steAddress === null ? null : { address: hex(r.steAddress), words: (r.steWords ?? []).map((w) => hex(w)), fields: fieldsHex(r.steFields) },
    fault: eventJson(r.fault),
    cds: r.cds.map((c) => ({ ssid: c.ssid, address: hex(c.address), words: c.words.map((w) => hex(w)), fields: fieldsHex(c.fields), fault: eventJson(c.fault) })),
  };
}

function rangeJson(m: MappedRange, priv = false): Json {
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

/** Runs the requested reports. Keys appear only for what was requested. */
export function inspect(snap: SmmuSnapshot, req: InspectRequest): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (req.streams) out.streams = snap.validSids().map((sid) => streamJson(snap.stream(sid)));
  if (req.mappings !== undefined) {
    const targets: { sid: number; ssid: number | null }[] = [];
    if (req.mappings === true) {
      for (const sid of snap.validSids()) {
        const s = snap.stream(sid);
        if (s.cds.length === 0) targets.push({ sid, ssid: null });
        for (const cd of s.cds) targets.push({ sid, ssid: s.cds.length > 1 || cd.ssid !== 0 ? cd.ssid : null });
      }
    } else targets.push(req.mappings);
    out.mappings = targets.map((t) => ({ sid: t.sid, ssid: t.ssid, ranges: snap.mappings(t.sid, t.ssid).map((m) => rangeJson(m)) }));
  }
  if (req.queues) out.queues = snap.queues();
  if (req.translate !== undefined && req.translate.length > 0) out.translations = req.translate.map((q) => snap.translate(q));
  return out;
}


