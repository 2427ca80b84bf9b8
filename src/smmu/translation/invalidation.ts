// Configuration and TLB invalidation (IHI 0070 §4.3 CFGI_*, §4.4 TLBI_*): the Invalidator the
// command queue drives, implemented directly over the translation engine's configuration cache
// and IOTLB. A new invalidation command touches two files: its decode in
// smmu/device/command-queue.ts and its effect here (the interface below and its implementation).
import type { SmmuFeatures } from '../features.js';
import { WORLD } from './ste-config.js';
import { KIND_S1, KIND_S2, type Iotlb } from './iotlb.js';
import type { ConfigCache } from './config-cache.js';
import type { TlbiOperand } from './types.js';

const P2: number[] = [];
for (let i = 0; i <= 64; i++) P2.push(2 ** i);
const TWO32 = 0x1_0000_0000;

/** The invalidation commands as the command queue issues them, after decoding and checking. */
export interface Invalidator {
  cfgiSte(sid: number, leaf: boolean): void;
  cfgiSteRange(sid: number, range: number): void;
  cfgiCd(sid: number, ssid: number, leaf: boolean): void;
  cfgiCdAll(sid: number): void;
  cfgiAll(): void;
  tlbiNhAll(vmid: number): void;
  tlbiNhAsid(vmid: number, asid: number): void;
  tlbiNhVa(op: TlbiOperand): void;
  tlbiNhVaa(op: TlbiOperand): void;
  tlbiEl2All(): void;
  tlbiEl2Asid(asid: number): void;
  tlbiEl2Va(op: TlbiOperand): void;
  tlbiEl2Vaa(op: TlbiOperand): void;
  tlbiS12Vmall(vmid: number): void;
  tlbiS2Ipa(op: TlbiOperand): void;
  tlbiNsnhAll(): void;
}

export class Invalidation implements Invalidator {
  constructor(
    private readonly cfgCache: ConfigCache,
    private readonly tlb: Iotlb,
    private readonly features: SmmuFeatures,
  ) {}

  /** CMD_CFGI_STE: the STE and all CDs cached through it. L1STDs are never cached, so `leaf` changes nothing. */
  cfgiSte(sid: number, leaf: boolean): void {
    void leaf;
    this.cfgCache.invalidateSte(sid >>> 0);
  }

  /** CMD_CFGI_STE_RANGE: 2^(range+1) StreamIDs aligned to that size (range 31 = all). */
  cfgiSteRange(sid: number, range: number): void {
    if (range >= 31) this.cfgCache.invalidateAll();
    else this.cfgCache.invalidateSteRange(sid >>> 0, range & 31);
  }

  /** CMD_CFGI_CD: the CD cached from index `ssid` of `sid`'s CD table (index 0 for a single CD). */
  cfgiCd(sid: number, ssid: number, leaf: boolean): void {
    void leaf;
    this.cfgCache.invalidateCd(sid >>> 0, ssid >>> 0);
  }

  cfgiCdAll(sid: number): void {
    this.cfgCache.invalidateCdAll(sid >>> 0);
  }

  cfgiAll(): void {
    this.cfgCache.invalidateAll();
  }

  /** Command VMID as the TLB tags it: ignored (0) without stage 2, 8 bits without IDR0.VMID16. */
  private vm(vmid: number): number {
    return this.features.s2p ? vmid & (this.features.vmid16 ? 0xffff : 0xff) : 0;
  }

  /** Command ASID as the TLB tags it: 8 bits without IDR0.ASID16. */
  private as(asid: number): number {
    return asid & (this.features.asid16 ? 0xffff : 0xff);
  }

  /** CMD_TLBI_NH_ALL: all stage-1 (and nested) entries of the VMID at EL1. */
  tlbiNhAll(vmid: number): void {
    this.tlb.invalidateVm(KIND_S1, WORLD.EL1, this.vm(vmid));
  }

  /** CMD_TLBI_NH_ASID: non-global stage-1 entries of (VMID, ASID). */
  tlbiNhAsid(vmid: number, asid: number): void {
    this.tlb.invalidateAsid(KIND_S1, WORLD.EL1, this.vm(vmid), this.as(asid));
  }

