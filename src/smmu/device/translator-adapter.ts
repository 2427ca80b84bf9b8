// Adapter between the device model and the translation engine (src/smmu/translation/): the one
// place that names the engine's configuration, invalidation and inspector methods. The command
// queue drives the Invalidator interface (IHI 0070 §4.3, §4.4); the register file pushes the
// stream-table configuration (§6.3.24-6.3.25) and CR2 (§6.3.12).
import type { Translator } from '../translation/index.js';
import type { MappedRange, StreamReport, TlbiRange, TranslationRequest, WalkTrace } from '../translation/types.js';
import type { Invalidator, TlbiOperand } from './invalidator.js';

export class TranslatorAdapter implements Invalidator {
  private readonly range: { tg: number; num: number; scale: number; ttl: number } = { tg: 0, num: 0, scale: 0, ttl: 0 };

  constructor(readonly t: Translator) {}

  setStreamTable(base: number, log2Size: number, fmt: number, split: number): void {
    this.t.setStreamTable({ base, log2Size, fmt, split });
  }

  setRecordInvalidSid(on: boolean): void {
    this.t.setRecordInvalidSid(on);
  }

  setE2H(on: boolean): void {
    this.t.setE2H(on);
  }

  private r(op: TlbiOperand): TlbiRange {
    const r = this.range;
    r.tg = op.tg;
    r.num = op.num;
    r.scale = op.scale;
    r.ttl = op.ttl;
    return r;
  }

  /** Exact as a number even for 64-bit addresses: bits [11:0] are zero (spacing of doubles <= 2^11). */
  private addr(op: TlbiOperand): number {
    return op.addrHi * 0x1_0000_0000 + op.addrLo;
  }

  cfgiSte(sid: number, leaf: boolean): void {
    this.t.cfgiSte(sid, leaf);
  }
  cfgiSteRange(sid: number, range: number): void {
    this.t.cfgiSteRange(sid, range);
  }
  cfgiCd(sid: number, ssid: number, leaf: boolean): void {
    this.t.cfgiCd(sid, ssid, leaf);
  }
  cfgiCdAll(sid: number): void {
    this.t.cfgiCdAll(sid);
  }
  cfgiAll(): void {
    this.t.cfgiAll();
  }
  tlbiNhAll(vmid: number): void {
    this.t.tlbiNhAll(vmid);
  }
  tlbiNhAsid(vmid: number, asid: number): void {
    this.t.tlbiNhAsid(vmid, asid);
  }
  tlbiNhVa(op: TlbiOperand): void {
    this.t.tlbiNhVa(op.vmid, op.asid, this.addr(op), op.leaf, this.r(op));
  }
  tlbiNhVaa(op: TlbiOperand): void {
    this.t.tlbiNhVaa(op.vmid, this.addr(op), op.leaf, this.r(op));
  }
  tlbiEl2All(): void {
    this.t.tlbiEl2All();
  }
  tlbiEl2Asid(asid: number): void {
    this.t.tlbiEl2Asid(asid);
  }
  tlbiEl2Va(op: TlbiOperand): void {
    this.t.tlbiEl2Va(op.asid, this.addr(op), op.leaf, this.r(op));
  }
  tlbiEl2Vaa(op: TlbiOperand): void {
    this.t.tlbiEl2Vaa(this.addr(op), op.leaf, this.r(op));
  }
  tlbiS12Vmall(vmid: number): void {
    this.t.tlbiS12Vmall(vmid);
  }
  tlbiS2Ipa(op: TlbiOperand): void {
    this.t.tlbiS2Ipa(op.vmid, this.addr(op), op.leaf, this.r(op));
  }
  tlbiNsnhAll(): void {
    this.t.tlbiNsnhAll();
  }

  // ---- inspector
  decodeStream(sid: number): StreamReport {
    return this.t.decodeStream(sid);
  }
  trace(req: TranslationRequest): WalkTrace {
    return this.t.translateVerbose(req);
  }
  mappings(sid: number, ssid: number | null): MappedRange[] {
    return this.t.mappings(sid, ssid);
  }
}
