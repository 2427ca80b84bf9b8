// MSI capability model (PCIe Base r5.0 §7.7.1, §6.1.4): enable, multiple message enable, 32/64-bit
// address, 16-bit data, optional per-vector masking with pending bits. A masked vector sets its
// pending bit; clearing the mask while pending sends the message (§6.1.4.3). With fewer vectors
// allocated than requested, the function modifies only the low log2(allocated) data bits, so
// vectors alias (§6.1.4.1).
import {
  CAP_ID,
  MSI_ADDRESS_LO_MASK,
  MSI_CAP,
  MSI_CONTROL,
  MSI_DATA_MASK,
  MSI_MAX_VECTORS,
  msiCapLength,
} from '../spec/pcie/capabilities.js';
import type { ConfigSpace, ConfigWriteObserver } from './config-space.js';
import { fieldMask32, get32, set32 } from '../spec/bits.js';
import type { MsiSender, SignalOutcome } from './types.js';

export interface MsiOptions {
  /** Vectors requested: 1, 2, 4, 8, 16 or 32. */
  readonly vectors: number;
  /** 64-bit address capable (default true). */
  readonly addr64?: boolean;
  /** Per-vector masking capable (default true). */
  readonly perVectorMask?: boolean;
}

export class MsiCapability implements ConfigWriteObserver {
  readonly start: number;
  readonly end: number;
  readonly vectors: number;
  readonly addr64: boolean;
  readonly perVectorMask: boolean;
  private readonly dataOff: number;
  private readonly maskOff: number;
  private readonly pendingOff: number;
  private lastMask = 0;

  constructor(
    private readonly cfg: ConfigSpace,
    opts: MsiOptions,
    private readonly sender: MsiSender,
  ) {
    const v = opts.vectors;
    if (!(Number.isInteger(v) && v >= 1 && v <= MSI_MAX_VECTORS && (v & (v - 1)) === 0)) {
      throw new RangeError(`MSI vector count ${v} is not a power of two in 1..32`);
    }
    this.vectors = v;
    this.addr64 = opts.addr64 ?? true;
    this.perVectorMask = opts.perVectorMask ?? true;
    const len = msiCapLength(this.addr64, this.perVectorMask);
    this.start = cfg.addCapability(CAP_ID.MSI, len);
    this.end = this.start + len;
    const s = this.start;
    let ctl = set32(0, MSI_CONTROL.MULTIPLE_MESSAGE_CAPABLE, Math.log2(v));
    if (this.addr64) ctl = set32(ctl, MSI_CONTROL.ADDR64_CAPABLE, 1);
    if (this.perVectorMask) ctl = set32(ctl, MSI_CONTROL.PER_VECTOR_MASK_CAPABLE, 1);
    cfg.set(s + MSI_CAP.MESSAGE_CONTROL, 2, ctl);
    cfg.setWriteMask(s + MSI_CAP.MESSAGE_CONTROL, 2, fieldMask32(MSI_CONTROL.ENABLE) | fieldMask32(MSI_CONTROL.MULTIPLE_MESSAGE_ENABLE));
    cfg.setWriteMask(s + MSI_CAP.ADDRESS_LO, 4, MSI_ADDRESS_LO_MASK);
    if (this.addr64) cfg.setWriteMask(s + MSI_CAP.ADDRESS_HI, 4, 0xffff_ffff);
    this.dataOff = s + (this.addr64 ? MSI_CAP.DATA_64 : MSI_CAP.DATA_32);
    this.maskOff = s + (this.addr64 ? MSI_CAP.MASK_64 : MSI_CAP.MASK_32);
    this.pendingOff = s + (this.addr64 ? MSI_CAP.PENDING_64 : MSI_CAP.PENDING_32);
    cfg.setWriteMask(this.dataOff, 2, MSI_DATA_MASK);
    // Mask bits exist only for the vectors the function requests; pending bits are read-only.
    if (this.perVectorMask) cfg.setWriteMask(this.maskOff, 4, v === 32 ? 0xffff_ffff : (1 << v) - 1);
    cfg.observe(this);
  }

  private control(): number {
    return this.cfg.get(this.start + MSI_CAP.MESSAGE_CONTROL, 2);
  }

  get enabled(): boolean {
    return get32(this.control(), MSI_CONTROL.ENABLE) !== 0;
  }

  /** Vectors software allocated (2^MME, capped at the requested count). */
  get allocated(): number {
    const c = this.control();
    const mme = Math.min(get32(c, MSI_CONTROL.MULTIPLE_MESSAGE_ENABLE), get32(c, MSI_CONTROL.MULTIPLE_MESSAGE_CAPABLE));
    return 1 << mme;
  }

  get address(): number {
    const lo = this.cfg.get(this.start + MSI_CAP.ADDRESS_LO, 4);
    const hi = this.addr64 ? this.cfg.get(this.start + MSI_CAP.ADDRESS_HI, 4) : 0;
    return hi * 0x1_0000_0000 + lo;
  }

  /** Message data for `vector` after aliasing into the allocated block. */
  dataFor(vector: number): number {
    const n = this.allocated;
    const base = this.cfg.get(this.dataOff, 2);
    return ((base & ~(n - 1)) | (vector & (n - 1))) & MSI_DATA_MASK;
  }

  get maskBits(): number {
    return this.perVectorMask ? this.cfg.get(this.maskOff, 4) : 0;
  }

  get pendingBits(): number {
    return this.perVectorMask ? this.cfg.get(this.pendingOff, 4) : 0;
  }

  /**
   * Signals `vector` (0-based; callers check `enabled` first). Masked: sets the pending bit.
   * Vectors beyond the allocated block alias onto it.
   */
  notify(vector: number): SignalOutcome {
    const v = vector & (this.allocated - 1);
    if (this.perVectorMask && ((this.maskBits >>> v) & 1) !== 0) {
      this.cfg.setBits(this.pendingOff, 4, (1 << v) >>> 0, true);
      return 'pending';
    }
    return this.sender.sendMsi(this.address, this.dataFor(v));
  }

  afterWrite(): void {
    if (!this.perVectorMask) return;
    const mask = this.maskBits;
    const unmasked = this.lastMask & ~mask;
    this.lastMask = mask;
    if (unmasked === 0 || !this.enabled) return;
    const pend = this.pendingBits & unmasked;
    for (let v = 0; v < this.vectors; v++) {
      if (((pend >>> v) & 1) === 0) continue;
      this.cfg.setBits(this.pendingOff, 4, (1 << v) >>> 0, false);
      this.sender.sendMsi(this.address, this.dataFor(v));
    }
  }

  /** Re-reads the mask register into the edge detector (after a reset or a restore). */
  reset(): void {
    this.lastMask = this.maskBits;
  }
}