  /** CMD_TLBI_NH_VA: entries of (VMID, ASID) and global entries of the VMID covering the address/range. */
  tlbiNhVa(op: TlbiOperand): void {
    this.byAddress(KIND_S1, WORLD.EL1, this.vm(op.vmid), this.as(op.asid), op);
  }

  /** CMD_TLBI_NH_VAA: like NH_VA for every ASID of the VMID. */
  tlbiNhVaa(op: TlbiOperand): void {
    this.byAddress(KIND_S1, WORLD.EL1, this.vm(op.vmid), -1, op);
  }

  /** CMD_TLBI_EL2_ALL: every EL2 and EL2-E2H entry. */
  tlbiEl2All(): void {
    this.tlb.invalidateWorld([WORLD.EL2, WORLD.EL2_E2H]);
  }

  /** CMD_TLBI_EL2_ASID: non-global EL2-E2H entries of the ASID. */
  tlbiEl2Asid(asid: number): void {
    this.tlb.invalidateAsid(KIND_S1, WORLD.EL2_E2H, 0, this.as(asid));
  }

  /** CMD_TLBI_EL2_VA: EL2 entries (ASID-less) and EL2-E2H entries of the ASID or global. */
  tlbiEl2Va(op: TlbiOperand): void {
    this.byAddress(KIND_S1, WORLD.EL2, 0, -1, op);
    this.byAddress(KIND_S1, WORLD.EL2_E2H, 0, this.as(op.asid), op);
  }

  /** CMD_TLBI_EL2_VAA: EL2 and EL2-E2H entries of every ASID. */
  tlbiEl2Vaa(op: TlbiOperand): void {
    this.byAddress(KIND_S1, WORLD.EL2, 0, -1, op);
    this.byAddress(KIND_S1, WORLD.EL2_E2H, 0, -1, op);
  }

  /** CMD_TLBI_S12_VMALL: every entry (stage 1, nested and stage 2) of the VMID. */
  tlbiS12Vmall(vmid: number): void {
    this.tlb.invalidateVm(KIND_S1, WORLD.EL1, this.vm(vmid));
    this.tlb.invalidateVm(KIND_S2, WORLD.EL1, this.vm(vmid));
  }

  /**
   * CMD_TLBI_S2_IPA: stage-2-only entries of the VMID covering the IPA/range. Combined stage 1+2
   * entries are not required to be affected (§4.4.3.1); software follows with TLBI_S12_VMALL or
   * TLBI_NH_*, so they stay until then.
   */
  tlbiS2Ipa(op: TlbiOperand): void {
    this.byAddress(KIND_S2, WORLD.EL1, this.vm(op.vmid), -1, op);
  }

  /** CMD_TLBI_NSNH_ALL: every Non-secure non-hypervisor entry (all VMIDs, both kinds). */
  tlbiNsnhAll(): void {
    this.tlb.invalidateWorld([WORLD.EL1]);
  }

  /**
   * Address-based invalidation. The address is VA/IPA[63:12] (bits [11:0] zero). TG = 0: every
   * entry containing the address. TG != 0: the range [addr, addr + (NUM+1) * 2^SCALE * granule)
   * (§4.4.1.1). TTL and Leaf only narrow what software needs; over-invalidation is always
   * permitted, so they never make an entry survive here.
   */
  private byAddress(kind: number, world: number, vmid: number, asid: number, op: TlbiOperand): void {
    const hi = op.addrHi >>> 0;
    const lo = op.addrLo >>> 0;
    const region = kind === KIND_S2 ? 0 : (hi >>> 23) & 1;
    const key = (hi & 0xfffff) * TWO32 + (lo - (lo % 4096));
    let len = 1;
    if (op.tg !== 0) {
      const g = op.tg === 1 ? 12 : op.tg === 2 ? 14 : 16;
      const start = key - (key % P2[g]!);
      len = ((op.num & 31) + 1) * P2[(op.scale & 31) + g]!;
      this.tlb.invalidateVa(kind, world, vmid, asid, region, start, start + len);
      return;
    }
    this.tlb.invalidateVa(kind, world, vmid, asid, region, key, key + len);
  }
}
