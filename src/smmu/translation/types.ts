// Public types of the SMMUv3 translation engine: requests, results, options, inspector reports.
// IHI 0070 chapter 3 (operation), §13.7 (PCIe attributes). See docs/translation.md.
import { emptyEvent, type SmmuEvent } from '../../spec/smmuv3/events.js';

/**
 * One transaction presented to the SMMU. Reusable: the device keeps one per port and overwrites
 * it per access. `ssid` is -1 for untagged traffic (no SubstreamID). The input address is a
 * 64-bit value carried as unsigned lo/hi 32-bit halves so that TTB1 (sign-extended) and TBI
 * addresses are representable; `setAddress` fills them from a number.
 */
export interface TranslationRequest {
  sid: number;
  ssid: number;
  addrLo: number;
  addrHi: number;
  /** true = write (RnW = 0). */
  write: boolean;
  /** true = instruction fetch (InD = 1); writes are always data. */
  instr: boolean;
  /** true = privileged (PnU = 1). Untagged PCIe traffic is unprivileged data (§13.7). */
  priv: boolean;
}

export function newRequest(): TranslationRequest {
  return { sid: 0, ssid: -1, addrLo: 0, addrHi: 0, write: false, instr: false, priv: false };
}

/** Sets a request's address from a number (0 <= addr < 2^53) without allocating. */
export function setAddress(req: TranslationRequest, addr: number): TranslationRequest {
  req.addrLo = addr >>> 0;
  req.addrHi = Math.floor(addr / 0x1_0000_0000) >>> 0;
  return req;
}

/** Convenience constructor (allocates; for tools, tests and slow paths). */
export function makeRequest(
  sid: number,
  ssid: number | null,
  addr: number | bigint,
  access: { write?: boolean; instr?: boolean; priv?: boolean } = {},
): TranslationRequest {
  const r = newRequest();
  r.sid = sid;
  r.ssid = ssid === null ? -1 : ssid;
  if (typeof addr === 'bigint') {
    const a = BigInt.asUintN(64, addr);
    r.addrLo = Number(a & 0xffff_ffffn);
    r.addrHi = Number(a >> 32n);
  } else setAddress(r, addr);
  r.write = access.write ?? false;
  r.instr = access.instr ?? false;
  r.priv = access.priv ?? false;
  return r;
}

/** Permission bits in results: read, write, execute. */
export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_X = 4;

/** What the STE selected for this stream (after S1DSS). */
export const XLATE_KIND = Object.freeze({ NONE: 0, BYPASS: 1, S1: 2, S2: 3, NESTED: 4 });

/**
 * Result of a translation, written into a caller-owned object (allocate once with
 * {@link newResult}). On success `ok` is true and the PA/size/permission/attribute fields are
 * valid. On failure `ok` is false and:
 * - `event` holds the event record a real SMMU would write (`event.type === 0` when there is
 *   none: STE.Config abort terminates silently);
 * - `record`: whether the event goes to the event queue (CD.R / STE.S2R for the four
 *   translation-related faults, always for C_* and fetch faults, CR2.RECINVSID for C_BAD_STREAMID);
 * - `stall`: the transaction stalls (CD.S / STE.S2S under STALL_MODEL 0b00/0b10); the event is then
 *   always recorded and `event.stall` is set — the device assigns `event.stag`;
 * - `razWi`: terminated with RAZ/WI (CD.A == 0, only without TERM_MODEL) instead of an abort.
 */
export interface TranslationResult {
  ok: boolean;
  /** Physical address of the input address. */
  pa: number;
  /** Size in bytes of the translation (page or block; the smaller one of both stages). */
  size: number;
  /** PERM_* permitted for the request's (post-override) privilege and for each privilege. */
  perms: number;
  permsPriv: number;
  permsUnpriv: number;
  /** Stage-1 MAIR attribute byte; -1 when stage 1 did not translate (incoming attributes). */
  mairAttr: number;
  /** Stage-2 MemAttr[3:0]; -1 when stage 2 did not translate. */
  s2MemAttr: number;
  sh: number;
  /** TLB tags of the translation (-1 when not applicable). */
  asid: number;
  vmid: number;
  /** True when the stage-1 leaf had nG == 0 (or stage 1 did not translate). */
  global: boolean;
  /** XLATE_KIND of what translated the access (S1DSS bypass reports BYPASS or S2). */
  kind: number;
  /** True when the result came from the IOTLB. */
  tlbHit: boolean;
  // ---- failure
  event: SmmuEvent;
  record: boolean;
  stall: boolean;
  razWi: boolean;
}

export function newResult(): TranslationResult {
  return {
    ok: false, pa: 0, size: 0, perms: 0, permsPriv: 0, permsUnpriv: 0, mairAttr: 0, s2MemAttr: 0, sh: 0,
    asid: -1, vmid: -1, global: true, kind: 0, tlbHit: false,
    event: emptyEvent(), record: false, stall: false, razWi: false,
  };
}

