// SMMUv3 event records: event numbers, field layout and bit-exact 32-byte encode/decode.
// IHI 0070 chapter 7.3 (Event records). Layout only; which event a walk produces lives in
// src/smmu/translation/.
//
// Every record: qw0 EventID[7:0], SSV[11], SubstreamID[31:12], StreamID[63:32].
// Transaction faults (F_UUT, F_TRANSL_FORBIDDEN, F_BAD_ATS_TREQ, F_WALK_EABT, F_TRANSLATION,
// F_ADDR_SIZE, F_ACCESS, F_PERMISSION): qw1 STAG[15:0], STALL[31], PnU[33], InD[34], RnW[35],
// NSIPA[38], S2[39], CLASS[41:40], TTRnW[44]; qw2 InputAddr[63:0]; qw3 IPA[55:12] (translation
// faults) or FetchAddr[55:3] (F_WALK_EABT). Fetch faults (F_STE_FETCH, F_CD_FETCH, F_VMS_FETCH):
// qw3 FetchAddr[55:3]. F_STREAM_DISABLED carries the StreamID only (§7.3.7). Fields not defined
// for an event type are RES0 and encode as 0.
import { field, bit, type Field, rd, wr, bitsInPlace } from '../bits.js';

export const EVT = Object.freeze({
  F_UUT: 0x01,
  C_BAD_STREAMID: 0x02,
  F_STE_FETCH: 0x03,
  C_BAD_STE: 0x04,
  F_BAD_ATS_TREQ: 0x05,
  F_STREAM_DISABLED: 0x06,
  F_TRANSL_FORBIDDEN: 0x07,
  C_BAD_SUBSTREAMID: 0x08,
  F_CD_FETCH: 0x09,
  C_BAD_CD: 0x0a,
  F_WALK_EABT: 0x0b,
  F_TRANSLATION: 0x10,
  F_ADDR_SIZE: 0x11,
  F_ACCESS: 0x12,
  F_PERMISSION: 0x13,
  F_TLB_CONFLICT: 0x20,
  F_CFG_CONFLICT: 0x21,
  E_PAGE_REQUEST: 0x24,
  F_VMS_FETCH: 0x25,
});

export type EventName = keyof typeof EVT;

const NAMES: ReadonlyMap<number, EventName> = new Map(
  (Object.entries(EVT) as [EventName, number][]).map(([k, v]) => [v, k]),
);

/** Name of an event number, or `EVT_0x..` for unarchitected/IMPDEF numbers. */
export function eventName(type: number): string {
  return NAMES.get(type) ?? `EVT_0x${(type & 0xff).toString(16).padStart(2, '0')}`;
}

/** CLASS field values (§7.3): which operation caused a fault. */
export const EVT_CLASS = Object.freeze({ CD: 0, TT: 1, IN: 2 });

/** Field descriptors of the event record (4 doublewords). */
export const EVENT_FIELDS = Object.freeze({
  EVENT_ID: field('EVENT_ID', 0, 7, 0),
  SSV: bit('SSV', 0, 11),
  SUBSTREAMID: field('SUBSTREAMID', 0, 31, 12),
  STREAMID: field('STREAMID', 0, 63, 32),
  STAG: field('STAG', 1, 15, 0),
  STALL: bit('STALL', 1, 31),
  PNU: bit('PnU', 1, 33),
  IND: bit('InD', 1, 34),
  RNW: bit('RnW', 1, 35),
  NSIPA: bit('NSIPA', 1, 38),
  S2: bit('S2', 1, 39),
  CLASS: field('CLASS', 1, 41, 40),
  TTRNW: bit('TTRnW', 1, 44),
  INPUT_ADDR: field('InputAddr', 2, 63, 0),
  /** IPA = address bits [55:12] (field value = IPA >> 12). */
  IPA: field('IPA', 3, 55, 12),
  /** FetchAddr = address bits [55:3] (field value = address >> 3). */
  FETCH_ADDR: field('FetchAddr', 3, 55, 3),
} satisfies Record<string, Field>);