/** Stream table configuration pushed by the device from SMMU_STRTAB_BASE / _BASE_CFG. */
export interface StreamTableConfig {
  /** STRTAB_BASE.ADDR (bits [51:6] in place). */
  readonly base: number;
  /** STRTAB_BASE_CFG.LOG2SIZE. */
  readonly log2Size: number;
  /** STRTAB_BASE_CFG.FMT: 0 linear, 1 two-level. */
  readonly fmt: number;
  /** STRTAB_BASE_CFG.SPLIT (6, 8 or 10 architecturally; other values behave as per §6.3.24). */
  readonly split: number;
}

export interface TranslatorOptions {
  /** Config cache capacity in entries (STEs + CDs). Default 4096. Its storage is allocated up front: about 80 bytes an entry. */
  readonly configCacheSize?: number;
  /** IOTLB capacity in entries. Default 16384. */
  readonly tlbSize?: number;
  /** false: every access walks (no config cache, no IOTLB). Default true. */
  readonly cachesEnabled?: boolean;
}

/** Operand of an address-based TLBI (IHI 0070 §4.4); the command queue reuses one, never allocating per command. */
export interface TlbiOperand {
  /** VMID (0 when stage 2 is not implemented). */
  vmid: number;
  /** ASID, or -1 for the "all ASIDs" (VAA / IPA) forms. */
  asid: number;
  /** Address bits [63:12] in place, as lo/hi halves (bits [11:0] zero). */
  addrLo: number;
  addrHi: number;
  leaf: boolean;
  /** Range fields when IDR3.RIL (§4.4.1.1). TG: 0 single address, 1 4 KiB, 2 16 KiB, 3 64 KiB. */
  tg: number;
  /** NUM[4:0]: the range is (NUM + 1) * 2^SCALE granules. */
  num: number;
  scale: number;
  /** TTL level hint (never narrows what is invalidated here). */
  ttl: number;
}

export interface TranslatorStats {
  configHits: number;
  configMisses: number;
  tlbHits: number;
  tlbMisses: number;
  /** Table walks performed (one per TLB miss that reached a walk). */
  walks: number;
  /** Descriptor/structure reads from memory. */
  memReads: number;
  configEvictions: number;
  tlbEvictions: number;
  /** Entries removed by invalidation commands. */
  configInvalidations: number;
  tlbInvalidations: number;
  configEntries: number;
  tlbEntries: number;
}

/** One memory access of a verbose walk (inspector). */
export interface WalkStep {
  /** 'l1std' | 'ste' | 'l1cd' | 'cd' | 's1' | 's2' | 'httu' */
  readonly kind: string;
  /** Translation stage of the access: 0 configuration fetch, 1, 2. */
  readonly stage: number;
  /** Table level for s1/s2 steps (-1 otherwise). */
  readonly level: number;
  readonly tableBase: number;
  readonly index: number;
  /** Physical address read (or written for 'httu'). */
  readonly address: number;
  /** Descriptor/first doubleword value; null when the read aborted. */
  readonly value: bigint | null;
  readonly valueHex: string | null;
}

export interface WalkTrace {
  readonly steps: WalkStep[];
  /** Snapshot of the result (event copied). */
  readonly result: TranslationResult;
}

/** A decoded context descriptor (inspector). */
export interface CdReport {
  readonly ssid: number;
  readonly address: number;
  readonly words: bigint[];
  readonly fields: Record<string, bigint>;
  /** Configuration fault (C_BAD_CD, F_CD_FETCH, C_BAD_SUBSTREAMID...) or null when valid. */
  readonly fault: SmmuEvent | null;
}

/** Uncached decode of a stream's configuration (inspector). */
export interface StreamReport {
  readonly sid: number;
  readonly steAddress: number | null;
  readonly steWords: bigint[] | null;
  readonly steFields: Record<string, bigint> | null;
  /** 'abort' | 'bypass' | 's1' | 's2' | 'nested' | 'invalid' */
  readonly config: string;
  /** Configuration fault of the STE (C_BAD_STREAMID, F_STE_FETCH, C_BAD_STE) or null. */
  readonly fault: SmmuEvent | null;
  readonly cds: CdReport[];
}

/** One coalesced mapped range of a stream's address space (inspector). */
export interface MappedRange {
  /** Input address (VA or IPA), 64-bit. */
  readonly iova: bigint;
  readonly size: number;
  readonly pa: number;
  /** PERM_* for privileged and unprivileged accesses. */
  readonly permsPriv: number;
  readonly permsUnpriv: number;
  readonly mairAttr: number;
  readonly s2MemAttr: number;
  readonly global: boolean;
}