/** Which optional parts an event type carries (everything else is RES0). */
export interface EventShape {
  readonly ssv: boolean; // SSV + SubstreamID (C_BAD_SUBSTREAMID: SubstreamID without SSV)
  readonly access: boolean; // STAG/STALL/PnU/InD/RnW/S2/CLASS/NSIPA/TTRnW + InputAddr
  readonly ipa: boolean; // qw3 IPA
  readonly fetch: boolean; // qw3 FetchAddr
}

const SHAPE_NONE: EventShape = { ssv: true, access: false, ipa: false, fetch: false };
/** F_STREAM_DISABLED (§7.3.7): StreamID only; SSV and SubstreamID are RES0. */
const SHAPE_SID_ONLY: EventShape = { ssv: false, access: false, ipa: false, fetch: false };
const SHAPE_FETCH: EventShape = { ssv: true, access: false, ipa: false, fetch: true };
const SHAPE_TRANS: EventShape = { ssv: true, access: true, ipa: true, fetch: false };
const SHAPE_ACCESS: EventShape = { ssv: true, access: true, ipa: false, fetch: false };
const SHAPE_WALK: EventShape = { ssv: true, access: true, ipa: false, fetch: true };

export function eventShape(type: number): EventShape {
  switch (type) {
    case EVT.F_STE_FETCH:
    case EVT.F_CD_FETCH:
    case EVT.F_VMS_FETCH:
      return SHAPE_FETCH;
    case EVT.F_TRANSLATION:
    case EVT.F_ADDR_SIZE:
    case EVT.F_ACCESS:
    case EVT.F_PERMISSION:
      return SHAPE_TRANS;
    case EVT.F_WALK_EABT:
      return SHAPE_WALK;
    case EVT.F_STREAM_DISABLED:
      return SHAPE_SID_ONLY;
    case EVT.F_UUT:
    case EVT.F_TRANSL_FORBIDDEN:
    case EVT.F_BAD_ATS_TREQ:
      return SHAPE_ACCESS;
    default:
      return SHAPE_NONE;
  }
}

/**
 * A decoded event record. A mutable plain object so that the translation engine can keep one per
 * result and fill it without allocating. 64-bit InputAddr is carried as lo/hi halves; IPA and
 * FetchAddr are physical/intermediate addresses (< 2^56, exact as numbers up to 2^53).
 */
export interface SmmuEvent {
  type: number;
  sid: number;
  ssv: boolean;
  ssid: number;
  stag: number;
  stall: boolean;
  /** PnU: 1 = privileged. */
  pnu: boolean;
  /** InD: 1 = instruction. */
  ind: boolean;
  /** RnW: 1 = read. */
  rnw: boolean;
  nsipa: boolean;
  s2: boolean;
  /** CLASS: 0 CD, 1 TT, 2 IN. */
  cls: number;
  /** TTRnW: 1 = a translation-table read caused the fault (valid when CLASS == TT). */
  ttrnw: boolean;
  inputLo: number;
  inputHi: number;
  /** IPA (multiple of 4 KiB) for translation faults. */
  ipa: number;
  /** FetchAddr (multiple of 8) for fetch faults and F_WALK_EABT. */
  fetchAddr: number;
}

export function emptyEvent(): SmmuEvent {
  return {
    type: 0, sid: 0, ssv: false, ssid: 0, stag: 0, stall: false, pnu: false, ind: false, rnw: false,
    nsipa: false, s2: false, cls: 0, ttrnw: false, inputLo: 0, inputHi: 0, ipa: 0, fetchAddr: 0,
  };
}

export function copyEvent(dst: SmmuEvent, src: SmmuEvent): SmmuEvent {
  Object.assign(dst, src);
  return dst;
}

/**
 * Encodes an event into 8 little-endian 32-bit words (the 32-byte record) without allocating.
 * Fields that the event type does not define are written as 0 (RES0).
 */
export function encodeEventWords(ev: SmmuEvent, w: Uint32Array): Uint32Array {
  w.fill(0, 0, 8);
  const F = EVENT_FIELDS;
  const shape = eventShape(ev.type);
  wr(w, F.EVENT_ID, ev.type & 0xff);
  wr(w, F.STREAMID, ev.sid >>> 0);
  if (ev.type === EVT.C_BAD_SUBSTREAMID) {
    wr(w, F.SUBSTREAMID, ev.ssid & 0xfffff);
  } else if (shape.ssv && ev.ssv) {
    wr(w, F.SSV, 1);
    wr(w, F.SUBSTREAMID, ev.ssid & 0xfffff);
  }
  if (shape.access) {
    wr(w, F.STAG, ev.stag & 0xffff);
    wr(w, F.STALL, ev.stall ? 1 : 0);
    wr(w, F.PNU, ev.pnu ? 1 : 0);
    wr(w, F.IND, ev.ind ? 1 : 0);
    wr(w, F.RNW, ev.rnw ? 1 : 0);
    wr(w, F.NSIPA, ev.nsipa ? 1 : 0);
    wr(w, F.S2, ev.s2 ? 1 : 0);
    wr(w, F.CLASS, ev.cls & 3);
    wr(w, F.TTRNW, ev.ttrnw ? 1 : 0);
    w[4] = ev.inputLo >>> 0;
    w[5] = ev.inputHi >>> 0;
  }
  if (shape.ipa || shape.fetch) {
    const a = shape.ipa ? ev.ipa : ev.fetchAddr;
    const lsb = shape.ipa ? 12 : 3;
    const lo = a % 0x1_0000_0000;
    const hi = Math.floor(a / 0x1_0000_0000);
    w[6] = (lo - (lo % 2 ** lsb)) >>> 0;
    w[7] = hi & 0x00ff_ffff;
  }
  return w;
}

/** Encodes an event as 4 bigint doublewords (codec/test side). */
export function encodeEvent(ev: SmmuEvent): bigint[] {
  const w = encodeEventWords(ev, new Uint32Array(8));
  const out: bigint[] = [];
  for (let i = 0; i < 8; i += 2) out.push((BigInt(w[i + 1]!) << 32n) | BigInt(w[i]!));
  return out;
}

/** Decodes 8 little-endian 32-bit words into an event. Unknown event numbers decode as raw fields. */
export function decodeEventWords(w: Uint32Array, into: SmmuEvent = emptyEvent()): SmmuEvent {
  const F = EVENT_FIELDS;
  const type = rd(w, F.EVENT_ID);
  const shape = eventShape(type);
  into.type = type;
  into.sid = rd(w, F.STREAMID);
  into.ssv = type === EVT.C_BAD_SUBSTREAMID ? true : shape.ssv && rd(w, F.SSV) === 1;
  into.ssid = shape.ssv ? rd(w, F.SUBSTREAMID) : 0;
  into.stag = rd(w, F.STAG);
  into.stall = rd(w, F.STALL) === 1;
  into.pnu = rd(w, F.PNU) === 1;
  into.ind = rd(w, F.IND) === 1;
  into.rnw = rd(w, F.RNW) === 1;
  into.nsipa = rd(w, F.NSIPA) === 1;
  into.s2 = rd(w, F.S2) === 1;
  into.cls = rd(w, F.CLASS);
  into.ttrnw = rd(w, F.TTRNW) === 1;
  into.inputLo = w[4]! >>> 0;
  into.inputHi = w[5]! >>> 0;
  into.ipa = shape.ipa ? bitsInPlace(w[6]!, w[7]!, 52, 12) : 0; // OAS <= 52: bits [55:53] are RES0
  into.fetchAddr = shape.fetch ? bitsInPlace(w[6]!, w[7]!, 52, 3) : 0;
  return into;
}

/** Decodes 4 bigint doublewords into an event. */
export function decodeEvent(words: readonly bigint[]): SmmuEvent {
  const w = new Uint32Array(8);
  for (let i = 0; i < 4; i++) {
    const v = BigInt.asUintN(64, words[i] ?? 0n);
    w[2 * i] = Number(v & 0xffff_ffffn);
    w[2 * i + 1] = Number(v >> 32n);
  }
  return decodeEventWords(w);
}

/** Input address of an event as a bigint (tools). */
export function eventInputAddr(ev: SmmuEvent): bigint {
  return (BigInt(ev.inputHi >>> 0) << 32n) | BigInt(ev.inputLo >>> 0);
}
